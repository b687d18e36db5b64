"""The lean core: with gymnasium, torch, matplotlib and scipy hidden, the core and the LLM verifiers work,
and an env/learn/lp feature fails with one line naming the extra that installs it (issue #12, item 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rewardkit.core.extras import EXTRAS, MissingExtraError, missing_extra, require

SRC = str(Path(__file__).resolve().parents[2] / "src")
HIDDEN = ("gymnasium", "torch", "matplotlib", "scipy", "stable_baselines3", "minigrid", "tensorboard")

# A meta-path finder that makes the hidden packages look uninstalled, then the checks; prints one JSON line.
PROBE = textwrap.dedent("""
    import importlib.abc, json, sys
    HIDDEN = set(sys.argv[1].split(","))
    tried = set()  # hidden top-level packages some import asked for (the finder refuses them all)

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in HIDDEN:
                tried.add(name.split(".")[0])
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    out = {}
    import rewardkit
    from rewardkit.core import SampleBatch, TransitionBatch, build_reward, weighted_sum, Constant
    out["tried_by_core"] = sorted(tried)
    import rewardkit.shaping, rewardkit.spec, rewardkit.credit, rewardkit.tabular, rewardkit.advantage, rewardkit.verify
    out["tried_by_packages"] = sorted(tried)
    llm = build_reward({"terms": [
        {"type": "math_answer", "name": "correct", "params": {"symbolic": False, "rules": ["boxed"]}},
        {"type": "think_answer_format", "name": "format", "weight": 0.5},
    ]})
    b = SampleBatch(["q", "q"], ["<think>x</think><answer>\\\\boxed{1/2}</answer>", "\\\\boxed{3}"],
                    {"answer": ["0.5", "1/2"]})
    out["llm"] = llm(b).tolist()
    env = weighted_sum({"task": build_reward({"terms": [{"type": "env_reward"}]}), "bias": Constant(0.25)},
                       {"task": 2.0, "bias": 1.0})
    tb = TransitionBatch(obs=[[0.0], [1.0]], action=[0, 1], next_obs=[[1.0], [2.0]], reward=[1.0, -1.0],
                         terminated=[False, True], truncated=[False, False])
    out["env"] = env(tb).tolist()
    out["grpo"] = rewardkit.advantage.bnpo([1.0, 0.0], [0, 0], alpha=2.0, beta=3.0).round(6).tolist()
    errors = {}
    for name, use in [
        ("gym_wrapper", lambda: __import__("rewardkit.integrations.gymnasium")),
        ("reward_machine_wrapper", lambda: rewardkit.spec.RewardMachineWrapper),
        ("tabular_env", lambda: rewardkit.tabular.FourRoomsEnv),
        ("exprd", lambda: rewardkit.shaping.exprd_design),
        ("barfi", lambda: rewardkit.shaping.BARFI),
        ("rnd", lambda: __import__("rewardkit.explore.rnd")),
        ("minigrid_term", lambda: build_reward({"terms": [{"type": "minigrid_doorkey_shaping"}]})),
    ]:
        try:
            use()
            errors[name] = None
        except Exception as e:
            errors[name] = [type(e).__name__, str(e)]
    out["errors"] = errors
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def probe() -> dict:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", PROBE, ",".join(HIDDEN)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_import_and_core_work_without_optional_packages(probe):
    assert probe["tried_by_core"] == []               # `import rewardkit` and the core do not even try them
    # the packages load SciPy, torch and the rest on first use; only rewardkit.tabular tries gymnasium at import
    # (it registers its Gymnasium env ids when gymnasium is there)
    assert set(probe["tried_by_packages"]) <= {"gymnasium"}, probe["tried_by_packages"]
    assert probe["llm"] == [1.5, 0.0]                 # correct + 0.5 format; wrong answer, no format
    assert probe["env"] == [2.25, -1.75]              # 2 x env reward + 0.25
    # BNPO without scipy: weight 1 / Beta(0.5; 2, 3) pdf = 1 / (0.5 * 0.25 * 12) = 2/3, times (r - p) = ±0.5
    assert probe["grpo"] == [round(1 / 3, 6), round(-1 / 3, 6)]


@pytest.mark.parametrize("feature, extra", [("gym_wrapper", "env"), ("reward_machine_wrapper", "env"),
                                            ("tabular_env", "env"), ("exprd", "lp"), ("barfi", "learn"),
                                            ("rnd", "learn")])
def test_a_feature_needing_an_extra_says_which(probe, feature, extra):
    kind, msg = probe["errors"][feature]
    assert kind == "MissingExtraError"
    assert "\n" not in msg and f"'rewardkit[{extra}]'" in msg and msg.split()[0] in HIDDEN


def test_an_unloadable_term_type_names_the_extra(probe):
    kind, msg = probe["errors"]["minigrid_term"]
    assert kind == "ConfigError" and "\n" not in msg
    assert "unknown term type 'minigrid_doorkey_shaping'" in msg
    assert "rewardkit.integrations.minigrid ('rewardkit[env]')" in msg


def test_require_and_missing_extra():
    assert require("json").dumps([1]) == "[1]"
    with pytest.raises(MissingExtraError, match=r"^no_such_pkg_rk is not installed; .*'rewardkit\[server\]'$"):
        require("no_such_pkg_rk", extra="server")
    with pytest.raises(MissingExtraError, match=r"'rewardkit\[lp\]'"):   # default: the EXTRAS table
        EXTRAS["no_such_pkg_rk2"] = "lp"
        try:
            require("no_such_pkg_rk2")
        finally:
            del EXTRAS["no_such_pkg_rk2"]
    err = missing_extra(ModuleNotFoundError("x", name="gymnasium.spaces"), "rl")
    assert isinstance(err, MissingExtraError) and isinstance(err, ImportError) and err.extra == "rl"
    other = ModuleNotFoundError("x", name="left_pad")
    assert missing_extra(other, "rl") is other       # a module that is not optional is not re-labelled


def test_every_extra_named_in_code_exists_in_pyproject():
    import re

    text = (Path(SRC).parent / "pyproject.toml").read_text()
    declared = set(re.findall(r"^([a-z-]+) = \[", text.split("[project.optional-dependencies]")[1], re.M))
    used = set(EXTRAS.values())
    for path in Path(SRC, "rewardkit").rglob("*.py"):
        used |= set(re.findall(r'missing_extra\(_e, "([a-z-]+)"\)', path.read_text()))
        used |= set(re.findall(r'require\([^)]*extra="([a-z-]+)"', path.read_text()))
    used.discard("core")                               # the doctest's example of an installed module
    assert used <= declared, used - declared
