"""`rewardkit schema` (issue #12, section 6): a JSON Schema of reward and experiment configs from the registry.

Every YAML config of the repo (the packaged experiments, test and bench files, and the YAML blocks of
README.md and docs/*.md) validates; an unknown term, a wrong-typed or missing parameter are rejected.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from _runner_helpers import CHAIN
from test_docs import BLOCKS

from rewardkit.cli.main import main
from rewardkit.core import build_reward
from rewardkit.core.config import _NORM_KEYS, _REWARD_KEYS, _TERM_KEYS
from rewardkit.core.registry import TERMS
from rewardkit.core.safe_load import parse_document, read_document
from rewardkit.runner.schema import TOP_KEYS, schema
from rewardkit.runner.spec import _EVAL_KEYS, _SUCCESS_KEYS, _TOP_KEYS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validators():
    return {k: jsonschema.Draft202012Validator(schema(k)) for k in ("reward", "experiment")}


def _yaml12(d):
    """What an editor's YAML 1.2 parser sees: PyYAML (YAML 1.1) reads a bare ``on:`` key as True."""
    if isinstance(d, dict):
        return {("on" if k is True else k): _yaml12(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_yaml12(x) for x in d]
    return d


def _configs():
    out = []
    for b in BLOCKS:
        if b.lang == "yaml":
            out.append((f"{b.page}:{b.line}", parse_document(b.code, "yaml", field=b.page)))
    for folder in ("src/rewardkit/data", "bench", "tests"):
        for p in sorted((ROOT / folder).rglob("*.y*ml")):
            if "_scratch" not in p.parts:
                out.append((str(p.relative_to(ROOT)), read_document(p)))
    return out


CONFIGS = _configs()


def test_every_yaml_config_of_the_repo_validates(validators):
    kinds = {"reward": 0, "experiment": 0, "sweep": 0}
    for where, d in CONFIGS:
        d = _yaml12(d)
        if not isinstance(d, dict):
            continue
        if "variants" in d:
            errors = list(validators["experiment"].iter_errors(d))
            kinds["experiment"] += 1
        elif "terms" in d or isinstance(d.get("reward"), dict):
            errors = list(validators["reward"].iter_errors(d))
            kinds["reward"] += 1
        elif set(d) == {"sweep"}:  # a fragment showing one section
            sub = {"$defs": {}, **schema("experiment")["properties"]["sweep"]}
            errors = list(jsonschema.Draft202012Validator(sub).iter_errors(d["sweep"]))
            kinds["sweep"] += 1
        else:
            continue
        assert not errors, f"{where}: {jsonschema.exceptions.best_match(errors).message[:300]}"
    assert "src/rewardkit/data/experiments/doorkey_demo.yaml" in {w for w, _ in CONFIGS}
    assert kinds["reward"] >= 5 and kinds["experiment"] >= 2, kinds


def test_every_registered_terms_example_validates(validators):
    checked = 0
    for name, e in TERMS.entries().items():
        if e.example is None:
            continue
        cfg = {"terms": [{"type": name, "params": dict(e.example)}]}
        assert validators["reward"].is_valid(json.loads(json.dumps(cfg))), name
        checked += 1
    assert checked >= 10


def _reward(**term):
    return {"reward": {"terms": [{"type": "env_reward", "name": "task"}, term]}}


@pytest.mark.parametrize("term, field", [
    ({"type": "count_bonuss", "params": {"coef": 0.1}}, "type"),                      # unknown term
    ({"type": "count_bonus", "params": {"coef": "big"}}, "coef"),                     # wrong-typed parameter
    ({"type": "count_bonus", "params": {"mode": 3}}, "mode"),                         # wrong-typed string param
    ({"type": "count_bonus", "params": {"coeff": 0.1}}, "coeff"),                     # unknown parameter
    ({"type": "potential_shaping", "params": {"gamma": 0.9}}, "potential"),           # missing required one
    ({"type": "count_bonus", "weight": "x"}, "weight"),                               # not a number/schedule
    ({"type": "count_bonus", "weight": {"schedule": "linear", "start": 1}}, "weight"),  # schedule missing args
    ({"type": "count_bonus", "normalize": {"statistic": "median"}}, "normalize"),
    ({"type": "count_bonus", "gate": {"threshold": 1}}, "gate"),
])
def test_bad_terms_are_rejected_by_the_schema_and_by_the_validator(validators, term, field):
    from rewardkit.core import ConfigError

    cfg = _reward(**term)
    assert not validators["reward"].is_valid(cfg)
    with pytest.raises(ConfigError, match=field):
        build_reward(cfg["reward"])


def test_good_variations_are_accepted(validators):
    for term in ({"type": "count_bonus", "params": {"coef": 1, "mode": "global", "key": "explicit"}},
                 {"type": "count_bonus", "params": None, "weight": {"schedule": "linear", "start": 1, "end": 0,
                                                                      "steps": 10}},
                 {"type": "potential_shaping", "params": {"potential": [0.0, 1.0]}},
                 {"type": "potential_shaping", "params": {"potential": {"type": "negative_distance", "goal": [0, 0]}}},
                 {"type": "count_bonus", "normalize": True, "clip": [-1, 1], "scale": 0.5}):
        cfg = _reward(**term)
        build_reward(cfg["reward"])
        assert validators["reward"].is_valid(cfg), term


def test_experiment_rejections(validators):
    good = copy.deepcopy(CHAIN)
    assert validators["experiment"].is_valid(good)
    for path, value in ((("learner", "params", "alpha"), "fast"),      # a typed q_learning parameter
                        (("learner", "params", "tie_break"), "last"),
                        (("budget",), {"steps": 10, "episodes": 3}),
                        (("seeds",), [0, 0]),
                        (("extra",), 1),
                        (("variants", "env", "reward", "terms", 0, "type"), "env_rewards")):
        bad = copy.deepcopy(good)
        node = bad
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        assert not validators["experiment"].is_valid(bad), path


def test_key_sets_are_the_validators():
    s = schema("experiment")
    assert TOP_KEYS == _TOP_KEYS == set(s["properties"])
    assert set(s["properties"]["eval"]["properties"]) == _EVAL_KEYS
    assert set(s["properties"]["success"]["properties"]) == _SUCCESS_KEYS
    term = s["$defs"]["term"]["properties"]
    assert set(term) == _TERM_KEYS and set(s["$defs"]["reward"]["properties"]) == _REWARD_KEYS
    assert set(term["normalize"]["anyOf"][1]["properties"]) == _NORM_KEYS
    assert term["type"]["enum"] == TERMS.names()


def test_cli_writes_the_schema(tmp_path, capsys):
    out = tmp_path / "reward.schema.json"
    assert main(["schema", "--kind", "reward", "--output", str(out)]) == 0
    assert json.loads(out.read_text())["title"] == "rewardkit reward config"
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "rewardkit experiment"
    assert main(["schema", "--plugin", "no_such_module_xyz"]) == 2
    assert capsys.readouterr().err.startswith("error: --plugin[0]: cannot import")
