"""`rewardkit demo --quick`: the packaged experiment runs end to end and writes its report."""

from __future__ import annotations

import sqlite3

from rewardkit.cli.demo import demo_path
from rewardkit.cli.main import main
from rewardkit.runner.spec import load_spec


def test_packaged_demo_spec_is_valid():
    spec = load_spec(demo_path())
    assert set(spec.variants) == {"sparse", "pbrs", "count"}
    assert len(spec.seeds) >= 3 and spec.parallel == 2 and spec.learner["type"] == "ppo"


def test_demo_quick(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--no-progress", "--no-tensorboard"]) == 0
    stdout = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in stdout
    assert "| sparse |" in stdout and "| pbrs |" in stdout and "| count |" in stdout
    con = sqlite3.connect(out / "results.sqlite")
    rows = con.execute("SELECT r.variant, e.step FROM evals e JOIN runs r USING (run_key) "
                       "ORDER BY r.variant, e.step").fetchall()
    assert rows == [(v, s) for v in ("count", "pbrs", "sparse") for s in (0, 1024, 2048)]
    # 8 envs x 256 steps with DoorKey-5x5's 250-step limit: every env finished an episode
    terms = dict(((v, t), x) for v, t, x in con.execute(
        "SELECT r.variant, t.term, AVG(t.value) FROM term_returns t JOIN runs r USING (run_key) "
        "GROUP BY r.variant, t.term"))
    con.close()
    assert set(terms) == {("sparse", "task"), ("pbrs", "task"), ("pbrs", "shaping"), ("count", "task"),
                          ("count", "count")}
    assert terms[("count", "count")] > 0
    assert terms[("pbrs", "shaping")] != 0.0
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "curves", "terms", "runs", "metadata"):
        assert f'id="{section}"' in html
