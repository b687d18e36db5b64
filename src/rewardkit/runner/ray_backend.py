"""The runner's remote parts on Ray: the scoring actor and the training task.

* :func:`~rewardkit.integrations.ray_cluster.ensure_ray` - connect to a cluster or start a local one
  (shared with ``rewardkit serve --backend ray``);
* :func:`score_actor_class` - the actor behind ``rewardkit score --backend ray``: it builds
  the reward once (math worker pool, sandbox fork server, judge client) and scores chunks of rows
  with :func:`~rewardkit.runner.score.score_rows`.
* :func:`run_task` - the task behind ``rewardkit run --backend ray``: it trains one
  (variant, seed) run and *streams* its messages back (a Ray generator task), so the driver is
  the one writer of the SQLite store (see :mod:`rewardkit.runner.runner`).

Worker processes import rewardkit from their own environment: on a cluster every node needs
it installed (or ``runtime_env``); a local cluster inherits this process's ``PYTHONPATH``.

Example:
    >>> score_actor_class().__class__.__name__
    'ActorClass(_ScoreActor)'
"""

from __future__ import annotations

import os
from typing import Any

from rewardkit.integrations.ray_cluster import ensure_ray, extend_sys_path

__all__ = ["ensure_ray", "run_task", "score_actor_class"]

def score_actor_class() -> Any:
    """The Ray actor class that scores chunks of rows (one CPU each)."""
    import ray

    return ray.remote(num_cpus=1)(_ScoreActor)


class _ScoreActor:
    def __init__(self, source: tuple[str, Any], cmap: Any, fail_value: float, sys_path: list[str] | None = None):
        from .score import _build

        extend_sys_path(sys_path)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.reward = _build(source)
        self.cmap, self.fail_value = cmap, fail_value

    def ready(self) -> int:
        return os.getpid()

    def score(self, rows: list[Any]) -> list[dict[str, Any]]:
        from .score import score_rows

        return score_rows(self.reward, rows, columns=self.cmap, fail_value=self.fail_value)


def run_task() -> Any:
    """The Ray generator task that trains one run and yields its messages (see :mod:`.runner`)."""
    import ray

    from .runner import stream_run

    return ray.remote(num_cpus=1, max_retries=0)(stream_run)
