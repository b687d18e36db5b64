"""Reward-model evaluation: pairwise accuracy, section scores, bootstrap CIs, calibration, rank agreement.

A reward model :math:`r_\\theta` is judged on held-out preference pairs
:math:`(x, y_c, y_r)` (chosen, rejected).  **RewardBench** (Lambert, Pyatkin, Morrison,
Miranda, Lin, Chandu, Dziri, Kumar, Zick, Choi, Smith & Hajishirzi, 2024, "RewardBench:
Evaluating Reward Models for Language Modeling", arXiv:2403.13787) scores a pair 1 when
:math:`r_\\theta(x, y_c) > r_\\theta(x, y_r)`; per-subset accuracy is the mean, a *section*
score (Chat, Chat Hard, Safety, Reasoning) is the example-count-weighted mean of its
subsets, and the overall score is the mean of the sections:

.. math:: \\mathrm{acc}_k = \\frac1{n_k}\\sum_{i \\in k} o_i,\\qquad
          S_j = \\frac{\\sum_{k \\in j} w_k\\,\\mathrm{acc}_k}{\\sum_{k \\in j} w_k},\\qquad
          \\mathrm{overall} = \\frac1{J}\\sum_j S_j

with :math:`o_i = \\mathbb 1[\\Delta_i > 0] + \\tfrac12 \\mathbb 1[\\Delta_i = 0]` (RewardBench v1 gives
ties 0; here ties get ``tie_credit``, default ½, so a constant model scores chance, not 0) and
:math:`w_k = n_k` unless overridden (RewardBench upweights ``math-prm``).

Uncertainty comes from a stratified percentile bootstrap (Efron, 1979, "Bootstrap Methods:
Another Look at the Jackknife"): pairs are resampled within each subset and every score is
recomputed per replicate.  Two models on the *same* pairs are compared with the exact
McNemar test (McNemar, 1947, "Note on the sampling error of the difference between
correlated proportions or percentages").

Calibration of Bradley-Terry preference probabilities
:math:`p_i = \\sigma(\\beta(r_c - r_r))` (Bradley & Terry, 1952) is measured by the expected
calibration error of Naeini, Cooper & Hauskrecht (2015, "Obtaining Well Calibrated
Probabilities Using Bayesian Binning") as popularised by Guo, Pleiss, Sun & Weinberger (2017,
"On Calibration of Modern Neural Networks"):
:math:`\\mathrm{ECE} = \\sum_b \\frac{|B_b|}{N}\\,|\\bar y_b - \\bar p_b|`, and a temperature
:math:`\\beta` can be fitted by maximum likelihood (Guo et al.'s temperature scaling).

Agreement with gold scores uses Spearman's :math:`\\rho` (Spearman, 1904) and Kendall's
:math:`\\tau_b` (Kendall, 1945, "The treatment of ties in ranking problems"); best-of-n
agreement follows RewardBench 2 (Malik et al., 2025, "RewardBench 2: Advancing Reward Model
Evaluation"): the model must put the gold-best completion on top of *n*, with credit
:math:`1/\\#\\text{ties at the max}`.

Example:
    >>> rep = pairwise_accuracy([2.0, 1.0, 0.5, 3.0], [1.0, 2.0, 0.5, 0.0], categories=["a", "a", "b", "b"],
    ...                         sections={"S": ["a", "b"]}, n_boot=200)
    >>> rep.accuracy, rep.per_category["b"].accuracy, rep.sections["S"]
    (0.625, 0.75, 0.625)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from rewardkit.core.errors import ConfigError
from rewardkit.core.bootstrap import bootstrap_means, percentile_interval

__all__ = [
    "CalibrationReport",
    "CategoryScore",
    "PairwiseReport",
    "best_of_n_agreement",
    "bootstrap_ci",
    "bt_probability",
    "calibration",
    "fit_temperature",
    "kendall_tau",
    "mcnemar_test",
    "pairwise_accuracy",
    "pairwise_outcomes",
    "rank_agreement",
    "rankdata",
    "section_scores",
    "spearman",
]


def _vec(x: Any, field_name: str, n: int | None = None) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise ConfigError(field_name, f"not numeric ({e})", "a 1-D array of numbers") from None
    if n is not None and a.shape[0] != n:
        raise ConfigError(field_name, f"has {a.shape[0]} entries", f"{n} entries (one per item)")
    if not np.all(np.isfinite(a)):
        raise ConfigError(field_name, "contains NaN or inf", "finite numbers")
    return a


# --------------------------------------------------------------------------- pairwise accuracy

def pairwise_outcomes(chosen: Any, rejected: Any, tie_credit: float = 0.5) -> np.ndarray:
    """Per-pair outcome :math:`o_i = 1[r_c > r_r] + c\\,1[r_c = r_r]` (RewardBench; ties get ``c``).

    Example:
        >>> pairwise_outcomes([1.0, 0.0, 2.0], [0.0, 1.0, 2.0]).tolist()
        [1.0, 0.0, 0.5]
    """
    c = _vec(chosen, "chosen")
    r = _vec(rejected, "rejected", c.shape[0])
    return np.where(c > r, 1.0, np.where(c == r, float(tie_credit), 0.0))


def bootstrap_ci(values: Any, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (Efron, 1979).

    Example:
        >>> lo, hi = bootstrap_ci([0, 1] * 50, n_boot=500)
        >>> lo < 0.5 < hi
        True
    """
    v = _vec(values, "values")
    if v.size == 0:
        return (math.nan, math.nan)
    lo, hi = percentile_interval(bootstrap_means(v, n_boot, np.random.default_rng(seed)), ci)
    return lo, hi


