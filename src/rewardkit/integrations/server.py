"""An HTTP reward server: OpenRLHF's ``/get_reward`` protocol plus a native batch endpoint.

Serving the reward as a service lets a trainer on another machine (or in another
framework) use the same :class:`~rewardkit.core.ComposedReward` that TRL and verl
get in-process.  Endpoints:

``POST /get_reward``
    OpenRLHF's remote reward-model protocol (Hu et al., 2024, *OpenRLHF*,
    arXiv:2405.11143; ``--remote_rm_url http://host:port/get_reward``).  Request
    ``{"query": [str], "prompts": [str], "labels": [any]}`` (``prompts``/``labels``
    optional: old OpenRLHF clients send only ``query``); response
    ``{"rewards": [float], "scores": [float], "extra_logs": {term: [float]}}``
    (see :mod:`rewardkit.integrations.openrlhf` for the mapping).
``POST /v1/reward``
    ``{"prompts": [str | messages], "completions": [str | messages], "columns": {name: [any]}}``
    -> ``{"rewards": [float], "terms": {term: [float | null]}, "weights": {term: float},
    "errors": {term: [str | null]}}`` (``null`` = the term does not apply).
``GET /health``
    ``{"status": "ok", "reward": name, "terms": [...]}`` (never needs the token).

Every error reply is ``{"error": "<field>: <problem>; expected <form>", "type": ...}``.

Scoring: a pool of ``workers`` processes (:class:`~rewardkit.integrations.serve_pool.ScoringPool`),
each building the reward once; no lock is shared between requests, so a slow sample
delays only its own request.  Per-request caps: ``max_body_bytes`` (413, on
``Content-Length`` and on the bytes received), ``max_items`` (413,
``"too_many_items"``), ``max_seconds`` of scoring (504, ``"timeout"``; the worker is
killed and replaced).  ``workers=0`` scores in the server process under a lock
(for rewards that cannot be rebuilt in another process; no time cap).

Before any of the body is read, an ASGI guard checks the bearer token (compared in
constant time; 401 even for malformed JSON) on every path except ``/health`` (the docs
pages ``/docs``, ``/redoc``, ``/openapi.json`` are off unless ``docs=True``, and then
need the token too), and it drops a client whose body does not arrive within
``body_timeout`` seconds (408, connection closed).

Example:
    >>> from rewardkit.core import Constant
    >>> app = create_app(Constant(1.0, "bonus"), workers=0)
    >>> sorted(r.path for r in app.routes if r.path.startswith(("/get", "/v1", "/health")))
    ['/get_reward', '/health', '/v1/reward']
"""

import asyncio
import hmac
import json
import os
import pickle
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from rewardkit.core import ConfigError

from .openrlhf import DEFAULT_STRIP_TOKENS
from .serve_pool import ScoringPool
from .serve_worker import DEFAULT_MAX_ITEMS, GetRewardRequest, RequestScorer, RewardRequest, ServeOptions
from .trl import _as_composed

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_ITEMS",
    "DEFAULT_MAX_SECONDS",
    "BackgroundServer",
    "create_app",
]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_SECONDS = 120.0
DEFAULT_BODY_TIMEOUT = 30.0
OPEN_PATHS = frozenset({"/health"})


