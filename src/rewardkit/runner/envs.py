"""Environment construction for experiment specs: ids, factories and named wrappers.

``env.id`` is looked up first among factories registered with :func:`register_env`,
then in the gymnasium registry (MiniGrid ids and the ``rewardkit/`` tabular worlds
are registered on demand).  ``env.wrappers`` names observation wrappers from
:data:`WRAPPERS`, applied in order.

Example:
    >>> env = make_env({"id": "CartPole-v1", "kwargs": {}, "wrappers": [], "max_episode_steps": 20})
    >>> env.reset(seed=0)[0].shape
    (4,)
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any
from collections.abc import Callable, Mapping

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None

from rewardkit.core import ConfigError
from rewardkit.core.registry import ENVS

__all__ = ["ENVS", "WRAPPERS", "check_env_for_learner", "make_env", "register_env"]

#: modules that register gymnasium ids when imported, by id prefix
_ID_PROVIDERS = (("MiniGrid-", "minigrid"), ("BabyAI-", "minigrid"), ("rewardkit/TamperHoneypot", "rewardkit.audit.tampering"),
                 ("rewardkit/", "rewardkit.tabular"))


def register_env(name: str, factory: Callable[..., gym.Env] | None = None, *, override: bool = False):
    """Register an env factory so a spec can say ``env: {id: <name>}`` (decorator or call).

    The name goes into the shared :data:`rewardkit.core.registry.ENVS`; a name already
    taken raises :class:`~rewardkit.core.errors.DuplicateNameError` unless ``override=True``.

    >>> _ = register_env("doc_cartpole", lambda: gym.make("CartPole-v1"), override=True)
    >>> make_env({"id": "doc_cartpole", "kwargs": {}, "wrappers": []}).spec.id
    'CartPole-v1'
    """
    return ENVS.register(name, factory, override=override)


def _flat_obs(env: gym.Env) -> gym.Env:
    from minigrid.wrappers import FlatObsWrapper

    return FlatObsWrapper(env)


def _img_obs(env: gym.Env) -> gym.Env:
    from minigrid.wrappers import ImgObsWrapper

    return ImgObsWrapper(env)


def _fully_obs(env: gym.Env) -> gym.Env:
    from minigrid.wrappers import FullyObsWrapper

    return FullyObsWrapper(env)


def _full_grid(env: gym.Env) -> gym.Env:
    from rewardkit.integrations.minigrid import FullGridObs

    return FullGridObs(env)


def _flatten(env: gym.Env) -> gym.Env:
    return gym.wrappers.FlattenObservation(env)


def _state_info(env: gym.Env) -> gym.Env:
    from rewardkit.integrations.minigrid import MiniGridStateInfo

    return MiniGridStateInfo(env)


#: wrapper name -> callable(env, **params)
WRAPPERS: dict[str, Callable[..., gym.Env]] = {
    "flat_obs": _flat_obs,        # MiniGrid FlatObsWrapper: 7x7x3 egocentric view + mission one-hot
    "img_obs": _img_obs,          # MiniGrid ImgObsWrapper: the image only
    "fully_obs": _fully_obs,      # MiniGrid FullyObsWrapper: the whole grid, agent drawn in
    "full_grid": _full_grid,      # rewardkit: the whole grid as one flat uint8 vector (W*H*3)
    "state_info": _state_info,    # rewardkit: privileged MiniGrid state in info (for reward terms)
    "flatten": _flatten,          # gymnasium FlattenObservation
}


def _resolve_gym_id(eid: str) -> None:
    for prefix, mod in _ID_PROVIDERS:
        if eid.startswith(prefix):
            try:
                importlib.import_module(mod)
            except ImportError:
                pass


def make_env(env_cfg: Mapping[str, Any]) -> gym.Env:
    """Build the env of a validated ``env`` section (factory or gymnasium id, then wrappers)."""
    eid = env_cfg["id"]
    kwargs = dict(env_cfg.get("kwargs") or {})
    mes = env_cfg.get("max_episode_steps")
    if eid in ENVS:
        try:
            env = ENVS.get(eid, "env.id").factory(**kwargs)
        except TypeError as e:
            raise ConfigError("env.kwargs", " ".join(str(e).split())) from None
        if mes:
            env = gym.wrappers.TimeLimit(env, max_episode_steps=mes)
    else:
        _resolve_gym_id(eid)
        if eid not in gym.registry:
            close = difflib.get_close_matches(eid, list(gym.registry) + ENVS.names(), n=3)
            hint = f" (close: {', '.join(close)})" if close else ""
            raise ConfigError("env.id", f"unknown environment {eid!r}{hint}",
                              "a registered gymnasium id or an env factory name")
        if mes:
            kwargs["max_episode_steps"] = mes
        try:
            env = gym.make(eid, **kwargs)
        except TypeError as e:
            raise ConfigError("env.kwargs", " ".join(str(e).split())) from None
    for i, w in enumerate(env_cfg.get("wrappers") or []):
        try:
            env = WRAPPERS[w["type"]](env, **w.get("params", {}))
        except TypeError as e:
            raise ConfigError(f"env.wrappers[{i}].params", " ".join(str(e).split())) from None
        except (AttributeError, ValueError, KeyError) as e:
            raise ConfigError(f"env.wrappers[{i}]", f"cannot wrap {eid!r}: {' '.join(str(e).split())}") from None
    return env


def check_env_for_learner(spec: Any) -> None:
    """Build the env once and check its spaces suit the learner (raises :class:`ConfigError`)."""
    env = make_env(spec.env)
    try:
        obs_space, act_space = env.observation_space, env.action_space
        if spec.learner["type"] == "q_learning":
            if not isinstance(obs_space, gym.spaces.Discrete):
                raise ConfigError("env.id", f"observation space is {obs_space}",
                                  "a Discrete observation space for q_learning (e.g. rewardkit/FourRooms-v0)")
            if not isinstance(act_space, gym.spaces.Discrete):
                raise ConfigError("env.id", f"action space is {act_space}", "a Discrete action space for q_learning")
        elif spec.learner["type"] == "ppo":  # a registered learner checks its own spaces
            if not isinstance(obs_space, (gym.spaces.Box, gym.spaces.Discrete)):
                raise ConfigError("env.wrappers", f"observation space is {type(obs_space).__name__}",
                                  "a Box observation for ppo MlpPolicy (add e.g. flat_obs or full_grid for MiniGrid)")
            if not isinstance(act_space, (gym.spaces.Discrete, gym.spaces.Box, gym.spaces.MultiDiscrete)):
                raise ConfigError("env.id", f"action space is {act_space}", "Discrete, MultiDiscrete or Box")
    finally:
        env.close()
