"""End-to-end `rewardkit run`: tabular Q-learning and a tiny PPO run, results, report, TensorBoard."""

from __future__ import annotations

import copy
import sqlite3

from rewardkit.cli.main import main
from rewardkit.runner.spec import load_spec

from _runner_helpers import CHAIN, write_spec


def _rows(db, q, *a):
    con = sqlite3.connect(db)
    try:
        return con.execute(q, a).fetchall()
    finally:
        con.close()


def test_tabular_run_report_and_rerun_skips(tmp_path, capsys):
    f = write_spec(tmp_path / "chain.yaml", CHAIN)
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out), "--no-progress"]) == 0
    stdout = capsys.readouterr().out
    assert "runs: 4 completed, 0 already done, 0 failed" in stdout
    assert f"report: {out / 'report.html'}" in stdout
    db = out / "results.sqlite"
    runs = _rows(db, "SELECT run_key, variant, seed, status, attempts FROM runs ORDER BY variant, seed")
    assert [(v, s, st, a) for _, v, s, st, a in runs] == [("bonus", 0, "done", 1), ("bonus", 1, "done", 1),
                                                          ("env", 0, "done", 1), ("env", 1, "done", 1)]
    spec = load_spec(f)
    assert sorted(r[0] for r in runs) == sorted(r.key for r in spec.runs())
    for key, *_ in runs:
        steps = [r[0] for r in _rows(db, "SELECT step FROM evals WHERE run_key = ? ORDER BY step", key)]
        assert steps == [0, 50, 100, 150, 200]
    assert _rows(db, "SELECT COUNT(*) FROM eval_points WHERE variant = 'env' AND seed = 1")[0][0] == 5
    # common random numbers: before training every variant is evaluated on the same episodes
    # with the same tie-break noise, so the step-0 rows are identical per seed
    for seed in (0, 1):
        first = _rows(db, "SELECT e.return_mean, e.success_rate, e.length_mean FROM evals e JOIN runs r "
                          "USING (run_key) WHERE r.seed = ? AND e.step = 0", seed)
        assert len(first) == 2 and first[0] == first[1]
    # learning happened and is measured on the original reward: success 0 at step 0, 1 at the end
    final = _rows(db, "SELECT success_rate FROM evals WHERE step = 200")
    start = _rows(db, "SELECT success_rate FROM evals WHERE step = 0")
    assert all(s == (0.0,) for s in start) and all(s == (1.0,) for s in final)
    # per-term training returns: the bonus term exists only in the bonus variant and is positive
    terms = _rows(db, "SELECT r.variant, t.term, AVG(t.value) FROM term_returns t JOIN runs r USING (run_key) "
                      "GROUP BY r.variant, t.term ORDER BY r.variant, t.term")
    assert [(v, t) for v, t, _ in terms] == [("bonus", "count"), ("bonus", "task"), ("env", "task")]
    assert terms[0][2] > 0
    # report: sections, embedded plots, PNG copies, steps-to-threshold table
    html = (out / "report.html").read_text(encoding="utf-8")
    for section in ("summary", "curves", "terms", "runs", "metadata"):
        assert f'id="{section}"' in html
    assert html.count("data:image/png;base64,") == 3 and 'id="coverage"' not in html  # curves, terms, profile; no grid
    for png in ("curves.png", "terms.png"):
        assert (out / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| env | 50 | 2/2 | 50 | 50 |" in summary
    # TensorBoard scalars per run
    assert any(p.name.startswith("events.out.tfevents") for p in (out / "tb" / "bonus" / "seed0").iterdir())
    # rerun: nothing is recomputed
    created = _rows(db, "SELECT run_key, step, created FROM evals ORDER BY run_key, step")
    assert main(["run", str(f), "--out", str(out), "--no-progress"]) == 0
    assert "runs: 0 completed, 4 already done" in capsys.readouterr().out
    assert _rows(db, "SELECT run_key, step, created FROM evals ORDER BY run_key, step") == created


def test_not_reached_is_reported(tmp_path, capsys):
    spec = copy.deepcopy(CHAIN)
    spec["budget"] = {"episodes": 20}
    spec["eval"] = {"every": 10, "episodes": 3}
    spec["seeds"] = [0]
    spec["variants"] = {"env": spec["variants"]["env"]}
    # greedy first-index tie-breaking with no exploration walks left into the trap forever
    spec["learner"]["params"].update(tie_break="first", epsilon=0.0)
    f = write_spec(tmp_path / "slow.yaml", spec)
    assert main(["run", str(f), "--out", str(tmp_path / "o"), "--no-progress", "--no-tensorboard"]) == 0
    assert "| env | not reached | 0/1 | not reached |" in capsys.readouterr().out
    assert "not reached" in (tmp_path / "o" / "report.html").read_text(encoding="utf-8")


def test_tiny_ppo_run_with_shaping_and_count_terms(tmp_path, capsys):
    spec = {
        "name": "tiny-ppo",
        "env": {"id": "MiniGrid-DoorKey-5x5-v0", "wrappers": ["state_info", "flat_obs"], "max_episode_steps": 40},
        "learner": {"type": "ppo", "n_envs": 2, "params": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}},
        "budget": {"steps": 256},
        "eval": {"every": 128, "episodes": 2, "deterministic": False},
        "seeds": [0],
        "variants": {
            "pbrs": {"reward": {"terms": [{"type": "env_reward", "name": "task"},
                                          {"type": "minigrid_doorkey_shaping", "name": "shaping"}]}},
            "count": {"reward": {"terms": [{"type": "env_reward", "name": "task"},
                                           {"type": "count_bonus", "name": "count",
                                            "params": {"mode": "product", "info_key": "minigrid/cell",
                                                       "coef": 0.05}}]}},
        },
    }
    f = write_spec(tmp_path / "ppo.yaml", spec)
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out), "--no-progress"]) == 0
    db = out / "results.sqlite"
    steps = _rows(db, "SELECT r.variant, e.step, e.train_episodes FROM evals e JOIN runs r USING (run_key) "
                      "ORDER BY r.variant, e.step")
    assert [(v, s) for v, s, _ in steps] == [("count", 0), ("count", 128), ("count", 256),
                                             ("pbrs", 0), ("pbrs", 128), ("pbrs", 256)]
    # 2 envs x 256 steps with a 40-step limit: every point after 0 saw finished training episodes
    assert all(n >= 2 for v, s, n in steps if s > 0)
    terms = dict(((v, t), x) for v, t, x in _rows(
        db, "SELECT r.variant, t.term, AVG(t.value) FROM term_returns t JOIN runs r USING (run_key) "
            "GROUP BY r.variant, t.term"))
    assert set(terms) == {("pbrs", "task"), ("pbrs", "shaping"), ("count", "task"), ("count", "count")}
    assert terms[("count", "count")] > 0      # first visits always pay something
    assert terms[("pbrs", "shaping")] != 0.0  # shaping telescopes to gamma^T Phi(s_T) - Phi(s_0) != 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "MiniGrid-DoorKey-5x5-v0" in html and 'id="curves"' in html
    # exploration coverage: every training step of both envs lands in one grid cell
    from rewardkit.runner.report import visit_grid
    from rewardkit.runner.store import ResultStore
    store = ResultStore(db)
    try:
        for key, _variant in _rows(db, "SELECT run_key, variant FROM runs"):
            cov = store.coverage(key)
            assert [p["step"] for p in cov] == [0, 128, 256]
            assert cov[0]["unique_cells"] == 0
            uniq = [p["unique_cells"] for p in cov]
            assert uniq == sorted(uniq) and 1 < uniq[-1] <= 9        # the 3x3 interior of DoorKey-5x5 ...
            assert cov[-1]["shape"] == [5, 5]
            g = visit_grid(cov[-1]["visits"], cov[-1]["shape"])
            assert g.sum() == 256 and (g > 0).sum() == uniq[-1]       # ... 2 envs x 128 vector steps
            assert g[[0, 4]].sum() == 0 and g[:, [0, 4]].sum() == 0   # never inside the outer wall
    finally:
        store.close()
    assert 'id="coverage"' in html and html.count("data:image/png;base64,") == 4
    assert (out / "plots" / "coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluation_does_not_perturb_training():
    """Eval uses its own envs and forked RNGs: the training run is the same for any eval schedule."""
    from rewardkit.runner.learners import train
    from rewardkit.runner.spec import parse_spec

    base = {"env": {"id": "MiniGrid-DoorKey-5x5-v0", "wrappers": ["state_info", "flat_obs"],
                    "max_episode_steps": 30},
            "learner": {"type": "ppo", "n_envs": 2, "params": {"n_steps": 32, "batch_size": 64, "n_epochs": 1}},
            "budget": {"steps": 256}, "seeds": [3],
            "variants": {"pbrs": {"reward": {"terms": [{"type": "env_reward", "name": "task"},
                                                       {"type": "minigrid_doorkey_shaping", "name": "shaping"}]}}}}
    totals = []
    for every, episodes in ((64, 3), (256, 1)):
        spec = parse_spec(dict(base, eval={"every": every, "episodes": episodes, "deterministic": False}))
        acc = {"episodes": 0, "shaping": 0.0}

        def on_eval(step, values, terms, acc=acc):
            n = values.get("train_episodes") or 0
            acc["episodes"] += n
            acc["shaping"] += terms.get("shaping", 0.0) * n

        assert train(spec.runs()[0].config, on_eval) == 256
        totals.append(acc)
    assert totals[0]["episodes"] == totals[1]["episodes"] > 0
    assert abs(totals[0]["shaping"] - totals[1]["shaping"]) < 1e-9
    assert totals[0]["shaping"] != 0.0
