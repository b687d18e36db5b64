"""Alignment Tipping Process (#156): deviation spreads with its reward and through imitation."""

import numpy as np
import pytest

from rewardkit.audit.tipping import TippingConfig, simulate_tipping
from rewardkit.core.errors import ConfigError


def _final(bonus: float, imitation: float, seeds: int = 4, at: int = -1) -> float:
    return float(np.mean([simulate_tipping(TippingConfig(bonus=bonus, imitation=imitation, rounds=200), seed=s)[at]
                          for s in range(seeds)]))


def test_violation_grows_with_the_deviation_reward():
    finals = [_final(b, 0.2) for b in (0.0, 0.5, 1.5)]
    assert finals[0] < 0.1 < finals[1] < finals[2] and finals[2] > 0.9


def test_imitation_spreads_the_deviation():
    assert _final(1.0, 0.2, at=49) > _final(1.0, 0.0, at=49) + 0.3


def test_no_deviant_seeds_and_no_bonus_stays_aligned_and_bad_config_is_refused():
    run = simulate_tipping(TippingConfig(bonus=0.0, seeds_deviant=0, rounds=100), seed=0)
    assert run.max() < 0.1
    with pytest.raises(ConfigError):
        simulate_tipping(TippingConfig(catch_prob=1.5))