@dataclass
class CategoryScore:
    """Accuracy of one subset/category with its bootstrap interval."""

    accuracy: float
    n: int
    ci: tuple[float, float]


@dataclass
class PairwiseReport:
    """Result of :func:`pairwise_accuracy`.

    Attributes:
        accuracy: mean outcome over all pairs (unweighted).
        n: number of pairs.
        ci: bootstrap interval of ``accuracy``.
        per_category: category -> :class:`CategoryScore`.
        sections: section -> weighted section score (empty without ``sections``).
        section_ci: section -> bootstrap interval.
        overall: mean of the section scores (``accuracy`` when there are no sections).
        overall_ci: bootstrap interval of ``overall``.
        outcomes: the per-pair outcomes (for paired tests such as :func:`mcnemar_test`).
    """

    accuracy: float
    n: int
    ci: tuple[float, float]
    per_category: dict[str, CategoryScore] = field(default_factory=dict)
    sections: dict[str, float] = field(default_factory=dict)
    section_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    overall: float = math.nan
    overall_ci: tuple[float, float] = (math.nan, math.nan)
    outcomes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def table(self) -> str:
        """A markdown table: one row per category, section and the overall score."""
        rows = ["| group | score | 95% CI | n |", "|---|---|---|---|"]
        for k, c in self.per_category.items():
            rows.append(f"| {k} | {c.accuracy:.3f} | [{c.ci[0]:.3f}, {c.ci[1]:.3f}] | {c.n} |")
        for k, s in self.sections.items():
            lo, hi = self.section_ci.get(k, (math.nan, math.nan))
            rows.append(f"| **{k}** | {s:.3f} | [{lo:.3f}, {hi:.3f}] | |")
        rows.append(f"| **overall** | {self.overall:.3f} | [{self.overall_ci[0]:.3f}, {self.overall_ci[1]:.3f}] "
                    f"| {self.n} |")
        return "\n".join(rows)


