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

__all__ = ["mc_step_values", "utterance_rewards", "value_increments"]


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
