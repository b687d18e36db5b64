"""core.gae against a plain per-episode reference loop: terminations, truncations with bootstrap, batch shapes."""

import numpy as np
import pytest

from rewardkit.core import BatchError, bootstrap_values, gae


def reference_gae(r, v, v_next, term, trunc, gamma, lam):
    """Per env and per start step: sum_l (gamma*lam)^l delta_{t+l} up to the episode end or the rollout end."""
    T, n = r.shape
    out = np.zeros((T, n))
    for e in range(n):
        for t in range(T):
            acc, k = 0.0, t
            while k < T:
                delta = r[k, e] + (0.0 if term[k, e] else gamma * v_next[k, e]) - v[k, e]
                acc += (gamma * lam) ** (k - t) * delta
                if term[k, e] or trunc[k, e]:
                    break
                k += 1
            out[t, e] = acc
    return out


def rollout(seed, T=20, n=4):
    rng = np.random.default_rng(seed)
    term = rng.random((T, n)) < 0.12
    trunc = (rng.random((T, n)) < 0.12) & ~term
    return (rng.normal(size=(T, n)), rng.normal(size=(T, n)), rng.normal(size=(T, n)), term, trunc)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("lam", [0.0, 0.9, 1.0])
def test_equals_reference_loop_with_terminations_and_truncations(seed, lam):
    r, v, v_next, term, trunc = rollout(seed)
    gamma = 0.97
    got = gae(r, v, v_next, gamma * (1.0 - term), lam, episode_ends=term | trunc)
    np.testing.assert_allclose(got, reference_gae(r, v, v_next, term, trunc, gamma, lam), atol=1e-12)


def test_truncation_cuts_the_trace_but_keeps_the_bootstrap():
    # one env, truncated at step 1, a big reward after the boundary
    r = np.array([0.0, 0.0, 100.0])
    v = np.zeros(3)
    v_next = np.array([0.0, 2.0, 0.0])  # V(final obs of the truncated episode) = 2
    ends = np.array([False, True, False])
    adv = gae(r, v, v_next, 0.5, 1.0, episode_ends=ends)
    assert adv[1] == 1.0          # bootstrap gamma * V(final obs) kept
    assert adv[0] == 0.5          # nothing of the 100 after the boundary leaks back
    leaky = gae(r, v, v_next, 0.5, 1.0)  # without episode_ends the trace runs on: the documented reason for it
    assert leaky[0] > 10


def test_batch_shapes_are_carried_along():
    r, v, v_next, term, trunc = rollout(3, T=12, n=6)
    gamma, lam = 0.9, 0.8
    flat = gae(r, v, v_next, gamma * (1.0 - term), lam, episode_ends=term | trunc)
    shaped = gae(r.reshape(12, 2, 3), v.reshape(12, 2, 3), v_next.reshape(12, 2, 3),
                 (gamma * (1.0 - term)).reshape(12, 2, 3), lam, episode_ends=(term | trunc).reshape(12, 2, 3))
    np.testing.assert_allclose(shaped.reshape(12, 6), flat, atol=1e-12)
    single = gae(r[:, 2], v[:, 2], v_next[:, 2], gamma * (1.0 - term[:, 2]), lam, (term | trunc)[:, 2])
    np.testing.assert_allclose(single, flat[:, 2], atol=1e-12)


def test_per_step_lambda_zero_cuts_like_an_episode_end():
    r, v, v_next, term, trunc = rollout(4)
    ends = term | trunc
    lam_t = np.where(ends, 0.0, 0.95)
    a = gae(r, v, v_next, 0.99 * (1.0 - term), lam_t)
    b = gae(r, v, v_next, 0.99 * (1.0 - term), 0.95, episode_ends=ends)
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_bootstrap_values_uses_final_observation_at_ends():
    v = np.arange(6.0).reshape(3, 2)
    ends = np.array([[False, True], [False, False], [True, False]])
    fv = np.full((3, 2), -1.0)
    nv = bootstrap_values(v, np.array([10.0, 11.0]), fv, ends)
    assert nv.tolist() == [[2.0, -1.0], [4.0, 5.0], [-1.0, 11.0]]


def test_bad_shapes_name_the_field():
    with pytest.raises(BatchError, match="next_values"):
        gae(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((4, 2)), 0.9, 0.9)
    with pytest.raises(BatchError, match="lam"):
        gae(np.zeros(3), np.zeros(3), np.zeros(3), 0.9, 1.5)
    with pytest.raises(BatchError, match="episode_ends"):
        bootstrap_values(np.zeros(3), 0.0, final_values=np.zeros(3))
