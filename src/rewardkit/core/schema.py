"""A JSON Schema of reward configs, generated from the registry (for editor completion and CI checks).

The schema mirrors :func:`rewardkit.core.build_reward`'s rules: the keys of a reward and of a term
are the validator's own key sets, ``type`` is one of the registered term types, and each type's
``params`` lists the factory's keyword parameters (required ones required, unknown ones rejected
unless the factory takes ``**kwargs``).  A parameter's JSON type comes from what the validator
checks, its default (``bool`` -> boolean, ``int``/``float`` -> number, ``str`` -> string), or, for a
parameter without a default or defaulting to ``None``, from a plain type annotation (``float | None``
-> number or null; anything richer is left open).  A parameter named ``potential`` takes a
registered potential's name, ``{type: name, ...}``, or a table.  Weights and scales are numbers or
schedules (``{schedule: kind, ...}`` with the kind's own arguments).

The schema is a *completion aid and a first check*: :func:`~rewardkit.core.build_reward` stays the
authority (it also checks ranges and what a factory rejects).

Example:
    >>> s = reward_schema()
    >>> s["$schema"], "env_reward" in s["$defs"]["term"]["properties"]["type"]["enum"]
    ('https://json-schema.org/draft/2020-12/schema', True)
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from .registry import POTENTIALS, TERMS, Entry
from .schedules import KINDS

__all__ = ["DRAFT", "annotation_type", "entry_params_schema", "reward_defs", "reward_schema"]

#: the JSON Schema dialect of every generated schema
DRAFT = "https://json-schema.org/draft/2020-12/schema"

_SIMPLE = {"float": "number", "int": "number", "bool": "boolean", "str": "string", "None": "null",
           "NoneType": "null"}
_CONTAINER = re.compile(r"^(Sequence|list|tuple|Mapping|dict)\b")


def annotation_type(annotation: Any) -> list[str] | None:
    """The JSON types of a plain annotation (``"float | None"`` -> ``["number", "null"]``); None when
    any part is not plain data (``Any``, a class, a callable), so the schema leaves it open.

    >>> annotation_type("float | None"), annotation_type("Sequence[int]"), annotation_type("Any")
    (['number', 'null'], ['array'], None)
    """
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None)
    if not isinstance(text, str) or not text:
        return None
    text = re.sub(r"^Optional\[(.*)\]$", r"\1 | None", text.strip())
    out: list[str] = []
    for part in _split_union(text):
        m = _CONTAINER.match(part)
        t = _SIMPLE.get(part) or (None if m is None else ("object" if m.group(1) in ("Mapping", "dict") else "array"))
        if t is None:
            return None
        if t not in out:
            out.append(t)
    return out or None


def _split_union(text: str) -> list[str]:
    """Top-level ``|`` parts of an annotation string (brackets kept whole)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return [p for p in parts if p]


def _param_schema(name: str, p: inspect.Parameter) -> dict[str, Any]:
    if name == "potential":
        return {"$ref": "#/$defs/potential"}
    d = p.default
    if isinstance(d, bool):
        return {"type": "boolean", "default": d}
    if isinstance(d, (int, float)):
        return {"type": "number", "default": d}
    if isinstance(d, str):
        return {"type": "string", "default": d}
    if isinstance(d, tuple):
        return {"type": "array", "default": list(d)}
    if d is p.empty or d is None:
        types = annotation_type(p.annotation)
        if types:
            return {"type": types[0] if len(types) == 1 else types}
    return {}


def entry_params_schema(entry: Entry) -> dict[str, Any]:
    """The ``params`` mapping of one registered entry: its keyword parameters, typed (see module docs).

    >>> from rewardkit.core.registry import TERMS
    >>> p = entry_params_schema(TERMS.get("count_bonus"))
    >>> p["properties"]["coef"], p["additionalProperties"]
    ({'type': 'number', 'default': 1.0}, False)
    """
    params = entry.parameters()
    try:
        kwargs = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(entry.factory).parameters.values())
    except (TypeError, ValueError):
        kwargs = True
    out: dict[str, Any] = {"type": "object", "properties": {k: _param_schema(k, p) for k, p in params.items()}}
    required = [k for k, p in params.items() if p.default is p.empty]
    if required:
        out["required"] = required
    if not kwargs:
        out["additionalProperties"] = False
    return out


