"""Declarative reward configs (YAML or TOML) -> :class:`ComposedReward`.

No ``eval``/``exec``: a config can only name registered term types and pass them
plain data.  Every problem is reported as one line naming the field path and the
expected form, *before* any training starts.

Schema (YAML shown; TOML is the same tree)::

    reward:
      name: total            # optional, default "reward"
      clip: [-10, 10]        # optional clip of the total
      terms:
        - type: env_reward   # a registered term type (see `rewardkit terms`)
          name: task         # optional, default = type; must be unique
          weight: 1.0        # optional, default 1.0; or a schedule, e.g.
                             #   {schedule: linear, start: 1.0, end: 0.0, steps: 10000}
          params: {}         # keyword arguments of the term's factory
          scale: 1.0         # optional multiplier applied before the weight (or a schedule)
          clip: [-1, 1]      # optional per-term clip
          normalize:         # optional running normalisation (or `true`)
            statistic: return   # "reward" | "return"
            gamma: 0.99
            center: false
            clip: 5.0
          gate: {on: task, threshold: 1.0}   # count only where term `task` >= 1

Example:
    >>> from rewardkit.core import build_reward
    >>> r = build_reward({"terms": [{"type": "constant", "name": "alive", "params": {"value": 0.1}}]})
    >>> r.weights
    {'alive': 1.0}
"""

from __future__ import annotations

import inspect
import os
from typing import Any
from collections.abc import Mapping

from .checks import bound, finite
from .compose import Clip, Component, ComposedReward, Normalized, Scale, Scheduled
from .errors import ConfigError
from .registry import get_factory, load_plugins
from .safe_load import read_document
from .schedules import from_config
from .term import RewardTerm

__all__ = ["build_reward", "build_reward_document", "load_config", "load_reward", "load_reward_from_env",
           "read_mapping"]

_TERM_KEYS = {"type", "name", "weight", "params", "scale", "clip", "normalize", "gate"}
_REWARD_KEYS = {"name", "clip", "terms"}
_NORM_KEYS = {"statistic", "gamma", "center", "clip", "frozen"}
_INT_LIMIT = 2**63 - 1  # integer parameters must fit a signed 64-bit integer (numpy, torch, SQLite)


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML (``.yaml``/``.yml``), TOML (``.toml``) or JSON file into a dict.

    Parsing is bounded (size, nesting depth, expanded YAML aliases; see
    :mod:`rewardkit.core.safe_load`), and every failure - missing file, directory,
    permission, encoding, syntax, budget - is one :class:`ConfigError` line naming the path.
    """
    data = read_document(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), f"top level is a {type(data).__name__}", "a mapping")
    return data


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a config file (YAML/TOML/JSON) and return its mapping."""
    return read_mapping(path)


def load_reward(path: str | os.PathLike[str]) -> ComposedReward:
    """Read a config file and build its reward (:func:`build_reward_document`)."""
    return build_reward_document(read_mapping(path))


def build_reward_document(data: Mapping[str, Any]) -> ComposedReward:
    """The reward of a whole config document: its ``reward:`` section (or the document itself).

    A top-level ``plugins:`` list names modules imported first
    (:func:`~rewardkit.core.registry.load_plugins`), so a reward can use term types that
    your own code registers, e.g. plain functions decorated with
    ``@rewardkit.term(register=True)``; every process that loads the file registers them.

    Example:
        >>> build_reward_document({"plugins": ["rewardkit.core.builtin"],
        ...                        "reward": {"terms": [{"type": "constant", "params": {"value": 1.0}}]}}).weights
        {'constant': 1.0}
    """
    if not isinstance(data, Mapping):
        raise ConfigError("config", f"is a {type(data).__name__}", "a mapping")
    has_section = "reward" in data
    load_plugins(data.get("plugins"), "plugins")
    body = data["reward"] if has_section else {k: v for k, v in data.items() if k != "plugins"}
    return build_reward(body, field="reward" if has_section else "")


def load_reward_from_env(var: str = "REWARDKIT_CONFIG") -> ComposedReward:
    """Build the reward named by the environment variable ``var`` (used by framework entry points)."""
    path = os.environ.get(var)
    if not path:
        raise ConfigError(var, "environment variable not set", "the path of a rewardkit reward config (YAML/TOML/JSON)")
    return load_reward(path)


