"""Rewarding Impact-Driven Exploration (RIDE).

Raileanu & Rocktäschel (2020), "RIDE: Rewarding Impact-Driven Exploration for
Procedurally-Generated Environments", ICLR.  The bonus is the change a transition
makes in a learned state embedding, discounted by an *episodic* count of the new
state:

.. math:: b_t = \\frac{\\lVert \\phi(s_{t+1}) - \\phi(s_t) \\rVert_2}{\\sqrt{N_{ep}(s_{t+1})}}

:math:`\\phi` is trained with ICM's forward and inverse-dynamics losses (so it
encodes what the agent controls); :math:`N_{ep}` counts exact observations within
the current episode (reset on ``terminated | truncated``; the reset frame counts).
This is the paper's formula – RLLTE's ``RIDE`` replaces the count by NGU's kNN
kernel and the L2 norm by an MSE.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    import torch
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "learn") from None

from .base import rollout_arrays
from .counts import CountBonus
from .icm import ICM

__all__ = ["RIDE"]


class RIDE(ICM):
    """Impact-driven bonus :math:`\\lVert\\phi(s')-\\phi(s)\\rVert_2 / \\sqrt{N_{ep}(s')}` (see module docs).

    Args:
        key_fn: the episodic count key (default: the exact observation, ``"obs_hash"``).
        other args: as :class:`~rewardkit.explore.icm.ICM` (the embedding is trained the same way).

    Example:
        >>> ride = RIDE(obs_shape=(3,), n_actions=2, seed=0)
        >>> o, o2 = np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32)
        >>> f = [False]
        >>> b1 = ride.observe(o, [0], o2, f, f)[0]; b2 = ride.observe(o, [0], o2, f, f)[0]
        >>> bool(np.isclose(b2, b1 / np.sqrt(2)))   # same impact, second visit in the episode
        True
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 n_actions: int | None = None, action_dim: int | None = None, action_space: Any = None,
                 key_fn: str | Callable[[Any], Any] = "obs_hash", latent_dim: int = 64, hidden: int = 128,
                 lr: float = 1e-3, batch_size: int = 256, update_epochs: int = 1,
                 update_proportion: float = 1.0, obs_norm: bool = False, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, n_actions=n_actions, action_dim=action_dim,
                         action_space=action_space, latent_dim=latent_dim, hidden=hidden, beta=0.2, eta=1.0,
                         lr=lr, batch_size=batch_size, update_epochs=update_epochs,
                         update_proportion=update_proportion, obs_norm=obs_norm, num_envs=num_envs,
                         seed=seed, name=name or "ride")
        self.counts = CountBonus(mode="episodic", key_fn=key_fn, num_envs=num_envs)

    def impact(self, obs: Any, next_obs: Any) -> np.ndarray:
        """:math:`\\lVert\\phi(s')-\\phi(s)\\rVert_2` per row (no state change)."""
        with torch.no_grad():
            o, n = self._obs_tensor(obs), self._obs_tensor(next_obs)
            both = self.idm(torch.cat([o, n], dim=0))
        return (both[o.shape[0]:] - both[: o.shape[0]]).norm(dim=1).numpy().astype(np.float64)

    def observe(self, obs, action, next_obs, terminated, truncated, env_index=None) -> np.ndarray:
        imp = self.impact(obs, next_obs)
        inv_sqrt = self.counts.observe(obs, action, next_obs, terminated, truncated, env_index)
        self.global_step += imp.shape[0]
        return imp * inv_sqrt

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a rollout: one batched embedding pass, then the episodic counts step by step."""
        obs, _acts, nxt, term, trunc, T, n = rollout_arrays(batch)
        if T == 0:
            return np.zeros((0, n))

        def encode(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return self.idm(self._obs_tensor(x)).numpy()

        e_obs, e_nxt = self._embed_consecutive(obs, nxt, term | trunc, encode)
        imp = np.linalg.norm(e_nxt.astype(np.float64) - e_obs, axis=2)
        out = imp * self.counts.compute(batch)
        self.global_step += T * n
        return out

    def reset(self, mask: Any = None) -> None:
        self.counts.reset(mask)
