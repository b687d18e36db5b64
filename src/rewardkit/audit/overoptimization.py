"""Reward-model over-optimisation: Gao et al.'s scaling-law forms, best-of-n KL, proxy-vs-gold curves.

Gao, Schulman & Hilton (2023, "Scaling Laws for Reward Model Overoptimization", ICML) optimise a
policy against a *proxy* reward model and measure a *gold* reward model.  With
:math:`d = \\sqrt{D_{KL}(\\pi \\,\\|\\, \\pi_{init})}` the gold score (relative to the initial
policy) follows

.. math:: R_{bon}(d) = d\\,(\\alpha_{bon} - \\beta_{bon}\\, d), \\qquad
          R_{RL}(d) = d\\,(\\alpha_{RL} - \\beta_{RL} \\log d)

for best-of-n sampling and RL respectively.  Both are linear in :math:`(\\alpha, \\beta)`, so
:func:`fit_overoptimization` solves an ordinary least-squares problem.  The gold peak is at
:math:`d^* = \\alpha / 2\\beta` (BoN, :math:`R^* = \\alpha^2/4\\beta`) and
:math:`d^* = e^{\\alpha/\\beta - 1}` (RL, :math:`R^* = \\beta d^*`).

The KL of best-of-n from the base policy is computed analytically (Gao et al., Appendix;
an upper bound for discrete outputs - Beirami et al., 2024, "Theoretical guarantees on the
best-of-n alignment policy"):

.. math:: D_{KL}(\\pi_{bon} \\,\\|\\, \\pi) = \\log n - \\frac{n-1}{n}.

:func:`simulate_best_of_n` reproduces the phenomenon with a synthetic *correlated proxy*
(a proxy positively correlated with gold under the base policy; Laidlaw, Singhal & Dragan,
2025, "Correlated Proxies: A New Definition and Improved Mitigation for Reward Hacking",
ICLR): the proxy rewards a
feature the gold reward penalises at its extremes, so under growing selection pressure the gold
score of the chosen sample peaks and then falls while the proxy keeps rising.

Example:
    >>> round(bon_kl(16), 4)
    1.8351
    >>> fit = fit_overoptimization([0.5, 1, 1.5, 2, 2.5], [0.425, 0.7, 0.825, 0.8, 0.625], form="bon")
    >>> round(fit.alpha, 3), round(fit.beta, 3), round(fit.d_peak, 3)
    (1.0, 0.3, 1.667)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from rewardkit.core.errors import ConfigError

__all__ = [
    "OveroptCurve",
    "OveroptFit",
    "ProxySampler",
    "bon_kl",
    "fit_overoptimization",
    "gao_bon",
    "gao_rl",
    "gaussian_proxy",
    "kl_optimal_policy",
    "misspecified_proxy",
    "simulate_best_of_n",
    "simulate_kl_regularised",
]


def bon_kl(n: Any) -> np.ndarray | float:
    """Analytic KL of best-of-n from the base policy: :math:`\\log n - (n-1)/n`.

    Example:
        >>> bon_kl(1), round(bon_kl(4), 4)
        (0.0, 0.6363)
    """
    a = np.asarray(n, dtype=np.float64)
    if np.any(a < 1):
        raise ConfigError("n", f"got {n}", "sample counts >= 1")
    out = np.log(a) - (a - 1.0) / a
    return float(out) if out.ndim == 0 else out


def gao_bon(d: Any, alpha: float, beta: float) -> np.ndarray:
    """BoN gold-reward form :math:`R(d) = d(\\alpha - \\beta d)` (Gao et al., 2023, eq. 1).

    Example:
        >>> gao_bon([0.0, 1.0, 2.0], 1.0, 0.25).tolist()
        [0.0, 0.75, 1.0]
    """
    d = np.asarray(d, dtype=np.float64)
    return d * (alpha - beta * d)


def gao_rl(d: Any, alpha: float, beta: float) -> np.ndarray:
    """RL gold-reward form :math:`R(d) = d(\\alpha - \\beta \\log d)`, with :math:`R(0) = 0` (Gao et al., 2023, eq. 2).

    Example:
        >>> [round(v, 4) for v in gao_rl([0.0, 1.0, np.e], 1.0, 0.5).tolist()]
        [0.0, 1.0, 1.3591]
    """
    d = np.asarray(d, dtype=np.float64)
    return d * alpha - beta * _xlogx(d)


def _xlogx(d: np.ndarray) -> np.ndarray:
    return np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)


@dataclass
class OveroptFit:
    """Least-squares fit of a Gao et al. functional form.

    Attributes:
        form: ``"bon"`` or ``"rl"``.
        alpha, beta: fitted coefficients.
        r2: coefficient of determination of the fit (about zero: the forms pass through the origin).
        d_peak: :math:`d^*` maximising the fitted curve (``inf`` if :math:`\\beta \\le 0`).
        r_peak: fitted gold reward at :math:`d^*`.
        kl_peak: :math:`(d^*)^2`, the KL budget where gold peaks.
    """

    form: str
    alpha: float
    beta: float
    r2: float
    d_peak: float
    r_peak: float

    @property
    def kl_peak(self) -> float:
        return self.d_peak ** 2

    def predict(self, d: Any) -> np.ndarray:
        """Fitted gold reward at distances ``d``."""
        return (gao_bon if self.form == "bon" else gao_rl)(d, self.alpha, self.beta)


def fit_overoptimization(d: Any, gold: Any, form: str = "bon", baseline: float = 0.0) -> OveroptFit:
    """Fit :math:`R(d) - R(0)` with the BoN or RL form of Gao et al. (2023) by least squares.

    ``gold - baseline`` is regressed on ``[d, -d^2]`` (BoN) or ``[d, -d log d]`` (RL) with no
    intercept.  Pass ``baseline`` = the initial policy's gold score if ``gold`` is not already
    relative to it.

    Example:
        >>> d = np.linspace(0.2, 6, 30)
        >>> f = fit_overoptimization(d, gao_rl(d, 1.2, 0.6), form="rl")
        >>> round(f.alpha, 6), round(f.beta, 6), round(f.d_peak, 4)
        (1.2, 0.6, 2.7183)
    """
    x = np.asarray(d, dtype=np.float64).reshape(-1)
    y = np.asarray(gold, dtype=np.float64).reshape(-1) - float(baseline)
    if x.shape != y.shape:
        raise ConfigError("gold", f"has {y.size} entries for {x.size} distances", "one gold value per d")
    if x.size < 2 or np.any(x < 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ConfigError("d", "needs >= 2 finite, non-negative distances", "d = sqrt(KL) >= 0")
    if form == "bon":
        X = np.stack([x, -x * x], axis=1)
    elif form == "rl":
        X = np.stack([x, -_xlogx(x)], axis=1)
    else:
        raise ConfigError("form", f"got {form!r}", "'bon' or 'rl'")
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    alpha, beta = float(coef[0]), float(coef[1])
    resid = y - X @ coef
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((resid ** 2).sum()) / ss if ss > 0 else math.nan
    if beta <= 0:
        d_peak, r_peak = math.inf, math.inf
    elif form == "bon":
        d_peak = alpha / (2 * beta)
        r_peak = alpha * alpha / (4 * beta)
    else:
        d_peak = math.exp(alpha / beta - 1.0) if alpha / beta - 1.0 < 700 else math.inf
        r_peak = beta * d_peak
    return OveroptFit(form, alpha, beta, r2, float(d_peak), float(r_peak))


#: ``sampler(rng, shape) -> (gold, proxy)`` arrays of that shape, drawn under the base policy
ProxySampler = Callable[[np.random.Generator, tuple], tuple]


def gaussian_proxy(noise_std: float = 1.0) -> ProxySampler:
    """Proxy = gold + independent Gaussian error (*regressional* Goodhart): gold keeps rising, more slowly.

    Example:
        >>> g, p = gaussian_proxy(0.5)(np.random.default_rng(0), (10000,))
        >>> round(float(np.corrcoef(g, p)[0, 1]), 2)
        0.89
    """
    s = float(noise_std)

    def sample(rng: np.random.Generator, shape: tuple) -> tuple:
        g = rng.standard_normal(shape)
        return g, g + s * rng.standard_normal(shape)

    return sample


def misspecified_proxy(exploit_weight: float = 2.0, penalty: float = 0.5) -> ProxySampler:
    """A correlated but misspecified proxy: it rewards a feature the gold reward punishes at its extremes.

    Each completion has quality :math:`q \\sim N(0,1)` and an exploitable feature
    :math:`e \\sim N(0,1)` (think: length, flattery).  The rewards are

    .. math:: g = q + e - \\kappa\\, e^2 \\quad (\\text{gold}), \\qquad p = q + w\\, e \\quad (\\text{proxy}),

    so under the base policy proxy and gold are positively correlated, but selecting hard on
    :math:`p` pushes :math:`e` past :math:`1/2\\kappa`, where gold falls (extremal Goodhart).

    Example:
        >>> g, p = misspecified_proxy()(np.random.default_rng(0), (20000,))
        >>> float(np.corrcoef(g, p)[0, 1]) > 0.5
        True
    """
    w, k = float(exploit_weight), float(penalty)

    def sample(rng: np.random.Generator, shape: tuple) -> tuple:
        q = rng.standard_normal(shape)
        e = rng.standard_normal(shape)
        return q + e - k * e * e, q + w * e

    return sample


@dataclass
class OveroptCurve:
    """Proxy and gold reward of best-of-n selections as optimisation pressure grows.

    Attributes:
        n: the sample counts (best-of-n), or the inverse KL coefficients ``1/beta`` (KL-regularised).
        kl: KL of the optimised policy from the base policy; ``d = sqrt(kl)``.
        proxy, gold: mean proxy / gold score of the selected completion (minus the base mean).
        gold_se: standard error of ``gold`` over prompts.
    """

    n: np.ndarray
    kl: np.ndarray
    d: np.ndarray
    proxy: np.ndarray
    gold: np.ndarray
    gold_se: np.ndarray

    @property
    def peak_index(self) -> int:
        """Index of the gold peak."""
        return int(np.argmax(self.gold))

    @property
    def d_peak(self) -> float:
        """:math:`d` at the empirical gold peak."""
        return float(self.d[self.peak_index])

    @property
    def gold_drop(self) -> float:
        """Gold lost past the peak: :math:`\\max_i g_i - g_{last}` (0 when gold never falls)."""
        return float(self.gold.max() - self.gold[-1])

    @property
    def gap(self) -> float:
        """Overoptimisation gap at the strongest pressure: proxy gain minus gold gain, :math:`p_{last} - g_{last}`."""
        return float(self.proxy[-1] - self.gold[-1])

    def table(self) -> str:
        rows = ["| n or 1/beta | KL | d | proxy | gold |", "|---|---|---|---|---|"]
        for i in range(self.n.size):
            rows.append(f"| {self.n[i]:g} | {self.kl[i]:.3f} | {self.d[i]:.3f} | {self.proxy[i]:.3f} | "
                        f"{self.gold[i]:.3f} |")
        return "\n".join(rows)


def simulate_best_of_n(sampler: ProxySampler, ns: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
                       n_prompts: int = 500, seed: int = 0) -> OveroptCurve:
    """Best-of-n under a proxy, scored by gold: the BoN half of Gao et al.'s experiment, synthetic.

    For each prompt :math:`\\max(ns)` completions are drawn once; best-of-n uses the first *n*
    (common random numbers across *n*), picks :math:`\\arg\\max` proxy and records the gold and
    proxy score of the pick, relative to the base policy's mean.

    Example:
        >>> c = simulate_best_of_n(misspecified_proxy(), ns=(1, 4, 16, 1024), n_prompts=400)
        >>> bool(c.proxy[-1] > c.proxy[2] > c.proxy[1]), bool(c.gold[-1] < c.gold.max() - 0.5)
        (True, True)
    """
    ns_arr = np.asarray(sorted({int(n) for n in ns}), dtype=np.int64)
    if ns_arr.size == 0 or ns_arr[0] < 1:
        raise ConfigError("ns", f"got {list(ns)}", "sample counts >= 1")
    if int(n_prompts) < 2:
        raise ConfigError("n_prompts", f"got {n_prompts}", "an integer >= 2")
    rng = np.random.default_rng(seed)
    g, p = sampler(rng, (int(n_prompts), int(ns_arr[-1])))
    g, p = np.asarray(g, dtype=np.float64), np.asarray(p, dtype=np.float64)
    g0, p0 = g.mean(), p.mean()
    rows = np.arange(g.shape[0])
    proxy, gold, se = [], [], []
    for n in ns_arr:
        j = np.argmax(p[:, :n], axis=1)
        gs = g[rows, j] - g0
        proxy.append(float((p[rows, j] - p0).mean()))
        gold.append(float(gs.mean()))
        se.append(float(gs.std(ddof=1) / math.sqrt(gs.size)))
    kl = np.asarray(bon_kl(ns_arr), dtype=np.float64).reshape(-1)
    return OveroptCurve(ns_arr, kl, np.sqrt(kl), np.array(proxy), np.array(gold), np.array(se))


def kl_optimal_policy(reward: Any, beta: float, base: Any = None) -> tuple[np.ndarray, float]:
    """The maximiser of :math:`\\mathbb E_\\pi[r] - \\beta D_{KL}(\\pi \\| \\pi_0)` over a finite set of outputs.

    .. math:: \\pi^*(y) = \\pi_0(y)\\, e^{r(y)/\\beta} / Z

    (Korbak, Perez & Buckley, 2022, "RL with KL penalties is better viewed as Bayesian
    inference"; Rafailov et al., 2023, "Direct Preference Optimization", eq. 4): the policy that
    KL-regularised RLHF converges to.  Returns ``(pi, KL(pi || pi_0))``; ``base`` defaults to uniform.

    Example:
        >>> pi, kl = kl_optimal_policy([0.0, 1.0], beta=1.0)
        >>> pi.round(4).tolist(), round(kl, 4)
        ([0.2689, 0.7311], 0.1109)
    """
    r = np.asarray(reward, dtype=np.float64).reshape(-1)
    if float(beta) <= 0:
        raise ConfigError("beta", f"got {beta}", "a KL coefficient > 0")
    p0 = np.full(r.size, 1.0 / r.size) if base is None else np.asarray(base, dtype=np.float64).reshape(-1)
    if p0.shape != r.shape or np.any(p0 < 0) or not np.isclose(p0.sum(), 1.0):
        raise ConfigError("base", "is not a probability vector over the outputs",
                          f"{r.size} non-negative numbers summing to 1")
    logits = np.where(p0 > 0, np.log(np.where(p0 > 0, p0, 1.0)) + r / float(beta), -np.inf)
    w = np.exp(logits - logits.max())
    pi = w / w.sum()
    nz = pi > 0
    return pi, float(np.sum(pi[nz] * (np.log(pi[nz]) - np.log(p0[nz]))))


def simulate_kl_regularised(sampler: ProxySampler, betas: Sequence[float] = (3.0, 1.0, 0.3, 0.1, 0.03, 0.01),
                            n_candidates: int = 256, n_prompts: int = 200,
                            transform: Callable[[np.ndarray], np.ndarray] | None = None,
                            seed: int = 0) -> OveroptCurve:
    """The RL half of Gao et al.'s experiment, in closed form: the KL-regularised optimum against a proxy.

    For each of ``n_prompts`` prompts, ``n_candidates`` outputs are drawn under the base policy
    (uniform over them).  For each :math:`\\beta` the optimum :math:`\\pi^* \\propto e^{\\tilde r/\\beta}`
    of the (optionally ``transform``-ed, e.g. PAR) proxy :math:`\\tilde r` is computed exactly per
    prompt (:func:`kl_optimal_policy`); the expected raw proxy and gold (relative to the base
    means) and the KL are averaged over prompts.  ``transform`` maps a ``(n_prompts,
    n_candidates)`` proxy array to the optimised reward.  Rows are ordered by increasing
    optimisation pressure :math:`1/\\beta`.

    Example:
        >>> raw = simulate_kl_regularised(misspecified_proxy(), betas=(1.0, 0.01))
        >>> par = simulate_kl_regularised(misspecified_proxy(), betas=(1.0, 0.01),
        ...     transform=lambda p: 1 / (1 + np.exp(-(p - p.mean(axis=1, keepdims=True)))))
        >>> bool(raw.gold[-1] < raw.gold[0]), bool(par.gold[-1] > par.gold[0])
        (True, True)
    """
    bs = sorted({float(b) for b in betas}, reverse=True)
    if not bs or bs[-1] <= 0:
        raise ConfigError("betas", f"got {list(betas)}", "KL coefficients > 0")
    if int(n_candidates) < 2 or int(n_prompts) < 2:
        raise ConfigError("n_candidates", f"got {n_candidates} candidates x {n_prompts} prompts",
                          "integers >= 2")
    g, p = sampler(np.random.default_rng(seed), (int(n_prompts), int(n_candidates)))
    g, p = np.asarray(g, dtype=np.float64), np.asarray(p, dtype=np.float64)
    r = p if transform is None else np.asarray(transform(p), dtype=np.float64)
    if r.shape != p.shape:
        raise ConfigError("transform", f"returned shape {r.shape}", f"shape {p.shape}")
    n = p.shape[1]
    kl, proxy, gold, se = [], [], [], []
    for b in bs:
        z = r / b
        w = np.exp(z - z.max(axis=1, keepdims=True))
        pi = w / w.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_rows = np.where(pi > 0, pi * np.log(pi * n), 0.0).sum(axis=1)
        gs = (pi * g).sum(axis=1) - g.mean()
        kl.append(float(kl_rows.mean()))
        proxy.append(float(((pi * p).sum(axis=1) - p.mean()).mean()))
        gold.append(float(gs.mean()))
        se.append(float(gs.std(ddof=1) / math.sqrt(gs.size)))
    kl_a = np.maximum(np.array(kl), 0.0)
    return OveroptCurve(1.0 / np.array(bs), kl_a, np.sqrt(kl_a), np.array(proxy), np.array(gold), np.array(se))
