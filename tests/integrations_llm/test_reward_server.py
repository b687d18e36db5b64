"""`rewardkit serve` over real HTTP on loopback: OpenRLHF /get_reward, /v1/reward, auth, limits, errors.

The endpoint tests run on both scoring backends (``make_app``): the local worker pool and Ray Serve replicas.
"""

import functools
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from fake_openai import FakeOpenAI
from rewardkit.core import ComposedReward, ConfigError, FunctionTerm, load_reward
from rewardkit.integrations.openrlhf import as_openrlhf_reward_func
from rewardkit.integrations.server import BackgroundServer, create_app
import rewardkit.verify.gate
import rewardkit.verify.judge  # noqa: F401  (registers llm_judge)

QUESTION = "What is 6 * 7?"


def write_config(tmp_path, judge_url):
    cfg = tmp_path / "reward.yaml"
    cfg.write_text(f"""reward:
  name: total
  terms:
    - type: content_gate
      name: gate
      weight: 0.0
    - type: llm_judge
      name: judge
      params: {{base_url: "{judge_url}", model: fake-judge, max_retries: 1, backoff: 0.01}}
    - type: constant
      name: format_bonus
      weight: 0.1
      params: {{value: 1.0}}
      gate: {{"on": gate, threshold: 1.0}}  # quoted: YAML 1.1 reads a bare on as true
""")
    return cfg


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.ray)])
def make_app(request):
    """``create_app`` on each scoring backend: the local worker pool, and Ray Serve replicas (a local Ray)."""
    if request.param == "ray":
        request.getfixturevalue("ray_serve")
    return functools.partial(create_app, backend=request.param)


@pytest.fixture()
def judge_server():
    with FakeOpenAI(style="verbose") as fake:
        yield fake


def test_get_reward_matches_the_in_process_openrlhf_function(tmp_path, judge_server, make_app):
    reward = load_reward(write_config(tmp_path, judge_server.base_url))
    prompts = [f"<|user|>{QUESTION}<|assistant|>"] * 4
    responses = ["6*7 = 42", "It is 41.", "Thought process:", "The answer is \\boxed{42}"]
    body = {"query": [p + r + "<|im_end|>" for p, r in zip(prompts, responses, strict=True)], "prompts": prompts,
            "labels": ["42"] * 4}
    with BackgroundServer(make_app(reward)) as srv:
        got = httpx.post(srv.url + "/get_reward", json=body, timeout=30).json()
        assert got["rewards"] == pytest.approx([1.1, 0.1, 0.0, 1.1])
        assert got["scores"] == pytest.approx([1.0, 0.1, 0.0, 1.0])
        assert got["extra_logs"]["judge"] == [1.0, 0.0, 0.0, 1.0]
        assert judge_server.hits == 3                     # the master key never reached the judge
        # old OpenRLHF clients send only {"query": [...]}: a term that needs labels says so (422)
        only_query = httpx.post(srv.url + "/get_reward", json={"query": ["hello 42"]}, timeout=30)
        assert only_query.status_code == 422 and only_query.json()["error"].startswith("columns.answer")
    in_process = as_openrlhf_reward_func(load_reward(write_config(tmp_path, judge_server.base_url)),
                                         as_tensors=False)(body["query"], body["prompts"], body["labels"])
    assert in_process["rewards"] == pytest.approx(got["rewards"])


def test_native_batch_endpoint_with_chat_messages_and_none_terms(tmp_path, judge_server, make_app):
    reward = load_reward(write_config(tmp_path, judge_server.base_url))
    with BackgroundServer(make_app(reward)) as srv:
        body = {"prompts": [[{"role": "user", "content": QUESTION}]] * 3,
                "completions": [[{"role": "assistant", "content": "42"}], "43", "."],
                "columns": {"answer": ["42", "42", None]}}
        got = httpx.post(srv.url + "/v1/reward", json=body, timeout=30).json()
        assert got["rewards"] == pytest.approx([1.1, 0.1, 0.0])
        assert got["terms"]["judge"] == [1.0, 0.0, None]   # no reference: the judge term does not apply
        assert got["errors"]["gate"] == [None, None, "punctuation_only"]
        assert got["weights"] == {"gate": 0.0, "judge": 1.0, "format_bonus": 0.1}
        health = httpx.get(srv.url + "/health").json()
        assert health == {"status": "ok", "reward": "total", "terms": ["gate", "judge", "format_bonus"]}