def build_reward(spec: Mapping[str, Any], field: str = "reward") -> ComposedReward:
    """Build a :class:`ComposedReward` from a parsed config mapping (see module docs)."""
    f = field or "reward"
    if not isinstance(spec, Mapping):
        raise ConfigError(f, f"is a {type(spec).__name__}", "a mapping with a 'terms' list")
    _no_unknown(spec, _REWARD_KEYS, f)
    terms = spec.get("terms")
    if not isinstance(terms, list) or not terms:
        raise ConfigError(f"{f}.terms", "missing or empty" if not terms else f"is a {type(terms).__name__}",
                          "a non-empty list of term mappings")
    comps: list[Component] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(terms):
        comps.append(_build_component(t, f"{f}.terms[{i}]"))
        nm = comps[-1].term.name
        if nm in seen:
            raise ConfigError(f"{f}.terms[{i}].name", f"duplicate name {nm!r} (also terms[{seen[nm]}])",
                              "unique term names")
        seen[nm] = i
    for i, c in enumerate(comps):
        if c.gate_on is not None and c.gate_on not in seen:
            raise ConfigError(f"{f}.terms[{i}].gate.on", f"unknown term {c.gate_on!r}",
                              f"one of {sorted(seen)}")
        if c.gate_on == c.term.name:
            raise ConfigError(f"{f}.terms[{i}].gate.on", "a term cannot gate itself", "another term's name")
    name = spec.get("name", "reward")
    if not isinstance(name, str):
        raise ConfigError(f"{f}.name", f"got {name!r}", "a string")
    clip = _clip(spec.get("clip"), f"{f}.clip")
    try:
        return ComposedReward(comps, name=name, clip=clip)
    except ValueError as e:
        raise ConfigError(f"{f}.terms", str(e)) from None


def _build_component(t: Any, f: str) -> Component:
    if not isinstance(t, Mapping):
        raise ConfigError(f, f"is a {type(t).__name__}", "a mapping with at least 'type'")
    _no_unknown(t, _TERM_KEYS, f)
    term = _make_term(t, f)
    w = t.get("weight", 1.0)
    weight = from_config(w, f"{f}.weight") if isinstance(w, Mapping) else _number(w, f"{f}.weight")
    term = _wrap_term(term, t, f)
    gate_on, thr = _gate(t.get("gate"), f"{f}.gate")
    return Component(term, weight, gate_on, thr)


def _make_term(t: Mapping[str, Any], f: str) -> RewardTerm:
    """The bare term of one ``terms[i]`` entry: its registered factory called with the checked ``params``."""
    typ = t.get("type")
    if not isinstance(typ, str) or not typ:
        raise ConfigError(f"{f}.type", "missing" if typ is None else f"got {typ!r}", "a registered term type name")
    spec = get_factory(typ, field=f"{f}.type")
    params = t.get("params", {}) or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{f}.params", f"is a {type(params).__name__}", "a mapping of keyword arguments")
    _check_params(spec.factory, spec.parameters(), params, f"{f}.params")
    name = t.get("name", typ)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{f}.name", f"got {name!r}", "a non-empty string")
    kwargs = dict(params)
    if "name" in inspect.signature(spec.factory).parameters:
        kwargs["name"] = name
    try:
        term = spec.factory(**kwargs)
    except ConfigError as e:  # a factory's own error names its parameter: prefix the config path
        field = e.field if e.field.startswith(f"{f}.") else f"{f}.params.{e.field}"
        raise ConfigError(field, e.problem, e.expected) from None
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise ConfigError(f"{f}.params", " ".join(str(e).split())) from None
    if not isinstance(term, RewardTerm):
        raise ConfigError(f"{f}.type", f"factory {typ!r} returned {type(term).__name__}", "a RewardTerm")
    term.name = name
    return term


def _wrap_term(term: RewardTerm, t: Mapping[str, Any], f: str) -> RewardTerm:
    """``scale`` (number or schedule), then ``clip``, then ``normalize`` around ``term``, all keeping its name."""
    name = term.name
    if isinstance(t.get("scale"), Mapping):
        term = Scheduled(term, from_config(t["scale"], f"{f}.scale"), name=name)
    elif "scale" in t:
        term = Scale(term, _number(t["scale"], f"{f}.scale"), name=name)
    bounds = _clip(t.get("clip"), f"{f}.clip")
    if bounds is not None:
        term = Clip(term, *bounds, name=name)
    norm = t.get("normalize")
    if norm:
        term = _normalized(term, {} if norm is True else norm, f"{f}.normalize")
    return term


