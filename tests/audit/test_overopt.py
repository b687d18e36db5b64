"""Over-optimisation scaling-law fits, BoN KL, proxy-vs-gold simulation, hacking detectors and PAR."""

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit.audit.hacking as hk
import rewardkit.audit.overoptimization as oo
from rewardkit.core import ComposedReward, Constant, ConfigError, FunctionTerm, SampleBatch, build_reward


def test_doctests():
    for mod in (oo, hk):
        assert doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0


def test_bon_kl_matches_numerical_kl_of_the_max_of_n():
    # pi_bon has density n u^{n-1} on the base policy's quantile u in [0, 1]
    u = (np.arange(200000) + 0.5) / 200000
    for n in (1, 2, 5, 64):
        log_dens = math.log(n) + (n - 1) * np.log(u)
        kl = float(np.mean(np.exp(log_dens) * log_dens))
        assert kl == pytest.approx(oo.bon_kl(n), abs=2e-3)


@pytest.mark.parametrize("form,alpha,beta", [("bon", 1.0, 0.3), ("bon", 0.5, 0.05), ("rl", 1.2, 0.6),
                                             ("rl", 0.8, 0.2)])
def test_fit_recovers_coefficients_from_noisy_curves(form, alpha, beta):
    rng = np.random.default_rng(0)
    d = np.sqrt(oo.bon_kl(np.unique(np.round(np.logspace(0, 4, 40)))))
    d = d * (3.0 / d.max())
    clean = (oo.gao_bon if form == "bon" else oo.gao_rl)(d, alpha, beta)
    fit = oo.fit_overoptimization(d, clean + 0.01 * rng.standard_normal(d.size), form=form)
    assert fit.alpha == pytest.approx(alpha, rel=0.05) and fit.beta == pytest.approx(beta, rel=0.08)
    assert fit.r2 > 0.95
    if form == "bon":
        assert fit.d_peak == pytest.approx(alpha / (2 * beta), rel=0.1)
    else:
        assert fit.d_peak == pytest.approx(math.exp(alpha / beta - 1), rel=0.15)
    # the wrong functional form fits worse
    other = oo.fit_overoptimization(d, clean, form="rl" if form == "bon" else "bon")
    assert other.r2 < oo.fit_overoptimization(d, clean, form=form).r2


def test_baseline_is_subtracted():
    d = np.linspace(0.1, 3, 20)
    fit = oo.fit_overoptimization(d, oo.gao_bon(d, 1.0, 0.2) + 5.0, baseline=5.0)
    assert fit.alpha == pytest.approx(1.0) and fit.beta == pytest.approx(0.2)


def test_misspecified_proxy_gold_peaks_then_falls_while_proxy_keeps_rising():
    ns = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]
    c = oo.simulate_best_of_n(oo.misspecified_proxy(), ns=ns, n_prompts=600, seed=0)
    assert np.all(np.diff(c.proxy) > 0)                          # proxy monotone in n
    k = c.peak_index
    assert 0 < k < len(ns) - 3                                   # interior peak
    assert c.gold[k] - c.gold[-1] > 5 * c.gold_se[-1]            # a real fall, not noise
    assert c.gold_drop > 0.5 and c.gap > 3.0
    fit = oo.fit_overoptimization(c.d, c.gold, form="bon")
    assert fit.r2 > 0.95 and abs(fit.d_peak - c.d_peak) < 0.3     # Gao's BoN form locates the peak
    assert "| 2048 |" in c.table()


def test_gaussian_proxy_is_regressional_only_gold_never_falls():
    c = oo.simulate_best_of_n(oo.gaussian_proxy(1.0), ns=[1, 4, 16, 64, 256, 1024], n_prompts=600, seed=1)
    assert np.all(np.diff(c.gold) > 0) and c.gold_drop == 0.0
    # gold gain ~ half the proxy gain when noise and signal have equal variance
    assert 0.35 < c.gold[-1] / c.proxy[-1] < 0.65


