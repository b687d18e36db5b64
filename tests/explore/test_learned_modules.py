"""ICM, Disagreement, RIDE, NovelD, RE3, NGU episodic kNN, SimHash: properties that can fail."""

import numpy as np
import pytest
import torch

from rewardkit.explore.disagreement import Disagreement
from rewardkit.explore.icm import ICM
from rewardkit.explore.ngu import EpisodicKNN, ngu_kernel_reward
from rewardkit.explore.noveld import NovelD
from rewardkit.explore.re3 import RE3
from rewardkit.explore.ride import RIDE
from rewardkit.explore.simhash import SimHashBonus, SimHashKey

RNG = np.random.default_rng(0)
F1 = np.array([False])


def _transitions(n=512, d=4):
    s = RNG.normal(size=(n, d)).astype(np.float32)
    a = RNG.integers(0, 2, n)
    s2 = s + np.where(a[:, None] == 1, 0.5, -0.5).astype(np.float32)
    return {"obs": s, "next_obs": s2, "actions": a}


def test_icm_forward_error_decays_on_seen_dynamics_and_is_seeded():
    batch = _transitions()
    icm = ICM(obs_shape=(4,), n_actions=2, seed=0, lr=3e-3)
    f = np.zeros(8, bool)
    b0 = icm.observe(batch["obs"][:8], batch["actions"][:8], batch["next_obs"][:8], f, f).mean()
    for _ in range(60):
        logs = icm.update(batch)
    seen = icm.observe(batch["obs"][:8], batch["actions"][:8], batch["next_obs"][:8], f, f).mean()
    assert seen < b0 / 2
    jump = batch["obs"][:8] + 6.0  # dynamics never seen in training
    assert icm.observe(batch["obs"][:8], batch["actions"][:8], jump, f, f).mean() > 3 * seen
    assert set(logs) == {"icm_inverse_loss", "icm_forward_loss"}
    twin = ICM(obs_shape=(4,), n_actions=2, seed=0, lr=3e-3)
    for _ in range(60):
        twin.update(batch)
    np.testing.assert_array_equal(icm.compute({"obs": batch["obs"][None], "next_obs": batch["next_obs"][None],
                                               "actions": batch["actions"][None]}),
                                  twin.compute({"obs": batch["obs"][None], "next_obs": batch["next_obs"][None],
                                                "actions": batch["actions"][None]}))


def test_icm_continuous_actions():
    icm = ICM(obs_shape=(3,), action_dim=2, seed=0)
    o = np.zeros((4, 3), np.float32)
    out = icm.observe(o, np.ones((4, 2)), o, np.zeros(4, bool), np.zeros(4, bool))
    assert out.shape == (4,)
    logs = icm.update({"obs": o[None], "next_obs": o[None], "actions": np.ones((1, 4, 2))})
    assert np.isfinite(logs["icm_inverse_loss"])


def test_disagreement_low_on_trained_data_high_elsewhere():
    batch = _transitions()
    d = Disagreement(obs_shape=(4,), n_actions=2, seed=0, lr=3e-3)
    for _ in range(80):
        d.update(batch)
    f = np.zeros(32, bool)
    seen = d.observe(batch["obs"][:32], batch["actions"][:32], batch["next_obs"][:32], f, f).mean()
    far = (batch["obs"][:32] * 8 + 20).astype(np.float32)
    unseen = d.observe(far, batch["actions"][:32], far, f, f).mean()
    assert unseen > 5 * seen


def test_ride_is_impact_over_sqrt_episodic_count_and_resets():
    ride = RIDE(obs_shape=(3,), n_actions=2, seed=0)
    o, o2 = np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32)
    imp = ride.impact(o, o2)[0]
    got = [ride.observe(o, [0], o2, F1, F1)[0] for _ in range(4)]
    np.testing.assert_allclose(got, imp / np.sqrt([1, 2, 3, 4]), rtol=1e-6)
    ride.observe(o, [0], o2, np.array([True]), F1)  # 5th visit, then the episode ends
    assert ride.observe(o, [0], o2, F1, F1)[0] == pytest.approx(imp)
    # rollout path == per-step path
    T, n = 12, 3
    obs = RNG.integers(0, 3, (T + 1, n, 3)).astype(np.float32)
    done = RNG.random((T, n)) < 0.2
    a, b = RIDE(obs_shape=(3,), n_actions=2, seed=1), RIDE(obs_shape=(3,), n_actions=2, seed=1)
    step = np.stack([a.observe(obs[t], np.zeros(n, int), obs[t + 1], done[t], np.zeros(n, bool)) for t in range(T)])
    roll = b.compute({"obs": obs[:-1], "next_obs": obs[1:], "terminated": done})
    np.testing.assert_allclose(roll, step, rtol=1e-5)


