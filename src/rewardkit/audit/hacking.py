"""Reward-hacking diagnostics over training logs, and the PAR reward transform that mitigates it.

*Reward hacking* is optimisation that raises a proxy reward while the true objective stalls
or falls (Skalse, Howe, Krasheninnikov & Krueger, 2022, "Defining and Characterizing Reward
Hacking", NeurIPS; Gao, Schulman & Hilton, 2023).  Three log-level symptoms are checked:

* **proxy-gold divergence** - over a trailing window of :math:`w` steps, the least-squares
  slopes satisfy :math:`\\hat b_{proxy} > 0` and :math:`\\hat b_{gold} < 0` (both beyond
  ``min_t`` standard errors), or the windowed Pearson correlation of proxy
  and gold drops below ``min_corr`` after having been healthy;
* **component dominance** - one term's share of the total absolute weighted reward,
  :math:`s_i = \\overline{|w_i r_i|} / \\sum_j \\overline{|w_j r_j|}`, exceeds a threshold: the
  signature of a composite reward whose cheap component is being farmed (Moskovitz et al.,
  2024, "Confronting Reward Model Overoptimization with Constrained RLHF", ICLR);
* **length exploitation** - reward is explained by completion length: the Spearman
  correlation :math:`\\rho(r, \\ell)` is high (Singhal, Goyal, Xu & Durrett, 2023, "A Long Way to
  Go: Investigating Length Correlations in RLHF").

**PAR** (Fu, Zhao, Yin, Luo, Ji, Li & Zhang, 2025, "Reward Shaping to Mitigate Reward Hacking in
RLHF", arXiv:2502.18770) replaces the raw reward by the reward model's Bradley-Terry win
probability against :math:`M` reference responses from the initial policy:

.. math:: r_{PAR}(x, y) = \\frac1M \\sum_{m=1}^M \\sigma\\big(r(x, y) - r(x, y^{ref}_m)\\big) \\in (0, 1),

bounded, steep near the reference and flat far from it, so pushing the raw reward ever higher
pays almost nothing.

Example:
    >>> import numpy as np
    >>> par_transform(np.array([0.0, 10.0, 100.0]), 0.0).round(4).tolist()
    [0.5, 1.0, 1.0]
    >>> steps = np.arange(200)
    >>> proxy = steps / 200.0
    >>> gold = np.minimum(steps, 200 - steps) / 100.0          # rises, then falls while proxy rises
    >>> detect_proxy_gold_divergence(proxy, gold, window=40).flagged
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

import numpy as np

from rewardkit.core import RewardTerm, SampleBatch, as_term, build_reward, register_term
from rewardkit.core.errors import BatchError, ConfigError

from .evaluation import spearman

__all__ = [
    "DivergenceReport",
    "DominanceReport",
    "LengthReport",
    "PARTerm",
    "component_dominance",
    "detect_proxy_gold_divergence",
    "length_exploitation",
    "par",
    "par_transform",
    "rolling_corr",
]


def _series(x: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(name, "is not numeric", "a 1-D array of per-step values") from None
    if a.ndim != 1:
        raise ConfigError(name, f"has shape {a.shape}", "a 1-D array of per-step values")
    return a


def rolling_corr(x: Any, y: Any, window: int) -> np.ndarray:
    """Pearson correlation of ``x`` and ``y`` over trailing windows; entry *t* covers steps ``t-window+1..t``.

    The first ``window-1`` entries and windows with a constant series are NaN.

    Example:
        >>> rolling_corr([1, 2, 3, 4, 5], [1, 2, 3, 2, 1], 3).round(3).tolist()[2:]
        [1.0, 0.0, -1.0]
    """
    a, b = _series(x, "x"), _series(y, "y")
    if a.shape != b.shape:
        raise ConfigError("y", f"has {b.size} steps for {a.size}", "equal-length series")
    w = int(window)
    out = np.full(a.size, np.nan)
    if w < 2 or a.size < w:
        return out
    A = np.lib.stride_tricks.sliding_window_view(a, w)
    B = np.lib.stride_tricks.sliding_window_view(b, w)
    A = A - A.mean(axis=1, keepdims=True)
    B = B - B.mean(axis=1, keepdims=True)
    va, vb = (A * A).sum(axis=1), (B * B).sum(axis=1)
    eps = 1e-24 * w  # relative to the series' scale: a constant window has no correlation
    ok = (va > eps * max(float(np.abs(a).max()), 1e-300) ** 2) & (vb > eps * max(float(np.abs(b).max()), 1e-300) ** 2)
    den = np.sqrt(np.where(ok, va * vb, 1.0))
    out[w - 1:] = np.where(ok, (A * B).sum(axis=1) / den, np.nan)
    return out


def _rolling_slope_t(y: np.ndarray, w: int) -> np.ndarray:
    """t-statistic of the least-squares slope over each trailing window (NaN before the first full window)."""
    out = np.full(y.size, np.nan)
    if y.size < w:
        return out
    t = np.arange(w) - (w - 1) / 2.0
    stt = (t * t).sum()
    Y = np.lib.stride_tricks.sliding_window_view(y, w)
    b = (Y * t).sum(axis=1) / stt
    resid = Y - Y.mean(axis=1, keepdims=True) - b[:, None] * t
    se = np.sqrt((resid * resid).sum(axis=1) / (w - 2) / stt)
    scale = np.abs(y).max() if y.size else 1.0
    se = np.maximum(se, 1e-12 * max(scale, 1.0))  # noiseless series: huge but finite t
    out[w - 1:] = b / se
    return out


@dataclass
class DivergenceReport:
    """Result of :func:`detect_proxy_gold_divergence`.

    Attributes:
        flagged: True if divergence was detected.
        step: first step (index) at which it was detected, else ``None``.
        reason: ``"opposite_trends"``, ``"correlation_drop"`` or ``None``.
        gold_peak_step: argmax of the (smoothed) gold series.
        corr: windowed proxy-gold correlation per step.
        proxy_slope, gold_slope: t-statistics of the windowed least-squares slopes per step.
    """

    flagged: bool
    step: int | None
    reason: str | None
    gold_peak_step: int
    corr: np.ndarray = field(repr=False)
    proxy_slope: np.ndarray = field(repr=False)
    gold_slope: np.ndarray = field(repr=False)


def detect_proxy_gold_divergence(proxy: Any, gold: Any, window: int = 50, min_t: float = 2.5,
                                 min_corr: float = -0.3, healthy_corr: float = 0.5,
                                 patience: int = 3) -> DivergenceReport:
    """Flag a run whose proxy reward keeps rising while the gold reward falls.

    Both series are per-step means (e.g. mean proxy reward per PPO/GRPO update and the gold
    score of the same samples).  A step is suspicious when, over the trailing ``window``:

    * *opposite trends*: the least-squares slope of the proxy is significantly positive and that
      of gold significantly negative, :math:`t_{proxy} > t_{min}` and :math:`t_{gold} < -t_{min}`
      with :math:`t = \\hat b / \\mathrm{se}(\\hat b)` (so noise on a plateau is not a trend); or
    * *correlation drop*: the windowed correlation falls below ``min_corr`` after an earlier
      window reached ``healthy_corr``, while the proxy is still significantly rising and the
      gold slope is at least one standard error below zero (a weak but positive gold trend
      alone also lowers the windowed correlation, and is not hacking).

    The run is flagged at the first of ``patience`` consecutive suspicious steps.

    Example:
        >>> t = np.arange(300)
        >>> healthy = detect_proxy_gold_divergence(np.log1p(t), 0.8 * np.log1p(t), window=50)
        >>> healthy.flagged, healthy.step
        (False, None)
    """
    p, g = _series(proxy, "proxy"), _series(gold, "gold")
    if p.shape != g.shape:
        raise ConfigError("gold", f"has {g.size} steps for {p.size} proxy steps", "one gold value per step")
    w = int(window)
    if w < 3:
        raise ConfigError("window", f"got {window}", "an integer >= 3")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(g))):
        raise ConfigError("proxy/gold", "contain NaN or inf", "finite per-step values (drop missing steps first)")
    ps = _rolling_slope_t(p, w)
    gs = _rolling_slope_t(g, w)
    corr = rolling_corr(p, g, w)
    with np.errstate(invalid="ignore"):
        opposite = (ps > min_t) & (gs < -min_t)
        seen_healthy = np.maximum.accumulate(np.nan_to_num(corr, nan=-np.inf)) >= healthy_corr
        dropped = seen_healthy & (corr < min_corr) & (ps > min_t) & (gs < -1.0)
    bad = opposite | dropped
    step = reason = None
    run = 0
    for t in range(p.size):
        run = run + 1 if bad[t] else 0
        if run >= max(1, int(patience)):
            step = t - run + 1
            reason = "opposite_trends" if opposite[step] else "correlation_drop"
            break
    k = max(1, w // 5)
    smooth = np.convolve(g, np.ones(k) / k, mode="valid")
    return DivergenceReport(step is not None, step, reason, int(np.argmax(smooth)) + k // 2, corr, ps, gs)


@dataclass
class DominanceReport:
    """Result of :func:`component_dominance`: shares of each term, the dominant one, and whether it is flagged."""

    shares: dict[str, float]
    dominant: str
    flagged: bool
    share_over_time: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


def component_dominance(components: Any, weights: Mapping[str, float] | None = None,
                        threshold: float = 0.8) -> DominanceReport:
    """Share of each reward component in the total absolute weighted reward.

    ``components`` is a mapping name -> values (shape ``(n,)`` or ``(steps, n)``), or a
    :class:`rewardkit.core.RewardResult` (its weighted contributions are used).  With 2-D
    values the share is also reported per step (``share_over_time``).

    .. math:: s_i = \\frac{\\overline{|w_i r_i|}}{\\sum_j \\overline{|w_j r_j|}}

    Example:
        >>> rep = component_dominance({"format": [1.0, 1.0, 1.0], "correct": [0.0, 0.1, 0.0]})
        >>> rep.dominant, round(rep.shares["format"], 3), rep.flagged
        ('format', 0.968, True)
    """
    if hasattr(components, "contributions") and callable(components.contributions):
        comps = {k: np.asarray(v, dtype=np.float64) for k, v in components.contributions().items()
                 if "/" not in k}
    elif isinstance(components, Mapping):
        comps = {}
        for k, v in components.items():
            try:
                comps[k] = np.asarray(v, dtype=np.float64) * float((weights or {}).get(k, 1.0))
            except (TypeError, ValueError):
                raise ConfigError(f"components.{k}", "is not numeric", "an array of reward values") from None
    else:
        raise ConfigError("components", f"got {type(components).__name__}",
                          "a mapping name -> values or a RewardResult")
    if not comps:
        raise ConfigError("components", "is empty", "at least one reward component")
    shapes = {v.shape for v in comps.values()}
    if len(shapes) != 1:
        raise ConfigError("components", f"have different shapes {sorted(shapes)}", "arrays of one shape")
    mag = {k: float(np.mean(np.abs(v))) for k, v in comps.items()}
    tot = sum(mag.values())
    shares = {k: (m / tot if tot > 0 else 1.0 / len(mag)) for k, m in mag.items()}
    dom = max(shares, key=shares.__getitem__)
    over_time = {}
    if next(iter(shapes)) and len(next(iter(shapes))) == 2:
        per = {k: np.abs(v).mean(axis=1) for k, v in comps.items()}
        den = sum(per.values())
        den = np.where(den > 0, den, 1.0)
        over_time = {k: v / den for k, v in per.items()}
    return DominanceReport(shares, dom, shares[dom] >= float(threshold), over_time)


@dataclass
class LengthReport:
    """Result of :func:`length_exploitation`."""

    spearman: float
    pearson: float
    reward_per_token: float
    length_trend: float
    flagged: bool


def length_exploitation(rewards: Any, lengths: Any, steps: Any = None, threshold: float = 0.5) -> LengthReport:
    """How much of the reward is explained by completion length (Singhal et al., 2023).

    Reports Spearman :math:`\\rho(r, \\ell)`, Pearson :math:`r`, the least-squares slope of
    reward on length, and - if per-sample training ``steps`` are given - the Spearman
    correlation of mean length with step (a policy that learns to ramble shows a rising
    trend).  Flagged when :math:`|\\rho(r, \\ell)| \\ge` ``threshold``.

    Example:
        >>> rep = length_exploitation([1.0, 2.0, 3.0, 2.5], [10, 20, 40, 30])
        >>> rep.spearman, rep.flagged
        (1.0, True)
    """
    r = _series(rewards, "rewards")
    ln = _series(lengths, "lengths")
    if r.shape != ln.shape:
        raise ConfigError("lengths", f"has {ln.size} entries for {r.size} rewards", "one length per reward")
    if r.size < 3:
        raise ConfigError("rewards", f"has {r.size} entries", "at least 3 samples")
    rho = spearman(r, ln)
    lc, rc = ln - ln.mean(), r - r.mean()
    den = math.sqrt(float((lc * lc).sum() * (rc * rc).sum()))
    pear = float((lc * rc).sum() / den) if den > 0 else math.nan
    slope = float((lc * rc).sum() / (lc * lc).sum()) if (lc * lc).sum() > 0 else math.nan
    trend = math.nan
    if steps is not None:
        s = _series(steps, "steps")
        if s.shape != r.shape:
            raise ConfigError("steps", f"has {s.size} entries for {r.size} rewards", "one step per sample")
        u, inv = np.unique(s, return_inverse=True)
        if u.size >= 3:
            mean_len = np.bincount(inv, weights=ln) / np.bincount(inv)
            trend = spearman(u, mean_len)
    flagged = bool(np.isfinite(rho) and abs(rho) >= float(threshold))
    return LengthReport(float(rho), pear, slope, float(trend), flagged)


# --------------------------------------------------------------------------- PAR

def par_transform(reward: Any, reference: Any) -> np.ndarray:
    """PAR shaping :math:`\\frac1M\\sum_m \\sigma(r - r^{ref}_m)` (Fu et al., 2025).

    ``reference`` is a scalar, shape ``(n,)`` (one reference per item) or ``(n, M)``.

    Example:
        >>> par_transform(np.array([1.0, 1.0]), np.array([[1.0, 1.0], [0.0, 2.0]])).round(3).tolist()
        [0.5, 0.5]
    """
    r = np.asarray(reward, dtype=np.float64).reshape(-1)
    ref = np.asarray(reference, dtype=np.float64)
    if ref.ndim == 0:
        ref = np.full((r.size, 1), float(ref))
    elif ref.ndim == 1:
        if ref.size != r.size:
            raise BatchError("reference", f"has {ref.size} entries for {r.size} rewards", "one reference per item")
        ref = ref[:, None]
    elif ref.ndim != 2 or ref.shape[0] != r.size:
        raise BatchError("reference", f"has shape {ref.shape} for {r.size} rewards", "a scalar, (n,) or (n, M)")
    d = r[:, None] - ref
    return (0.5 * (1.0 + np.tanh(0.5 * d))).mean(axis=1)


class PARTerm(RewardTerm):
    """A reward term wrapped by PAR: :math:`\\frac1M \\sum_m \\sigma(r(x, y) - r(x, y^{ref}_m))` (Fu et al., 2025).

    The reference rewards come, in order of preference, from

    * ``reference_completion_column``: a :class:`~rewardkit.core.SampleBatch` column holding one
      reference completion (or a list of *M*) per sample, scored by the wrapped term itself on
      the same prompt and columns - the paper's setting (responses of the SFT policy);
    * ``reference_column``: a batch column with precomputed reference reward(s) per sample;
    * ``reference_value``: a constant centre (e.g. the mean reward of the initial policy).

    Example:
        >>> from rewardkit.core import FunctionTerm, SampleBatch
        >>> length = FunctionTerm("length", lambda b: [len(c) for c in b.completion_texts()])
        >>> t = PARTerm(length, reference_completion_column="sft")
        >>> t(SampleBatch(["p", "p"], ["abc", "abcdefghij"], {"sft": ["abc", "abc"]})).round(4).tolist()
        [0.5, 0.9991]
    """

    def __init__(self, term: Any, reference_completion_column: str | None = None,
                 reference_column: str | None = None, reference_value: float | None = None,
                 name: str | None = None):
        self.term = as_term(term)
        super().__init__(name or f"par_{self.term.name}")
        if reference_completion_column is None and reference_column is None and reference_value is None:
            raise ConfigError("par", "no reference given",
                              "one of reference_completion_column, reference_column or reference_value")
        self.reference_completion_column = reference_completion_column
        self.reference_column = reference_column
        self.reference_value = None if reference_value is None else float(reference_value)
        self.batch_kind = self.term.batch_kind  # type: ignore[misc]

    def reference_rewards(self, batch: Any) -> np.ndarray:
        """Reference rewards, shape ``(n, M)``."""
        n = len(batch)
        if self.reference_completion_column is not None:
            if not isinstance(batch, SampleBatch):
                raise BatchError(f"term '{self.name}'", f"got a {type(batch).__name__}",
                                 "a SampleBatch when reference_completion_column is set")
            refs = batch.column(self.reference_completion_column)
            lists = [list(x) if isinstance(x, (list, tuple)) else [x] for x in refs]
            m = len(lists[0]) if lists else 1
            if any(len(x) != m or m == 0 for x in lists):
                raise BatchError(f"columns.{self.reference_completion_column}", "has ragged or empty lists",
                                 "the same number M >= 1 of reference completions per sample")
            prompts = [p for p in batch.prompts for _ in range(m)]
            comps = [c for x in lists for c in x]
            cols = {k: [v for v in vals for _ in range(m)] for k, vals in batch.columns.items()}
            return self.term(SampleBatch(prompts, comps, cols)).reshape(n, m)
        if self.reference_column is not None:
            col = batch.column(self.reference_column) if isinstance(batch, SampleBatch) else \
                [inf.get(self.reference_column) for inf in batch.info]
            try:
                rows = [np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in col]
            except (TypeError, ValueError):
                raise BatchError(f"columns.{self.reference_column}", "is not numeric",
                                 "a reference reward (or list of them) per sample") from None
            if len({r.size for r in rows}) != 1:
                raise BatchError(f"columns.{self.reference_column}", "has ragged lists",
                                 "the same number of reference rewards per sample")
            return np.stack(rows)
        return np.full((n, 1), self.reference_value)

    def compute(self, batch: Any) -> np.ndarray:
        return par_transform(self.term(batch), self.reference_rewards(batch))

    def reset(self, mask: Any = None) -> None:
        self.term.reset(mask)

    def state_dict(self) -> dict[str, Any]:
        return {"term": self.term.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.term.load_state_dict(state.get("term", {}))


@register_term("par", example={"term": {"type": "constant", "params": {"value": 1.0}}, "reference_value": 0.5})
def par(term: Mapping[str, Any], reference_completion_column: str | None = None,
        reference_column: str | None = None, reference_value: float | None = None,
        name: str = "par") -> PARTerm:
    """PAR reward shaping (Fu et al., 2025): the sigmoid win probability of a term against reference rewards.

    ``term`` is a term config (``{type: ..., params: ...}``) built with :func:`rewardkit.core.build_reward`.

    Example:
        >>> from rewardkit.core import SampleBatch, build_reward
        >>> r = build_reward({"terms": [{"type": "par", "params": {"term": {"type": "constant",
        ...     "params": {"value": 2.0}}, "reference_value": 2.0}}]})
        >>> r(SampleBatch(["p"], ["c"])).tolist()
        [0.5]
    """
    if not isinstance(term, Mapping):
        raise ConfigError("params.term", f"got {type(term).__name__}", "a term mapping {type: ..., params: ...}")
    inner = build_reward({"terms": [dict(term)]}, field="params.term")
    return PARTerm(inner, reference_completion_column, reference_column, reference_value, name=name)
