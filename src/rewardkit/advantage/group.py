"""Group-relative advantage estimators for GRPO-style RL on LLM samples.

Every function takes the rewards of a batch ``r`` (shape ``(n,)``) and the prompt
``group`` of each sample (shape ``(n,)``; samples of one prompt share an id) and
returns one advantage per sample.  ``group`` may also be a :class:`~rewardkit.core.SampleBatch`,
whose group column (:meth:`~rewardkit.core.SampleBatch.group_ids`: its ``group``, else repeated
prompts) is read through :func:`rewardkit.core.groups.group_codes`, the one place group ids become
indices.  All are pure NumPy and NaN-safe where the
reference code is not.  Notation: a group has :math:`G` samples with rewards
:math:`r_i`, mean :math:`\\mu` and standard deviation :math:`\\sigma`.

==================  ==========================================================  =================================
estimator           advantage                                                   paper
==================  ==========================================================  =================================
``grpo``            :math:`(r_i-\\mu)/(\\sigma+\\epsilon)`                         Shao et al. 2024 (DeepSeekMath)
``dr_grpo``         :math:`r_i-\\mu`                                              Liu et al. 2025 (Dr. GRPO)
``batch_std``       :math:`(r_i-\\mu_g)/\\sigma_{batch}`                            Liu et al. 2025 (Lite-PPO)
``rloo``            :math:`r_i-\\frac{1}{G-1}\\sum_{j\\ne i}r_j`                   Ahmadian et al. 2024 (RLOO)
``reinforce_pp``    :math:`r_i-\\mu`, then batch whitening                       Hu 2025 (REINFORCE++ baseline)
``opo``             :math:`r_i-\\sum_j \\ell_j r_j/\\sum_j \\ell_j`                 Hao et al. 2025 (OPO)
``passk``           group argmax gets :math:`r_{max}-r_{2nd}`, others 0           Chen et al. 2025 (pass@k)
``bnpo``            :math:`(s_i-p)/\\mathrm{Beta}(p;\\alpha,\\beta)`                  Xiao et al. 2025 (BNPO)
``weighted_reinforce``  :math:`\\lambda` if correct else :math:`-1`              Zhu et al. 2025 (NSR/W-REINFORCE)
``gdpo``            per-reward z-scores within a group, weighted, batch z-score  TRL ``normalize_then_sum``
==================  ==========================================================  =================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from rewardkit.core.groups import group_codes, group_members

__all__ = [
    "batch_std",
    "bnpo",
    "bnpo_params",
    "dr_grpo",
    "gdpo",
    "group_stats",
    "grpo",
    "opo",
    "passk",
    "reinforce_pp",
    "rloo",
    "weighted_reinforce",
]


def _prep(rewards: npt.ArrayLike, group: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Rewards as floats and dense group indices (:func:`rewardkit.core.groups.group_codes`: ids, a
    :class:`~rewardkit.core.SampleBatch`'s ``group`` column, or ``None`` for one group)."""
    r = np.asarray(rewards, dtype=np.float64).reshape(-1)
    g = group_codes(group, r.shape[0])
    return r, g, int(g.max()) + 1 if g.size else 0


