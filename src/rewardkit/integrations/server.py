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

Hardening: an optional bearer token (compared in constant time; 401 otherwise),
a request-body size limit (413, checked on ``Content-Length`` *and* on the bytes
actually received), and 422 errors that name the offending field path
(``query[2]``, ``columns.answer``) and the expected form.  Reward evaluation is
serialised by a lock (terms may be stateful) and runs in FastAPI's thread pool,
so a slow judge call does not block the event loop.

Example:
    >>> from rewardkit.core import Constant
    >>> app = create_app(Constant(1.0, "bonus"))
    >>> sorted(r.path for r in app.routes if r.path.startswith(("/get", "/v1", "/health")))
    ['/get_reward', '/health', '/v1/reward']
"""



import hmac
import json
import math
import re
import socket
import threading
import time
from typing import Any, Union

from rewardkit.core import BatchError, ConfigError

from .openrlhf import DEFAULT_STRIP_TOKENS, OpenRLHFRewardFunc
from .trl import _as_composed, score_samples

__all__ = ["create_app", "BackgroundServer", "DEFAULT_MAX_BODY_BYTES"]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


_TYPE_TAG = re.compile(r"^(str|int|float|bool|none|list\[.*\]|dict\[.*\]|function-.*)$", re.I)


def _field_path(loc: Any) -> str:
    """``("body", "query", 2)`` -> ``query[2]`` (union-member type tags dropped)."""
    parts = [p for p in loc if p != "body" and not (isinstance(p, str) and _TYPE_TAG.match(p))]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def _finite(v: Any) -> Any:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


class _BodyLimit:
    """ASGI middleware: 413 for bodies over ``limit`` bytes (declared or actually sent)."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = int(limit)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                return await self._reject(send)
        parts, size, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            parts.append(chunk)
            size += len(chunk)
            more = msg.get("more_body", False)
            if size > self.limit:
                return await self._reject(send)
        body = b"".join(parts)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Any) -> None:
        payload = json.dumps({"error": f"body: larger than {self.limit} bytes; expected a smaller request "
                                       "(split the batch)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def create_app(reward: Any, *, token: str | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               label_column: str = "answer", scores_term: str | None = None,
               strip_tokens: tuple[str, ...] = DEFAULT_STRIP_TOKENS) -> Any:
    """Build the FastAPI app serving ``reward`` (a term or :class:`~rewardkit.core.ComposedReward`)."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, Field

    composed = _as_composed(reward)
    openrlhf = OpenRLHFRewardFunc(composed, label_column=label_column, scores_term=scores_term,
                                  strip_tokens=strip_tokens, as_tensors=False)
    lock = threading.Lock()
    Message = dict[str, Any]
    Text = Union[str, list[Message]]

    class GetRewardRequest(BaseModel):
        model_config = ConfigDict(extra="ignore")
        query: list[str] = Field(..., description="prompt + response, decoded")
        prompts: list[str] | None = None
        labels: list[Any] | None = None

    class RewardRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        prompts: list[Text]
        completions: list[Text]
        columns: dict[str, list[Any]] = Field(default_factory=dict)

    app = FastAPI(title="rewardkit reward server", version="1", docs_url=None, redoc_url=None)
    app.state.reward = composed
    app.state.requests = 0

    def check_token(request: Request) -> None:
        if not token:
            return
        got = request.headers.get("authorization", "")
        if not hmac.compare_digest(got.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "authorization: missing or wrong bearer token; expected "
                                     "'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        merged: dict[str, list[str]] = {}
        for e in exc.errors():
            msgs = merged.setdefault(_field_path(e.get("loc", ())), [])
            if e.get("msg") and e["msg"] not in msgs:
                msgs.append(e["msg"])
        details = [{"field": f, "message": " or ".join(m)} for f, m in merged.items()]
        first = details[0] if details else {"field": "body", "message": "invalid"}
        return JSONResponse(status_code=422, content={"error": f"{first['field']}: {first['message']}",
                                                      "detail": details})

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": exc.detail},
                            headers=getattr(exc, "headers", None))

    def guarded(fn: Any) -> Any:
        try:
            with lock:
                app.state.requests += 1
                return fn()
        except (BatchError, ConfigError) as e:
            raise HTTPException(422, str(e)) from None
        except Exception as e:  # a bug in a term: report the type, never a traceback
            raise HTTPException(500, f"reward evaluation failed: {type(e).__name__}: {str(e)[:200]}") from None

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "reward": composed.name, "terms": list(composed.terms)}

    @app.post("/get_reward", dependencies=[Depends(check_token)])
    def get_reward(req: GetRewardRequest) -> dict[str, Any]:
        return guarded(lambda: openrlhf.compute(req.query, req.prompts, req.labels))

    @app.post("/v1/reward", dependencies=[Depends(check_token)])
    def native(req: RewardRequest) -> dict[str, Any]:
        n = len(req.completions)
        if len(req.prompts) != n:
            raise HTTPException(422, f"prompts: has {len(req.prompts)} entries for {n} completions; "
                                     "expected one prompt per completion")
        for k, v in req.columns.items():
            if len(v) != n:
                raise HTTPException(422, f"columns.{k}: has {len(v)} entries for {n} completions; "
                                         "expected one entry per completion")

        def run() -> dict[str, Any]:
            scored = score_samples(composed, req.prompts, req.completions, req.columns)
            return {"rewards": [_finite(v) for v in scored.result.total],
                    "terms": {k: [_finite(x) for x in scored.term_values(k)] for k in scored.term_names},
                    "weights": scored.result.weights,
                    "errors": scored.errors}

        return guarded(run)

    app.add_middleware(_BodyLimit, limit=max_body_bytes)
    return app


class BackgroundServer:
    """Run an ASGI app with uvicorn in a background thread on a free loopback port.

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
