"""Process values and per-turn attribution: Monte-Carlo step values (ReST-MCTS*) and utterance rewards (Sotopia-RL).

**ReST-MCTS\\*** (Zhang et al., NeurIPS 2024, catalog #155).  The value of a partial solution
(a prefix of reasoning steps :math:`s_{1:k}`) is the probability that completing it reaches the known
correct answer, estimated by :math:`n` rollouts of a policy from the prefix:

.. math:: \\hat v(s_{1:k}) = \\frac1n \\sum_{j=1}^{n} \\mathbb{1}\\big[\\text{answer}(s_{1:k} \\oplus \\tau_j) = a^*\\big],
          \\qquad \\tau_j \\sim \\pi(\\cdot \\mid s_{1:k}).

These values label steps for process-reward-model training and pick self-training traces.
:func:`mc_step_values` computes them for every prefix of a solution; the per-step *process reward*
is the value increment :math:`\\hat v(s_{1:k}) - \\hat v(s_{1:k-1})` (:func:`value_increments`).

**Sotopia-RL** (catalog #46).  An episode-level score per dimension (goal, relationship,
knowledge ...) is split into utterance-level rewards by attribution weights (from an LLM labeller in
the paper; any function here), then the dimensions are combined with fixed weights:

.. math:: r_{t,d} = S_d\\,\\frac{\\alpha_{t,d}}{\\sum_{t'} \\alpha_{t',d}},\\qquad
          r_t = \\sum_d \\omega_d\\, r_{t,d},\\qquad \\sum_t r_{t,d} = S_d .
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..core.errors import BatchError, ConfigError
from ..core.seeding import seeded

__all__ = ["fit_trajectory_dpo", "implicit_step_rewards", "mc_step_values", "utterance_rewards", "value_increments"]


def mc_step_values(steps: Sequence[Any], rollout: Callable[[Sequence[Any], np.random.Generator], Any],
                   is_correct: Callable[[Any], bool], n_rollouts: int = 32, seed: int = 0) -> np.ndarray:
    """:math:`\\hat v` of every prefix ``steps[:k]``, ``k = 0 .. len(steps)``: the share of ``n_rollouts``
    completions ``rollout(prefix, rng)`` whose final answer ``is_correct``.

    Example:
        >>> def rollout(prefix, rng):          # finishes "count to 3", slipping with prob. 0.1 per step
        ...     x = list(prefix)
        ...     while len(x) < 3:
        ...         x.append(len(x) + 1 + (rng.random() < 0.1))
        ...     return x
        >>> v = mc_step_values([1, 2, 3], rollout, lambda x: x == [1, 2, 3], n_rollouts=200)
        >>> bool(v[0] < v[1] < v[2] < v[3] == 1.0), float(mc_step_values([1, 5], rollout, lambda x: x == [1, 2, 3])[-1])
        (True, 0.0)
    """
    if n_rollouts < 1:
        raise ConfigError("n_rollouts", f"got {n_rollouts}", "a positive number of rollouts")
    values = np.zeros(len(steps) + 1)
    with seeded(seed, torch=False) as rng:
        for k in range(len(steps) + 1):
            prefix = list(steps[:k])
            values[k] = np.mean([bool(is_correct(rollout(prefix, rng))) for _ in range(n_rollouts)])
    return values


def value_increments(values: Any) -> np.ndarray:
    """Per-step process rewards :math:`\\hat v_k - \\hat v_{k-1}` from prefix values (they sum to
    :math:`\\hat v_T - \\hat v_0`).

    Example:
        >>> value_increments([0.25, 0.5, 1.0]).tolist()
        [0.25, 0.5]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) < 2:
        raise BatchError("values", f"has shape {v.shape}", "prefix values v_0 .. v_T (at least two)")
    return np.diff(v)


