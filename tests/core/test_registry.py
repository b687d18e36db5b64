"""One registry mechanism for terms, potentials, environments and learners."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rewardkit.core import Constant, ConfigError, DuplicateNameError, build_reward, register_term
from rewardkit.core.registry import ENVS, LEARNERS, POTENTIALS, TERMS, Registry, all_registries, plain_summary
from rewardkit.runner.envs import register_env
from rewardkit.runner.learners import register_learner
from rewardkit.shaping import register_potential

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _other(*_a, **_k):
    """A different factory."""


DUPLICATES = [
    ("term", lambda: register_term("alive", _other)),
    ("potential", lambda: register_potential("table", _other)),
    ("learner", lambda: register_learner("ppo", _other)),
]


@pytest.mark.parametrize("kind,again", DUPLICATES, ids=[k for k, _ in DUPLICATES])
def test_duplicate_builtin_name_raises_for_every_kind(kind, again):
    with pytest.raises(DuplicateNameError, match=r"already registered.*override=True"):
        again()
    assert all_registries()[kind].get(all_registries()[kind].names()[0]).kind == kind


def test_duplicate_env_raises_and_override_replaces():
    import gymnasium as gym

    def first():
        """First factory."""
        return gym.make("CartPole-v1")

    def second():
        """Second factory."""
        return gym.make("MountainCar-v0")

    register_env("test_reg_env", first)
    try:
        with pytest.raises(DuplicateNameError, match="env 'test_reg_env': already registered"):
            register_env("test_reg_env", second)
        assert ENVS.get("test_reg_env").factory is first
        register_env("test_reg_env", second, override=True)
        assert ENVS.get("test_reg_env").factory is second
        assert ENVS.get("test_reg_env").summary == "Second factory."
    finally:
        ENVS.unregister("test_reg_env")


def test_duplicate_is_a_config_error_and_same_factory_is_idempotent():
    def make(value=1.0, name="c"):
        return Constant(value, name)

    register_term("test_reg_idem", make)
    try:
        register_term("test_reg_idem", make)  # the same factory again (e.g. a module imported twice)
        with pytest.raises(ConfigError):
            register_term("test_reg_idem", lambda value=1.0, name="c": Constant(value, name))
        register_term("test_reg_idem", lambda value=2.0, name="c": Constant(value, name), override=True)
        assert build_reward({"terms": [{"type": "test_reg_idem"}]}).weights == {"test_reg_idem": 1.0}
    finally:
        TERMS.unregister("test_reg_idem")


@pytest.mark.parametrize("reg,bad,good", [(TERMS, "alvie", "alive"), (POTENTIALS, "tabel", "table"),
                                          (LEARNERS, "q_learnin", "q_learning")])
def test_unknown_name_lists_close_matches(reg, bad, good):
    with pytest.raises(ConfigError) as e:
        reg.get(bad, "some.field")
    msg = str(e.value)
    assert msg.startswith("some.field: unknown")
    assert f"did you mean '{good}'" in msg
    assert "\n" not in msg and all(n in msg for n in reg.names())


def test_unknown_env_and_term_in_configs_list_close_matches():
    with pytest.raises(ConfigError, match=r"reward.terms\[0\].type: unknown term type 'env_rewrd' \(did you mean "
                                          r"'env_reward'"):
        build_reward({"terms": [{"type": "env_rewrd"}]})
    from rewardkit.shaping import PotentialShaping

    with pytest.raises(ConfigError, match=r"potential.type: unknown potential 'zer0' \(did you mean 'zero'\?\)"):
        PotentialShaping({"type": "zer0"})
    reg = Registry("widget")
    reg.register("sprocket", _other)
    with pytest.raises(ConfigError, match="did you mean 'sprocket'"):
        reg.get("sprockett")
    with pytest.raises(ConfigError, match="unknown widget 'zzz'; expected one of: sprocket"):
        reg.get("zzz")  # nothing close: no hint, but the full list


def test_plain_summary_has_no_sphinx_markup():
    assert plain_summary("Pass :class:`~x.Y` and ``z`` to :func:`f`.\n\nBody") == "Pass x.Y and z to f."


def _cli(*args, columns=80):
    env = dict(os.environ, PYTHONPATH=SRC, COLUMNS=str(columns), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "terms", *args], env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_cli_lists_every_kind_plain_wrapped_and_json():
    data = json.loads(_cli("--json"))
    assert sorted(data) == ["env", "learner", "potential", "term"]
    for kind, reg in all_registries().items():
        if kind in data:
            listed = {r["name"] for r in data[kind]}
            assert {n for n in reg.names() if not n.startswith(("doc_", "test_"))} <= listed, kind
    assert {"ppo", "q_learning"} <= {r["name"] for r in data["learner"]}
    assert {"table", "zero"} <= {r["name"] for r in data["potential"]}
    assert len(data["term"]) >= 4
    text = _cli(columns=80)
    for heading in ("reward-term types", "potentials", "environment factories", "learners"):
        assert re.search(rf"^{heading}.*: \d+$", text, re.M), heading
    assert ":class:" not in text and "``" not in text and ":func:" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    for rows in data.values():  # every summary appears in full, wrapped but not cut
        for r in rows:
            assert " ".join(r["summary"].split()) in flat, r["name"]
