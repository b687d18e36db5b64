"""SimHash counts: count-based exploration in high-dimensional state spaces.

Tang, Houthooft, Foote, Stooke, Chen, Duan, Schulman, De Turck & Abbeel (2017),
"#Exploration: A Study of Count-Based Exploration for Deep Reinforcement
Learning", NeurIPS.  States are discretised by locality-sensitive hashing,

.. math:: \\phi(s) = \\operatorname{sgn}(A\\, g(s)) \\in \\{-1, 1\\}^k, \\quad A_{ij} \\sim \\mathcal N(0, 1)

and counted exactly: :math:`b_t = \\beta / \\sqrt{n(\\phi(s_{t+1}))}`.  :math:`g` is an
optional preprocessing (``embed_fn``: e.g. a downscaling or a learned embedding);
``k`` (bits) trades generalisation (small k: similar states collide) against
distinction (large k).  Any count mode of
:class:`~rewardkit.explore.counts.CountBonus` can be used on the hash codes
(``mode="global"`` is the paper's).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from ..core.errors import BatchError, ConfigError
from ..core.registry import register_term
from ._linalg import mm
from .base import BonusTerm, as_float_obs
from .counts import CountBonus

__all__ = ["SimHashBonus", "SimHashKey", "simhash_bonus"]


class SimHashKey:
    """A key function ``obs (n, ...) -> int64 codes (n,)``: the sign pattern of a random projection.

    Args:
        input_dim: size of the flattened (preprocessed) observation.
        bits: hash length :math:`k` (<= 62).
        embed_fn: optional preprocessing :math:`g` applied to the observation batch.
        seed: seeds the projection :math:`A`.

    Example:
        >>> h = SimHashKey(4, bits=16, seed=0)
        >>> x = np.array([[1.0, 2, 3, 4], [1.0, 2, 3, 4.001], [-1.0, -2, -3, -4]])
        >>> k = h(x); bool(k[0] == k[1]), bool(k[0] == k[2])
        (True, False)
    """

    def __init__(self, input_dim: int, bits: int = 32, embed_fn: Callable[[Any], Any] | None = None,
                 seed: int = 0):
        if not 1 <= bits <= 62:
            raise ConfigError("bits", f"got {bits!r}", "an int in [1, 62]")
        self.input_dim, self.bits = int(input_dim), int(bits)
        self.embed_fn = embed_fn
        self.A = np.random.default_rng(seed).standard_normal((self.input_dim, self.bits)).astype(np.float32)
        self.powers = (np.int64(1) << np.arange(self.bits, dtype=np.int64))

    def codes(self, obs: Any) -> np.ndarray:
        """The ``(n, bits)`` boolean sign pattern."""
        x = self.embed_fn(obs) if self.embed_fn is not None else obs
        x = as_float_obs(x)
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.input_dim:
            raise BatchError("obs", f"has {x.shape[1]} features per row", f"{self.input_dim} (input_dim)")
        return mm(x, self.A) > 0

    def __call__(self, obs: Any) -> np.ndarray:
        return self.codes(obs).astype(np.int64) @ self.powers

    def state_dict(self) -> dict[str, Any]:
        return {"A": self.A.copy(), "bits": self.bits, "input_dim": self.input_dim}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.A = np.asarray(s["A"], dtype=np.float32).copy()
        self.bits, self.input_dim = int(s["bits"]), int(s["input_dim"])
        self.powers = (np.int64(1) << np.arange(self.bits, dtype=np.int64))


class SimHashBonus(CountBonus):
    """Counts over SimHash codes: :math:`1/\\sqrt{n(\\operatorname{sgn}(A g(s')))}` (see module docs).

    Example:
        >>> sh = SimHashBonus(obs_shape=(4,), bits=8, mode="global")
        >>> x = np.ones((1, 4)); f = [False]
        >>> [round(float(sh.observe(x, [0], x, f, f)[0]), 3) for _ in range(3)]
        [1.0, 0.707, 0.577]
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, bits: int = 32, mode: str = "global",
                 embed_fn: Callable[[Any], Any] | None = None, input_dim: int | None = None,
                 num_envs: int | None = None, seed: int = 0, name: str | None = None):
        if input_dim is None:
            if obs_shape is None:
                raise ConfigError("obs_shape", "missing", "obs_shape=(…) or input_dim=<int> (with embed_fn)")
            input_dim = int(np.prod(obs_shape))
        self.hasher = SimHashKey(input_dim, bits, embed_fn, seed)
        super().__init__(mode=mode, key_fn=self.hasher, num_envs=num_envs, seed=seed, name=name or "simhash")


@register_term("simhash_bonus", batch_kind="transition", example={"obs_shape": [4]})
def simhash_bonus(obs_shape: Sequence[int], bits: int = 32, mode: str = "global", coef: float = 0.01,
                  seed: int = 0, name: str = "simhash") -> BonusTerm:
    """SimHash count bonus (Tang et al. 2017) as a reward term.

    Example:
        >>> simhash_bonus(obs_shape=[4], bits=8).bonus.hasher.bits
        8
    """
    return BonusTerm(SimHashBonus(obs_shape=obs_shape, bits=bits, mode=mode, seed=seed, name=name),
                     coef=float(coef), name=name)
