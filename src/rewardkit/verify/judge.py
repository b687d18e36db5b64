"""LLM-as-a-judge reward: prompt template, verdict parser, rate limits, retries, caching.

A *reference-based generative verifier* (Zhao, Liu et al., 2025, "One Token to
Fool LLM-as-a-Judge", arXiv:2507.08794, Sec. 2) is a language model :math:`J`
asked whether a response :math:`o` to question :math:`q` matches the reference
answer :math:`a^*`; its YES/NO verdict becomes a binary reward

.. math:: r(q, a^*, o) = g(o)\\; \\mathbb{1}\\big[\\mathrm{parse}(J(\\mathrm{prompt}(q, a^*, o))) = \\mathrm{YES}\\big]

where :math:`g` is the rule-based content gate of :mod:`rewardkit.verify.gate`
(the same paper shows judges accept content-free "master keys" such as ``":"``
or ``"Thought process:"`` at up to 80-90 % FPR, so they never reach the judge
here).  In ``mode="score"`` the judge returns a number on ``score_range``
which is mapped linearly to :math:`[0, 1]` - the RLAIF partial reward of
Pourreza, Talaei et al. (2025), "Reasoning-SQL" (arXiv:2503.23157).

The machinery around the call follows the production judge loops of verl's
``rate_limited`` reward manager: token buckets for requests/min and tokens/min
and a concurrency cap; retries with exponential backoff (honouring
``Retry-After``) on HTTP 429, 5xx and timeouts; and a cache keyed by
``sha256(model, messages, params)`` - in memory (LRU) and optionally in SQLite on
disk, so a GRPO group that repeats a completion, or a re-run, costs no calls.

Any OpenAI-compatible endpoint works: :class:`OpenAIChatClient` POSTs
``/v1/chat/completions`` with httpx; any object with the openai SDK's
``.chat.completions.create(...)`` shape, or a plain ``messages -> str`` callable,
is accepted too (bring your own client).

Example:
    >>> parse_verdict("**YES** - the response matches the reference.")
    1.0
    >>> parse_verdict("No. The value 5 differs from 4.")
    0.0
    >>> parse_verdict("The response is not correct. Final verdict: NO")
    0.0
    >>> parse_score("Score: 8/10", (0, 10))
    0.8
    >>> judge = LLMJudge(lambda messages: "YES", model="echo")
    >>> judge.verify("The answer is 4.", question="2+2?", answer="4").value
    1.0
    >>> judge.verify(":", question="2+2?", answer="4").error   # stopped by the content gate
    'gate:punctuation_only'
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from rewardkit.core import ConfigError, SampleBatch, register_term

from .gate import ContentGate
from .result import Verifier, VerifierTerm, VerifyResult

__all__ = [
    "DEFAULT_TEMPLATE", "DEFAULT_SCORE_TEMPLATE", "DEFAULT_SYSTEM", "render_prompt", "parse_verdict", "parse_score",
    "JudgeError", "JudgeHTTPError", "JudgeTimeout", "OpenAIChatClient", "SDKChatClient", "as_chat_client",
    "TokenBucket", "RateLimiter", "RetryPolicy", "JudgeCache", "LLMJudge", "llm_judge",
]

DEFAULT_SYSTEM = "You are a strict grader. You compare a response with a reference answer."

DEFAULT_TEMPLATE = (
    "Decide whether the RESPONSE gives the same final answer as the REFERENCE ANSWER to the QUESTION.\n"
    "Ignore differences in wording or formatting. A response without a final answer is wrong.\n\n"
    "QUESTION:\n{question}\n\nREFERENCE ANSWER:\n{reference}\n\nRESPONSE:\n{response}\n\n"
    "Reply with exactly one word: YES or NO."
)

DEFAULT_SCORE_TEMPLATE = (
    "Grade the RESPONSE to the QUESTION against the REFERENCE ANSWER on a scale from {low} to {high} "
    "({high} = fully correct).\n\n"
    "QUESTION:\n{question}\n\nREFERENCE ANSWER:\n{reference}\n\nRESPONSE:\n{response}\n\n"
    "Reply in the form 'Score: <number>'."
)

_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def template_fields(template: str) -> set[str]:
    """Names of the ``{field}`` placeholders of a template (``{{``/``}}`` are literal braces)."""
    return set(_FIELD.findall(template))


def render_prompt(template: str, **fields: Any) -> str:
    """Fill a ``str.format`` template; a missing field raises a :class:`ConfigError` naming it.

    Example:
        >>> render_prompt("Q: {question} A: {response}", question="1+1", response="2")
        'Q: 1+1 A: 2'
    """
    missing = template_fields(template) - set(fields)
    if missing:
        raise ConfigError("template", f"uses unknown field(s) {sorted(missing)}",
                          f"only fields from {sorted(fields)}")
    return template.format_map({k: "" if v is None else v for k, v in fields.items()})


# --------------------------------------------------------------------------- parsing

_SPACES = re.compile(r"[^\S\n]+")
_YES = {"yes", "y", "correct", "true", "right", "accept", "accepted", "pass", "是", "是的", "对", "正确", "はい", "正解", "sí", "si"}
_NO = {"no", "n", "incorrect", "false", "wrong", "reject", "rejected", "fail", "否", "错", "错误", "不正确", "いいえ",
       "不正解"}
_WORD = r"(yes|no|correct|incorrect|true|false|right|wrong|accept(?:ed)?|reject(?:ed)?|pass|fail)"
# (whitespace is collapsed before matching, and no two unbounded \s* are adjacent: linear time)
_LABELLED = re.compile(r"(?:verdict|judg(?:e)?ment|decision|grade|final answer|answer|output|result|label)"
                       r"(?: ?(?:is|:|=|-))?[ \*\[\(\"'`]*" + _WORD + r"\b", re.I)
_BOXED_WORD = re.compile(r"\\boxed\{ ?(?:\\text\{ ?)?" + _WORD + r" ?\}? ?\}", re.I)
_TOKENS = re.compile(r"[^\W_]+", re.U)


def _word_value(w: str) -> float | None:
    w = w.lower()
    if w in _YES:
        return 1.0
    if w in _NO:
        return 0.0
    return None


def parse_verdict(text: Any) -> float | None:
    """Map a judge's reply to 1.0 (YES), 0.0 (NO) or ``None`` (unparsable).

    Robust to casing, punctuation, markdown and explanations: ``<think>`` blocks are
    dropped; an explicitly labelled verdict (``Verdict: NO``, ``\\boxed{YES}``) wins
    (the last one); else the first word decides; else the last yes/no word of the
    last line.  A negated word ("not correct") is never read as YES.

    Example:
        >>> [parse_verdict(t) for t in ["yes", "YES.", "Yes, because 4 = 4.", "no!", "\\\\boxed{NO}", "maybe"]]
        [1.0, 1.0, 1.0, 0.0, 0.0, None]
    """
    if text is None:
        return None
    t = str(text).split("</think>")[-1]  # drop think blocks (and an unclosed think prefix)
    t = "\n".join(_SPACES.sub(" ", ln).strip() for ln in t.splitlines())
    t = t.strip()
    if not t:
        return None
    labelled = list(_BOXED_WORD.finditer(t)) + list(_LABELLED.finditer(t))
    if labelled:
        last = max(labelled, key=lambda m: m.start())
        return _word_value(last.group(1))
    tokens = _TOKENS.findall(t)
    if tokens:
        v = _word_value(tokens[0])
        if v is not None:
            return v
    last_line = [ln for ln in t.splitlines() if ln.strip()][-1]
    words = _TOKENS.findall(last_line)
    for i in range(len(words) - 1, -1, -1):
        v = _word_value(words[i])
        if v is not None:
            if v == 1.0 and i > 0 and words[i - 1].lower() in ("not", "isn", "t"):
                return 0.0
            return v
    return None


_SCORE_LABEL = re.compile(r"(?:score|rating|grade)(?: ?(?:is|:|=))?[ \*\[]*(-?\d+(?:\.\d+)?)"
                          r"(?: ?/ ?(\d+(?:\.\d+)?))?", re.I)
_FRACTION = re.compile(r"(-?\d+(?:\.\d+)?) ?/ ?(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_score(text: Any, score_range: Sequence[float] = (0.0, 1.0)) -> float | None:
    """Read a numeric grade and map it linearly from ``score_range`` to [0, 1] (clipped).

    Accepts ``Score: 7``, ``Rating: [[8]]``, ``7/10``, JSON ``{"score": 0.7}`` or a
    bare number (the last one).  ``None`` if there is no number.

    Example:
        >>> parse_score('{"score": 0.25}'), parse_score("Rating: [[9]]", (1, 10)), parse_score("n/a")
        (0.25, 0.8888888888888888, None)
    """
    if text is None:
        return None
    lo, hi = float(score_range[0]), float(score_range[1])
    t = _SPACES.sub(" ", str(text).split("</think>")[-1].replace("\n", " "))
    value: float | None = None
    try:
        obj = json.loads(t.strip())
        if isinstance(obj, Mapping) and isinstance(obj.get("score"), (int, float)):
            value = float(obj["score"])
    except (ValueError, TypeError):
        pass
    if value is None:
        m = list(_SCORE_LABEL.finditer(t))
        if m:
            value = float(m[-1].group(1))
            if m[-1].group(2) and float(m[-1].group(2)) > 0:  # "Score: 3/4" is a fraction of the range
                value = lo + (hi - lo) * value / float(m[-1].group(2))
    if value is None:
        m = list(_FRACTION.finditer(t))
        if m and float(m[-1].group(2)) > 0:
            value = lo + (hi - lo) * float(m[-1].group(1)) / float(m[-1].group(2))
    if value is None:
        m = _NUMBER.findall(t)
        if m:
            value = float(m[-1])
    if value is None or hi == lo:
        return None
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


# --------------------------------------------------------------------------- clients

class JudgeError(Exception):
    """A judge call failed; ``retryable`` says whether trying again can help."""

    retryable = False
    kind = "error"


class JudgeHTTPError(JudgeError):
    """Non-2xx reply.  429, 408 and 5xx are retryable; ``retry_after`` is in seconds."""

    def __init__(self, status: int, body: str = "", retry_after: float | None = None):
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = int(status)
        self.retry_after = retry_after
        self.retryable = self.status in (408, 409, 429) or self.status >= 500
        self.kind = f"http_{self.status}"


class JudgeTimeout(JudgeError):
    """The request timed out or the connection failed (retryable)."""

    retryable = True
    kind = "timeout"


class JudgeProtocolError(JudgeError):
    """A 2xx reply that is not a chat completion."""

    kind = "protocol"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class OpenAIChatClient:
    """Minimal OpenAI-compatible chat client over httpx (``POST {base_url}/chat/completions``).

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8000/v1`` (vLLM, SGLang,
    llama.cpp, Ollama and OpenAI all serve this route).  The key, if any, is sent as
    ``Authorization: Bearer``; pass ``api_key`` directly or name an environment
    variable with ``api_key_env`` (configs never contain keys).

    Example:
        >>> c = OpenAIChatClient("http://127.0.0.1:9/v1", timeout=0.2)
        >>> c.url
        'http://127.0.0.1:9/v1/chat/completions'
    """

    def __init__(self, base_url: str, api_key: str | None = None, *, api_key_env: str | None = None,
                 timeout: float = 30.0, headers: Mapping[str, str] | None = None):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError("base_url", f"got {base_url!r}", "an http(s) URL such as http://127.0.0.1:8000/v1")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self._init = {"api_key": api_key, "api_key_env": api_key_env, "timeout": timeout,
                      "headers": dict(headers or {})}
        self._connect()

    def _connect(self) -> None:
        import httpx

        api_key, env = self._init["api_key"], self._init["api_key_env"]
        if api_key is None and env:
            api_key = os.environ.get(env) or None
        h = {"Content-Type": "application/json", **self._init["headers"]}
        if api_key:
            h["Authorization"] = f"Bearer {api_key}"
        self._httpx = httpx
        self._client = httpx.Client(timeout=httpx.Timeout(self._init["timeout"]), headers=h)

    def __getstate__(self) -> dict[str, Any]:
        # picklable (TRL's async GRPO pickles reward functions); the key is re-read from the
        # environment on the other side when it came from ``api_key_env``
        return {"base_url": self.base_url, "url": self.url, "_init": self._init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connect()

    def complete(self, model: str, messages: list[dict[str, str]], **params: Any) -> str:
        httpx = self._httpx
        try:
            resp = self._client.post(self.url, json={"model": model, "messages": messages, **params})
        except httpx.TimeoutException as e:
            raise JudgeTimeout(f"timeout: {type(e).__name__}") from None
        except httpx.TransportError as e:
            raise JudgeTimeout(f"connection error: {type(e).__name__}: {e}") from None
        if resp.status_code >= 300:
            raise JudgeHTTPError(resp.status_code, resp.text, _retry_after(resp.headers.get("retry-after")))
        try:
            return str(resp.json()["choices"][0]["message"]["content"] or "")
        except (ValueError, KeyError, IndexError, TypeError):
            raise JudgeProtocolError(f"not a chat completion: {resp.text[:200]}") from None

    def close(self) -> None:
        self._client.close()


class SDKChatClient:
    """Adapter for any object shaped like the openai SDK (``client.chat.completions.create``).

    Exceptions carrying ``status_code`` (openai's ``APIStatusError``) map to
    :class:`JudgeHTTPError`; ones named ``*Timeout*``/``*Connection*`` to
    :class:`JudgeTimeout`.
    """

    def __init__(self, sdk_client: Any):
        self.sdk = sdk_client

    def complete(self, model: str, messages: list[dict[str, str]], **params: Any) -> str:
        try:
            resp = self.sdk.chat.completions.create(model=model, messages=messages, **params)
        except JudgeError:
            raise
        except Exception as e:
            status = getattr(e, "status_code", None)
            if isinstance(status, int):
                headers = getattr(getattr(e, "response", None), "headers", None) or {}
                raise JudgeHTTPError(status, str(e), _retry_after(headers.get("retry-after"))) from None
            name = type(e).__name__.lower()
            if "timeout" in name or "connection" in name:
                raise JudgeTimeout(f"{type(e).__name__}: {e}") from None
            raise
        choice = resp["choices"][0] if isinstance(resp, Mapping) else resp.choices[0]
        msg = choice["message"] if isinstance(choice, Mapping) else choice.message
        content = msg["content"] if isinstance(msg, Mapping) else msg.content
        return str(content or "")


class _CallableClient:
    def __init__(self, fn: Callable[[list[dict[str, str]]], str]):
        self.fn = fn

    def complete(self, model: str, messages: list[dict[str, str]], **params: Any) -> str:
        return str(self.fn(messages))


def as_chat_client(obj: Any, **kwargs: Any) -> Any:
    """Coerce a URL, an SDK-shaped client, an object with ``complete`` or a callable into a client."""
    if isinstance(obj, str):
        return OpenAIChatClient(obj, **kwargs)
    if hasattr(obj, "complete"):
        return obj
    chat = getattr(obj, "chat", None)
    if chat is not None and hasattr(getattr(chat, "completions", None), "create"):
        return SDKChatClient(obj)
    if callable(obj):
        return _CallableClient(obj)
    raise ConfigError("client", f"got {type(obj).__name__}",
                      "a base URL, an openai-style client, an object with .complete(model, messages) or a callable")


# --------------------------------------------------------------------------- rate limits, retries, cache

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

    def __call__(self, prompt_chars: int) -> "RateLimiter":
        if self.requests:
            self.requests.acquire(1)
        if self.tokens:
            self.tokens.acquire(max(1.0, prompt_chars / 4.0))
        return self

    def __enter__(self) -> "RateLimiter":
        if self.slots:
            self.slots.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.slots:
            self.slots.release()

    def __getstate__(self) -> dict[str, Any]:
        return {"_args": self._args}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(*state["_args"])


@dataclass
class RetryPolicy:
    """Exponential backoff: ``delay_k = min(max_delay, base_delay * 2**k) * (1 + U(0, jitter))``.

    A server-sent ``Retry-After`` replaces the computed delay (capped at ``max_delay``).

    Example:
        >>> RetryPolicy(base_delay=0.5, jitter=0.0).delay(2)
        2.0
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.1
    seed: int | None = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_delay, retry_after)
        return min(self.max_delay, self.base_delay * 2 ** attempt) * (1.0 + self._rng.uniform(0.0, self.jitter))