def _schedule_defs() -> dict[str, Any]:
    branches = []
    for kind, f in sorted(KINDS.items()):
        props: dict[str, Any] = {"schedule": {"const": kind}}
        required = ["schedule"]
        for k, p in inspect.signature(f).parameters.items():
            props[k] = _param_schema(k, p)
            if p.default is p.empty:
                required.append(k)
        branches.append({"type": "object", "properties": props, "required": required, "additionalProperties": False})
    return {"oneOf": branches}


def _potential_def() -> dict[str, Any]:
    names = POTENTIALS.names()
    typed: list[dict[str, Any]] = []
    for n, e in POTENTIALS.entries().items():
        body = entry_params_schema(e)
        body["properties"] = dict(body["properties"], type={"const": n})
        typed.append({"if": {"properties": {"type": {"const": n}}, "required": ["type"]}, "then": body})
    return {"description": "a registered potential's name, {type: name, ...params}, or a table of per-state values",
            "anyOf": [{"type": "string", "enum": names},
                      {"type": "object", "properties": {"type": {"enum": names}}, "required": ["type"],
                       "allOf": typed},
                      {"type": "array"}]}


def reward_defs() -> dict[str, Any]:
    """The ``$defs`` of a reward config: ``reward``, ``term``, ``schedule``, ``potential`` and one
    ``params.<type>`` per registered term type (reused by the experiment schema)."""
    terms = TERMS.entries()
    defs: dict[str, Any] = {f"params.{n}": entry_params_schema(e) for n, e in terms.items()}
    number_or_schedule = {"anyOf": [{"type": "number"}, {"$ref": "#/$defs/schedule"}]}
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    norm_props = {"statistic": {"enum": ["reward", "return"]}, "gamma": {"type": "number", "minimum": 0, "maximum": 1},
                  "center": {"type": "boolean"}, "clip": {"type": ["number", "null"]}, "frozen": {"type": "boolean"}}
    term_props: dict[str, Any] = {
        "type": {"enum": list(terms), "description": "a registered term type (rewardkit terms)"},
        "name": {"type": "string", "minLength": 1, "description": "unique name (default: the type)"},
        "weight": number_or_schedule, "scale": number_or_schedule, "params": {"type": ["object", "null"]},
        "clip": pair, "normalize": {"anyOf": [{"type": "boolean"}, {"type": "object", "properties": norm_props,
                                                                    "additionalProperties": False}]},
        "gate": {"type": "object", "properties": {"on": {"type": "string"}, "threshold": {"type": "number"}},
                 "required": ["on"], "additionalProperties": False}}
    branches = []
    for n, e in terms.items():
        then: dict[str, Any] = {"properties": {"params": {"$ref": f"#/$defs/params.{n}"}}}
        if "required" in defs[f"params.{n}"]:
            then["required"] = ["params"]
        else:  # `params: null` is no parameters
            then["properties"]["params"] = {"anyOf": [{"type": "null"}, {"$ref": f"#/$defs/params.{n}"}]}
        branches.append({"if": {"properties": {"type": {"const": n}}, "required": ["type"]}, "then": then,
                         "description": e.summary})
    defs["term"] = {"type": "object", "properties": term_props, "required": ["type"], "additionalProperties": False,
                    "allOf": branches}
    reward_props = {"name": {"type": "string"}, "clip": pair,
                    "terms": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/term"}}}
    defs["reward"] = {"type": "object", "properties": reward_props, "required": ["terms"], "additionalProperties": False}
    defs["schedule"] = _schedule_defs()
    defs["potential"] = _potential_def()
    return defs


def reward_schema() -> dict[str, Any]:
    """The JSON Schema of a reward config file: ``{reward: {terms: [...]}}`` or the bare ``{terms: [...]}``."""
    return {"$schema": DRAFT, "$id": "https://rewardkit.dev/schema/reward.json", "title": "rewardkit reward config",
            "$defs": reward_defs(),
            "anyOf": [{"type": "object", "properties": {"reward": {"$ref": "#/$defs/reward"}}, "required": ["reward"]},
                      {"$ref": "#/$defs/reward"}]}
