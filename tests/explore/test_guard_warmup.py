"""BonusShareGuard warm-up (issue #3): an episodic bonus that has not succeeded *yet* is not farming.

The streams are scripted per step on 8 synchronised envs, shaped like the measured
MiniGrid MultiRoom-N2-S4 runs of ``bench/explore/b3_no_harm.py``: failed episodes are
truncated at 40 steps with no extrinsic reward; an episodic bonus (E3B-like) pays the
same intrinsic return every episode, so it never "decays".
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.explore.guard import BonusFarmingWarning, BonusShareGuard

N_ENVS, MAX_LEN = 8, 40


def run_stream(guard: BonusShareGuard, rounds: int, success_prob, bonus_per_step: float = 0.005,
               seed: int = 0) -> list[int]:
    """``rounds`` synchronised episodes per env; ``success_prob(round)`` is each episode's chance to
    reach the goal (a float, or one probability per env; then it terminates after 12 steps with reward ``1 - 0.9 * 12 / 40``).
    Returns the total step at which each round ended."""
    rng = np.random.default_rng(seed)
    ends = []
    for r in range(rounds):
        succeeds = rng.random(N_ENVS) < success_prob(r)
        length = np.where(succeeds, 12, MAX_LEN)
        for t in range(MAX_LEN):
            alive = t < length
            idx = np.flatnonzero(alive)
            last = t == length[idx] - 1
            ext = np.where(last & succeeds[idx], 1.0 - 0.9 * 12 / MAX_LEN, 0.0)
            guard.update(ext, np.full(idx.size, bonus_per_step), terminated=last & succeeds[idx],
                         truncated=last & ~succeeds[idx], env_index=idx)
        ends.append(guard.step)
    return ends


def late_success(r: int) -> float:
    """No success for the first 22 episodes per env (880 steps per env), then it is learned."""
    return 0.0 if r < 22 else min(0.9, 0.05 * (r - 21))


def test_episodic_bonus_with_late_success_is_not_flagged():
    g = BonusShareGuard(num_envs=N_ENVS)          # defaults: warmup_steps=1000 per env
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # any BonusFarmingWarning fails the test
        run_stream(g, 80, late_success)
    rep = g.report()
    assert not g.flagged and rep["reasons"] == []
    assert rep["recent_success"] > 0.5 and rep["warmup_steps"] == 1000
    # the per-episode intrinsic return never decayed: the old window-to-window criterion had nothing to go on
    rets = [e.intrinsic_return for e in g.episodes]
    assert np.ptp(rets) < 1e-9 + 0.005 * MAX_LEN


def test_never_succeeding_bonus_is_flagged_after_the_warmup():
    g = BonusShareGuard(num_envs=N_ENVS)
    with pytest.warns(BonusFarmingWarning, match="bonus_kept_without_success"):
        ends = run_stream(g, 60, lambda r: 0.0)
    assert g.flagged and g.reasons == {"bonus_kept_without_success"}
    # not before the warm-up (1000 steps per env = 8,000 steps), and at most patience+1 windows later
    assert 1000 * N_ENVS <= g.flag_step <= 1000 * N_ENVS + (g.patience + 1) * g.window * MAX_LEN
    assert g.flag_step <= ends[-1]
    rep = g.report()
    assert rep["warmed_up"] and rep["steps_since_success"] == pytest.approx(60 * MAX_LEN)
    assert rep["last_check"]["warmed_up"] and rep["recent_share"] == pytest.approx(1.0)


def test_warmup_matters_without_it_the_early_stream_is_flagged():
    g = BonusShareGuard(num_envs=N_ENVS, warmup_steps=0, warn=False)
    ends = run_stream(g, 80, late_success)
    assert g.flagged and g.reasons == {"bonus_kept_without_success"}
    assert g.flag_step < ends[21]                  # flagged before the first success could come
    longer = BonusShareGuard(num_envs=N_ENVS, warmup_steps=400, warn=False)
    run_stream(longer, 80, late_success)
    assert longer.flagged and longer.flag_step > g.flag_step


def test_warmup_restarts_at_every_success():
    # a rare success every 20 episodes per env (800 steps per env < 1000) keeps it un-warmed ...
    g = BonusShareGuard(num_envs=N_ENVS, warn=False)
    one_env = np.eye(N_ENVS)[0]                    # exactly one success in that round
    run_stream(g, 80, lambda r: one_env if r % 20 == 19 else 0.0, bonus_per_step=0.05)
    assert not g.flagged, g.last_check
    assert 0 < g.last_success_step and g.report()["steps_since_success"] < 1000
    # ... while the same stream whose successes stop for good ends in a flag, one warm-up after the last one
    h = BonusShareGuard(num_envs=N_ENVS, warn=False)
    run_stream(h, 80, lambda r: one_env if r in (19, 39) else 0.0, bonus_per_step=0.05)
    assert h.flagged and h.reasons == {"bonus_kept_without_success"}
    assert h.last_success_step > 38 * N_ENVS * MAX_LEN
    assert h.flag_step >= h.last_success_step + 1000 * N_ENVS


def test_a_stuck_agent_whose_bonus_is_small_against_the_task_reward_is_not_farming():
    # a few early successes, then none for 60 episodes per env (the measured E3B seed 3 pattern)
    stuck = lambda r: np.eye(N_ENVS)[r % N_ENVS] if r < 10 else 0.0  # noqa: E731
    small = BonusShareGuard(num_envs=N_ENVS, warn=False)    # 40 x 0.002 = 0.08 per episode vs 0.73
    run_stream(small, 70, stuck, bonus_per_step=0.002)
    rep = small.report()
    assert not small.flagged and rep["warmed_up"]
    assert rep["bonus_ratio"] == pytest.approx(0.08 / (1 - 0.9 * 12 / MAX_LEN))
    assert rep["successes"] == 10 and rep["last_check"]["bonus_ratio"] < 0.5
    big = BonusShareGuard(num_envs=N_ENVS, warn=False)      # 40 x 0.02 = 0.8 per episode: worth farming
    run_stream(big, 70, stuck, bonus_per_step=0.02)
    assert big.flagged and big.reasons == {"bonus_kept_without_success"}
    assert big.flag_step >= big.last_success_step + 1000 * N_ENVS
    off = BonusShareGuard(num_envs=N_ENVS, warn=False, min_bonus_ratio=0.0)
    run_stream(off, 70, stuck, bonus_per_step=0.002)
    assert off.flagged                             # the ratio condition is what kept `small` silent


def test_share_is_pooled_over_the_window():
    # a small bonus with a noisy, partly failing agent: most episodes fail (own share 1.0),
    # but the bonus is ~1 % of the reward in the window -> success noise is not farming
    small = BonusShareGuard(num_envs=N_ENVS, warn=False)
    run_stream(small, 80, lambda r: 0.8 if r < 20 else 0.3, bonus_per_step=0.0002)
    per_episode_mean = float(np.mean([e.share for e in list(small.episodes)[-small.window:]]))
    assert per_episode_mean > 0.5 > 0.1 > small.report()["recent_share"]
    assert not small.flagged
    # the same success drop with a bonus that dominates the reward is flagged
    big = BonusShareGuard(num_envs=N_ENVS, warn=False)
    run_stream(big, 80, lambda r: 0.8 if r < 20 else 0.3, bonus_per_step=0.05)
    assert big.flagged and "success_fell" in big.reasons


def test_bad_warmup_is_a_config_error():
    with pytest.raises(ConfigError, match="warmup_steps"):
        BonusShareGuard(warmup_steps=-1)
    with pytest.raises(ConfigError, match="min_bonus_ratio"):
        BonusShareGuard(min_bonus_ratio=float("nan"))


@pytest.mark.parametrize("success_prob", [lambda r: 0.0, late_success])
def test_replaying_recorded_episodes_reaches_the_same_verdict(success_prob):
    """add_episode (replay of recorded statistics, as the B3 calibration bench does) == live update."""
    live = BonusShareGuard(num_envs=N_ENVS, warn=False, history=10**6)
    run_stream(live, 60, success_prob, bonus_per_step=0.02)
    replay = BonusShareGuard(num_envs=N_ENVS, warn=False)
    for st in live.episodes:
        replay.add_episode(st)
    assert (replay.flagged, replay.flag_step, replay.reasons) == (live.flagged, live.flag_step, live.reasons)
    assert replay.last_check == live.last_check