class JudgeCache:
    """LRU cache of judge replies in memory, optionally persisted in SQLite.

    The key is ``sha256`` of the model name, the messages and the sampling
    parameters (see :meth:`key`), so changing any of them misses the cache.

    Example:
        >>> c = JudgeCache(maxsize=2)
        >>> k = c.key("m", [{"role": "user", "content": "hi"}], {})
        >>> c.put(k, "YES"); c.get(k)
        'YES'
    """

    def __init__(self, maxsize: int = 4096, path: str | os.PathLike | None = None):
        self.maxsize = int(maxsize)
        self._mem: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._path = str(path) if path else None
        if path:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS judge_cache (key TEXT PRIMARY KEY, reply TEXT NOT NULL,"
                             " created REAL NOT NULL)")
            self._db.commit()

    @staticmethod
    def key(model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]) -> str:
        blob = json.dumps({"model": model, "messages": list(messages), "params": dict(params)},
                          sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._mem:
                self._mem.move_to_end(key)
                return self._mem[key]
            if self._db is not None:
                row = self._db.execute("SELECT reply FROM judge_cache WHERE key = ?", (key,)).fetchone()
                if row is not None:
                    self._remember(key, row[0])
                    return str(row[0])
        return None

    def put(self, key: str, reply: str) -> None:
        with self._lock:
            self._remember(key, reply)
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO judge_cache VALUES (?, ?, ?)", (key, reply, time.time()))
                self._db.commit()

    def _remember(self, key: str, reply: str) -> None:
        if self.maxsize <= 0:
            return
        self._mem[key] = reply
        self._mem.move_to_end(key)
        while len(self._mem) > self.maxsize:
            self._mem.popitem(last=False)

    def __len__(self) -> int:
        return len(self._mem)

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {"maxsize": self.maxsize, "path": self._path, "mem": list(self._mem.items())}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["maxsize"], state["path"])
        for k, v in state["mem"]:
            self._remember(k, v)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


