"""Edits of a raw experiment mapping before validation: ``--set PATH=VALUE`` overrides and ``sweep:`` grids.

Both work on the plain mapping read from the file, *before* :func:`~rewardkit.runner.spec.parse_spec`,
so every edited value is validated exactly like one written in the file.

**Paths** name one field: mapping keys separated by ``.``, list indices in brackets, and keys
that contain a dot in quoted brackets::

    budget.steps
    variants.pbrs.reward.terms[1].scale
    variants["pbrs.v2"].reward.terms[0].weight

A missing key or index is an error; a leading ``+`` (``+eval.every=500``) may create missing
mapping keys (and append to a list at index ``len``).

**Sweeps** expand one variant into a grid of variants (the cartesian product of the listed
values); grid paths are relative to the variant::

    sweep:                       # one entry, or a list of entries applied in order
      variant: pbrs              # the variant to expand
      grid:                      # path inside the variant -> list of values
        reward.terms[1].scale: [0.1, 0.5, 1.0]
      keep: false                # also keep the unswept variant (default false)

The generated variants are named ``<variant>.<label>-<value>`` per grid path (``pbrs.scale-0.1``),
where the label is the path's last key (the whole path when two paths share it) and characters
outside ``[A-Za-z0-9_.-]`` in the value become ``_``.  They take the swept variant's place.

Example:
    >>> apply_overrides({"budget": {"steps": 100}}, ["budget.steps=2000", "+seeds=[0, 1]"])
    {'budget': {'steps': 2000}, 'seeds': [0, 1]}
    >>> data = {"variants": {"pbrs": {"reward": {"terms": [{"type": "env_reward"}, {"type": "c", "scale": 1.0}]}}},
    ...         "sweep": {"variant": "pbrs", "grid": {"reward.terms[1].scale": [0.1, 0.5]}}}
    >>> list(expand_sweep(data)["variants"])
    ['pbrs.scale-0.1', 'pbrs.scale-0.5']
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rewardkit.core import ConfigError
from rewardkit.core.safe_load import parse_document

__all__ = ["MAX_SWEEP_VARIANTS", "apply_overrides", "expand_sweep", "get_path", "parse_assignment", "parse_path",
           "set_path"]

#: the most variants one sweep entry may generate
MAX_SWEEP_VARIANTS = 1000

_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INDEX = re.compile(r"\[(\d{1,9})\]")
_QUOTED = re.compile(r"""\[(?:"([^"]*)"|'([^']*)')\]""")
_PATH_HINT = "keys separated by '.', [i] list indices, [\"a.b\"] for a key with a dot (e.g. budget.steps)"
_SWEEP_KEYS = {"variant", "grid", "keep"}

Token = str | int


def parse_path(text: str, field: str = "path") -> list[Token]:
    """``"a.b[1].c"`` -> ``["a", "b", 1, "c"]``; a malformed path is one :class:`ConfigError` naming ``field``.

    Example:
        >>> parse_path("variants.pbrs.reward.terms[1].scale")
        ['variants', 'pbrs', 'reward', 'terms', 1, 'scale']
        >>> parse_path('variants["a.b"].reward')
        ['variants', 'a.b', 'reward']
        >>> parse_path("budget..steps")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: path: bad path 'budget..steps' at character 7; expected keys ...
    """
    if not isinstance(text, str) or not text:
        raise ConfigError(field, f"got {text!r}", _PATH_HINT)
    out: list[Token] = []
    pos = 0
    ok = True
    while pos < len(text):
        ok = False
        if text[pos] == "[":
            m = _INDEX.match(text, pos)
            q = None if m else _QUOTED.match(text, pos)
            if m:
                out.append(int(m.group(1)))
            elif q:
                out.append(q.group(1) if q.group(1) is not None else q.group(2))
            else:
                break
            pos = (m or q).end()  # type: ignore[union-attr]
            ok = True
            continue
        if out:  # after a token: '.' then a key
            if text[pos] != ".":
                break
            pos += 1
        k = _KEY.match(text, pos)
        if not k:
            break
        out.append(k.group(0))
        pos = k.end()
        ok = True
    if not ok or pos < len(text) or not out:
        raise ConfigError(field, f"bad path {text!r} at character {pos}", _PATH_HINT)
    return out


def _fmt(tokens: Iterable[Token]) -> str:
    """The inverse of :func:`parse_path` (used in messages)."""
    s = ""
    for t in tokens:
        if isinstance(t, int):
            s += f"[{t}]"
        elif _KEY.fullmatch(t):
            s += f".{t}" if s else t
        else:
            s += f'["{t}"]'
    return s


