"""Experiment specs: one YAML/TOML file describing env x reward variants x seeds.

The whole spec is validated before anything runs; every problem is one
:class:`~rewardkit.core.errors.ConfigError` line naming the field path and the
expected form (``rewardkit run`` prints it and exits with code 2).

Schema (YAML; TOML is the same tree)::

    name: doorkey                  # used for the default output dir and the report title
    env:
      id: MiniGrid-DoorKey-5x5-v0  # a gymnasium id or a name registered with register_env()
      kwargs: {}                   # keyword arguments of gymnasium.make / the factory
      wrappers: [full_grid]        # observation wrappers applied in order (see WRAPPERS)
      max_episode_steps: null      # optional time limit override
    learner:
      type: ppo                    # ppo (SB3 PPO) | q_learning (tabular) | a name from register_learner()
      n_envs: 8                    # ppo: parallel envs in one DummyVecEnv
      params: {n_steps: 128}       # ppo: PPO keyword arguments; q_learning: alpha/gamma/epsilon/tie_break
    budget: {steps: 100000}        # or {episodes: 500} (q_learning only)
    eval:
      every: 10000                 # in budget units (steps or episodes)
      episodes: 20                 # evaluation episodes per point, fixed seeds
      deterministic: true          # greedy policy during evaluation
    success:
      threshold: 0.9               # eval success rate at which a run has "reached" the task
      return_above: 0.0            # an eval episode succeeds if its env return > this
    seeds: [0, 1, 2]               # or an int n meaning [0, ..., n-1]
    parallel: 2                    # worker processes
    variants:                      # name -> reward section (rewardkit.core.build_reward schema)
      sparse: {reward: {terms: [{type: env_reward}]}}
    plugins: [my_project.rewards]  # optional: modules that register terms/envs/learners (imported by
                                   # the driver and by every spawn worker before a name is looked up)
    sweep:                         # optional: expand a variant into a grid (see rewardkit.runner.overrides)
      variant: sparse
      grid: {reward.terms[0].weight: [0.5, 1.0]}   # -> variants sparse.weight-0.5, sparse.weight-1.0
    tracking:                      # optional: also log every run to MLflow (see rewardkit.runner.tracking)
      mlflow: {uri: "sqlite:///mlflow.db", experiment: doorkey}   # or `mlflow: true` for the defaults

Example:
    >>> spec = parse_spec({"env": {"id": "CartPole-v1"}, "learner": {"type": "ppo"},
    ...     "budget": {"steps": 2048}, "eval": {"every": 1024, "episodes": 2},
    ...     "variants": {"env": {"reward": {"terms": [{"type": "env_reward"}]}}}})
    >>> spec.seeds, spec.budget_unit, [r.variant for r in spec.runs()]
    ([0], 'steps', ['env'])
    >>> parse_spec({"env": {"id": "CartPole-v1"}, "learner": {"type": "ppo", "params": {"n_step": 8}},
    ...     "budget": {"steps": 10}, "variants": {}})
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: learner.params.n_step: unknown parameter; expected one of: ...
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core import ConfigError, build_reward, get_factory, read_mapping
from rewardkit.core.registry import load_plugins

from .overrides import apply_overrides, expand_sweep

__all__ = ["MAX_INT", "MAX_PARALLEL", "MAX_SEED", "MAX_SEEDS", "PPO_PARAMS", "QLEARNING_PARAMS", "SCHEMA_VERSION",
           "ExperimentSpec", "RunSpec", "canonical_hash", "check_seeds", "load_spec", "parse_spec"]

#: bumped when the meaning of a stored run changes, so old results are not reused
SCHEMA_VERSION = 1

_TOP_KEYS = {"name", "env", "learner", "budget", "eval", "success", "seeds", "parallel", "variants", "description",
             "plugins", "sweep", "tracking"}
_ENV_KEYS = {"id", "kwargs", "wrappers", "max_episode_steps"}
_LEARNER_KEYS = {"type", "n_envs", "params", "policy"}
_EVAL_KEYS = {"every", "episodes", "deterministic"}
_SUCCESS_KEYS = {"threshold", "return_above"}
_VARIANT_KEYS = {"reward", "description"}

#: PPO keyword arguments a spec may set (numbers/bools, plus policy_kwargs.net_arch)
PPO_PARAMS: dict[str, type | tuple[type, ...]] = {
    "learning_rate": float, "n_steps": int, "batch_size": int, "n_epochs": int, "gamma": float,
    "gae_lambda": float, "clip_range": float, "clip_range_vf": float, "normalize_advantage": bool,
    "ent_coef": float, "vf_coef": float, "max_grad_norm": float, "target_kl": float, "policy_kwargs": dict,
}
#: tabular Q-learning parameters (tie_break must be explicit: argmax ties decide early behaviour)
QLEARNING_PARAMS: dict[str, type | tuple[type, ...]] = {
    "alpha": float, "gamma": float, "epsilon": float, "tie_break": str, "q_init": float,
}
TIE_BREAKS = ("random", "first")
#: experiment and variant names become folder names: no separators, no leading dot ("..", ".hidden")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_NAME_HINT = "1-100 letters, digits, '_', '-', '.', not starting with '.'"
#: the largest seed (NumPy's seed range) and the most seeds an experiment may have
MAX_SEED = 2**32 - 1
MAX_SEEDS = 10_000
#: the most worker processes
MAX_PARALLEL = 256
#: the largest integer any other field takes (exact as a float; fits SQLite's INTEGER)
MAX_INT = 2**53
#: the largest PPO integer (n_steps, batch_size, ...) and PPO n_envs
_MAX_PPO_INT = 2**31 - 1
_MAX_N_ENVS = 1024


@dataclass(frozen=True)
class RunSpec:
    """One run: (env, learner, budget, eval) x one reward variant x one seed.

    ``config`` is the canonical run config and ``key`` its hash: results are stored
    under ``key``, so an identical run (in any experiment) is never computed twice.
    ``seed_index`` is the position of ``seed`` in the experiment's seed list.
    """

    variant: str
    seed: int
    seed_index: int
    config: dict[str, Any]
    key: str

    @property
    def label(self) -> str:
        return f"{self.variant}/seed{self.seed}"


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment (see the module docstring for the schema).

    Frozen: derive a changed copy with :meth:`with_overrides`.
    """

    name: str
    env: dict[str, Any]
    learner: dict[str, Any]
    budget: int
    budget_unit: str  # "steps" | "episodes"
    eval_every: int
    eval_episodes: int
    eval_deterministic: bool
    success_threshold: float
    success_return_above: float
    seeds: list[int]
    parallel: int
    variants: dict[str, dict[str, Any]]
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    #: optional experiment trackers, e.g. ``{"mlflow": {"uri": None, "experiment": None}}`` (not part of the hash)
    tracking: dict[str, Any] = field(default_factory=dict)

    @property
    def config_hash(self) -> str:
        """Hash of the canonicalised experiment (everything that affects results)."""
        return canonical_hash({"schema": SCHEMA_VERSION, "env": self.env, "learner": self.learner,
                               "budget": {self.budget_unit: self.budget},
                               "eval": self._eval_config(), "seeds": self.seeds,
                               "variants": {k: v["reward"] for k, v in self.variants.items()}})

    def _eval_config(self) -> dict[str, Any]:
        return {"every": self.eval_every, "episodes": self.eval_episodes, "deterministic": self.eval_deterministic,
                "return_above": self.success_return_above}

    def run_config(self, variant: str, seed: int) -> dict[str, Any]:
        """The canonical config of one run; its hash is the run key.

        Report-only fields (name, success threshold, parallelism, descriptions)
        are left out, so changing them re-reports without re-running.
        """
        cfg = {"schema": SCHEMA_VERSION, "env": self.env, "learner": self.learner,
               "budget": {self.budget_unit: self.budget}, "eval": self._eval_config(),
               "variant": variant, "reward": self.variants[variant]["reward"], "seed": seed}
        if self.plugins:  # only when used, so the run keys of plugin-free experiments stay as they were
            cfg["plugins"] = list(self.plugins)
        return cfg

    def runs(self) -> list[RunSpec]:
        """All runs, seed-major (seed 0 of every variant first) so early results are comparable."""
        out = []
        for i, s in enumerate(self.seeds):
            for v in self.variants:
                cfg = self.run_config(v, s)
                out.append(RunSpec(v, s, i, cfg, canonical_hash(cfg)))
        return out

    def with_overrides(self, *, seeds: list[int] | None = None, budget: int | None = None,
                       eval_every: int | None = None, eval_episodes: int | None = None,
                       parallel: int | None = None, name: str | None = None) -> ExperimentSpec:
        """A copy with some fields replaced (used by ``--seeds``, ``--parallel`` and ``--quick``)."""
        ch: dict[str, Any] = {}
        if seeds is not None:
            ch["seeds"] = check_seeds(seeds, "seeds")
        if budget is not None:
            ch["budget"] = _int(budget, "budget", 1)
        if eval_every is not None:
            ch["eval_every"] = _int(eval_every, "eval.every", 1)
        if eval_episodes is not None:
            ch["eval_episodes"] = _int(eval_episodes, "eval.episodes", 1)
        if parallel is not None:
            ch["parallel"] = _int(parallel, "parallel", 1, MAX_PARALLEL)
        if name is not None:
            ch["name"] = _name(name, "name")
        s = replace(copy.deepcopy(self), **ch)
        if s.eval_every > s.budget:
            s = replace(s, eval_every=s.budget)
        # keep the spec shown in reports in step with what runs
        s.raw.update(name=s.name, seeds=s.seeds, parallel=s.parallel, budget={s.budget_unit: s.budget},
                     eval={"every": s.eval_every, "episodes": s.eval_episodes, "deterministic": s.eval_deterministic})
        return s


