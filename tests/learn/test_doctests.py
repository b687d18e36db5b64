"""Run the doctest examples of every rewardkit.learn module."""

import doctest
import importlib

import pytest

MODULES = ["models", "preferences", "bt", "ensemble", "active", "pluralistic", "irl", "adversarial", "terms", "text", "data"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(f"rewardkit.learn.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no doctest example"
    assert res.failed == 0
