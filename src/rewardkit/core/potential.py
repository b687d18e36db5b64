"""The one potential-based shaping primitive: :math:`F = \\gamma\\,(1 - \\text{terminated})\\,\\Phi(s') - \\Phi(s)`.

Ng, Harada & Russell (1999), "Policy invariance under reward transformations: Theory and
application to reward shaping", ICML.  Adding

.. math:: F(s, a, s') = \\gamma\\,(1 - \\text{terminated})\\,\\Phi(s') - \\Phi(s)

to every reward leaves the optimal policies unchanged, because along an episode the
discounted shaping telescopes:

.. math::
    \\sum_{t=0}^{T-1} \\gamma^t F_t =
    \\begin{cases} -\\Phi(s_0) & \\text{the episode terminated in } s_T,\\\\
                   \\gamma^T \\Phi(s_T) - \\Phi(s_0) & \\text{it was truncated (time limit) at } s_T. \\end{cases}

**The terminal convention** (the only one in rewardkit): :math:`\\Phi = 0` at *termination*,
never at *truncation*.  A terminated episode equals one that stays forever in a zero-reward
absorbing state, whose potential must be a constant that telescopes away - 0.  A non-zero
terminal potential adds :math:`\\gamma^T\\Phi(s_T)`, a bonus that depends on *when* the episode
ends and can change the optimal policy.  A truncated :math:`s'` is not terminal: the agent
bootstraps from it, so its potential is kept (zeroing it would charge :math:`-\\Phi(s)` at
every time-out).

Variants are calls to the same function with other potentials passed in: action potentials
:math:`\\Phi(s,a)` (look-ahead advice, Wiewiora, Cottrell & Elkan 2003) pass
:math:`\\Phi(s_t,a_t)` and :math:`\\Phi(s_{t+1},a_{t+1})`; dynamic potentials :math:`\\Phi(s,t)`
(Devlin & Kudenko 2012) pass the value paid when :math:`s` was entered and :math:`\\Phi(s',t+1)`;
expected shaping on a tabular MDP passes :math:`\\mathbb E_{s'}[(1-\\text{term}(s'))\\Phi(s')]`
with ``terminated=False``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["potential_difference"]


def _check_gamma(gamma: Any) -> float:
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ConfigError("gamma", f"got {gamma!r}", "a discount factor in [0, 1]") from None
    if not (math.isfinite(g) and 0.0 <= g <= 1.0):
        raise ConfigError("gamma", f"got {gamma!r}", "a discount factor in [0, 1]")
    return g


def potential_difference(phi: Any, phi_next: Any, gamma: float, terminated: Any = False) -> Any:
    """Potential-based shaping :math:`F = \\gamma\\,(1-\\text{terminated})\\,\\Phi(s') - \\Phi(s)` (Ng et al. 1999).

    Batched and pure: ``phi`` (:math:`\\Phi(s)`), ``phi_next`` (:math:`\\Phi(s')`) and
    ``terminated`` broadcast against each other.  NumPy in, NumPy out (lists and scalars
    are converted; a scalar batch gives a 0-d array).  Torch tensors are also accepted and
    stay tensors, so a learned potential keeps its gradient.  Pass ``terminated`` - never
    ``done`` - so that truncated transitions keep :math:`\\gamma\\Phi(s')` (see the module docs).

    Args:
        phi: :math:`\\Phi(s)`, shape ``(n,)`` or anything broadcastable.
        phi_next: :math:`\\Phi(s')`; ignored (may be NaN) where ``terminated``.
        gamma: **the agent's** discount factor, in [0, 1].
        terminated: bool flags, true where :math:`s'` is a terminal (absorbing) state.

    Example:
        >>> potential_difference([0.0, 1.0, 1.0], [1.0, 2.0, 2.0], 0.5, terminated=[False, True, False]).tolist()
        [0.5, -1.0, 0.0]
    """
    g = _check_gamma(gamma)
    if hasattr(phi_next, "masked_fill"):  # a torch tensor: keep the autograd graph
        term = terminated if hasattr(terminated, "bool") else np.asarray(terminated, dtype=bool)
        if isinstance(term, np.ndarray):
            import torch
            term = torch.as_tensor(term, device=phi_next.device)
        kept = phi_next.masked_fill(term.bool(), 0.0)
    else:
        kept = np.where(np.asarray(terminated, dtype=bool), 0.0, np.asarray(phi_next, dtype=np.float64))
    if not hasattr(phi, "masked_fill"):
        phi = np.asarray(phi, dtype=np.float64)
    return g * kept - phi