def group_stats(rewards: npt.ArrayLike, group: Any = None,
                ddof: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample group mean, group std (``ddof``) and group size; NaN rewards are ignored.

    Example:
        >>> mu, sd, n = group_stats([1, 0, 1, 1], [0, 0, 1, 1])
        >>> mu.tolist(), n.tolist()
        ([0.5, 0.5, 1.0, 1.0], [2, 2, 2, 2])
    """
    r, g, k = _prep(rewards, group)
    ok = ~np.isnan(r)
    cnt = np.bincount(g[ok], minlength=k).astype(np.float64)
    s = np.bincount(g[ok], weights=r[ok], minlength=k)
    mean = np.divide(s, cnt, out=np.zeros(k), where=cnt > 0)
    dev = np.where(ok, r - mean[g], 0.0)
    ss = np.bincount(g, weights=dev**2, minlength=k)
    denom = cnt - ddof
    var = np.divide(ss, denom, out=np.zeros(k), where=denom > 0)
    return mean[g], np.sqrt(var)[g], cnt[g].astype(np.int64)


def grpo(rewards: npt.ArrayLike, group: Any = None, eps: float = 1e-6, ddof: int = 1) -> np.ndarray:
    """GRPO: :math:`A_i = (r_i - \\mu)/(\\sigma + \\epsilon)` within each group.

    A singleton group gets 0 (nothing to compare with), and NaN rewards get 0.

    Example:
        >>> grpo([1.0, 0.0, 0.0, 0.0], [0, 0, 0, 0]).round(3).tolist()
        [1.5, -0.5, -0.5, -0.5]
        >>> from rewardkit.core import SampleBatch   # the batch's group column (here: repeated prompts)
        >>> grpo([1.0, 0.0, 1.0, 1.0], SampleBatch(["p", "p", "q", "q"], ["a", "b", "c", "d"])).round(3).tolist()
        [0.707, -0.707, 0.0, 0.0]
    """
    r, g, _ = _prep(rewards, group)
    mu, sd, n = group_stats(r, g, ddof)
    den = sd + eps
    # a group whose spread is only floating-point noise carries no signal (constant rewards)
    signal = sd > 1e-9 * (1.0 + np.abs(mu))
    z = np.divide(r - mu, den, out=np.zeros_like(r), where=(den > 0) & signal)
    return np.where((n > 1) & ~np.isnan(r), z, 0.0)


def dr_grpo(rewards: npt.ArrayLike, group: Any = None) -> np.ndarray:
    """Dr. GRPO: :math:`A_i = r_i - \\mu` (no std scaling; use a constant-length loss normaliser).

    Example:
        >>> dr_grpo([1.0, 0.0], [0, 0]).tolist()
        [0.5, -0.5]
    """
    r, g, _ = _prep(rewards, group)
    mu, _, n = group_stats(r, g)
    return np.where((n > 1) & ~np.isnan(r), r - mu, 0.0)


def batch_std(rewards: npt.ArrayLike, group: Any = None, eps: float = 1e-6) -> np.ndarray:
    """Group-centred, batch-scaled: :math:`A_i = (r_i - \\mu_g)/(\\sigma_{batch}+\\epsilon)`.

    Example:
        >>> batch_std([1.0, 0.0, 1.0, 1.0], [0, 0, 1, 1]).round(3).tolist()
        [1.0, -1.0, 0.0, 0.0]
    """
    c = dr_grpo(rewards, group)
    r = np.asarray(rewards, dtype=np.float64)
    sd = np.nanstd(r, ddof=1) if np.sum(~np.isnan(r)) > 1 else 1.0
    return c / (sd + eps)


def rloo(rewards: npt.ArrayLike, group: Any = None) -> np.ndarray:
    """RLOO: the baseline of sample *i* is the mean of the *other* samples of its group.

    :math:`A_i = r_i - \\frac{1}{G-1}\\sum_{j\\ne i} r_j = \\frac{G}{G-1}(r_i - \\mu)`.

    Example:
        >>> rloo([1.0, 0.0, 0.0], [0, 0, 0]).tolist()
        [1.0, -0.5, -0.5]
    """
    r, g, _ = _prep(rewards, group)
    mu, _, n = group_stats(r, g)
    safe = np.maximum(n - 1, 1)
    return np.where((n > 1) & ~np.isnan(r), n / safe * (r - mu), 0.0)


def reinforce_pp(rewards: npt.ArrayLike, group: Any = None, eps: float = 1e-8) -> np.ndarray:
    """REINFORCE++-baseline: subtract the group mean, then whiten over the whole batch.

    Example:
        >>> a = reinforce_pp([1.0, 0.0, 1.0, 0.0], [0, 0, 1, 1])
        >>> round(float(a.mean()), 6), round(float(a.std()), 3)
        (0.0, 1.0)
    """
    c = dr_grpo(rewards, group)
    out: np.ndarray = (c - c.mean()) / (c.std() + eps)
    return out


def opo(rewards: npt.ArrayLike, lengths: npt.ArrayLike, group: Any = None) -> np.ndarray:
    """OPO: a length-weighted group baseline :math:`b = \\sum_j \\ell_j r_j / \\sum_j \\ell_j`.

    Example:
        >>> opo([1.0, 0.0], [1, 3], [0, 0]).tolist()
        [0.75, -0.25]
    """
    r, g, k = _prep(rewards, group)
    ell = np.asarray(lengths, dtype=np.float64).reshape(-1)
    if ell.shape != r.shape:
        raise ValueError(f"lengths: got {ell.shape[0]} for {r.shape[0]} rewards; expected one length per reward")
    w = np.bincount(g, weights=ell, minlength=k)
    b = np.divide(np.bincount(g, weights=ell * r, minlength=k), w, out=np.zeros(k), where=w > 0)
    out: np.ndarray = r - b[g]
    return out


def passk(rewards: npt.ArrayLike, group: Any = None) -> np.ndarray:
    """Pass@k-style: only the best sample of a group gets :math:`r_{max} - r_{2nd}`.

    Example:
        >>> passk([0.2, 0.9, 0.5], [0, 0, 0]).round(3).tolist()
        [0.0, 0.4, 0.0]
    """
    r, g, _ = _prep(rewards, group)
    out = np.zeros_like(r)
    for idx in group_members(g):  # one pass over the batch (was a scan of all n samples per group)
        if idx.size < 2:
            continue
        order = idx[np.argsort(-r[idx], kind="stable")]
        out[order[0]] = r[order[0]] - r[order[1]]
    return out


def bnpo_params(p_groups: np.ndarray, v_floor: float = 1e-6) -> tuple[float, float]:
    """BNPO's Beta parameters from the per-group success rates (method of moments).

    :math:`m, v` = mean and unbiased variance of the group rates;
    :math:`a = (m(1-m)/v - 1) m`, :math:`b = (m(1-m)/v - 1)(1-m)`,
    :math:`\\alpha = \\max(1, 1 + a/3)`, :math:`\\beta = \\max(1, 1 + b/3)`.  ``v`` is floored so
    that identical group rates (the reference's NaN case) give finite parameters.
    """
    p = np.asarray(p_groups, dtype=np.float64)
    m = float(p.mean())
    v = float(p.var(ddof=1)) if p.size > 1 else 1.0
    v = max(v, v_floor)
    c = m * (1 - m) / v - 1
    return max(1.0, 1 + c * m / 3), max(1.0, 1 + c * (1 - m) / 3)


def bnpo(rewards: npt.ArrayLike, group: Any = None, low: float = 0.0, high: float = 1.0,
         alpha: float | None = None, beta: float | None = None, max_weight: float = 1e6) -> np.ndarray:
    """BNPO (Beta Normalization Policy Optimization).

    Rewards are rescaled to :math:`s = (r - low)/(high - low)`; :math:`p` is the group mean
    of :math:`s` (0 for a singleton group, as in the reference);
    :math:`A_i = \\mathrm{clip}(1/\\mathrm{Beta}(p;\\alpha,\\beta), 0, 10^6)\\,(s_i - p)`.
    With ``alpha=beta=1`` this is REINFORCE with a group-mean baseline; with
    ``alpha=beta=1.5`` it is proportional to GRPO with the population std.  Without
    explicit parameters they are fitted per batch by :func:`bnpo_params`.

    Example:
        >>> bnpo([1.0, 0.0], [0, 0], alpha=1.0, beta=1.0).tolist()
        [0.5, -0.5]
    """
    r, g, _k = _prep(rewards, group)
    s = (r - low) / (high - low)
    mu, _, n = group_stats(s, g)
    p = np.where(n > 1, mu, 0.0)
    if alpha is None or beta is None:
        first = np.unique(g, return_index=True)[1]
        alpha, beta = bnpo_params(p[first])
    pc = np.clip(p, 1e-12, 1 - 1e-12)
    log_pdf = (alpha - 1) * np.log(pc) + (beta - 1) * np.log1p(-pc) - _log_beta(float(alpha), float(beta))
    weight = np.clip(np.exp(-log_pdf), 0.0, max_weight)
    out: np.ndarray = np.where(np.isnan(s), 0.0, weight * (s - p))
    return out


def weighted_reinforce(correct: npt.ArrayLike, lam: float = 0.1) -> np.ndarray:
    """W-REINFORCE (Zhu et al. 2025): :math:`A = \\lambda` for correct, :math:`-1` for wrong.

    ``lam=0`` gives NSR (negative samples only); PSR is ``A = r`` (use the reward itself).

    Example:
        >>> weighted_reinforce([1, 0, 1]).tolist()
        [0.1, -1.0, 0.1]
    """
    c = np.asarray(correct, dtype=np.float64) > 0.5
    return np.where(c, float(lam), -1.0)


def gdpo(rewards_by_term: Mapping[str, npt.ArrayLike], group: Any = None,
         weights: Mapping[str, float] | None = None, eps: float = 1e-4) -> np.ndarray:
    """Normalise each reward term within its group, weight-sum, then z-score over the batch.

    :math:`z_{ik} = (r_{ik}-\\mu_k)/(\\sigma_k+\\epsilon)`, :math:`A = \\mathrm{zscore}(\\sum_k w_k z_{ik})`.
    A NaN in one term only zeroes that term's contribution for that sample (it does not
    poison the batch).

    Example:
        >>> a = gdpo({"acc": [1, 0, 1, 0], "fmt": [1, 1, 0, 0]}, [0, 0, 0, 0])
        >>> a.round(2).tolist()
        [1.41, 0.0, 0.0, -1.41]
    """
    total: np.ndarray | None = None
    for name, vals in rewards_by_term.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        z = grpo(vals, group, eps=eps)
        total = w * z if total is None else total + w * z
    if total is None:
        raise ValueError("rewards_by_term: empty; expected at least one reward term")
    sd = total.std()
    out: np.ndarray = (total - total.mean()) / (sd + eps) if sd > 0 else total - total.mean()
    return out


def _log_beta(a: float, b: float) -> float:
    """log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b) (no SciPy needed in the core advantage code).

    >>> round(_log_beta(2.0, 3.0), 6) == round(float(np.log(1 / 12)), 6)
    True
    """
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
