"""The unbiased pass@k estimator against its binomial definition and a Monte Carlo draw."""

from math import comb

import numpy as np
import pytest

from rewardkit.advantage import mean_pass_at_k, pass_at_k


def test_matches_the_binomial_form_everywhere_small():
    for n in range(1, 14):
        for c in range(n + 1):
            for k in range(1, n + 1):
                assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


def test_is_the_probability_that_k_draws_without_replacement_contain_a_pass():
    rng = np.random.default_rng(0)
    n, c, k = 12, 3, 4
    pool = np.array([1] * c + [0] * (n - c))
    hits = np.mean([pool[rng.choice(n, k, replace=False)].any() for _ in range(20000)])
    assert pass_at_k(n, c, k) == pytest.approx(hits, abs=0.01)


def test_large_n_does_not_overflow_and_mean_skips_short_problems():
    assert 0.0 < pass_at_k(10_000, 5, 100) < 1.0
    assert mean_pass_at_k([4, 2], [1, 2], 3) == pytest.approx(pass_at_k(4, 1, 3))
    with pytest.raises(ValueError, match="k: got 0"):
        pass_at_k(3, 1, 0)
