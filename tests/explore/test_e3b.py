"""E3B: batched Sherman-Morrison exactness, s_{t+1} scoring, resets, rollout == per-step."""

import numpy as np
import pytest
import torch

from rewardkit.core import ConfigError
from rewardkit.explore.e3b import E3B, sherman_morrison_batch

RNG = np.random.default_rng(0)


def test_batched_sherman_morrison_matches_linalg_inv_after_640_steps():
    n, d, ridge = 8, 16, 0.1
    e3b = E3B(obs_shape=(6,), n_actions=3, latent_dim=d, ridge=ridge, num_envs=n, seed=0)
    obs = RNG.normal(size=(641, n, 6)).astype(np.float32)
    f = np.zeros(n, bool)
    for t in range(640):
        e3b.observe(obs[t], np.zeros(n, int), obs[t + 1], f, f)
    # C = ridge*I + phi(s_0) phi(s_0)^T + sum_t phi(s_{t+1}) phi(s_{t+1})^T, per env
    phi = e3b.embed(obs.reshape(-1, 6)).reshape(641, n, d)
    cov = torch.eye(d, dtype=torch.float64) * ridge + torch.einsum("tni,tnj->nij", torch.from_numpy(phi),
                                                                    torch.from_numpy(phi))
    exact = torch.linalg.inv(cov).numpy()
    rel = np.linalg.norm(e3b.c_inv - exact, axis=(1, 2)) / np.linalg.norm(exact, axis=(1, 2))
    assert rel.max() < 1e-4


def test_bonus_is_elliptical_norm_of_next_state_before_update():
    e3b = E3B(obs_shape=(4,), n_actions=2, latent_dim=8, encoder="random", seed=1)
    o, o1 = RNG.normal(size=(1, 4)).astype(np.float32), RNG.normal(size=(1, 4)).astype(np.float32)
    b = e3b.observe(o, [0], o1, [False], [False])[0]
    p0, p1 = e3b.embed(o)[0], e3b.embed(o1)[0]
    cinv = np.linalg.inv(0.1 * np.eye(8) + np.outer(p0, p0))  # s_0 is in C, with zero bonus
    assert b == pytest.approx(p1 @ cinv @ p1, rel=1e-6)


@pytest.mark.parametrize("flag", ["terminated", "truncated"])
def test_reset_on_terminated_or_truncated_only_for_that_env(flag):
    e3b = E3B(obs_shape=(3,), n_actions=2, latent_dim=4, seed=0)
    o = np.ones((2, 3), np.float32)
    f = np.zeros(2, bool)
    first = e3b.observe(o, [0, 0], o * 2, f, f)
    again = e3b.observe(o, [0, 0], o * 2, f, f)
    assert (again < first).all()
    end = np.array([True, False])
    kw = {"terminated": end, "truncated": f} if flag == "terminated" else {"terminated": f, "truncated": end}
    e3b.observe(o, [0, 0], o * 2, **kw)
    after = e3b.observe(o, [0, 0], o * 2, f, f)
    assert after[0] == pytest.approx(first[0])      # env 0: fresh episode, C reset
    assert after[1] < again[1]                      # env 1: still accumulating


def test_rollout_compute_equals_per_step_observe():
    T, n = 30, 4
    obs = RNG.normal(size=(T + 1, n, 5)).astype(np.float32)
    done = RNG.random((T, n)) < 0.1
    kw = dict(obs_shape=(5,), n_actions=3, latent_dim=8, seed=3)
    a, b = E3B(**kw), E3B(**kw)
    per_step = np.stack([a.observe(obs[t], np.zeros(n, int), obs[t + 1], done[t], np.zeros(n, bool))
                         for t in range(T)])
    batch = {"obs": obs[:-1], "next_obs": obs[1:], "actions": np.zeros((T, n), int),
             "terminated": done, "truncated": np.zeros((T, n), bool)}
    np.testing.assert_allclose(b.compute(batch), per_step, rtol=1e-5, atol=1e-8)
    # the encoder runs on different batch sizes (float32 rounding ~1e-7): compare the matrices as a whole
    rel = np.linalg.norm(a.c_inv - b.c_inv, axis=(1, 2)) / np.linalg.norm(a.c_inv, axis=(1, 2))
    assert rel.max() < 1e-5


def test_update_trains_inverse_dynamics_and_state_round_trip():
    kw = dict(obs_shape=(4,), n_actions=2, latent_dim=8, seed=0, lr=3e-3)
    e3b = E3B(**kw)
    # action determines the next state: a learnable inverse model
    s = RNG.normal(size=(512, 4)).astype(np.float32)
    a = RNG.integers(0, 2, 512)
    s2 = s + np.where(a[:, None] == 1, 1.0, -1.0).astype(np.float32)
    batch = {"obs": s, "next_obs": s2, "actions": a}
    first = e3b.update(batch)["e3b_inverse_loss"]
    for _ in range(30):
        last = e3b.update(batch)["e3b_inverse_loss"]
    assert last < 0.5 * first
    f = np.zeros(2, bool)
    e3b.observe(s[:2], a[:2], s2[:2], f, f)
    other = E3B(**{**kw, "seed": 5})
    other.load_state_dict(e3b.state_dict())
    x = e3b.observe(s[2:4], a[2:4], s2[2:4], f, f)
    y = other.observe(s[2:4], a[2:4], s2[2:4], f, f)
    np.testing.assert_array_equal(x, y)
    assert e3b.update(batch) == other.update(batch)


