import json
import urllib.request

import pytest

from rewardkit.verify.code.sandbox import SandboxLimits
from rewardkit.verify.code.sandboxfusion import SandboxFusionClient, SandboxFusionVerifier, serve_local


@pytest.fixture(scope="module")
def server():
    s = serve_local(limits=SandboxLimits(wall_seconds=20))
    yield s
    s.close()


def test_run_code_protocol_shape(server):
    c = SandboxFusionClient(server.url)
    r = c.run_code("import sys\nprint(sys.stdin.read().upper())\nprint(open('in.txt').read())", stdin="abc",
                   files={"in.txt": "file!"})
    assert r["status"] == "Success" and r["compile_result"] is None
    run = r["run_result"]
    assert run["status"] == "Finished" and run["return_code"] == 0 and run["stdout"] == "ABC\nfile!\n"
    assert set(run) == {"status", "execution_time", "return_code", "stdout", "stderr"}
    r = c.run_code("raise SystemExit(3)")
    assert r["status"] == "Failed" and r["run_result"]["return_code"] == 3
    r = c.run_code("import time\ntime.sleep(10)", run_timeout=0.5)
    assert r["status"] == "Failed" and r["run_result"]["status"] == "TimeLimitExceeded"
    assert c.run_code("x", language="cobol")["status"] == "SandboxError"


def test_raw_http_errors(server):
    req = urllib.request.Request(server.url + "/run_code", data=b"not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 422
    body = json.dumps({"code": "print(1)"}).encode()
    with urllib.request.urlopen(urllib.request.Request(server.url + "/run_code/", data=body), timeout=60) as resp:
        assert json.loads(resp.read())["run_result"]["stdout"] == "1\n"


def test_client_retries_then_reports_sandbox_error():
    c = SandboxFusionClient("http://127.0.0.1:9", max_retries=2, retry_delay=0.01)
    r = c.run_code("print(1)")
    assert r["status"] == "SandboxError" and "request failed" in r["message"]


def test_verifier_through_the_service(server):
    v = SandboxFusionVerifier(server.url)
    r = v.verify("n = int(input())\nprint(n + 1)", tests={"inputs": ["1", "2"], "outputs": ["2", "4"]})
    assert r.value == 0.5 and [t["status"] for t in r.info["tests"]] == ["pass", "wrong_answer"]
    r = v.verify("def f(x):\n    return [x, x]", tests=[{"type": "call", "fn": "f", "args": [2], "expected": [2, 2]},
                                                         "assert f(1) == [1, 2]", "assert g(1)"])
    assert [t["status"] for t in r.info["tests"]] == ["pass", "wrong_answer", "runtime_error"]
    before = server.requests
    assert SandboxFusionVerifier(server.url, mode="all_pass").verify("print(1)", tests=["assert True"]).value == 1.0
    assert server.requests == before + 1
    assert SandboxFusionVerifier("http://127.0.0.1:9", client=SandboxFusionClient(
        "http://127.0.0.1:9", max_retries=1)).verify("x=1", tests=["assert True"]).error == "api_error"