def test_noveld_clipped_difference_times_first_visit():
    nd = NovelD(obs_shape=(3,), alpha=0.5, seed=0)
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    n0, n1 = nd.novelty(x)
    got = nd.observe(x[:1], [0], x[1:], F1, F1)[0]
    assert got == pytest.approx(max(n1 - 0.5 * n0, 0.0), rel=1e-5)
    assert nd.observe(x[:1], [0], x[1:], F1, F1)[0] == 0.0          # second visit this episode
    assert nd.observe(x[1:], [0], x[:1], F1, F1)[0] == 0.0          # x[0] = s_0 is already counted
    nd.reset()
    assert nd.observe(x[:1], [0], x[1:], F1, F1)[0] == pytest.approx(got, rel=1e-5)
    nf = NovelD(obs_shape=(3,), alpha=0.0, first_visit=False, seed=0)   # = RND error
    assert nf.observe(x[:1], [0], x[1:], F1, F1)[0] == pytest.approx(n1, rel=1e-5)


def test_re3_knn_entropy_ring_buffer():
    re3 = RE3(obs_shape=(2,), k=1, storage_size=4, obs_norm=False, seed=0)
    f = np.zeros(1, bool)
    assert re3.observe(np.zeros((1, 2)), [0], np.zeros((1, 2)), f, f)[0] == 0.0  # empty buffer
    for v in range(4):
        re3.observe(np.zeros((1, 2)), [0], np.full((1, 2), 10.0 + v), f, f)
    assert re3.size == 4
    # the zero state has been overwritten in the 4-slot ring buffer: it is novel again
    assert re3.observe(np.zeros((1, 2)), [0], np.zeros((1, 2)), f, f)[0] > 0
    emb0 = re3.embed(np.zeros((1, 2)))
    assert any(np.allclose(row, emb0[0]) for row in re3.storage)
    out = re3.compute({"obs": np.zeros((5, 2, 2)), "next_obs": RNG.normal(size=(5, 2, 2))})
    assert out.shape == (5, 2) and (out > 0).all()


def test_ngu_kernel_and_vectorised_ring_buffers():
    assert ngu_kernel_reward(np.full((1, 10), 0.0), 1.0, max_similarity=2.0)[0] == 0.0  # sim sqrt(10) > 2
    knn = EpisodicKNN(obs_shape=(2,), n_actions=2, k=3, capacity=4, encoder="random", seed=0)
    f = np.zeros(2, bool)
    o = np.zeros((2, 2), np.float32)
    o[1] = 5.0
    outs = [knn.observe(o, [0, 0], o, f, f) for _ in range(6)]
    assert (knn.sizes == 4).all()                       # capacity-bounded
    assert outs[0][0] > outs[2][0]                      # repeated state: less novel
    # reset of env 0 only
    knn.observe(o, [0, 0], o, np.array([True, False]), f)
    assert knn.sizes.tolist() == [0, 4]
    # rollout path == per-step path
    T, n = 10, 3
    obs = RNG.normal(size=(T + 1, n, 2)).astype(np.float32)
    done = RNG.random((T, n)) < 0.2
    kw = dict(obs_shape=(2,), n_actions=2, k=2, capacity=8, seed=1)
    a, b = EpisodicKNN(**kw), EpisodicKNN(**kw)
    step = np.stack([a.observe(obs[t], np.zeros(n, int), obs[t + 1], done[t], np.zeros(n, bool)) for t in range(T)])
    np.testing.assert_allclose(b.compute({"obs": obs[:-1], "next_obs": obs[1:], "terminated": done}), step,
                               rtol=1e-5)
    c = EpisodicKNN(**kw)
    c.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.observe(obs[0], [0] * n, obs[1], np.zeros(n, bool), np.zeros(n, bool)),
                                  c.observe(obs[0], [0] * n, obs[1], np.zeros(n, bool), np.zeros(n, bool)))


