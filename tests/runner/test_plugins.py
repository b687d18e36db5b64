"""Registered learners and terms named from an experiment file, through ``plugins:`` (spawn workers too)."""

from __future__ import annotations

import sqlite3
import sys
import textwrap

import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.runner import parse_spec
from rewardkit.runner.runner import run_experiment

PLUGIN = textwrap.dedent('''
    from rewardkit.core import Constant, register_term
    from rewardkit.runner.learners import register_learner

    @register_term("plugin_bonus", batch_kind="any")
    def plugin_bonus(value: float = 2.0, name: str = "plugin_bonus"):
        """A constant bonus defined outside rewardkit."""
        return Constant(value, name)

    @register_learner("plugin_counter")
    def plugin_counter(config, reward, on_eval, on_progress):
        """Reports the reward's weighted term values as the return at each evaluation point."""
        steps = config["budget"]["steps"]
        value = float(config["learner"]["params"]["scale"]) * sum(
            w * t.value for t, w in zip(reward.terms.values(), reward.weights.values()))
        for step in range(steps // 2, steps + 1, steps // 2):
            on_eval(step, {"return_mean": value, "success_rate": 1.0}, {})
            if on_progress:
                on_progress(step)
        return steps
''')


def _spec(plugins, learner="plugin_counter"):
    return {"name": "plug", "env": {"id": "CartPole-v1"}, "plugins": plugins,
            "learner": {"type": learner, "params": {"scale": 3}}, "budget": {"steps": 10},
            "eval": {"every": 5, "episodes": 1}, "seeds": 2, "parallel": 2,
            "variants": {"a": {"reward": {"terms": [{"type": "plugin_bonus", "params": {"value": 2.0}}]}}}}


@pytest.fixture(scope="module")
def plugin_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugins")
    name = "rk_test_plugin_module"  # one module per session: registering it twice would be a duplicate
    (folder / f"{name}.py").write_text(PLUGIN, encoding="utf-8")
    sys.path.insert(0, str(folder))  # spawn workers start with the parent's sys.path
    yield name
    sys.path.remove(str(folder))


def test_registered_learner_and_term_run_in_spawn_workers(plugin_module, tmp_path):
    spec = parse_spec(_spec([plugin_module]))
    assert spec.learner == {"type": "plugin_counter", "params": {"scale": 3}}
    summary = run_experiment(spec, tmp_path / "out", progress=False, tensorboard=False, report=False)
    assert len(summary.completed) == 2 and not summary.failed
    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as con:
        values = {row[0] for row in con.execute("SELECT return_mean FROM evals")}
    assert values == {6.0}  # scale 3 x bonus 2: computed in the workers, which imported the plugin


def test_unknown_learner_names_close_matches(plugin_module):
    with pytest.raises(ConfigError, match=r"learner.type: .*plugin_counter"):
        parse_spec(_spec([plugin_module], learner="plugin_countr"))


@pytest.mark.parametrize("plugins, match", [
    ("mod", r"plugins: got 'mod'; expected a list"),
    (["no_such_plugin_xyz"], r"plugins\[0\]: cannot import 'no_such_plugin_xyz'"),
    (["os; rm"], r"plugins\[0\]: got 'os; rm'"),
])
def test_bad_plugins_are_one_line_errors(plugins, match):
    with pytest.raises(ConfigError, match=match):
        parse_spec(_spec(plugins))
