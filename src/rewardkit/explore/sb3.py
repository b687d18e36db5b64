"""Stable-Baselines3 on-policy integration: the bonus reaches the advantages.

SB3's ``OnPolicyAlgorithm.collect_rollouts`` computes GAE
(``rollout_buffer.compute_returns_and_advantage``) *before* it calls
``callback.on_rollout_end()``.  A callback that only adds an intrinsic reward to
``rollout_buffer.rewards`` therefore changes nothing that PPO/A2C optimise; adding
the bonus straight onto ``advantages``/``returns`` (the RLeXplore SB3 recipe) skips the
temporal credit assignment of GAE.  :class:`IntrinsicRewardCallback` does the
correct thing at rollout end:

1. rebuild the rollout's transitions ``(s_t, a_t, s_{t+1}, terminated, truncated)`` from
   the buffer (``s_{t+1}`` is ``info["terminal_observation"]`` where an episode ended);
2. score the whole rollout with the bonus in one call (:meth:`IntrinsicBonus.compute`);
3. add :math:`\\beta\\, b_t` to ``rollout_buffer.rewards``;
4. **recompute GAE** with the value of the last observation and the last ``dones``
   that SB3 used, so that

   .. math:: \\delta_t = r^{ext}_t + \\beta b_t + \\gamma V(s_{t+1})(1-d_{t+1}) - V(s_t),
             \\quad A_t = \\sum_{l\\ge 0} (\\gamma\\lambda)^l \\delta_{t+l}

   (Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized
   Advantage Estimation");
5. train the bonus model on the same rollout (:meth:`IntrinsicBonus.update`);
6. log raw and scaled (normalised, times :math:`\beta`) values and the intrinsic share
   of the total reward (``rk/<name>/raw_mean``, ``rk/<name>/scaled_mean``,
   ``rk/<name>/share``), each member of a composite bonus (``rk/<name>/<member>/raw_mean``,
   ``.../share_of_bonus``), the bonus' training losses and, if a coverage key is
   available, the number of unique cells visited (``rk/coverage/unique_cells``).  These go
   through SB3's logger, so they reach stdout, CSV and TensorBoard (``tensorboard_log=``).

Counting privileged state (MiniGrid's ``agent_pos``) works through ``info``: give the
callback ``key_info="agent_pos"`` and wrap each env with
:class:`rewardkit.explore.wrappers.AgentPositionInfo`; the keys are passed to the
bonus as ``observe(..., keys=...)``.

Example:
    >>> import gymnasium as gym, numpy as np
    >>> from stable_baselines3 import PPO
    >>> from rewardkit.explore.counts import CountBonus
    >>> from rewardkit.explore.sb3 import IntrinsicRewardCallback
    >>> cb = IntrinsicRewardCallback(CountBonus(mode="global", key_fn="obs_hash"), coef=0.1)
    >>> model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0)
    >>> _ = model.learn(64, callback=cb)
    >>> cb.last_rollout["intrinsic"].shape, bool((cb.last_rollout["intrinsic"] > 0).all())
    ((32, 1), True)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    from gymnasium import spaces
    from stable_baselines3.common.callbacks import BaseCallback
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None

from ..core.errors import ConfigError
from ..core.normalize import RewardNormalizer
from ..core.vecstep import sb3_done_flags
from .base import IntrinsicBonus, check_key_info

__all__ = ["IntrinsicRewardCallback", "bonus_share", "rollout_transitions", "score_rollout"]


# --------------------------------------------------------------------------- pure helpers
def bonus_share(intrinsic: np.ndarray, extrinsic: np.ndarray) -> float:
    """Share of the intrinsic part in the total reward magnitude, in ``[0, 1]``.

    .. math:: \\text{share} = \\frac{\\sum |r^{int}|}{\\sum |r^{int}| + \\sum |r^{ext}|}

    Example:
        >>> bonus_share(np.array([0.1, 0.1]), np.array([0.0, 0.6]))
        0.25
    """
    i = float(np.abs(intrinsic).sum())
    e = float(np.abs(extrinsic).sum())
    return 0.0 if i + e == 0.0 else i / (i + e)


def _obs_index(obs: Any, idx: Any) -> Any:
    if isinstance(obs, Mapping):
        return {k: v[idx] for k, v in obs.items()}
    return obs[idx]


def rollout_transitions(observations: Any, actions: np.ndarray, last_obs: Any,
                        terminal_obs: Mapping[tuple[int, int], Any], terminated: np.ndarray,
                        truncated: np.ndarray, action_space: spaces.Space | None = None) -> dict[str, Any]:
    """Rebuild ``{"obs", "actions", "next_obs", "terminated", "truncated"}`` ``(T, n, ...)`` from a buffer.

    ``next_obs[t] = observations[t + 1]`` except at the last step (``last_obs``) and
    where the episode ended at ``t`` (``terminal_obs[(t, env)]``, SB3's
    ``info["terminal_observation"]``) – never the reset observation.

    Example:
        >>> o = np.arange(3.0).reshape(3, 1, 1)           # T=3, n=1, obs dim 1
        >>> b = rollout_transitions(o, np.zeros((3, 1, 1)), np.array([[9.0]]), {(1, 0): np.array([7.0])},
        ...                         np.array([[0], [1], [0]], bool), np.zeros((3, 1), bool))
        >>> b["next_obs"].ravel().tolist()
        [1.0, 7.0, 9.0]
    """
    def shift(o: np.ndarray, last: np.ndarray) -> np.ndarray:
        nxt = np.empty_like(o)
        nxt[:-1] = o[1:]
        nxt[-1] = np.asarray(last).reshape(o.shape[1:])
        return nxt

    if isinstance(observations, Mapping):
        next_obs: Any = {k: shift(v, last_obs[k]) for k, v in observations.items()}
        for (t, e), term in terminal_obs.items():
            for k in next_obs:
                next_obs[k][t, e] = np.asarray(term[k]).reshape(next_obs[k].shape[2:])
    else:
        next_obs = shift(observations, last_obs)
        for (t, e), term in terminal_obs.items():
            next_obs[t, e] = np.asarray(term).reshape(next_obs.shape[2:])
    acts = actions
    if isinstance(action_space, spaces.Discrete) and acts.ndim == 3 and acts.shape[-1] == 1:
        acts = acts[..., 0].astype(np.int64)
    return {"obs": observations, "actions": acts, "next_obs": next_obs,
            "terminated": np.asarray(terminated, dtype=bool), "truncated": np.asarray(truncated, dtype=bool)}


def score_rollout(bonus: IntrinsicBonus, batch: Mapping[str, Any], keys: list | None = None) -> np.ndarray:
    """Score a ``(T, n)`` rollout: ``bonus.compute(batch)``, or step by step with explicit count keys.

    ``keys[t]`` is the list of ``n`` keys of step ``t`` (read from ``info``); bonuses
    whose ``observe`` accepts ``keys=`` (counts) then count those instead of ``key_fn``.
    """
    if keys is None:
        return np.asarray(bonus.compute(batch), dtype=np.float64)
    T, n = np.asarray(batch["terminated"]).shape
    out = np.zeros((T, n))
    for t in range(T):
        out[t] = bonus.observe(_obs_index(batch["obs"], t), batch["actions"][t],  # type: ignore[call-arg]
                               _obs_index(batch["next_obs"], t), batch["terminated"][t],
                               batch["truncated"][t], keys=keys[t])
    return out


# --------------------------------------------------------------------------- the callback
class IntrinsicRewardCallback(BaseCallback):
    """Add an exploration bonus to an SB3 on-policy rollout and recompute GAE (see module docs).

    Args:
        bonus: any :class:`~rewardkit.explore.base.IntrinsicBonus`.
        coef: :math:`\\beta`, a float or a callable ``coef(num_timesteps) -> float``.
        normalize: ``None`` (use the bonus as it is), ``"return"`` (divide by the running
            std of the discounted intrinsic return, RND-style, Burda et al. 2019) or
            ``"reward"`` (divide by the running std of the bonus values).
        key_info: if set, read count keys from ``info[key_info]`` of every step (e.g.
            ``"agent_pos"``) and pass them to the bonus' ``observe(..., keys=...)``.
        train_bonus: call ``bonus.update(rollout)`` after scoring.
        coverage_info: info key of a position ``(x, y)`` to track unique cells and a
            visitation grid (defaults to ``key_info``).
        verbose: SB3 verbosity.

    After each rollout :attr:`last_rollout` holds ``(T, n)`` arrays ``extrinsic`` (the
    buffer's rewards before the bonus – including SB3's ``gamma * V(terminal obs)``
    bootstrap on truncated steps), ``env_rewards`` (the env's own rewards),
    ``intrinsic``, ``raw`` and ``advantages_before`` (the extrinsic-only advantages SB3
    computed) for diagnostics, the bonus-share guard and tests.
    """

    def __init__(self, bonus: IntrinsicBonus, coef: float | Callable[[int], float] = 1.0,
                 normalize: str | None = None, key_info: str | None = None, train_bonus: bool = True,
                 coverage_info: str | None = None, verbose: int = 0):
        super().__init__(verbose)
        if not isinstance(bonus, IntrinsicBonus):
            raise ConfigError("bonus", f"is a {type(bonus).__name__}", "an IntrinsicBonus instance")
        if normalize not in (None, "return", "reward"):
            raise ConfigError("normalize", f"got {normalize!r}", "None, 'return' or 'reward'")
        if not callable(coef):
            try:
                coef = float(coef)
            except (TypeError, ValueError):
                raise ConfigError("coef", f"got {coef!r}", "a number or a callable step -> number") from None
        self.bonus = bonus
        self.coef = coef
        self.normalize = normalize
        self.normalizer: RewardNormalizer | None = None
        self.key_info = check_key_info(bonus, key_info)
        self.train_bonus = train_bonus
        self.coverage_info = coverage_info if coverage_info is not None else key_info
        self.coverage: Any = None
        self.last_rollout: dict[str, Any] = {}
        self._terminal: dict[tuple[int, int], Any] = {}
        self._term: list[np.ndarray] = []
        self._trunc: list[np.ndarray] = []
        self._keys: list[list] = []
        self._env_rew: list[np.ndarray] = []

    def _init_callback(self) -> None:
        from ..core.errors import ConfigError as _CE
        if not hasattr(self.model, "rollout_buffer"):
            raise _CE("model", f"{type(self.model).__name__} has no rollout buffer",
                      "an on-policy SB3 algorithm (PPO, A2C); use IntrinsicReplayBuffer for off-policy ones")
        if self.normalize is not None:
            self.normalizer = RewardNormalizer(self.normalize, gamma=float(self.model.gamma))
        if self.coverage_info is not None:
            from .coverage import CoverageTracker
            self.coverage = CoverageTracker()

    def current_coef(self) -> float:
        c = self.coef
        return float(c(self.num_timesteps)) if callable(c) else float(c)

    def _on_rollout_start(self) -> None:
        self._terminal = {}
        self._term, self._trunc, self._keys, self._env_rew = [], [], [], []

    def _on_step(self) -> bool:
        dones = np.asarray(self.locals["dones"], dtype=bool)
        infos = self.locals["infos"]
        # the env's own reward: SB3 adds gamma * V(terminal obs) to it in place *after* this
        # callback on truncated steps, so copy it now (diagnostics and share use this one)
        self._env_rew.append(np.array(self.locals["rewards"], dtype=np.float64, copy=True))
        t = len(self._term)
        term, trunc = sb3_done_flags(dones, infos)
        self._term.append(term)
        self._trunc.append(trunc)
        for e in np.flatnonzero(dones):
            term_obs = infos[e].get("terminal_observation")
            if term_obs is not None:
                self._terminal[(t, int(e))] = term_obs
        if self.key_info is not None or self.coverage is not None:
            k = self.key_info or self.coverage_info
            keys = []
            for i, inf in enumerate(infos):
                if k not in inf:
                    raise ConfigError(f"info[{i}].{k}", "missing",
                                      f"each step's info to carry '{k}' (wrap envs with AgentPositionInfo)")
                v = inf[k]
                keys.append(tuple(np.asarray(v).reshape(-1).tolist()) if np.ndim(v) else v)
            self._keys.append(keys)
        return True

    def _on_rollout_end(self) -> None:
        rb = self.model.rollout_buffer
        T = rb.buffer_size
        if len(self._term) != T:  # rollout interrupted by another callback
            return
        batch = rollout_transitions(rb.observations, rb.actions, self.locals["new_obs"], self._terminal,
                                    np.stack(self._term), np.stack(self._trunc), self.model.action_space)
        raw = score_rollout(self.bonus, batch, self._keys if self.key_info is not None else None)
        scaled = raw
        if self.normalizer is not None:
            n = raw.shape[1]
            done = (batch["terminated"] | batch["truncated"]).reshape(-1)
            scaled = self.normalizer(raw.reshape(-1), done, np.tile(np.arange(n), T)).reshape(raw.shape)
        intrinsic = self.current_coef() * scaled
        extrinsic = rb.rewards.copy()
        adv_before = rb.advantages.copy()
        rb.rewards += intrinsic.astype(rb.rewards.dtype)
        rb.compute_returns_and_advantage(last_values=self.locals["values"], dones=self.locals["dones"])
        losses = self.bonus.update(batch) if (self.train_bonus and self.bonus.learned) else {}
        env_rewards = np.stack(self._env_rew) if len(self._env_rew) == T else extrinsic.astype(np.float64)
        self.last_rollout = {"extrinsic": extrinsic, "env_rewards": env_rewards, "intrinsic": intrinsic,
                             "raw": raw, "advantages_before": adv_before, "batch": batch}
        name = self.bonus.name
        self.logger.record(f"rk/{name}/raw_mean", float(raw.mean()))
        self.logger.record(f"rk/{name}/raw_max", float(raw.max()))
        self.logger.record(f"rk/{name}/scaled_mean", float(intrinsic.mean()))
        self.logger.record(f"rk/{name}/share", bonus_share(intrinsic, env_rewards))
        self.logger.record(f"rk/{name}/coef", self.current_coef())
        for k, v in (losses or {}).items():
            self.logger.record(f"rk/{name}/{k}", float(v))
        terms = getattr(self.bonus, "last_terms", None)  # members of a Sum / Product / NGU composite
        if isinstance(terms, dict) and self.key_info is None:
            for k, v in terms.items():
                v = np.asarray(v, dtype=np.float64)
                if v.shape == raw.shape:
                    self.logger.record(f"rk/{name}/{k}/raw_mean", float(v.mean()))
                    self.logger.record(f"rk/{name}/{k}/share_of_bonus",
                                       float(np.abs(v).sum() / max(sum(np.abs(np.asarray(x)).sum()
                                                                        for x in terms.values()), 1e-12)))
        if self.coverage is not None and self._keys:
            self.coverage.update([k for step in self._keys for k in step])
            self.logger.record("rk/coverage/unique_cells", self.coverage.unique)
