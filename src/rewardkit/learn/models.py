"""Reward models as plain NumPy functions of a feature vector.

A learned reward is trained with torch (see :mod:`rewardkit.learn.bt`) but is
*used* as a NumPy function: :class:`MLPReward` holds the weights of a small
multi-layer perceptron

.. math:: r_\\theta(x) = W_L\\,\\sigma(\\cdots\\sigma(W_1 x + b_1)\\cdots) + b_L

and evaluates it on arrays of shape ``(..., d)``.  A segment (trajectory
fragment) of ``T`` steps has return :math:`R(\\xi) = \\sum_{t} r_\\theta(x_t)`
(Christiano et al., 2017, "Deep reinforcement learning from human preferences",
NeurIPS, §2.2).  Models are saved as ``.npz`` (never pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import BatchError, ConfigError

__all__ = ["MLPReward", "as_segments", "load_reward_model"]

_ACTS = ("tanh", "relu", "identity")


def _act(name: str, x: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    return x


@dataclass
class MLPReward:
    """A NumPy MLP reward ``r(x)`` (no hidden layer = a linear reward ``w·x + b``).

    Args:
        weights: one ``(d_in, d_out)`` matrix per layer; the last has ``d_out = 1``.
        biases: one ``(d_out,)`` vector per layer.
        activation: hidden-layer non-linearity, ``"tanh"``, ``"relu"`` or ``"identity"``.
        meta: free-form metadata saved with the model (e.g. reward mean/std).

    Example:
        >>> import numpy as np
        >>> m = MLPReward.linear([1.0, -2.0])
        >>> m(np.array([[1.0, 1.0], [0.0, -1.0]])).tolist()
        [-1.0, 2.0]
        >>> m.segment_return(np.ones((1, 3, 2))).tolist()    # 3 steps of reward -1
        [-3.0]
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: str = "tanh"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.activation not in _ACTS:
            raise ConfigError("activation", f"got {self.activation!r}", f"one of {_ACTS}")
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ConfigError("weights", f"{len(self.weights)} weight matrices and {len(self.biases)} biases",
                              "one (d_in, d_out) matrix and one bias per layer")
        self.weights = [np.asarray(w, dtype=np.float64) for w in self.weights]
        self.biases = [np.asarray(b, dtype=np.float64).reshape(-1) for b in self.biases]
        if self.weights[-1].shape[1] != 1:
            raise ConfigError("weights[-1]", f"has shape {self.weights[-1].shape}", "a (d, 1) output layer")

    @classmethod
    def linear(cls, w: Sequence[float], b: float = 0.0) -> MLPReward:
        """The linear reward :math:`r(x) = w^\\top x + b`."""
        w = np.asarray(w, dtype=np.float64).reshape(-1, 1)
        return cls([w], [np.array([b])], "identity")

    @property
    def input_dim(self) -> int:
        return int(self.weights[0].shape[0])

    def __call__(self, x: Any) -> np.ndarray:
        """Reward of each feature vector; ``x`` has shape ``(..., d)``, output ``(...)``."""
        h = np.asarray(x, dtype=np.float64)
        if h.ndim == 0 or h.shape[-1] != self.input_dim:
            raise BatchError("features", f"have shape {h.shape}", f"an array (..., {self.input_dim})")
        n = len(self.weights)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=False)):
            h = h @ w + b
            if i < n - 1:
                h = _act(self.activation, h)
        return h[..., 0]

    def segment_return(self, segments: Any) -> np.ndarray:
        """:math:`R(\\xi) = \\sum_t r(x_t)` for segments ``(N, T, d)`` (or items ``(N, d)``)."""
        return self(as_segments(segments, self.input_dim, "segments")).sum(axis=-1)

    # ------------------------------------------------------------------ io
    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {f"{prefix}n_layers": np.array(len(self.weights)),
                                      f"{prefix}activation": np.array(self.activation)}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=False)):
            out[f"{prefix}W{i}"] = w
            out[f"{prefix}b{i}"] = b
        for k, v in self.meta.items():
            out[f"{prefix}meta_{k}"] = np.asarray(v)
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str = "") -> MLPReward:
        try:
            n = int(arrays[f"{prefix}n_layers"])
            ws = [arrays[f"{prefix}W{i}"] for i in range(n)]
            bs = [arrays[f"{prefix}b{i}"] for i in range(n)]
            act = str(arrays[f"{prefix}activation"])
        except KeyError as e:
            raise ConfigError("path", f"reward-model file lacks array {e}", "a file written by MLPReward.save") from None
        meta = {k[len(prefix) + 5:]: arrays[k] for k in arrays.keys() if k.startswith(f"{prefix}meta_")}
        return cls(ws, bs, act, {k: (v.item() if v.ndim == 0 else v) for k, v in meta.items()})

    def save(self, path: str | Path) -> None:
        """Write the model to an ``.npz`` file (read back with :func:`load_reward_model`)."""
        np.savez(path, kind=np.array("mlp"), **self.to_arrays())


def read_npz(path: str | Path, expected: str, what: str = "") -> dict[str, np.ndarray]:
    """All arrays of a ``.npz`` file (no pickles); a missing file is a :class:`ConfigError` on ``path``.

    ``what`` names the file in the message (``"reward-model file"``), ``expected`` says
    what ``path`` should be.

    Example:
        >>> read_npz("/x.npz", "a .npz written by .save()", "reward-model file")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: path: reward-model file '/x.npz' does not exist; expected a .npz written by .save()
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError("path", f"{what + ' ' if what else ''}{str(p)!r} does not exist", expected)
    with np.load(p, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def load_reward_model(path: str | Path) -> Any:
    """Load an :class:`MLPReward` or a :class:`~rewardkit.learn.ensemble.RewardEnsemble` from ``.npz``.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "rm.npz")
        >>> MLPReward.linear([2.0]).save(p)
        >>> load_reward_model(p)(np.array([[1.5]])).tolist()
        [3.0]
    """
    arrays = read_npz(path, "a .npz written by .save()", "reward-model file")
    kind = str(arrays.get("kind", "mlp"))
    if kind == "ensemble":
        from .ensemble import RewardEnsemble
        m = int(arrays["n_members"])
        return RewardEnsemble([MLPReward.from_arrays(arrays, f"m{i}_") for i in range(m)])
    return MLPReward.from_arrays(arrays)


def as_segments(x: Any, d: int | None = None, field_name: str = "segments") -> np.ndarray:
    """Coerce items ``(N, d)`` or segments ``(N, T, d)`` to a float array ``(N, T, d)``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, None, :]
    if a.ndim != 3:
        raise BatchError(field_name, f"has shape {a.shape}", "an array (N, d) of items or (N, T, d) of segments")
    if d is not None and a.shape[-1] != d:
        raise BatchError(field_name, f"has feature size {a.shape[-1]}", f"feature size {d}")
    if not np.all(np.isfinite(a)):
        raise BatchError(field_name, "contains NaN or inf", "finite numbers")
    return a
