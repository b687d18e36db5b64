"""The Gymnasium side of :mod:`rewardkit.spec` (the 'env' extra): the reward-machine product wrapper and
the linear scalarising wrapper of vector rewards."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rewardkit.core.extras import missing_extra

from .dnf import as_events
from .reward_machine import RewardMachine

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "env") from None

__all__ = ["LinearRewardWrapper", "RewardMachineWrapper"]


class RewardMachineWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """The product of a Gymnasium env and a reward machine.

    Args:
        env: the environment.
        rm: the reward machine.
        labeling: ``labeling(env, obs, action, next_obs, info) -> events``; by default
            ``info["events"]`` is used (a set of names or a string of one-letter events).
        reward_mode: ``"replace"`` (the RM reward is the reward; the reference setting)
            or ``"add"`` (env reward + RM reward).
        counterfactual: put the CRM experiences in ``info["crm"]`` every step.

    Observations: for a ``Discrete(n)`` env the product is ``Discrete(n * K)`` with
    index ``s * K + u`` (K = RM states + 1 terminal), else a ``Dict(obs, rm_state)``.
    The episode terminates when the machine reaches its terminal state.  ``info``
    carries ``rm_state``, ``rm_next_state``, ``rm_reward`` and ``events``.

    Example:
        >>> from rewardkit.spec.office import OfficeWorld, OFFICE_T3
        >>> from rewardkit.spec.reward_machine import RewardMachine
        >>> env = RewardMachineWrapper(OfficeWorld(), RewardMachine.from_text(OFFICE_T3))
        >>> obs, info = env.reset(seed=0)
        >>> info["rm_state"], int(env.observation_space.n)   # 108 cells x (4 RM states + terminal)
        (0, 540)
    """

    def __init__(self, env: gym.Env, rm: RewardMachine,
                 labeling: Callable[..., Iterable[str] | str] | None = None,
                 reward_mode: str = "replace", counterfactual: bool = False):
        gym.utils.RecordConstructorArgs.__init__(self, rm=rm, labeling=labeling, reward_mode=reward_mode,
                                                 counterfactual=counterfactual)
        super().__init__(env)
        if reward_mode not in ("replace", "add"):
            raise ValueError(f"reward_mode: got {reward_mode!r}; expected 'replace' or 'add'")
        self.rm = rm
        self.labeling = labeling
        self.reward_mode = reward_mode
        self.counterfactual = counterfactual
        self.k = rm.n_states + 1
        self.u = rm.initial
        if isinstance(env.observation_space, gym.spaces.Discrete):
            self.observation_space = gym.spaces.Discrete(int(env.observation_space.n) * self.k)
        else:
            self.observation_space = gym.spaces.Dict({"obs": env.observation_space,
                                                      "rm_state": gym.spaces.Discrete(self.k)})
        self._obs: Any = None

    def product(self, obs: Any, u: int) -> Any:
        if isinstance(self.observation_space, gym.spaces.Discrete):
            return int(obs) * self.k + int(u)
        return {"obs": obs, "rm_state": int(u)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.u = self.rm.initial
        self._obs = obs
        info = dict(info)
        info["rm_state"] = self.u
        return self.product(obs, self.u), info

    def step(self, action: Any):
        obs, env_r, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        if self.labeling is not None:
            events = self.labeling(self.env, self._obs, action, obs, info)
        else:
            events = info.get("events", "")
        ev = as_events(events)
        u = self.u
        u2, rm_r, rm_done = self.rm.step(u, ev)
        info.update(rm_state=u, rm_next_state=u2, rm_reward=rm_r, events=ev)
        if self.counterfactual:
            info["crm"] = self.rm.counterfactual(ev)
        self.u = u2
        self._obs = obs
        reward = rm_r if self.reward_mode == "replace" else float(env_r) + rm_r
        return self.product(obs, u2), reward, bool(terminated or rm_done), truncated, info


class LinearRewardWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Scalarise an env's *vector* reward with weights (MO-Gymnasium convention).

    ``info["vector_reward"]`` keeps the vector; :meth:`set_weights` changes ``w``.

    Example:
        >>> import gymnasium as gym
        >>> class TwoObj(gym.Env):
        ...     observation_space = gym.spaces.Discrete(1); action_space = gym.spaces.Discrete(1)
        ...     def reset(self, *, seed=None, options=None): return 0, {}
        ...     def step(self, a): return 0, np.array([1.0, -2.0]), True, False, {}
        >>> env = LinearRewardWrapper(TwoObj(), [1.0, 0.5]); _ = env.reset()
        >>> _, r, *_, info = env.step(0)
        >>> r, info["vector_reward"].tolist()
        (0.0, [1.0, -2.0])
    """

    def __init__(self, env: gym.Env, weights: Sequence[float]):
        gym.utils.RecordConstructorArgs.__init__(self, weights=weights)
        super().__init__(env)
        self.set_weights(weights)

    def set_weights(self, weights: Sequence[float]) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)

    def step(self, action: Any):
        obs, r, term, trunc, info = self.env.step(action)
        vec = np.asarray(r, dtype=np.float64).reshape(-1)
        if vec.shape != self.weights.shape:
            raise ValueError(f"reward: env returned {vec.shape[0]} objectives; weights have {self.weights.shape[0]}")
        info = dict(info)
        info["vector_reward"] = vec
        info["reward_weights"] = self.weights.copy()  # a new object per step (check_env: infos must not share)
        return obs, float(vec @ self.weights), term, trunc, info
