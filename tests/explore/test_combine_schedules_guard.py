"""Sum/Product/NGU multiplier, presets, schedules driving BonusTerm, and the farming guard."""

import warnings

import numpy as np
import pytest

from rewardkit.core import ConfigError, TransitionBatch, build_reward
from rewardkit.explore import BonusTerm, CountBonus
from rewardkit.explore.combine import NGUMultiplier, Product, Sum, count_x_count, e3b_x_noveld, e3b_x_rnd, ngu
from rewardkit.explore.guard import BonusFarmingWarning, BonusShareGuard
from rewardkit.core.schedules import constant, exponential, linear

F = np.array([False])


def cnt(mode, name):
    return CountBonus(mode, "explicit", name=name)


def run(b, keys):
    return [float(b.observe([[0]], [0], [[k]], F, F)[0]) for k in keys]


def test_product_of_global_and_first_visit_equals_count_x_count():
    p = Product([cnt("global", "g"), cnt("first_visit", "fv")])
    c = count_x_count("explicit")
    keys = [1, 2, 1, 3, 2]
    a = run(p, keys)
    p.reset()
    a += run(p, [1, 1])
    b = run(c, keys)
    c.reset()
    b += run(c, [1, 1])
    np.testing.assert_allclose(a, b)


def test_sum_weights_normalisation_and_logging():
    s = Sum({"g": cnt("global", "g"), "e": cnt("episodic", "e")}, weights=[2.0, 1.0])
    got = run(s, [5, 5])
    np.testing.assert_allclose(got, [3.0, 3 / np.sqrt(2)])
    assert set(s.last_terms) == {"g", "e"}
    sn = Sum([cnt("global", "g")], normalize=True)
    vals = run(sn, [1, 2, 1, 1])
    raw = np.array([1, 1, 1 / np.sqrt(2), 1 / np.sqrt(3)])
    assert vals[-1] == pytest.approx(raw[-1] / np.sqrt(np.var(raw) + 1e-8))
    with pytest.raises(ConfigError, match="weights"):
        Sum([cnt("global", "g")], weights={"zz": 1.0})
    with pytest.raises(ConfigError, match="duplicate"):
        Sum([cnt("global", "g"), cnt("episodic", "g")])


def test_ngu_multiplier_is_clipped_to_1_and_L():
    m = NGUMultiplier(cnt("first_visit", "ep"), cnt("global", "ll"), max_multiplier=2.0)
    m.lifelong_stats.update(np.array([0.0, 1.0]))  # mean 0.5, std 0.5
    np.testing.assert_allclose(m.multiplier(np.array([-10.0, 0.75, 10.0])), [1.0, 1.5, 2.0], rtol=1e-6)


def test_composite_state_dict_round_trip():
    p = Product([cnt("global", "g"), cnt("first_visit", "fv")], normalize=True)
    run(p, [1, 2, 3, 1])
    q = Product([cnt("global", "g"), cnt("first_visit", "fv")], normalize=True)
    q.load_state_dict(p.state_dict())
    assert run(p, [1, 4, 2]) == run(q, [1, 4, 2])


def test_learned_presets_run_end_to_end():
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(9, 2, 4)).astype(np.float32)
    batch = {"obs": obs[:-1], "next_obs": obs[1:], "actions": rng.integers(0, 3, (8, 2)),
             "terminated": np.zeros((8, 2), bool)}
    for preset in (e3b_x_rnd(obs_shape=(4,), n_actions=3), e3b_x_noveld(obs_shape=(4,), n_actions=3),
                   ngu(obs_shape=(4,), n_actions=3)):
        preset.warmup(obs.reshape(-1, 4))
        out = preset.compute(batch)
        assert out.shape == (8, 2) and np.isfinite(out).all() and (out >= 0).all()
        logs = preset.update(batch)
        assert logs and all("/" in k for k in logs)


def test_schedules():
    assert [linear(1.0, 0.0, 10)(t) for t in (0, 5, 10, 20)] == [1.0, 0.5, 0.0, 0.0]
    assert exponential(1.0, rate=0.5)(2) == 0.25
    assert exponential(1.0, rate=0.5, minimum=0.3)(5) == 0.3
    assert constant(2.0, warmup_steps=4)(1) == 0.5
    with pytest.raises(ConfigError, match="rate"):
        exponential(1.0)
    with pytest.raises(ConfigError, match="steps"):
        linear(1.0, 0.0, 0)


