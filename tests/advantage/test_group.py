"""Group advantage estimators: defining identities, reductions, NaN safety, a learning effect."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import beta as beta_fn

from rewardkit.advantage import (ESTIMATORS, bnpo, bnpo_params, dr_grpo, gdpo, grpo, opo, passk, reinforce_pp, rloo,
                                 weighted_reinforce)

groups = st.lists(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=8), min_size=1, max_size=5)


def flat(gs):
    r = np.concatenate([np.array(g) for g in gs])
    ids = np.concatenate([np.full(len(g), i) for i, g in enumerate(gs)])
    return r, ids


@given(groups)
def test_rloo_is_leave_one_out(gs):
    r, ids = flat(gs)
    expect = np.array([r[i] - np.mean(np.delete(r[ids == ids[i]], np.flatnonzero(np.flatnonzero(ids == ids[i]) == i)))
                       for i in range(len(r))])
    np.testing.assert_allclose(rloo(r, ids), expect, atol=1e-9)


@given(groups)
def test_grpo_is_zero_mean_unit_std_within_groups(gs):
    r, ids = flat(gs)
    a = grpo(r, ids, eps=0.0)
    for g in np.unique(ids):
        sel = ids == g
        np.testing.assert_allclose(a[sel].mean(), 0.0, atol=1e-7)
        if np.std(r[sel], ddof=1) > 1e-6:
            np.testing.assert_allclose(np.std(a[sel], ddof=1), 1.0, rtol=1e-6)


def test_degenerate_groups_and_nans():
    assert grpo([1.0], [0]).tolist() == [0.0]  # singleton
    assert grpo([1.0, 1.0, 1.0], [0, 0, 0]).tolist() == [0.0, 0.0, 0.0]  # no signal
    assert grpo([1.9258577062146562] * 5, [0] * 5, eps=0.0).tolist() == [0.0] * 5  # rounding noise is not signal
    a = grpo([1.0, np.nan, 0.0, 1.0, 0.0], [0, 0, 0, 1, 1])
    assert np.isfinite(a).all() and a[1] == 0.0
    np.testing.assert_allclose(a[[0, 2]], grpo([1.0, 0.0], [0, 0]))


@given(st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=8), min_size=1, max_size=6))
def test_bnpo_reductions(gs):
    r, ids = flat(gs)
    r = r.astype(float)
    # Beta(1, 1): REINFORCE with the group-mean baseline
    np.testing.assert_allclose(bnpo(r, ids, alpha=1.0, beta=1.0), dr_grpo(r, ids), atol=1e-9)
    # Beta(1.5, 1.5): pdf ∝ sqrt(p(1-p)) = Bernoulli std, so BNPO ∝ GRPO with the population std
    a = bnpo(r, ids, alpha=1.5, beta=1.5)
    g = grpo(r, ids, eps=0.0, ddof=0)
    mixed = np.array([0 < r[ids == i].mean() < 1 for i in ids])
    np.testing.assert_allclose(a[mixed], beta_fn(1.5, 1.5) * g[mixed], rtol=1e-6)


def test_bnpo_params_are_finite_when_every_group_has_the_same_rate():
    a, b = bnpo_params(np.zeros(4))
    assert np.isfinite([a, b]).all() and a >= 1 and b >= 1
    assert np.isfinite(bnpo([0.0] * 8, [0, 0, 1, 1, 2, 2, 3, 3])).all()


def test_other_estimators():
    assert opo([1.0, 0.0], [3, 1], [0, 0]).tolist() == [0.25, -0.75]
    assert passk([0.0, 1.0, 0.5, 2.0], [0, 0, 1, 1]).tolist() == [0.0, 1.0, 0.0, 1.5]
    assert weighted_reinforce([1, 0], lam=0.0).tolist() == [0.0, -1.0]
    a = reinforce_pp([3.0, 1.0, 0.0, 0.0, 5.0, 1.0], [0, 0, 1, 1, 2, 2])
    np.testing.assert_allclose([a.mean(), a.std()], [0.0, 1.0], atol=1e-7)
    g = gdpo({"acc": [1, 0, 1, 0], "fmt": [1, np.nan, 0, 0]}, [0, 0, 0, 0])
    assert np.isfinite(g).all()
    with pytest.raises(ValueError, match="group"):
        grpo([1.0, 0.0], [0])


@pytest.mark.parametrize("name", sorted(set(ESTIMATORS) - {"passk"}))  # pass@k optimises best-of-k, not pass@1
def test_estimator_improves_a_softmax_policy_on_a_verifiable_task(name):
    """Each prompt has 6 candidate answers, one correct; REINFORCE with the estimator's advantage."""
    rng = np.random.default_rng(0)
    n_prompts, n_answers, group, lr = 16, 6, 8, 0.5
    correct = rng.integers(n_answers, size=n_prompts)
    logits = np.zeros((n_prompts, n_answers))

    def success():
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return p[np.arange(n_prompts), correct].mean()

    start = success()
    est = ESTIMATORS[name]
    for _ in range(60):
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        prompts = np.repeat(np.arange(n_prompts), group)
        answers = np.array([rng.choice(n_answers, p=p[i]) for i in prompts])
        reward = (answers == correct[prompts]).astype(float)
        adv = est(reward, prompts)
        grad = np.zeros_like(logits)
        for i, a, A in zip(prompts, answers, adv, strict=False):
            onehot = np.eye(n_answers)[a]
            grad[i] += A * (onehot - p[i]) / group
        logits += lr * grad / max(np.abs(adv).max(), 1.0) * 4
    assert success() > start + 0.4, (name, start, success())
