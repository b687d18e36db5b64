"""One critic per reward term (SLIM): per-term advantages, normalised, then weighted.

SLIM (Emukpere et al., "SLIM: Skill Learning with Multiple Critics", ICRA 2024) trains
one value function per reward term and combines the *advantages*, not the rewards:

.. math:: A = \\sum_k w_k \\frac{A_k - \\mu(A_k)}{\\sigma(A_k) + \\epsilon}

so a large-scale term cannot drown a small one in a single shared critic.  This module
provides the pure parts: GAE per term (one value head each, :func:`per_term_gae`, a call
to :func:`rewardkit.core.gae` per term) and the normalised combination.  The per-term
critics themselves are whatever networks the learner uses.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.errors import BatchError
from ..core.gae import gae

__all__ = ["multi_critic_advantage", "per_term_gae"]


def per_term_gae(rewards: Mapping[str, np.ndarray], values: Mapping[str, np.ndarray],
                 next_values: Mapping[str, np.ndarray], discounts: np.ndarray | float, lam: float,
                 episode_ends: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """GAE per reward term, one critic each: :math:`A_k =` :func:`rewardkit.core.gae` of term ``k``.

    All terms share the rollout's ``discounts`` (:math:`\\gamma(1-\\text{terminated}_t)`) and
    ``episode_ends`` (``terminated | truncated``); ``values[k]``/``next_values[k]`` are term
    ``k``'s critic at :math:`s_t` and at the true next state :math:`s'_t` (see
    :func:`rewardkit.core.bootstrap_values`).  Feed the result to :func:`multi_critic_advantage`.

    Example:
        >>> import numpy as np
        >>> z = np.zeros((2, 1)); ends = np.array([[False], [True]])
        >>> a = per_term_gae({"goal": np.array([[0.0], [1.0]]), "step": np.full((2, 1), -0.1)},
        ...                  {"goal": z, "step": z}, {"goal": z, "step": z}, discounts=0.5, lam=1.0,
        ...                  episode_ends=ends)
        >>> a["goal"].ravel().tolist(), a["step"].ravel().round(3).tolist()
        ([0.5, 1.0], [-0.15, -0.1])
    """
    if not rewards:
        raise BatchError("rewards", "empty", "one (T, ...) array per reward term")
    missing = sorted(set(rewards) - (set(values) & set(next_values)))
    if missing:
        raise BatchError("values/next_values", f"no critic for {missing}", "one per reward term")
    return {k: gae(r, values[k], next_values[k], discounts, lam, episode_ends) for k, r in rewards.items()}


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