def test_kl_optimal_policy_is_the_regularised_maximiser():
    rng = np.random.default_rng(0)
    r = rng.normal(size=20)
    pi, kl = oo.kl_optimal_policy(r, 0.5)
    best = pi @ r - 0.5 * kl
    for _ in range(200):                      # no random policy does better on E[r] - beta KL
        q = rng.dirichlet(np.ones(20))
        assert q @ r - 0.5 * np.sum(q * np.log(q * 20)) <= best + 1e-12


def _par_centred(p):
    return hk.par_transform(p.ravel(), np.repeat(p.mean(axis=1), p.shape[1])).reshape(p.shape)


def test_par_keeps_gold_under_strong_kl_regularised_optimisation():
    betas = (3, 1, 0.3, 0.1, 0.03, 0.01, 0.003)
    raw = oo.simulate_kl_regularised(oo.misspecified_proxy(), betas, n_candidates=512, n_prompts=600, seed=0)
    par = oo.simulate_kl_regularised(oo.misspecified_proxy(), betas, n_candidates=512, n_prompts=600, seed=0,
                                     transform=_par_centred)
    assert np.all(np.diff(raw.proxy) > -1e-9) and np.all(np.diff(raw.kl) > -1e-9)
    assert raw.gold.max() - raw.gold[-1] > 3 * raw.gold_se[-1]             # raw proxy: gold peaks then falls
    strong = slice(4, None)                                                  # beta <= 0.03
    se = np.hypot(raw.gold_se[strong], par.gold_se[strong])
    assert np.all(par.gold[strong] - raw.gold[strong] > 3 * se)
    assert par.gold.max() > raw.gold.max()


@pytest.mark.parametrize("call,field", [
    (lambda: oo.fit_overoptimization([1.0], [1.0]), "d"),
    (lambda: oo.fit_overoptimization([1.0, 2.0], [1.0]), "gold"),
    (lambda: oo.fit_overoptimization([1.0, 2.0], [1.0, 2.0], form="x"), "form"),
    (lambda: oo.bon_kl(0), "n"),
    (lambda: oo.simulate_best_of_n(oo.gaussian_proxy(), ns=[0]), "ns"),
    (lambda: oo.kl_optimal_policy([1.0, 2.0], 0.0), "beta"),
    (lambda: oo.kl_optimal_policy([1.0, 2.0], 1.0, base=[0.5, 0.6]), "base"),
    (lambda: oo.simulate_kl_regularised(oo.gaussian_proxy(), betas=[-1.0]), "betas"),
])
def test_overopt_bad_input(call, field):
    with pytest.raises(ConfigError) as e:
        call()
    assert e.value.field == field


# --------------------------------------------------------------------------- hacking detectors

def _runs(seed, T=400):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    healthy = (np.log1p(t / 20) + 0.15 * rng.standard_normal(T), 0.8 * np.log1p(t / 20) + 0.15 * rng.standard_normal(T))
    plateau = (0.15 * rng.standard_normal(T), 0.15 * rng.standard_normal(T))
    gold = np.where(t < 150, t / 150, 1 - (t - 150) / 250) + 0.15 * rng.standard_normal(T)
    hacking = (2 * t / T + 0.15 * rng.standard_normal(T), gold)
    return healthy, plateau, hacking


def test_divergence_detector_flags_hacking_runs_not_healthy_ones():
    flagged = {"healthy": 0, "plateau": 0, "hacking": 0}
    steps = []
    for seed in range(20):
        healthy, plateau, hacking = _runs(seed)
        flagged["healthy"] += hk.detect_proxy_gold_divergence(*healthy, window=50).flagged
        flagged["plateau"] += hk.detect_proxy_gold_divergence(*plateau, window=50).flagged
        rep = hk.detect_proxy_gold_divergence(*hacking, window=50)
        flagged["hacking"] += rep.flagged
        if rep.flagged:
            steps.append(rep.step)
            assert 120 < rep.gold_peak_step < 180
    assert flagged["hacking"] == 20
    assert flagged["healthy"] <= 1 and flagged["plateau"] == 0
    assert all(150 < s < 300 for s in steps)           # after the gold peak, within ~a window or two