def section_scores(per_category: Mapping[str, float], sections: Mapping[str, Sequence[str]],
                   weights: Mapping[str, float]) -> dict[str, float]:
    """Weighted section means :math:`S_j = \\sum_{k\\in j} w_k acc_k / \\sum_{k \\in j} w_k` (RewardBench).

    Example:
        >>> section_scores({"a": 1.0, "b": 0.0}, {"S": ["a", "b"]}, {"a": 3, "b": 1})
        {'S': 0.75}
    """
    out = {}
    for sec, cats in sections.items():
        missing = [c for c in cats if c not in per_category]
        if missing:
            raise ConfigError(f"sections.{sec}", f"names unknown categories {missing}",
                              f"categories among {sorted(per_category)}")
        w = np.array([float(weights[c]) for c in cats])
        a = np.array([per_category[c] for c in cats])
        if w.sum() <= 0:
            raise ConfigError(f"weights ({sec})", "sum to 0", "positive category weights")
        out[sec] = float((w * a).sum() / w.sum())
    return out


def pairwise_accuracy(chosen: Any, rejected: Any, categories: Sequence[Any] | None = None,
                      sections: Mapping[str, Sequence[str]] | None = None,
                      weights: Mapping[str, float] | None = None, tie_credit: float = 0.5,
                      n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> PairwiseReport:
    """RewardBench-style scoring of a reward model on (chosen, rejected) pairs.

    Args:
        chosen, rejected: the model's rewards for the chosen and rejected completion, shape ``(n,)``.
        categories: subset name per pair (default: one category ``"all"``).
        sections: section name -> list of categories; scores are weighted means (see module doc).
        weights: category -> weight (default: its number of pairs; RewardBench's ``EXAMPLE_COUNTS``).
        tie_credit: outcome of a tie (½; RewardBench v1 used 0).
        n_boot, ci, seed: stratified percentile bootstrap (pairs resampled within each category).

    Example:
        >>> r = pairwise_accuracy([1, 1, 1, 0], [0, 0, 0, 1], n_boot=100)
        >>> r.accuracy, r.overall
        (0.75, 0.75)
    """
    o = pairwise_outcomes(chosen, rejected, tie_credit)
    n = o.shape[0]
    if n == 0:
        raise ConfigError("chosen", "is empty", "at least one pair")
    cats = np.array(["all"] * n if categories is None else [str(c) for c in categories], dtype=object)
    if cats.shape[0] != n:
        raise ConfigError("categories", f"has {cats.shape[0]} entries", f"{n} entries (one per pair)")
    names = list(dict.fromkeys(cats.tolist()))
    rng = np.random.default_rng(seed)

    def interval(x: np.ndarray) -> tuple[float, float]:
        lo, hi = percentile_interval(x, ci)
        return lo, hi

    per_cat: dict[str, CategoryScore] = {}
    boot_cat: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    boot_total = np.zeros(int(n_boot))
    for k in names:
        ok = o[cats == k]
        counts[k] = ok.size
        reps = bootstrap_means(ok, n_boot, rng)
        boot_cat[k] = reps
        boot_total += reps * ok.size
        per_cat[k] = CategoryScore(float(ok.mean()), int(ok.size), interval(reps))
    w = dict(counts)
    if weights is not None:
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ConfigError("weights", f"names unknown categories {unknown}", f"categories among {names}")
        w.update({k: float(v) for k, v in weights.items()})
    report = PairwiseReport(float(o.mean()), n, interval(boot_total / n), per_cat, outcomes=o)
    if sections:
        report.sections = section_scores({k: c.accuracy for k, c in per_cat.items()}, sections, w)
        boot_sec = {}
        for sec, cs in sections.items():
            ws = np.array([float(w[c]) for c in cs])
            boot_sec[sec] = sum(ws[i] * boot_cat[c] for i, c in enumerate(cs)) / ws.sum()
            report.section_ci[sec] = interval(boot_sec[sec])
        report.overall = float(np.mean(list(report.sections.values())))
        report.overall_ci = interval(np.mean(np.stack(list(boot_sec.values())), axis=0))
    else:
        report.overall, report.overall_ci = report.accuracy, report.ci
    return report


def mcnemar_test(outcomes_a: Any, outcomes_b: Any) -> tuple[int, int, float]:
    """Exact two-sided McNemar test of two models scored on the same pairs (McNemar, 1947).

    With :math:`b` = pairs only model A gets right and :math:`c` = pairs only B gets right,
    :math:`p = \\min(1, 2\\,P[\\mathrm{Bin}(b + c, \\tfrac12) \\le \\min(b, c)])`.  Outcomes are
    thresholded at ½ (a tie counts as wrong).  Returns ``(b, c, p)``.

    Example:
        >>> mcnemar_test([1] * 20, [0] * 20)[2] < 1e-5
        True
        >>> mcnemar_test([1, 0, 1, 0], [0, 1, 1, 0])
        (1, 1, 1.0)
    """
    x = _vec(outcomes_a, "outcomes_a") > 0.5
    y = _vec(outcomes_b, "outcomes_b", x.shape[0]) > 0.5
    b, c = int(np.sum(x & ~y)), int(np.sum(~x & y))
    m = b + c
    if m == 0:
        return b, c, 1.0
    tail = sum(math.comb(m, i) for i in range(min(b, c) + 1)) / 2.0 ** m
    return b, c, float(min(1.0, 2.0 * tail))


# --------------------------------------------------------------------------- calibration

def bt_probability(r_a: Any, r_b: Any, beta: float = 1.0) -> np.ndarray:
    """Bradley-Terry preference probability :math:`P(a \\succ b) = \\sigma(\\beta (r_a - r_b))`.

    Example:
        >>> bt_probability([0.0, 2.0], [0.0, 0.0]).round(3).tolist()
        [0.5, 0.881]
    """
    d = float(beta) * (_vec(r_a, "r_a") - _vec(r_b, "r_b", np.asarray(r_a).size))
    return 0.5 * (1.0 + np.tanh(0.5 * d))  # numerically stable sigmoid


@dataclass
class CalibrationReport:
    """Reliability statistics of predicted probabilities.

    Attributes:
        ece: expected calibration error :math:`\\sum_b (n_b/N)|\\bar y_b - \\bar p_b|`.
        mce: maximum calibration error :math:`\\max_b |\\bar y_b - \\bar p_b|`.
        brier: :math:`\\frac1N\\sum (p_i - y_i)^2`.
        log_loss: binary cross-entropy (probabilities clipped to [1e-12, 1 - 1e-12]).
        bin_edges, bin_confidence, bin_frequency, bin_count: the reliability diagram.
    """

    ece: float
    mce: float
    brier: float
    log_loss: float
    bin_edges: np.ndarray
    bin_confidence: np.ndarray
    bin_frequency: np.ndarray
    bin_count: np.ndarray


def calibration(prob: Any, label: Any, n_bins: int = 10, strategy: str = "uniform") -> CalibrationReport:
    """Reliability bins and ECE of predicted probabilities ``prob`` against outcomes ``label`` in [0, 1].

    ``strategy="uniform"`` uses equal-width bins on [0, 1]; ``"quantile"`` equal-mass bins.
    For RewardBench-style data (chosen always first) pass ``prob = bt_probability(r_c, r_r)``
    and ``label = 1``; for data with both orders pass the label of the first item.

    Example:
        >>> rep = calibration([0.9, 0.9, 0.1, 0.1], [1, 1, 0, 0], n_bins=5)
        >>> round(rep.ece, 3), rep.bin_count.tolist()
        (0.1, [2, 0, 0, 0, 2])
    """
    p = _vec(prob, "prob")
    y = _vec(label, "label", p.shape[0]) if np.ndim(label) else np.full(p.shape[0], float(label))
    if np.any((p < 0) | (p > 1)):
        raise ConfigError("prob", "has values outside [0, 1]", "probabilities")
    if np.any((y < 0) | (y > 1)):
        raise ConfigError("label", "has values outside [0, 1]", "0/1 outcomes or soft labels in [0, 1]")
    if int(n_bins) < 1:
        raise ConfigError("n_bins", f"got {n_bins}", "an integer >= 1")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, int(n_bins) + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise ConfigError("strategy", f"got {strategy!r}", "'uniform' or 'quantile'")
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    nb = len(edges) - 1
    cnt = np.bincount(idx, minlength=nb)
    conf = np.bincount(idx, weights=p, minlength=nb) / np.maximum(cnt, 1)
    freq = np.bincount(idx, weights=y, minlength=nb) / np.maximum(cnt, 1)
    gap = np.abs(freq - conf)
    N = max(p.shape[0], 1)
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    return CalibrationReport(
        ece=float((cnt / N * gap).sum()), mce=float(gap[cnt > 0].max()) if cnt.any() else 0.0,
        brier=float(np.mean((p - y) ** 2)), log_loss=float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc))),
        bin_edges=edges, bin_confidence=conf, bin_frequency=freq, bin_count=cnt)


