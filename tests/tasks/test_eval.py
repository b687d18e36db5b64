"""``rewardkit eval`` end to end against a scripted OpenAI-compatible server on loopback.

The server (a :class:`FakeOpenAI` of the judge tests) answers the built-in math task: request ``seed``
``s`` of the problem ``a op b`` is right iff ``(a + b + s) % 3 == 0``, and with ``s == 3`` it drops the
think/answer format.  The expected term means and pass@k are computed here from that rule, independently.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
from math import comb

import numpy as np
import pytest

from fake_openai import FakeOpenAI
from rewardkit.core import ConfigError
from rewardkit.runner.evaluate import evaluate
from rewardkit.tasks import load_task

SRC = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "src")
_Q = re.compile(r"What is (\d+) ([-+*]) (\d+)\?")


def solve(a, op, b):
    return a + b if op == "+" else a - b if op == "-" else a * b


def right(a, b, seed):
    return (a + b + seed) % 3 == 0


class ScriptedMath(FakeOpenAI):
    def reply(self, user, model, scripted=None, body=None):
        if scripted is None:
            m = _Q.search(user)
            a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
            seed = int(body.get("seed", 0))
            value = solve(a, op, b) + (0 if right(a, b, seed) else 1)
            scripted = f"The answer is {value}." if seed == 3 else f"<think>{a} {op} {b}</think><answer>{value}</answer>"
        return super().reply(user, model, scripted, body)


def expected(rows, n):
    correct, fmt, cs = [], [], []
    for r in rows:
        a, _, b = _Q.search(r["question"]).groups()
        ok = [right(int(a), int(b), s) for s in range(n)]
        correct.append(np.mean(ok))
        fmt.append(np.mean([s != 3 for s in range(n)]))
        cs.append(sum(ok))
    passk = {k: np.mean([1 - comb(n - c, k) / comb(n, k) for c in cs]) for k in (1, 2, 4) if k <= n}
    return float(np.mean(correct)), float(np.mean(fmt)), passk


def cli(*args, timeout=300):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(SRC), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "eval", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_eval_cli_on_builtin_defaults_then_rescoring_saved_outputs(tmp_path):
    out = tmp_path / "run"
    with ScriptedMath() as fake:
        p = cli("--task", "math", "--base-url", fake.base_url, "--model", "scripted", "-n", "4", "--out", str(out),
                "--json")
        assert p.returncode == 0, p.stderr
        assert fake.hits == 800
    s = json.loads(p.stdout)
    rows = load_task("math").rows
    corr, fmt, passk = expected(rows, 4)
    assert (s["prompts"], s["samples"], s["malformed_rows"], s["error_rate"]) == (200, 800, 0, 0.0)
    assert s["terms"]["correct"]["mean"] == pytest.approx(corr) and s["terms"]["format"]["mean"] == pytest.approx(fmt)
    assert s["terms"]["correct"]["lo"] < corr < s["terms"]["correct"]["hi"]
    assert s["total"]["mean"] == pytest.approx(corr + 0.2 * fmt)
    for k, v in passk.items():
        assert s["pass@k"][str(k)] == pytest.approx(v)
    assert set(s["latency_s"]) == {"p50", "p90", "p99"} and 0 < s["latency_s"]["p50"] <= s["latency_s"]["p99"]
    # the runner's store: one done run, one evals row per prompt, every sample
    con = sqlite3.connect(out / "results.sqlite")
    assert con.execute("SELECT status, steps FROM runs").fetchall() == [("done", 200)]
    assert con.execute("SELECT count(*), sum(episodes) FROM evals").fetchone() == (200, 800)
    assert con.execute("SELECT count(DISTINCT term) FROM term_returns").fetchone() == (2,)
    samples = con.execute("SELECT step, completion FROM samples ORDER BY step, sample").fetchall()
    con.close()
    html = (out / "report.html").read_text()
    assert all(f'id="{sec}"' in html for sec in ("summary", "passk", "reliability", "prompts", "metadata"))
    assert json.loads((out / "summary.json").read_text())["pass@k"] == s["pass@k"]

    # re-score the saved outputs, with two malformed lines in the middle
    lines = [json.dumps({"index": i, "completion": c}) for i, c in samples]
    lines[300:300] = ["{not json", json.dumps({"index": 999, "completion": "x"})]
    (tmp_path / "outputs.jsonl").write_text("\n".join(lines) + "\n")
    p2 = cli("--task", "math", "--outputs", str(tmp_path / "outputs.jsonl"), "--out", str(tmp_path / "re"), "--json")
    assert p2.returncode == 0, p2.stderr
    s2 = json.loads(p2.stdout)
    assert (s2["samples"], s2["malformed_rows"]) == (800, 2)
    assert s2["terms"] == s["terms"] and s2["pass@k"] == s["pass@k"]


def test_generation_errors_and_timeouts_are_counted_not_scored(tmp_path):
    task = load_task("math")
    with ScriptedMath() as fake:
        fake.script = [("status", 400), ("sleep", 1.5)]
        s = evaluate(task, out_dir=tmp_path, base_url=fake.base_url, model="scripted", n=2, limit=3,
                     concurrency=1, timeout=0.5, max_retries=0, progress=False, report=False)
    assert s["samples"] == 6
    assert (s["error_rate"], s["timeout_rate"]) == (pytest.approx(2 / 6, abs=1e-5), pytest.approx(1 / 6, abs=1e-5))
    assert s["terms"]["correct"]["n"] == 2  # both samples of prompt 0 failed: it has no term value, the others do
    con = sqlite3.connect(tmp_path / "results.sqlite")
    errs = [e for (e,) in con.execute("SELECT error FROM samples ORDER BY step, sample")]
    assert errs[:2] == ["generation:http_400", "generation:timeout"] and errs[2:] == [None] * 4


def test_rubric_sub_terms_are_stored_like_terms(tmp_path):
    class Judge(ScriptedMath):
        def reply(self, user, model, scripted=None, body=None):
            if scripted is None and "CRITERIA:" in user:
                scripted = f"correct: {'YES' if '<answer>' in user else 'NO'}\nclear: 2"
            return super().reply(user, model, scripted, body)

    with Judge() as fake:
        task = load_task({"name": "judged", "dataset": {"generator": "arithmetic", "params": {"n": 3}},
                          "reward": {"terms": [{"type": "rubric_judge", "name": "rubric", "params": {
                              "base_url": fake.base_url, "max_retries": 0,
                              "criteria": [{"name": "correct"}, {"name": "clear", "scale": 4}]}}]}})
        s = evaluate(task, out_dir=tmp_path, base_url=fake.base_url, model="scripted", n=4, progress=False,
                     report=False, pass_threshold=0.5)
    assert sorted(s["terms"]) == ["rubric", "rubric/clear", "rubric/correct"]
    assert s["terms"]["rubric/correct"]["mean"] == pytest.approx(0.75) and s["terms"]["rubric/clear"]["mean"] == 0.5
    con = sqlite3.connect(tmp_path / "results.sqlite")
    assert {t for (t,) in con.execute("SELECT DISTINCT term FROM term_returns")} == set(s["terms"])


def test_bad_cli_values_are_one_line_exit_2(tmp_path):
    for args, field in [(["--task", "math"], "--base-url"), (["--task", "nope"], "task"),
                        (["--task", "math", "--outputs", str(tmp_path / "none.jsonl")], "--outputs"),
                        (["--task", "math", "--outputs", "x", "-n", "0"], "-n"),
                        (["--task", "math", "--base-url", "http://127.0.0.1:9/v1", "--pass-term", "x"], "--pass-term")]:
        p = cli(*args, "--out", str(tmp_path / "o"), timeout=120)
        assert p.returncode == 2 and p.stderr.startswith(f"error: {field}:") and p.stderr.count("\n") == 1, p.stderr
    with pytest.raises(ConfigError):
        evaluate("math", out_dir=tmp_path, n=1, progress=False)


def test_reward_exceptions_and_verifier_errors_are_stored_per_sample(tmp_path):
    import rewardkit
    from rewardkit.core import ComposedReward, FunctionTerm

    def parity(completion):
        return float(int(completion) % 2)  # raises ValueError on a non-number: a verifier error, not a crash

    task = load_task("math")
    task.rows = task.rows[:2]
    task._reward = ComposedReward([rewardkit.term(parity)])
    out = tmp_path / "o.jsonl"
    out.write_text('{"index": 0, "completion": "3"}\n{"index": 0, "completion": "x"}\n'
                   '{"index": 1, "completion": "4"}\n{"index": 1, "completion": "5"}\n')
    s = evaluate(task, out_dir=tmp_path / "a", outputs=out, progress=False, report=False, pass_threshold=1.0)
    assert s["verifier_error_rate"] == {"parity": 0.25} and s["score_error_rate"] == 0.0
    assert s["terms"]["parity"]["mean"] == pytest.approx(0.5) and s["pass@k"] == {"1": 0.5, "2": 1.0}

    def broken(batch):
        raise RuntimeError("reward down")

    task._reward = ComposedReward([FunctionTerm("broken", broken)])
    s = evaluate(task, out_dir=tmp_path / "b", outputs=out, progress=False, report=False)
    assert s["score_error_rate"] == 1.0 and s["terms"] == {} and s["pass@k"] == {"1": 0.0, "2": 0.0}
    con = sqlite3.connect(tmp_path / "b" / "results.sqlite")
    assert {e for (e,) in con.execute("SELECT error FROM samples")} == {"score_error:RuntimeError"}
