"""Every bonus: same seed => same outputs; state_dict round trip is exact; the seed matters."""

import numpy as np
import pytest

from rewardkit.explore import (CountBonus, Disagreement, E3B, EpisodicKNN, ICM, NovelD, RDD, RE3, RIDE, RND,
                               SimHashBonus)
from rewardkit.explore.combine import e3b_x_rnd, ngu
from rewardkit.explore.novelty_search import NoveltySearchBonus

SHAPE = (5,)
FACTORIES = {
    "count": (lambda seed: CountBonus("product"), False),
    "simhash": (lambda seed: SimHashBonus(obs_shape=SHAPE, bits=6, seed=seed), True),
    "rnd": (lambda seed: RND(obs_shape=SHAPE, latent_dim=8, hidden=16, seed=seed), True),
    "rdd": (lambda seed: RDD(obs_shape=SHAPE, num_targets=3, latent_dim=8, hidden=16, seed=seed), True),
    "icm": (lambda seed: ICM(obs_shape=SHAPE, n_actions=3, latent_dim=8, hidden=16, seed=seed), True),
    "disagreement": (lambda seed: Disagreement(obs_shape=SHAPE, n_actions=3, latent_dim=8, hidden=16, seed=seed), True),
    "e3b": (lambda seed: E3B(obs_shape=SHAPE, n_actions=3, latent_dim=8, hidden=16, seed=seed), True),
    "ride": (lambda seed: RIDE(obs_shape=SHAPE, n_actions=3, latent_dim=8, hidden=16, seed=seed), True),
    "noveld": (lambda seed: NovelD(obs_shape=SHAPE, latent_dim=8, hidden=16, seed=seed), True),
    "re3": (lambda seed: RE3(obs_shape=SHAPE, latent_dim=8, hidden=16, k=2, storage_size=32, seed=seed), True),
    "knn": (lambda seed: EpisodicKNN(obs_shape=SHAPE, n_actions=3, k=3, capacity=16, latent_dim=8, hidden=16,
                                     seed=seed), True),
    "novelty_search": (lambda seed: NoveltySearchBonus(k=2), False),
    "e3b_x_rnd": (lambda seed: e3b_x_rnd(obs_shape=SHAPE, n_actions=3, seed=seed,
                                         e3b_kwargs={"latent_dim": 8}, rnd_kwargs={"latent_dim": 8}), True),
    "ngu": (lambda seed: ngu(obs_shape=SHAPE, n_actions=3, seed=seed, knn_kwargs={"latent_dim": 8, "capacity": 16},
                             rnd_kwargs={"latent_dim": 8}), True),
}


def _data(seed=0, T=12, n=3):
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 3, (T + 1, n, *SHAPE)).astype(np.float32)
    return {"obs": obs[:-1], "next_obs": obs[1:], "actions": rng.integers(0, 3, (T, n)),
            "terminated": rng.random((T, n)) < 0.15, "truncated": rng.random((T, n)) < 0.05}


def _drive(b, data, steps):
    out = [b.observe(data["obs"][t], data["actions"][t], data["next_obs"][t], data["terminated"][t],
                     data["truncated"][t]) for t in steps]
    return np.stack(out)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_seed_determinism_and_exact_state_round_trip(name):
    make, seeded_random = FACTORIES[name]
    d1, d2 = _data(0), _data(1)
    a, b = make(0), make(0)
    ra = np.concatenate([_drive(a, d1, range(12)).ravel(), a.compute(d2).ravel()])
    rb = np.concatenate([_drive(b, d1, range(12)).ravel(), b.compute(d2).ravel()])
    np.testing.assert_array_equal(ra, rb)
    assert a.update(d1) == b.update(d1)
    # round trip onto a module built with another seed
    c = make(123)
    c.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(_drive(a, d2, range(6)), _drive(c, d2, range(6)))
    np.testing.assert_array_equal(a.compute(d1), c.compute(d1))
    assert a.update(d2) == c.update(d2)
    np.testing.assert_array_equal(a.compute(d2), c.compute(d2))
    if seeded_random:
        e, f = make(0), make(7)
        assert not np.array_equal(_drive(e, d1, range(12)), _drive(f, d1, range(12)))


