"""Tool-call rewards: an exact ToolRL-compatible mode and a schema-aware mode.

Reference: Cheng Qian, Emre Can Acikgoz, Qi He, Hongru Wang, Xiusi Chen, Dilek Hakkani-Tür,
Gokhan Tur, Heng Ji (2025), *ToolRL: Reward is All Tool Learning Needs* (arXiv:2504.13958).

**ToolRL mode** (:class:`ToolRLVerifier`) reproduces the paper's released reward
(``R_final = R_format + R_correct`` in [-3, 4]):

* :math:`R_{format} \\in \\{0, 1\\}`: ``^<think>.*?</think>\\n<tool_call>\\n.*?\\n</tool_call>$`` (or with a
  ``<response>`` block, depending on what the gold answer contains), exactly one of each tag;
* with one JSON object ``{"name": …, "parameters": {…}}`` per line inside ``<tool_call>``,
  :math:`M(A,B) = \\sum_k \\min(c_A(k), c_B(k)) / (|A|+|B|-\\sum_k \\min(c_A(k), c_B(k)))`
  (multiset Jaccard; 1 if ``A == B``; 0 if either is empty) and

  .. math::

      S = M(\\text{names}_{gt}, \\text{names}_{pd}) + \\sum_{g \\in gt} \\max_{p\\ \\text{unused},\\ p.name = g.name}
          \\big[M(\\text{keys}_g, \\text{keys}_p) + \\#\\{k: p[k] == g[k]\\}\\big]

      S_{max} = 1 + \\sum_{g}(1 + |\\text{params}_g|),\\qquad
      R_{correct} = (R_{max}-R_{min})\\,S/S_{max} + R_{min} = 6S/S_{max} - 3

  with the greedy best match per gold call (first strictly best, ties keep the earlier),
  :math:`+3` on exact list equality, :math:`-3` when the prediction has no ``<tool_call>`` block or
  any line fails to parse / lacks ``name`` / ``parameters``, and :math:`R_{correct}=0` when the gold
  has no tool call.  Values are compared with Python ``==`` (``"1" != 1``; ``1 == 1.0 == True``).

**Schema-aware mode** (:class:`ToolCallVerifier`) is rewardkit's own: predicted calls (ToolRL
lines, OpenAI ``{"name", "arguments"}`` with JSON-string arguments, or a list) are matched to
the gold calls by an optimal assignment (Hungarian), each pair scores

.. math:: s(p, g) = \\mathbb{1}[p.name = g.name]\\cdot\\tfrac13\\big(v_{schema}(p) + J(\\text{keys}_p, \\text{keys}_g)
          + \\tfrac{1}{|g|}\\textstyle\\sum_{k \\in g} \\mathrm{match}(p_k, g_k)\\big)

where :math:`v_{schema}` is 1 if the arguments validate against the tool's JSON Schema and
``match`` is type-aware (numbers by numeric equality, numeric strings accepted for numeric
parameters, strings compared after Unicode/case/whitespace normalisation, booleans only with
booleans, lists element-wise, objects key-wise), and
:math:`R = \\sum_{matched} s / \\max(|P|, |G|) \\in [0, 1]`.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from rewardkit.core import ConfigError, register_term
from rewardkit.core.cache import LRUCache
from rewardkit.core.extras import require

from .budget import DEFAULT_BUDGETS, TIMEOUT, Budget, load_output
from .patterns import PatternTimeout, bounded_validator, pattern_budget
from .result import Verifier, VerifierTerm, VerifyResult
from .tags import find_fences, find_tag_blocks

__all__ = [
    "ToolCallVerifier",
    "ToolRLVerifier",
    "calls_to_toolrl_answer",
    "parse_tool_calls",
    "toolrl_correctness_reward",
    "toolrl_format_reward",
    "toolrl_match_score",
    "toolrl_tool_call_score",
    "values_match",
]


# ====================================================================================== ToolRL mode
def toolrl_match_score(a: Sequence[Any], b: Sequence[Any]) -> float:
    """ToolRL's multiset Jaccard :math:`M(A, B)` (1 if the lists are equal, 0 if either is empty).

    Raises ``TypeError`` for unhashable items, as the original does (which the caller turns
    into the minimum reward).

    Example:
        >>> toolrl_match_score(["a", "b"], ["b", "a"]), toolrl_match_score(["a", "a"], ["a"]), toolrl_match_score([], ["a"])
        (1.0, 0.5, 0.0)
    """
    if list(a) == list(b):
        return 1.0
    if not a or not b:
        return 0.0
    ca, cb = Counter(a), Counter(b)
    inter = sum(min(ca[k], cb[k]) for k in ca.keys() & cb.keys())
    union = len(a) + len(b) - inter
    return inter / union if union > 0 else 0.0


def _toolrl_pattern(gold_answer: str) -> tuple[str, tuple[str, ...]]:
    has_resp, has_call = "<response>" in gold_answer, "<tool_call>" in gold_answer
    if has_resp and not has_call:
        return r"^<think>.*?</think>\n<response>.*?</response>$", ("<response>", "</response>")
    if has_call and not has_resp:
        return r"^<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>$", ("<tool_call>", "</tool_call>")
    if has_call and has_resp:
        return (r"^<think>.*?</think>\n<tool_call>\n.*?\n</tool_call>\n<response>.*?</response>$",
                ("<tool_call>", "</tool_call>", "<response>", "</response>"))
    return r"^<think>.*?</think>$", ()


def toolrl_format_reward(response: str, gold_answer: str, max_reward: float = 1.0, min_reward: float = 0.0) -> float:
    """ToolRL :math:`R_{format}`: the tag grammar implied by the gold answer, one of each tag.

    Note the pattern is applied with ``re.search`` and ``$`` (which also matches before a final
    newline), exactly as released.

    Example:
        >>> gold = '<tool_call>\\n{"name": "f", "parameters": {}}\\n</tool_call>'
        >>> toolrl_format_reward('<think>x</think>\\n<tool_call>\\n{"name": "f", "parameters": {}}\\n</tool_call>', gold)
        1.0
        >>> toolrl_format_reward('<tool_call>\\n{}\\n</tool_call>', gold)
        0.0
    """
    pattern, once = _toolrl_pattern(gold_answer)
    # counts first: with one of each tag the lazy pattern has a single way to match (linear time)
    if all(response.count(t) == 1 for t in once) and re.search(pattern, response, re.DOTALL):
        return float(max_reward)
    return float(min_reward)


def toolrl_tool_call_score(gt_tools: list[dict], pd_tools: list[Any], max_reward: float = 3.0,
                           min_reward: float = -3.0) -> float:
    """ToolRL :math:`R_{correct}` for parsed call lists (raises on malformed predicted calls, like
    the original; :func:`toolrl_correctness_reward` maps that to ``min_reward``).

    Example:
        >>> gt = [{"name": "f", "parameters": {"x": 1, "y": 2}}]
        >>> toolrl_tool_call_score(gt, [{"name": "f", "parameters": {"x": 1, "y": 3}}])  # S = 1 + 1 + 1, S_max = 4
        1.5
        >>> toolrl_tool_call_score(gt, gt), toolrl_tool_call_score(gt, [{"name": "g", "parameters": {}}])
        (3.0, -3.0)
    """
    if gt_tools == pd_tools:
        return float(max_reward)
    names_gt = [g["name"] for g in gt_tools]
    names_pd = [p["name"] for p in pd_tools]
    score = toolrl_match_score(names_gt, names_pd)
    s_max = 1.0
    used: set[int] = set()
    for g in gt_tools:
        g_params = g["parameters"]
        s_max += 1.0 + len(g_params)
        best_i, best = -1, 0.0
        for i, p in enumerate(pd_tools):
            if i in used or p["name"] != g["name"]:
                continue
            p_params = p["parameters"]
            key_score = toolrl_match_score(list(g_params.keys()), list(p_params.keys()))
            value_hits = sum(1.0 for k, v in g_params.items() if k in p_params and p_params[k] == v)
            if key_score + value_hits > best:
                best, best_i = key_score + value_hits, i
        if best_i >= 0:
            used.add(best_i)
            score += best
    return (max_reward - min_reward) * score / s_max + min_reward


#: parsed gold calls: a GRPO group scores G completions against one gold (read-only use)
_TOOLRL_GOLD: LRUCache[str, list] = LRUCache(4096)


def _parse_toolrl_gold(gold_answer: str) -> list:
    """Parsed gold calls, cached in :data:`_TOOLRL_GOLD` (a malformed gold raises and is not cached)."""
    return _TOOLRL_GOLD.get_or(gold_answer, lambda: _parse_toolrl_gold_uncached(gold_answer))


def _parse_toolrl_gold_uncached(gold_answer: str) -> list:
    try:
        return [json.loads(line) for line in _toolrl_block_lines(gold_answer)]
    except json.JSONDecodeError as e:
        raise ValueError(f"gold tool call is not one JSON object per line: {e}") from None


def _toolrl_block_lines(text: str) -> list[str]:
    return text.split("<tool_call>")[1].split("</tool_call>")[0].strip().split("\n")


def toolrl_correctness_reward(response: str, gold_answer: str, max_reward: float = 3.0,
                              min_reward: float = -3.0) -> float:
    """ToolRL :math:`R_{correct}` from raw strings: 0 if the gold has no ``<tool_call>``; ``min_reward``
    if the response has no parseable block.  Raises ``ValueError`` on a malformed *gold*.

    Example:
        >>> gold = '<tool_call>\\n{"name": "f", "parameters": {"x": 1}}\\n</tool_call>'
        >>> toolrl_correctness_reward('<tool_call>\\n{"name": "f", "parameters": {"x": "1"}}\\n</tool_call>', gold)
        1.0
        >>> toolrl_correctness_reward("no call", gold)
        -3.0
    """
    if "<tool_call>" not in gold_answer:
        return 0.0
    gt_tools = _parse_toolrl_gold(gold_answer)
    if "<tool_call>" not in response or "</tool_call>" not in response:
        return float(min_reward)
    try:
        pd_tools = [json.loads(line) for line in _toolrl_block_lines(response)]
        return float(toolrl_tool_call_score(gt_tools, pd_tools, max_reward, min_reward))
    except Exception:  # the original's bare ``except``: any malformed prediction gets R_min
        return float(min_reward)


def calls_to_toolrl_answer(calls: Sequence[Mapping[str, Any]]) -> str:
    """Render gold calls ``[{"name", "parameters"|"arguments"}]`` as a ToolRL answer string.

    Example:
        >>> calls_to_toolrl_answer([{"name": "f", "arguments": {"x": 1}}])
        '<tool_call>\\n{"name": "f", "parameters": {"x": 1}}\\n</tool_call>'
    """
    lines = []
    for i, c in enumerate(calls):
        if not isinstance(c, Mapping) or "name" not in c:
            raise ConfigError(f"gold_calls[{i}]", f"got {c!r:.80}", 'an object {"name": ..., "parameters": {...}}')
        params = c.get("parameters", c.get("arguments", {}))
        if isinstance(params, str):
            params = json.loads(params)
        lines.append(json.dumps({"name": c["name"], "parameters": params}))
    return "<tool_call>\n" + "\n".join(lines) + "\n</tool_call>"


class ToolRLVerifier(Verifier):
    """ToolRL reward ``R_format + R_correct`` (range [-3, 4]) exactly as released.

    Reference column ``gold_calls``: a ToolRL answer string (``<tool_call>`` lines and/or a
    ``<response>``) or a list of call dicts.  ``strip=True`` strips the completion first, as
    ToolRL's ``compute_score`` does after removing the chat template.  ``components``:
    ``format``, ``correctness``.  This mode reproduces the released reward, so its tag checks
    stay case-sensitive ``str.count``/``split`` (linear, like :mod:`rewardkit.verify.tags`).
    Budget: a completion over 200,000 characters gets the minimum ``format_range[0] +
    correct_range[0]`` and ``error="too_large"``.

    Example:
        >>> v = ToolRLVerifier()
        >>> call = '{"name": "get_weather", "parameters": {"city": "Paris"}}'
        >>> r = v.verify('<think>weather</think>\\n<tool_call>\\n' + call + '\\n</tool_call>',
        ...              gold_calls=[{"name": "get_weather", "parameters": {"city": "Paris"}}])
        >>> r.value, r.components
        (4.0, {'format': 1.0, 'correctness': 3.0})
    """

    name = "tool_call_toolrl"
    reference_columns = ("gold_calls",)

    def __init__(self, format_range: tuple[float, float] = (0.0, 1.0), correct_range: tuple[float, float] = (-3.0, 3.0),
                 strip: bool = True, use_format: bool = True):
        for field, rng in (("format_range", format_range), ("correct_range", correct_range)):
            if not (isinstance(rng, (tuple, list)) and len(rng) == 2 and rng[0] <= rng[1]):
                raise ConfigError(field, f"got {rng!r}", "a pair [min, max] with min <= max")
        self.format_range = (float(format_range[0]), float(format_range[1]))
        self.correct_range = (float(correct_range[0]), float(correct_range[1]))
        self.strip, self.use_format = bool(strip), bool(use_format)
        self.budget: Budget = DEFAULT_BUDGETS["toolcall"]

    def verify(self, completion: str, gold_calls: Any = None, **_: Any) -> VerifyResult:
        fail = (self.format_range[0] if self.use_format else 0.0) + self.correct_range[0]
        big = self.budget.too_large(completion, fail, {"format": 0.0, "correctness": self.correct_range[0]})
        if big is not None:
            return big
        try:
            gold = gold_calls if isinstance(gold_calls, str) else calls_to_toolrl_answer(gold_calls or [])
        except (ConfigError, ValueError, TypeError) as e:
            return VerifyResult(0.0, error="bad_reference", info={"message": str(e)[:300]})
        response = completion.strip() if self.strip else completion
        fmt = toolrl_format_reward(response, gold, self.format_range[1], self.format_range[0]) if self.use_format else 0.0
        try:
            corr = toolrl_correctness_reward(response, gold, self.correct_range[1], self.correct_range[0])
        except ValueError as e:
            return VerifyResult(0.0, error="bad_reference", info={"message": str(e)[:300]})
        error = None
        if "<tool_call>" in gold and corr == self.correct_range[0] and "<tool_call>" not in response:
            error = "no_tool_call"
        return VerifyResult(fmt + corr, {"format": fmt, "correctness": corr}, None, error=error)


# ====================================================================================== schema mode


def _as_call(obj: Any) -> dict | None:
    if not isinstance(obj, Mapping):
        return None
    if isinstance(obj.get("function"), Mapping):  # OpenAI {"type": "function", "function": {...}}
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str):
        return None
    args = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = load_output(args, "json") if args.strip() else {}
        except ConfigError:
            return None
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        return None
    return {"name": name, "arguments": dict(args)}


def _calls_from_json_text(text: str) -> tuple[list[dict], int]:
    """Calls from a JSON object, a JSON list, or one JSON object per line; (calls, n_bad)."""
    text = text.strip()
    if not text:
        return [], 0
    try:
        obj = load_output(text, "json")
        items = obj if isinstance(obj, list) else [obj]
    except ConfigError:
        items = []
        bad = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                items.append(load_output(line, "json"))
            except ConfigError:
                bad += 1
        calls = [_as_call(i) for i in items]
        return [c for c in calls if c], bad + sum(c is None for c in calls)
    calls = [_as_call(i) for i in items]
    return [c for c in calls if c], sum(c is None for c in calls)


def parse_tool_calls(text: str) -> tuple[list[dict], int]:
    """Tool calls in a completion as ``[{"name", "arguments"}]`` plus the number of malformed ones.

    Looks in every ``<tool_call>…</tool_call>`` block (:mod:`rewardkit.verify.tags`: linear time,
    ASCII case-insensitive); without blocks, in the last ```` ```json ```` fence, else the whole
    text if it is JSON.  JSON is parsed with :func:`rewardkit.verify.budget.load_output`
    (size, nesting-depth and node limits).

    Example:
        >>> parse_tool_calls('<tool_call>\\n{"name": "f", "arguments": "{\\\\"x\\\\": 1}"}\\n</tool_call>')
        ([{'name': 'f', 'arguments': {'x': 1}}], 0)
        >>> parse_tool_calls("I won't call anything")
        ([], 0)
    """
    if not isinstance(text, str):
        return [], 0
    blocks = find_tag_blocks(text, "tool_call")
    if blocks:
        calls: list[dict] = []
        bad = 0
        for b in blocks:
            c, n = _calls_from_json_text(b.content(text))
            calls += c
            bad += n
        return calls, bad
    fences = find_fences(text)
    if fences:
        return _calls_from_json_text(fences[-1].content(text))
    stripped = text.strip()
    if stripped[:1] in "{[":
        return _calls_from_json_text(stripped)
    return [], 0


def _norm_str(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())


def _to_number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x.strip().replace(",", ""))
        except ValueError:
            return None
    return None


def values_match(pred: Any, gold: Any, schema: Mapping[str, Any] | None = None, rel_tol: float = 1e-9) -> bool:
    """Type-aware equality of an argument value.

    * numbers: numeric equality (``2 == 2.0``); a numeric string matches when the gold is a number
      or the schema type is ``number``/``integer``;
    * booleans: only booleans (``True != 1``), or ``"true"``/``"false"`` for a boolean schema;
    * strings: NFKC + case-fold + collapsed whitespace; a number matches a string schema by its text;
    * ``None`` only ``None``; lists element-wise (``items`` schema); objects key-wise (``properties``).

    Example:
        >>> values_match("5", 5), values_match(True, 1)
        (True, False)
        >>> values_match("  New  York ", "new york"), values_match([1, 2], [1.0, 2])
        (True, True)
    """
    stype = schema.get("type") if isinstance(schema, Mapping) else None
    if gold is None or pred is None:
        return gold is None and pred is None
    if isinstance(gold, bool) or stype == "boolean":
        if isinstance(pred, str) and stype == "boolean":
            return pred.strip().lower() in ("true", "false") and (pred.strip().lower() == "true") == bool(gold)
        return isinstance(pred, bool) and isinstance(gold, bool) and pred == gold
    if isinstance(gold, (int, float)) or stype in ("number", "integer"):
        a, b = _to_number(pred), _to_number(gold)
        if a is None or b is None:
            return False
        if not (math.isfinite(a) and math.isfinite(b)):
            return a == b
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
    if isinstance(gold, str):
        if isinstance(pred, str):
            return _norm_str(pred) == _norm_str(gold)
        if stype == "string" and isinstance(pred, (int, float)) and not isinstance(pred, bool):
            return _norm_str(json.dumps(pred)) == _norm_str(gold)
        return False
    if isinstance(gold, list):
        if not isinstance(pred, list) or len(pred) != len(gold):
            return False
        item_schema = schema.get("items") if isinstance(schema, Mapping) else None
        return all(values_match(p, g, item_schema if isinstance(item_schema, Mapping) else None)
                   for p, g in zip(pred, gold, strict=False))
    if isinstance(gold, Mapping):
        if not isinstance(pred, Mapping) or set(pred) != set(gold):
            return False
        props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        return all(values_match(pred[k], gold[k], props.get(k) if isinstance(props, Mapping) else None)
                   for k in gold)
    return pred == gold


def _tool_specs(tools: Any) -> dict[str, dict]:
    """``{name: parameters-schema}`` from OpenAI-style or plain tool lists (or a JSON string)."""
    if tools is None:
        return {}
    if isinstance(tools, str):
        tools = json.loads(tools)
    if isinstance(tools, Mapping):
        tools = [tools]
    out: dict[str, dict] = {}
    for i, t in enumerate(tools):
        if not isinstance(t, Mapping):
            raise ConfigError(f"tools[{i}]", f"got {type(t).__name__}", 'an object {"name": ..., "parameters": {schema}}')
        f = t.get("function") if isinstance(t.get("function"), Mapping) else t
        if not isinstance(f.get("name"), str):
            raise ConfigError(f"tools[{i}].name", "missing", "the tool's name (a string)")
        params = f.get("parameters", {}) or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"tools[{i}].parameters", f"got {type(params).__name__}", "a JSON Schema object")
        out[f["name"]] = dict(params)
    return out


def _gold_calls(gold: Any) -> list[dict]:
    if isinstance(gold, str):
        if "<tool_call>" not in gold:
            return []
        calls, bad = parse_tool_calls(gold)
        if bad:
            raise ValueError("gold_calls: a line inside <tool_call> is not a call object")
        return calls
    if gold is None:
        return []
    if isinstance(gold, Mapping):
        gold = [gold]
    out = []
    for i, g in enumerate(gold):
        c = _as_call(g)
        if c is None:
            raise ValueError(f"gold_calls[{i}]: expected {{'name': str, 'arguments'|'parameters': object}}, got {g!r:.80}")
        out.append(c)
    return out


class ToolCallVerifier(Verifier):
    """Schema-aware tool-call reward in [0, 1] (see module docstring).

    Reference columns: ``gold_calls`` (list of ``{"name", "arguments"|"parameters"}``, or a ToolRL
    answer string) and optional ``tools`` (OpenAI-style tool list with JSON-Schema ``parameters``).

    Args:
        ordered: match calls position by position instead of by optimal assignment.
        no_call_reward: value when the gold expects no call and none is made (default 1).
        unexpected_call_reward: value when the gold expects no call but calls are made (default 0;
            ToolRL gives 0 correctness here too, but cannot tell it apart from a right abstention).

    ``components``: ``precision``, ``recall`` (name-level), ``schema_valid`` (fraction of
    predicted calls whose arguments validate), ``values`` (mean argument-value match over
    matched gold calls).  Errors: ``no_tool_call``, ``parse_error``, ``unknown_tool``,
    ``schema_violation``, ``bad_reference``, ``too_large`` (over 200,000 characters, value 0).

    Example:
        >>> tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        ...     "type": "object", "required": ["city"],
        ...     "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}]
        >>> v = ToolCallVerifier()
        >>> gold = [{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}]
        >>> v.verify('<tool_call>{"name": "get_weather", "arguments": {"city": "paris", "days": 3.0}}</tool_call>',
        ...          gold_calls=gold, tools=tools).value
        1.0
        >>> round(v.verify('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "days": "3"}}</tool_call>',
        ...                gold_calls=gold, tools=tools).value, 3)
        0.667
    """

    name = "tool_call_schema"
    reference_columns = ("gold_calls", "tools")

    def __init__(self, ordered: bool = False, no_call_reward: float = 1.0, unexpected_call_reward: float = 0.0):
        self.ordered = bool(ordered)
        self.no_call_reward, self.unexpected_call_reward = float(no_call_reward), float(unexpected_call_reward)
        self.budget: Budget = DEFAULT_BUDGETS["toolcall"]

    def verify(self, completion: str, gold_calls: Any = None, tools: Any = None, **_: Any) -> VerifyResult:
        big = self.budget.too_large(completion, 0.0)
        if big is not None:
            return big
        try:
            gold = _gold_calls(gold_calls)
            specs = _tool_specs(tools)
        except (ConfigError, ValueError, TypeError) as e:
            return VerifyResult(0.0, error="bad_reference", info={"message": str(e)[:300]})
        pred, n_bad = parse_tool_calls(completion)
        comps = {"precision": 0.0, "recall": 0.0, "schema_valid": 0.0, "values": 0.0}
        if not gold:
            if not pred and not n_bad:
                return VerifyResult(self.no_call_reward, {**comps, "precision": 1.0, "recall": 1.0}, pred)
            return VerifyResult(self.unexpected_call_reward, comps, pred, error="unexpected_call")
        if not pred:
            return VerifyResult(0.0, comps, pred, error="parse_error" if n_bad else "no_tool_call")
        try:
            with pattern_budget():  # schema regexes of all calls share the sample's regex budget
                validity = [self._valid(c, specs) for c in pred]
        except PatternTimeout as e:
            return VerifyResult(0.0, comps, pred, error=TIMEOUT, info={"message": str(e)})
        G, P = len(gold), len(pred)
        sim = np.zeros((G, P))
        vals = np.zeros((G, P))
        for i, g in enumerate(gold):
            for j, p in enumerate(pred):
                if self.ordered and i != j:
                    continue
                if p["name"] != g["name"]:
                    continue
                schema = specs.get(g["name"], {})
                props = schema.get("properties", {}) if isinstance(schema.get("properties"), Mapping) else {}
                gk, pk = set(g["arguments"]), set(p["arguments"])
                keys = len(gk & pk) / len(gk | pk) if (gk | pk) else 1.0
                hits = [values_match(p["arguments"].get(k, _ABSENT), v, props.get(k)) if k in p["arguments"] else False
                        for k, v in g["arguments"].items()]
                vals[i, j] = float(np.mean(hits)) if hits else 1.0
                sim[i, j] = (validity[j][0] + keys + vals[i, j]) / 3.0
        rows, cols = require("scipy.optimize", extra="llm").linear_sum_assignment(-sim)
        matched = [(i, j) for i, j in zip(rows, cols, strict=False) if sim[i, j] > 0]
        total = sum(sim[i, j] for i, j in matched) / max(G, P)
        comps["precision"] = len(matched) / P
        comps["recall"] = len(matched) / G
        comps["schema_valid"] = float(np.mean([v for v, _ in validity]))
        comps["values"] = float(sum(vals[i, j] for i, j in matched) / G)
        errors = [e for _, e in validity if e]
        error = None
        if n_bad:
            error = "parse_error"
        elif any(e == "unknown_tool" for e in errors):
            error = "unknown_tool"
        elif errors:
            error = "schema_violation"
        return VerifyResult(float(total), comps, pred, error=error,
                            info={"matches": [(int(i), int(j)) for i, j in matched], "malformed_calls": n_bad})

    @staticmethod
    def _valid(call: dict, specs: Mapping[str, dict]) -> tuple[float, str | None]:
        if not specs:
            return 1.0, None
        if call["name"] not in specs:
            return 0.0, "unknown_tool"
        schema = specs[call["name"]]
        if not schema:
            return 1.0, None
        import jsonschema

        try:
            cls = bounded_validator(jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator))
            err = next(iter(cls(schema).iter_errors(call["arguments"])), None)
        except PatternTimeout:
            raise
        except Exception:
            return 0.0, "schema_violation"
        return (1.0, None) if err is None else (0.0, "schema_violation")


_ABSENT = object()


# ====================================================================================== registry
@register_term("tool_call_toolrl", batch_kind="sample")
def tool_call_toolrl(format_range: Sequence[float] = (0.0, 1.0), correct_range: Sequence[float] = (-3.0, 3.0),
                     strip: bool = True, use_format: bool = True, name: str = "tool_call_toolrl") -> VerifierTerm:
    """ToolRL reward R_format + R_correct in [-3, 4] (Qian et al. 2025), column ``gold_calls``."""
    return ToolRLVerifier(tuple(format_range), tuple(correct_range), strip, use_format).as_term(name)  # type: ignore[arg-type]


@register_term("tool_call_schema", batch_kind="sample")
def tool_call_schema(ordered: bool = False, no_call_reward: float = 1.0, unexpected_call_reward: float = 0.0,
                     name: str = "tool_call_schema") -> VerifierTerm:
    """Schema-aware tool-call reward in [0, 1]: Hungarian-matched calls, JSON-Schema-valid
    arguments, type-aware value match (columns ``gold_calls``, ``tools``)."""
    return ToolCallVerifier(ordered, no_call_reward, unexpected_call_reward).as_term(name)
