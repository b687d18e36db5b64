"""Run the doctest examples of every rewardkit.explore module owned by this package."""

import doctest
import importlib
import pkgutil

import pytest

import rewardkit.explore as pkg

SKIP = {"ppo", "wrappers", "replay", "sb3"}  # integration modules test their own examples
MODULES = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name not in SKIP)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"rewardkit.explore.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0


def test_every_public_name_resolves():
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None, name
