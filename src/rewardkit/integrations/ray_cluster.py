"""Connect to a Ray cluster, or start a local one: the one place rewardkit calls ``ray.init``.

``rewardkit score``, ``rewardkit run`` and ``rewardkit serve`` take ``--backend ray
[--address ...]``; all three go through :func:`ensure_ray`.  Without an address it starts a
local cluster of ``num_cpus`` CPUs bound to loopback, without the dashboard and with a small
object store (the messages are chunks of rows and evaluation points).  Worker processes
inherit this process's ``PYTHONPATH``; on a real cluster every node needs rewardkit installed.

Example:
    >>> import ray
    >>> started = ensure_ray(num_cpus=1)
    >>> ray.is_initialized(), ensure_ray()   # already connected: nothing to do
    (True, False)
    >>> ray.shutdown()
"""

from __future__ import annotations

import os
import sys
from typing import Any

from rewardkit.core.errors import ConfigError

__all__ = ["OBJECT_STORE_BYTES", "ensure_ray", "extend_sys_path"]

#: object store of a local cluster started here
OBJECT_STORE_BYTES = 100 * 1024 * 1024


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to (or start) Ray; a no-op when already connected. Returns True when this call started it.

    A bad ``address`` is a one-line :class:`~rewardkit.core.errors.ConfigError` naming ``--address``.
    """
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend", "ray is not installed", "pip install 'rewardkit[ray]'") from None
    if ray.is_initialized():
        return False
    if address is not None:
        _reachable(address)
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address is None:
        kwargs.update(num_cpus=num_cpus, object_store_memory=OBJECT_STORE_BYTES, _node_ip_address="127.0.0.1")
    try:
        # no address: always a new local instance ("local"), never a cluster that happens to run
        # on this machine (ray.init() without an address would join it and refuse num_cpus)
        ray.init(address=address if address is not None else "local", **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ConfigError("--address", f"cannot connect to Ray at {address!r}: {' '.join(str(e).split())[:200]}",
                          "'auto', host:port or ray://host:port of a running cluster") from None
    return True


def extend_sys_path(paths: list[str] | None) -> None:
    """Append the driver's import paths that exist here and are missing (a Ray worker on this machine).

    A pickled reward names its module (a test module, a notebook's helper file): the worker,
    and the fresh interpreters it starts (they inherit ``sys.path``), can then import it. On
    another node, paths that do not exist there are skipped.

    Example:
        >>> extend_sys_path(["/no/such/dir"]); "/no/such/dir" in sys.path
        False
    """
    for p in paths or ():
        if p and p not in sys.path and os.path.isdir(p):
            sys.path.append(p)


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in one line, within ``timeout`` seconds, when ``host:port`` does not accept connections.

    (``ray.init`` retries an unreachable address for minutes.)  ``auto`` and ``ray://`` addresses
    are left to Ray.

    Example:
        >>> _reachable("auto")
        >>> _reachable("no-such-host.invalid:1")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: --address: cannot reach 'no-such-host.invalid:1' ...; expected ...
    """
    import socket

    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError("--address", f"got {address!r}", "'auto', host:port or ray://host:port")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as e:
        raise ConfigError("--address", f"cannot reach {address!r} ({e.strerror or type(e).__name__})",
                          "the GCS address of a running Ray cluster (ray start --head prints it)") from None
