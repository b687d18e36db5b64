"""A JSON Schema of experiment files, generated from the registries (``rewardkit schema --kind experiment``).

Built on :func:`rewardkit.core.schema.reward_defs` (every variant's ``reward`` is the reward schema),
plus the experiment's own sections with the key sets :func:`~rewardkit.runner.spec.parse_spec`
checks: ``env`` (``id`` suggests the registered env factories and every id in the Gymnasium
registry, any string is allowed; ``wrappers`` are the named observation wrappers), ``learner``
(``type`` is ``ppo``, ``q_learning`` or a registered learner; the built-in learners' ``params`` are
typed from :data:`~rewardkit.runner.spec.PPO_PARAMS` and :data:`~rewardkit.runner.spec.QLEARNING_PARAMS`),
``budget``, ``eval``, ``success``, ``seeds``, ``parallel``, ``variants``, ``sweep``, ``plugins``,
``tracking`` and ``description``.  Terms, envs and learners a plugin registers appear once the
plugin is imported (``rewardkit schema --plugin my_project.rewards``).

Point an editor at the file with a first line ``# yaml-language-server: $schema=experiment.schema.json``
(the YAML language server, used by VS Code's YAML extension and others).

Example:
    >>> s = experiment_schema()
    >>> sorted(s["properties"]) == sorted(TOP_KEYS)
    True
"""

from __future__ import annotations

from typing import Any

from rewardkit.core.registry import ENVS, LEARNERS
from rewardkit.core.schema import DRAFT, reward_defs

from .spec import _NAME_RE, _TOP_KEYS, MAX_PARALLEL, MAX_SEED, MAX_SEEDS, PPO_PARAMS, \
    QLEARNING_PARAMS, TIE_BREAKS

__all__ = ["KINDS", "TOP_KEYS", "experiment_schema", "schema"]

#: every top-level key of an experiment file
TOP_KEYS = frozenset(_TOP_KEYS)
#: what ``rewardkit schema --kind`` accepts
KINDS = ("reward", "experiment")

_JSON_TYPES = {float: "number", int: "integer", bool: "boolean", str: "string", dict: "object"}


def _typed(params: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for k, t in params.items():
        props[k] = {"type": _JSON_TYPES.get(t, "object")}
    if "tie_break" in props:
        props["tie_break"] = {"enum": list(TIE_BREAKS)}
    if "policy_kwargs" in props:
        props["policy_kwargs"] = {"type": "object", "properties": {"net_arch": {"type": "array", "items": {
            "type": "integer", "minimum": 1}}}, "additionalProperties": False}
    for k in ("clip_range_vf", "target_kl"):
        if k in props:
            props[k] = {"type": ["number", "null"]}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _env_ids() -> list[str]:
    ids = list(ENVS.names())
    try:
        import gymnasium as gym

        ids += sorted(k for k in gym.registry if k not in ids)
    except ImportError:  # pragma: no cover - gymnasium is a runner dependency
        pass
    return ids


def _learner() -> dict[str, Any]:
    q = _typed(dict(QLEARNING_PARAMS))
    q["required"] = ["tie_break"]
    custom = {n: e for n, e in LEARNERS.entries().items() if n not in ("ppo", "q_learning")}
    branches: list[dict[str, Any]] = [
        {"if": {"properties": {"type": {"const": "ppo"}}}, "then": {"properties": {"params": _typed(dict(PPO_PARAMS))}}},
        {"if": {"properties": {"type": {"const": "q_learning"}}},
         "then": {"properties": {"params": q}, "required": ["params"]}}]
    for n in custom:
        branches.append({"if": {"properties": {"type": {"const": n}}}, "then": {"properties": {
            "n_envs": False, "policy": False}}})
    obj = {"type": "object", "required": ["type"], "additionalProperties": False,
           "properties": {"type": {"enum": ["ppo", "q_learning", *custom]},
                          "n_envs": {"type": "integer", "minimum": 1, "maximum": 1024},
                          "policy": {"enum": ["MlpPolicy"]}, "params": {"type": ["object", "null"]}},
           "allOf": branches}
    return {"anyOf": [{"enum": ["ppo", "q_learning", *custom]}, obj]}


def _env() -> dict[str, Any]:
    from .envs import WRAPPERS

    wrapper = {"anyOf": [{"enum": sorted(WRAPPERS)}, {
        "type": "object", "required": ["type"], "additionalProperties": False,
        "properties": {"type": {"enum": sorted(WRAPPERS)}, "params": {"type": ["object", "null"]}}}]}
    env_id = {"anyOf": [{"enum": _env_ids()}, {"type": "string", "minLength": 1}],
              "description": "a Gymnasium id or a registered env factory (rewardkit terms)"}
    return {"anyOf": [env_id, {"type": "object", "required": ["id"], "additionalProperties": False, "properties": {
        "id": env_id, "kwargs": {"type": ["object", "null"]}, "wrappers": {"type": ["array", "null"], "items": wrapper},
        "max_episode_steps": {"type": ["integer", "null"], "minimum": 1}}}]}


def _sweep_entry() -> dict[str, Any]:
    return {"type": "object", "required": ["variant", "grid"], "additionalProperties": False, "properties": {
        "variant": {"type": "string"}, "keep": {"type": "boolean"},
        "grid": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "array", "minItems": 1}}}}


