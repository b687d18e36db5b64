"""The one HTTP client and retry policy of rewardkit.verify, against real servers on loopback.

Servers are started and stopped by each test; every scripted loop is bounded.
"""

import time

import pytest

from fake_openai import FakeOpenAI
from rewardkit.core import ConfigError
from rewardkit.verify.code.sandboxfusion import SandboxFusionClient, serve_local
from rewardkit.verify.http import (ConnectionFailed, DeadlineExceeded, HTTPClient, HTTPStatusError, ProtocolError,
                                   RequestTimeout, RetryPolicy, call_with_retry, parse_retry_after)
from rewardkit.verify.judge import LLMJudge, OpenAIChatClient

CHAT = {"model": "m", "messages": [{"role": "user", "content": "REFERENCE ANSWER:\n4\n\nRESPONSE:\n4\n\nReply"}]}


def post(fake, client, policy, **kw):
    return call_with_retry(lambda left: client.post_json(fake.base_url + "/chat/completions", CHAT, timeout=left),
                           policy, **kw)


def test_429_then_200_and_503_with_retry_after():
    waits = []
    with FakeOpenAI() as fake:
        fake.script = [("status", 429, None), ("status", 503, 0.2)]
        t0 = time.perf_counter()
        reply = post(fake, HTTPClient(timeout=5), RetryPolicy(max_retries=3, base_delay=0.01, jitter=0.0),
                     on_retry=lambda e, d: waits.append((e.kind, d)))
        assert reply["choices"][0]["message"]["content"] == "YES" and fake.hits == 3
        assert waits == [("http_429", 0.01), ("http_503", 0.2)]        # backoff, then the server's Retry-After
        assert time.perf_counter() - t0 >= 0.2


def test_final_4xx_is_not_retried_and_attempts_are_bounded():
    with FakeOpenAI() as fake:
        fake.script = [("status", 404, None)]
        with pytest.raises(HTTPStatusError) as e:
            post(fake, HTTPClient(timeout=5), RetryPolicy(max_retries=3, base_delay=0.01))
        assert e.value.status == 404 and fake.hits == 1
        fake.script = [("status", 500, None)] * 10
        with pytest.raises(HTTPStatusError):
            post(fake, HTTPClient(timeout=5), RetryPolicy(max_retries=2, base_delay=0.01))
        assert fake.hits == 1 + 3


def test_a_hanging_server_cannot_pass_the_deadline():
    with FakeOpenAI() as fake:
        fake.script = [("sleep", 5.0)] * 3
        t0 = time.perf_counter()
        with pytest.raises(DeadlineExceeded):
            post(fake, HTTPClient(timeout=30), RetryPolicy(max_retries=5, base_delay=0.01, deadline=0.6))
        assert 0.55 <= time.perf_counter() - t0 < 1.5


def test_a_trickling_server_cannot_pass_the_attempt_timeout():
    # one body byte every 0.1 s: a socket timeout alone would restart on every byte
    with FakeOpenAI() as fake:
        fake.script = [("trickle", 0.1)]
        t0 = time.perf_counter()
        with pytest.raises(RequestTimeout):
            HTTPClient(timeout=0.5).post_json(fake.base_url + "/chat/completions", CHAT)
        assert time.perf_counter() - t0 < 1.5
        fake.script = [("trickle", 0.1)] * 5
        t0 = time.perf_counter()
        with pytest.raises(DeadlineExceeded):
            post(fake, HTTPClient(timeout=30), RetryPolicy(max_retries=5, base_delay=0.01, deadline=0.7))
        assert time.perf_counter() - t0 < 1.7


def test_retry_after_past_the_deadline_gives_up_at_once():
    with FakeOpenAI() as fake:
        fake.script = [("status", 429, 30)]
        t0 = time.perf_counter()
        with pytest.raises(DeadlineExceeded, match="no time to retry"):
            post(fake, HTTPClient(timeout=5), RetryPolicy(max_delay=60, deadline=2.0))
        assert time.perf_counter() - t0 < 1.0 and fake.hits == 1


