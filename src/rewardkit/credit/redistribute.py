"""Return-equivalent reward redistribution: the shared mechanics.

Every decomposition method in :mod:`rewardkit.credit` predicts a per-step reward
:math:`\\hat r_t` for an episode of length :math:`T` with return :math:`R`.  Arjona-Medina et
al. (NeurIPS 2019, "RUDDER: Return Decomposition for Delayed Rewards") make the
redistribution *return-equivalent* by spreading the prediction error evenly:

.. math:: \\tilde r_t = \\hat r_t + \\frac{1}{T}\\Big(R - \\sum_{k} \\hat r_k\\Big),
          \\qquad \\sum_t \\tilde r_t = R \\text{ exactly.}

A return-equivalent MDP has the same optimal policies as the original one, so the
redistributed reward can replace the delayed one for learning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import BatchError
from rewardkit.core.extras import lazy_getattr

__all__ = ["coin_mass", "importance_redistribution", "return_equivalent"]

#: the Gymnasium wrapper lives in :mod:`.wrappers` (the 'env' extra); still importable from here
__getattr__ = lazy_getattr(__name__, {"DelayedRewardWrapper": "rewardkit.credit.wrappers"})


def return_equivalent(pred: np.ndarray, episode_return: float, mask: np.ndarray | None = None) -> np.ndarray:
    """Correct per-step predictions so they sum to the episode return (uniform correction).

    ``mask`` marks the valid steps of a padded episode; the correction goes to them only.

    Example:
        >>> return_equivalent(np.array([0.5, 0.0, 0.3]), 1.1).round(6).tolist()
        [0.6, 0.1, 0.4]
    """
    p = np.asarray(pred, dtype=np.float64)
    m = np.ones_like(p, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    n = int(m.sum())
    if n == 0:
        return np.zeros_like(p)
    out = np.where(m, p, 0.0)
    return out + m * (float(episode_return) - out.sum()) / n


def importance_redistribution(episode_return: float, weights: Any, floor: float = 0.0,
                              mask: np.ndarray | None = None) -> np.ndarray:
    """Spread an episode's return over its steps in proportion to importance weights (ReviBranch).

    ReviBranch (catalog #15, 2025, "Deep Reinforcement Learning for Branch-and-Bound with Revived
    Trajectories") densifies a terminal reward by importance-weighted redistribution:

    .. math:: \\tilde r_t = R\\,\\frac{\\tilde w_t}{\\sum_k \\tilde w_k},\\qquad
              \\tilde w_t = \\max(w_t, 0) + \\text{floor},\\qquad \\sum_t \\tilde r_t = R \\text{ exactly}.

    The weights say how much each step mattered: the positive part of a learned return
    decomposition (RUDDER's prediction differences), a value change :math:`|V(s_{t+1}) - V(s_t)|`,
    or a domain signal (ReviBranch uses the branch-and-bound tree's progress).  ``floor`` keeps
    every step some credit; with all weights zero the return is spread uniformly.  ``mask``
    marks the valid steps of a padded episode (the others get 0).

    Example:
        >>> importance_redistribution(2.0, [0.0, 3.0, 1.0]).tolist()
        [0.0, 1.5, 0.5]
        >>> importance_redistribution(1.0, [-1.0, 0.0]).tolist()      # no positive weight: uniform
        [0.5, 0.5]
    """
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(w)):
        raise BatchError("weights", "are not all finite", "finite importance weights")
    m = np.ones_like(w, dtype=bool) if mask is None else np.asarray(mask, dtype=bool).reshape(-1)
    if m.shape != w.shape:
        raise BatchError("mask", f"has shape {m.shape}", f"the weights' shape {w.shape}")
    w = np.where(m, np.clip(w, 0.0, None) + float(floor), 0.0)
    total = w.sum()
    if total <= 0:
        w = m.astype(np.float64)
        total = w.sum()
    return np.zeros_like(w) if total == 0 else float(episode_return) * w / total


def coin_mass(redistributed: np.ndarray, true_events: np.ndarray) -> float:
    """Share of the positive redistributed mass that lands on steps with a true reward event."""
    r = np.clip(np.asarray(redistributed, dtype=np.float64), 0, None)
    tot = r.sum()
    return float(r[np.asarray(true_events, dtype=bool)].sum() / tot) if tot > 0 else 0.0


def _pad(episodes: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    t_max = max(len(e) for e in episodes)
    d = np.asarray(episodes[0]).shape[1:]
    x = np.zeros((len(episodes), t_max, *d))
    m = np.zeros((len(episodes), t_max), dtype=bool)
    for i, e in enumerate(episodes):
        x[i, : len(e)] = e
        m[i, : len(e)] = True
    return x, m
