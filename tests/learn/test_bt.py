"""Bradley-Terry reward models: held-out ranking, loss formulas, io and bad input."""

import math

import numpy as np
import pytest

from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.learn import (MLPReward, PreferencePairs, RewardEnsemble, bt_loss, fit_linear_bt,
                             linear_preference_task, load_reward_model, pair_accuracy, fit_bt, fit_ensemble)


@pytest.fixture(scope="module")
def task():
    train, w, _ = linear_preference_task(400, dim=6, seg_len=3, temperature=0.2, seed=0)
    test, _, diff = linear_preference_task(1000, dim=6, seg_len=3, seed=1, w=w)
    return train, test, diff


def test_mlp_bt_ranks_heldout_pairs(task):
    train, test, diff = task
    model = fit_bt(train, hidden=(32,), epochs=40, batch_size=64, lr=1e-2, seed=0)
    acc = pair_accuracy(model, test.a, test.b, diff)
    untrained = fit_bt(train, hidden=(32,), epochs=0, seed=0)
    assert acc > 0.9
    assert pair_accuracy(untrained, test.a, test.b, diff) < 0.8  # the effect comes from training


def test_linear_bt_ranks_heldout_pairs(task):
    train, test, diff = task
    assert pair_accuracy(fit_linear_bt(train), test.a, test.b, diff) > 0.95


def test_margin_and_scaled_losses_use_the_margin(task):
    train, test, diff = task
    hard = (train.label > 0.5).astype(float)
    strength = np.ones(len(train))
    p = PreferencePairs(train.a, train.b, hard, margin=strength)
    for loss in ("margin", "scaled"):
        m = fit_bt(p, hidden=(), loss=loss, epochs=20, seed=0)
        assert pair_accuracy(m, test.a, test.b, diff) > 0.9
    with pytest.raises(ConfigError, match="margin"):
        fit_bt(train, loss="margin", epochs=1)
    with pytest.raises(ConfigError, match=r"pairs\.margin"):
        fit_bt(PreferencePairs(train.a, train.b, hard, margin=-strength), loss="scaled", epochs=1)


def test_loss_formulas_match_closed_forms():
    d = np.array([0.3, -1.2, 2.0])
    y = np.array([1.0, 0.0, 0.7])
    def sig(x):
        return 1 / (1 + np.exp(-x))
    bt = -(y * np.log(sig(d)) + (1 - y) * np.log(sig(-d))).mean()
    assert bt_loss(d, y) == pytest.approx(bt)
    m = np.array([0.5, 1.0, 2.0])
    margin = -(y * np.log(sig(d - m)) + (1 - y) * np.log(sig(-d - m))).mean()
    assert bt_loss(d, y, "margin", margin=m) == pytest.approx(margin)
    scaled = (m * -(y * np.log(sig(d)) + (1 - y) * np.log(sig(-d)))).mean()
    assert bt_loss(d, y, "scaled", margin=m) == pytest.approx(scaled)
    t = 0.9 * y + 0.05
    assert bt_loss(d, y, "smooth", epsilon=0.1) == pytest.approx(-(t * np.log(sig(d)) + (1 - t) * np.log(sig(-d))).mean())
    p = 0.1 + 0.8 * sig(d)
    assert bt_loss(d, y, "noisy", epsilon=0.2) == pytest.approx(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
    # the noise-aware loss of a confidently wrong pair is bounded by -log(eps/2); plain BT is not
    assert bt_loss(np.array([100.0]), np.array([0.0]), "noisy", epsilon=0.2) == pytest.approx(-math.log(0.1), rel=1e-6)
    assert bt_loss(np.array([100.0]), np.array([0.0])) == pytest.approx(100.0, rel=1e-6)


def test_center_penalty_centres_rewards(task):
    train, _, _ = task
    x = train.a.reshape(-1, train.dim)
    plain = fit_bt(train, hidden=(16,), epochs=15, seed=1, lr=3e-2)
    centred = fit_bt(train, hidden=(16,), epochs=15, seed=1, lr=3e-2, center_coef=1.0)
    assert abs(plain(x).mean()) > 0.2       # BT alone leaves the offset free
    assert abs(centred(x).mean()) < 0.05    # the centring penalty pins it near 0


def test_save_load_roundtrip(tmp_path, task):
    train, test, _ = task
    m = fit_bt(train, hidden=(8,), epochs=2, seed=0)
    m.save(tmp_path / "rm.npz")
    m2 = load_reward_model(tmp_path / "rm.npz")
    x = test.a[:5, 0]
    np.testing.assert_allclose(m(x), m2(x))
    ens = fit_ensemble(train, n_members=3)
    ens.save(tmp_path / "ens.npz")
    e2 = load_reward_model(tmp_path / "ens.npz")
    assert isinstance(e2, RewardEnsemble) and len(e2) == 3
    np.testing.assert_allclose(ens.std(x), e2.std(x))
    with pytest.raises(ConfigError, match="does not exist"):
        load_reward_model(tmp_path / "missing.npz")


def test_bad_input_names_the_field():
    with pytest.raises(BatchError, match="label"):
        PreferencePairs(np.zeros((2, 3)), np.zeros((2, 3)), [0.5, 1.5])
    with pytest.raises(BatchError, match=r"^b"):
        PreferencePairs(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(BatchError, match="a:"):
        PreferencePairs(np.zeros(3), np.zeros(3))
    with pytest.raises(BatchError, match="features"):
        MLPReward.linear([1.0, 2.0])(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="loss"):
        fit_bt(PreferencePairs(np.zeros((2, 3)), np.ones((2, 3))), loss="hinge")
    with pytest.raises(BatchError, match="NaN"):
        PreferencePairs(np.full((1, 2), np.nan), np.zeros((1, 2)))