# --------------------------------------------------------------------------- the judge

class LLMJudge(Verifier):
    """A reference-based LLM judge as a :class:`~rewardkit.verify.Verifier`.

    Args:
        client: a base URL (``http://host:port/v1``), an openai-SDK-shaped client, an
            object with ``complete(model, messages, **params) -> str`` or a callable
            ``messages -> str``.
        model: model name sent to the endpoint (and part of the cache key).
        template: prompt with fields ``{question}``, ``{reference}``, ``{response}``
            (and ``{low}``/``{high}`` in score mode, plus any batch column by name).
        mode: ``"binary"`` (YES/NO -> 1/0) or ``"score"`` (number on ``score_range`` -> [0, 1]).
        reference_column: batch column holding the reference answer.
        gate: a :class:`~rewardkit.verify.gate.ContentGate` run first (``None`` disables it).
        retry, limiter, cache: see :class:`RetryPolicy`, :class:`RateLimiter`, :class:`JudgeCache`.
        params: sampling parameters sent with each request (default ``temperature=0``).
        fail_value: reward when the judge cannot be reached or its reply is unparsable.
        max_workers: threads used by :meth:`verify_batch` for concurrent calls.

    Counters ``calls`` (HTTP attempts), ``cache_hits``, ``retries``, ``failures`` and
    ``gated`` are kept for logging.

    Example:
        >>> j = LLMJudge(lambda m: "Score: 3", model="m", mode="score", score_range=(0, 4))
        >>> j.verify("x = 3", question="q", answer="3").value
        0.75
    """

    name = "llm_judge"

    def __init__(self, client: Any, model: str = "judge", *, template: str | None = None,
                 system: str | None = DEFAULT_SYSTEM, mode: str = "binary",
                 score_range: Sequence[float] = (0.0, 10.0), reference_column: str = "answer",
                 gate: ContentGate | None = ContentGate(), retry: RetryPolicy | None = None,
                 limiter: RateLimiter | None = None, cache: JudgeCache | None = None,
                 params: Mapping[str, Any] | None = None, fail_value: float = 0.0, max_workers: int = 4,
                 sleep: Callable[[float], None] = time.sleep):
        if mode not in ("binary", "score"):
            raise ConfigError("mode", f"got {mode!r}", "'binary' or 'score'")
        self.client = as_chat_client(client)
        self.model = str(model)
        self.mode = mode
        self.template = template or (DEFAULT_TEMPLATE if mode == "binary" else DEFAULT_SCORE_TEMPLATE)
        self.system = system
        self.score_range = (float(score_range[0]), float(score_range[1]))
        if self.score_range[0] == self.score_range[1]:
            raise ConfigError("score_range", f"got {list(score_range)}", "two different numbers [low, high]")
        self.reference_column = reference_column
        self.reference_columns = (reference_column,)
        unknown = template_fields(self.template) - {"question", "reference", "response", "low", "high"}
        self.extra_fields = tuple(sorted(unknown))  # taken from batch columns of the same name
        self.gate = gate
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.cache = cache if cache is not None else JudgeCache()
        self.params = dict(params) if params is not None else {"temperature": 0.0}
        self.fail_value = float(fail_value)
        self.max_workers = max(1, int(max_workers))
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self.calls = self.cache_hits = self.retries = self.failures = self.gated = 0

    # -- one sample
    def messages(self, completion: str, question: str = "", reference: Any = "", **extra: Any) -> list[dict[str, str]]:
        """The chat messages sent for one sample."""
        fields = {"question": question, "reference": "" if reference is None else reference,
                  "response": completion, "low": _num(self.score_range[0]), "high": _num(self.score_range[1])}
        missing = [k for k in self.extra_fields if k not in extra]
        if missing:
            raise ConfigError("template", f"uses field(s) {missing} with no value",
                              "fields question/reference/response or batch columns of the same name")
        fields.update({k: extra[k] for k in self.extra_fields})
        msgs = [{"role": "user", "content": render_prompt(self.template, **fields)}]
        if self.system:
            msgs.insert(0, {"role": "system", "content": self.system})
        return msgs

    def verify(self, completion: str, question: str = "", **refs: Any) -> VerifyResult:
        t0 = time.perf_counter()
        if self.gate is not None:
            reason = self.gate.reason(completion)
            if reason is not None:
                self._count("gated")
                return VerifyResult(0.0, {"gate": 0.0}, error=f"gate:{reason}", latency=time.perf_counter() - t0)
        reference = refs.pop(self.reference_column, refs.pop("reference", ""))
        msgs = self.messages(completion, question=question, reference=reference, **refs)
        key = self.cache.key(self.model, msgs, self.params)
        reply = self.cache.get(key)
        cached = reply is not None
        if cached:
            self._count("cache_hits")
        else:
            try:
                reply = self._call(msgs)
            except JudgeError as e:
                self._count("failures")
                return VerifyResult(self.fail_value, error=f"judge_error:{e.kind}",
                                    info={"message": str(e)[:300]}, latency=time.perf_counter() - t0)
        value = parse_verdict(reply) if self.mode == "binary" else parse_score(reply, self.score_range)
        if value is None:
            return VerifyResult(self.fail_value, extracted=reply, error="unparsable_verdict",
                                latency=time.perf_counter() - t0, info={"cached": cached})
        if not cached:
            self.cache.put(key, reply)  # only parsable replies are cached
        return VerifyResult(value, {"gate": 1.0, "judge": value}, extracted=reply,
                            latency=time.perf_counter() - t0, info={"cached": cached})

    def _call(self, msgs: list[dict[str, str]]) -> str:
        chars = sum(len(m["content"]) for m in msgs)
        attempt = 0
        while True:
            self.limiter(chars)
            try:
                with self.limiter:
                    self._count("calls")
                    return self.client.complete(self.model, msgs, **self.params)
            except JudgeError as e:
                if not e.retryable or attempt >= self.retry.max_retries:
                    raise
                self._count("retries")
                self._sleep(self.retry.delay(attempt, getattr(e, "retry_after", None)))
                attempt += 1

    def _count(self, field: str) -> None:
        with self._stats_lock:
            setattr(self, field, getattr(self, field) + 1)

    # -- a batch: the question is the prompt text, calls run concurrently
    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        texts = batch.completion_texts()
        questions = batch.prompt_texts()
        cols = [self.reference_column, *self.extra_fields]
        data = {c: batch.column(c) for c in cols}  # a missing column is a config error: BatchError

        def one(i: int) -> VerifyResult:
            return self.safe_verify(texts[i], question=questions[i], **{c: v[i] for c, v in data.items()})

        if self.max_workers == 1 or len(texts) <= 1:
            return [one(i) for i in range(len(texts))]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(texts))) as pool:
            return list(pool.map(one, range(len(texts))))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_stats_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._stats_lock = threading.Lock()

    def stats(self) -> dict[str, int]:
        """Counters for logging: calls, cache_hits, retries, failures, gated."""
        return {k: getattr(self, k) for k in ("calls", "cache_hits", "retries", "failures", "gated")}


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


