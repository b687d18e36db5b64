"""`rewardkit score` and its library: per-row fields, bad rows, order, workers, resume after a kill."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rewardkit.core import ComposedReward, FunctionTerm, SampleBatch, build_reward
from rewardkit.core.errors import OutputError
from rewardkit.runner.score import ColumnMap, MalformedRow, parts_dir, score_columns, score_file, score_rows

MATH = {"terms": [{"type": "math_answer", "name": "correct"},
                  {"type": "think_answer_format", "name": "format", "weight": 0.2}]}


def _rows(n, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        a, b = (int(x) for x in rng.integers(1, 99, 2))
        guess = a + b + int(rng.integers(0, 2))
        text = f"<think>add</think><answer>\\boxed{{{guess}}}</answer>" if i % 4 else f"it is {guess}"
        rows.append({"id": i, "prompt": f"{a}+{b}?", "response": text, "gold": str(a + b)})
    return rows


def _write_jsonl(path, rows, extra_lines=()):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def _scores(table):
    return table.drop_columns(["rk_latency_ms"])


def test_score_rows_equals_the_composed_reward_row_by_row():
    reward = build_reward(MATH)
    rows = _rows(40)
    cmap = ColumnMap.parse(["completion=response", "answer=gold"])
    got = score_rows(reward, rows, columns=cmap)
    batch = SampleBatch([r["prompt"] for r in rows], [r["response"] for r in rows],
                        {"answer": [r["gold"] for r in rows]})
    want = reward.evaluate(batch)
    assert [g["rk_total"] for g in got] == pytest.approx(want.total.tolist())
    assert [g["rk_term_correct"] for g in got] == pytest.approx(want.terms["correct"].tolist())
    assert {g["rk_term_correct"] for g in got} == {0.0, 1.0} and {g["rk_term_format"] for g in got} == {0.0, 1.0}
    assert all(g["rk_latency_ms"] > 0 for g in got)
    assert list(got[0]) == score_columns(reward)


def _picky(batch):
    out = []
    for c in batch.completion_texts():
        if c == "boom":
            raise ZeroDivisionError("picky term cannot score 'boom'")
        out.append(float(len(c)))
    return out


def test_bad_rows_get_the_fail_value_and_an_error_type_and_do_not_stop_the_others():
    reward = ComposedReward([FunctionTerm("length", _picky)])
    rows = [{"completion": "ab"}, {"completion": "boom"}, {"text": "no completion"}, {"completion": 3},
            MalformedRow("line 5: not valid JSON"), {"completion": [{"role": "assistant", "content": "abc"}]}]
    got = score_rows(reward, rows, fail_value=-2.0)
    assert [g["rk_total"] for g in got] == [2.0, -2.0, -2.0, -2.0, -2.0, 3.0]
    assert [g["rk_error"] for g in got] == [None, "ZeroDivisionError", "missing_column", "bad_type", "malformed_row",
                                            None]
    assert got[1]["rk_term_length"] is None and "boom" in got[1]["rk_error_detail"]
    assert got[2]["rk_error_detail"].startswith("completion: missing")
    assert "line 5" in got[4]["rk_error_detail"]


def test_column_map_errors_name_the_flag():
    with pytest.raises(Exception, match="--map: got 'completion'"):
        ColumnMap.parse(["completion"])
    with pytest.raises(Exception, match="--map answer: given twice"):
        ColumnMap.parse(["answer=a", "answer=b"])


def test_score_file_two_workers_equals_in_process_keeps_order_and_every_column(tmp_path):
    rows = _rows(300)
    src = _write_jsonl(tmp_path / "in.jsonl", rows, extra_lines=["{broken", "[1, 2]"])
    cmap = ColumnMap.parse(["completion=response", "answer=gold"])
    a = score_file(MATH, src, tmp_path / "a.parquet", workers=0, columns=cmap, chunk_rows=64)
    seen = []
    b = score_file(MATH, src, tmp_path / "b.parquet", workers=2, columns=cmap, chunk_rows=64,
                   progress=lambda done, total: seen.append((done, total)))
    ta, tb = pq.read_table(a.output), pq.read_table(b.output)
    assert a.rows == b.rows == 302 and b.chunks == 5 and b.workers == 2 and b.error_rows == a.error_rows
    assert _scores(ta).equals(_scores(tb))
    assert tb.column("id").to_pylist()[:300] == list(range(300))            # input order
    assert tb.column_names[:4] == ["id", "prompt", "response", "gold"]      # every input column first
    assert tb.column("rk_error").to_pylist()[300:] == ["malformed_row", "malformed_row"]
    assert seen[-1] == (302, 302) and all(d <= t for d, t in seen)       # the bar never passes its total
    assert not parts_dir(b.output).exists()


def test_parquet_input_keeps_its_types(tmp_path):
    rows = _rows(50)
    table = pa.Table.from_pylist(rows).append_column("weight", pa.array(np.arange(50, dtype=np.float32)))
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=7)    # row groups do not align with chunks
    s = score_file(MATH, tmp_path / "in.parquet", tmp_path / "out.parquet", workers=0, chunk_rows=16,
                   columns=ColumnMap.parse(["completion=response", "answer=gold"]))
    out = pq.read_table(s.output)
    assert s.chunks == 4 and out.num_rows == 50 and out.schema.field("weight").type == pa.float32()
    assert out.column("id").to_pylist() == list(range(50))
    want = score_rows(build_reward(MATH), rows, columns=ColumnMap.parse(["completion=response", "answer=gold"]))
    assert out.column("rk_total").to_pylist() == pytest.approx([w["rk_total"] for w in want])


class _Stop(Exception):
    pass


def test_an_interrupted_job_resumes_from_its_finished_chunks(tmp_path):
    src = _write_jsonl(tmp_path / "in.jsonl", _rows(200))
    cmap = ColumnMap.parse(["completion=response", "answer=gold"])
    out = tmp_path / "out.parquet"

    def stop_after_three_chunks(done, total):
        if done >= 60:
            raise _Stop

    with pytest.raises(_Stop):
        score_file(MATH, src, out, workers=0, columns=cmap, chunk_rows=20, progress=stop_after_three_chunks)
    assert not out.exists() and len(list(parts_dir(out).glob("chunk-*.parquet"))) == 3
    with pytest.raises(OutputError, match="holds chunks of a different job"):
        score_file(MATH, src, out, workers=0, columns=cmap, chunk_rows=10)
    resumed = score_file(MATH, src, out, workers=0, columns=cmap, chunk_rows=20)
    assert resumed.resumed_chunks == 3 and resumed.scored_chunks == 7
    fresh = score_file(MATH, src, tmp_path / "fresh.parquet", workers=0, columns=cmap, chunk_rows=20)
    assert _scores(pq.read_table(out)).equals(_scores(pq.read_table(fresh.output)))


def test_a_killed_cli_run_loses_only_its_in_flight_chunks(tmp_path):
    src = _write_jsonl(tmp_path / "in.jsonl", _rows(6000))
    cfg = tmp_path / "reward.yaml"
    cfg.write_text(json.dumps({"reward": MATH}))
    out = tmp_path / "out.parquet"
    cmd = [sys.executable, "-m", "rewardkit.cli.main", "score", "--config", str(cfg), "--input", str(src),
           "--output", str(out), "--map", "completion=response", "--map", "answer=gold", "--workers", "1",
           "--chunk-rows", "50", "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(parts_dir(out).glob("chunk-*.parquet"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = len(list(parts_dir(out).glob("chunk-*.parquet")))
    assert 2 <= done_before < 120 and not out.exists()
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done_before} resumed" in rerun.stdout
    table = pq.read_table(out)
    assert table.num_rows == 6000 and table.column("id").to_pylist() == list(range(6000))
    want = score_rows(build_reward(MATH), _rows(6000)[::500], columns=ColumnMap.parse(["completion=response",
                                                                                        "answer=gold"]))
    assert table.column("rk_total").to_pylist()[::500] == pytest.approx([w["rk_total"] for w in want])


@pytest.mark.parametrize("args, needle", [
    (["--input", "missing.jsonl"], "error: --input: missing.jsonl: not a file"),
    (["--map", "completion"], "error: --map: got 'completion'"),
    (["--output", "out.csv"], "error: --output: out.csv: not a .parquet file"),
    (["--workers", "-1"], "error: --workers: got -1"),
])
def test_cli_bad_arguments_are_one_line(tmp_path, args, needle):
    _write_jsonl(tmp_path / "in.jsonl", _rows(3))
    (tmp_path / "reward.yaml").write_text(json.dumps({"reward": MATH}))
    base = {"--config": "reward.yaml", "--input": "in.jsonl", "--output": "out.parquet"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [x for kv in base.items() for x in kv]
    r = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "score", *argv], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 2 and r.stderr.startswith(needle) and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.ray
def test_the_ray_backend_writes_what_the_local_one_writes(tmp_path, ray_local):
    src = _write_jsonl(tmp_path / "in.jsonl", _rows(120), extra_lines=["{broken"])
    cmap = ColumnMap.parse(["completion=response", "answer=gold"])
    local = score_file(MATH, src, tmp_path / "local.parquet", workers=1, columns=cmap, chunk_rows=25)
    on_ray = score_file(MATH, src, tmp_path / "ray.parquet", backend="ray", workers=2, columns=cmap, chunk_rows=25)
    assert on_ray.backend == "ray" and on_ray.workers == 2 and on_ray.chunks == 5
    assert _scores(pq.read_table(on_ray.output)).equals(_scores(pq.read_table(local.output)))
    assert ray_local.is_initialized()                   # a cluster it did not start is left running


def test_the_scaling_bench_runs_small():
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "runner" / "score_scaling.py"
    r = subprocess.run([sys.executable, str(bench), "--rows", "30", "--repeats", "1", "--backends", "local1",
                        "--chunk-rows", "10"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("load average") and "| local | 1 |" in r.stdout
