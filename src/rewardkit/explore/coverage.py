"""Exploration coverage: which cells were visited, how often, and a heatmap of it.

NumPy only (matplotlib for the PNG), so reports can use it without importing torch.
"""

from __future__ import annotations

import io
from typing import Any
from collections.abc import Iterable, Mapping

import numpy as np

from ..core.errors import ConfigError

__all__ = ["CoverageTracker", "visitation_heatmap_png"]


class CoverageTracker:
    """Count visits per cell (hashable key); ``(x, y, ...)`` keys also give a 2-D grid.

    Example:
        >>> cov = CoverageTracker()
        >>> cov.update([(1, 1), (1, 2), (1, 1)])
        >>> cov.unique, cov.grid().tolist()
        (2, [[0, 0, 0], [0, 2, 1]])
    """

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}

    def update(self, keys: Iterable[Any]) -> None:
        c = self.counts
        for k in keys:
            c[k] = c.get(k, 0) + 1

    @property
    def unique(self) -> int:
        """Number of distinct cells visited."""
        return len(self.counts)

    def grid(self, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Visit counts as an ``(W, H)`` int array indexed ``[x, y]`` (keys' first two entries)."""
        pts = [(int(k[0]), int(k[1]), v) for k, v in self.counts.items()
               if isinstance(k, tuple) and len(k) >= 2]
        if shape is None:
            w = max((p[0] for p in pts), default=-1) + 1
            h = max((p[1] for p in pts), default=-1) + 1
            shape = (w, h)
        g = np.zeros(shape, dtype=np.int64)
        for x, y, v in pts:
            if 0 <= x < shape[0] and 0 <= y < shape[1]:
                g[x, y] += v
        return g

    def state_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.counts = dict(state["counts"])


def visitation_heatmap_png(counts: Any, title: str | None = None, log_scale: bool = True) -> bytes:
    """Render a 2-D array of visit counts (indexed ``[x, y]``) as a PNG heatmap; returns the bytes.

    Cells are coloured by :math:`\\log(1 + N)` (``log_scale=True``) so rarely visited
    cells stay visible next to the start cell.  Uses matplotlib's Agg backend (no
    display needed).

    Example:
        >>> png = visitation_heatmap_png(np.array([[0, 3], [10, 1]]))
        >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    a = np.asarray(counts, dtype=np.float64)
    if a.ndim != 2:
        raise ConfigError("counts", f"has shape {a.shape}", "a 2-D array of visit counts indexed [x, y]")
    shown = np.log1p(a) if log_scale else a
    fig = Figure(figsize=(3.2, 3.0), dpi=100)
    ax = fig.add_subplot(111)
    im = ax.imshow(shown.T, origin="upper", cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax, label="log(1 + visits)" if log_scale else "visits")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
