"""Chat clients for the judge: an OpenAI-compatible HTTP client, an SDK adapter, a callable adapter.

Every client has ``complete(model, messages, **params) -> str`` and raises the
:class:`~rewardkit.verify.http.RequestError` family (re-exported here under the
judge's historical names ``JudgeError``, ``JudgeHTTPError``, ``JudgeTimeout``,
``JudgeProtocolError``), which :class:`~rewardkit.verify.judge.LLMJudge` retries
with the one policy of :mod:`rewardkit.verify.http`.  Clients with
``accepts_timeout = True`` also take ``timeout=`` (seconds): the judge passes the
time left before its deadline, so a hung server cannot hold a call past it.

Example:
    >>> c = OpenAIChatClient("http://127.0.0.1:9/v1", timeout=0.2)
    >>> c.url
    'http://127.0.0.1:9/v1/chat/completions'
    >>> as_chat_client(lambda messages: "YES").complete("m", [{"role": "user", "content": "hi"}])
    'YES'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from rewardkit.core import ConfigError

from ..http import (ConnectionFailed, HTTPClient, HTTPStatusError, ProtocolError, RequestError, RequestTimeout,
                    parse_retry_after)

__all__ = [
    "JudgeError",
    "JudgeHTTPError",
    "JudgeProtocolError",
    "JudgeTimeout",
    "OpenAIChatClient",
    "SDKChatClient",
    "as_chat_client",
]

#: the judge's names for the :mod:`rewardkit.verify.http` error family
JudgeError = RequestError
JudgeHTTPError = HTTPStatusError
JudgeTimeout = RequestTimeout
JudgeProtocolError = ProtocolError


class OpenAIChatClient:
    """OpenAI-compatible chat client: ``POST {base_url}/chat/completions`` through :mod:`rewardkit.verify.http`.

    ``base_url`` is the API root, e.g. ``http://127.0.0.1:8000/v1`` (vLLM, SGLang,
    llama.cpp, Ollama and OpenAI all serve this route).  The key, if any, is sent as
    ``Authorization: Bearer``; pass ``api_key`` directly or name an environment
    variable with ``api_key_env`` (configs never contain keys).  ``timeout`` caps each
    attempt; picklable (the key from ``api_key_env`` is re-read on the other side).

    Example:
        >>> OpenAIChatClient("localhost:8000")
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: base_url: got 'localhost:8000'; expected an http(s) URL such as http://127.0.0.1:8000/v1
    """

    accepts_timeout = True

    def __init__(self, base_url: str, api_key: str | None = None, *, api_key_env: str | None = None,
                 timeout: float = 30.0, headers: Mapping[str, str] | None = None):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError("base_url", f"got {base_url!r}", "an http(s) URL such as http://127.0.0.1:8000/v1")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self._init: dict[str, Any] = {"api_key": api_key, "api_key_env": api_key_env, "timeout": timeout,
                      "headers": dict(headers or {})}
        self._connect()

    def _connect(self) -> None:
        api_key, env = self._init["api_key"], self._init["api_key_env"]
        if api_key is None and env:
            api_key = os.environ.get(env) or None
        h = dict(self._init["headers"])
        if api_key:
            h["Authorization"] = f"Bearer {api_key}"
        self.http = HTTPClient(timeout=self._init["timeout"], headers=h)

    def __getstate__(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "url": self.url, "_init": self._init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connect()

    def complete(self, model: str, messages: list[dict[str, str]], *, timeout: float | None = None,
                 **params: Any) -> str:
        """One chat completion (one attempt); the reply's text."""
        reply = self.http.post_json(self.url, {"model": model, "messages": messages, **params}, timeout=timeout)
        try:
            return str(reply["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise ProtocolError(f"not a chat completion: {str(reply)[:200]}") from None

    def close(self) -> None:
        """Nothing to release: connections are per thread and close with it."""


class SDKChatClient:
    """Adapter for any object shaped like the openai SDK (``client.chat.completions.create``).

    Exceptions carrying ``status_code`` (openai's ``APIStatusError``) map to
    :class:`JudgeHTTPError`; ones named ``*Timeout*`` to :class:`JudgeTimeout` and
    ``*Connection*`` to :class:`~rewardkit.verify.http.ConnectionFailed`.  The judge's
    time left is passed as the SDK's per-request ``timeout``.
    """

    accepts_timeout = True

    def __init__(self, sdk_client: Any):
        self.sdk = sdk_client

    def complete(self, model: str, messages: list[dict[str, str]], *, timeout: float | None = None,
                 **params: Any) -> str:
        if timeout is not None:
            params["timeout"] = timeout
        try:
            resp = self.sdk.chat.completions.create(model=model, messages=messages, **params)
        except RequestError:
            raise
        except Exception as e:
            status = getattr(e, "status_code", None)
            if isinstance(status, int):
                headers = getattr(getattr(e, "response", None), "headers", None) or {}
                raise HTTPStatusError(status, str(e), parse_retry_after(headers.get("retry-after"))) from None
            name = type(e).__name__.lower()
            if "timeout" in name:
                raise RequestTimeout(f"{type(e).__name__}: {e}") from None
            if "connection" in name:
                raise ConnectionFailed(f"{type(e).__name__}: {e}") from None
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