def test_bearer_token_size_limit_and_field_errors():
    reward = ComposedReward([FunctionTerm("length", lambda b: [len(c) for c in b.completion_texts()])])
    # workers=0: the in-process path (a lambda cannot be sent to worker processes)
    with BackgroundServer(create_app(reward, token="s3cret", max_body_bytes=4096, workers=0)) as srv:
        ok = {"Authorization": "Bearer s3cret"}
        body = {"prompts": ["p"], "completions": ["abc"]}
        assert httpx.post(srv.url + "/v1/reward", json=body).status_code == 401
        assert httpx.post(srv.url + "/v1/reward", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.post(srv.url + "/get_reward", json={"query": ["x"]}).status_code == 401
        assert httpx.get(srv.url + "/health").status_code == 200
        assert httpx.post(srv.url + "/v1/reward", json=body, headers=ok).json()["rewards"] == [3.0]

        big = {"prompts": ["p"] * 600, "completions": ["abcdefgh"] * 600}
        r = httpx.post(srv.url + "/v1/reward", json=big, headers=ok)
        assert r.status_code == 413 and "4096" in r.json()["error"]

        def chunks():                               # no Content-Length: the limit counts received bytes
            yield b'{"prompts": ["p"], "completions": ["'
            for _ in range(100):
                yield b"x" * 100
            yield b'"]}'
        r = httpx.post(srv.url + "/v1/reward", content=chunks(), headers={**ok, "Content-Type": "application/json"})
        assert r.status_code == 413

        cases = [
            ({"query": ["a", 3]}, "/get_reward", "query[1]"),
            ({"prompts": ["p"], "completions": [7]}, "/v1/reward", "completions[0]"),
            ({"prompts": ["p", "q"], "completions": ["a"]}, "/v1/reward", "prompts"),
            ({"prompts": ["p"], "completions": ["a"], "columns": {"answer": ["1", "2"]}}, "/v1/reward",
             "columns.answer"),
            ({"prompts": ["p"], "completion": ["a"]}, "/v1/reward", "completions"),
            ({"query": ["a", "b"], "labels": ["x"]}, "/get_reward", "labels"),
        ]
        for payload, path, field in cases:
            r = httpx.post(srv.url + path, json=payload, headers=ok)
            assert r.status_code == 422, (payload, r.text)
            assert r.json()["error"].startswith(field), (field, r.json())
        r = httpx.post(srv.url + "/v1/reward", content=b"{not json", headers={**ok, "Content-Type": "application/json"})
        assert r.status_code == 422


def test_missing_reference_column_is_a_422_naming_it(judge_server, tmp_path, make_app):
    reward = load_reward(write_config(tmp_path, judge_server.base_url))
    with BackgroundServer(make_app(reward)) as srv:
        r = httpx.post(srv.url + "/v1/reward", json={"prompts": ["q"], "completions": ["42"]}, timeout=30)
        assert r.status_code == 422 and r.json()["error"].startswith("columns.answer")


def test_math_answer_term_over_http_if_available(make_app):
    pytest.importorskip("rewardkit.verify.math")
    from rewardkit.core import build_reward

    spec = {"terms": [{"type": "math_answer", "name": "math"}, {"type": "content_gate", "name": "gate", "weight": 0.0}]}
    # a config mapping: each worker builds its own math verifier (with its own sympy subprocess)
    with BackgroundServer(make_app(spec, workers=1)) as srv:
        body = {"query": ["Q: 1/2 + 1/4? A: \\boxed{\\frac{3}{4}}", "Q: 1/2 + 1/4? A: \\boxed{0.5}"],
                "prompts": ["Q: 1/2 + 1/4? A: "] * 2, "labels": ["0.75", "0.75"]}
        got = httpx.post(srv.url + "/get_reward", json=body, timeout=60).json()
        assert got["rewards"] == [1.0, 0.0]
        # label-free terms work with the query-only request of old OpenRLHF clients
    gate_only = build_reward({"terms": [{"type": "content_gate", "name": "gate"}]})
    with BackgroundServer(make_app(gate_only)) as srv:
        got = httpx.post(srv.url + "/get_reward", json={"query": ["Q: hi A: 42", "Q: hi A: :"]}).json()
        assert got["rewards"] == [1.0, 0.0]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("backend", [[], pytest.param(["--backend", "ray", "--replicas", "1"], marks=pytest.mark.ray)],
                         ids=["local", "ray"])
def test_rewardkit_serve_cli_subprocess(tmp_path, judge_server, backend):
    cfg = write_config(tmp_path, judge_server.base_url)
    port = _free_port()
    env = {**os.environ, "REWARDKIT_SERVE_TOKEN": "tok", "RAY_AUTH_MODE": "disabled"}
    proc = subprocess.Popen([sys.executable, "-m", "rewardkit.cli.main", "serve", "--config", str(cfg),
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *backend],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + (180 if backend else 30)
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server exited" if proc.poll() else "timeout"
            time.sleep(0.1)
        body = {"query": ["Q 42"], "prompts": ["Q "], "labels": ["42"]}
        assert httpx.post(url + "/get_reward", json=body).status_code == 401
        got = httpx.post(url + "/get_reward", json=body, headers={"Authorization": "Bearer tok"}).json()
        assert got["rewards"] == pytest.approx([1.1])
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert "judge (w=1)" in out and "bearer token required" in out
    assert ("1 Ray Serve replica" in out) == bool(backend)


def test_serve_cli_rejects_a_bad_config(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("reward:\n  terms:\n    - {type: content_gate, weight: heavy}\n")
    r = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "serve", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "reward.terms[0].weight" in r.stderr


@pytest.mark.parametrize("flag, value, field", [("--workers", "-1", "workers"), ("--max-seconds", "0", "max_seconds"),
                                                ("--max-items", "0", "max_items")])
def test_serve_cli_rejects_bad_caps(tmp_path, flag, value, field):
    cfg = tmp_path / "ok.yaml"
    cfg.write_text("reward:\n  terms:\n    - {type: content_gate}\n")
    r = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "serve", "--config", str(cfg), flag, value],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {field}: got"), r.stderr


# --- worker pool, caps, auth before parsing, docs, body timeout (issue #10, item 6) ---------------------------

def _length(batch):
    """Module-level (so the workers can unpickle it): completion length; 'sleep:<s>' sleeps s seconds first."""
    out = []
    for c in batch.completion_texts():
        if c.startswith("spawn:"):                 # a helper process in its own session, as the math verifier has
            helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
            with open(c.split(":", 1)[1], "w") as f:
                f.write(str(helper.pid))
            c = "sleep:60"
        if c.startswith("sleep:"):
            time.sleep(float(c.split(":")[1]))
        out.append(float(len(c)))
    return out


def _length_reward():
    return ComposedReward([FunctionTerm("length", _length)])


def test_lambda_reward_needs_a_config_or_workers_0():
    reward = ComposedReward([FunctionTerm("length", lambda b: [0.0] * len(b))])
    with pytest.raises(ConfigError, match="reward: cannot be sent to worker processes"):
        create_app(reward, workers=1)


def test_item_and_time_caps_and_the_late_worker_is_replaced(make_app):
    app = make_app(_length_reward(), workers=1, max_items=50, max_seconds=1.5)
    with BackgroundServer(app) as srv:
        r = httpx.post(srv.url + "/get_reward", json={"query": ["x"] * 51}, timeout=30)
        assert r.status_code == 413 and r.json()["type"] == "too_many_items" and r.json()["error"].startswith("items")
        r = httpx.post(srv.url + "/v1/reward", json={"prompts": ["p"] * 60, "completions": ["c"] * 60}, timeout=30)
        assert r.status_code == 413
        r = httpx.post(srv.url + "/get_reward", json={"query": ["x"] * 50}, timeout=30)
        assert r.json()["rewards"] == [1.0] * 50
        pid = _worker_pids(app)
        t0 = time.monotonic()
        r = httpx.post(srv.url + "/v1/reward", json={"prompts": ["p"], "completions": ["sleep:60"]}, timeout=30)
        assert r.status_code == 504 and r.json()["type"] == "timeout", r.text
        assert time.monotonic() - t0 < 5
        # the late worker was killed; a fresh one serves the next request.  While the replacement
        # interpreter starts (seconds on a loaded machine) the server answers 503 busy, which clients retry
        deadline = time.monotonic() + 60
        while True:
            r = httpx.post(srv.url + "/v1/reward", json={"prompts": ["p"], "completions": ["abcd"]}, timeout=60)
            if r.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["rewards"] == [4.0], r.text
        assert _worker_pids(app) != pid and app.state.pool.timeouts == 1


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"   # a zombie no longer runs
    except FileNotFoundError:
        return False


def test_a_late_worker_is_killed_with_the_helper_processes_it_started(tmp_path, make_app):
    app = make_app(_length_reward(), workers=1, max_seconds=1.5)
    with BackgroundServer(app) as srv:
        marker = tmp_path / "helper.pid"
        r = httpx.post(srv.url + "/v1/reward", json={"prompts": ["p"], "completions": [f"spawn:{marker}"]}, timeout=30)
        assert r.status_code == 504
        helper = int(marker.read_text())
        deadline = time.monotonic() + 5
        while _alive(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(helper)                    # no orphan left burning a CPU


def _worker_pids(app):
    return app.state.pool.worker_pids()


def test_a_slow_request_does_not_delay_a_concurrent_normal_one(make_app):
    import threading

    app = make_app(_length_reward(), workers=2, max_seconds=30)
    with BackgroundServer(app) as srv:
        httpx.post(srv.url + "/get_reward", json={"query": ["warm"]}, timeout=30)
        slow: dict = {}

        def post_slow():
            t0 = time.monotonic()
            slow["r"] = httpx.post(srv.url + "/v1/reward", json={"prompts": ["p"], "completions": ["sleep:6"]},
                                   timeout=30)
            slow["dt"] = time.monotonic() - t0

        th = threading.Thread(target=post_slow)
        th.start()
        time.sleep(0.5)                              # the slow request now holds one worker
        for _ in range(3):
            t0 = time.monotonic()
            r = httpx.post(srv.url + "/get_reward", json={"query": ["abc"]}, timeout=30)
            assert r.status_code == 200 and r.json()["rewards"] == [3.0]
            assert time.monotonic() - t0 < 2.0       # with one global lock this waited for the 6 s request
        assert "r" not in slow                       # ... which is still running
        th.join(timeout=30)
        assert slow["r"].status_code == 200 and slow["dt"] >= 6


def test_auth_is_checked_before_the_body_is_read_and_docs_are_off_or_behind_the_token(make_app):
    ok = {"Authorization": "Bearer tok"}
    with BackgroundServer(make_app(_length_reward(), token="tok", workers=1, max_body_bytes=1000)) as srv:
        bad_json = {"Content-Type": "application/json"}
        r = httpx.post(srv.url + "/v1/reward", content=b"{not json", headers=bad_json)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = httpx.post(srv.url + "/v1/reward", content=b"{not json", headers={**bad_json, **ok})
        assert r.status_code == 422 and r.json()["type"] == "invalid_json" and r.json()["error"].startswith("body")
        assert httpx.post(srv.url + "/get_reward", content=b"x" * 5000, headers=bad_json).status_code == 401
        assert httpx.post(srv.url + "/get_reward", content=b"x" * 5000, headers={**bad_json, **ok}).status_code == 413
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert httpx.get(srv.url + path).status_code == 401
            assert httpx.get(srv.url + path, headers=ok).status_code == 404    # off by default
    with BackgroundServer(make_app(_length_reward(), token="tok", workers=1, docs=True)) as srv:
        assert httpx.get(srv.url + "/openapi.json").status_code == 401
        spec = httpx.get(srv.url + "/openapi.json", headers=ok).json()
        assert "query" in str(spec["paths"]["/get_reward"]["post"]["requestBody"])
        assert httpx.get(srv.url + "/docs", headers=ok).status_code == 200


def test_a_client_that_stalls_mid_body_is_dropped(make_app):
    with BackgroundServer(make_app(_length_reward(), workers=1, body_timeout=1.0)) as srv:
        with socket.create_connection((srv.host, srv.port), timeout=10) as s:
            s.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"query\": [")
            t0 = time.monotonic()
            data = b""
            while time.monotonic() - t0 < 8:         # bounded: the server must answer and close
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            dt = time.monotonic() - t0
        assert data.startswith(b"HTTP/1.1 408"), data[:200]
        assert b"body_timeout" in data and 0.9 < dt < 5
        # the server still serves others
        assert httpx.post(srv.url + "/get_reward", json={"query": ["ab"]}, timeout=30).json()["rewards"] == [2.0]
