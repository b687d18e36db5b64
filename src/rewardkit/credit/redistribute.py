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

import numpy as np

from rewardkit.core.extras import lazy_getattr

__all__ = ["coin_mass", "return_equivalent"]

#: the Gymnasium wrapper lives in :mod:`.wrappers` (the 'env' extra); still importable from here
__getattr__ = lazy_getattr("rewardkit.credit", {"DelayedRewardWrapper": "wrappers"})


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
