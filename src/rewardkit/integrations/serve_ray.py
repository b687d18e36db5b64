"""Scoring replicas on Ray Serve: ``rewardkit serve --backend ray --replicas N``.

The HTTP front stays the one of :func:`~rewardkit.integrations.server.create_app` (the
token guard, body and item caps, body deadline and error format are the same code); only
the scoring moves from the local :class:`~rewardkit.integrations.serve_pool.ScoringPool`
to a Ray Serve deployment of ``replicas`` replicas, which can sit on any node of a cluster.

Each replica builds the reward once, inside a one-worker
:class:`~rewardkit.integrations.serve_pool.ScoringPool` of its own: a request that runs
past ``deadline`` seconds is answered ``504`` and its worker process is killed with every
process below it and replaced, exactly as in the local server.  A replica takes one request
at a time (``max_ongoing_requests=1``), so Serve's router sends a request to an idle
replica and queues the rest.  A request still without an answer after ``queue_timeout +
deadline + 10`` seconds (queued at the router, then scored) is answered ``503`` ``busy``; inside
a replica the local pool's ``queue_timeout`` applies as well (e.g. while a replaced worker starts).

Serve runs without its own HTTP proxies (``proxy_location="Disabled"``): the only
listening socket is the server's, on loopback unless ``--host`` says otherwise.

Example (a local Ray instance, one replica)::

    pool = RayScoringPool(("config", {"terms": [{"type": "constant", "params": {"value": 1.0}}]}), replicas=1)
    await pool.submit("get_reward", b'{"query": ["x"]}', deadline=30)   # (200, b'{"rewards": [1.0], ...}')
    pool.close()
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from typing import Any

from .ray_cluster import extend_sys_path
from .serve_worker import ServeOptions

__all__ = ["RayScoringPool"]

_IDS = itertools.count()


class _Replica:
    """One Serve replica: a one-worker ScoringPool (deadline, kill and replace) built once."""

    def __init__(self, source: tuple[str, Any], options: ServeOptions, startup_timeout: float,
                 sys_path: list[str] | None = None):
        from .serve_pool import ScoringPool

        extend_sys_path(sys_path)
        self.pool = ScoringPool(source, options, size=1, startup_timeout=startup_timeout)

    async def score(self, endpoint: str, body: bytes, deadline: float, queue_timeout: float) -> tuple[int, bytes]:
        return await self.pool.submit(endpoint, body, deadline=deadline, queue_timeout=queue_timeout)

    def info(self) -> dict[str, Any]:
        return {"replica": os.getpid(), "workers": self.pool.worker_pids(), "timeouts": self.pool.timeouts}

    def __del__(self) -> None:
        self.pool.close()


class RayScoringPool:
    """The scoring side of the server as a Ray Serve application of ``replicas`` replicas.

    Same interface as :class:`~rewardkit.integrations.serve_pool.ScoringPool` (``submit``,
    ``close``, ``size``, ``requests``, ``timeouts``, ``worker_pids``).  Connects to Ray at
    ``address`` (or starts a local instance) through
    :func:`~rewardkit.integrations.ray_cluster.ensure_ray`.
    """

    def __init__(self, source: tuple[str, Any], options: ServeOptions | None = None, replicas: int = 2,
                 address: str | None = None, startup_timeout: float = 120.0, cpus_per_replica: float = 1.0):
        from ray import serve

        from rewardkit.core import ConfigError

        from .ray_cluster import ensure_ray

        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 1 <= replicas <= 256:
            raise ConfigError("replicas", f"got {replicas!r}", "an integer in [1, 256]")
        self.size = replicas
        self.requests = self.timeouts = 0
        self._closed = False
        self._started_ray = ensure_ray(address, num_cpus=max(replicas, 1) if address is None else None)
        serve.start(proxy_location="Disabled")
        self.name = f"rewardkit-serve-{os.getpid()}-{next(_IDS)}"
        deployment = serve.deployment(name="scorer", num_replicas=replicas, max_ongoing_requests=1,
                                      max_queued_requests=-1,
                                      ray_actor_options={"num_cpus": cpus_per_replica})(_Replica)
        try:
            self.handle = serve.run(deployment.bind(source, options or ServeOptions(), startup_timeout, list(sys.path)),
                                    name=self.name, route_prefix=None)
        except Exception as e:
            self.close()
            raise ConfigError("reward", f"the Ray Serve replicas could not start ({type(e).__name__}: "
                                        f"{' '.join(str(e).split())[:200]})",
                              "a reward that builds in a fresh interpreter on every node") from None

    async def submit(self, endpoint: str, body: bytes, deadline: float = 60.0,
                     queue_timeout: float | None = None) -> tuple[int, bytes]:
        """Score one request body on an idle replica: ``(status, JSON bytes)``."""
        if self._closed:
            return 503, json.dumps({"error": "server: shutting down", "type": "unavailable"}).encode()
        self.requests += 1
        wait = deadline if queue_timeout is None else queue_timeout
        t0 = time.monotonic()
        response = self.handle.score.remote(endpoint, body, deadline, wait)

        async def result() -> tuple[int, bytes]:
            return await response

        try:
            status, payload = await asyncio.wait_for(result(), wait + deadline + 10.0)
        except asyncio.TimeoutError:
            response.cancel()
            return 503, json.dumps({"error": f"replicas: all {self.size} busy for {time.monotonic() - t0:.0f}s; "
                                             "expected a retry later", "type": "busy"}).encode()
        except asyncio.CancelledError:
            response.cancel()
            raise
        except Exception as e:  # the replica died mid-request: Serve restarts it
            return 500, json.dumps({"error": f"replica: failed while scoring ({type(e).__name__}); expected a "
                                             "reward that does not crash the interpreter",
                                    "type": "worker_died"}).encode()
        if status == 504:
            self.timeouts += 1
        return status, payload

    def worker_pids(self) -> list[int]:
        """The scoring worker processes of every replica (asks each replica once)."""
        pids: set[int] = set()
        for _ in range(4 * self.size):  # the router spreads these calls; gather until every replica answered
            info = self.handle.info.remote().result(timeout_s=60)
            pids.update(info["workers"])
            if len(pids) >= self.size:
                break
        return sorted(pids)

    def close(self) -> None:
        """Delete the Serve application (its replicas stop their workers); stop Ray if this pool started it."""
        if self._closed:
            return
        self._closed = True
        try:
            from ray import serve

            serve.delete(self.name)
        except Exception:  # pragma: no cover - Ray already gone
            pass
        if self._started_ray:
            import ray

            serve.shutdown()
            ray.shutdown()
