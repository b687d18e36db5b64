"""Small dense products routed through torch when it is installed.

NumPy's multi-threaded OpenBLAS can spend milliseconds synchronising threads on
tiny products (``(8, 2835) @ (2835, 32)`` took 50 ms instead of 20 us on a loaded
2-core box).  torch honours ``torch.set_num_threads`` and is already a dependency of
the learned bonuses, so the hot per-step products use it; NumPy is the fallback.
"""

from __future__ import annotations

import numpy as np

try:  # pragma: no cover - import guard
    import torch
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]

__all__ = ["mm"]


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D float arrays (float32 stays float32).

    Example:
        >>> mm(np.eye(2, dtype=np.float32), np.ones((2, 3), dtype=np.float32)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    if torch is None:
        return a @ b
    dt = np.result_type(a.dtype, b.dtype)
    if dt not in (np.float32, np.float64):
        dt = np.float64
    ta = torch.from_numpy(np.ascontiguousarray(a, dtype=dt))
    tb = torch.from_numpy(np.ascontiguousarray(b, dtype=dt))
    return (ta @ tb).numpy()