def test_sherman_morrison_single_matches_inverse():
    c = np.stack([np.eye(3) * 10.0])
    phi = np.array([[0.5, -1.0, 2.0]])
    sherman_morrison_batch(c, phi)
    np.testing.assert_allclose(c[0], np.linalg.inv(0.1 * np.eye(3) + np.outer(phi[0], phi[0])), rtol=1e-12)


def test_bad_config():
    with pytest.raises(ConfigError, match="ridge"):
        E3B(obs_shape=(3,), n_actions=2, ridge=0.0)
    with pytest.raises(ConfigError, match="n_actions"):
        E3B(obs_shape=(3,))


def test_time_flattened_observe_keeps_each_envs_order():
    T, n = 10, 3
    obs = RNG.normal(size=(T + 1, n, 4)).astype(np.float32)
    done = RNG.random((T, n)) < 0.2
    kw = dict(obs_shape=(4,), n_actions=2, latent_dim=6, seed=2)
    a, b = E3B(**kw), E3B(**kw)
    step = np.stack([a.observe(obs[t], np.zeros(n, int), obs[t + 1], done[t], np.zeros(n, bool)) for t in range(T)])
    flat = b.observe(obs[:-1].reshape(T * n, 4), np.zeros(T * n, int), obs[1:].reshape(T * n, 4), done.reshape(-1),
                     np.zeros(T * n, bool), env_index=np.tile(np.arange(n), T))
    np.testing.assert_allclose(flat, step.reshape(-1), rtol=1e-5)


@pytest.mark.parametrize("lifelong,chunk", [(False, 128), (False, 7), (True, 128), (True, 5)])
def test_blockwise_rollout_scan_equals_sherman_morrison_steps_across_rollouts(lifelong, chunk):
    """Several rollouts with frequent episode ends, a corrupt row, small blocks: the blockwise
    Cholesky scan gives the same bonuses and carried C^-1 as T x n rank-one updates."""
    T, n, R = 40, 5, 3
    obs = RNG.normal(size=(R * T + 1, n, 6)).astype(np.float32)
    term = RNG.random((R * T, n)) < 0.08
    trunc = RNG.random((R * T, n)) < 0.04
    obs[57, 2] = np.nan                                            # a corrupt next state
    kw = dict(obs_shape=(6,), n_actions=3, latent_dim=12, seed=4, lifelong=lifelong)
    step, block = E3B(**kw), E3B(**kw)
    block.scan_chunk = chunk
    for r in range(R):
        s = slice(r * T, (r + 1) * T)
        want = np.stack([step.observe(obs[t], np.zeros(n, int), obs[t + 1], term[t], trunc[t])
                         for t in range(r * T, (r + 1) * T)])
        got = block.compute({"obs": obs[s], "next_obs": obs[r * T + 1:(r + 1) * T + 1],
                             "actions": np.zeros((T, n), int), "terminated": term[s], "truncated": trunc[s]})
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        # the encoder runs on different batch sizes (float32 BLAS rounding ~1e-7)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
        rel = np.linalg.norm(block.c_inv - step.c_inv, axis=(1, 2)) / np.linalg.norm(step.c_inv, axis=(1, 2))
        assert rel.max() < 1e-5
        if r == 1:
            assert np.isnan(got[57 - 1 - T, 2]) and np.isnan(got).sum() == 1


def test_elliptical_scan_equals_rank_one_updates_exactly():
    """Same feature rows (no encoder): segments, unscored rows, padding -> SM to 1e-10."""
    from rewardkit.explore.e3b import elliptical_scan
    n, L, d, ridge = 4, 60, 9, 0.1
    phi = RNG.normal(size=(n, L, d)) * 3
    seg = np.cumsum(RNG.random((n, L)) < 0.1, axis=1)
    scored = RNG.random((n, L)) < 0.8
    phi[3, 50:] = 0.0                                            # padding rows
    c0 = np.linalg.inv(np.eye(d) * ridge + np.einsum("nki,nkj->nij", phi[:, :3], phi[:, :3]))
    c, want = c0.copy(), np.zeros((n, L))
    for t in range(L):
        fresh = seg[:, t] != (seg[:, t - 1] if t else 0)
        c[fresh] = np.eye(d) / ridge
        want[:, t] = np.where(scored[:, t], sherman_morrison_batch(c, phi[:, t]), 0.0)
    got, c_new = elliptical_scan(c0, phi, seg, scored, ridge)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(c_new, c, rtol=1e-9, atol=1e-10)
