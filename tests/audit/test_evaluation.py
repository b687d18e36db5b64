"""Reward-model evaluation: RewardBench scoring, bootstrap CIs, McNemar, calibration, rank agreement."""

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit.audit.evaluation as ev
from rewardkit.core import ConfigError


def test_doctests():
    assert doctest.testmod(ev, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_ties_get_half_and_constant_model_scores_chance():
    rep = ev.pairwise_accuracy(np.zeros(50), np.zeros(50), n_boot=50)
    assert rep.accuracy == 0.5
    assert ev.pairwise_accuracy(np.zeros(4), np.zeros(4), tie_credit=0.0, n_boot=10).accuracy == 0.0


def test_section_scores_are_count_weighted_and_overall_is_mean_of_sections():
    # category a: 3 pairs all right; b: 1 pair wrong; c: 2 pairs, 1 right
    chosen = [1, 1, 1, 0, 1, 0]
    rejected = [0, 0, 0, 1, 0, 1]
    cats = ["a", "a", "a", "b", "c", "c"]
    rep = ev.pairwise_accuracy(chosen, rejected, cats, sections={"S1": ["a", "b"], "S2": ["c"]}, n_boot=100)
    assert rep.per_category["a"].accuracy == 1.0 and rep.per_category["b"].accuracy == 0.0
    assert rep.sections["S1"] == pytest.approx(3 / 4)          # (3*1 + 1*0) / 4, not (1 + 0) / 2
    assert rep.sections["S2"] == pytest.approx(0.5)
    assert rep.overall == pytest.approx((0.75 + 0.5) / 2)
    up = ev.pairwise_accuracy(chosen, rejected, cats, sections={"S1": ["a", "b"]}, weights={"b": 3}, n_boot=10)
    assert up.sections["S1"] == pytest.approx(0.5)              # RewardBench-style re-weighting
    assert "| **overall** |" in rep.table()


def test_bootstrap_interval_covers_truth_at_nominal_rate():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(100):
        o = (rng.random(200) < 0.7).astype(float)
        lo, hi = ev.pairwise_accuracy(o, np.zeros(200) + 0.5, n_boot=400, seed=int(rng.integers(1 << 30))).ci
        hits += lo <= 0.7 <= hi
    assert 88 <= hits <= 99


def test_stratified_bootstrap_ci_brackets_sections():
    rng = np.random.default_rng(1)
    cats = np.repeat(["x", "y"], 300)
    c = rng.normal(size=600) + np.where(cats == "x", 1.0, 0.0)
    r = rng.normal(size=600)
    rep = ev.pairwise_accuracy(c, r, cats, sections={"A": ["x"], "B": ["y"]}, n_boot=500)
    for k in ("A", "B"):
        lo, hi = rep.section_ci[k]
        assert lo < rep.sections[k] < hi and hi - lo < 0.15
    assert rep.overall_ci[0] < rep.overall < rep.overall_ci[1]


def test_mcnemar_separates_models_only_with_enough_discordant_pairs():
    a = np.r_[np.ones(60), np.zeros(40)]
    b = np.r_[np.ones(40), np.zeros(60)]
    b_, c_, p = ev.mcnemar_test(a, b)
    assert (b_, c_) == (20, 0) and p < 1e-5
    _, _, p2 = ev.mcnemar_test(np.r_[1, 1, 0, 1], np.r_[1, 0, 1, 1])
    assert p2 == 1.0


def test_calibration_ece_small_for_calibrated_large_for_overconfident():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(float)
    good = ev.calibration(p, y)
    logit = np.log(p / (1 - p))
    over = ev.calibration(1 / (1 + np.exp(-4 * logit)), y)
    assert good.ece < 0.02
    assert over.ece > 0.1 and over.brier > good.brier
    assert good.bin_count.sum() == 20000
    q = ev.calibration(p, y, strategy="quantile")
    assert q.bin_count.min() >= 1900


def test_temperature_fit_fixes_bt_miscalibration():
    rng = np.random.default_rng(3)
    d = rng.normal(size=30000) * 3.0                     # reward margins
    y = (rng.random(30000) < 1 / (1 + np.exp(-0.4 * d))).astype(float)
    before = ev.calibration(ev.bt_probability(d, np.zeros_like(d)), y).ece
    beta = ev.fit_temperature(d, y)
    after = ev.calibration(ev.bt_probability(d, np.zeros_like(d), beta), y).ece
    assert abs(beta - 0.4) < 0.03 and after < before / 3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=3, max_size=40), st.integers(0, 1000))
def test_rank_statistics_match_bruteforce(xs, seed):
    x = np.array(xs, dtype=float)
    y = np.random.default_rng(seed).integers(-3, 4, size=x.size).astype(float)
    # brute-force tau_b
    n = x.size
    conc = disc = tx = ty = 0
    for i in range(n):
        for j in range(i + 1, n):
            sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            conc += sx * sy > 0
            disc += sx * sy < 0
            tx += sx != 0
            ty += sy != 0
    want = (conc - disc) / math.sqrt(tx * ty) if tx and ty else math.nan
    got = ev.kendall_tau(x, y)
    assert (math.isnan(want) and math.isnan(got)) or got == pytest.approx(want)
    rx, ry = ev.rankdata(x), ev.rankdata(y)
    assert rx.sum() == pytest.approx(n * (n + 1) / 2)
    if rx.std() > 0 and ry.std() > 0:
        assert ev.spearman(x, y) == pytest.approx(np.corrcoef(rx, ry)[0, 1])


def test_rank_agreement_orders_noisy_scorers():
    rng = np.random.default_rng(0)
    gold = rng.normal(size=500)
    close = ev.rank_agreement(gold + 0.2 * rng.normal(size=500), gold)
    far = ev.rank_agreement(gold + 2.0 * rng.normal(size=500), gold)
    assert close["spearman"] > far["spearman"] > 0 and close["kendall_tau_b"] > far["kendall_tau_b"] > 0


def test_best_of_n_agreement_chance_and_perfect():
    rng = np.random.default_rng(0)
    gold = rng.normal(size=(2000, 4))
    assert ev.best_of_n_agreement(gold, gold)["top1"] == 1.0
    rand = ev.best_of_n_agreement(rng.normal(size=(2000, 4)), gold)
    assert abs(rand["top1"] - 0.25) < 0.03 and rand["regret"] > 0.5
    const = ev.best_of_n_agreement(np.zeros((10, 4)), gold[:10])
    assert const["top1"] == pytest.approx(0.25)       # ties split the credit


def test_length_baseline_is_just_pairwise_accuracy_on_lengths():
    # RewardBench issue #267: "pick the longer answer" can score high on length-biased subsets
    len_c = np.array([120, 300, 80, 400])
    len_r = np.array([60, 100, 200, 50])
    assert ev.pairwise_accuracy(len_c, len_r, n_boot=10).accuracy == 0.75


@pytest.mark.parametrize("call,field", [
    (lambda: ev.pairwise_accuracy([1, 2], [1]), "rejected"),
    (lambda: ev.pairwise_accuracy([1, 2], [1, 0], categories=["a"]), "categories"),
    (lambda: ev.pairwise_accuracy([1, 2], [1, 0], ["a", "b"], sections={"S": ["z"]}), "sections.S"),
    (lambda: ev.pairwise_accuracy([1, float("nan")], [1, 0]), "chosen"),
    (lambda: ev.calibration([1.5], [1]), "prob"),
    (lambda: ev.best_of_n_agreement([[1, 2]], [[1, 2, 3]]), "scores"),
])
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ConfigError) as e:
        call()
    assert e.value.field == field