def _step(node: Any, tok: Token, done: list[Token], field: str, create: bool, last: bool) -> Any:
    """The child ``tok`` of ``node`` (created when ``create`` allows it); errors name ``field``."""
    where = _fmt(done) or "the top level"
    if isinstance(tok, int):
        if not isinstance(node, list):
            raise ConfigError(field, f"{where} is a {type(node).__name__}, not a list", "a key, not an index [i]")
        if tok < len(node):
            return node[tok]
        if create and last and tok == len(node):
            return None
        raise ConfigError(field, f"no index [{tok}] in {where} (it has {len(node)} items)",
                          f"an index in [0, {len(node) - 1}]" if node else "an existing item")
    if not isinstance(node, dict):
        raise ConfigError(field, f"{where} is a {type(node).__name__}, not a mapping",
                          "an index [i]" if isinstance(node, list) else "a path to an existing mapping")
    if tok in node:
        return node[tok]
    if create:
        return None if last else node.setdefault(tok, {})
    keys = ", ".join(sorted(map(str, node))) or "(none)"
    raise ConfigError(field, f"no key {tok!r} in {where}", f"one of: {keys} (or +PATH=VALUE to add a key)")


def get_path(data: Any, tokens: list[Token], field: str = "path") -> Any:
    """The value at ``tokens`` in ``data``; a missing key or index is one :class:`ConfigError`.

    >>> get_path({"a": [{"b": 3}]}, ["a", 0, "b"])
    3
    """
    node = data
    for i, tok in enumerate(tokens):
        node = _step(node, tok, tokens[:i], field, False, i == len(tokens) - 1)
    return node


def set_path(data: Any, tokens: list[Token], value: Any, *, field: str = "path", create: bool = False) -> None:
    """Set the field at ``tokens`` in ``data`` (in place).  With ``create``, missing mapping keys are
    made on the way and ``[len]`` appends to a list; otherwise a missing key or index is an error.

    >>> d = {"a": [1, 2]}
    >>> set_path(d, ["a", 1], 5); set_path(d, ["b", "c"], 0, create=True); d
    {'a': [1, 5], 'b': {'c': 0}}
    >>> set_path(d, ["a", 2], 5, field="--set a[2]")
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: --set a[2]: no index [2] in a (it has 2 items); expected an index in [0, 1]
    """
    parent = data
    for i, tok in enumerate(tokens[:-1]):
        parent = _step(parent, tok, tokens[:i], field, create, False)
    last = tokens[-1]
    _step(parent, last, tokens[:-1], field, create, True)  # checks the container and the key/index
    if isinstance(last, int) and last == len(parent):
        parent.append(value)
    else:
        parent[last] = value


def parse_assignment(text: str, field: str = "--set") -> tuple[list[Token], bool, Any]:
    """``"[+]PATH=VALUE"`` -> (path tokens, create, value); VALUE is a YAML scalar or flow collection
    read with the bounded loader (:func:`rewardkit.core.safe_load.parse_document`).

    >>> parse_assignment("budget.steps=20000")
    (['budget', 'steps'], False, 20000)
    >>> parse_assignment("+learner.params={gamma: 0.9}")
    (['learner', 'params'], True, {'gamma': 0.9})
    """
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(field, f"got {text!r}", "PATH=VALUE, e.g. budget.steps=20000")
    path, _, raw = text.partition("=")
    path = path.strip()
    create = path.startswith("+")
    if create:
        path = path[1:]
    f = f"{field} {path}"
    tokens = parse_path(path, f)
    value = parse_document(raw.strip(), "yaml", field=f)
    return tokens, create, value


def apply_overrides(data: Mapping[str, Any], assignments: Iterable[str], field: str = "--set") -> dict[str, Any]:
    """A deep copy of ``data`` with every ``[+]PATH=VALUE`` of ``assignments`` applied in order."""
    out = copy.deepcopy(dict(data))
    for text in assignments:
        tokens, create, value = parse_assignment(text, field)
        set_path(out, tokens, value, field=f"{field} {_fmt(tokens)}", create=create)
    return out


def _value_text(v: Any) -> str:
    """A value as it appears in a generated variant name (``0.1``, ``true``, ``count``)."""
    if isinstance(v, bool) or v is None:
        text = json.dumps(v)
    elif isinstance(v, (int, float, str)):
        text = str(v)
    else:
        text = json.dumps(v, sort_keys=True, separators=(",", ":"))
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _grid(grid: Any, f: str) -> list[tuple[str, list[Token], bool, list[Any]]]:
    """Validated grid entries: (path as written, tokens, create, values)."""
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigError(f, "missing or empty" if not grid else f"is a {type(grid).__name__}",
                          "a mapping path -> list of values, e.g. {reward.terms[1].scale: [0.1, 1.0]}")
    out = []
    size = 1
    for path, values in grid.items():
        pf = f"{f}.{path}"
        p = str(path)
        create = p.startswith("+")
        tokens = parse_path(p[1:] if create else p, pf)
        if not isinstance(values, list) or not values:
            raise ConfigError(pf, f"got {values!r}"[:80], "a non-empty list of values")
        size *= len(values)
        if size > MAX_SWEEP_VARIANTS:
            raise ConfigError(f, f"more than {MAX_SWEEP_VARIANTS} combinations", "a smaller grid")
        out.append((p, tokens, create, values))
    return out


