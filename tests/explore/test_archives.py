"""Novelty search archive and Go-Explore utilities (with a real MiniGrid restore)."""

import gymnasium as gym
import minigrid  # noqa: F401
import numpy as np
import pytest
from minigrid.wrappers import FullyObsWrapper, ImgObsWrapper

from rewardkit.explore.counts import minigrid_position_carrying
from rewardkit.explore.go_explore import (CellArchive, downscale_cell, explore_from_archive, minigrid_restore,
                                          minigrid_snapshot)
from rewardkit.explore.novelty_search import NoveltyArchive, NoveltySearchBonus, sparseness


def test_sparseness_is_mean_knn_distance():
    pool = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [0.0, 1.0]])
    got = sparseness(pool[:1], pool, k=2, exclude_self=True)
    assert got[0] == pytest.approx((1.0 + 5.0) / 2)


def test_archive_threshold_adapts():
    arch = NoveltyArchive(k=1, rho_min=100.0, stall=2)
    for _ in range(4):
        arch.step(np.random.default_rng(0).normal(size=(5, 2)))
    assert arch.rho_min == pytest.approx(100 * 0.95 ** 2) and len(arch) == 0
    burst = NoveltyArchive(k=1, rho_min=0.01, burst=2)
    burst.step(np.arange(10.0)[:, None] * 10)
    assert len(burst) == 10 and burst.rho_min == pytest.approx(0.012)


def test_novelty_bonus_prefers_new_endings_and_round_trips():
    nb = NoveltySearchBonus(k=2, rho_min=0.5, adapt=False)
    t, f = np.array([True]), np.array([False])
    for x in (0.0, 0.1, 0.2, 0.1):
        nb.observe([[0.0]], [0], [[x]], t, f)
    same = nb.observe([[0.0]], [0], [[0.1]], t, f)[0]
    nb2 = NoveltySearchBonus(k=2, rho_min=0.5, adapt=False)
    nb2.load_state_dict(nb.state_dict())
    new = nb.observe([[0.0]], [0], [[5.0]], t, f)[0]
    assert new > 10 * same
    assert nb2.observe([[0.0]], [0], [[5.0]], t, f)[0] == new


def test_downscale_cell_groups_similar_frames():
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 4, (8, 8)) * 64 + 32          # one intensity per 8x8 block, mid-bin
    frame = np.repeat(np.repeat(levels, 8, 0), 8, 1)[..., None].repeat(3, 2).astype(np.float64)
    noisy = np.clip(frame + rng.normal(0, 1, frame.shape), 0, 255)
    assert downscale_cell(frame, 8, 8, 4) == downscale_cell(noisy, 8, 8, 4)
    assert downscale_cell(frame, 8, 8, 4) != downscale_cell(255 - frame, 8, 8, 4)


def test_cell_archive_update_rule_and_selection_weights():
    arch = CellArchive()
    assert arch.update("a", 0.0, 10)
    assert not arch.update("a", 0.0, 12)        # same score, longer
    assert arch.update("a", 1.0, 50)            # better score wins even if longer
    assert arch.cells["a"].score == 1.0 and arch.cells["a"].seen == 3
    arch.update("b", 0.0, 1)
    rng = np.random.default_rng(0)
    for _ in range(50):
        arch.select(rng)
    arch.update("c", 0.0, 1)
    keys, w = arch.weights()
    assert keys[int(np.argmax(w))] == "c"       # never chosen, seen once: highest weight
    judge = CellArchive(interesting=lambda key, info: key != "boring")
    assert not judge.update("boring", 0.0, 1) and judge.update("fun", 0.0, 1)


def test_minigrid_restore_continues_identically():
    env = ImgObsWrapper(gym.make("MiniGrid-DoorKey-6x6-v0"))
    env.reset(seed=5)
    rng = np.random.default_rng(1)
    for a in rng.integers(0, 6, 15):
        env.step(int(a))
    snap = minigrid_snapshot(env)
    actions = rng.integers(0, 6, 40)
    first = [env.step(int(a)) for a in actions]
    env.step(2)  # move on, then come back
    obs = minigrid_restore(env, snap)
    assert obs.shape == (7, 7, 3)
    second = [env.step(int(a)) for a in actions]
    for (o1, r1, t1, u1, _), (o2, r2, t2, u2, _) in zip(first, second, strict=False):
        np.testing.assert_array_equal(o1, o2)
        assert (r1, t1, u1) == (r2, t2, u2)
    assert env.unwrapped.step_count == snap["step_count"] + 40


def test_go_explore_phase1_finds_the_doorkey_goal():
    env = FullyObsWrapper(gym.make("MiniGrid-DoorKey-5x5-v0"))
    obs, _ = env.reset(seed=0)
    cell = lambda o: int(minigrid_position_carrying(o["image"][None])[0])  # noqa: E731
    arch = CellArchive()
    arch.update(cell(obs), 0.0, 0, minigrid_snapshot(env))
    rng = np.random.default_rng(0)
    for _ in range(300):
        res = explore_from_archive(env, arch, cell, rng, explore_steps=20, repeat_prob=0.0)
        if res["best_score"] > 0:
            break
    best = arch.best()
    assert best.score > 0
    # the stored trajectory replays to the goal from the start state
    env.reset(seed=0)
    total = sum(env.step(a)[1] for a in best.trajectory)
    assert total == pytest.approx(best.score)
