"""A local HTTP server speaking the OpenAI chat-completions protocol, for judge tests.

This is the one allowed stub: the remote LLM.  Everything else (httpx client,
retries, timeouts, caching, rate limits, the rewardkit server) runs for real over
loopback.  The "model" is deterministic:

* ``mode="match"``: reads REFERENCE ANSWER / RESPONSE from the user message and
  answers YES iff the reference appears in the response as a whole word;
* ``mode="gullible"``: always YES (a judge fooled by master keys);
* ``mode="score"``: ``Score: <10 if match else 2>``;
* ``mode="garbage"``: an unparsable reply.

``script`` is a queue of per-request actions consumed in order:
``("status", code, retry_after)`` answers with an error, ``("sleep", seconds)``
delays the reply, ``("reply", text)`` answers ``text`` as the model, ``("trickle",
seconds)`` sends the headers and then one body byte every ``seconds``, ``("drop",)``
closes the connection without a reply; anything else falls through to the model.
Subclasses may override :meth:`FakeOpenAI.reply`, which also receives the request ``body``
(e.g. its ``seed``), to script another model.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_SECTION = re.compile(r"REFERENCE ANSWER:\n(.*?)\n\nRESPONSE:\n(.*?)\n\n(?:Reply|$)", re.S)


def _match(user: str) -> bool:
    m = _SECTION.search(user)
    if not m:
        return False
    ref, resp = m.group(1).strip().lower().rstrip("."), m.group(2).lower()
    return bool(ref) and re.search(r"(?<![\w.])" + re.escape(ref) + r"(?![\w])", resp) is not None


class FakeOpenAI:
    def __init__(self, mode: str = "match", style: str = "plain", api_key: str | None = None):
        self.mode = mode
        self.style = style
        self.api_key = api_key
        self.script: list[tuple] = []
        self.hits = 0
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, user: str, model: str, scripted: str | None = None, body: dict | None = None) -> dict:
        ok = _match(user)
        if scripted is not None:
            text = scripted
        elif self.mode == "gullible":
            text = "YES"
        elif self.mode == "score":
            text = f"Score: {10 if ok else 2}"
        elif self.mode == "garbage":
            text = "I am not sure what to say."
        elif self.style == "verbose":
            text = (f"<think>compare the two</think>The response {'matches' if ok else 'does not match'} "
                    f"the reference.\nVerdict: **{'Yes' if ok else 'No'}**")
        else:
            text = "YES" if ok else "NO"
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": len(user) // 4, "completion_tokens": 1, "total_tokens": len(user) // 4 + 1}}

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    """The fake API's request handler; a subclass per server sets ``fake``."""

    fake: FakeOpenAI

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms delayed-ACK stalls

    def log_message(self, *a):  # quiet
        pass

    def _leave(self) -> None:
        """Leave the in-flight count *before* the reply goes out: a client that sends its next
        request on receipt must not see this one still counted."""
        if getattr(self, "_counted", False):
            self._counted = False
            with self.fake.lock:
                self.fake.in_flight -= 1

    def _send(self, code: int, obj: dict, headers: dict | None = None) -> None:
        self._leave()
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _trickle(self, obj: dict, every: float) -> None:
        self._leave()
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(every)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(n)
        with self.fake.lock:
            self.fake.hits += 1
            self.fake.in_flight += 1
            self.fake.max_in_flight = max(self.fake.max_in_flight, self.fake.in_flight)
            action = self.fake.script.pop(0) if self.fake.script else ("model",)
        self._counted = True
        try:
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "not found"}})
            if self.fake.api_key and self.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
                return self._send(401, {"error": {"message": "bad key"}})
            try:
                body = json.loads(raw)
                messages = body["messages"]
                body["model"]
            except (ValueError, KeyError, TypeError):
                return self._send(400, {"error": {"message": "need model and messages"}})
            with self.fake.lock:
                self.fake.requests.append(body)
            if action[0] == "status":
                hdr = {"Retry-After": str(action[2])} if len(action) > 2 and action[2] is not None else {}
                return self._send(action[1], {"error": {"message": "scripted"}}, hdr)
            if action[0] == "sleep":
                time.sleep(action[1])
            if action[0] == "drop":
                self.close_connection = True
                return None
            user = [m["content"] for m in messages if m.get("role") == "user"][-1]
            out = self.fake.reply(user, body["model"], action[1] if action[0] == "reply" else None, body=body)
            if action[0] == "trickle":
                return self._trickle(out, action[1])
            self._send(200, out)
        finally:
            self._leave()
