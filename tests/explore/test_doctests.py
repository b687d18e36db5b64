"""Run the doctest examples of every rewardkit.explore module owned by this package."""

import doctest
import importlib
import pkgutil

import pytest

import rewardkit.explore as pkg

SKIP = {"ppo", "wrappers", "replay", "sb3", "timing"}  # integration modules test their own examples
MODULES = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name not in SKIP)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"rewardkit.explore.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0


def test_every_public_name_resolves():
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None, name


def test_timing_tool_runs_on_a_tiny_rollout(capsys):
    from rewardkit.explore import timing

    data = timing.record_rollouts("image", n_envs=2, steps=4)
    assert data["obs"].shape == (8, 2, 7, 7, 3)
    from rewardkit.explore.e3b import E3B

    r = timing.time_module(lambda: E3B(obs_shape=(7, 7, 3), n_actions=7, latent_dim=8), data, 4)
    assert set(r) == {"init", "observe", "compute", "update"} and all(v >= 0 for v in r.values())


def test_docs_examples_run():
    import pathlib
    import re

    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "explore.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert blocks
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, b in enumerate(blocks):
        runner.run(doctest.DocTestParser().get_doctest(b, {}, f"explore.md[{i}]", str(doc), 0))
    assert runner.summarize(verbose=False).failed == 0