def utterance_rewards(scores: Mapping[str, float], attributions: Mapping[str, Any],
                      dimension_weights: Mapping[str, float] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Split episode scores per dimension over utterances by attribution weights, then combine the dimensions.

    Args:
        scores: dimension -> episode score :math:`S_d`.
        attributions: dimension -> non-negative weights :math:`\\alpha_{t,d}` per utterance (same length
            for every dimension); all zeros spread :math:`S_d` uniformly.
        dimension_weights: dimension -> :math:`\\omega_d` (default 1 each).

    Returns:
        ``(r, per_dimension)``: the combined reward per utterance and each dimension's split.

    Example:
        >>> r, per = utterance_rewards({"goal": 1.0, "rel": 0.5}, {"goal": [0, 3, 1], "rel": [1, 1, 0]})
        >>> r.tolist(), per["goal"].tolist()
        ([0.25, 1.0, 0.25], [0.0, 0.75, 0.25])
    """
    if set(scores) != set(attributions):
        raise ConfigError("attributions", f"has dimensions {sorted(attributions)}", f"the scores' {sorted(scores)}")
    w = {d: 1.0 for d in scores} if dimension_weights is None else dict(dimension_weights)
    if set(w) != set(scores):
        raise ConfigError("dimension_weights", f"has dimensions {sorted(w)}", f"the scores' {sorted(scores)}")
    per: dict[str, np.ndarray] = {}
    length = None
    for d in sorted(scores):
        a = np.asarray(attributions[d], dtype=np.float64).reshape(-1)
        if length is None:
            length = len(a)
        if len(a) != length or length == 0 or np.any(a < 0) or not np.all(np.isfinite(a)):
            raise BatchError(f"attributions.{d}", f"has {len(a)} entries (min {a.min() if len(a) else 'n/a'})",
                             f"{length or 'some'} non-negative finite weights, one per utterance")
        share = a / a.sum() if a.sum() > 0 else np.full(len(a), 1.0 / len(a))
        per[d] = float(scores[d]) * share
    total = sum(w[d] * per[d] for d in sorted(per))
    return np.asarray(total, dtype=np.float64), per


def implicit_step_rewards(logits: Any, beta: float, ref_policy: Any = None) -> np.ndarray:
    """OPRL's implicit process reward :math:`r(s,a) = \\beta\\,(\\log\\pi_\\theta(a|s) - \\log\\pi_{ref}(a|s))`.

    OPRL (catalog #144, 2025, "Online Process Reward Learning for Agentic RL") trains the implicit
    PRM :math:`\\pi_\\theta` by trajectory-level DPO on outcome preferences (:func:`fit_trajectory_dpo`)
    and pays this per step.  With deterministic transitions the KL-regularised optimum satisfies
    :math:`\\beta\\log\\pi^*/\\pi_{ref} = Q^* - V^* = r + V^*(s') - V^*(s)` (Rafailov et al. 2024), so the
    step rewards are the outcome reward plus potential-based shaping and keep its optimal policies.

    Args:
        logits: ``(S, A)`` table of :math:`\\pi_\\theta`'s logits.
        beta: the DPO temperature :math:`\\beta > 0`.
        ref_policy: ``(S, A)`` reference probabilities (default uniform).

    Example:
        >>> implicit_step_rewards(np.log([[0.5, 0.25, 0.25]]), beta=1.0).round(3).tolist()
        [[0.405, -0.288, -0.288]]
    """
    theta = np.asarray(logits, dtype=np.float64)
    if theta.ndim != 2:
        raise BatchError("logits", f"has shape {theta.shape}", "a table (S, A) of logits")
    if beta <= 0:
        raise ConfigError("beta", f"got {beta!r}", "a positive DPO temperature")
    logp = theta - _logsumexp_rows(theta)
    ref = np.full_like(theta, 1.0 / theta.shape[1]) if ref_policy is None else np.asarray(ref_policy, dtype=np.float64)
    if ref.shape != theta.shape or np.any(ref <= 0):
        raise ConfigError("ref_policy", f"has shape {ref.shape} or zero entries", f"a full-support policy {theta.shape}")
    return float(beta) * (logp - np.log(ref))


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def fit_trajectory_dpo(preferred: Sequence[Sequence[tuple[int, int]]], rejected: Sequence[Sequence[tuple[int, int]]],
                       n_states: int, n_actions: int, beta: float = 0.5, lr: float = 0.5, iters: int = 300,
                       ref_policy: Any = None) -> np.ndarray:
    """Tabular :math:`\\pi_\\theta` logits fitted by trajectory-level DPO on (preferred, rejected) trajectories.

    .. math:: \\mathcal{L} = -\\log\\sigma\\Big(\\beta\\sum_{(s,a)\\in\\tau^+}\\log\\frac{\\pi_\\theta(a|s)}{\\pi_{ref}(a|s)}
              - \\beta\\sum_{(s,a)\\in\\tau^-}\\log\\frac{\\pi_\\theta(a|s)}{\\pi_{ref}(a|s)}\\Big)

    minimised by full-batch gradient descent with the exact gradient
    :math:`\\partial\\log\\pi_\\theta(a|s)/\\partial\\theta_{s,\\cdot} = e_a - \\pi_\\theta(\\cdot|s)`.  Trajectories
    are lists of ``(state, action)`` pairs.

    Example:
        >>> theta = fit_trajectory_dpo([[(0, 1)]], [[(0, 0)]], n_states=1, n_actions=2, iters=50)
        >>> bool(theta[0, 1] > theta[0, 0])
        True
    """
    if len(preferred) != len(rejected) or not preferred:
        raise ConfigError("preferred/rejected", f"got {len(preferred)} and {len(rejected)}", "equal, non-zero counts")

    def counts(trajs: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
        c = np.zeros((len(trajs), n_states, n_actions))
        for i, tr in enumerate(trajs):
            for s, a in tr:
                c[i, s, a] += 1.0
        return c

    cw, cl = counts(preferred), counts(rejected)
    dc = cw - cl                                               # (N, S, A)
    ref = np.full((n_states, n_actions), 1.0 / n_actions) if ref_policy is None else np.asarray(ref_policy, float)
    ref_term = (dc * np.log(ref)).sum(axis=(1, 2))
    theta = np.zeros((n_states, n_actions))
    for _ in range(iters):
        logp = theta - _logsumexp_rows(theta)
        z = beta * ((dc * logp).sum(axis=(1, 2)) - ref_term)
        g_pair = -(1.0 - 1.0 / (1.0 + np.exp(-z))) * beta       # dL/dz per pair
        pi = np.exp(logp)
        # d z / d theta[s, :] = beta * (dc[s, :] - (sum_a dc[s, a]) * pi[s, :])
        grad = np.einsum("n,nsa->sa", g_pair, dc) - np.einsum("n,ns->s", g_pair, dc.sum(axis=2))[:, None] * pi
        theta -= lr * grad / len(dc)
    return theta