@pytest.mark.parametrize("name", ["count", "rnd", "e3b", "ngu"])
def test_state_dict_survives_torch_save_load(name, tmp_path):
    import torch

    make, _ = FACTORIES[name]
    a = make(0)
    d = _data(0)
    _drive(a, d, range(8))
    a.update(d)
    torch.save(a.state_dict(), tmp_path / "bonus.pt")
    b = make(5)
    b.load_state_dict(torch.load(tmp_path / "bonus.pt", weights_only=False))
    np.testing.assert_array_equal(_drive(a, d, range(8, 12)), _drive(b, d, range(8, 12)))


def test_bonus_term_replaces_non_finite_values_and_warns_once():
    from rewardkit.core import TransitionBatch
    from rewardkit.explore import BonusTerm

    term = BonusTerm(RND(obs_shape=SHAPE, latent_dim=8, hidden=16, reward_norm=False), coef=2.0)
    good = np.random.default_rng(0).normal(size=(2, *SHAPE)).astype(np.float32)
    bad = good.copy()
    bad[1, 0] = np.nan
    term(TransitionBatch.from_arrays(good, [0, 0], good, [0.0, 0.0]))
    with pytest.warns(RuntimeWarning, match="non-finite"):
        out = term(TransitionBatch.from_arrays(good, [0, 0], bad, [0.0, 0.0]))
    assert np.isfinite(out).all() and out[1] == 0.0 and out[0] > 0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        term(TransitionBatch.from_arrays(good, [0, 0], bad, [0.0, 0.0]))  # counted, not warned again
    assert term.nonfinite == 2
    # the NaN rows did not poison the observation statistics
    assert np.isfinite(term.bonus.obs_norm.rms.mean).all() and np.isfinite(term.bonus.obs_norm.rms.var).all()
    assert np.isfinite(term(TransitionBatch.from_arrays(good, [0, 0], good, [0.0, 0.0]))).all()


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_a_corrupt_observation_does_not_poison_the_state(name):
    make, _ = FACTORIES[name]
    b = make(0)
    d = _data(0)
    _drive(b, d, range(6))
    nan_obs = d["next_obs"][6].copy()
    nan_obs[0, 0] = np.nan
    term = np.ones(3, bool)  # also end the episodes (episode-level bonuses score now)
    b.observe(d["obs"][6], d["actions"][6], nan_obs, term, ~term)
    b.update({"obs": d["obs"][:7], "next_obs": np.concatenate([d["next_obs"][:6], nan_obs[None]]),
              "actions": d["actions"][:7]})
    after = np.concatenate([_drive(b, d, range(7, 12)).ravel(), b.compute(d).ravel()])
    assert np.isfinite(after).all()


@pytest.mark.parametrize("name", ["count", "count_global", "count_episodic", "count_first_visit", "e3b", "ride",
                                  "knn", "novelty_search"])
def test_rollout_compute_equals_step_by_step_observe_over_consecutive_rollouts(name):
    """The batched rollout paths (block elliptical scan, one key_fn call, shared embeddings)
    must give what observe gives step by step, including episode ends and carried state."""
    mode = name.split("_", 1)[1] if name.startswith("count_") else None
    make = (lambda seed: CountBonus(mode)) if mode else FACTORIES[name][0]
    a, b = make(0), make(0)
    for seed in (0, 1, 2):
        d = _data(seed, T=15, n=4)
        d["next_obs"][..., 2:] = 0.0          # few distinct states, so revisits and s_0 registrations matter
        d["obs"][0, :, 2:] = 0.0
        d["obs"][1:] = d["next_obs"][:-1]     # a real rollout: s_{t+1} of one step is s_t of the next ...
        ends = d["terminated"][:-1] | d["truncated"][:-1]
        d["obs"][1:][ends] += 1.0             # ... except after an episode end (a reset observation)
        want = _drive(a, d, range(15))
        got = b.compute(d)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_empty_rollout_scores_to_an_empty_array(name):
    b = FACTORIES[name][0](0)
    z = np.zeros((0, 2, *SHAPE), np.float32)
    out = b.compute({"obs": z, "next_obs": z, "actions": np.zeros((0, 2), int)})
    assert np.shape(out) == (0, 2)
