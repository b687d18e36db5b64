"""Generalised advantage estimation: the one GAE of rewardkit.

Schulman, Moritz, Levine, Jordan & Abbeel (2016), "High-Dimensional Continuous Control
Using Generalized Advantage Estimation" (ICLR).  Pure NumPy, batched: time is axis 0,
any trailing batch shape ``B`` (envs, reward terms, ...) is carried along.

Conventions (one for the whole library):

* ``next_values[t]`` is :math:`V(s'_t)`, the value of the *true* next state of step ``t``:
  the next stored state inside an episode, the final observation where an episode ended
  (see :func:`bootstrap_values`), the value of the state after the rollout at ``t = T-1``.
* ``discounts[t]`` is :math:`d_t = \\gamma (1 - \\text{terminated}_t)`: termination zeroes
  the bootstrap, truncation keeps it (the episode could have gone on).
* ``episode_ends[t]`` (``terminated_t or truncated_t``) cuts the :math:`\\lambda`-trace, so
  no advantage after an episode end flows into a step before it.  Where it is omitted, an
  episode ends only where ``discounts`` is 0, which is right only if nothing was truncated.

.. math::
    \\delta_t = r_t + d_t V(s'_t) - V(s_t), \\qquad
    A_t = \\delta_t + d_t \\lambda_t (1 - \\text{end}_t) A_{t+1}, \\qquad A_T = 0,

i.e. :math:`A_t = \\delta_t + \\gamma\\lambda(1 - \\text{end}_t) A_{t+1}` for
:math:`d_t = \\gamma(1 - \\text{terminated}_t)`.  A non-episodic stream (RND's intrinsic
reward) passes a constant ``discounts`` and no ``episode_ends``.  The value targets are
``advantages + values`` (the :math:`\\lambda`-returns).
"""

from __future__ import annotations

import numpy as np

from .errors import BatchError

__all__ = ["bootstrap_values", "gae"]


def _same_shape(name: str, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if a.shape == shape:
        return a
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise BatchError(name, f"has shape {a.shape}", f"shape {shape} (time first, like rewards)") from None


def gae(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray, discounts: np.ndarray | float,
        lam: np.ndarray | float, episode_ends: np.ndarray | None = None) -> np.ndarray:
    """Advantages :math:`A_t = \\delta_t + d_t\\lambda_t(1-\\text{end}_t)A_{t+1}` over a ``(T, *B)`` rollout.

    Args:
        rewards: ``(T, *B)`` rewards :math:`r_t`.
        values: ``(T, *B)`` :math:`V(s_t)`.
        next_values: ``(T, *B)`` :math:`V(s'_t)` of the true next state (final observation at an end).
        discounts: ``(T, *B)`` or a scalar, :math:`d_t = \\gamma(1-\\text{terminated}_t)`.
        lam: :math:`\\lambda` in ``[0, 1]``, a scalar or per step ``(T, *B)``.
        episode_ends: ``(T, *B)`` bool, ``terminated | truncated``: cuts the trace.

    Returns the ``(T, *B)`` float64 advantages; the value targets are ``advantages + values``.

    Example:
        >>> import numpy as np
        >>> r = np.array([0.0, 1.0, 0.0]); v = np.zeros(3)
        >>> nv = np.array([0.0, 5.0, 0.0])          # step 1 was truncated: bootstrap V(final obs) = 5
        >>> gae(r, v, nv, discounts=0.5, lam=1.0, episode_ends=np.array([False, True, False])).tolist()
        [1.75, 3.5, 0.0]
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim == 0:
        raise BatchError("rewards", "is a scalar", "an array with time on axis 0")
    shape = r.shape
    v = _same_shape("values", np.asarray(values, dtype=np.float64), shape)
    nv = _same_shape("next_values", np.asarray(next_values, dtype=np.float64), shape)
    d = _same_shape("discounts", np.asarray(discounts, dtype=np.float64), shape)
    lm = _same_shape("lam", np.asarray(lam, dtype=np.float64), shape)
    if np.any((lm < 0) | (lm > 1)):
        raise BatchError("lam", "has values outside [0, 1]", "a number in [0, 1] (or one per step)")
    trace = d * lm
    if episode_ends is not None:
        ends = _same_shape("episode_ends", np.asarray(episode_ends, dtype=bool), shape)
        trace = np.where(ends, 0.0, trace)
    delta = r + d * nv - v
    adv = np.empty(shape, dtype=np.float64)
    acc = np.zeros(shape[1:], dtype=np.float64)
    for t in range(shape[0] - 1, -1, -1):
        acc = delta[t] + trace[t] * acc
        adv[t] = acc
    return adv


def bootstrap_values(values: np.ndarray, last_values: np.ndarray, final_values: np.ndarray | None = None,
                     episode_ends: np.ndarray | None = None) -> np.ndarray:
    """:math:`V(s'_t)` for :func:`gae` from the stored ``(T, *B)`` values of a rollout.

    ``next[t] = values[t+1]`` for ``t < T-1`` and ``next[T-1] = last_values`` (the value
    of the observation after the rollout); where ``episode_ends[t]``, the stored next state
    is the *reset* observation, so ``next[t] = final_values[t]`` (the value of the final
    observation) if given.  Without ``final_values`` the reset value stays: harmless at a
    termination (``discounts`` zeroes it), wrong at a truncation.

    Example:
        >>> import numpy as np
        >>> bootstrap_values(np.array([1.0, 2.0, 3.0]), np.array(4.0), np.array([0.0, 9.0, 0.0]),
        ...                  np.array([False, True, False])).tolist()
        [2.0, 9.0, 4.0]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0:
        raise BatchError("values", "is a scalar", "an array with time on axis 0")
    out = np.empty_like(v)
    out[:-1] = v[1:]
    out[-1] = _same_shape("last_values", np.asarray(last_values, dtype=np.float64), v.shape[1:])
    if final_values is not None:
        if episode_ends is None:
            raise BatchError("episode_ends", "missing while final_values is given", "a (T, ...) bool array")
        fv = _same_shape("final_values", np.asarray(final_values, dtype=np.float64), v.shape)
        ends = _same_shape("episode_ends", np.asarray(episode_ends, dtype=bool), v.shape)
        out = np.where(ends, fv, out)
    return out