def test_simhash_generalises_and_counts():
    key = SimHashKey(8, bits=16, seed=0)
    x = RNG.normal(size=(1, 8))
    assert key(x)[0] == key(x * 1.001)[0]               # tiny perturbation: same bucket
    assert key(x)[0] != key(-x)[0]
    sh = SimHashBonus(obs_shape=(8,), bits=16)
    vals = [sh.observe(x, [0], x, F1, F1)[0] for _ in range(4)]
    np.testing.assert_allclose(vals, 1 / np.sqrt([1, 2, 3, 4]))
    sh2 = SimHashBonus(obs_shape=(8,), bits=16)
    sh2.load_state_dict(sh.state_dict())
    assert sh2.observe(x, [0], x, F1, F1)[0] == pytest.approx(1 / np.sqrt(5))


def test_disagreement_vanishes_on_a_noisy_tv_while_prediction_error_stays():
    """Pathak et al. 2019: with stochastic next states the ensemble agrees on the mean, so the
    disagreement bonus vanishes, whereas a forward-prediction error (curiosity) stays high."""
    import torch

    rng = np.random.default_rng(0)
    d = Disagreement(obs_shape=(5,), n_actions=3, seed=0, lr=3e-3)
    s = rng.normal(size=(256, 5)).astype(np.float32)
    a = rng.integers(0, 3, 256)

    def noise():
        return rng.normal(size=(256, 5)).astype(np.float32)

    def stats():
        with torch.no_grad():
            preds, _ = d._predict(torch.from_numpy(s), a)
            target = d.features(torch.from_numpy(noise()))
            return preds.var(0, unbiased=False).mean().item(), (preds.mean(0) - target).pow(2).mean().item()

    var0, _ = stats()
    for _ in range(80):
        d.update({"obs": s, "next_obs": noise(), "actions": a})
    var1, err1 = stats()
    assert var1 < var0 / 10
    assert err1 > 20 * var1


@pytest.mark.parametrize("make", [
    lambda: __import__("rewardkit.explore.e3b", fromlist=["E3B"]).E3B(obs_shape=(300,), n_actions=3, latent_dim=8, seed=0),
    lambda: __import__("rewardkit.explore.rnd", fromlist=["RND"]).RND(obs_shape=(300,), obs_norm=False, seed=0),
])
def test_zero_column_skipping_trains_exactly_like_the_dense_layer(make, monkeypatch):
    """One-hot-heavy inputs (most columns zero in the whole batch): the skipping first layer
    gives the same losses, parameters and bonuses as a plain dense layer."""
    from rewardkit.explore.nets import ZeroColumnSkippingLinear
    rng = np.random.default_rng(0)
    obs = np.zeros((2, 64, 300), np.float32)
    obs[..., :20] = rng.normal(size=(2, 64, 20))
    obs[..., 100 + rng.integers(0, 5, (2, 64))] = 1.0      # a one-hot block
    batch = {"obs": obs[0], "next_obs": obs[1], "actions": rng.integers(0, 3, 64)}
    fast, dense = make(), make()
    calls = []
    real = ZeroColumnSkippingLinear.forward

    def spy(self, x):  # records whether each training forward saw the reduced columns
        calls.append(self.input_columns is not None and x.shape[1] < 300)
        return real(self, x)
    monkeypatch.setattr(ZeroColumnSkippingLinear, "forward", spy)
    logs_fast = [fast.update(batch) for _ in range(3)]
    assert calls and all(calls), "the update did not take the column-skipping path"
    monkeypatch.setattr(ZeroColumnSkippingLinear, "max_fraction", -1.0)   # never skip
    monkeypatch.setattr(ZeroColumnSkippingLinear, "forward", real)
    logs_dense = [dense.update(batch) for _ in range(3)]
    for a, b in zip(logs_fast, logs_dense, strict=False):
        assert a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], rel=1e-5) for k in a)
    f = np.zeros(64, bool)
    np.testing.assert_allclose(fast.observe(obs[0], batch["actions"], obs[1], f, f),
                               dense.observe(obs[0], batch["actions"], obs[1], f, f), rtol=1e-4, atol=1e-6)
    layers = [m for v in vars(fast).values() if isinstance(v, torch.nn.Module) for m in v.modules()
              if isinstance(m, ZeroColumnSkippingLinear)]
    assert layers and all(m.input_columns is None for m in layers)
