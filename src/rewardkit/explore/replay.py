"""Off-policy replay with the intrinsic reward relabelled at *sample* time.

An exploration bonus is non-stationary: a count :math:`1/\\sqrt{N(s)}` shrinks as
:math:`N` grows, an RND error shrinks as the predictor trains.  Storing
:math:`r + \\beta b` in a replay buffer freezes the bonus at the value it had when the
transition was collected, so old transitions keep paying a novelty that is long
gone (the RLeXplore off-policy recipe edits ``self.locals["rewards"]`` before
``_store_transition`` and has this problem).  :class:`IntrinsicReplayBuffer` stores
the extrinsic reward only and, every time a minibatch is drawn, recomputes

.. math:: \\tilde r_i = r^{ext}_i + \\beta\\, b_{\\theta_{now}}(s_i, a_i, s'_i)

with the bonus model as it is *now* (counts read, not incremented; learned models
evaluated in one batched forward pass).  Transitions are fed to the bonus when they
are added (``observe``: counts and running statistics), and the bonus can be trained
on each sampled minibatch (``update_on_sample=True``, the design proposed for SB3 in
hill-a/stable-baselines#309).

Only bonuses that are a function of the transition can be relabelled: global counts
and learned, non-episodic modules (RND, ICM, Disagreement …).  Episodic bonuses
depend on the rest of the episode, which a replay sample does not carry, and are
rejected with a :class:`~rewardkit.core.errors.ConfigError`.

Example:
    >>> import gymnasium as gym
    >>> from stable_baselines3 import DQN
    >>> from rewardkit.explore.counts import CountBonus
    >>> from rewardkit.explore.replay import IntrinsicReplayBuffer
    >>> bonus = CountBonus(mode="global", key_fn="obs_hash")
    >>> model = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0,
    ...             replay_buffer_class=IntrinsicReplayBuffer,
    ...             replay_buffer_kwargs=dict(bonus=bonus, coef=0.1))
    >>> _ = model.learn(100)
    >>> s = model.replay_buffer.sample(8)
    >>> bool((s.rewards.numpy().ravel() > 1.0).all())  # CartPole pays 1 per step, plus the bonus
    True
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    from gymnasium import spaces
    from stable_baselines3.common.buffers import ReplayBuffer
    from stable_baselines3.common.type_aliases import ReplayBufferSamples
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None

from ..core.errors import ConfigError
from ..core.vecstep import sb3_done_flags
from .base import IntrinsicBonus

__all__ = ["IntrinsicReplayBuffer", "relabel_bonus"]


def relabel_bonus(bonus: IntrinsicBonus, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
    """The bonus of ``B`` independent transitions under the current model, without changing it.

    Global count bonuses read :math:`1/\\sqrt{\\max(N(k(s')), 1)}` from the table;
    bonuses with a ``raw_bonus(obs)`` method (RND, RDD) return that unscaled error
    (running reward statistics are not updated by sampling); other non-episodic
    bonuses are evaluated with ``bonus.compute`` on a ``(B, 1)`` rollout.

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> cb = CountBonus(mode="global", key_fn="explicit")
        >>> _ = cb.observe([[0]] * 4, [0] * 4, [[1], [1], [1], [1]], [False] * 4, [False] * 4)
        >>> relabel_bonus(cb, np.zeros((2, 1)), np.zeros(2), np.array([[1], [2]])).tolist()
        [0.5, 1.0]
    """
    if bonus.episodic:
        raise ConfigError("bonus", f"{bonus.name!r} is episodic (its value depends on the rest of the episode)",
                          "a global count or a learned non-episodic bonus (RND, ICM, Disagreement) for replay relabelling")
    if hasattr(bonus, "global_counts") and hasattr(bonus, "keys") and getattr(bonus, "mode", None) == "global":
        keys = bonus.keys(next_obs)  # type: ignore[attr-defined]
        counts = np.array([bonus.global_counts.get(k, 0) for k in keys], dtype=np.float64)  # type: ignore[attr-defined]
        return 1.0 / np.sqrt(np.maximum(counts, 1.0))
    if hasattr(bonus, "raw_bonus"):  # RND-like: the unscaled error, without touching running statistics
        return np.asarray(bonus.raw_bonus(next_obs), dtype=np.float64).reshape(-1)
    B = int(np.shape(next_obs)[0])
    batch = {"obs": np.asarray(obs)[:, None], "actions": np.asarray(actions)[:, None],
             "next_obs": np.asarray(next_obs)[:, None], "terminated": np.zeros((B, 1), bool),
             "truncated": np.zeros((B, 1), bool)}
    return np.asarray(bonus.compute(batch), dtype=np.float64).reshape(B)


class IntrinsicReplayBuffer(ReplayBuffer):
    """SB3 ``ReplayBuffer`` whose sampled rewards are :math:`r^{ext} + \\beta b_{now}` (see module docs).

    Pass it as ``replay_buffer_class`` with
    ``replay_buffer_kwargs=dict(bonus=..., coef=...)`` to DQN, SAC, TD3, DDPG, QR-DQN.

    Args (besides SB3's):
        bonus: a non-episodic :class:`~rewardkit.explore.base.IntrinsicBonus`.
        coef: :math:`\\beta` (float or ``coef(num_added) -> float``).
        observe_on_add: feed each added step to ``bonus.observe`` (counts, statistics).
            Default: True for non-learned bonuses (counts), False for learned ones.
        update_on_sample: train the bonus on every sampled minibatch.

    :attr:`last_relabel` keeps the extrinsic and intrinsic parts of the last sample.
    """

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space,
                 device: Any = "auto", n_envs: int = 1, optimize_memory_usage: bool = False,
                 handle_timeout_termination: bool = True, *, bonus: IntrinsicBonus | None = None,
                 coef: float | Callable[[int], float] = 1.0, observe_on_add: bool | None = None,
                 update_on_sample: bool = False):
        if not isinstance(bonus, IntrinsicBonus):
            raise ConfigError("replay_buffer_kwargs.bonus", f"is a {type(bonus).__name__}",
                              "an IntrinsicBonus instance")
        if bonus.episodic:
            raise ConfigError("replay_buffer_kwargs.bonus", f"{bonus.name!r} is episodic",
                              "a global count or a learned non-episodic bonus (RND, ICM, Disagreement)")
        if isinstance(observation_space, spaces.Dict):
            raise ConfigError("observation_space", "is a Dict space", "an array space (DictReplayBuffer is not supported)")
        super().__init__(buffer_size, observation_space, action_space, device, n_envs,
                         optimize_memory_usage, handle_timeout_termination)
        self.bonus = bonus
        self.coef = coef if callable(coef) else float(coef)
        self.observe_on_add = (not bonus.learned) if observe_on_add is None else bool(observe_on_add)
        self.update_on_sample = bool(update_on_sample)
        self.num_added = 0
        self.last_relabel: dict[str, np.ndarray] = {}
        self.last_losses: dict[str, float] = {}

    def current_coef(self) -> float:
        return float(self.coef(self.num_added)) if callable(self.coef) else float(self.coef)

    def add(self, obs: np.ndarray, next_obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
            done: np.ndarray, infos: list[dict[str, Any]]) -> None:
        if self.observe_on_add:
            d = np.asarray(done, dtype=bool).reshape(-1)
            term, trunc = sb3_done_flags(d, infos)
            o = np.asarray(obs).reshape((self.n_envs, *self.obs_shape))
            no = np.asarray(next_obs).reshape((self.n_envs, *self.obs_shape))
            self.bonus.observe(o, np.asarray(action).reshape(self.n_envs, -1).squeeze(-1)
                               if self.action_dim == 1 else np.asarray(action).reshape(self.n_envs, -1),
                               no, term, trunc)
        self.num_added += self.n_envs
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> ReplayBufferSamples:
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        return self.samples_at(batch_inds, env_indices, env)

    def samples_at(self, batch_inds: np.ndarray, env_indices: np.ndarray, env: Any = None) -> ReplayBufferSamples:
        """The minibatch at ``(batch_inds, env_indices)``, relabelled with the current bonus."""
        obs = self.observations[batch_inds, env_indices]
        if self.optimize_memory_usage:
            next_obs = self.observations[(batch_inds + 1) % self.buffer_size, env_indices]
        else:
            next_obs = self.next_observations[batch_inds, env_indices]
        actions = self.actions[batch_inds, env_indices]
        act_for_bonus = actions[:, 0] if (self.action_dim == 1 and isinstance(self.action_space, spaces.Discrete)) \
            else actions
        raw = relabel_bonus(self.bonus, obs, act_for_bonus, next_obs)
        intrinsic = self.current_coef() * raw
        ext = self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env)
        rewards = (ext + intrinsic.reshape(-1, 1)).astype(np.float32)
        self.last_relabel = {"extrinsic": np.asarray(ext).reshape(-1), "intrinsic": intrinsic, "raw": raw}
        if self.update_on_sample and self.bonus.learned:
            B = obs.shape[0]
            self.last_losses = dict(self.bonus.update({
                "obs": obs[:, None], "actions": act_for_bonus[:, None], "next_obs": next_obs[:, None],
                "terminated": np.zeros((B, 1), bool), "truncated": np.zeros((B, 1), bool)}) or {})
        dones = (self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])).reshape(-1, 1)
        data = (self._normalize_obs(obs, env), actions, self._normalize_obs(next_obs, env), dones, rewards)
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))