def fit_temperature(margin: Any, label: Any, iters: int = 50) -> float:
    """Maximum-likelihood BT inverse temperature :math:`\\beta` of :math:`\\sigma(\\beta\\Delta)` (Guo et al., 2017).

    Newton's method on the (convex) negative log-likelihood
    :math:`-\\sum_i y_i \\log\\sigma(\\beta\\Delta_i) + (1-y_i)\\log\\sigma(-\\beta\\Delta_i)`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> d = rng.normal(size=20000) * 2
        >>> y = (rng.random(20000) < 1 / (1 + np.exp(-0.5 * d))).astype(float)
        >>> round(fit_temperature(d, y), 1)
        0.5
    """
    d = _vec(margin, "margin")
    y = _vec(label, "label", d.shape[0]) if np.ndim(label) else np.full(d.shape[0], float(label))
    beta = 1.0
    for _ in range(int(iters)):
        p = 0.5 * (1.0 + np.tanh(0.5 * beta * d))
        g = np.sum((p - y) * d)
        h = np.sum(p * (1 - p) * d * d) + 1e-12
        step = g / h
        beta -= step
        if abs(step) < 1e-10:
            break
    return float(beta)


# --------------------------------------------------------------------------- rank agreement

def rankdata(x: Any) -> np.ndarray:
    """Ranks 1..n with ties given their average rank.

    Example:
        >>> rankdata([10, 20, 20, 5]).tolist()
        [2.0, 3.5, 3.5, 1.0]
    """
    a = _vec(x, "x")
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    new = np.r_[True, s[1:] != s[:-1]]
    grp = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], s.size]
    avg = (starts + ends - 1) / 2.0 + 1.0
    out = np.empty(a.size)
    out[order] = avg[grp]
    return out


