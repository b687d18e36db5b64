"""Crome: causal and neutral augmentation pairs that make a reward model robust to spurious attributes.

Srivastava et al. (2025, "Robust Reward Modeling via Causal Rubrics", catalog #193).  A reward
model trained on preferences where a spurious attribute (length, formatting) correlates with the
label learns to pay for the attribute.  Crome adds two kinds of synthetic pairs built by
*counterfactual edits* of the training items:

* **causal pairs** - an item and a copy improved along one causal attribute :math:`c_k` (all else
  equal), labelled by the change: :math:`(x + \\delta e_{c_k}) \\succ x`;
* **neutral pairs** - an item and a copy changed only along spurious attributes :math:`s_j`,
  labelled as a tie, :math:`y = \\tfrac12`.

The Bradley–Terry loss on the neutral ties is minimised only when
:math:`r(x) = r(x + \\Delta_s)`, i.e. when the reward ignores the spurious directions; the causal
pairs keep the causal directions sharp.  Here the edits are applied in a feature space whose
causal and spurious coordinates are known (the paper asks an LLM for the counterfactual rewrites of
text; that part is out of reach offline).

Example:
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0, 3.0]])           # [causal, causal, length]
    >>> p = neutral_pairs(x, spurious=[2], n=2, scale=1.0, seed=0)
    >>> p.label.tolist(), bool(np.allclose(p.a[:, 0, :2], p.b[:, 0, :2]))
    ([0.5, 0.5], True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded
from .preferences import PreferencePairs

__all__ = ["causal_pairs", "crome_augment", "neutral_pairs"]


def _items(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ConfigError("items", f"has shape {a.shape}", "a non-empty array (N, d) of item features")
    return a


def _coords(idx: Sequence[int], d: int, name: str) -> np.ndarray:
    c = np.asarray(list(idx), dtype=np.int64)
    if c.size == 0 or c.min() < 0 or c.max() >= d:
        raise ConfigError(name, f"got {list(idx)}", f"one or more feature indices in [0, {d})")
    return c


def causal_pairs(items: Any, causal: Sequence[int], n: int, delta: float = 1.0, seed: int = 0) -> PreferencePairs:
    """``n`` pairs ``(x + delta * e_k, x)`` labelled 1: an improvement along one causal coordinate ``k``.

    Example:
        >>> p = causal_pairs(np.zeros((1, 2)), causal=[0], n=1, delta=2.0)
        >>> p.a[0, 0].tolist(), p.b[0, 0].tolist(), p.label.tolist()
        ([2.0, 0.0], [0.0, 0.0], [1.0])
    """
    x = _items(items)
    c = _coords(causal, x.shape[1], "causal")
    if delta <= 0:
        raise ConfigError("delta", f"got {delta!r}", "a positive improvement size")
    with seeded(seed, torch=False) as rng:
        rows = rng.integers(len(x), size=n)
        ks = c[rng.integers(len(c), size=n)]
    base = x[rows]
    better = base.copy()
    better[np.arange(n), ks] += delta
    return PreferencePairs(better, base, np.ones(n))


def neutral_pairs(items: Any, spurious: Sequence[int], n: int, scale: float = 1.0, seed: int = 0) -> PreferencePairs:
    """``n`` tie pairs ``(x + Δ_s, x)`` labelled 0.5, with ``Δ_s ~ N(0, scale²)`` on the spurious coordinates only."""
    x = _items(items)
    s = _coords(spurious, x.shape[1], "spurious")
    with seeded(seed, torch=False) as rng:
        rows = rng.integers(len(x), size=n)
        noise = rng.normal(scale=scale, size=(n, len(s)))
    base = x[rows]
    edited = base.copy()
    edited[:, s] += noise
    return PreferencePairs(edited, base, np.full(n, 0.5))


def crome_augment(pairs: PreferencePairs, causal: Sequence[int], spurious: Sequence[int], n_causal: int | None = None,
                  n_neutral: int | None = None, delta: float = 1.0, scale: float = 1.0, seed: int = 0) -> PreferencePairs:
    """The training pairs plus Crome's causal and neutral pairs built from their items.

    Defaults: a quarter as many causal pairs as training pairs (they sharpen the causal
    directions; many more of them override the labelled data's relative weights of the causal
    attributes) and as many neutral pairs as training pairs.

    Example:
        >>> import numpy as np
        >>> from rewardkit.learn.preferences import PreferencePairs
        >>> p = PreferencePairs(np.ones((4, 3)), np.zeros((4, 3)))
        >>> len(crome_augment(p, causal=[0], spurious=[2]))     # 4 + 1 causal + 4 neutral
        9
    """
    items = np.concatenate([pairs.a.sum(axis=1), pairs.b.sum(axis=1)])
    n_c = len(pairs) // 4 if n_causal is None else int(n_causal)
    n_n = len(pairs) if n_neutral is None else int(n_neutral)
    return PreferencePairs.concat([pairs, causal_pairs(items, causal, n_c, delta, seed),
                                   neutral_pairs(items, spurious, n_n, scale, seed + 1)])
