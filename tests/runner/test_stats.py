"""rliable aggregates across seeds (issue #12, section 5): IQM with stratified-bootstrap intervals,
performance profiles, probability of improvement; and their section of the HTML report."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import library, metrics
from scipy import stats as sps

from rewardkit.runner import stats
from rewardkit.runner.report import robust_stats, run_scores


def test_iqm_by_hand():
    # 8 runs: IQM drops the lowest two and the highest two (one of them an outlier) and averages the rest
    x = np.array([0.9, 0.1, 50.0, 0.4, 0.7, 0.2, 0.6, 0.3])
    assert stats.iqm(x) == pytest.approx(np.mean([0.3, 0.4, 0.6, 0.7]))
    assert stats.iqm(x) != pytest.approx(np.mean(x))


def test_point_estimates_equal_rliables():
    rng = np.random.default_rng(3)
    a, b = rng.random((7, 1)), rng.random((5, 1)) * 0.8
    assert stats.iqm(a) == pytest.approx(metrics.aggregate_iqm(a), abs=0)
    est = stats.probability_of_improvement({"b": b, "a": a}, "b", reps=20)["a"]
    assert est.point == pytest.approx(metrics.probability_of_improvement(a, b), abs=0)
    taus = np.linspace(0, 1, 11)
    np.testing.assert_allclose(stats.score_distribution(a, taus), library.score_distributions(a, taus))


def test_batched_statistics_match_rliable_replicate_by_replicate():
    """The bootstrap evaluates the statistics on all replicates at once; each must equal rliable's value."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        x = rng.integers(0, 4, (5, rng.integers(1, 7), 2)).astype(float)  # 5 replicates, ties likely
        y = rng.integers(0, 4, (5, rng.integers(1, 7), 2)).astype(float)
        poi = stats._improvement_batched(x, y)
        iqm = stats._iqm_batched(x)
        for r in range(5):
            assert poi[r] == pytest.approx(metrics.probability_of_improvement(x[r], y[r]), abs=1e-12)
            assert iqm[r] == pytest.approx(metrics.aggregate_iqm(x[r]), abs=1e-12)


def test_iqm_interval_agrees_with_scipys_percentile_bootstrap():
    """One task: the stratified bootstrap is the plain bootstrap over runs; SciPy's percentile interval of
    the same statistic (an independent implementation) lands within Monte-Carlo error."""
    x = np.random.default_rng(1).normal(size=12)
    e = stats.iqm_ci({"v": x}, reps=20000)["v"]
    ref = sps.bootstrap((x,), lambda s, axis: sps.trim_mean(s, 0.25, axis=axis), n_resamples=20000,
                        method="percentile", rng=np.random.default_rng(2)).confidence_interval
    assert e.low == pytest.approx(ref.low, abs=0.05) and e.high == pytest.approx(ref.high, abs=0.05)
    assert e.low < e.point < e.high


def test_fixed_seed_is_deterministic_and_leaves_global_state_alone():
    x = {"a": np.random.default_rng(5).random((6, 1)), "b": np.random.default_rng(6).random((6, 1))}
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    one = stats.iqm_ci(x, reps=300), stats.probability_of_improvement(x, "a", reps=300)
    two = stats.iqm_ci(x, reps=300), stats.probability_of_improvement(x, "a", reps=300)
    assert np.random.random() == before
    assert one == two
    assert stats.iqm_ci(x, reps=300, seed=1) != one[0]


def test_profile_band_contains_the_profile_and_decreases():
    p, lo, hi = stats.performance_profile({"v": np.linspace(0, 1, 9)}, np.linspace(0, 1, 21), reps=300)["v"]
    assert np.all(lo <= p + 1e-12) and np.all(p <= hi + 1e-12)
    assert np.all(np.diff(p) <= 0) and p[0] == pytest.approx(8 / 9) and p[-1] == 0


def test_bad_scores_are_one_line_errors():
    with pytest.raises(ValueError, match="NaN"):
        stats.iqm([0.1, np.nan])
    with pytest.raises(ValueError, match="baseline"):
        stats.probability_of_improvement({"a": [1.0]}, "zzz")


def _data(finals: dict[str, list[float]]) -> dict:
    variants = {}
    for name, fs in finals.items():
        curves = [[{"step": 0, "success_rate": 0.0, "return_mean": 0.0},
                   {"step": 10, "success_rate": f, "return_mean": 2 * f}] for f in fs]
        variants[name] = {"curves": curves, "status": ["done"] * len(fs)}
    variants["sparse"]["status"][-1] = "running"  # an unfinished run is left out
    return {"variants": variants}


def test_report_section_numbers():
    data = _data({"sparse": [0.0, 0.2, 0.1, 1.0], "pbrs": [0.9, 1.0, 0.8]})
    scores = run_scores(data)
    assert scores["final_success"]["sparse"].tolist() == [0.0, 0.2, 0.1]
    assert scores["success_auc"]["pbrs"].tolist() == [0.45, 0.5, 0.4]
    r = robust_stats(data, reps=200)
    fs = r["final_success"]
    assert fs["baseline"] == "sparse" and fs["poi"]["pbrs"].point == 1.0
    assert fs["iqm"]["pbrs"].point == pytest.approx(metrics.aggregate_iqm(np.array([[0.9], [1.0], [0.8]])))
    assert "profile" in fs and "profile" not in r["final_return"]  # returns have no known range
