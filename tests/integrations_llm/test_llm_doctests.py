"""Run the doctest examples of the judge, gate, export and server modules."""

import doctest
import importlib

import pytest

MODULES = ["rewardkit.verify.gate", "rewardkit.verify.judge", "rewardkit.integrations.trl",
           "rewardkit.integrations.verl", "rewardkit.integrations.openrlhf", "rewardkit.integrations.server"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
