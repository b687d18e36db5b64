"""One critic per reward term (SLIM): per-term advantages, normalised, then weighted.

SLIM (Emukpere et al., "SLIM: Skill Learning with Multiple Critics", ICRA 2024) trains
one value function per reward term and combines the *advantages*, not the rewards:

.. math:: A = \\sum_k w_k \\frac{A_k - \\mu(A_k)}{\\sigma(A_k) + \\epsilon}

so a large-scale term cannot drown a small one in a single shared critic.  This module
provides the pure parts: GAE per term (one value head each) and the normalised
combination.  The per-term critics themselves are whatever networks the learner uses.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["gae", "multi_critic_advantage"]


def gae(rewards: np.ndarray, values: np.ndarray, last_value: np.ndarray, terminated: np.ndarray,
        truncated: np.ndarray | None = None, gamma: float = 0.99, lam: float = 0.95,
        next_values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation (Schulman et al. 2016) over ``(T, n_envs)`` arrays.

    :math:`\\delta_t = r_t + \\gamma V(s_{t+1})(1 - d^{term}_t) - V(s_t)`,
    :math:`A_t = \\delta_t + \\gamma\\lambda(1 - d_t) A_{t+1}` where :math:`d_t` is
    ``terminated | truncated``.  On truncation the bootstrap value of the true final state
    is used if ``next_values`` gives it (else the stored next value).

    Returns ``(advantages, returns)`` with ``returns = advantages + values``.

    Example:
        >>> import numpy as np
        >>> adv, ret = gae(np.array([[0.0], [1.0]]), np.zeros((2, 1)), np.zeros(1), np.array([[0], [1]]),
        ...                gamma=0.5, lam=1.0)
        >>> adv.ravel().tolist()
        [0.5, 1.0]
    """
    r = np.asarray(rewards, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    term = np.asarray(terminated, dtype=bool)
    trunc = np.zeros_like(term) if truncated is None else np.asarray(truncated, dtype=bool)
    t_len = r.shape[0]
    nv = np.empty_like(v)
    nv[:-1] = v[1:]
    nv[-1] = np.asarray(last_value, dtype=np.float64)
    if next_values is not None:
        nv = np.where(trunc, np.asarray(next_values, dtype=np.float64), nv)
    adv = np.zeros_like(r)
    running = np.zeros(r.shape[1:])
    for t in reversed(range(t_len)):
        delta = r[t] + gamma * nv[t] * (~term[t]) - v[t]
        running = delta + gamma * lam * (~(term[t] | trunc[t])) * running
        adv[t] = running
    return adv, adv + v


def multi_critic_advantage(advantages: Mapping[str, np.ndarray], weights: Mapping[str, float] | None = None,
                           normalize: bool = True, eps: float = 1e-8) -> np.ndarray:
    """Combine per-term advantages: :math:`\\sum_k w_k \\, \\mathrm{norm}(A_k)`.

    Example:
        >>> import numpy as np
        >>> a = multi_critic_advantage({"big": np.array([100.0, 0.0, -100.0]), "small": np.array([0.0, 0.02, 0.01])})
        >>> (a.round(2) + 0.0).tolist()   # the 0.01-scale term now counts as much as the 100-scale one
        [0.0, 1.22, -1.22]
    """
    if not advantages:
        raise ValueError("advantages: empty; expected one array per reward term")
    out = None
    for k, a in advantages.items():
        a = np.asarray(a, dtype=np.float64)
        if normalize:
            a = (a - a.mean()) / (a.std() + eps)
        w = 1.0 if weights is None else float(weights.get(k, 1.0))
        out = w * a if out is None else out + w * a
    return out  # type: ignore[return-value]
