"""Preference data and synthetic (Boltzmann-rational) labellers.

A preference dataset holds ``N`` pairs of segments ``(a_i, b_i)`` - each an array
of ``T`` feature vectors (``T = 1`` for a single (prompt, response) feature vector)
- and a label :math:`y_i \\in [0, 1]`, the probability that ``a_i`` is preferred.
Optional columns: a ``margin`` / preference strength per pair and a ``user`` id.

The synthetic labeller is the Boltzmann-rational (Bradley-Terry) model of
Christiano et al. (2017, "Deep reinforcement learning from human preferences",
NeurIPS), with a temperature :math:`\\tau` and a flip rate :math:`\\varepsilon`:

.. math::  P(a \\succ b) = \\sigma\\!\\left(\\frac{R(a) - R(b)}{\\tau}\\right),\\qquad
           y = \\begin{cases} 1 - y_0 & \\text{w.p. } \\varepsilon \\\\ y_0 & \\text{otherwise}\\end{cases}

(:math:`\\tau = 0` gives noiseless labels; ties get 0.5.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.errors import BatchError, ConfigError
from .models import as_segments

__all__ = ["PreferencePairs", "boltzmann_labels", "linear_preference_task", "pair_accuracy", "sigmoid"]


def sigmoid(x: Any) -> np.ndarray:
    """Numerically stable logistic function :math:`\\sigma(x) = 1/(1+e^{-x})`."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))


@dataclass
class PreferencePairs:
    """``N`` labelled comparisons ``(a, b, y)`` (``y`` = probability that ``a`` is preferred).

    Args:
        a, b: segments ``(N, T, d)`` or single feature vectors ``(N, d)``.
        label: ``(N,)`` in ``[0, 1]``; defaults to all ones (``a`` is the *chosen* item).
        margin: optional ``(N,)`` preference strength (margin BT / scaled BT).
        user: optional ``(N,)`` int user id (pluralistic models).

    Example:
        >>> import numpy as np
        >>> p = PreferencePairs(np.ones((2, 3)), np.zeros((2, 3)))
        >>> len(p), p.a.shape, p.label.tolist()
        (2, (2, 1, 3), [1.0, 1.0])
        >>> p.subset([1]).a.shape
        (1, 1, 3)
    """

    a: Any
    b: Any
    label: Any = None
    margin: Any = None
    user: Any = None

    def __post_init__(self) -> None:
        self.a = as_segments(self.a, None, "a")
        self.b = as_segments(self.b, self.a.shape[-1], "b")
        n = self.a.shape[0]
        if self.b.shape[0] != n:
            raise BatchError("b", f"has {self.b.shape[0]} segments for {n} in a", "as many segments as a")
        if self.label is None:
            self.label = np.ones(n)
        self.label = self._col(self.label, "label", np.float64)
        if np.any((self.label < 0) | (self.label > 1)) or not np.all(np.isfinite(self.label)):
            raise BatchError("label", "has values outside [0, 1]", "probabilities that a is preferred")
        if self.margin is not None:
            self.margin = self._col(self.margin, "margin", np.float64)
        if self.user is not None:
            self.user = self._col(self.user, "user", np.int64)

    def _col(self, x: Any, name: str, dtype: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=dtype).reshape(-1)
        if arr.shape[0] != self.a.shape[0]:
            raise BatchError(name, f"has {arr.shape[0]} entries for {self.a.shape[0]} pairs", "one entry per pair")
        return arr

    def __len__(self) -> int:
        return int(self.a.shape[0])

    @property
    def dim(self) -> int:
        return int(self.a.shape[-1])

    def subset(self, idx: Any) -> PreferencePairs:
        idx = np.asarray(idx)
        return PreferencePairs(self.a[idx], self.b[idx], self.label[idx],
                               None if self.margin is None else self.margin[idx],
                               None if self.user is None else self.user[idx])

    def with_labels(self, label: Any) -> PreferencePairs:
        return PreferencePairs(self.a, self.b, label, self.margin, self.user)

    @staticmethod
    def concat(parts: list[PreferencePairs]) -> PreferencePairs:
        def cat(name: str) -> Any:
            cols = [getattr(p, name) for p in parts]
            return None if any(c is None for c in cols) else np.concatenate(cols)
        return PreferencePairs(np.concatenate([p.a for p in parts]), np.concatenate([p.b for p in parts]),
                               cat("label"), cat("margin"), cat("user"))


