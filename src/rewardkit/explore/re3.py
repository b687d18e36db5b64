"""RE3: Random Encoders for Efficient Exploration (kNN state entropy).

Seo, Chen, Shin, Lee, Abbeel & Lee (2021), "State Entropy Maximization with Random
Encoders for Efficient Exploration", ICML.  Embed states with a **frozen, randomly
initialised** encoder :math:`y = f(s)` and reward the particle-based (k-NN) estimate
of state entropy:

.. math:: b_t = \\log\\big(1 + \\lVert y_{t+1} - y_{t+1}^{(k)} \\rVert_2\\big)

where :math:`y^{(k)}` is the k-th nearest neighbour among recent embeddings
(``average=True`` averages the log-distances over neighbours 1..k).  Recent
embeddings live in a fixed-size ring buffer (``storage_size``) shared by all envs;
a rollout is scored against the buffer plus the rollout's other states.  Nothing is
trained (``update`` is a no-op) – the cheap prior of a random CNN is the point.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    import torch
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "learn") from None

from ..core.errors import ConfigError
from ._linalg import mm
from .base import as_float_obs, rollout_arrays
from ..core.seeding import seeded
from .nets import LearnedBonus, freeze, make_encoder

__all__ = ["RE3"]


class RE3(LearnedBonus):
    """Random-encoder kNN state-entropy bonus (see module docs).

    Args:
        obs_shape / observation_space; latent_dim (64); k (3); storage_size (1000);
        average: average over the k neighbours instead of the k-th only.

    Example:
        >>> re3 = RE3(obs_shape=(2,), k=1, storage_size=16, obs_norm=False, seed=0)
        >>> f = [False]
        >>> _ = re3.observe(np.zeros((1, 2)), [0], np.zeros((1, 2)), f, f)
        >>> same = re3.observe(np.zeros((1, 2)), [0], np.zeros((1, 2)), f, f)[0]
        >>> far = re3.observe(np.zeros((1, 2)), [0], np.full((1, 2), 9.0), f, f)[0]
        >>> float(same), bool(far > 0)
        (0.0, True)
    """

    learned = False

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 latent_dim: int = 64, hidden: int = 128, k: int = 3, storage_size: int = 1000,
                 average: bool = False, obs_norm: bool = True, num_envs: int | None = None, seed: int = 0,
                 name: str | None = None):
        super().__init__(obs_shape, observation_space, obs_norm=obs_norm, num_envs=num_envs, seed=seed,
                         name=name or "re3")
        if k < 1 or storage_size < 1:
            raise ConfigError("k", f"got k={k}, storage_size={storage_size}", "positive ints")
        with seeded(self.seed):
            self.encoder = make_encoder(self.obs_shape, latent_dim, hidden)
        freeze(self.encoder)
        self.k, self.average = int(k), bool(average)
        self.storage = np.zeros((int(storage_size), int(latent_dim)), dtype=np.float32)
        self.size, self.ptr = 0, 0

    def embed(self, obs: Any) -> np.ndarray:
        with torch.no_grad():
            return self.encoder(self._obs_tensor(obs)).numpy()

    def _add(self, emb: np.ndarray) -> None:
        emb = emb[np.isfinite(emb).all(axis=1)]  # never store a corrupt embedding
        cap = self.storage.shape[0]
        emb = emb[-cap:]
        idx = (self.ptr + np.arange(emb.shape[0])) % cap
        self.storage[idx] = emb
        self.ptr = int((self.ptr + emb.shape[0]) % cap)
        self.size = min(self.size + emb.shape[0], cap)

    def _knn_bonus(self, q: np.ndarray, cand: np.ndarray, self_mask: np.ndarray | None = None) -> np.ndarray:
        if cand.shape[0] == 0:
            return np.zeros(q.shape[0])
        d2 = (q * q).sum(1)[:, None] - 2.0 * mm(q, cand.T) + (cand * cand).sum(1)[None, :]
        d = np.sqrt(np.maximum(d2, 0.0)).astype(np.float64)
        if self_mask is not None:
            d[self_mask] = np.inf
        avail = cand.shape[0] - (1 if self_mask is not None else 0)
        if avail <= 0:
            return np.zeros(q.shape[0])
        k = min(self.k, avail)
        part = np.partition(d, k - 1, axis=1)
        if self.average:
            return np.log1p(np.sort(part[:, :k], axis=1)).mean(axis=1)
        return np.log1p(part[:, k - 1])

    def _observe(self, obs, action, next_obs, env_index) -> np.ndarray:
        q = self.embed(next_obs)
        out = self._knn_bonus(q, self.storage[: self.size])
        self._add(q)
        return out

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        """Nothing to train: the encoder stays random (the point of RE3)."""
        return {}

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a rollout against the buffer and the rollout's other states, then store it."""
        _obs, _acts, nxt, _term, _trunc, T, n = rollout_arrays(batch)
        q = self.embed(as_float_obs(nxt).reshape((T * n, *self.obs_shape)))
        cand = np.concatenate([q, self.storage[: self.size]], axis=0)
        mask = np.zeros((q.shape[0], cand.shape[0]), dtype=bool)
        mask[np.arange(q.shape[0]), np.arange(q.shape[0])] = True
        out = self._knn_bonus(q, cand, mask).reshape(T, n)
        self._add(q)
        self.global_step += T * n
        return out
