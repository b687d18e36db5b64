"""TensorBoard scalars for one run (``<out>/tb/<variant>/seed<seed>/``).

Written at every evaluation point, x-axis = environment steps (or episodes):

* ``eval/return``, ``eval/success_rate``, ``eval/length`` – on the original env reward;
* ``train/env_return``, ``train/return`` – mean training-episode return (original /
  composed) since the previous point;
* ``term/<name>`` – mean training-episode return of each reward term.

The tags and values come from :func:`scalars`, the one metric stream of a run: MLflow
tracking (:mod:`rewardkit.runner.tracking`) logs the same names from the same function.

Uses ``torch.utils.tensorboard.SummaryWriter``; if it cannot be imported the
logger is a no-op and says so once.

Example:
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> tb = TensorBoardLogger(d)
    >>> tb.log_eval(100, {"return_mean": 0.5, "success_rate": 1.0}, {"task": 0.5})
    >>> tb.close()
    >>> any(f.startswith("events.out.tfevents") for f in os.listdir(d))
    True
"""

from __future__ import annotations

import os
import shutil
import warnings
from typing import Any
from collections.abc import Mapping

__all__ = ["EVAL_TAGS", "TensorBoardLogger", "scalars"]

#: evaluation value -> scalar tag
EVAL_TAGS = {"return_mean": "eval/return", "success_rate": "eval/success_rate", "length_mean": "eval/length",
             "train_env_return": "train/env_return", "train_return": "train/return"}


def scalars(values: Mapping[str, Any], terms: Mapping[str, float]) -> dict[str, float]:
    """The scalars of one evaluation point, tag -> value (missing values left out).

    >>> scalars({"return_mean": 0.5, "success_rate": None, "coverage": {"unique": 7}}, {"task": 0.25})
    {'eval/return': 0.5, 'term/task': 0.25, 'explore/unique_cells': 7.0}
    """
    out = {tag: float(values[k]) for k, tag in EVAL_TAGS.items() if values.get(k) is not None}
    out.update({f"term/{name}": float(v) for name, v in terms.items() if v is not None})
    if values.get("coverage") is not None:
        out["explore/unique_cells"] = float(values["coverage"]["unique"])
    return out


class TensorBoardLogger:
    """Scalar writer for one run; ``fresh=True`` deletes events of an earlier attempt."""

    def __init__(self, logdir: str | os.PathLike, fresh: bool = False):
        self.logdir = str(logdir)
        if fresh and os.path.isdir(self.logdir):
            shutil.rmtree(self.logdir, ignore_errors=True)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception as e:  # pragma: no cover - tensorboard missing
            warnings.warn(f"TensorBoard logging disabled: {e}", stacklevel=2)
            self.writer = None
        else:
            self.writer = SummaryWriter(self.logdir)

    def log_eval(self, step: int, values: Mapping[str, Any], terms: Mapping[str, float]) -> None:
        if self.writer is None:
            return
        for tag, v in scalars(values, terms).items():
            self.writer.add_scalar(tag, v, int(step))
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