def canonical_hash(obj: Any) -> str:
    """16 hex digits of SHA-256 over canonical JSON (sorted keys, no whitespace).

    >>> canonical_hash({"b": 1, "a": [1.0, 2]}) == canonical_hash({"a": [1.0, 2], "b": 1})
    True
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_spec(path: str | os.PathLike, *, check_env: bool = True, overrides: Sequence[str] = ()) -> ExperimentSpec:
    """Read and validate an experiment file (YAML/TOML/JSON).

    ``overrides`` are ``[+]PATH=VALUE`` strings (``rewardkit run --set``) applied to the raw
    mapping first (see :mod:`rewardkit.runner.overrides`), so they are validated like the file.
    """
    data = read_mapping(path)
    if "name" not in data:
        data = dict(data, name=Path(path).stem)
    if overrides:
        data = apply_overrides(data, overrides)
    return parse_spec(data, check_env=check_env)


def parse_spec(data: Mapping[str, Any], *, check_env: bool = False) -> ExperimentSpec:
    """Validate a parsed experiment mapping; raise one :class:`ConfigError` line on the first problem.

    With ``check_env=True`` the env is also built once (id, kwargs, wrappers and
    spaces checked against the learner), still before anything trains.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("experiment", f"is a {type(data).__name__}", "a mapping")
    _no_unknown(data, _TOP_KEYS, "")
    data = expand_sweep(data)  # `sweep:` -> more variants, validated below like the written ones
    for req in ("env", "learner", "budget", "variants"):
        if req not in data:
            raise ConfigError(req, "missing", "a section '" + req + "'")
    plugins = load_plugins(data.get("plugins"), "plugins")  # before any registered name is looked up
    name = _name(data.get("name", "experiment"), "name")
    env = _env(data["env"])
    learner = _learner(data["learner"])
    budget_unit, budget = _budget(data["budget"], learner["type"])
    ev = data.get("eval", {}) or {}
    if not isinstance(ev, Mapping):
        raise ConfigError("eval", f"is a {type(ev).__name__}", "a mapping with every/episodes/deterministic")
    _no_unknown(ev, _EVAL_KEYS, "eval")
    every = _int(ev.get("every", max(1, budget // 10)), "eval.every", 1)
    if every > budget:
        raise ConfigError("eval.every", f"{every} is larger than the budget {budget}", f"at most {budget}")
    episodes = _int(ev.get("episodes", 10), "eval.episodes", 1, MAX_INT)
    det = ev.get("deterministic", True)
    if not isinstance(det, bool):
        raise ConfigError("eval.deterministic", f"got {det!r}", "true or false")
    su = data.get("success", {}) or {}
    if not isinstance(su, Mapping):
        raise ConfigError("success", f"is a {type(su).__name__}", "a mapping with threshold/return_above")
    _no_unknown(su, _SUCCESS_KEYS, "success")
    thr = _float(su.get("threshold", 0.9), "success.threshold")
    if not 0.0 < thr <= 1.0:
        raise ConfigError("success.threshold", f"got {thr}", "a success rate in (0, 1]")
    above = _float(su.get("return_above", 0.0), "success.return_above")
    seeds = check_seeds(data.get("seeds", 1), "seeds")
    parallel = _int(data.get("parallel", 1), "parallel", 1, MAX_PARALLEL)
    variants = _variants(data["variants"])
    _match_shaping_discounts(variants, learner)
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise ConfigError("description", f"got {desc!r}", "a string")
    spec = ExperimentSpec(name, env, learner, budget, budget_unit, every, episodes, det, thr, above, seeds,
                          parallel, variants, desc, raw=json.loads(json.dumps(dict(data), default=str)),
                          plugins=plugins, tracking=_tracking(data.get("tracking")))
    if check_env:
        _check_env(spec)
    return spec


def _check_env(spec: ExperimentSpec) -> None:
    """Build the env once; an env that rejects its kwargs is a ConfigError naming ``env.kwargs``."""
    from .envs import check_env_for_learner

    try:
        check_env_for_learner(spec)
    except ConfigError:
        raise
    except (ValueError, OverflowError, MemoryError) as e:
        raise ConfigError("env.kwargs", f"cannot build the env: {' '.join(str(e).split())}") from None


# --------------------------------------------------------------------------- sections

def _env(e: Any) -> dict[str, Any]:
    if isinstance(e, str):
        e = {"id": e}
    if not isinstance(e, Mapping):
        raise ConfigError("env", f"is a {type(e).__name__}", "a mapping with 'id' (or a gymnasium id string)")
    _no_unknown(e, _ENV_KEYS, "env")
    eid = e.get("id")
    if not isinstance(eid, str) or not eid:
        raise ConfigError("env.id", "missing" if eid is None else f"got {eid!r}",
                          "a gymnasium id (e.g. MiniGrid-DoorKey-5x5-v0) or a registered env factory name")
    kwargs = e.get("kwargs", {}) or {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError("env.kwargs", f"is a {type(kwargs).__name__}", "a mapping of keyword arguments")
    wrappers = e.get("wrappers", []) or []
    if isinstance(wrappers, str):
        wrappers = [wrappers]
    if not isinstance(wrappers, list):
        raise ConfigError("env.wrappers", f"is a {type(wrappers).__name__}", "a list of wrapper names")
    from .envs import WRAPPERS

    norm_wrappers = []
    for i, w in enumerate(wrappers):
        f = f"env.wrappers[{i}]"
        if isinstance(w, str):
            w = {"type": w}
        if not isinstance(w, Mapping) or not isinstance(w.get("type"), str):
            raise ConfigError(f, f"got {w!r}", "a wrapper name or {type: name, params: {...}}")
        _no_unknown(w, {"type", "params"}, f)
        if w["type"] not in WRAPPERS:
            raise ConfigError(f"{f}.type", f"unknown wrapper {w['type']!r}", f"one of: {', '.join(sorted(WRAPPERS))}")
        params = w.get("params", {}) or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"{f}.params", f"is a {type(params).__name__}", "a mapping")
        norm_wrappers.append({"type": w["type"], "params": dict(params)})
    mes = e.get("max_episode_steps")
    if mes is not None:
        mes = _int(mes, "env.max_episode_steps", 1)
    return {"id": eid, "kwargs": _plain(kwargs, "env.kwargs"), "wrappers": norm_wrappers, "max_episode_steps": mes}


def _learner(lr: Any) -> dict[str, Any]:
    if isinstance(lr, str):
        lr = {"type": lr}
    if not isinstance(lr, Mapping):
        raise ConfigError("learner", f"is a {type(lr).__name__}",
                          "a mapping with 'type' (ppo, q_learning or a registered learner)")
    _no_unknown(lr, _LEARNER_KEYS, "learner")
    typ = lr.get("type")
    params = lr.get("params", {}) or {}
    if not isinstance(params, Mapping):
        raise ConfigError("learner.params", f"is a {type(params).__name__}", "a mapping of keyword arguments")
    if typ == "ppo":
        return _ppo_learner(lr, _typed_params(params, PPO_PARAMS))
    if typ == "q_learning":
        return _q_learning_learner(lr, _typed_params(params, QLEARNING_PARAMS))
    return _registered_learner(typ, lr, params)


def _typed_param(k: str, v: Any, t: Any) -> Any:
    """One built-in learner parameter checked against its declared type ``t``."""
    f = f"learner.params.{k}"
    if v is None and k in ("clip_range_vf", "target_kl"):
        return None
    if t is float:
        return _float(v, f)
    if t is int:
        return _int(v, f, 1, _MAX_PPO_INT)
    if t is bool and not isinstance(v, bool):
        raise ConfigError(f, f"got {v!r}", "true or false")
    if t is str and not isinstance(v, str):
        raise ConfigError(f, f"got {v!r}", "a string")
    if k == "policy_kwargs":
        return _policy_kwargs(v, f)
    return v


def _typed_params(params: Mapping[str, Any], allowed: Mapping[str, Any]) -> dict[str, Any]:
    """The ``learner.params`` of a built-in learner, each checked against ``allowed`` (name -> type)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k not in allowed:
            raise ConfigError(f"learner.params.{k}", "unknown parameter", "one of: " + ", ".join(allowed))
        out[k] = _typed_param(k, v, allowed[k])
    return out


def _ppo_learner(lr: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """SB3 PPO: ``n_envs`` and ``policy`` next to the checked params; one rollout must hold a batch."""
    n_envs = _int(lr.get("n_envs", 8), "learner.n_envs", 1, _MAX_N_ENVS)
    policy = lr.get("policy", "MlpPolicy")
    if policy not in ("MlpPolicy",):
        raise ConfigError("learner.policy", f"got {policy!r}", "'MlpPolicy' (flat observations)")
    n_steps = out.get("n_steps", 2048)
    bs = out.get("batch_size", 64)
    if bs > n_steps * n_envs:
        raise ConfigError("learner.params.batch_size", f"{bs} > n_steps*n_envs = {n_steps * n_envs}",
                          "at most one rollout")
    for k in ("gamma", "gae_lambda"):
        if k in out and not 0.0 <= out[k] <= 1.0:
            raise ConfigError(f"learner.params.{k}", f"got {out[k]}", "a number in [0, 1]")
    return {"type": "ppo", "policy": policy, "n_envs": n_envs, "params": out}


def _q_learning_learner(lr: Mapping[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Tabular Q-learning: an explicit ``tie_break``, rates in [0, 1], defaults filled in."""
    for key in ("n_envs", "policy"):
        if key in lr:
            raise ConfigError(f"learner.{key}", "only used by ppo", f"no {key} for q_learning")
    if "tie_break" not in out:
        raise ConfigError("learner.params.tie_break", "missing", f"one of {TIE_BREAKS} (explicit: it decides "
                          "how an all-zero Q table acts)")
    if out["tie_break"] not in TIE_BREAKS:
        raise ConfigError("learner.params.tie_break", f"got {out['tie_break']!r}", f"one of {TIE_BREAKS}")
    for k, lo, hi in (("alpha", 0.0, 1.0), ("gamma", 0.0, 1.0), ("epsilon", 0.0, 1.0)):
        if k in out and not lo <= out[k] <= hi:
            raise ConfigError(f"learner.params.{k}", f"got {out[k]}", f"a number in [{lo}, {hi}]")
    out.setdefault("alpha", 0.1)
    out.setdefault("gamma", 0.99)
    out.setdefault("epsilon", 0.1)
    out.setdefault("q_init", 0.0)
    return {"type": "q_learning", "params": out}


def _registered_learner(typ: Any, lr: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """A learner registered with :func:`rewardkit.runner.learners.register_learner`: its params are plain data."""
    from rewardkit.core.registry import LEARNERS

    if not isinstance(typ, str):
        raise ConfigError("learner.type", "missing" if typ is None else f"got {typ!r}",
                          "one of: " + ", ".join(sorted(LEARNERS.names())))
    LEARNERS.get(typ, "learner.type")  # an unknown name: one line with the close matches
    for key in ("n_envs", "policy"):
        if key in lr:
            raise ConfigError(f"learner.{key}", "only used by ppo", f"no {key} for {typ}")
    return {"type": typ, "params": _plain(dict(params), "learner.params")}


def _policy_kwargs(v: Any, f: str) -> dict[str, Any]:
    if not isinstance(v, Mapping):
        raise ConfigError(f, f"got {v!r}", "a mapping {net_arch: [64, 64]}")
    _no_unknown(v, {"net_arch"}, f)
    arch = v.get("net_arch", [64, 64])
    if not isinstance(arch, list) or not all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= 65536
                                             for x in arch):
        raise ConfigError(f"{f}.net_arch", f"got {_short(arch)}", "a list of layer widths in [1, 65536]")
    return {"net_arch": list(arch)}


def _budget(b: Any, learner: str) -> tuple[str, int]:
    if isinstance(b, int) and not isinstance(b, bool):
        b = {"steps": b}
    if not isinstance(b, Mapping):
        raise ConfigError("budget", f"is a {type(b).__name__}", "a mapping {steps: N} or {episodes: N}")
    _no_unknown(b, {"steps", "episodes"}, "budget")
    if len(b) != 1:
        raise ConfigError("budget", f"has {len(b)} entries", "exactly one of steps or episodes")
    unit, n = next(iter(b.items()))
    n = _int(n, f"budget.{unit}", 1)
    if unit == "episodes" and learner == "ppo":
        raise ConfigError("budget.episodes", "ppo budgets are counted in environment steps", "budget: {steps: N}")
    return unit, n


def _variants(v: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(v, Mapping) or not v:
        raise ConfigError("variants", "missing or empty" if not v else f"is a {type(v).__name__}",
                          "a mapping name -> {reward: {...}}")
    out = {}
    for name, body in v.items():
        f = f"variants.{name}"
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(f, "bad variant name", _NAME_HINT)
        if not isinstance(body, Mapping):
            raise ConfigError(f, f"is a {type(body).__name__}", "a mapping with a 'reward' section")
        _no_unknown(body, _VARIANT_KEYS, f)
        if "reward" not in body:
            raise ConfigError(f"{f}.reward", "missing", "a reward section {terms: [...]}")
        reward = _plain(body["reward"], f"{f}.reward")
        _check_reward(reward, f"{f}.reward")
        desc = body.get("description", "")
        if not isinstance(desc, str):
            raise ConfigError(f"{f}.description", f"got {desc!r}", "a string")
        out[name] = {"reward": reward, "description": desc}
    return out


def _match_shaping_discounts(variants: dict[str, dict[str, Any]], learner: Mapping[str, Any]) -> None:
    """Fill in, or check, the discount of every potential-shaping term against the learner's.

    The terms concerned are those registered with ``uses_discount=True`` (potential-based
    shaping keeps the optimal policy only when it uses the agent's own gamma).  A term without
    ``gamma`` gets the learner's; a different value is a :class:`ConfigError` naming its
    ``params.gamma``.
    """
    gamma = float(learner.get("params", {}).get("gamma", 0.99))
    for name, body in variants.items():
        for i, t in enumerate(body["reward"].get("terms", [])):
            if not isinstance(t, dict) or not get_factory(str(t.get("type"))).uses_discount:
                continue
            params = t.get("params") or {}  # `params: null` is no parameters
            t["params"] = params
            if "gamma" not in params:
                params["gamma"] = gamma
            elif abs(float(params["gamma"]) - gamma) > 1e-12:
                raise ConfigError(f"variants.{name}.reward.terms[{i}].params.gamma",
                                  f"got {params['gamma']} but the learner's gamma is {gamma}",
                                  "the learner's discount (potential-based shaping is policy-invariant only then)")


def _check_reward(reward: Any, f: str) -> None:
    """Build the reward once (types, params, names, gates); errors name the full field path.

    A term factory may raise a :class:`ConfigError` naming only its own parameter
    (``mode``); it is re-raised under ``<variant>.reward.terms[i].params.<name>``.
    """
    try:
        build_reward(reward, field=f)
    except ConfigError as e:
        if e.field.startswith(f):
            raise
        terms = reward.get("terms") if isinstance(reward, Mapping) else None
        for i, t in enumerate(terms or []):
            try:
                build_reward({"terms": [t]}, field=f)
            except ConfigError:
                raise ConfigError(f"{f}.terms[{i}].params.{e.field}", e.problem, e.expected) from None
        raise ConfigError(f"{f}.{e.field}", e.problem, e.expected) from None


def _tracking(t: Any) -> dict[str, Any]:
    """``tracking: {mlflow: true | {uri: URI, experiment: NAME}}`` -> ``{"mlflow": {"uri": ..., "experiment": ...}}``."""
    if t is None:
        return {}
    if not isinstance(t, Mapping):
        raise ConfigError("tracking", f"is a {type(t).__name__}", "a mapping {mlflow: {uri: ..., experiment: ...}}")
    _no_unknown(t, {"mlflow"}, "tracking")
    m = t.get("mlflow")
    if m is None or m is False:
        return {}
    if m is True:
        m = {}
    if not isinstance(m, Mapping):
        raise ConfigError("tracking.mlflow", f"got {_short(m)}", "true or a mapping {uri: ..., experiment: ...}")
    _no_unknown(m, {"uri", "experiment"}, "tracking.mlflow")
    out: dict[str, Any] = {}
    for k in ("uri", "experiment"):
        v = m.get(k)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise ConfigError(f"tracking.mlflow.{k}", f"got {_short(v)}", "a non-empty string")
        out[k] = v
    return {"mlflow": out}


def check_seeds(s: Any, f: str = "seeds") -> list[int]:
    """A seed count ``n`` (-> ``[0, ..., n-1]``), a list or a ``"0,1,2"`` string -> distinct seeds.

    At most :data:`MAX_SEEDS` seeds, each in ``[0, MAX_SEED]``; errors name ``f``.

    >>> check_seeds(3), check_seeds("4, 2")
    ([0, 1, 2], [4, 2])
    >>> check_seeds([0, 2**40])
    Traceback (most recent call last):
    ...
    rewardkit.core.errors.ConfigError: seeds[1]: got 1099511627776; expected an integer in [0, 4294967295]
    """
    if isinstance(s, int) and not isinstance(s, bool):
        if not 1 <= s <= MAX_SEEDS:
            raise ConfigError(f, f"{_short(s)} seeds", f"at most {MAX_SEEDS} seeds" if s > 0
                              else "a positive number of seeds or a list of ints")
        return list(range(s))
    if isinstance(s, str):
        try:
            s = [int(x) for x in s.replace(",", " ").split()]
        except ValueError:
            raise ConfigError(f, f"got {s!r}", "a list of ints such as 0,1,2") from None
    if not isinstance(s, (list, tuple)) or not s:
        raise ConfigError(f, f"got {_short(s)}", "a positive int or a non-empty list of ints")
    if len(s) > MAX_SEEDS:
        raise ConfigError(f, f"{len(s)} seeds", f"at most {MAX_SEEDS} seeds")
    out = [_int(x, f"{f}[{i}]", 0, MAX_SEED) for i, x in enumerate(s)]
    if len(set(out)) != len(out):
        raise ConfigError(f, f"has duplicates {out}", "distinct seeds")
    return out


def _name(v: Any, f: str) -> str:
    """An experiment name: it names the default output folder ``runs/<name>``, so it must stay one folder."""
    if not isinstance(v, str) or not _NAME_RE.match(v):
        raise ConfigError(f, f"got {_short(v)}", _NAME_HINT)
    return v


# --------------------------------------------------------------------------- scalars

def _plain(v: Any, f: str) -> Any:
    """Check ``v`` is plain data (so it hashes canonically) and return a JSON-normal copy.

    Integers must fit a signed 64-bit integer (what NumPy, torch and SQLite take); the
    error names the path of the first one that does not.
    """
    _check_ints(v, f)
    try:
        return json.loads(json.dumps(v, sort_keys=True))
    except (TypeError, ValueError):
        raise ConfigError(f, "contains a non-data value", "strings, numbers, booleans, lists and mappings") from None


def _check_ints(v: Any, f: str) -> None:
    stack = [(v, f)]
    while stack:  # iterative: the loader already bounds depth and size
        x, path = stack.pop()
        if isinstance(x, int) and not isinstance(x, bool) and not -(2**63) <= x < 2**63:
            raise ConfigError(path, f"integer {_short(x)} is out of range", "an integer that fits 64 bits")
        if isinstance(x, Mapping):
            stack.extend((y, f"{path}.{k}") for k, y in x.items())
        elif isinstance(x, (list, tuple)):
            stack.extend((y, f"{path}[{i}]") for i, y in enumerate(x))


def _short(v: Any, limit: int = 40) -> str:
    """``repr(v)`` cut to ``limit`` characters (a huge integer or list stays one short line)."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**limit:
        return f"<integer with {len(str(abs(v)))} digits>"
    r = repr(v)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def _int(v: Any, f: str, lo: int | None = None, hi: int = MAX_INT) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f, f"got {_short(v)}", "an integer")
    if (lo is not None and v < lo) or v > hi:
        raise ConfigError(f, f"got {_short(v)}", f"an integer in [{lo}, {hi}]" if lo is not None
                          else f"an integer <= {hi}")
    return v


def _float(v: Any, f: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f, f"got {_short(v)}", "a number")
    try:
        x = float(v)
    except OverflowError:
        raise ConfigError(f, f"got {_short(v)}", "a finite number") from None
    if not math.isfinite(x):
        raise ConfigError(f, f"got {x}", "a finite number")
    return x


def _no_unknown(m: Mapping[str, Any], allowed: set[str], f: str) -> None:
    for k in m:
        if k not in allowed:
            raise ConfigError(f"{f}.{k}" if f else str(k), "unknown key", f"one of: {', '.join(sorted(allowed))}")


def ppo_signature_check() -> None:
    """Raise if a name in :data:`PPO_PARAMS` is not a PPO keyword in the installed SB3."""
    from stable_baselines3 import PPO

    names = set(inspect.signature(PPO.__init__).parameters)
    missing = [k for k in PPO_PARAMS if k not in names]
    if missing:
        raise RuntimeError(f"PPO no longer accepts {missing}")