@register_term("llm_judge", batch_kind="sample")
def llm_judge(base_url: str, model: str = "judge", api_key_env: str = "OPENAI_API_KEY",
              template: str | None = None, system: str | None = None, mode: str = "binary",
              score_range: Sequence[float] | None = None, reference_column: str = "answer",
              timeout: float = 30.0, max_retries: int = 4, backoff: float = 0.5, rpm: float = 0.0,
              tpm: float = 0.0, max_concurrent: int = 4, cache_size: int = 4096, cache_path: str = "",
              gate: bool = True, require_answer: bool = False, fail_value: float = 0.0,
              name: str = "llm_judge") -> VerifierTerm:
    """LLM-as-a-judge reward (YES/NO or score) behind the rule-based content gate.

    ``base_url`` is an OpenAI-compatible API root (``http://host:port/v1``); the key
    is read from the environment variable ``api_key_env``.  ``rpm``/``tpm`` = 0
    means unlimited.  ``cache_path`` enables the SQLite cache.
    """
    limiter = RateLimiter(rpm=rpm or None, tpm=tpm or None, max_concurrent=max_concurrent or None)
    judge = LLMJudge(
        OpenAIChatClient(base_url, api_key_env=api_key_env, timeout=timeout), model=model,
        template=template, system=DEFAULT_SYSTEM if system is None else system, mode=mode,
        score_range=tuple(score_range) if score_range is not None else (0.0, 10.0),
        reference_column=reference_column,
        gate=ContentGate(require_answer=require_answer) if gate else None,
        retry=RetryPolicy(max_retries=int(max_retries), base_delay=float(backoff)), limiter=limiter,
        cache=JudgeCache(cache_size, cache_path or None), fail_value=fail_value,
        max_workers=max(1, int(max_concurrent or 4)))
    return VerifierTerm(judge, name=name)