def spearman(x: Any, y: Any) -> float:
    """Spearman's :math:`\\rho`: the Pearson correlation of average ranks (Spearman, 1904).

    Example:
        >>> spearman([1, 2, 3, 4], [10, 20, 30, 100])
        1.0
    """
    rx, ry = rankdata(x), rankdata(_vec(y, "y", np.asarray(x).size))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / den) if den > 0 else math.nan


def _ties(v: np.ndarray) -> float:
    """:math:`\\sum_t t(t-1)/2` over groups of equal values (``v`` sorted)."""
    if v.size == 0:
        return 0.0
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    t = np.diff(np.r_[starts, v.size]).astype(np.float64)
    return float((t * (t - 1) / 2).sum())


def _inversions(y: np.ndarray) -> int:
    """Pairs ``i < j`` with ``y[i] > y[j]`` (``y`` non-negative ints < m) by vectorised bottom-up merge sort."""
    n = y.size
    m = int(y.max()) + 1 if n else 1
    arr = y.astype(np.int64)
    idx = np.arange(n)
    total, b = 0, 1
    while b < n:
        blk = idx // b
        pair = blk // 2
        left = blk % 2 == 0
        key = pair * m + arr                     # sorted within each block, blocks of a pair adjacent
        lk = key[left]                           # globally sorted: pairs increase, each left block sorted
        rk = key[~left]
        pair_end = np.searchsorted(lk, pair[~left] * m + (m - 1), side="right")
        total += int((pair_end - np.searchsorted(lk, rk, side="right")).sum())
        arr = np.sort(key) - pair * m            # merge each pair of blocks
        b *= 2
    return total


