"""A bad experiment fails before anything runs: one line naming the field, exit code 2."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest

from rewardkit.cli.main import main
from rewardkit.core import ConfigError
from rewardkit.runner.spec import load_spec, parse_spec

from _runner_helpers import CHAIN, write_spec


def _set(spec: dict, path: str, value) -> dict:
    s = copy.deepcopy(spec)
    keys = path.split(".")
    d = s
    for k in keys[:-1]:
        d = d[k]
    if value is _DEL:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value
    return s


_DEL = object()

BAD = [
    ("colour", "blue", "colour: unknown key"),
    ("env.id", "rewardkit/NoSuchEnv-v0", "env.id: unknown environment"),
    ("env.kwargs", {"n1": 3, "bogus": 1}, "env.kwargs:"),
    ("env.wrappers", ["no_such_wrapper"], "env.wrappers[0].type: unknown wrapper"),
    ("learner.type", "dqn", "learner.type: unknown learner 'dqn'"),
    ("learner.params", {"alpha": 0.5}, "learner.params.tie_break: missing"),
    ("learner.params", {"alpha": "fast", "tie_break": "first"}, "learner.params.alpha: got 'fast'"),
    ("learner.params", {"tie_break": "first", "lr": 0.1}, "learner.params.lr: unknown parameter"),
    ("budget", {"steps": 10, "episodes": 3}, "budget: has 2 entries"),
    ("budget", {"episodes": -4}, "budget.episodes: got -4"),
    ("eval.every", 500, "eval.every: 500 is larger than the budget"),
    ("eval.deterministic", "yes", "eval.deterministic: got 'yes'"),
    ("success.threshold", 1.5, "success.threshold: got 1.5"),
    ("seeds", [0, 0], "seeds: has duplicates"),
    ("variants", {}, "variants: missing or empty"),
    ("variants.env.reward", {"terms": [{"type": "no_such_term"}]}, "variants.env.reward.terms[0].type: unknown term type"),
    ("variants.bonus.reward", {"terms": [{"type": "count_bonus", "params": {"mode": "sideways"}}]},
     "variants.bonus.reward.terms[0].params.mode: got 'sideways'"),
    ("variants.env.reward", _DEL, "variants.env.reward: missing"),
    ("variants.env.reward", {"terms": [{"type": "potential_shaping", "params": {"potential": "zero", "gamma": 0.99}}]},
     "variants.env.reward.terms[0].params.gamma: got 0.99 but the learner's gamma is 0.9"),
]


def test_shaping_gamma_defaults_to_the_learners():
    spec = _set(CHAIN, "variants.env.reward", {"terms": [{"type": "potential_shaping", "params": {"potential": "zero"}}]})
    assert parse_spec(spec).variants["env"]["reward"]["terms"][0]["params"]["gamma"] == 0.9


@pytest.mark.parametrize("path,value,message", BAD, ids=[b[0] + ":" + b[2].split(":")[0] for b in BAD])
def test_bad_spec_is_one_line_naming_the_field(tmp_path, capsys, path, value, message):
    f = write_spec(tmp_path / "bad.yaml", _set(CHAIN, path, value))
    rc = main(["run", str(f), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.count("\n") == 0, err
    assert err.startswith("error: " + message), err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_ppo_specific_errors():
    ppo = {"env": {"id": "CartPole-v1"}, "learner": {"type": "ppo", "params": {"n_steps": 8, "batch_size": 128}},
           "budget": {"steps": 100}, "variants": {"v": {"reward": {"terms": [{"type": "env_reward"}]}}}}
    with pytest.raises(ConfigError, match=r"^learner.params.batch_size: 128 > n_steps\*n_envs"):
        parse_spec(ppo)
    ppo["learner"]["params"]["batch_size"] = 64
    with pytest.raises(ConfigError, match=r"^budget.episodes: ppo budgets are counted in environment steps"):
        parse_spec(dict(ppo, budget={"episodes": 3}))
    with pytest.raises(ConfigError, match=r"^env.id: observation space"):
        parse_spec(dict(ppo, learner={"type": "q_learning", "params": {"tie_break": "first"}}), check_env=True)


def test_unparseable_file_and_cli_exit_code_without_traceback(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("env: {id: [unclosed\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "run", str(f)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {f}: cannot parse"), p.stderr


def test_toml_spec_and_check_lists_runs(tmp_path, capsys):
    toml = """
name = "chain_toml"
seeds = [0, 3]
[env]
id = "rewardkit/Chain-v0"
[learner]
type = "q_learning"
params = { tie_break = "first" }
[budget]
episodes = 10
[variants.env.reward]
terms = [{ type = "env_reward" }]
"""
    f = tmp_path / "exp.toml"
    f.write_text(toml, encoding="utf-8")
    assert main(["run", str(f), "--check"]) == 0
    out = capsys.readouterr().out
    assert "ok: 2 runs (1 variants x 2 seeds)" in out
    spec = load_spec(f)
    assert [r.seed for r in spec.runs()] == [0, 3]
    # the run key is a hash of the run config: report-only fields do not change it
    spec2 = parse_spec({**_toml_as_dict(spec), "success": {"threshold": 0.5}})
    assert spec2.runs()[0].key == spec.runs()[0].key
    spec3 = parse_spec({**_toml_as_dict(spec), "budget": {"episodes": 11}})
    assert spec3.runs()[0].key != spec.runs()[0].key


def _toml_as_dict(spec):
    return {"name": spec.name, "env": spec.env, "learner": spec.learner, "budget": {"episodes": spec.budget},
            "seeds": spec.seeds, "variants": spec.variants}


def test_bad_seeds_override(tmp_path, capsys):
    f = write_spec(tmp_path / "ok.yaml", CHAIN)
    assert main(["run", str(f), "--seeds", "0,x", "--check"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --seeds: got '0,x'")


def test_ppo_params_exist_in_installed_sb3():
    from rewardkit.runner.spec import ppo_signature_check

    ppo_signature_check()  # raises if SB3 renamed a keyword the spec schema accepts
