"""``rewardkit serve --config reward.yaml``: serve a reward over HTTP (OpenRLHF ``/get_reward`` + ``/v1/reward``)."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "serve a reward config over HTTP (OpenRLHF /get_reward, native /v1/reward, /health)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="reward config (.yaml/.yml/.toml/.json) with a 'reward' section")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 = any free port)")
    p.add_argument("--token-env", default="REWARDKIT_SERVE_TOKEN",
                   help="environment variable holding a bearer token; if it is set, every reward request must "
                        "send 'Authorization: Bearer <token>' (default REWARDKIT_SERVE_TOKEN)")
    p.add_argument("--max-body-mb", type=float, default=8.0, help="reject larger request bodies with 413 (default 8)")
    p.add_argument("--label-column", default="answer",
                   help="column that OpenRLHF 'labels' fill for the reward terms (default answer)")
    p.add_argument("--scores-term", default=None,
                   help="term whose [0,1]-clipped values are returned as OpenRLHF 'scores' (default: the total)")
    p.add_argument("--workers", type=int, default=None,
                   help="scoring processes, each building the reward once (default: CPUs, 2..8; 0 = in-process "
                        "under one lock, no time cap); stateful terms keep one state per worker")
    # defaults live in rewardkit.integrations.server (not imported here: `rewardkit --help` stays fast)
    p.add_argument("--max-items", type=int, default=None,
                   help="reject requests with more samples with 413 (default 16384)")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="scoring time per request; past it the reply is 504 and the worker is replaced (default 120)")
    p.add_argument("--body-timeout", type=float, default=None,
                   help="drop a client whose body has not arrived after this many seconds, with 408 (default 30)")
    p.add_argument("--backend", default="local", choices=["local", "ray"],
                   help="score in local worker processes (default) or in Ray Serve replicas")
    p.add_argument("--replicas", type=int, default=None,
                   help="Ray Serve replicas with --backend ray, each building the reward once (default: --workers or "
                        "CPUs, 2..8)")
    p.add_argument("--address", default=None,
                   help="Ray cluster for --backend ray ('auto', host:port; default: start a local one)")
    p.add_argument("--docs", action="store_true",
                   help="serve /docs, /redoc and /openapi.json (behind the token if one is set; default off)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def run(args: argparse.Namespace) -> int:
    from rewardkit.core import ConfigError

    if not 0 <= args.port <= 65535:
        raise ConfigError("--port", f"got {args.port}", "an integer in [0, 65535]")
    if not 0 < args.max_body_mb <= 1024:  # also rejects nan and inf
        raise ConfigError("--max-body-mb", f"got {args.max_body_mb}", "a number in (0, 1024]")
    token = os.environ.get(args.token_env) or None if args.token_env else None

    _check_bind(args.host, args.port)

    import uvicorn

    from rewardkit.integrations.server import create_app

    if args.replicas is not None and (args.backend != "ray" or not 1 <= args.replicas <= 256):
        raise ConfigError("--replicas", f"got {args.replicas}" + (" without --backend ray" if args.backend != "ray"
                                                                  else ""), "an integer in [1, 256] with --backend ray")
    caps = {k: getattr(args, k) for k in ("workers", "max_items", "max_seconds", "body_timeout")
            if getattr(args, k) is not None}
    if args.backend == "ray":
        caps.update(backend="ray", replicas=args.replicas, address=args.address)
    # the workers build the reward from the file; create_app builds it here first, so a bad config is exit 2
    app = create_app(args.config, token=token, max_body_bytes=int(args.max_body_mb * 1024 * 1024),
                     label_column=args.label_column, scores_term=args.scores_term, docs=args.docs, **caps)
    reward = app.state.reward
    if token is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host} without a bearer token (set ${args.token_env})", file=sys.stderr)
    terms = ", ".join(f"{n} (w={w:g})" for n, w in reward.weights.items())
    print(f"rewardkit serve: {reward.name} = {terms}", flush=True)
    print(f"listening on http://{args.host}:{args.port}  POST /get_reward  POST /v1/reward  GET /health"
          + ("  [bearer token required]" if token else ""), flush=True)
    pool = app.state.pool
    if args.backend == "ray":
        print(f"scoring in {pool.size} Ray Serve replica(s)", flush=True)
    else:
        print(f"scoring in {pool.size} worker process(es)" if pool else "scoring in-process (--workers 0)", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    finally:
        if pool is not None:
            pool.close()
    return 0


def _check_bind(host: str, port: int) -> None:
    """Fail fast, in one line, when ``host:port`` cannot be bound (in use, not a local address, bad name)."""
    import socket

    from rewardkit.core import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ConfigError("--host", f"cannot resolve {host!r}: {e.strerror}", "an IP address or host name") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            s.bind(addr)
        except OSError as e:
            raise ConfigError("--port", f"cannot listen on {host}:{port}: {e.strerror}",
                              "a free port on a local address") from None
