"""One HTTP client and one retry policy for every remote call of :mod:`rewardkit.verify`.

The LLM judge (:mod:`rewardkit.verify.judge`) and the SandboxFusion client
(:mod:`rewardkit.verify.code.sandboxfusion`) both POST JSON to a service that may
be overloaded.  Both go through :func:`call_with_retry` with a :class:`RetryPolicy`:

* an attempt that fails with HTTP 408, 409, 429 or 5xx, a timeout or a connection
  error is retried; any other 4xx is final;
* the delay before retry :math:`k = 0, 1, \\dots` is capped exponential backoff with
  multiplicative jitter,

  .. math:: d_k = \\min(d_{\\max},\\; d_0\\, 2^{k})\\,(1 + U(0, j)),

  unless the server sent ``Retry-After`` (seconds or an HTTP date), which replaces
  :math:`d_k` (still capped at :math:`d_{\\max}`) - the policy of AWS's "Exponential
  backoff and jitter" note (Brooker, 2015) and of RFC 9110 Sec. 10.2.3;
* at most ``max_retries`` retries (``max_retries + 1`` attempts);
* a total ``deadline`` in seconds over all attempts and waits: each attempt's
  timeout is the time left, a backoff that would end past the deadline is not
  slept, and :class:`DeadlineExceeded` is raised instead.

:class:`HTTPClient` is a small stdlib (``http.client``) JSON client: one keep-alive
connection per thread and host, a response-size cap, and a watchdog that closes
the socket when an attempt's time is up, so a server that trickles bytes cannot
hold a call past its deadline (a plain socket timeout restarts on every byte).
It does not use proxies from the environment.

Errors form one family: :class:`RequestError` with ``retryable`` and ``kind``
(``http_<status>``, ``timeout``, ``connection``, ``deadline``, ``protocol``).

Example:
    >>> RetryPolicy(base_delay=0.5, jitter=0.0).delay(2)
    2.0
    >>> RetryPolicy(max_delay=8.0).delay(0, retry_after=30.0)   # Retry-After, capped
    8.0
    >>> attempts = []
    >>> def flaky(timeout):
    ...     attempts.append(timeout)
    ...     if len(attempts) < 3:
    ...         raise HTTPStatusError(503, "busy", retry_after=0.0)
    ...     return "ok"
    >>> call_with_retry(flaky, RetryPolicy(max_retries=4, deadline=None)), len(attempts)
    ('ok', 3)
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from rewardkit.core.errors import ConfigError

__all__ = [
    "ConnectionFailed",
    "DeadlineExceeded",
    "HTTPClient",
    "HTTPStatusError",
    "ProtocolError",
    "RequestError",
    "RequestTimeout",
    "RetryPolicy",
    "call_with_retry",
    "parse_retry_after",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- errors

class RequestError(Exception):
    """A remote call failed; ``retryable`` says whether trying again can help, ``kind`` names the failure."""

    retryable = False
    kind = "error"


class HTTPStatusError(RequestError):
    """A non-2xx reply.  408, 409, 429 and 5xx are retryable; ``retry_after`` is in seconds (or ``None``).

    Example:
        >>> e = HTTPStatusError(429, "slow down", retry_after=2.0)
        >>> e.retryable, e.kind, HTTPStatusError(404).retryable
        (True, 'http_429', False)
    """

    def __init__(self, status: int, body: str = "", retry_after: float | None = None):
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = int(status)
        self.retry_after = retry_after
        self.retryable = self.status in (408, 409, 429) or self.status >= 500
        self.kind = f"http_{self.status}"


class RequestTimeout(RequestError):
    """An attempt took longer than its timeout (retryable)."""

    retryable = True
    kind = "timeout"


class ConnectionFailed(RequestError):
    """The connection could not be made or was dropped before a reply (retryable)."""

    retryable = True
    kind = "connection"


class DeadlineExceeded(RequestError):
    """The call's total deadline (all attempts and waits) ran out (final)."""

    kind = "deadline"


class ProtocolError(RequestError):
    """A 2xx reply whose body is not what the protocol promises (final)."""

    kind = "protocol"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 Sec. 10.2.3).

    Example:
        >>> parse_retry_after("3"), parse_retry_after("soon"), parse_retry_after(None)
        (3.0, None, None)
        >>> parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0)
        6.0
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --------------------------------------------------------------------------- the policy

