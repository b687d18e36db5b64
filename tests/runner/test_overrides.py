"""``--set PATH=VALUE`` overrides and ``sweep:`` grids: path parsing, expansion, validation, CLI exit codes."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.core import ConfigError
from rewardkit.runner.overrides import (MAX_SWEEP_VARIANTS, apply_overrides, expand_sweep, get_path,
                                        parse_assignment, parse_path, set_path)
from rewardkit.runner.spec import load_spec, parse_spec

from _runner_helpers import CHAIN, write_spec

SRC = str(Path(__file__).resolve().parents[2] / "src")


# --------------------------------------------------------------------------- paths

@pytest.mark.parametrize(("text", "tokens"), [
    ("budget", ["budget"]),
    ("budget.steps", ["budget", "steps"]),
    ("variants.pbrs.reward.terms[1].scale", ["variants", "pbrs", "reward", "terms", 1, "scale"]),
    ("a[0][12]", ["a", 0, 12]),
    ('variants["pbrs.v2"].reward', ["variants", "pbrs.v2", "reward"]),
    ("variants['a b'][3]", ["variants", "a b", 3]),
    ("n_envs.x-y", ["n_envs", "x-y"]),
])
def test_parse_path(text, tokens):
    assert parse_path(text) == tokens


@pytest.mark.parametrize(("text", "pos"), [
    ("budget..steps", 7), (".budget", 0), ("budget.", 7), ("a[1", 1), ("a[-1]", 1), ("a[x]", 1),
    ("a b", 1), ("a[1]b", 4), ("a=b", 1), ('a["b]', 1),
])
def test_parse_path_rejects_malformed(text, pos):
    with pytest.raises(ConfigError) as e:
        parse_path(text, "--set X")
    assert str(e.value).startswith(f"--set X: bad path {text!r} at character {pos}; expected keys")
    assert "\n" not in str(e.value)


def test_parse_path_rejects_empty_and_non_string():
    for bad in ("", None, 3):
        with pytest.raises(ConfigError, match=r"^f: got"):
            parse_path(bad, "f")  # type: ignore[arg-type]


def test_parse_assignment_reads_yaml_values():
    assert parse_assignment("a=0.5") == (["a"], False, 0.5)
    assert parse_assignment("a = true") == (["a"], False, True)
    assert parse_assignment("a=") == (["a"], False, None)
    assert parse_assignment("a=x=y") == (["a"], False, "x=y")  # only the first '=' splits
    assert parse_assignment("+a.b[0]=[1, {c: 2}]") == (["a", "b", 0], True, [1, {"c": 2}])
    with pytest.raises(ConfigError, match=r"^--set: got 'budget'; expected PATH=VALUE"):
        parse_assignment("budget")
    with pytest.raises(ConfigError, match=r"^--set a: cannot parse: .*; expected valid YAML$"):
        parse_assignment("a=[1, 2")


def test_get_and_set_path_errors_name_the_path():
    d = {"a": {"b": [10, {"c": 1}]}, "s": 3}
    assert get_path(d, ["a", "b", 1, "c"]) == 1
    cases = [
        (["a", "x"], "F: no key 'x' in a; expected one of: b (or +PATH=VALUE to add a key)"),
        (["a", "b", 2], "F: no index [2] in a.b (it has 2 items); expected an index in [0, 1]"),
        (["a", "b", "c"], "F: a.b is a list, not a mapping; expected an index [i]"),
        (["a", 0], "F: a is a dict, not a list; expected a key, not an index [i]"),
        (["s", "t"], "F: s is a int, not a mapping; expected a path to an existing mapping"),
        (["nope"], "F: no key 'nope' in the top level; expected one of: a, s (or +PATH=VALUE to add a key)"),
    ]
    for tokens, msg in cases:
        with pytest.raises(ConfigError) as e:
            set_path(copy.deepcopy(d), tokens, 0, field="F")
        assert str(e.value) == msg
    assert d == {"a": {"b": [10, {"c": 1}]}, "s": 3}


def test_set_path_create_adds_keys_and_appends():
    d = {"a": {"b": [10]}}
    set_path(d, ["a", "b", 1], 11, create=True)  # [len] appends
    set_path(d, ["x", "y", "z"], 1, create=True)
    set_path(d, ["a", "b", 0], 9, create=True)  # an existing field is replaced
    assert d == {"a": {"b": [9, 11]}, "x": {"y": {"z": 1}}}
    with pytest.raises(ConfigError, match=r"no index \[3\] in a.b"):
        set_path(d, ["a", "b", 3], 0, create=True)  # no holes


def test_apply_overrides_copies_and_applies_in_order():
    data = {"budget": {"steps": 100}, "variants": {"v": {"reward": {"terms": [{"type": "env_reward"}]}}}}
    out = apply_overrides(data, ["budget.steps=20000", "variants.v.reward.terms[0].type=constant",
                                 "+variants.v.reward.terms[0].params={value: 0.5}", "budget.steps=3"])
    assert out["budget"] == {"steps": 3}
    assert out["variants"]["v"]["reward"]["terms"][0] == {"type": "constant", "params": {"value": 0.5}}
    assert data["budget"] == {"steps": 100} and "params" not in data["variants"]["v"]["reward"]["terms"][0]
    with pytest.raises(ConfigError, match=r"^--set budget.step: no key 'step' in budget; expected one of: steps"):
        apply_overrides(data, ["budget.step=1"])


# --------------------------------------------------------------------------- sweeps

def _chain_sweep(**sweep) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["sweep"] = sweep
    return spec


def test_sweep_expands_a_grid_in_place_with_readable_names():
    data = _chain_sweep(variant="bonus", grid={"reward.terms[1].params.coef": [0.05, 0.2],
                                               "+reward.terms[1].weight": [1, 2.5]})
    out = expand_sweep(data)
    assert "sweep" not in out and "sweep" in data  # the input is not changed
    assert list(out["variants"]) == ["env", "bonus.coef-0.05.weight-1", "bonus.coef-0.05.weight-2.5",
                                     "bonus.coef-0.2.weight-1", "bonus.coef-0.2.weight-2.5"]
    v = out["variants"]["bonus.coef-0.2.weight-2.5"]
    assert v["reward"]["terms"][1]["params"]["coef"] == 0.2 and v["reward"]["terms"][1]["weight"] == 2.5
    assert v["description"] == "bonus with reward.terms[1].params.coef=0.2, reward.terms[1].weight=2.5"
    assert CHAIN["variants"]["bonus"]["reward"]["terms"][1]["params"]["coef"] == 0.1


def test_sweep_validated_by_parse_spec_and_each_point_is_its_own_run():
    spec = parse_spec(_chain_sweep(variant="bonus", keep=True, grid={"reward.terms[1].params.coef": [0.05, 0.2]}))
    assert list(spec.variants) == ["env", "bonus", "bonus.coef-0.05", "bonus.coef-0.2"]
    assert spec.variants["bonus.coef-0.2"]["reward"]["terms"][1]["params"]["coef"] == 0.2
    keys = [r.key for r in spec.runs()]
    assert len(keys) == len(set(keys)) == 8  # 4 variants x 2 seeds, all distinct
    assert "sweep" not in spec.raw and "bonus.coef-0.05" in spec.raw["variants"]
    # a swept value is checked like a written one, under the generated variant's name
    with pytest.raises(ConfigError, match=r"^variants\.bonus\.coef-x\.reward\.terms\[1\]\.params\.coef"):
        parse_spec(_chain_sweep(variant="bonus", grid={"reward.terms[1].params.coef": ["x"]}))


def test_sweep_list_entries_apply_in_order_and_labels_disambiguate():
    data = copy.deepcopy(CHAIN)
    data["sweep"] = [{"variant": "bonus", "grid": {"reward.terms[1].params.coef": [0.1, 0.3]}},
                     {"variant": "env", "grid": {"+reward.terms[0].scale": [2], "+reward.terms[0].weight": [3]}}]
    names = list(expand_sweep(data)["variants"])
    assert names == ["env.scale-2.weight-3", "bonus.coef-0.1", "bonus.coef-0.3"]
    data["sweep"] = {"variant": "bonus", "grid": {"reward.terms[0].name": ["a"], "reward.terms[1].name": ["b"]}}
    assert list(expand_sweep(data)["variants"])[1] == "bonus.reward.terms.0.name-a.reward.terms.1.name-b"
    data["sweep"] = {"variant": "env", "grid": {"+description": ["a b/c", True, None, [1, 2]]}}
    assert list(expand_sweep(data)["variants"])[:4] == ["env.description-a_b_c", "env.description-true",
                                                        "env.description-null", "env.description-_1_2_"]


@pytest.mark.parametrize(("sweep", "msg"), [
    ([], "sweep: is an empty list"),
    ("bonus", "sweep: is a str; expected a mapping"),
    ({"grid": {"weight": [1]}}, "sweep.variant: missing; expected one of: env, bonus"),
    ({"variant": "nope", "grid": {"x": [1]}}, "sweep.variant: unknown variant 'nope'"),
    ({"variant": "bonus"}, "sweep.grid: missing or empty"),
    ({"variant": "bonus", "grid": [1]}, "sweep.grid: is a list; expected a mapping path -> list of values"),
    ({"variant": "bonus", "grid": {"reward.terms[1].weight": [1]}},
     "sweep.grid.reward.terms[1].weight: no key 'weight' in reward.terms[1]; expected one of: name, params, type"),
    ({"variant": "bonus", "grid": {"reward.terms[5].name": ["x"]}}, "sweep.grid.reward.terms[5].name: no index [5]"),
    ({"variant": "bonus", "grid": {"reward..x": [1]}}, "sweep.grid.reward..x: bad path"),
    ({"variant": "bonus", "grid": {"+description": 0.1}},
     "sweep.grid.+description: got 0.1; expected a non-empty list"),
    ({"variant": "bonus", "grid": {"+description": []}}, "sweep.grid.+description: got []"),
    ({"variant": "bonus", "grid": {"+reward.terms[0].scale": [float("nan")]}},
     "sweep.grid.+reward.terms[0].scale: got nan; expected finite numbers"),
    ({"variant": "bonus", "keep": "yes", "grid": {"+description": ["a"]}}, "sweep.keep: got 'yes'; expected true"),
    ({"variant": "bonus", "grid": {"+description": ["a"]}, "size": 3}, "sweep.size: unknown key"),
    ({"variant": "bonus", "grid": {"+description": ["a", "a"]}},
     "sweep.grid: generated variant name 'bonus.description-a' is not unique"),
    ({"variant": "bonus", "grid": {"+description": ["a/", "a?"]}},
     "sweep.grid: generated variant name 'bonus.description-a_' is not unique"),
    ({"variant": "bonus", "grid": {"+description": ["x" * 120]}}, "sweep.grid: generated variant name 'bonus.desc"),
    ({"variant": "bonus", "grid": {"+description": list(range(MAX_SWEEP_VARIANTS + 1))}},
     f"sweep.grid: more than {MAX_SWEEP_VARIANTS} combinations"),
    ({"variant": "bonus", "grid": {"+description": list(range(40)), "+x": list(range(40))}},
     f"sweep.grid: more than {MAX_SWEEP_VARIANTS} combinations"),
])
def test_sweep_errors_are_one_line_naming_the_field(sweep, msg):
    data = copy.deepcopy(CHAIN)
    data["sweep"] = sweep
    with pytest.raises(ConfigError) as e:
        parse_spec(data)
    assert msg in str(e.value) and str(e.value).startswith(msg.split(":")[0]), str(e.value)
    assert "\n" not in str(e.value)


def test_sweep_name_collision_with_an_existing_variant():
    data = copy.deepcopy(CHAIN)
    data["variants"]["bonus.description-a"] = copy.deepcopy(data["variants"]["env"])
    data["sweep"] = {"variant": "bonus", "grid": {"+description": ["a"]}}
    with pytest.raises(ConfigError, match=r"^sweep.grid: generated variant name 'bonus.description-a' is not unique"):
        parse_spec(data)


# --------------------------------------------------------------------------- load_spec and the CLI

def test_load_spec_applies_overrides_before_validation(tmp_path):
    p = write_spec(tmp_path / "exp.yaml", CHAIN)
    spec = load_spec(p, check_env=False, overrides=["budget.episodes=100", "seeds=[4, 5]",
                                                    "variants.bonus.reward.terms[1].params.coef=0.5"])
    assert (spec.budget, spec.seeds) == (100, [4, 5])
    assert spec.variants["bonus"]["reward"]["terms"][1]["params"]["coef"] == 0.5
    assert spec.raw["budget"] == {"episodes": 100}
    base = load_spec(p, check_env=False)
    assert base.config_hash != spec.config_hash
    # overrides are validated like the file: a bad value names the field it reached
    with pytest.raises(ConfigError, match=r"^budget.episodes: got 0; expected an integer in \[1, "):
        load_spec(p, check_env=False, overrides=["budget.episodes=0"])
    with pytest.raises(ConfigError, match=r"^eval.every: 50 is larger than the budget 20"):
        load_spec(p, check_env=False, overrides=["budget.episodes=20"])
    # the sweep section can itself be set from the command line
    spec = load_spec(p, check_env=False, overrides=['+sweep={variant: env, grid: {"+reward.terms[0].scale": [1, 2]}}'])
    assert list(spec.variants) == ["env.scale-1", "env.scale-2", "bonus"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC, OMP_NUM_THREADS="1")
    env.pop("REWARDKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "rewardkit.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_check_and_run_accept_set(tmp_path):
    data = copy.deepcopy(CHAIN)
    data["sweep"] = {"variant": "bonus", "grid": {"reward.terms[1].params.coef": [0.05, 0.2]}}
    p = str(write_spec(tmp_path / "exp.yaml", data))
    ok = _cli("check", p, "--set", "budget.episodes=100", "--set", "variants.env.reward.terms[0].name=goal")
    assert ok.returncode == 0, ok.stderr
    assert "env: goal\n" in ok.stdout and "bonus.coef-0.2: task, count\n" in ok.stdout
    assert "ok: experiment chain: 3 variants x 2 seeds = 6 runs" in ok.stdout
    for args, msg in [
        (["--set", "budget.episode=100"], "error: --set budget.episode: no key 'episode' in budget"),
        (["--set", "variants.bonus.reward.terms[2].name=x"],
         "error: --set variants.bonus.reward.terms[2].name: no index [2] in variants.bonus.reward.terms"),
        (["--set", "budget[0]=1"], "error: --set budget[0]: budget is a dict, not a list"),
        (["--set", "budget..episodes=1"], "error: --set budget..episodes: bad path"),
        (["--set", "budget.episodes=-3"], "error: budget.episodes: got -3"),
        (["--set", "sweep.grid={description: []}"], "error: sweep.grid.description: got []"),
        (["--set", "budget"], "error: --set: got 'budget'; expected PATH=VALUE"),
    ]:
        bad = _cli("check", p, *args)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr, (args, bad.stderr)
        assert bad.stderr.strip().splitlines() == [bad.stderr.strip()] and bad.stderr.startswith(msg), bad.stderr
    listed = _cli("run", p, "--check", "--set", "+seeds=[7]")
    assert listed.returncode == 0, listed.stderr
    assert "bonus.coef-0.05" in listed.stdout and "seed 7" in listed.stdout and "ok: 3 runs" in listed.stdout


def test_cli_check_reward_config_accepts_set(tmp_path):
    p = tmp_path / "reward.yaml"
    p.write_text("reward:\n  terms:\n    - {type: constant, name: alive, params: {value: 0.1}}\n", encoding="utf-8")
    ok = _cli("check", str(p), "--set", "+reward.terms[0].weight=0.5")
    assert ok.returncode == 0 and "alive: weight 0.5" in ok.stdout, ok.stderr
    bad = _cli("check", str(p), "--set", "+reward.terms[0].weight=abc")
    assert bad.returncode == 2 and bad.stderr.startswith("error: reward.terms[0].weight:"), bad.stderr
