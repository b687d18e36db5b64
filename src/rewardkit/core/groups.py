"""GRPO groups: the one place where group ids become indices, and the pure group primitives.

In GRPO-style training a prompt is sampled :math:`G` times; the :math:`G` completions form a
*group* and are compared with each other (advantages, group-aware rewards).  A batch carries
one group id per sample (any hashable values: ints, strings, prompt texts).
:func:`group_codes` maps them to dense indices :math:`g_i \\in \\{0, \\dots, k-1\\}`, which is
what every group computation in rewardkit indexes with: the advantage estimators of
:mod:`rewardkit.advantage`, group-aware function terms (``rewardkit.group_term``) and the
built-in group terms below.

The built-ins are pure functions over ``(groups, values)`` arrays, invariant to the order of
the samples (each sample's output depends only on its own value and the *multiset* of values
in its group):

==========================  =====================================================================
function                    value of sample :math:`i` in group :math:`g`
==========================  =====================================================================
:func:`relative_rank`       :math:`(\\#\\{j: s_j < s_i\\} + \\tfrac12\\#\\{j \\ne i: s_j = s_i\\})/(G-1)`
:func:`shortest_correct`    1 if :math:`i` is correct and :math:`\\ell_i = \\min_{j\\ \\mathrm{correct}} \\ell_j`, else 0
:func:`correct_diversity`   #distinct answers among the correct / #correct, for a correct :math:`i`; else 0
:func:`majority_label`      the answer given by strictly more samples of :math:`g` than any other
:func:`majority_agreement`  1 if :math:`a_i` equals the majority label of :math:`g`, else 0
==========================  =====================================================================

Example:
    >>> group_codes(["p", "q", "p"]).tolist()
    [0, 1, 0]
    >>> majority_agreement([0, 0, 0, 1, 1], ["4", "4", "5", "7", "8"]).tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from .errors import BatchError

__all__ = [
    "correct_diversity",
    "group_codes",
    "group_members",
    "majority_agreement",
    "majority_label",
    "relative_rank",
    "shortest_correct",
]


def group_codes(group: Any, n: int | None = None) -> np.ndarray:
    """Dense group indices ``0..k-1`` (in order of first appearance) for ``n`` samples.

    ``group`` is a sequence of hashable ids, an array, a :class:`~rewardkit.core.SampleBatch`
    (its :meth:`~rewardkit.core.SampleBatch.group_ids`) or ``None`` (one group of all ``n``
    samples, the convention of the advantage estimators).  Two samples get the same index iff
    their ids are equal.

    Example:
        >>> group_codes([7, 3, 7, 3, 9]).tolist()
        [0, 1, 0, 1, 2]
        >>> group_codes(None, 3).tolist()
        [0, 0, 0]
        >>> group_codes([1, 2], n=3)
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.BatchError: group: got 2 ids for 3 samples; expected one group id per sample
    """
    if hasattr(group, "group_ids") and callable(group.group_ids):
        group = group.group_ids()
    if group is None:
        if n is None:
            raise BatchError("group", "got None without a sample count", "group ids or n")
        return np.zeros(int(n), dtype=np.int64)
    if isinstance(group, np.ndarray) and group.dtype.kind in "iub":
        _, first, inv = np.unique(group.reshape(-1), return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first, kind="stable"), kind="stable")  # rank of each id by first use
        codes = order[inv.reshape(-1)].astype(np.int64)
    else:
        ids = list(np.asarray(group, dtype=object).reshape(-1)) if isinstance(group, np.ndarray) else list(group)
        seen: dict[Hashable, int] = {}
        codes = np.empty(len(ids), dtype=np.int64)
        for i, gid in enumerate(ids):
            try:
                codes[i] = seen.setdefault(gid, len(seen))
            except TypeError:
                raise BatchError(f"group[{i}]", f"got unhashable {type(gid).__name__}",
                                 "a hashable group id (int or str)") from None
    if n is not None and codes.shape[0] != n:
        raise BatchError("group", f"got {codes.shape[0]} ids for {n} samples", "one group id per sample")
    return codes


def group_members(codes: np.ndarray) -> list[np.ndarray]:
    """The sample indices of each group, ``members[g]`` in ascending order.

    Example:
        >>> [m.tolist() for m in group_members(group_codes(["a", "b", "a"]))]
        [[0, 2], [1]]
    """
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    k = int(codes.max()) + 1 if codes.size else 0
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=k))[:-1]
    return list(np.split(order, bounds)) if k else []


def _prep(groups: Any, values: Any) -> tuple[np.ndarray, list[Any]]:
    vals = list(values)
    return group_codes(groups, len(vals)), vals


def relative_rank(groups: Any, scores: Any) -> np.ndarray:
    """Each score's mid-rank within its group, scaled to ``[0, 1]`` (best 1, worst 0, ties shared).

    :math:`\\rho_i = (\\#\\{j \\in g: s_j < s_i\\} + \\tfrac12 \\#\\{j \\in g, j \\ne i: s_j = s_i\\}) / (G - 1)`;
    a singleton group gets 0.5 and a NaN score gets NaN (it is not ranked).

    Example:
        >>> relative_rank([0, 0, 0, 1], [0.2, 0.9, 0.2, 5.0]).tolist()
        [0.25, 1.0, 0.25, 0.5]
    """
    codes = group_codes(groups, len(scores))
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    out = np.full(s.shape[0], np.nan)
    for idx in group_members(codes):
        idx = idx[~np.isnan(s[idx])]
        if idx.size == 0:
            continue
        v = s[idx]
        if idx.size == 1:
            out[idx] = 0.5
            continue
        sv = np.sort(v)
        below = np.searchsorted(sv, v, side="left")
        equal = np.searchsorted(sv, v, side="right") - below - 1
        out[idx] = (below + 0.5 * equal) / (idx.size - 1)
    return out


def shortest_correct(groups: Any, lengths: Any, correct: Any) -> np.ndarray:
    """1 for the correct samples of minimal length in their group (all of them on a tie), else 0.

    :math:`b_i = [c_i \\wedge \\ell_i = \\min_{j \\in g,\\, c_j} \\ell_j]`.

    Example:
        >>> shortest_correct([0, 0, 0, 1], [30, 10, 20, 5], [True, False, True, False]).tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    codes = group_codes(groups, len(lengths))
    ell = np.asarray(lengths, dtype=np.float64).reshape(-1)
    ok = np.asarray(correct, dtype=bool).reshape(-1)
    if ok.shape != ell.shape:
        raise BatchError("correct", f"got {ok.shape[0]} flags for {ell.shape[0]} samples", "one flag per sample")
    out = np.zeros(ell.shape[0])
    for idx in group_members(codes):
        good = idx[ok[idx]]
        if good.size:
            out[good[ell[good] == ell[good].min()]] = 1.0
    return out


