"""The percentile bootstrap, shared by every confidence interval of the package.

Efron (1979), "Bootstrap Methods: Another Look at the Jackknife", Annals of Statistics.  A statistic
:math:`\\hat\\theta` is recomputed on ``reps`` resamples drawn with replacement; the two-sided
interval at ``level`` is the :math:`\\alpha = (1 - level)/2` and :math:`1 - \\alpha` quantiles of the
replicates, :math:`[\\hat\\theta^*_{(\\alpha)}, \\hat\\theta^*_{(1-\\alpha)}]`.

* :func:`bootstrap_means` - replicates of the mean of a 1-D sample (vectorised);
* :func:`stratified_resamples` - resamples of a ``(runs, tasks)`` score matrix, runs drawn
  within each task (the stratified bootstrap of rliable, Agarwal et al., 2021);
* :func:`percentile_interval` - the interval from the replicates.

Users: :mod:`rewardkit.audit.evaluation` (reward-model accuracy per category) and
:mod:`rewardkit.runner.stats` (IQM, performance profiles and probability of improvement across seeds).

Example:
    >>> rng = np.random.default_rng(0)
    >>> lo, hi = percentile_interval(bootstrap_means(np.array([0.0, 1.0] * 50), 500, rng))
    >>> bool(lo < 0.5 < hi)
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bootstrap_means", "percentile_interval", "stratified_resamples"]


def bootstrap_means(values: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` bootstrap replicates of the mean of the 1-D ``values`` (one ``(reps, n)`` draw).

    >>> bootstrap_means(np.array([2.0, 2.0]), 3, np.random.default_rng(0)).tolist()
    [2.0, 2.0, 2.0]
    """
    v = np.asarray(values, dtype=np.float64)
    out: np.ndarray = v[rng.integers(0, v.size, size=(int(reps), v.size))].mean(axis=1)
    return out


def stratified_resamples(x: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` resamples of a ``(runs, tasks)`` matrix, shape ``(reps, runs, tasks)``: in each task
    column, ``runs`` rows drawn with replacement (one ``(reps, runs, tasks)`` draw).

    >>> r = stratified_resamples(np.array([[1.0, 5.0], [2.0, 6.0]]), 4, np.random.default_rng(0))
    >>> r.shape, bool(np.isin(r[:, :, 0], [1.0, 2.0]).all() and np.isin(r[:, :, 1], [5.0, 6.0]).all())
    ((4, 2, 2), True)
    """
    n, m = x.shape
    out: np.ndarray = x[rng.integers(0, n, size=(int(reps), n, m)), np.arange(m)[None, None, :]]
    return out


def percentile_interval(samples: Any, level: float = 0.95, axis: int = 0) -> tuple[Any, Any]:
    """The two-sided percentile interval of bootstrap replicates along ``axis`` (floats for 1-D input).

    >>> lo, hi = percentile_interval(np.arange(101.0), 0.9)
    >>> round(lo, 6), hi
    (5.0, 95.0)
    """
    a = (1.0 - level) / 2.0
    s = np.asarray(samples, dtype=np.float64)
    lo, hi = np.quantile(s, a, axis=axis), np.quantile(s, 1.0 - a, axis=axis)
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi
