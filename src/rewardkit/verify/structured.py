"""Structured-output reward: parse JSON / YAML / TOML and grade it against a JSON Schema with
partial credit.

Reference: Ruike Hu and Shulei Wu (2025), *RL-Struct: A Lightweight Reinforcement Learning
Framework for Reliable Structured Output in LLMs* (arXiv:2512.00319) – a hierarchical reward
that credits syntax (the output parses) before semantics (it satisfies the schema).  Binary
validity follows NeMo-Gym's ``structured_outputs`` server (optional "strictify": every
object gets ``required = all properties`` and ``additionalProperties: false``).

Partial credit.  The schema is unrolled into a fixed list of **checks** (independent of the
instance, so the denominator never changes):

* ``parse`` – the text parses in the requested format;
* one check per validation keyword at each schema node (``type``, ``enum``, ``const``,
  ``minimum`` … ``pattern``, ``minItems`` …, ``additionalProperties``, ``anyOf``/``oneOf``/``not``
  as one check each);
* one check **per name** in ``required``;
* nodes under ``properties``/``items``/``prefixItems``/``allOf``/local ``$ref`` are unrolled
  recursively (``$ref`` depth-limited).

A check at a node passes if jsonschema accepts the instance at that node for that keyword.
When a node's ``type`` check fails, or a *required* property is missing, every check in that
subtree fails too ("blocked"); an *optional* property that is absent passes its subtree
vacuously; an array's ``items`` checks pass iff they pass for every element.  Then

.. math::

    r = \\frac{\\#\\text{checks passed}}{\\#\\text{checks}} \\in [0, 1],\\qquad
    r = 0 \\text{ if parsing fails},\\qquad r = 1 \\iff \\text{jsonschema validates}.

Because each additional error can only turn passing checks into failing ones, ``r`` is
monotonically non-increasing in the number of injected errors (property-tested).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

from rewardkit.core import ConfigError, register_term

from rewardkit.core.cache import LRUCache
from rewardkit.core.errors import LimitExceeded
from rewardkit.core.safe_load import check_tree

from .budget import DEFAULT_BUDGETS, PARSE_LIMITS, TIMEOUT, load_output
from .patterns import PatternTimeout, bounded_validator, pattern_budget
from .result import Verifier, VerifierTerm, VerifyResult
from .answers import MULTIPLE_ANSWERS
from .tags import answer_block, find_fences

__all__ = [
    "FORMATS",
    "StructuredGrade",
    "StructuredOutputVerifier",
    "grade_structured",
    "parse_structured",
    "schema_checks",
    "strictify",
]

FORMATS = ("json", "yaml", "toml", "auto")
_MAX_CHARS = DEFAULT_BUDGETS["structured"].max_chars
_MAX_REF_DEPTH = 8
_BUDGET_ERRORS = ("empty_response", "too_large", "parse_limit")

# keywords checked as one unit at their node
_LEAF_KEYWORDS = (
    "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "contains",
    "minContains", "maxContains", "minProperties", "maxProperties", "propertyNames",
    "dependentRequired", "dependentSchemas", "dependencies", "anyOf", "oneOf", "not", "if",
    "patternProperties", "unevaluatedProperties", "unevaluatedItems",
)
_CONTEXT = {  # sibling keywords a keyword needs to be evaluated correctly on its own
    "additionalProperties": ("properties", "patternProperties"),
    "if": ("then", "else"),
    "minContains": ("contains",), "maxContains": ("contains",),
    "additionalItems": ("items",),
}


# --------------------------------------------------------------------------------------- parsing
# model output is parsed by the bounded loader (size, depth, nodes, YAML aliases): budget.load_output
_MAX_RAW_DECODE_TRIES = 16  # JSON embedded in prose: decode attempts from successive '{' / '['


def _yaml_load(text: str) -> Any:
    return load_output(text, "yaml")


def _toml_load(text: str) -> Any:
    return load_output(text, "toml")


def _json_load(text: str) -> Any:
    try:
        return load_output(text, "json")
    except LimitExceeded:
        raise
    except ConfigError:
        # a JSON value embedded in prose: decode from the first few '{' or '[' (bounded tries,
        # each linear: an unbounded scan is quadratic on text such as '[1,' * n)
        dec = json.JSONDecoder()
        tries = 0
        i = 0
        while tries < _MAX_RAW_DECODE_TRIES:
            starts = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
            if not starts:
                break
            i = min(starts)
            tries += 1
            try:
                value = dec.raw_decode(text, i)[0]
            except json.JSONDecodeError:
                i += 1
                continue
            except RecursionError:
                raise LimitExceeded("json", "nesting too deep for the parser", "a less deeply nested value") from None
            return check_tree(value, PARSE_LIMITS["max_depth"], PARSE_LIMITS["max_nodes"], "json")
        raise


_LOADERS = {"json": _json_load, "yaml": _yaml_load, "toml": _toml_load}
_LANG = {"json": "json", "jsonc": "json", "yaml": "yaml", "yml": "yaml", "toml": "toml"}


def parse_structured(text: str, fmt: str = "json") -> tuple[Any, str | None, str]:
    """Parse the structured payload of a completion.

    The payload is the last fenced block (```` ```json ````/```` ```yaml ````/```` ```toml ```` or
    unlabelled) inside the ``<answer>`` block if present, else the answer body, else the
    whole text.  Several ``<answer>`` blocks with different content give the error
    ``"multiple_answers"`` (the one answer policy).  ``fmt="auto"`` tries the fence's language,
    then JSON, TOML, YAML (YAML only if it yields a mapping or list, since almost any text is a
    YAML string).

    Returns ``(value, error, format_used)``; ``error`` is ``None`` on success or a short message
    (starting with ``too_large`` or ``parse_limit`` when a budget limit was hit).  Tags and fences
    are found in linear time (:mod:`rewardkit.verify.tags`); parsing goes through the bounded
    loader :func:`rewardkit.verify.budget.load_output` (size, depth, node and YAML alias limits).

    Example:
        >>> parse_structured('Here: ```json\\n{"a": 1}\\n```')
        ({'a': 1}, None, 'json')
        >>> parse_structured("a = 1", "auto")[0]
        {'a': 1}
        >>> parse_structured("{oops", "json")[1] is not None
        True
    """
    if fmt not in FORMATS:
        raise ConfigError("format", f"got {fmt!r}", f"one of {FORMATS}")
    if not isinstance(text, str) or not text.strip():
        return None, "empty_response", fmt
    if len(text) > _MAX_CHARS:
        return None, f"too_large: {len(text)} chars > {_MAX_CHARS}", fmt
    block, why = answer_block(text, "answer")
    if why is not None:   # several different <answer> blocks: a shotgun (the one answer policy)
        return None, why, fmt
    scope = block.content(text) if block is not None else text
    fences = find_fences(scope)
    lang = None
    payload = scope
    if fences:
        lang_raw, payload = fences[-1].lang, fences[-1].content(scope)
        lang = _LANG.get(lang_raw.lower())
    order = [fmt] if fmt != "auto" else ([lang] if lang else []) + [f for f in ("json", "toml", "yaml") if f != lang]
    last_err = "parse_error"
    for f in order:
        try:
            val = _LOADERS[f](payload.strip())
        except LimitExceeded as e:  # a bomb: do not try the other formats
            return None, f"parse_limit: {str(e)[:200]}", f
        except Exception as e:  # each loader has its own exception types
            last_err = f"{f}: {' '.join(str(e).split())[:200]}"
            continue
        if fmt == "auto" and f == "yaml" and not isinstance(val, (dict, list)):
            last_err = "yaml: not a mapping or list"
            continue
        return _plain(val), None, f
    return None, last_err, fmt if fmt != "auto" else (lang or "auto")


def _plain(v: Any) -> Any:
    """Convert YAML/TOML dates and other scalars to JSON-like values (dates -> ISO strings)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


# --------------------------------------------------------------------------------------- schema
def strictify(schema: Any) -> Any:
    """NeMo-Gym-style strict schema: every object with ``properties`` requires all of them and
    forbids additional properties (recursively).

    Example:
        >>> strictify({"type": "object", "properties": {"a": {"type": "integer"}}})
        {'type': 'object', 'properties': {'a': {'type': 'integer'}}, 'required': ['a'], 'additionalProperties': False}
    """
    if isinstance(schema, list):
        return [strictify(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strictify(v) for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def _validator_cls(schema: Mapping[str, Any]) -> Any:
    """The schema's validator class, with regexes bounded by :mod:`rewardkit.verify.patterns`."""
    import jsonschema

    return bounded_validator(jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator))


@dataclass
class _Check:
    path: str
    keyword: str
    schema: dict  # sub-schema evaluated for this check (keyword + context + definitions)


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Any:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def schema_checks(schema: Mapping[str, Any]) -> list[str]:
    """The check identifiers a schema unrolls into (``parse`` first); see the module docstring.

    Example:
        >>> schema_checks({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer", "minimum": 0}}})
        ['parse', '$:type', '$:required[a]', '$.a:type', '$.a:minimum']
    """
    return ["parse"] + [f"{p}:{k}" for p, k, _ in _walk_static(schema, schema, "$", 0)]


def _node_checks(node: dict, path: str) -> list[tuple[str, str, Any]]:
    """The checks of one schema node itself (not of its children)."""
    out: list[tuple[str, str, Any]] = []
    if "type" in node:
        out.append((path, "type", node))
    if isinstance(node.get("required"), list):
        out += [(path, f"required[{name}]", node) for name in node["required"]]
    out += [(path, k, node) for k in _LEAF_KEYWORDS if k in node]
    if "additionalProperties" in node and node["additionalProperties"] is not True:
        out.append((path, "additionalProperties", node))
    return out


def _child_schemas(node: dict, path: str) -> list[tuple[Any, str]]:
    """``(sub-schema, path)`` of the children the unrolling descends into, in order."""
    out: list[tuple[Any, str]] = []
    if isinstance(node.get("properties"), dict):
        out += [(sub, f"{path}.{name}") for name, sub in node["properties"].items()]
    if isinstance(node.get("items"), dict):
        out.append((node["items"], f"{path}[*]"))
    for key in ("prefixItems",) + (("items",) if isinstance(node.get("items"), list) else ()):
        if isinstance(node.get(key), list):
            out += [(sub, f"{path}[{i}]") for i, sub in enumerate(node[key])]
    if isinstance(node.get("allOf"), list):
        out += [(sub, f"{path}&{i}") for i, sub in enumerate(node["allOf"])]
    return out


def _walk_static(node: Any, root: Mapping[str, Any], path: str, depth: int) -> list[tuple[str, str, Any]]:
    if not isinstance(node, dict) or depth > _MAX_REF_DEPTH * 4:
        return []
    out = _node_checks(node, path)
    for sub, sub_path in _child_schemas(node, path):
        out += _walk_static(sub, root, sub_path, depth + 1)
    if isinstance(node.get("$ref"), str):
        if depth < _MAX_REF_DEPTH and isinstance(_resolve_ref(node["$ref"], root), dict):
            out += _walk_static(_resolve_ref(node["$ref"], root), root, path, depth + 1)
        else:
            out.append((path, "$ref", node))
    return out


_MISSING = object()


@dataclass
class StructuredGrade:
    """Outcome of :func:`grade_structured`: ``score`` in [0, 1], ``valid`` (jsonschema's verdict),
    the per-check results and the human-readable violations."""

    score: float
    valid: bool
    passed: int
    total: int
    failed_checks: list[str]
    violations: list[str]


def grade_structured(instance: Any, schema: Mapping[str, Any], parsed: bool = True) -> StructuredGrade:
    """Grade a parsed instance against ``schema`` (checks as in the module docstring).

    Example:
        >>> s = {"type": "object", "required": ["name", "age"],
        ...      "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}
        >>> g = grade_structured({"name": "Ada", "age": -1}, s)
        >>> g.passed, g.total, g.failed_checks, g.valid
        (6, 7, ['$.age:minimum'], False)
        >>> grade_structured({"name": "Ada", "age": 3}, s).score
        1.0
    """
    checks = _walk_static(schema, schema, "$", 0)
    total = 1 + len(checks)
    if not parsed:
        return StructuredGrade(0.0, False, 0, total, ["parse"], ["output does not parse"])
    cls = _validator_cls(schema)
    defs = {k: schema[k] for k in ("$defs", "definitions") if k in schema}
    failed: list[str] = []
    violations: list[str] = []
    passed = 1
    for path, keyword, node in checks:
        ok, msg = _eval_check(instance, schema, path, keyword, node, cls, defs)
        if ok:
            passed += 1
        else:
            failed.append(f"{path}:{keyword}")
            if msg:
                violations.append(f"{path}: {msg}")
    try:
        errs = sorted(cls(schema).iter_errors(instance), key=lambda e: list(e.absolute_path).__repr__())
        valid = not errs
        full_msgs = [f"${_fmt_path(e.absolute_path)}: {e.message[:200]}" for e in errs[:50]]
    except PatternTimeout:
        raise
    except Exception as e:  # a broken schema or pathological instance
        valid, full_msgs = False, [f"$: validator error {type(e).__name__}"]
    if not valid and not failed:
        # jsonschema found something no unrolled check covers: count one extra failed check
        total += 1
        failed.append("$:other")
    if valid and failed:  # cannot happen if the unrolling is sound; trust jsonschema
        passed, failed = total, []
    violations = violations or full_msgs
    return StructuredGrade(passed / total, valid, passed, total, failed, violations)


def _fmt_path(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _instances_at(instance: Any, path: str, root: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    """Instances at a static path; ``(values, blocked_reason)``."""
    values = [instance]
    for step in re.findall(r"\.[^.\[&]+|\[\*\]|\[\d+\]|&\d+", path[1:]):
        nxt: list[Any] = []
        for v in values:
            if v is _MISSING:
                nxt.append(_MISSING)
            elif step.startswith("."):
                nxt.append(v.get(step[1:], _MISSING) if isinstance(v, dict) else _MISSING)
            elif step == "[*]":
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(_MISSING)
            elif step.startswith("["):
                i = int(step[1:-1])
                nxt.append(v[i] if isinstance(v, list) and i < len(v) else _MISSING)
            else:  # allOf branch: same instance
                nxt.append(v)
        values = nxt
    return values, None


def _eval_check(instance: Any, root: Mapping[str, Any], path: str, keyword: str, node: dict, cls: Any,
                defs: dict) -> tuple[bool, str]:
    # 1. blocked by an ancestor: wrong type or missing required property
    blocked = _blocked(instance, root, path, cls)
    if blocked is not None:
        return False, ""
    values, _ = _instances_at(instance, path, root)
    present = [v for v in values if v is not _MISSING]
    if not present:
        return True, ""  # optional and absent (required-missing is caught by _blocked)
    # 2. this node's own type gates its other keywords
    if keyword != "type" and "type" in node:
        if not all(_type_ok(cls, node["type"], v) for v in present):
            return False, ""
    if keyword.startswith("required["):
        name = keyword[len("required["):-1]
        ok = all(not isinstance(v, dict) or name in v for v in present)
        return ok, "" if ok else f"missing required property {name!r}"
    sub: dict[str, Any] = {keyword: node[keyword]}
    for ctx in _CONTEXT.get(keyword, ()):
        if ctx in node:
            sub[ctx] = node[ctx]
    # context keywords only say which names/patterns are "known"; their sub-schemas are
    # checked on their own, so neutralise them here
    for ctx in ("properties", "patternProperties"):
        if ctx in sub and ctx != keyword and isinstance(sub[ctx], dict):
            sub[ctx] = {k: True for k in sub[ctx]}
    if keyword == "$ref":
        sub = {"$ref": node["$ref"]}
    sub.update(defs)
    for v in present:
        msg = _first_error(cls, sub, v)
        if msg is not None:
            return False, msg
    return True, ""


def _blocked(instance: Any, root: Mapping[str, Any], path: str, cls: Any) -> str | None:
    """Why the node at ``path`` cannot be evaluated: an ancestor has the wrong type or a
    required property on the way is missing.  ``None`` if it can."""
    steps = re.findall(r"\.[^.\[&]+|\[\*\]|\[\d+\]|&\d+", path[1:])
    node: Any = root
    values = [instance]
    for step in steps:
        node = _deref(node, root)
        if not isinstance(node, dict):
            return None
        if "type" in node:
            for v in values:
                if v is not _MISSING and not _type_ok(cls, node["type"], v):
                    return "parent has the wrong type"
        nxt: list[Any] = []
        if step.startswith("."):
            name = step[1:]
            nxt_or_reason = _property_values(values, name, name in (node.get("required") or []))
            if isinstance(nxt_or_reason, str):
                return nxt_or_reason
            nxt = nxt_or_reason
            node = (node.get("properties") or {}).get(name, {})
        elif step == "[*]":
            for v in values:
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(_MISSING)
            node = node.get("items", {})
        elif step.startswith("["):
            i = int(step[1:-1])
            for v in values:
                nxt.append(v[i] if isinstance(v, list) and i < len(v) else _MISSING)
            arr = node.get("prefixItems") if isinstance(node.get("prefixItems"), list) else node.get("items")
            node = arr[i] if isinstance(arr, list) and i < len(arr) else {}
        else:
            nxt = values
            node = node.get("allOf", [{}])[int(step[1:])]
        values = nxt
    return None


def _property_values(values: list[Any], name: str, required: bool) -> list[Any] | str:
    """The values of property ``name`` of each value (``_MISSING`` where absent), or why a
    required property is missing."""
    nxt: list[Any] = []
    for v in values:
        if v is _MISSING:
            nxt.append(_MISSING)
        elif isinstance(v, dict) and name in v:
            nxt.append(v[name])
        elif required and isinstance(v, dict):
            return f"missing required property {name!r}"
        else:
            nxt.append(_MISSING)
    return nxt


def _deref(node: Any, root: Mapping[str, Any]) -> Any:
    for _ in range(_MAX_REF_DEPTH):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and "properties" not in node:
            target = _resolve_ref(node["$ref"], root)
            if not isinstance(target, dict):
                return node
            node = target
        else:
            break
    return node


def _type_ok(cls: Any, types: Any, value: Any) -> bool:
    """JSON Schema ``type`` check through the validator's type checker (no validator built)."""
    names = types if isinstance(types, list) else [types]
    try:
        return any(cls.TYPE_CHECKER.is_type(value, t) for t in names)
    except Exception:  # an unknown type name: fall back to a real validation
        return _first_error(cls, {"type": types}, value) is None


#: compiled validators per (validator class, sub-schema), shared by all verifiers
_VALIDATORS: LRUCache[tuple, Any] = LRUCache(4096)


def _first_error(cls: Any, sub: dict, value: Any) -> str | None:
    try:
        key = (cls, json.dumps(sub, sort_keys=True, default=repr))
        v = _VALIDATORS.get_or(key, lambda: cls(sub))
        err = next(iter(v.iter_errors(value)), None)
    except PatternTimeout:
        raise
    except Exception as e:  # unresolvable $ref, bad regex in the schema, recursion
        return f"cannot evaluate ({type(e).__name__})"
    return None if err is None else err.message[:200]


# --------------------------------------------------------------------------------------- verifier
class StructuredOutputVerifier(Verifier):
    """Parse a completion (JSON/YAML/TOML) and grade it against a JSON Schema.

    Reference column ``schema`` (a dict, or a JSON string), per row; or a fixed ``schema``
    given to the constructor.  ``mode="partial"`` returns the fraction of checks passed
    (:func:`grade_structured`); ``mode="binary"`` returns 1 iff it parses and validates.
    ``strict=True`` applies :func:`strictify` first.  Errors (NeMo-Gym's taxonomy):
    ``empty_response``, ``parse_error``, ``schema_violation``, ``bad_reference`` (bad schema);
    budget errors (value 0): ``timeout`` (schema regexes over the per-sample regex budget,
    :mod:`rewardkit.verify.patterns`), ``too_large`` (over 200,000 characters) and ``parse_limit`` (YAML
    aliases, nesting depth or node count over :data:`rewardkit.verify.budget.PARSE_LIMITS`).

    Example:
        >>> v = StructuredOutputVerifier(schema={"type": "object", "required": ["a", "b"],
        ...                                      "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}})
        >>> r = v.verify('```json\\n{"a": 1}\\n```')
        >>> round(r.value, 3), r.error, r.info["violations"]
        (0.667, 'schema_violation', ["$: missing required property 'b'"])
    """

    name = "structured_output"
    reference_columns = ("schema",)

    def __init__(self, schema: Mapping[str, Any] | None = None, format: str = "json", mode: str = "partial",
                 strict: bool = False):
        if format not in FORMATS:
            raise ConfigError("format", f"got {format!r}", f"one of {FORMATS}")
        if mode not in ("partial", "binary"):
            raise ConfigError("mode", f"got {mode!r}", "'partial' or 'binary'")
        self.format, self.mode, self.strict = format, mode, bool(strict)
        self.schema = self._check_schema(schema, "schema") if schema is not None else None
        self._cache: dict[str, Any] = {}

    def _check_schema(self, schema: Any, field: str) -> dict:
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except json.JSONDecodeError as e:
                raise ConfigError(field, f"is not valid JSON ({e.msg})", "a JSON Schema object") from None
        if not isinstance(schema, dict):
            raise ConfigError(field, f"got {type(schema).__name__}", "a JSON Schema object (dict)")
        try:
            _validator_cls(schema).check_schema(schema)
        except Exception as e:
            raise ConfigError(field, f"invalid JSON Schema: {str(e).splitlines()[0][:200]}", "a valid JSON Schema") from None
        return strictify(schema) if self.strict else schema

    def verify(self, completion: str, schema: Any = None, **_: Any) -> VerifyResult:
        if schema is None:
            schema = self.schema
            if schema is None:
                return VerifyResult(0.0, error="bad_reference", info={"message": "no schema given"})
        else:
            key = schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True, default=str)
            if key not in self._cache:
                try:
                    self._cache[key] = self._check_schema(schema, "columns.schema")
                except ConfigError as e:
                    self._cache[key] = e
                if len(self._cache) > 1024:
                    self._cache.pop(next(iter(self._cache)))
            schema = self._cache[key]
            if isinstance(schema, ConfigError):
                return VerifyResult(0.0, error="bad_reference", info={"message": str(schema)})
        value, perr, fmt_used = parse_structured(completion, self.format)
        try:
            with pattern_budget():
                grade = grade_structured(value, schema, parsed=perr is None)
        except PatternTimeout as e:  # a schema regex backtracking on a crafted string
            return VerifyResult(0.0, {"parse": 1.0, "valid": 0.0}, value, error=TIMEOUT, info={"message": str(e)})
        comps = {"parse": float(perr is None), "valid": float(grade.valid),
                 "checks_passed": float(grade.passed), "checks_total": float(grade.total)}
        score = grade.score if self.mode == "partial" else float(grade.valid)
        if perr is not None:
            kind = perr.split(":")[0]
            error = kind if kind in _BUDGET_ERRORS or kind == MULTIPLE_ANSWERS else "parse_error"
        else:
            error = None if grade.valid else "schema_violation"
        info = {"format": fmt_used, "failed_checks": grade.failed_checks, "violations": grade.violations}
        if perr is not None:
            info["message"] = perr
        if not math.isfinite(score):
            score = 0.0
        return VerifyResult(score, comps, value, error=error, info=info)


@register_term("structured_output", batch_kind="sample")
def structured_output(schema: Mapping[str, Any] | None = None, format: str = "json", mode: str = "partial",
                      strict: bool = False, name: str = "structured_output") -> VerifierTerm:
    """JSON/YAML/TOML output graded against a JSON Schema (column ``schema`` or a fixed one): the
    fraction of schema checks passed (``mode="partial"``) or 1/0 validity (``mode="binary"``)."""
    return StructuredOutputVerifier(schema, format, mode, strict).as_term(name)
