"""Stepwise progress attribution (SPA-RL) with a small model, and a per-step learned reward term.

SPA-RL (Wang et al. 2025, "SPA-RL: Reinforcing LLM Agents via Stepwise Progress
Attribution") trains a progress estimator whose per-step contributions :math:`c_t` sum to
the episode outcome :math:`y`:

.. math:: L = \\Big(\\sum_{t=1}^{T} c_\\theta(x_t) - y\\Big)^2, \\qquad
          r_t = c_\\theta(x_t) + \\beta\\,\\mathbb 1[\\text{action } t \\text{ was executable}].

The paper's estimator is an LLM with a linear head; here :math:`c_\\theta` is a ridge
regression on user features (exact least squares, since :math:`\\sum_t c_\\theta(x_t) =
\\theta^\\top\\sum_t x_t`), which is what fits a CPU and a gridworld or text-game toy.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from rewardkit.core import RewardTerm, TransitionBatch

from .redistribute import return_equivalent

__all__ = ["ProgressAttribution", "StepRewardTerm"]


class ProgressAttribution:
    """Per-step contributions that sum to the outcome, plus an optional grounding bonus.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> eps = [np.eye(3)[rng.integers(3, size=6)] for _ in range(100)]
        >>> outcome = [float(e[:, 0].sum() >= 2) for e in eps]
        >>> pa = ProgressAttribution().fit(eps, outcome)
        >>> c = pa.contributions(eps[0]); bool(abs(c.sum() - pa.predict_outcome(eps[0])) < 1e-9)
        True
    """

    def __init__(self, ridge: float = 1e-3, grounding_bonus: float = 0.0):
        self.ridge = float(ridge)
        self.grounding_bonus = float(grounding_bonus)
        self.theta: np.ndarray | None = None

    def fit(self, episodes: Sequence[np.ndarray], outcomes: Sequence[float]) -> ProgressAttribution:
        sums = np.stack([np.asarray(e, dtype=np.float64).reshape(len(e), -1).sum(0) for e in episodes])
        y = np.asarray(outcomes, dtype=np.float64)
        d = sums.shape[1]
        self.theta = np.linalg.solve(sums.T @ sums + self.ridge * np.eye(d), sums.T @ y)
        return self

    def contributions(self, episode: np.ndarray) -> np.ndarray:
        if self.theta is None:
            raise RuntimeError("ProgressAttribution: call fit() first")
        return np.asarray(episode, dtype=np.float64).reshape(len(episode), -1) @ self.theta

    def predict_outcome(self, episode: np.ndarray) -> float:
        return float(self.contributions(episode).sum())

    def step_rewards(self, episode: np.ndarray, executable: Sequence[bool] | None = None,
                     outcome: float | None = None) -> np.ndarray:
        """:math:`c_t` (made to sum to ``outcome`` if given) plus the grounding bonus."""
        c = self.contributions(episode)
        if outcome is not None:
            c = return_equivalent(c, outcome)
        if executable is not None and self.grounding_bonus:
            c = c + self.grounding_bonus * np.asarray(executable, dtype=np.float64)
        return c


class StepRewardTerm(RewardTerm):
    """A learned per-step reward model as a transition reward term.

    ``featurize(batch) -> (n, d)`` features; ``model`` has ``predict``/``contributions``
    on a feature matrix (e.g. :class:`~rewardkit.credit.decomposition.RRDLinear`,
    :class:`ProgressAttribution`).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> class Fixed:
        ...     def predict(self, x): return x @ np.array([0.0, 2.0])
        >>> term = StepRewardTerm(Fixed(), lambda b: np.eye(2)[np.asarray(b.next_obs, int)], name="redistributed")
        >>> b = TransitionBatch.from_arrays(np.zeros(2), np.zeros(2), np.array([0, 1]), [0.0, 0.0])
        >>> term(b).tolist()
        [0.0, 2.0]
    """

    batch_kind = "transition"

    def __init__(self, model: Any, featurize: Callable[[TransitionBatch], np.ndarray], name: str = "step_reward"):
        super().__init__(name)
        self.model = model
        self.featurize = featurize

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        x = np.asarray(self.featurize(batch), dtype=np.float64)
        fn = getattr(self.model, "predict", None) or self.model.contributions
        return np.asarray(fn(x), dtype=np.float64)