def _normalized(term: RewardTerm, norm: Any, f: str) -> Normalized:
    """``term`` under a running normaliser configured by the ``normalize`` mapping at field ``f``."""
    if not isinstance(norm, Mapping):
        raise ConfigError(f, f"got {norm!r}", "true or a mapping with statistic/gamma/center/clip")
    _no_unknown(norm, _NORM_KEYS, f)
    stat = norm.get("statistic", "reward")
    if stat not in ("reward", "return"):
        raise ConfigError(f"{f}.statistic", f"got {stat!r}", "'reward' or 'return'")
    gamma = _number(norm.get("gamma", 0.99), f"{f}.gamma")
    if not 0 <= gamma <= 1:
        raise ConfigError(f"{f}.gamma", f"got {gamma}", "a number in [0, 1]")
    nclip = norm.get("clip")
    return Normalized(term, statistic=stat, gamma=gamma, center=_bool(norm.get("center", False), f"{f}.center"),
                      clip=None if nclip is None else _number(nclip, f"{f}.clip"),
                      frozen=_bool(norm.get("frozen", False), f"{f}.frozen"), name=term.name)


def _gate(gate: Any, f: str) -> tuple[str | None, float]:
    """``(on, threshold)`` of a ``gate`` mapping at field ``f``; ``(None, 0.5)`` without a gate."""
    if isinstance(gate, Mapping) and True in gate and "on" not in gate:
        # YAML 1.1 reads a bare `on:` key as the boolean True; accept it as "on"
        gate = {("on" if k is True else k): v for k, v in gate.items()}
    if gate is None:
        return None, 0.5
    if not isinstance(gate, Mapping) or "on" not in gate:
        raise ConfigError(f, f"got {gate!r}", "a mapping {on: <term name>, threshold: <number>}")
    _no_unknown(gate, {"on", "threshold"}, f)
    gate_on = gate["on"]
    if not isinstance(gate_on, str):
        raise ConfigError(f"{f}.on", f"got {gate_on!r}", "a term name")
    return gate_on, _number(gate.get("threshold", 0.5), f"{f}.threshold")


def _check_params(factory: Any, params: dict[str, inspect.Parameter], given: Mapping[str, Any], f: str) -> None:
    accepts_kwargs = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values())
    for k, v in given.items():
        if k not in params:
            if accepts_kwargs:
                continue
            raise ConfigError(f"{f}.{k}", "unknown parameter", f"one of: {', '.join(params) or 'no parameters'}")
        d = params[k].default
        if d is inspect.Parameter.empty or d is None:
            continue
        if isinstance(d, bool):
            if not isinstance(v, bool):
                raise ConfigError(f"{f}.{k}", f"got {v!r}", "true or false")
        elif isinstance(d, (int, float)):
            _param_number(v, f"{f}.{k}")
        elif isinstance(d, str) and not isinstance(v, str):
            raise ConfigError(f"{f}.{k}", f"got {v!r}", "a string")
    for k, p in params.items():
        if p.default is inspect.Parameter.empty and k not in given:
            raise ConfigError(f"{f}.{k}", "missing required parameter", "a value")


def _param_number(v: Any, f: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f, f"got {v!r}", "a number")
    if isinstance(v, int) and not -_INT_LIMIT <= v <= _INT_LIMIT:
        raise ConfigError(f, f"integer with {len(str(abs(v)))} digits is out of range",
                          "an integer of at most 2**63 - 1 in absolute value")


def _no_unknown(m: Mapping[str, Any], allowed: set[str], f: str) -> None:
    for k in m:
        if k not in allowed:
            raise ConfigError(f"{f}.{k}" if f else str(k), "unknown key", f"one of: {', '.join(sorted(allowed))}")


def _number(v: Any, f: str) -> float:
    return finite(v, f)


def _bool(v: Any, f: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f, f"got {v!r}", "true or false")
    return v


def _clip(v: Any, f: str) -> tuple[float, float] | None:
    if v is None:
        return None
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ConfigError(f, f"got {v!r}", "a pair [low, high]")
    lo, hi = bound(v[0], f + "[0]", "low"), bound(v[1], f + "[1]", "high")
    if lo > hi:
        raise ConfigError(f, f"low {lo} > high {hi}", "low <= high")
    return lo, hi
