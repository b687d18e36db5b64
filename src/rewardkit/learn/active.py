"""Active preference queries: ask about the pairs the reward ensemble disagrees on.

Christiano et al. (2017, "Deep reinforcement learning from human preferences",
NeurIPS, §2.2.4) sample many candidate pairs, predict each with every ensemble member
and query the pairs with the highest variance across members.  With
:math:`p_m = \\sigma(R_m(a) - R_m(b))` the score of a candidate pair is

.. math:: u(a, b) = \\operatorname{Var}_m\\,[p_m(a \\succ b)]

(imitation's ``uncertainty_on="probability"``).  The ``"bald"`` criterion of Houlsby,
Huszár, Ghahramani & Lengyel (2011, "Bayesian active learning for classification and
preference learning", arXiv 1112.5745, eq. 2) scores the mutual information between the
label and the model,

.. math:: u_{BALD}(a, b) = H\\big(\\bar p\\big) - \\frac{1}{M} \\sum_m H(p_m),
          \\qquad H(p) = -p\\log p - (1-p)\\log(1-p),

which, unlike the variance, discounts pairs whose label is a coin flip for every member.
:func:`select_queries` picks the top-``k`` unlabelled candidates by the score (or
uniformly at random, the baseline);
:func:`active_learning_curve` runs the whole query loop against a labeller and
records held-out accuracy after every round.  Everything is vectorised over
candidates: scoring ``N`` pairs is one matrix product per member.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.errors import ConfigError
from .ensemble import RewardEnsemble, fit_ensemble
from .preferences import PreferencePairs, pair_accuracy

__all__ = ["active_learning_curve", "bald_scores", "queries_to_reach", "select_queries"]

METHODS = ("disagreement", "bald", "random")


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def bald_scores(ensemble: RewardEnsemble, a: Any, b: Any) -> np.ndarray:
    """Mutual information :math:`H(\\bar p) - \\overline{H(p_m)}` per candidate pair, ``(N,)``.

    Example:
        >>> import numpy as np
        >>> from rewardkit.learn.models import MLPReward
        >>> ens = RewardEnsemble([MLPReward.linear([1.0]), MLPReward.linear([-1.0])])
        >>> bald_scores(ens, np.array([[0.0], [3.0]]), np.zeros((2, 1))).round(3).tolist()
        [0.0, 0.502]
    """
    p = ensemble.preference_probs(a, b)
    return _entropy(p.mean(axis=0)) - _entropy(p).mean(axis=0)


def select_queries(ensemble: RewardEnsemble | None, a: Any, b: Any, k: int, method: str = "disagreement",
                   exclude: Any = None, rng: np.random.Generator | int | None = 0) -> np.ndarray:
    """Indices of ``k`` candidate pairs to label next.

    Args:
        ensemble: the current reward ensemble (ignored for ``"random"``).
        a, b: candidate segments ``(N, T, d)``.
        method: ``"disagreement"`` (top-``k`` ensemble variance of the preference
            probability), ``"bald"`` (top-``k`` mutual information) or ``"random"``.
        exclude: boolean mask ``(N,)`` or indices of candidates already labelled.

    Example:
        >>> import numpy as np
        >>> from rewardkit.learn.models import MLPReward
        >>> ens = RewardEnsemble([MLPReward.linear([1.0, 0.0]), MLPReward.linear([0.0, 1.0])])
        >>> a = np.array([[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]]); b = np.zeros((3, 2))
        >>> select_queries(ens, a, b, 1).tolist()   # members disagree only on pair 1
        [1]
    """
    if method not in METHODS:
        raise ConfigError("method", f"got {method!r}", f"one of {METHODS}")
    n = np.asarray(a).shape[0]
    avail = np.ones(n, dtype=bool)
    if exclude is not None:
        ex = np.asarray(exclude)
        if ex.dtype == bool:
            avail &= ~ex
        else:
            avail[ex.astype(np.int64)] = False
    cand = np.flatnonzero(avail)
    k = int(min(k, cand.size))
    rng = np.random.default_rng(rng)
    if method == "random" or ensemble is None:
        return np.sort(rng.choice(cand, size=k, replace=False))
    ca, cb = np.asarray(a)[cand], np.asarray(b)[cand]
    score = bald_scores(ensemble, ca, cb) if method == "bald" else ensemble.disagreement(ca, cb)
    # break ties at random so equal scores (e.g. identical members) do not bias to low indices
    order = np.lexsort((rng.random(cand.size), -score))
    return np.sort(cand[order[:k]])


def active_learning_curve(pool: PreferencePairs, labeller: Callable[[np.ndarray], np.ndarray],
                          test: PreferencePairs, test_diff: Any, *, method: str = "disagreement",
                          initial: int = 10, per_round: int = 10, rounds: int = 10, n_members: int = 5,
                          seed: int = 0, trainer: str = "linear", **train_kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Run the query loop; return ``(n_labels, accuracy)`` after each round.

    Round 0 labels ``initial`` random pairs; each later round trains a bagged ensemble
    on all labels so far, selects ``per_round`` new pairs by ``method`` and asks
    ``labeller(indices) -> labels``.  Accuracy is measured on ``test`` with the
    ensemble-mean reward against ``test_diff`` (the true return differences).

    Example:
        >>> from rewardkit.learn.preferences import linear_preference_task
        >>> pool, w, diff = linear_preference_task(300, dim=4, seed=0)
        >>> test, _, tdiff = linear_preference_task(300, dim=4, seed=1, w=w)
        >>> n, acc = active_learning_curve(pool, lambda i: pool.label[i], test, tdiff, rounds=3)
        >>> n.tolist(), bool(acc[-1] > 0.8)
        ([10, 20, 30], True)
    """
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(pool), dtype=bool)
    first = rng.choice(len(pool), size=min(initial, len(pool)), replace=False)
    labels = np.full(len(pool), np.nan)
    labels[first] = labeller(first)
    labelled[first] = True
    ns, accs = [], []
    for r in range(rounds):
        idx = np.flatnonzero(labelled)
        data = pool.subset(idx).with_labels(labels[idx])
        ens = fit_ensemble(data, n_members, True, seed * 7919 + r, trainer, **train_kw)
        ns.append(int(idx.size))
        accs.append(pair_accuracy(ens, test.a, test.b, test_diff))
        if r == rounds - 1:
            break
        new = select_queries(ens, pool.a, pool.b, per_round, method, labelled, rng)
        labels[new] = labeller(new)
        labelled[new] = True
    return np.array(ns), np.array(accs)


def queries_to_reach(n_labels: Any, accuracy: Any, target: float) -> float:
    """Smallest label count whose accuracy is ``>= target`` (``inf`` if never reached).

    Example:
        >>> queries_to_reach([10, 20, 30], [0.7, 0.91, 0.95], 0.9)
        20.0
    """
    n = np.asarray(n_labels, dtype=np.float64)
    ok = np.flatnonzero(np.asarray(accuracy) >= target)
    return float(n[ok[0]]) if ok.size else float("inf")
