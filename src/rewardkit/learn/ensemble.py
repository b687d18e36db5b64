"""Reward-model ensembles: uncertainty, preference strength and label denoising.

* :class:`RewardEnsemble` - ``M`` reward models trained on bootstrap resamples of the
  preference data (bagging, as in Christiano et al. 2017, "Deep reinforcement learning
  from human preferences", §2.2.3).  Mean and standard deviation of the member rewards
  give an uncertainty-aware reward :math:`\\bar r(x) + \\alpha\\,s(x)` (``alpha < 0`` is a
  lower confidence bound; Coste et al. 2024, "Reward model ensembles help mitigate
  overoptimization", ICLR - their UWO objective uses the variance).
* :func:`preference_strength` - the *preference strength* of Wang et al. (2024,
  "Secrets of RLHF in large language models part II: reward modeling", arXiv 2401.06080,
  §3.1): for pair ``i`` with chosen ``c`` and rejected ``r``,

  .. math:: d_{i} = \\frac{1}{M} \\sum_{m} \\big(R_m(c_i) - R_m(r_i)\\big),\\qquad
            s_i = \\operatorname{std}_m\\big(R_m(c_i) - R_m(r_i)\\big)

  computed here *out of fold* (each pair is scored by members that never saw it, so a
  member cannot simply memorise a wrong label).
* :func:`denoise_labels` - their remedies: flip the labels of pairs with negative
  strength (likely wrong), or replace labels by the ensemble's soft preference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ConfigError
from .bt import fit_linear_bt, fit_bt
from .models import MLPReward, as_segments
from .preferences import PreferencePairs, sigmoid

__all__ = ["RewardEnsemble", "denoise_labels", "fit_ensemble", "preference_strength"]


class RewardEnsemble:
    """``M >= 2`` reward models evaluated together.

    Example:
        >>> import numpy as np
        >>> ens = RewardEnsemble([MLPReward.linear([1.0]), MLPReward.linear([3.0])])
        >>> x = np.array([[1.0]])
        >>> ens(x).tolist(), ens.std(x).tolist(), ens.lower_confidence(x, 1.0).tolist()
        ([2.0], [1.4142135623730951], [0.5857864376269049])
        >>> ens.preference_probs(np.array([[1.0]]), np.array([[0.0]])).round(3).ravel().tolist()
        [0.731, 0.953]
    """

    def __init__(self, members: list[Any]):
        if len(members) < 2:
            raise ConfigError("members", f"got {len(members)} model(s)", "at least 2 reward models")
        self.members = list(members)
        self.input_dim = getattr(members[0], "input_dim", None)

    def __len__(self) -> int:
        return len(self.members)

    def predict_all(self, x: Any) -> np.ndarray:
        """Member rewards, shape ``(M, ...)``."""
        return np.stack([m(x) for m in self.members])

    def __call__(self, x: Any) -> np.ndarray:
        """Mean member reward :math:`\\bar r(x)`."""
        return self.predict_all(x).mean(axis=0)

    def std(self, x: Any) -> np.ndarray:
        """Member standard deviation :math:`s(x)` (``ddof=1``)."""
        return self.predict_all(x).std(axis=0, ddof=1)

    def lower_confidence(self, x: Any, alpha: float = 1.0) -> np.ndarray:
        """:math:`\\bar r(x) - \\alpha\\, s(x)` (a pessimistic reward)."""
        r = self.predict_all(x)
        return r.mean(axis=0) - alpha * r.std(axis=0, ddof=1)

    def return_diffs(self, a: Any, b: Any) -> np.ndarray:
        """:math:`R_m(a_i) - R_m(b_i)`, shape ``(M, N)``, for segments ``(N, T, d)``."""
        a = as_segments(a, None, "a")
        b = as_segments(b, a.shape[-1], "b")
        return np.stack([m(a).sum(-1) - m(b).sum(-1) for m in self.members])

    def preference_probs(self, a: Any, b: Any) -> np.ndarray:
        """:math:`P_m(a_i \\succ b_i) = \\sigma(R_m(a_i) - R_m(b_i))`, shape ``(M, N)``."""
        return sigmoid(self.return_diffs(a, b))

    def disagreement(self, a: Any, b: Any) -> np.ndarray:
        """Variance over members of the predicted preference probability, ``(N,)``."""
        return self.preference_probs(a, b).var(axis=0)

    def save(self, path: str | Path) -> None:
        """Write all members to one ``.npz`` (read back with :func:`~rewardkit.learn.models.load_reward_model`)."""
        arrays: dict[str, Any] = {"kind": np.array("ensemble"), "n_members": np.array(len(self.members))}
        for i, m in enumerate(self.members):
            if not isinstance(m, MLPReward):
                raise ConfigError(f"members[{i}]", f"is a {type(m).__name__}", "an MLPReward to save")
            arrays.update(m.to_arrays(f"m{i}_"))
        np.savez(path, **arrays)


def _fit(pairs: PreferencePairs, trainer: str, seed: int, kw: dict) -> MLPReward:
    if trainer == "linear":
        return fit_linear_bt(pairs, **kw)
    if trainer == "mlp":
        return fit_bt(pairs, seed=seed, **kw)
    raise ConfigError("trainer", f"got {trainer!r}", "'linear' (NumPy Newton) or 'mlp' (torch)")


def fit_ensemble(pairs: PreferencePairs, n_members: int = 5, bootstrap: bool = True, seed: int = 0,
                   trainer: str = "linear", **kw: Any) -> RewardEnsemble:
    """Train ``n_members`` models on bootstrap resamples (bagging) of ``pairs``.

    ``trainer="linear"`` uses :func:`~rewardkit.learn.bt.fit_linear_bt`, ``"mlp"``
    uses :func:`~rewardkit.learn.bt.fit_bt` (a different seed per member); extra
    keyword arguments go to the trainer.

    Example:
        >>> from rewardkit.learn.preferences import linear_preference_task
        >>> pairs, _, _ = linear_preference_task(50, dim=3, seed=0)
        >>> ens = fit_ensemble(pairs, n_members=3)
        >>> len(ens), ens.disagreement(pairs.a[:4], pairs.b[:4]).shape
        (3, (4,))
    """
    if n_members < 2:
        raise ConfigError("n_members", f"got {n_members}", "at least 2")
    rng = np.random.default_rng(seed)
    members = []
    for m in range(n_members):
        idx = rng.integers(0, len(pairs), len(pairs)) if bootstrap else np.arange(len(pairs))
        members.append(_fit(pairs.subset(idx), trainer, seed + 1000 * m, kw))
    return RewardEnsemble(members)


def preference_strength(pairs: PreferencePairs, n_folds: int = 5, n_members: int = 3, seed: int = 0,
                        trainer: str = "linear", **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold preference strength ``(mean, std)`` of each pair, oriented to its label.

    The data are split into ``n_folds`` folds; for each fold an ensemble of
    ``n_members`` is trained on the other folds and scores the held-out pairs.  The
    strength is oriented so that positive means "the ensemble agrees with the label"
    (``y >= 0.5`` means ``a`` was chosen).

    Example:
        >>> from rewardkit.learn.preferences import linear_preference_task
        >>> pairs, _, diff = linear_preference_task(200, dim=3, flip_rate=0.2, seed=0)
        >>> mean, std = preference_strength(pairs, seed=0)
        >>> flipped = (pairs.label == 1) != (diff > 0)
        >>> bool(mean[flipped].mean() < 0 < mean[~flipped].mean())
        True
    """
    if n_folds < 2:
        raise ConfigError("n_folds", f"got {n_folds}", "at least 2")
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(pairs)) % n_folds
    diffs = np.zeros((n_members, len(pairs)))
    for f in range(n_folds):
        held = fold == f
        ens = fit_ensemble(pairs.subset(np.flatnonzero(~held)), n_members, True, seed + 17 * f, trainer, **kw)
        diffs[:, held] = ens.return_diffs(pairs.a[held], pairs.b[held])
    orient = np.where(pairs.label >= 0.5, 1.0, -1.0)
    d = diffs * orient
    return d.mean(axis=0), d.std(axis=0, ddof=1)


