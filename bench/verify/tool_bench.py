"""Benchmark 4: tool-call and structured-output rewards - exactness and monotonicity.

One command:  python bench/verify/tool_bench.py [--cases 20000] [--seed 0]

* ToolRL's reward code (``rlla.py`` in qiancheng0/ToolRL) is not on PyPI
  (``pip download --no-deps toolrl`` finds no distribution), so the oracle is a separate
  re-implementation written in this file from the paper's description (Qian et al. 2025,
  Sec. 3.3: format reward, then name Jaccard + per-gold-call best match of key Jaccard and exact
  value matches, normalised to [R_min, R_max]; exact match gives R_max, unparsable gives R_min).
  rewardkit's ToolRL mode must equal it on every generated case (format, correctness, total).
* Monotonicity: k = 0, 1, 2 ... injected errors must never increase the reward (ToolRL mode,
  schema-aware mode and the structured-output partial credit); the fraction of strictly
  decreasing chains is reported too.
* Structured output vs a NeMo-Gym-style strictify + jsonschema validate oracle (binary agreement).

Writes markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import random
import re
import time
from typing import Any

import jsonschema

from rewardkit.verify.structured import StructuredOutputVerifier, grade_structured
from rewardkit.verify.toolcall import ToolCallVerifier, ToolRLVerifier

# ============================================================================ the oracle
R_MIN, R_MAX = -3.0, 3.0


def oracle_jaccard(xs: list, ys: list) -> float:
    """Multiset Jaccard of two lists (1 if the lists are identical, 0 if one is empty)."""
    if xs == ys:
        return 1.0
    if len(xs) == 0 or len(ys) == 0:
        return 0.0
    counts: dict[Any, list[int]] = {}
    for x in xs:
        counts.setdefault(x, [0, 0])[0] += 1   # raises TypeError on unhashable items, like Counter
    for y in ys:
        counts.setdefault(y, [0, 0])[1] += 1
    inter = sum(min(a, b) for a, b in counts.values())
    return inter / (len(xs) + len(ys) - inter)


def oracle_format(resp: str, gold: str) -> float:
    want_call, want_resp = "<tool_call>" in gold, "<response>" in gold
    parts = [r"<think>.*?</think>"]
    tags: list[str] = []
    if want_call:
        parts.append(r"\n<tool_call>\n.*?\n</tool_call>")
        tags += ["<tool_call>", "</tool_call>"]
    if want_resp:
        parts.append(r"\n<response>.*?</response>")
        tags += ["<response>", "</response>"]
    if not re.search("^" + "".join(parts) + "$", resp, re.DOTALL):
        return 0.0
    if want_call or want_resp:
        if any(resp.count(t) != 1 for t in tags):
            return 0.0
    return 1.0


def _calls_in(text: str) -> list:
    inside = text.split("<tool_call>", 1)[1].split("</tool_call>", 1)[0].strip()
    return [json.loads(line) for line in inside.split("\n")]


def oracle_correct(resp: str, gold: str) -> float:
    if "<tool_call>" not in gold:
        return 0.0
    gt = _calls_in(gold)
    if not ("<tool_call>" in resp and "</tool_call>" in resp):
        return R_MIN
    try:
        pd = _calls_in(resp)
        if gt == pd:
            return R_MAX
        total = oracle_jaccard([c["name"] for c in gt], [c["name"] for c in pd])
        best_possible = 1.0
        taken: list[int] = []
        for g in gt:
            best_possible += 1 + len(g["parameters"])
            pick, pick_score = None, 0.0
            for idx in range(len(pd)):
                p = pd[idx]
                if idx in taken or p["name"] != g["name"]:
                    continue
                keys = oracle_jaccard(list(g["parameters"].keys()), list(p["parameters"].keys()))
                vals = 0.0
                for key in g["parameters"]:
                    if key in p["parameters"] and p["parameters"][key] == g["parameters"][key]:
                        vals += 1.0
                if keys + vals > pick_score:
                    pick, pick_score = idx, keys + vals
            if pick is not None:
                taken.append(pick)
                total += pick_score
        return (R_MAX - R_MIN) * total / best_possible + R_MIN
    except Exception:
        return R_MIN


# ============================================================================ case generation
TOOL_NAMES = ["search", "get_weather", "book_hotel", "calc", "translate", "send_mail"]
PARAM_NAMES = ["query", "city", "days", "nights", "expr", "text", "lang", "to", "limit", "flag"]


def rand_value(rng: random.Random) -> Any:
    kind = rng.randrange(7)
    return [lambda: rng.randint(-5, 100), lambda: round(rng.uniform(-10, 10), 2),
            lambda: rng.choice(["Paris", "paris", "1", "hello world", ""]), lambda: rng.choice([True, False]),
            lambda: [rng.randint(0, 3) for _ in range(rng.randint(0, 3))], lambda: None,
            lambda: {"k": rng.randint(0, 2)}][kind]()


def rand_call(rng: random.Random) -> dict:
    keys = rng.sample(PARAM_NAMES, rng.randint(0, 4))
    return {"name": rng.choice(TOOL_NAMES), "parameters": {k: rand_value(rng) for k in keys}}


def perturb_call(c: dict, rng: random.Random) -> Any:
    c = copy.deepcopy(c)
    if not isinstance(c, dict) or not isinstance(c.get("parameters"), dict):
        return c  # already broken by an earlier perturbation
    op = rng.randrange(14)
    params = c["parameters"]
    if op == 0:
        c["name"] = rng.choice(TOOL_NAMES)
    elif op == 1 and params:
        params.pop(rng.choice(list(params)))
    elif op == 2:
        params[rng.choice(PARAM_NAMES)] = rand_value(rng)
    elif op == 3 and params:
        params[rng.choice(list(params))] = rand_value(rng)
    elif op == 4 and params:
        k = rng.choice(list(params))
        params[k] = str(params[k])                     # "1" vs 1
    elif op == 5 and params:
        k = rng.choice(list(params))
        v = params[k]
        params[k] = float(v) if isinstance(v, int) and not isinstance(v, bool) else (int(v) if isinstance(v, bool) else v)
    elif op == 6:
        c["parameters"] = dict(reversed(list(params.items())))  # key order
    elif op == 7:
        del c["parameters"]                              # malformed call
    elif op == 8:
        c["parameters"] = list(params)                   # wrong container
    elif op == 9:
        c["name"] = [c["name"]]                          # unhashable name
    elif op == 10:
        c = {"function": c}                              # wrong schema
    elif op == 11:
        c["arguments"] = c.pop("parameters")
    return c


def render_calls(calls: list, rng: random.Random) -> str:
    lines = []
    for c in calls:
        if rng.random() < 0.03:
            lines.append("{bad json")
        else:
            lines.append(json.dumps(c))
    if rng.random() < 0.03:
        lines.insert(rng.randrange(len(lines) + 1), "")
    return "\n".join(lines)


def make_case(rng: random.Random) -> tuple[str, str]:
    gold_kind = rng.choices(["call", "response", "both"], [0.7, 0.15, 0.15])[0]
    gt = [rand_call(rng) for _ in range(rng.randint(1, 3))]
    gold = ""
    if gold_kind in ("call", "both"):
        gold = "<tool_call>\n" + "\n".join(json.dumps(c) for c in gt) + "\n</tool_call>"
    if gold_kind in ("response", "both"):
        gold += ("\n" if gold else "") + "<response>Done.</response>"
    # prediction
    pd = copy.deepcopy(gt)
    mode = rng.random()
    if mode < 0.2:
        pass  # exact
    elif mode < 0.75:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(pd))
            pd[i] = perturb_call(pd[i], rng)
    elif mode < 0.85:
        rng.shuffle(pd)
    elif mode < 0.92:
        pd.append(copy.deepcopy(rng.choice(pd)) if rng.random() < 0.5 else rand_call(rng))
    else:
        pd = pd[: max(1, len(pd) - 1)] if rng.random() < 0.5 else [rand_call(rng)]
    think = rng.choice(["reasoning", "", "multi\nline"])
    body = render_calls(pd, rng)
    fmt = rng.randrange(10)
    if fmt <= 4:
        resp = f"<think>{think}</think>\n<tool_call>\n{body}\n</tool_call>"
        if gold_kind == "both" or rng.random() < 0.1:
            resp += "\n<response>Done.</response>"
    elif fmt == 5:
        resp = f"<tool_call>\n{body}\n</tool_call>"                       # no think
    elif fmt == 6:
        resp = f"<think>{think}</think><tool_call>{body}</tool_call>"     # no newlines
    elif fmt == 7:
        resp = f"<think>{think}</think>\n<tool_call>\n{body}\n</tool_call>\n<tool_call>\n{body}\n</tool_call>"
    elif fmt == 8:
        resp = f"<think>{think}</think>\n<response>I can't.</response>"
    else:
        resp = f"<think>{think}</think>\n<tool_call>\n{body}\n</tool_call>\ntrailing"
    if rng.random() < 0.1:
        resp += "\n"
    return resp, gold


# ============================================================================ structured output
def rand_schema(rng: random.Random, depth: int = 0) -> dict:
    props: dict[str, Any] = {}
    for i in range(rng.randint(2, 5)):
        kind = rng.randrange(6 if depth < 1 else 5)
        name = f"p{i}"
        if kind == 0:
            props[name] = {"type": "string", "minLength": 1}
        elif kind == 1:
            props[name] = {"type": "integer", "minimum": 0, "maximum": 100}
        elif kind == 2:
            props[name] = {"enum": ["red", "green", "blue"]}
        elif kind == 3:
            props[name] = {"type": "boolean"}
        elif kind == 4:
            props[name] = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
        else:
            props[name] = rand_schema(rng, depth + 1)
    req = [k for k in props if rng.random() < 0.7]
    return {"type": "object", "properties": props, "required": req, "additionalProperties": False}


def valid_instance(schema: dict, rng: random.Random) -> dict:
    out: dict[str, Any] = {}
    for k, s in schema["properties"].items():
        if k not in schema["required"] and rng.random() < 0.3:
            continue
        if "enum" in s:
            out[k] = rng.choice(s["enum"])
        elif s["type"] == "string":
            out[k] = rng.choice(["a", "hello"])
        elif s["type"] == "integer":
            out[k] = rng.randint(0, 100)
        elif s["type"] == "boolean":
            out[k] = rng.choice([True, False])
        elif s["type"] == "array":
            out[k] = [rng.randint(0, 9) for _ in range(rng.randint(1, 3))]
        else:
            out[k] = valid_instance(s, rng)
    return out


def corruption_sites(schema: dict, inst: dict, path: tuple = ()) -> list:
    """One corruption per property present (breaks that property's own check) plus one extra key."""
    sites = []
    for k, s in schema["properties"].items():
        if k not in inst:
            continue
        if "enum" in s:
            sites.append(((*path, k), "purple"))
        elif s["type"] == "string":
            sites.append(((*path, k), ""))               # minLength
        elif s["type"] == "integer":
            sites.append(((*path, k), 1000))             # maximum
        elif s["type"] == "boolean":
            sites.append(((*path, k), "yes"))            # type
        elif s["type"] == "array":
            sites.append(((*path, k), []))               # minItems
        else:
            sites += corruption_sites(s, inst[k], (*path, k))
    sites.append(((*path, "zz_extra"), 1))               # additionalProperties
    return sites


def apply_site(inst: dict, site: tuple) -> None:
    path, value = site
    node = inst
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def oracle_strict_valid(instance: Any, schema: dict) -> bool:
    """NeMo-Gym-style: every object requires all its properties and forbids others."""
    def strict(s: Any) -> Any:
        if not isinstance(s, dict):
            return s
        s = {k: (strict(v) if k != "properties" else {n: strict(x) for n, x in v.items()}) if isinstance(v, dict) else v
             for k, v in s.items()}
        if "properties" in s:
            s["required"] = sorted(s["properties"])
            s["additionalProperties"] = False
        return s
    return jsonschema.Draft202012Validator(strict(schema)).is_valid(instance)


def report_tool_monotonicity(rng: random.Random, rk: ToolRLVerifier) -> None:
    """Print how often the tool-call rewards are non-increasing / strictly decreasing in the number of wrong values."""
    def chains(n_chains: int, score) -> tuple[int, int, int]:
        mono = strict = 0
        for _ in range(n_chains):
            gt = [rand_call(rng) for _ in range(rng.randint(1, 3))]
            for c in gt:  # at least 2 params each so several value errors fit
                while len(c["parameters"]) < 2:
                    c["parameters"][rng.choice(PARAM_NAMES)] = rng.randint(0, 9)
            sites = [(i, k) for i, c in enumerate(gt) for k in c["parameters"]]
            rng.shuffle(sites)
            pd = copy.deepcopy(gt)
            seq = [score(pd, gt)]
            for i, k in sites:
                pd[i]["parameters"][k] = "WRONG-" + str(pd[i]["parameters"][k])  # one more wrong value
                seq.append(score(pd, gt))
            mono += all(b <= a for a, b in itertools.pairwise(seq))
            strict += all(b < a for a, b in itertools.pairwise(seq))
        return n_chains, mono, strict

    def toolrl_score(pd, gt):
        body = "\n".join(json.dumps(c) for c in pd)
        return rk.verify(f"<think>x</think>\n<tool_call>\n{body}\n</tool_call>", gold_calls=gt).value

    schema_v = ToolCallVerifier()

    def schema_score(pd, gt):
        calls = [{"name": c["name"], "arguments": c["parameters"]} for c in pd]
        return schema_v.verify("<tool_call>\n" + "\n".join(json.dumps(c) for c in calls) + "\n</tool_call>",
                               gold_calls=[{"name": c["name"], "arguments": c["parameters"]} for c in gt]).value

    print("\n## Monotonicity in the number of errors\n")
    print("| reward | chains | non-increasing | strictly decreasing |")
    print("|---|---|---|---|")
    for name, fn in (("ToolRL mode (wrong argument values)", toolrl_score),
                     ("schema-aware mode (wrong argument values)", schema_score)):
        n, mono, strict = chains(500, fn)
        print(f"| {name} | {n} | {mono}/{n} | {strict}/{n} |")



# ============================================================================ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cases = [make_case(rng) for _ in range(args.cases)]

    rk = ToolRLVerifier(strip=False)
    mism = []
    t0 = time.perf_counter()
    rk_out = [rk.verify(r, gold_calls=g) for r, g in cases]
    t_rk = time.perf_counter() - t0
    t0 = time.perf_counter()
    or_out = [(oracle_format(r, g), oracle_correct(r, g)) for r, g in cases]
    t_or = time.perf_counter() - t0
    for (r, g), a, (f, c) in zip(cases, rk_out, or_out, strict=True):
        if not (a.components["format"] == f and a.components["correctness"] == c and a.value == f + c):
            mism.append((r, g, a.components, f, c))
    vals = [c for _, c in or_out]
    n_max = sum(v == R_MAX for v in vals)
    n_min = sum(v == R_MIN for v in vals)
    n_zero_gold = sum("<tool_call>" not in g for _, g in cases)
    print(f"# Tool-call and structured-output reward benchmark\n\nseed {args.seed}\n")
    print("## ToolRL-compatible mode vs the oracle (exact equality of format, correctness and total)\n")
    print("| cases | equal | mismatches | R_correct = +3 | R_correct = -3 | gold without call "
          "| rewardkit cases/s | oracle cases/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {len(cases)} | {len(cases) - len(mism)} | {len(mism)} | {n_max} | {n_min} | {n_zero_gold} | "
          f"{len(cases) / t_rk:,.0f} | {len(cases) / t_or:,.0f} | {t_or / t_rk:.2f}x |")
    if mism:
        print("\nfirst mismatch:", mism[0])

    # GRPO-style: 8 completions per gold (rewardkit parses each gold once; the oracle per call)
    groups = [(make_case(rng)[1], [make_case(rng)[0] for _ in range(8)]) for _ in range(len(cases) // 8)]
    grp = [(r, g) for g, rs in groups for r in rs]
    t0 = time.perf_counter()
    for r, g in grp:
        rk.verify(r, gold_calls=g)
    t_rk_g = time.perf_counter() - t0
    t0 = time.perf_counter()
    for r, g in grp:
        oracle_format(r, g), oracle_correct(r, g)
    t_or_g = time.perf_counter() - t0
    print(f"\nGRPO-style batches (8 completions per gold, {len(grp)} calls): rewardkit {len(grp) / t_rk_g:,.0f} cases/s, "
          f"oracle {len(grp) / t_or_g:,.0f} cases/s, ratio {t_or_g / t_rk_g:.2f}x")

    # ---- monotonicity, tool calls
    report_tool_monotonicity(rng, rk)

    # ---- monotonicity, structured output
    sv = StructuredOutputVerifier(schema={"type": "object"})  # schema given per call below
    n = mono = strict = 0
    agree = total = 0
    t_struct = 0.0
    for _ in range(500):
        schema = rand_schema(rng)
        inst = valid_instance(schema, rng)
        sites = corruption_sites(schema, inst)
        rng.shuffle(sites)
        seq = [grade_structured(inst, schema).score]
        cur = copy.deepcopy(inst)
        for s in sites:
            apply_site(cur, s)
            seq.append(grade_structured(cur, schema).score)
        n += 1
        mono += all(b <= a for a, b in itertools.pairwise(seq))
        strict += all(b < a for a, b in itertools.pairwise(seq))
        # binary agreement with the strictify + validate oracle on valid / corrupted / malformed text
        strict_v = StructuredOutputVerifier(schema=schema, strict=True, mode="binary")
        for candidate in (inst, cur, valid_instance(schema, rng)):
            text = json.dumps(candidate)
            t0 = time.perf_counter()
            got = strict_v.verify(text).value == 1.0
            t_struct += time.perf_counter() - t0
            agree += got == oracle_strict_valid(candidate, schema)
            total += 1
        got_bad = strict_v.verify(json.dumps(inst)[:-1]).value
        agree += got_bad == 0.0
        total += 1
    del sv
    print(f"| structured partial credit (one corruption per property + extra key) | {n} | {mono}/{n} | {strict}/{n} |")
    print("\nToolRL's matching is greedy (each gold call, in order, takes the best unused predicted call of the same "
          "name), so with two calls of the same tool one more wrong value can flip the pairing and *raise* the reward "
          "(e.g. gold calc(days, text) + calc(to, days, city): -1.125 -> 0.0 after corrupting one more value). "
          "The schema-aware mode uses an optimal (Hungarian) assignment instead.")
    print("\n## Structured output: binary validity vs strictify + jsonschema oracle (NeMo-Gym logic)\n")
    print("| outputs | agreement | rewardkit outputs/s (strict, binary) |")
    print("|---|---|---|")
    print(f"| {total} | {agree}/{total} = {100 * agree / total:.1f}% | {(total - n) / t_struct:,.0f} |")


if __name__ == "__main__":
    main()
