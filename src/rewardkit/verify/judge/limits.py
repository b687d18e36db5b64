"""Rate limits for judge calls: token buckets for requests/min and tokens/min, and a concurrency cap.

The limits of verl's ``rate_limited`` reward manager: a token bucket refills at
``rate`` tokens per second up to ``capacity``, so over any window of :math:`t`
seconds at most :math:`\\mathrm{capacity} + \\mathrm{rate}\\cdot t` tokens are taken.

Example:
    >>> limiter = RateLimiter(rpm=600, max_concurrent=2)
    >>> with limiter(prompt_chars=400):
    ...     pass
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["RateLimiter", "TokenBucket"]


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens/second refill, at most ``capacity`` stored.

    :meth:`acquire` blocks until ``n`` tokens are available (a request larger than
    the capacity waits for a full bucket and then drains it).

    Example:
        >>> b = TokenBucket(rate=1000.0, capacity=2)
        >>> b.acquire(), b.acquire()   # the burst is free
        (0.0, 0.0)
    """

    def __init__(self, rate: float, capacity: float | None = None, clock: Callable[[], float] = time.monotonic):
        if rate <= 0:
            raise ValueError(f"rate: got {rate}; expected > 0")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(1.0, rate))
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def acquire(self, n: float = 1.0) -> float:
        """Take ``n`` tokens, sleeping as needed; returns the seconds waited."""
        n = min(float(n), self.capacity)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= n:
                    self._tokens -= n
                    return waited
                need = (n - self._tokens) / self.rate
            time.sleep(need)
            waited += need


class RateLimiter:
    """Requests/minute, tokens/minute and concurrency limits for judge calls.

    Tokens are estimated as ``chars / 4`` of the prompt (no tokenizer needed).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, max_concurrent: int | None = None):
        self._args = (rpm, tpm, max_concurrent)
        self.requests = TokenBucket(rpm / 60.0, capacity=max(1.0, rpm / 60.0)) if rpm else None
        self.tokens = TokenBucket(tpm / 60.0, capacity=max(1.0, tpm / 60.0)) if tpm else None
        self.slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None

    def __call__(self, prompt_chars: int) -> RateLimiter:
        if self.requests:
            self.requests.acquire(1)
        if self.tokens:
            self.tokens.acquire(max(1.0, prompt_chars / 4.0))
        return self

    def __enter__(self) -> RateLimiter:
        if self.slots:
            self.slots.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.slots:
            self.slots.release()

    def __getstate__(self) -> dict[str, Any]:
        return {"_args": self._args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        RateLimiter.__init__(self, *state["_args"])
