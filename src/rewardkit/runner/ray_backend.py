"""Ray, the engine past one machine: one place that connects to a cluster and defines the remote parts.

* :func:`ensure_ray` - connect to the cluster at ``address`` (``"auto"``, ``"ray://..."``,
  ``"host:port"``) or start a local one with ``num_cpus`` CPUs (no dashboard, a small object
  store); returns whether this call started Ray, so the caller knows whether to shut it down.
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

__all__ = ["OBJECT_STORE_BYTES", "ensure_ray", "run_task", "score_actor_class"]

#: object store of a local cluster started here: chunks and run messages are small
OBJECT_STORE_BYTES = 200 * 1024 * 1024


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to (or start) Ray; a no-op when already connected. Returns True when this call started it.

    A bad ``address`` is a one-line :class:`~rewardkit.core.errors.ConfigError` naming ``--address``.
    """
    from rewardkit.core.errors import ConfigError

    try:
        import ray
    except ImportError:
        raise ConfigError("--backend", "ray is not installed", "pip install 'rewardkit[ray]'") from None
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    env = {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", ""), "OMP_NUM_THREADS": "1"}}
    if address is None:
        kwargs.update(num_cpus=num_cpus, object_store_memory=OBJECT_STORE_BYTES)
    try:
        ray.init(address=address, runtime_env=env, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ConfigError("--address", f"cannot connect to Ray at {address!r}: {' '.join(str(e).split())[:200]}",
                          "'auto', host:port or ray://host:port of a running cluster") from None
    return True


def score_actor_class() -> Any:
    """The Ray actor class that scores chunks of rows (one CPU each)."""
    import ray

    return ray.remote(num_cpus=1)(_ScoreActor)


class _ScoreActor:
    def __init__(self, source: tuple[str, Any], cmap: Any, fail_value: float):
        from .score import _build

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