def test_rolling_corr_matches_numpy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=60), rng.normal(size=60)
    rc = hk.rolling_corr(x, y, 10)
    assert np.isnan(rc[:9]).all()
    assert rc[25] == pytest.approx(np.corrcoef(x[16:26], y[16:26])[0, 1])


def test_component_dominance_from_a_composed_reward():
    r = ComposedReward([(FunctionTerm("format", lambda b: [1.0] * len(b)), 1.0),
                        (FunctionTerm("correct", lambda b: [float(c == "4") for c in b.completions]), 2.0)])
    res = r.evaluate(SampleBatch(["q"] * 4, ["4", "5", "6", "7"]))
    rep = hk.component_dominance(res)
    assert rep.shares["format"] == pytest.approx(1.0 / 1.5) and rep.dominant == "format" and not rep.flagged
    steps = {"format": np.ones((5, 8)), "correct": np.r_[np.ones((1, 8)), np.zeros((4, 8))]}
    rep2 = hk.component_dominance(steps, threshold=0.8)
    assert rep2.flagged and rep2.share_over_time["format"][0] == 0.5 and rep2.share_over_time["format"][-1] == 1.0


def test_length_exploitation_flags_length_driven_rewards():
    rng = np.random.default_rng(0)
    n = 600
    steps = np.repeat(np.arange(30), 20)
    length = rng.integers(20, 60, n) + 10 * steps
    hacked = hk.length_exploitation(0.01 * length + 0.1 * rng.standard_normal(n), length, steps)
    fair = hk.length_exploitation(rng.standard_normal(n), rng.integers(20, 60, n), steps)
    assert hacked.flagged and hacked.spearman > 0.8 and hacked.length_trend > 0.9
    assert not fair.flagged and abs(fair.spearman) < 0.15


# --------------------------------------------------------------------------- PAR

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20), st.floats(-50, 50), st.floats(0.0, 100.0))
def test_par_is_bounded_monotone_and_centred(rs, ref, delta):
    r = np.array(rs)
    out = hk.par_transform(r, ref)
    assert np.all((out >= 0) & (out <= 1))
    assert np.all(hk.par_transform(r + delta, ref) >= out - 1e-12)           # monotone in the reward
    assert hk.par_transform(np.array([ref]), ref)[0] == pytest.approx(0.5)   # centred on the reference


def test_par_saturates_so_pushing_the_raw_reward_pays_little():
    gains = np.diff(hk.par_transform(np.array([0.0, 1.0, 5.0, 10.0, 100.0]), 0.0))
    assert gains[0] > 0.2 and gains[-1] < 1e-4


def test_par_term_scores_reference_completions_with_the_wrapped_term():
    length = FunctionTerm("length", lambda b: [len(c) for c in b.completion_texts()])
    t = hk.PARTerm(length, reference_completion_column="sft")
    b = SampleBatch(["p"] * 3, ["ab", "abcd", "a" * 50], {"sft": [["ab", "abcd"], ["abcd", "abcd"], ["a", "a"]]})
    out = t(b)
    def s(x):
        return 1 / (1 + math.exp(-x))
    assert out.tolist() == pytest.approx([(s(0) + s(-2)) / 2, 0.5, s(49)])
    col = hk.PARTerm(length, reference_column="ref")(SampleBatch(["p"], ["abc"], {"ref": [[3.0, 1.0]]}))
    assert col.tolist() == pytest.approx([(0.5 + s(2)) / 2])


def test_par_is_registered_for_configs():
    r = build_reward({"terms": [{"type": "par", "name": "shaped", "params": {
        "term": {"type": "constant", "params": {"value": 3.0}}, "reference_column": "ref"}}]})
    assert r(SampleBatch(["p", "p"], ["a", "b"], {"ref": [3.0, 2.0]})).tolist() == pytest.approx(
        [0.5, 1 / (1 + math.exp(-1))])
    with pytest.raises(ConfigError):
        build_reward({"terms": [{"type": "par", "params": {"term": {"type": "constant"}}}]})
    with pytest.raises(ConfigError):
        hk.PARTerm(Constant(1.0))