def boltzmann_labels(return_a: Any, return_b: Any, temperature: float = 1.0, flip_rate: float = 0.0,
                     rng: np.random.Generator | int | None = 0, sample: bool = True) -> np.ndarray:
    """Synthetic labels from a Boltzmann-rational rater with random flips.

    :math:`p = \\sigma((R_a - R_b)/\\tau)`; with ``sample=True`` the label is a Bernoulli(p)
    draw (hard 0/1), otherwise ``p`` itself (a soft label).  Each label is then flipped
    (``y -> 1 - y``) with probability ``flip_rate``.

    Example:
        >>> boltzmann_labels([3.0, 0.0, 1.0], [0.0, 3.0, 1.0], temperature=0.0).tolist()
        [1.0, 0.0, 0.5]
        >>> float(boltzmann_labels(np.ones(2000), np.zeros(2000), 0.0, flip_rate=0.3, rng=1).mean().round(1))
        0.7
    """
    ra = np.asarray(return_a, dtype=np.float64).reshape(-1)
    rb = np.asarray(return_b, dtype=np.float64).reshape(-1)
    if ra.shape != rb.shape:
        raise BatchError("return_b", f"has shape {rb.shape}", f"the shape of return_a {ra.shape}")
    if not 0.0 <= flip_rate <= 1.0:
        raise ConfigError("flip_rate", f"got {flip_rate!r}", "a probability in [0, 1]")
    if temperature < 0:
        raise ConfigError("temperature", f"got {temperature!r}", "a temperature >= 0")
    rng = np.random.default_rng(rng)
    diff = ra - rb
    if temperature == 0:
        y = np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
    else:
        p = sigmoid(diff / temperature)
        y = (rng.random(diff.shape) < p).astype(np.float64) if sample else p
    if flip_rate > 0:
        flip = rng.random(diff.shape) < flip_rate
        y = np.where(flip, 1.0 - y, y)
    return y


def pair_accuracy(reward: Callable[[np.ndarray], np.ndarray], a: Any, b: Any, true_diff: Any) -> float:
    """Fraction of pairs whose predicted order agrees with the true order (true ties skipped).

    ``reward`` maps segments ``(N, T, d)`` to per-step rewards ``(N, T)``; the predicted
    order is the sign of the summed return difference.  A predicted tie counts as wrong.

    Example:
        >>> from rewardkit.learn.models import MLPReward
        >>> pair_accuracy(MLPReward.linear([1.0]), [[2.0], [0.0]], [[1.0], [1.0]], [1.0, 1.0])
        0.5
    """
    a = as_segments(a)
    b = as_segments(b)
    td = np.asarray(true_diff, dtype=np.float64).reshape(-1)
    pred = np.asarray(reward(a)).sum(axis=-1) - np.asarray(reward(b)).sum(axis=-1)
    keep = td != 0
    if not np.any(keep):
        return float("nan")
    return float(np.mean(np.sign(pred[keep]) == np.sign(td[keep])))


def linear_preference_task(n_pairs: int, dim: int = 8, seg_len: int = 1, temperature: float = 0.0,
                           flip_rate: float = 0.0, seed: int = 0, w: Any = None,
                           nonlinear: bool = False) -> tuple[PreferencePairs, np.ndarray, np.ndarray]:
    """A synthetic preference task with a known reward.

    Features :math:`x \\sim \\mathcal{N}(0, I_d)`; the true reward is linear,
    :math:`r(x) = w^\\top x` with :math:`w \\sim \\mathcal{N}(0, I_d)/\\sqrt{d}` (or
    :math:`\\tanh(w^\\top x)` if ``nonlinear``).  Returns ``(pairs, w, true_diff)``
    where ``true_diff = R(a) - R(b)`` and labels come from :func:`boltzmann_labels`.

    Example:
        >>> pairs, w, diff = linear_preference_task(5, dim=3, seed=0)
        >>> pairs.a.shape, bool(np.all((diff > 0) == (pairs.label == 1)))
        ((5, 1, 3), True)
    """
    rng = np.random.default_rng(seed)
    if w is None:
        w = rng.normal(size=dim) / np.sqrt(dim)
    w = np.asarray(w, dtype=np.float64)
    a = rng.normal(size=(n_pairs, seg_len, dim))
    b = rng.normal(size=(n_pairs, seg_len, dim))
    f = (lambda x: np.tanh(x @ w)) if nonlinear else (lambda x: x @ w)
    diff = f(a).sum(axis=1) - f(b).sum(axis=1)
    y = boltzmann_labels(diff, np.zeros_like(diff), temperature, flip_rate, rng)
    return PreferencePairs(a, b, y), w, diff
