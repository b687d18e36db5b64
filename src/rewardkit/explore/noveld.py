"""NovelD (a.k.a. BeBold): novelty difference at the boundary of the explored region.

Zhang, Xu, Wang, Wu, Keutzer, Gonzalez & Tian (2021), "NovelD: A Simple yet
Effective Exploration Criterion", NeurIPS.  With :math:`N(s)` an RND novelty
(prediction error, Burda et al. 2019), the bonus rewards *crossing* from explored to
unexplored states, once per episode:

.. math:: b_t = \\max\\big(N(s_{t+1}) - \\alpha N(s_t),\\ 0\\big)\\cdot
          \\mathbb{1}[N_{ep}(s_{t+1}) = 1]

(:math:`\\alpha = 0.5`; :math:`N_{ep}` an episodic count of exact observations).
``first_visit=False`` drops the indicator; with ``alpha=0`` it is plain RND – the
global terms of E3B x NovelD / E3B x RND (Henaff et al. 2023).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .base import IntrinsicBonus, _take, as_float_obs, rollout_arrays
from .counts import CountBonus
from .rnd import RND

__all__ = ["NovelD"]


class NovelD(IntrinsicBonus):
    """NovelD bonus (see module docs).  ``update`` trains the inner :class:`~rewardkit.explore.rnd.RND`.

    Args:
        obs_shape / observation_space: as RND.
        alpha: the scale :math:`\\alpha` of the current state's novelty (0.5).
        first_visit: multiply by the episodic first-visit indicator (True).
        key_fn: key of the episodic count (default exact observation).
        rnd_kwargs: extra arguments of the inner RND (its reward scaling is off: NovelD
            differences raw errors).

    Example:
        >>> nd = NovelD(obs_shape=(3,), seed=0)
        >>> o = np.zeros((1, 3), np.float32); f = [False]
        >>> first = nd.observe(o, [0], o + 1, f, f)[0]; again = nd.observe(o, [0], o + 1, f, f)[0]
        >>> bool(first > 0), float(again)   # the second visit in the episode earns nothing
        (True, 0.0)
    """

    learned = True

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 alpha: float = 0.5, first_visit: bool = True, key_fn: str | Callable[[Any], Any] = "obs_hash",
                 num_envs: int | None = None, seed: int = 0, name: str | None = None, **rnd_kwargs: Any):
        super().__init__(num_envs=num_envs, seed=seed, name=name or "noveld")
        rnd_kwargs.setdefault("reward_norm", False)
        self.rnd = RND(obs_shape, observation_space, seed=seed, **rnd_kwargs)
        self.obs_shape = self.rnd.obs_shape
        self.alpha = float(alpha)
        self.first_visit = bool(first_visit)
        self.counts = CountBonus(mode="first_visit", key_fn=key_fn, num_envs=num_envs) if first_visit else None

    def novelty(self, obs: Any) -> np.ndarray:
        """RND novelty :math:`N(s)` of a batch (no state change)."""
        return self.rnd.raw_bonus(obs)

    def _diff(self, obs: Any, next_obs: Any) -> np.ndarray:
        m = np.shape(as_float_obs(next_obs))[0]
        both = self.novelty(np.concatenate([as_float_obs(obs), as_float_obs(next_obs)], axis=0))
        return np.maximum(both[m:] - self.alpha * both[:m], 0.0)

    def observe(self, obs, action, next_obs, terminated, truncated, env_index=None) -> np.ndarray:
        d = self._diff(obs, next_obs)
        if self.counts is not None:
            d = d * self.counts.observe(obs, action, next_obs, terminated, truncated, env_index)
        self.global_step += d.shape[0]
        return d

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        obs, _acts, nxt, term, trunc, T, n = rollout_arrays(batch)
        flat = lambda x: as_float_obs(x).reshape((T * n, *self.obs_shape))  # noqa: E731
        d = self._diff(flat(obs), flat(nxt)).reshape(T, n)
        if self.counts is not None:
            for t in range(T):
                d[t] *= self.counts.observe(_take(obs, t), None, _take(nxt, t), term[t], trunc[t])
        self.global_step += T * n
        return d

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        return self.rnd.update(batch)

    def warmup(self, obs: Any) -> None:
        self.rnd.warmup(obs)

    def reset(self, mask: Any = None) -> None:
        if self.counts is not None:
            self.counts.reset(mask)
