"""Crome (#193): neutral ties remove a spurious length preference; causal pairs keep the causal directions."""

import sys
from pathlib import Path

import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.learn.crome import causal_pairs, crome_augment, neutral_pairs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "learn"))
from crome_synthetic import fit_variants


@pytest.mark.parametrize("seed", range(2))
def test_crome_cuts_length_sensitivity_keeps_causal_accuracy_and_resists_length_hacking(seed):
    r = fit_variants(seed)
    base, crome = r["labelled pairs only"], r["+ causal + neutral (Crome)"]
    assert crome["length_sensitivity"] < base["length_sensitivity"] / 2
    assert crome["causal_accuracy"] > 0.93                       # holds (base: ~0.997)
    assert crome["bon16_true_reward"] > base["bon16_true_reward"] + 0.3


def test_pairs_are_counterfactual_edits():
    x = np.random.default_rng(0).normal(size=(10, 4))
    c = causal_pairs(x, causal=[1, 2], n=50, delta=0.5, seed=3)
    diff = c.a[:, 0] - c.b[:, 0]
    moved = ~np.isclose(diff, 0.0)
    assert np.allclose(diff[moved], 0.5) and np.all(moved.sum(axis=1) == 1)
    assert set(np.flatnonzero(moved.any(axis=0))) <= {1, 2} and np.all(c.label == 1.0)
    n = neutral_pairs(x, spurious=[3], n=50, seed=3)
    assert np.allclose(n.a[:, 0, :3], n.b[:, 0, :3]) and np.all(n.label == 0.5)
    with pytest.raises(ConfigError, match="spurious"):
        neutral_pairs(x, spurious=[9], n=1)
    with pytest.raises(ConfigError, match="delta"):
        causal_pairs(x, causal=[0], n=1, delta=0.0)
    assert len(crome_augment(n, causal=[0], spurious=[3], n_causal=5, n_neutral=7)) == 50 + 5 + 7