def _labels(entries: list[tuple[str, list[Token], bool, list[Any]]]) -> list[str]:
    """Each grid path's label: its last key, or the whole path (indices as digits) when the last keys clash."""
    last = [next((t for t in reversed(toks) if isinstance(t, str)), _fmt(toks)) for _, toks, _, _ in entries]
    return [lab if last.count(lab) == 1 else re.sub(r"[^A-Za-z0-9_.-]", "", _fmt(toks).replace("[", "."))
            for lab, (_, toks, _, _) in zip(last, entries, strict=True)]


def _expand_one(variants: dict[str, Any], entry: Any, f: str) -> dict[str, Any]:
    """``variants`` with the variant named by one sweep entry replaced by its grid."""
    from .spec import _NAME_HINT, _NAME_RE

    if not isinstance(entry, Mapping):
        raise ConfigError(f, f"is a {type(entry).__name__}", "a mapping {variant: NAME, grid: {PATH: [values]}}")
    for k in entry:
        if k not in _SWEEP_KEYS:
            raise ConfigError(f"{f}.{k}", "unknown key", f"one of: {', '.join(sorted(_SWEEP_KEYS))}")
    base = entry.get("variant")
    if not isinstance(base, str) or base not in variants:
        raise ConfigError(f"{f}.variant", "missing" if base is None else f"unknown variant {base!r}",
                          "one of: " + ", ".join(map(str, variants)))
    keep = entry.get("keep", False)
    if not isinstance(keep, bool):
        raise ConfigError(f"{f}.keep", f"got {keep!r}", "true or false")
    entries = _grid(entry.get("grid"), f"{f}.grid")
    labels = _labels(entries)
    made: dict[str, Any] = {}
    for combo in itertools.product(*(values for _, _, _, values in entries)):
        body = copy.deepcopy(variants[base])
        parts = []
        for (text, tokens, create, _), label, v in zip(entries, labels, combo, strict=True):
            if isinstance(v, float) and not math.isfinite(v):
                raise ConfigError(f"{f}.grid.{text}", f"got {v}", "finite numbers")
            set_path(body, tokens, copy.deepcopy(v), field=f"{f}.grid.{text}", create=create)
            parts.append((_fmt(tokens), label, v))
        name = ".".join([base] + [f"{label}-{_value_text(v)}" for _, label, v in parts])
        if not _NAME_RE.match(name):
            raise ConfigError(f"{f}.grid", f"generated variant name {name[:60]!r} is not valid", _NAME_HINT)
        if name in made or (name in variants and name != base):
            raise ConfigError(f"{f}.grid", f"generated variant name {name!r} is not unique",
                              "distinct values (and no existing variant of that name)")
        if isinstance(body, dict):
            what = ", ".join(f"{text}={json.dumps(v)}" for text, _, v in parts)
            desc = body.get("description")
            body["description"] = f"{desc}; {what}" if isinstance(desc, str) and desc else f"{base} with {what}"
        made[name] = body
    out: dict[str, Any] = {}
    for name, body in variants.items():
        if name == base:
            if keep:
                out[name] = body
            out.update(made)
        else:
            out[name] = body
    return out


def expand_sweep(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with its ``sweep:`` section (one entry or a list) expanded into ``variants`` and removed.

    A mapping without ``sweep`` is returned as a shallow copy.  Errors name ``sweep.*``
    (``sweep[i].*`` in a list); the generated variants are then validated like any other.
    """
    out = dict(data)
    sweep = out.pop("sweep", None)
    if sweep is None:
        return out
    entries = sweep if isinstance(sweep, list) else [sweep]
    if not entries:
        raise ConfigError("sweep", "is an empty list", "a sweep entry or a non-empty list of entries")
    variants = out.get("variants")
    if not isinstance(variants, Mapping) or not variants:
        raise ConfigError("variants", "missing or empty", "the variants a sweep expands")
    v = dict(variants)
    for i, entry in enumerate(entries):
        v = _expand_one(v, entry, f"sweep[{i}]" if isinstance(sweep, list) else "sweep")
    out["variants"] = v
    return out