def experiment_schema() -> dict[str, Any]:
    """The JSON Schema of an experiment file (see the module docs)."""
    defs = reward_defs()
    count = {"type": "integer", "minimum": 1}
    props: dict[str, Any] = {
        "name": {"type": "string", "pattern": _NAME_RE.pattern},
        "description": {"type": "string"},
        "env": _env(),
        "learner": _learner(),
        "budget": {"anyOf": [count, {"type": "object", "additionalProperties": False, "minProperties": 1,
                                     "maxProperties": 1, "properties": {"steps": count, "episodes": count}}]},
        "eval": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "every": count, "episodes": count, "deterministic": {"type": "boolean"}}},
        "success": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, "return_above": {"type": "number"}}},
        "seeds": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_SEEDS},
                            {"type": "array", "minItems": 1, "maxItems": MAX_SEEDS, "uniqueItems": True,
                             "items": {"type": "integer", "minimum": 0, "maximum": MAX_SEED}},
                            {"type": "string"}]},
        "parallel": {"type": "integer", "minimum": 1, "maximum": MAX_PARALLEL},
        "variants": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": _NAME_RE.pattern},
                     "additionalProperties": {"type": "object", "required": ["reward"], "additionalProperties": False,
                                              "properties": {"reward": {"$ref": "#/$defs/reward"},
                                                             "description": {"type": "string"}}}},
        "plugins": {"type": "array", "items": {"type": "string"}},
        "sweep": {"anyOf": [_sweep_entry(), {"type": "array", "minItems": 1, "items": _sweep_entry()}]},
        "tracking": {"type": "object", "additionalProperties": False, "properties": {"mlflow": {"anyOf": [
            {"type": "boolean"},
            {"type": "object", "additionalProperties": False, "properties": {
                "uri": {"type": "string", "description": "MLflow tracking URI (default: sqlite:///<out>/mlflow.db)"},
                "experiment": {"type": "string", "description": "MLflow experiment name (default: the experiment's)"}
            }}]}}},
    }
    return {"$schema": DRAFT, "$id": "https://rewardkit.dev/schema/experiment.json",
            "title": "rewardkit experiment", "type": "object", "required": ["env", "learner", "budget", "variants"],
            "additionalProperties": False, "properties": props, "$defs": defs}


def schema(kind: str = "experiment") -> dict[str, Any]:
    """The schema of ``kind`` (``"reward"`` or ``"experiment"``).

    >>> schema("reward")["title"]
    'rewardkit reward config'
    """
    if kind == "reward":
        from rewardkit.core.schema import reward_schema

        return reward_schema()
    if kind == "experiment":
        return experiment_schema()
    from rewardkit.core import ConfigError

    raise ConfigError("--kind", f"got {kind!r}", "one of: " + ", ".join(KINDS))