def correct_diversity(groups: Any, answers: Sequence[Any], correct: Any) -> np.ndarray:
    """For a correct sample: distinct answers among its group's correct samples / their number; else 0.

    :math:`d_i = [c_i]\\, |\\{a_j: j \\in g, c_j\\}| / |\\{j \\in g: c_j\\}|`: 1 when every correct
    sample of the group says something different, :math:`1/m` when all :math:`m` say the same.

    Example:
        >>> correct_diversity([0, 0, 0, 0], ["x=2", "x=2", "2", "9"], [True, True, True, False]).round(3).tolist()
        [0.667, 0.667, 0.667, 0.0]
    """
    codes, vals = _prep(groups, answers)
    ok = np.asarray(correct, dtype=bool).reshape(-1)
    if ok.shape[0] != len(vals):
        raise BatchError("correct", f"got {ok.shape[0]} flags for {len(vals)} samples", "one flag per sample")
    out = np.zeros(len(vals))
    for idx in group_members(codes):
        good = [int(i) for i in idx if ok[i]]
        if good:
            out[good] = len({vals[i] for i in good}) / len(good)
    return out


def majority_label(groups: Any, answers: Sequence[Any]) -> list[Any]:
    """Per sample, its group's majority answer: the one given strictly more often than any other.

    ``None`` answers (nothing extracted) do not vote; a tie, or a group without answers, has
    no majority (``None``).  This is the pseudo-label of majority-vote self-rewarding
    (TTRL, Zuo et al. 2025; Co-Reward, Zhang et al. 2025).

    Example:
        >>> majority_label([0, 0, 0, 1, 1], ["4", None, "4", "1", "2"])
        ['4', '4', '4', None, None]
    """
    codes, vals = _prep(groups, answers)
    out: list[Any] = [None] * len(vals)
    for idx in group_members(codes):
        votes = Counter(vals[i] for i in idx if vals[i] is not None)
        top = votes.most_common(2)
        if top and (len(top) == 1 or top[0][1] > top[1][1]):
            for i in idx:
                out[int(i)] = top[0][0]
    return out


def majority_agreement(groups: Any, answers: Sequence[Any]) -> np.ndarray:
    """1 where a sample's answer equals its group's :func:`majority_label`, else 0.

    :math:`m_i = [a_i \\ne \\varnothing \\wedge a_i = \\mathrm{maj}(g)]`.

    Example:
        >>> majority_agreement(["p", "p", "p"], ["a", "b", "a"]).tolist()
        [1.0, 0.0, 1.0]
    """
    labels = majority_label(groups, answers)
    vals = list(answers)
    return np.array([float(lab is not None and a == lab) for a, lab in zip(vals, labels, strict=True)], dtype=np.float64)
