"""`rewardkit tune` (issue #12, section 4): Optuna over reward scales with the runner as the objective and
its SQLite database as the trial storage; resumable; bad parameter specs are one-line errors (exit 2)."""

from __future__ import annotations

import copy

import pytest
from _runner_helpers import CHAIN, query, write_spec

from rewardkit.cli.main import main
from rewardkit.core import ConfigError
from rewardkit.runner.tune import parse_param, tune

pytest.importorskip("optuna")

SCALE = "+variants.env.reward.terms[0].scale=float(-1.0, 1.0)"


def _exp(tmp_path):
    s = copy.deepcopy(CHAIN)
    s.update(budget={"episodes": 100}, seeds=1)
    s["variants"].pop("bonus")
    return write_spec(tmp_path / "exp.yaml", s)


def test_search_finds_the_scale_that_helps_and_resumes(tmp_path):
    """A negative scale on the task reward teaches the agent to avoid the goal: the search must put the
    best trial on a positive scale, and every clearly negative trial must score below it."""
    f, out = _exp(tmp_path), tmp_path / "out"
    r = tune(f, [SCALE], trials=6, out_dir=out, seed=0)
    assert r.new_trials == 6 and len(r.trials) == 6 and r.failed == 0
    key = "variants.env.reward.terms[0].scale"
    _, params, value = r.best
    assert params[key] > 0 and value == 1.0
    assert value == max(v for *_, v in r.trials)
    negative = [v for _, p, v in r.trials if p[key] < -0.05]
    assert negative and max(negative) < value
    assert r.best_overrides == [f"+{key}={params[key]!r}"]
    # the trials live in the runner's own database, beside its runs
    tables = {t for (t,) in query(out / "results.sqlite", "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "evals", "studies", "trials", "trial_params", "trial_values"} <= tables
    assert len(query(out / "results.sqlite", "SELECT run_key FROM runs WHERE status = 'done'")) == 6
    assert (out / "report.html").exists()

    # resumable: the same command with more trials runs only the missing ones
    again = tune(f, [SCALE], trials=8, out_dir=out, seed=0)
    assert again.study == r.study and again.new_trials == 2 and len(again.trials) == 8
    assert [t[:2] for t in again.trials[:6]] == [t[:2] for t in r.trials]


def test_cli_prints_the_trials_and_how_to_reproduce_the_best(tmp_path, capsys):
    f, out = _exp(tmp_path), tmp_path / "out"
    assert main(["tune", str(f), "--trials", "2", "--out", str(out), "--param", SCALE,
                 "--metric", "steps_to_threshold"]) == 0
    text = capsys.readouterr().out
    assert "2 complete trials (2 run now, 0 failed)" in text
    assert "| trial | variants.env.reward.terms[0].scale | steps_to_threshold |" in text
    assert "reproduce with: rewardkit run" in text and "--set '+variants.env.reward.terms[0].scale=" in text
    assert ".steps_to_threshold.min." in text  # minimised by default


@pytest.mark.parametrize("param, message", [
    ("variants.env.reward.terms[0].scale=float(-1, 1)", "no key 'scale'"),                 # missing field, no +
    ("variants.nope.reward.terms[0].weight=float(0, 1)", "no key 'nope' in variants"),
    ("+variants.env.reward.terms[0].scale=float(2, 1)", "low 2 > high 1"),
    ("+variants.env.reward.terms[0].scale=normal(0, 1)", "bad distribution"),
    ("+variants.env.reward.terms[0].scale=float(0, 1, log)", "log scale with low 0"),
    ("budget.episodes=float(10.5, 20)", "budget.episodes: got 10.5; expected an integer"),   # validated like a file
    ("variants.env.reward.terms[0].type=choice(env_reward, env_rewardd)", "unknown term type 'env_rewardd'"),
    ("variants.env.reward.terms[0]..weight=float(0, 1)", "bad path"),
    ("scale", "expected PATH=float"),
])
def test_bad_param_specs_exit_2_with_one_line(tmp_path, capsys, param, message):
    f = _exp(tmp_path)
    assert main(["tune", str(f), "--trials", "1", "--out", str(tmp_path / "out"), "--param", param]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out" / "results.sqlite").exists()  # nothing ran


def test_parse_param_forms():
    assert parse_param("a.b=int(1, 8, log)").log is True
    assert parse_param("a.b=choice(global, product)").choices == ("global", "product")
    with pytest.raises(ConfigError, match="distinct"):
        parse_param("a.b=choice(1, 1)")
    with pytest.raises(ConfigError, match="an integer"):
        parse_param("a.b=int(1.5, 3)")
