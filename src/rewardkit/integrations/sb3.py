"""Stable-Baselines3 integration: the reward ``VecEnvWrapper`` and a per-term logger callback.

* :class:`VecRewardWrapper` (defined in :mod:`rewardkit.core.sb3_wrappers`; its
  docstring states the SB3 semantics: ``terminal_observation``, ``TimeLimit.truncated``,
  the ``rk/*`` info keys read by ``VecMonitor(info_keywords=monitor_keywords(reward))``).
* :class:`TermReturnsCallback` - puts the per-term episode returns into SB3's own
  logger, so they reach stdout, CSV and TensorBoard next to ``rollout/ep_rew_mean``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable, Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    from stable_baselines3.common.callbacks import BaseCallback
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None

from rewardkit.core.sb3_wrappers import VecRewardWrapper
from rewardkit.core.vecstep import ENV_RETURN, TERM_RETURN, monitor_keywords

__all__ = ["TermReturnsCallback", "VecRewardWrapper", "monitor_keywords"]

_TERM_PREFIX = TERM_RETURN.format("")


class TermReturnsCallback(BaseCallback):
    """Log each term's mean episode return as ``rollout/rk/<term>`` in SB3's logger.

    The value is the mean of ``rk/return/<term>`` over SB3's episode-info buffer
    (``model.ep_info_buffer``, the last ``stats_window_size`` episodes), exactly as SB3
    logs ``rollout/ep_rew_mean`` from ``r``:

    .. math:: \\text{rollout/rk/}k = \\frac{1}{|B|} \\sum_{e \\in B} \\sum_{t \\in e} r^{(k)}_t

    The original environment return (``rk/env_return``) is logged as
    ``rollout/ep_env_rew_mean``.  It needs the ``rk/*`` keys in the episode info: wrap
    with ``VecMonitor(VecRewardWrapper(venv, reward), info_keywords=monitor_keywords(reward))``
    (or ``Monitor(RewardWrapper(env, reward), info_keywords=...)`` per env).  Works for
    on- and off-policy algorithms: values are recorded when episodes end (with the
    buffer as SB3 will hold it after that step) and at each rollout end, so every
    ``logger.dump`` (TensorBoard with ``tensorboard_log=``) carries them.

    Args:
        terms: the term names to log (default: every ``rk/return/<term>`` key found).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3 import PPO
        >>> from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor
        >>> from rewardkit.core import Constant
        >>> r = Constant(0.5, name="half")
        >>> venv = VecMonitor(VecRewardWrapper(DummyVecEnv([lambda: gym.make("CartPole-v1")]), r),
        ...                   info_keywords=monitor_keywords(r))
        >>> cb = TermReturnsCallback()
        >>> _ = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0).learn(64, callback=cb)
        >>> sorted(cb.last_means)
        ['rollout/ep_env_rew_mean', 'rollout/rk/half']
    """

    def __init__(self, terms: Iterable[str] | None = None, verbose: int = 0):
        super().__init__(verbose)
        self.terms = None if terms is None else list(terms)
        self.last_means: dict[str, float] = {}

    def _means(self, episodes: Sequence[dict[str, Any]]) -> dict[str, float]:
        keys: list[str] = []
        if self.terms is not None:
            keys = [_TERM_PREFIX + t for t in self.terms]
        else:
            for ep in episodes:
                keys += [k for k in ep if k.startswith(_TERM_PREFIX) and k not in keys]
        out: dict[str, float] = {}
        for k in keys:
            vals = [float(ep[k]) for ep in episodes if k in ep]
            if vals:
                out["rollout/rk/" + k[len(_TERM_PREFIX):]] = float(np.mean(vals))
        env = [float(ep[ENV_RETURN]) for ep in episodes if ENV_RETURN in ep]
        if env:
            out["rollout/ep_env_rew_mean"] = float(np.mean(env))
        return out

    def _record(self, episodes: Sequence[dict[str, Any]]) -> None:
        self.last_means = self._means(episodes)
        for k, v in self.last_means.items():
            self.logger.record(k, v)

    def _on_step(self) -> bool:
        new = [inf["episode"] for inf in self.locals.get("infos", ()) if inf.get("episode") is not None]
        if new:  # SB3 appends these to ep_info_buffer right after this call, and may dump before rollout end
            buf = self.model.ep_info_buffer
            maxlen = buf.maxlen if buf is not None and buf.maxlen is not None else len(new)
            self._record((list(buf or ()) + new)[-maxlen:])
        return True

    def _on_rollout_end(self) -> None:
        if self.model.ep_info_buffer:
            self._record(list(self.model.ep_info_buffer))