def _reply(status: int, message: str, kind: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": message, "type": kind}).encode()


class _Guard:
    """ASGI middleware run before any route: token (401), then body size (413) and body deadline (408)."""

    def __init__(self, app: Any, limit: int, token: str | None, body_timeout: float):
        self.app = app
        self.limit = int(limit)
        self.expected = f"Bearer {token}".encode() if token else None
        self.body_timeout = float(body_timeout)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.expected is not None and scope.get("path") not in OPEN_PATHS:
            if not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
                return await self._send(send, *_reply(401, "authorization: missing or wrong bearer token; expected "
                                                           "'Authorization: Bearer <token>'", "unauthorized"),
                                        extra=[(b"www-authenticate", b"Bearer")])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_big(send)
        parts, size, more = [], 0, True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        while more:
            try:
                msg = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                return await self._send(send, *_reply(408, f"body: not received within {self.body_timeout:g}s; "
                                                           "expected the whole body without stalling", "body_timeout"))
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            more = msg.get("more_body", False)
            if size > self.limit:
                return await self._too_big(send)
        body = b"".join(parts)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_big(self, send: Any) -> None:
        await self._send(send, *_reply(413, f"body: larger than {self.limit} bytes; expected a smaller request "
                                            "(split the batch)", "too_large"))

    @staticmethod
    async def _send(send: Any, status: int, payload: bytes, extra: list | None = None) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close"), *(extra or [])]})
        await send({"type": "http.response.body", "body": payload})


def _source(reward: Any, workers: int) -> tuple[Any, tuple[str, Any] | None]:
    """``(composed reward for /health and checks, source the workers build from)``."""
    from .serve_worker import build_from_source

    if isinstance(reward, (str, os.PathLike, Mapping)):
        src: tuple[str, Any] = ("config", dict(reward) if isinstance(reward, Mapping) else os.fspath(reward))
        return _as_composed(build_from_source(src)), (src if workers else None)
    composed = _as_composed(reward)
    if workers == 0:
        return composed, None
    try:
        return composed, ("pickle", pickle.dumps(composed))
    except Exception as e:
        raise ConfigError("reward", f"cannot be sent to worker processes ({type(e).__name__}: {str(e)[:120]})",
                          "a config path or mapping, a picklable reward, or workers=0 (in-process)") from None


def _check_caps(*, max_items: Any, max_body_bytes: Any, max_seconds: Any, body_timeout: Any, workers: Any) -> None:
    """One-line :class:`ConfigError` naming the first bad cap."""
    for name, v in (("max_items", max_items), ("max_body_bytes", max_body_bytes)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ConfigError(name, f"got {v!r}", "an integer >= 1")
    for name, f in (("max_seconds", max_seconds), ("body_timeout", body_timeout)):
        if not isinstance(f, (int, float)) or not 0 < f < 1e6:
            raise ConfigError(name, f"got {f!r}", "a number of seconds in (0, 1e6)")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or not 0 <= workers <= 256):
        raise ConfigError("workers", f"got {workers!r}", "an integer in [0, 256] (0 = in-process)")


def _openapi_body(model: Any) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def create_app(reward: Any, *, token: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               label_column: str = "answer", scores_term: str | None = None,
               strip_tokens: tuple[str, ...] = DEFAULT_STRIP_TOKENS, workers: int | None = None,
               max_items: int = DEFAULT_MAX_ITEMS, max_seconds: float = DEFAULT_MAX_SECONDS,
               body_timeout: float = DEFAULT_BODY_TIMEOUT, queue_timeout: float | None = None,
               docs: bool = False, backend: str = "local", replicas: int | None = None,
               address: str | None = None) -> Any:
    """Build the FastAPI app serving ``reward`` (see module docs).

    ``reward`` is a config path, a config mapping (its ``reward`` section or the section itself), a term or a
    :class:`~rewardkit.core.ComposedReward` (pickled to the workers).  ``workers``: scoring processes
    (``None`` = :func:`~rewardkit.integrations.serve_pool.default_workers`, ``0`` = in-process under a lock).
    ``queue_timeout``: seconds a request may wait for an idle worker (503 after; default ``max_seconds``).
    The worker pool is ``app.state.pool``; :class:`BackgroundServer` closes it, otherwise call ``.close()``.
    ``backend="ray"``: the scoring runs on ``replicas`` Ray Serve replicas instead
    (:class:`~rewardkit.integrations.serve_ray.RayScoringPool`; Ray at ``address`` or a local instance);
    the HTTP front, its caps and its replies are the same.
    """
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse, Response

    _check_caps(max_items=max_items, max_body_bytes=max_body_bytes, max_seconds=max_seconds,
                body_timeout=body_timeout, workers=workers)
    options = ServeOptions(label_column=label_column, scores_term=scores_term, strip_tokens=tuple(strip_tokens),
                           max_items=max_items)
    if backend not in ("local", "ray"):
        raise ConfigError("backend", f"got {backend!r}", "local or ray")
    if backend == "ray" and workers == 0:
        raise ConfigError("workers", "got 0 with backend ray", "replicas >= 1 (the Ray backend scores in replicas)")
    composed, source = _source(reward, 0 if workers == 0 else 1)
    scorer = RequestScorer(composed, options)  # checks scores_term here, before any worker starts
    pool: Any = None
    if source is not None and backend == "ray":
        from .serve_pool import default_workers
        from .serve_ray import RayScoringPool

        pool = RayScoringPool(source, options, replicas=replicas or workers or default_workers(), address=address)
    elif source is not None:
        pool = ScoringPool(source, options, size=workers)
    lock = threading.Lock()

    app = FastAPI(title="rewardkit reward server", version="1", docs_url="/docs" if docs else None,
                  redoc_url="/redoc" if docs else None, openapi_url="/openapi.json" if docs else None)
    app.state.reward = composed
    app.state.pool = pool
    app.state.requests = 0

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.detail},
                            headers=getattr(exc, "headers", None))

    def in_process(endpoint: str, body: bytes) -> tuple[int, bytes]:
        with lock:
            return scorer.handle(endpoint, body)

    async def score(endpoint: str, request: Request) -> Response:
        app.state.requests += 1
        body = await request.body()
        if pool is not None:
            status, payload = await pool.submit(endpoint, body, deadline=max_seconds, queue_timeout=queue_timeout)
        else:
            import anyio

            status, payload = await anyio.to_thread.run_sync(in_process, endpoint, body)
        return Response(payload, status_code=status, media_type="application/json")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "reward": composed.name, "terms": list(composed.terms)}

    @app.post("/get_reward", openapi_extra=_openapi_body(GetRewardRequest))
    async def get_reward(request: Request) -> Response:
        return await score("get_reward", request)

    @app.post("/v1/reward", openapi_extra=_openapi_body(RewardRequest))
    async def native(request: Request) -> Response:
        return await score("v1", request)

    app.add_middleware(_Guard, limit=max_body_bytes, token=token, body_timeout=body_timeout)
    return app


class BackgroundServer:
    """Run an ASGI app with uvicorn in a background thread on a free loopback port (closes ``app.state.pool``).

    Example::

        with BackgroundServer(create_app(reward)) as srv:
            httpx.post(srv.url + "/v1/reward", json={...})
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):
        self.app, self.host, self.port, self.log_level = app, host, int(port), log_level
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "BackgroundServer":
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level=self.log_level, lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("reward server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        pool = getattr(getattr(self.app, "state", None), "pool", None)
        if pool is not None:
            pool.close()