@dataclass
class RetryPolicy:
    """Bounded retries with capped exponential backoff, jitter, ``Retry-After`` and a total deadline.

    ``delay_k = min(max_delay, base_delay * 2**k) * (1 + U(0, jitter))``; a server-sent
    ``Retry-After`` replaces it (capped at ``max_delay``).  ``deadline`` (seconds, ``None``
    = none) bounds the whole call, attempts and waits included.

    Args:
        max_retries: retries after the first attempt.
        base_delay, max_delay: backoff start and cap, in seconds.
        jitter: relative jitter in ``[0, jitter]``.
        deadline: total seconds for one call, or ``None``.
        seed: seed of the jitter's random generator.

    Example:
        >>> p = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.0)
        >>> [p.delay(k) for k in range(5)]
        [0.5, 1.0, 2.0, 4.0, 4.0]
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.1
    deadline: float | None = 120.0
    seed: int | None = 0
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("base_delay", "max_delay", "jitter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < float("inf"):
                raise ConfigError(name, f"got {v!r}", "a finite number >= 0")
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigError("max_retries", f"got {self.max_retries!r}", "an integer >= 0")
        d = self.deadline
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 < d < float("inf")):
            raise ConfigError("deadline", f"got {d!r}", "a positive number of seconds, or null for none")
        self._rng = random.Random(self.seed)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(self.max_delay, max(0.0, retry_after))
        return min(self.max_delay, self.base_delay * 2 ** attempt) * (1.0 + self._rng.uniform(0.0, self.jitter))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_rng"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._rng = random.Random(self.seed)


def call_with_retry(attempt: Callable[[float | None], T], policy: RetryPolicy, *,
                    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                    on_retry: Callable[[RequestError, float], None] | None = None) -> T:
    """Run ``attempt(time_left)`` under ``policy``; return its result or raise the final :class:`RequestError`.

    ``attempt`` receives the seconds left before the deadline (``None`` without one)
    and should use them as its timeout.  ``on_retry(error, delay)`` is called before
    each backoff sleep.  Errors other than :class:`RequestError` propagate at once.
    """
    end = None if policy.deadline is None else clock() + float(policy.deadline)
    k = 0
    while True:
        left = None if end is None else end - clock()
        if left is not None and left <= 0:
            raise DeadlineExceeded(f"deadline of {policy.deadline:g} s passed before attempt {k + 1}")
        try:
            return attempt(left)
        except RequestError as e:
            if end is not None and clock() >= end and not isinstance(e, DeadlineExceeded):
                raise DeadlineExceeded(f"deadline of {policy.deadline:g} s passed in attempt {k + 1}: {e}") from e
            if not e.retryable or k >= policy.max_retries:
                raise
            wait = policy.delay(k, getattr(e, "retry_after", None))
            if end is not None and clock() + wait >= end:
                raise DeadlineExceeded(f"deadline of {policy.deadline:g} s leaves no time to retry "
                                       f"after attempt {k + 1}: {e}") from e
            if on_retry is not None:
                on_retry(e, wait)
            sleep(wait)
            k += 1


# --------------------------------------------------------------------------- the client

class HTTPClient:
    """A JSON-over-HTTP client on the standard library: keep-alive, a hard per-attempt timeout, a size cap.

    Args:
        timeout: seconds per attempt when the caller gives none.
        headers: sent with every request (e.g. ``Authorization``).
        max_response_bytes: a larger reply body is a :class:`ProtocolError`.

    :meth:`post_json` makes one attempt; wrap it in :func:`call_with_retry` for retries.
    Picklable: connections are per thread and re-opened on the other side.

    Example:
        >>> c = HTTPClient(timeout=0.5)
        >>> try:
        ...     c.post_json("http://127.0.0.1:9/x", {"a": 1})
        ... except RequestError as e:
        ...     print(e.kind, e.retryable)
        connection True
    """

    def __init__(self, timeout: float = 30.0, headers: Mapping[str, str] | None = None,
                 max_response_bytes: int = 16 << 20):
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
            raise ConfigError("timeout", f"got {timeout!r}", "a positive number of seconds")
        self.timeout = float(timeout)
        self.headers = dict(headers or {})
        self.max_response_bytes = int(max_response_bytes)
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    def post_json(self, url: str, payload: Any, *, timeout: float | None = None,
                  headers: Mapping[str, str] | None = None) -> Any:
        """POST ``payload`` as JSON and return the decoded JSON reply (one attempt).

        Raises :class:`HTTPStatusError` (non-2xx), :class:`RequestTimeout`,
        :class:`ConnectionFailed` or :class:`ProtocolError` (a 2xx body that is not JSON).
        """
        body = json.dumps(payload).encode("utf-8")
        hdrs = {"Content-Type": "application/json", "Accept": "application/json", **self.headers, **(headers or {})}
        status, resp_headers, data = self.request("POST", url, body, hdrs, timeout)
        text = data.decode("utf-8", errors="replace")
        if not 200 <= status < 300:
            raise HTTPStatusError(status, text, parse_retry_after(resp_headers.get("retry-after")))
        try:
            return json.loads(text)
        except ValueError:
            raise ProtocolError(f"HTTP {status} reply is not JSON: {text[:200]!r}") from None

    def request(self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> tuple[int, dict[str, str], bytes]:
        """One attempt: ``(status, lower-cased headers, body)``; never longer than ``timeout`` seconds."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("url", f"got {url!r}", "an http(s):// URL")
        limit = self.timeout if timeout is None else min(self.timeout, max(1e-3, float(timeout)))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.hostname, parts.port)
        for fresh in (False, True):
            conn, reused = self._connection(key, limit, fresh)
            try:
                return self._exchange(conn, method, path, body, dict(headers or {}), limit)
            except _StaleConnection:
                self._drop(key)
                if not reused:
                    raise ConnectionFailed(f"connection to {parts.hostname}:{parts.port} closed") from None
            except BaseException:
                self._drop(key)
                raise
        raise ConnectionFailed("unreachable")  # pragma: no cover - the loop returns or raises

    # -- internals
    def _connection(self, key: tuple, timeout: float, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
        conns: dict = self._local.__dict__.setdefault("conns", {})
        conn = None if fresh else conns.get(key)
        if conn is not None:
            return conn, True
        scheme, host, port = key
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=timeout)
        conns[key] = conn
        return conn, False

    def _drop(self, key: tuple) -> None:
        conn = self._local.__dict__.get("conns", {}).pop(key, None)
        if conn is not None:
            conn.close()

    def _exchange(self, conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
                  headers: dict[str, str], limit: float) -> tuple[int, dict[str, str], bytes]:
        fired = threading.Event()
        started = time.monotonic()

        def kill() -> None:
            fired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(limit, kill)
        watchdog.daemon = True
        watchdog.start()
        sent = False
        try:
            conn.timeout = limit
            if conn.sock is not None:
                conn.sock.settimeout(limit)
            conn.request(method, path, body=body, headers=headers)
            sent = True
            resp = conn.getresponse()
            data = self._read(resp)
            if fired.is_set():
                raise RequestTimeout(f"no complete reply within {limit:.3g} s")
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        except TimeoutError:
            raise RequestTimeout(f"no reply within {limit:.3g} s") from None
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
            if fired.is_set() or time.monotonic() - started >= limit:
                raise RequestTimeout(f"no complete reply within {limit:.3g} s") from None
            if not sent or isinstance(e, http.client.RemoteDisconnected):
                raise _StaleConnection() from None
            raise ConnectionFailed(f"{type(e).__name__}: {e}") from None
        except (OSError, http.client.HTTPException) as e:
            if fired.is_set():
                raise RequestTimeout(f"no complete reply within {limit:.3g} s") from None
            raise ConnectionFailed(f"{type(e).__name__}: {e}") from None
        finally:
            watchdog.cancel()

    def _read(self, resp: http.client.HTTPResponse) -> bytes:
        chunks, total = [], 0
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > self.max_response_bytes:
                raise ProtocolError(f"reply larger than {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


class _StaleConnection(Exception):
    """A kept-alive connection the server had closed: retried once on a fresh connection."""
