"""NGU's episodic novelty: a kNN kernel over a per-env episodic memory.

Badia, Sprechmann, Vitvitskyi, Guo, Piot, Kapturowski, Tieleman, Arjovsky, Pritzel,
Bolt & Blundell (2020), "Never Give Up: Learning Directed Exploration Strategies",
ICLR.  With controllable-state embeddings :math:`f(s)` (inverse dynamics) stored in
an episodic memory :math:`M`, the episodic reward of :math:`s_{t+1}` is

.. math::
    r^{ep}_t = \\frac{1}{\\sqrt{\\sum_{f_i \\in N_k} K(f(s_{t+1}), f_i)} + c}, \\qquad
    K(x, y) = \\frac{\\epsilon}{\\max(d^2(x,y)/d_m^2 - \\xi, 0) + \\epsilon}

over the :math:`k` nearest neighbours :math:`N_k` in :math:`M`, with :math:`d_m^2` a
running mean of the squared kNN distances, :math:`\\epsilon = 10^{-3}`,
:math:`\\xi = 0.008`, :math:`c = 10^{-3}`, and :math:`r^{ep} = 0` when the similarity
:math:`\\sqrt{\\sum K}` exceeds :math:`s_m = 8`.  The memory is emptied at every
episode end.

Implementation: one **fixed-size ring buffer per env**, preallocated as an
``(n_envs, capacity, d)`` array; each step computes the distances of all envs'
queries to their memories in one vectorised operation (no Python lists, no
per-transition loop – RLLTE keeps unbounded lists and searches them per env).

NGU's full intrinsic reward multiplies this by a life-long novelty multiplier
:math:`\\min(\\max(\\alpha_t, 1), L)` from RND – see
:class:`rewardkit.explore.combine.NGUMultiplier`.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from ..core.errors import ConfigError
from .icm import InverseDynamicsFeatureBonus

__all__ = ["EpisodicKNN", "ngu_kernel_reward"]


def ngu_kernel_reward(d2: np.ndarray, dm2: float, epsilon: float = 1e-3, cluster: float = 0.008,
                      c: float = 1e-3, max_similarity: float = 8.0) -> np.ndarray:
    """NGU's episodic reward from squared kNN distances ``d2`` ``(m, k)`` (``inf`` = empty slot).

    Example:
        >>> r = ngu_kernel_reward(np.array([[0.0, 0.0], [np.inf, np.inf]]), dm2=1.0)
        >>> r.round(3).tolist()   # two identical neighbours vs none
        [0.707, 1000.0]
    """
    dn = np.maximum(d2 / max(dm2, 1e-12) - cluster, 0.0)
    kern = epsilon / (dn + epsilon)
    kern[~np.isfinite(d2)] = 0.0
    sim = np.sqrt(kern.sum(axis=1))
    return np.where(sim > max_similarity, 0.0, 1.0 / (sim + c))


class EpisodicKNN(InverseDynamicsFeatureBonus):
    """NGU episodic kNN novelty with vectorised per-env ring buffers (see module docs).

    Args:
        obs_shape / observation_space; n_actions / action_dim / action_space (for the IDM).
        k: neighbours (10); capacity: memory slots per env (ring buffer, default 1024).
        encoder: ``"idm"`` (trained by :meth:`update`) or ``"random"`` (frozen).
        epsilon, cluster_distance, c, max_similarity: kernel constants of the paper.

    Example:
        >>> knn = EpisodicKNN(obs_shape=(2,), n_actions=2, k=3, capacity=8, seed=0)
        >>> o = np.zeros((1, 2), np.float32); f = [False]
        >>> b = [float(knn.observe(o, [0], o, f, f)[0]) for _ in range(3)]
        >>> b[0] > b[1] > b[2]   # the same state becomes less novel within the episode
        True
    """

    episodic = True
    inverse_loss_key = "knn_inverse_loss"

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 n_actions: int | None = None, action_dim: int | None = None, action_space: Any = None,
                 k: int = 10, capacity: int = 1024, latent_dim: int = 32, hidden: int = 128,
                 encoder: str = "idm", epsilon: float = 1e-3, cluster_distance: float = 0.008,
                 c: float = 1e-3, max_similarity: float = 8.0, lr: float = 1e-3, batch_size: int = 256,
                 update_epochs: int = 1, update_proportion: float = 1.0, obs_norm: bool = False,
                 num_envs: int | None = None, seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, lr=lr, batch_size=batch_size,
                         update_epochs=update_epochs, update_proportion=update_proportion,
                         obs_norm=obs_norm, num_envs=num_envs, seed=seed, name=name or "episodic_knn")
        if k < 1 or capacity < k:
            raise ConfigError("k", f"got k={k}, capacity={capacity}", "1 <= k <= capacity")
        self._build_features(n_actions, action_dim, action_space, encoder, latent_dim, hidden)
        self.k, self.capacity, self.latent_dim = int(k), int(capacity), int(latent_dim)
        self.kernel = dict(epsilon=float(epsilon), cluster=float(cluster_distance), c=float(c),
                           max_similarity=float(max_similarity))
        self.memory = np.zeros((0, self.capacity, self.latent_dim), dtype=np.float32)
        self.sizes = np.zeros(0, dtype=np.int64)
        self.ptr = np.zeros(0, dtype=np.int64)
        self.dm2_sum, self.dm2_count = 0.0, 0
        if num_envs:  # preallocate the per-env state
            self._ensure_envs(int(num_envs))

    def _ensure_envs(self, num_envs: int) -> None:
        have = self.memory.shape[0]
        if num_envs > have:
            extra = num_envs - have
            self.memory = np.concatenate([self.memory, np.zeros((extra, self.capacity, self.latent_dim),
                                                                dtype=np.float32)])
            self.sizes = np.concatenate([self.sizes, np.zeros(extra, dtype=np.int64)])
            self.ptr = np.concatenate([self.ptr, np.zeros(extra, dtype=np.int64)])

    def _reset_envs(self, env_index: np.ndarray) -> None:
        self.sizes[env_index] = 0
        self.ptr[env_index] = 0

    def embed(self, obs: Any) -> np.ndarray:
        return self.features(obs)

    def _write(self, emb: np.ndarray, env_index: np.ndarray) -> None:
        ok = np.isfinite(emb).all(axis=1)
        if not ok.all():  # never store a corrupt embedding
            emb, env_index = emb[ok], env_index[ok]
        self.memory[env_index, self.ptr[env_index]] = emb
        self.ptr[env_index] = (self.ptr[env_index] + 1) % self.capacity
        self.sizes[env_index] = np.minimum(self.sizes[env_index] + 1, self.capacity)

    def _register_initial(self, obs: Any, env_index: np.ndarray) -> None:
        self._write(self.embed(obs), env_index)

    def _score_and_write(self, emb: np.ndarray, env_index: np.ndarray) -> np.ndarray:
        if np.unique(env_index).size != env_index.size:  # repeated envs: keep their order
            return np.concatenate([self._score_and_write(emb[i: i + 1], env_index[i: i + 1])
                                   for i in range(env_index.size)])
        used = int(self.sizes[env_index].max()) if env_index.size else 0
        used = max(used, 1)
        mem = self.memory[env_index, :used]                # (m, used, d): only filled slots
        diff = mem - emb[:, None, :]
        d2 = np.einsum("mcd,mcd->mc", diff, diff)
        d2[np.arange(used)[None, :] >= self.sizes[env_index][:, None]] = np.inf
        k = min(self.k, used)
        knn = np.partition(d2, k - 1, axis=1)[:, :k] if k < used else d2
        knn = np.where(np.isnan(knn), np.inf, knn)
        finite = knn[np.isfinite(knn)]
        if finite.size:
            self.dm2_sum += float(finite.sum())
            self.dm2_count += int(finite.size)
        dm2 = self.dm2_sum / self.dm2_count if self.dm2_count else 1.0
        r = ngu_kernel_reward(knn, dm2, **self.kernel)
        r[~np.isfinite(emb).all(axis=1)] = np.nan
        self._write(emb, env_index)
        return r

    def _observe(self, obs, action, next_obs, env_index) -> np.ndarray:
        return self._score_and_write(self.embed(next_obs), env_index)

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a rollout: one batched embedding pass, then vectorised memory steps."""
        return self._scan_episodic_rollout(batch, self._scan_steps)

    def _scan_steps(self, emb: np.ndarray, emb0: np.ndarray, starts: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Per step: write the episode starts, score (and write) the next states, reset ended episodes."""
        T, n = done.shape
        idx = np.arange(n)
        out = np.zeros((T, n))
        for t in range(T):
            if starts[t].any():
                e = np.flatnonzero(starts[t])
                self._write(emb0[t, e], e)
            out[t] = self._score_and_write(emb[t], idx)
            if done[t].any():
                self._reset_envs(np.flatnonzero(done[t]))
        return out