def test_schedule_drives_bonus_term_by_global_step():
    term = BonusTerm(CountBonus("global", "explicit"), coef=linear(1.0, 0.0, 4))
    b = TransitionBatch.from_arrays(np.zeros((2, 1)), [0, 0], np.array([[1], [2]]), [0.0, 0.0])
    first = term(b)          # step 0: coef 1.0
    second = term(b)         # step 2: coef 0.5
    third = term(b)          # step 4: coef 0.0
    np.testing.assert_allclose(first, [1.0, 1.0])
    np.testing.assert_allclose(second, 0.5 / np.sqrt(2))
    np.testing.assert_allclose(third, 0.0)


def _episodes(guard, n_eps, length, ext_last, intr):
    for _ in range(n_eps):
        for t in range(length):
            last = t == length - 1
            guard.update([ext_last if last else 0.0], [intr], terminated=[last and ext_last > 0],
                         truncated=[last and ext_last == 0])


def test_guard_flags_farming_and_stays_silent_on_a_healthy_bonus():
    healthy = BonusShareGuard(window=10, patience=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        for k in range(1, 8):  # exploring then solving; the per-step bonus decays
            _episodes(healthy, 10, 40, 0.0 if k < 3 else 1.0, 0.2 / k)
    assert not healthy.flagged
    farm = BonusShareGuard(window=10, patience=2)
    with pytest.warns(BonusFarmingWarning, match="farmed"):
        _episodes(farm, 20, 10, 1.0, 0.001)    # solves quickly
        _episodes(farm, 40, 100, 0.0, 0.1)     # then wanders until the time limit
    assert farm.flagged and {"success_fell", "length_rose"} <= farm.reasons
    rep = farm.report()
    assert rep["recent_share"] == pytest.approx(1.0) and rep["recent_success"] == 0.0
    never = BonusShareGuard(window=10, patience=2)   # farms from the start (success never rises)
    with pytest.warns(BonusFarmingWarning):
        _episodes(never, 40, 100, 0.0, 0.1)
    assert never.reasons == {"bonus_kept_without_success"}


def test_registered_terms_build_from_config():
    r = build_reward({"terms": [
        {"type": "global_x_episodic_bonus", "name": "gxe", "params": {"preset": "count_x_count", "key": "explicit"}},
        {"type": "simhash_bonus", "name": "sh", "params": {"obs_shape": [1], "bits": 4}},
    ]})
    b = TransitionBatch.from_arrays(np.zeros((1, 1)), [0], np.array([[3.0]]), [0.0])
    res = r.evaluate(b)
    assert res.terms["gxe"].tolist() == [1.0] and res.terms["sh"].tolist() == [0.01]
    with pytest.raises(ConfigError, match="preset"):
        build_reward({"terms": [{"type": "global_x_episodic_bonus", "params": {"preset": "nope"}}]})


def test_exploration_bonus_term_builds_every_method_and_reports_bad_options():
    from rewardkit.explore.terms import METHODS

    opts = {"obs_shape": [4], "n_actions": 2}
    needs_actions = {"icm", "disagreement", "e3b", "ride", "episodic_knn"}
    for method in METHODS:
        o = {} if method in ("count", "novelty_search") else (
            opts if method in needs_actions else {"obs_shape": [4]})
        r = build_reward({"terms": [{"type": "exploration_bonus", "name": "x",
                                     "params": {"method": method, "options": o,
                                                "coef": {"schedule": "exponential", "start": 1.0, "half_life": 10}}}]})
        b = TransitionBatch.from_arrays(np.zeros((2, 4)), [0, 1], np.ones((2, 4)), [0.0, 0.0])
        assert np.isfinite(r(b)).all(), method
    with pytest.raises(ConfigError, match=r"params\.method"):
        build_reward({"terms": [{"type": "exploration_bonus", "params": {"method": "curiosity"}}]})
    with pytest.raises(ConfigError, match=r"options\.ridg"):
        build_reward({"terms": [{"type": "exploration_bonus", "params": {"method": "e3b",
                                                                         "options": {**opts, "ridg": 1}}}]})
    with pytest.raises(ConfigError, match="ridge"):
        build_reward({"terms": [{"type": "exploration_bonus", "params": {"method": "e3b",
                                                                         "options": {**opts, "ridge": -1}}}]})
    with pytest.raises(ConfigError, match="schedule"):
        build_reward({"terms": [{"type": "exploration_bonus", "params": {"method": "count",
                                                                         "coef": {"schedule": "cosine"}}}]})