def kendall_tau(x: Any, y: Any) -> float:
    """Kendall's :math:`\\tau_b = (n_c - n_d)/\\sqrt{(n_0 - n_1)(n_0 - n_2)}` with tie corrections (Kendall, 1945).

    Computed in :math:`O(n \\log^2 n)` with Knight's (1966, "A Computer Method for Calculating
    Kendall's Tau with Ungrouped Data") reduction: sort by :math:`(x, y)`, then
    :math:`n_c - n_d = n_0 - n_1 - n_2 + n_3 - 2\\,\\mathrm{inv}(y)`, where :math:`n_3` counts pairs tied in
    both and :math:`\\mathrm{inv}` counts inversions (a vectorised merge sort).

    Example:
        >>> kendall_tau([1, 2, 3], [1, 3, 2])
        0.3333333333333333
    """
    a = _vec(x, "x")
    b = _vec(y, "y", a.size)
    n = a.size
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    n0 = n * (n - 1) / 2.0
    n1 = _ties(a)
    n2 = _ties(np.sort(b))
    same = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    starts = np.flatnonzero(same)
    t = np.diff(np.r_[starts, n]).astype(np.float64)
    n3 = float((t * (t - 1) / 2).sum())
    yb = np.unique(b, return_inverse=True)[1].reshape(-1)
    s = n0 - n1 - n2 + n3 - 2.0 * _inversions(yb)
    den = math.sqrt((n0 - n1) * (n0 - n2))
    return float(s / den) if den > 0 else math.nan


def rank_agreement(scores: Any, gold: Any) -> dict[str, float]:
    """Spearman and Kendall agreement of reward-model scores with gold scores.

    Example:
        >>> rank_agreement([0.1, 0.4, 0.3], [1, 3, 2])
        {'spearman': 1.0, 'kendall_tau_b': 1.0, 'n': 3}
    """
    return {"spearman": spearman(scores, gold), "kendall_tau_b": kendall_tau(scores, gold),
            "n": int(np.asarray(scores).size)}


def best_of_n_agreement(scores: Any, gold: Any) -> dict[str, float]:
    """Best-of-n agreement of a reward model with gold scores over prompts (RewardBench 2 scoring).

    ``scores`` and ``gold`` have shape ``(prompts, n)``.  Per prompt, the model is credited
    :math:`1/|T|` when the gold-best completion is in the set :math:`T` of completions tied at the
    model's maximum (0 otherwise); chance is :math:`1/n`.  Also reports the mean gold score of the
    model's pick (ties averaged) and the *regret* :math:`\\max_j g_j - g_{\\text{pick}}`.

    Example:
        >>> out = best_of_n_agreement([[3, 1, 2], [1, 1, 0]], [[1, 0, 0], [0, 1, 0]])
        >>> out["top1"], out["regret"]
        (0.75, 0.25)
    """
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(gold, dtype=np.float64)
    if s.ndim != 2 or s.shape != g.shape:
        raise ConfigError("scores", f"shape {s.shape} vs gold {g.shape}", "two (prompts, n) arrays of equal shape")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(g))):
        raise ConfigError("scores", "contain NaN or inf", "finite numbers")
    top = s == s.max(axis=1, keepdims=True)
    k = top.sum(axis=1)
    best = g == g.max(axis=1, keepdims=True)
    top1 = (top & best).sum(axis=1) / k
    pick_gold = (g * top).sum(axis=1) / k
    return {"top1": float(top1.mean()), "chance": 1.0 / s.shape[1], "gold_of_pick": float(pick_gold.mean()),
            "regret": float((g.max(axis=1) - pick_gold).mean()), "n_prompts": int(s.shape[0])}