def denoise_labels(pairs: PreferencePairs, strength: np.ndarray, method: str = "flip",
                   threshold: float = 0.0, temperature: float = 1.0) -> PreferencePairs:
    """Relabel ``pairs`` from their (label-oriented) preference strength.

    * ``"flip"``: flip the label where ``strength < -threshold`` (Wang et al. 2024, §3.2).
    * ``"soft"``: the label becomes the ensemble's soft preference
      :math:`\\sigma(d_i / \\tau)` re-oriented to ``a`` (soft labels, their §3.2 "label smoothing"
      by strength).
    * ``"drop"``: remove pairs with ``strength < -threshold``.

    Example:
        >>> import numpy as np
        >>> p = PreferencePairs(np.ones((3, 1)), np.zeros((3, 1)), [1.0, 1.0, 0.0])
        >>> denoise_labels(p, np.array([2.0, -1.0, 0.5])).label.tolist()
        [1.0, 0.0, 0.0]
        >>> len(denoise_labels(p, np.array([2.0, -1.0, 0.5]), "drop"))
        2
    """
    s = np.asarray(strength, dtype=np.float64).reshape(-1)
    if s.shape[0] != len(pairs):
        raise ConfigError("strength", f"has {s.shape[0]} entries for {len(pairs)} pairs", "one per pair")
    chose_a = pairs.label >= 0.5
    if method == "flip":
        bad = s < -threshold
        return pairs.with_labels(np.where(bad, 1.0 - pairs.label, pairs.label))
    if method == "soft":
        p_label = sigmoid(s / temperature)  # probability that the labelled choice is right
        return pairs.with_labels(np.where(chose_a, p_label, 1.0 - p_label))
    if method == "drop":
        return pairs.subset(np.flatnonzero(s >= -threshold))
    raise ConfigError("method", f"got {method!r}", "'flip', 'soft' or 'drop'")