def test_connection_errors_dropped_replies_and_size_cap():
    with FakeOpenAI() as fake:
        port = fake.port
    with pytest.raises(ConnectionFailed):                  # the server is gone: connection refused
        HTTPClient(timeout=2).post_json(f"http://127.0.0.1:{port}/v1/chat/completions", CHAT)
    with FakeOpenAI() as fake:
        fake.script = [("drop",)]                          # closed without a reply, then served
        reply = post(fake, HTTPClient(timeout=5), RetryPolicy(max_retries=2, base_delay=0.01))
        assert reply["choices"] and fake.hits == 2
        with pytest.raises(ProtocolError, match="larger than"):
            HTTPClient(timeout=5, max_response_bytes=50).post_json(fake.base_url + "/chat/completions", CHAT)
        client = HTTPClient(timeout=5)                     # keep-alive: many calls, one connection per thread
        for _ in range(20):
            client.post_json(fake.base_url + "/chat/completions", CHAT)
        assert fake.hits == 2 + 1 + 20


def test_policy_validation_and_retry_after_dates():
    for kw, field in [({"max_retries": -1}, "max_retries"), ({"deadline": 0}, "deadline"),
                      ({"base_delay": float("nan")}, "base_delay"), ({"jitter": "x"}, "jitter")]:
        with pytest.raises(ConfigError, match=field):
            RetryPolicy(**kw)
    with pytest.raises(ConfigError, match="timeout"):
        HTTPClient(timeout=float("inf"))
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    p = RetryPolicy(base_delay=1.0, max_delay=3.0, jitter=0.5, seed=1)
    d = [p.delay(k) for k in range(4)]
    assert all(min(3.0, 2 ** k) <= x <= min(3.0, 2 ** k) * 1.5 for k, x in enumerate(d))


def test_sandboxfusion_retries_429_and_honours_retry_after():
    # a loopback front that answers 429 (with Retry-After) before proxying to the real local SandboxFusion server
    import json
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    backend = serve_local()
    state = {"hits": 0, "script": [(429, "0.2"), (503, None)]}

    class Front(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state["hits"] += 1
            if state["script"]:
                code, after = state["script"].pop(0)
                self.send_response(code)
                if after:
                    self.send_header("Retry-After", after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            with urllib.request.urlopen(urllib.request.Request(backend.url + "/run_code", data=body), timeout=60) as r:
                data = r.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    front = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    front.daemon_threads = True
    th = threading.Thread(target=front.serve_forever, daemon=True)
    th.start()
    try:
        url = f"http://127.0.0.1:{front.server_address[1]}"
        t0 = time.perf_counter()
        r = SandboxFusionClient(url, max_retries=3, retry_delay=0.01).run_code("print(6 * 7)")
        assert r["status"] == "Success" and r["run_result"]["stdout"] == "42\n" and state["hits"] == 3
        assert time.perf_counter() - t0 >= 0.2                    # waited the Retry-After of the 429
        state["script"] = [(429, None)] * 5
        r = SandboxFusionClient(url, max_retries=2, retry_delay=0.01).run_code("print(1)")
        assert r["status"] == "SandboxError" and "http_429" in r["message"]
        assert json.dumps(r)                                       # still the protocol's dict shape
    finally:
        front.shutdown()
        front.server_close()
        th.join(timeout=5)
        backend.close()


def test_judge_deadline_covers_retries_and_counts_timeouts():
    with FakeOpenAI() as fake:
        fake.script = [("sleep", 3.0)] * 4
        judge = LLMJudge(OpenAIChatClient(fake.base_url, timeout=30), model="m",
                         retry=RetryPolicy(max_retries=10, base_delay=0.01, deadline=0.5))
        t0 = time.perf_counter()
        r = judge.verify("it is 4", question="q", answer="4")
        assert r.error == "judge_error:deadline" and r.value == 0.0 and time.perf_counter() - t0 < 1.5
        s = judge.stats()
        assert (s["failures"], s["timeouts"], s["unparsable"]) == (1, 1, 0)
        fake.script = [("status", 503, None), ("status", 503, None)]
        r = judge.verify("it is 4", question="q", answer="4")
        assert r.ok and r.value == 1.0 and judge.stats()["retries"] >= 2
