"""Declarative configs: YAML/TOML parity, one-line errors naming the field, no eval/exec."""

import ast
import pathlib
import subprocess
import sys

import pytest

from rewardkit.core import ConfigError, SampleBatch, build_reward, load_reward

GOOD = {
    "name": "total",
    "clip": [-5, 5],
    "terms": [
        {"type": "constant", "name": "base", "params": {"value": 1.0}, "weight": 2.0},
        {"type": "constant", "name": "bonus", "params": {"value": 3.0}, "scale": 0.5, "clip": [0, 1],
         "gate": {"on": "base", "threshold": 1.0}},
        {"type": "constant", "name": "norm", "params": {"value": 1.0}, "normalize": {"statistic": "reward"}},
    ],
}


def test_build_reward_applies_scale_clip_gate():
    res = build_reward(GOOD).evaluate(SampleBatch(["p"], ["c"]))
    assert res.terms["bonus"].tolist() == [1.0]  # 3 * 0.5 clipped to 1
    assert res.terms["base"].tolist() == [1.0]


def test_yaml_and_toml_give_the_same_reward(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "reward:\n  terms:\n    - type: constant\n      name: a\n      weight: 0.5\n      params: {value: 2.0}\n")
    (tmp_path / "r.toml").write_text(
        '[[reward.terms]]\ntype = "constant"\nname = "a"\nweight = 0.5\nparams = {value = 2.0}\n')
    b = SampleBatch(["p"], ["c"])
    assert load_reward(tmp_path / "r.yaml")(b).tolist() == load_reward(tmp_path / "r.toml")(b).tolist() == [1.0]


BAD = [
    ({"terms": []}, "reward.terms"),
    ({"terms": [{"name": "x"}]}, "reward.terms[0].type"),
    ({"terms": [{"type": "no_such_term"}]}, "reward.terms[0].type"),
    ({"terms": [{"type": "constant", "params": {"value": 1}, "weight": "heavy"}]}, "reward.terms[0].weight"),
    ({"terms": [{"type": "constant", "params": {"value": 1, "bogus": 2}}]}, "reward.terms[0].params.bogus"),
    ({"terms": [{"type": "constant"}]}, "reward.terms[0].params.value"),
    ({"terms": [{"type": "constant", "params": {"value": 1}, "clip": [1]}]}, "reward.terms[0].clip"),
    ({"terms": [{"type": "constant", "params": {"value": 1}, "normalize": {"statistic": "median"}}]},
     "reward.terms[0].normalize.statistic"),
    ({"terms": [{"type": "constant", "params": {"value": 1}, "gate": {"on": "ghost"}}]}, "reward.terms[0].gate.on"),
    ({"terms": [{"type": "constant", "params": {"value": 1}, "wieght": 2}]}, "reward.terms[0].wieght"),
    ({"terms": [{"type": "constant", "params": {"value": 1}}, {"type": "constant", "params": {"value": 2}}]},
     "reward.terms[1].name"),
    ({"terms": [{"type": "info_key", "params": {"key": "x", "default": "zero"}}]}, "reward.terms[0].params.default"),
]


@pytest.mark.parametrize("spec,field", BAD)
def test_bad_config_is_one_line_naming_the_field(spec, field):
    with pytest.raises(ConfigError) as e:
        build_reward(spec)
    msg = str(e.value)
    assert msg.startswith(field + ":"), msg
    assert "\n" not in msg


def test_cli_check_reports_one_line_and_exit_2(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("reward:\n  terms:\n    - type: constant\n      params: {value: 1}\n      weight: [1, 2]\n")
    out = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "check", str(p)], capture_output=True, text=True)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines == ["error: reward.terms[0].weight: expected a finite number, got [1, 2]"]


def test_yaml_bare_on_key_in_gate_is_accepted(tmp_path):
    p = tmp_path / "gate.yaml"
    p.write_text("reward:\n  terms:\n    - {type: constant, name: task, params: {value: 0.0}}\n"
                 "    - type: constant\n      name: bonus\n      params: {value: 1.0}\n"
                 "      gate: {on: task, threshold: 1.0}\n")
    r = load_reward(p)
    assert r.evaluate(SampleBatch(["p"], ["c"])).terms["bonus"].tolist() == [0.0]


def test_unparseable_yaml_is_one_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("reward: [unclosed\n")
    with pytest.raises(ConfigError) as e:
        load_reward(p)
    assert "\n" not in str(e.value) and "cannot parse" in str(e.value)


#: The one file allowed to call exec: the code sandbox's in-jail harness, whose whole job is to run
#: the untrusted solution and tests inside the rlimited, unshared child process.  Nothing that reads
#: a config, a spec, a dataset row or a request may use eval/exec.
SANDBOX_HARNESS = "verify/code/_harness.py"


def test_no_eval_or_exec_anywhere_in_the_package():
    root = pathlib.Path(__file__).resolve().parents[2] / "src" / "rewardkit"
    offenders = []
    for f in root.rglob("*.py"):
        if f.relative_to(root).as_posix() == SANDBOX_HARNESS:
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                offenders.append(f"{f.relative_to(root)}:{node.lineno}")
    assert offenders == []
