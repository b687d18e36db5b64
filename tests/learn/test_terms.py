"""The reward_model term: transitions, LLM samples, ensembles, YAML configs and errors."""

import numpy as np
import pytest

from rewardkit.core import SampleBatch, TransitionBatch, build_reward
from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.learn import (MLPReward, PreferencePairs, RewardEnsemble, RewardModelTerm, fit_linear_bt,
                             linear_preference_task, fit_ensemble)


def test_learned_reward_term_ranks_transitions_like_the_truth(tmp_path):
    # preferences over (obs, one-hot action) features; the truth prefers action 1 and large obs[0]
    rng = np.random.default_rng(0)

    def feats(n):
        obs = rng.normal(size=(n, 2))
        act = rng.integers(0, 2, n)
        return obs, act, np.concatenate([obs, np.eye(2)[act]], 1)

    true_w = np.array([1.0, 0.0, -0.5, 0.5])
    _, _, xa = feats(300)
    _, _, xb = feats(300)
    pairs = PreferencePairs(xa, xb, (xa @ true_w > xb @ true_w).astype(float))
    model = fit_linear_bt(pairs)
    model.save(tmp_path / "rm.npz")
    reward = build_reward({"terms": [{"type": "reward_model", "name": "rm",
                                      "params": {"path": str(tmp_path / "rm.npz"), "n_actions": 2}}]})
    obs, act, x = feats(200)
    batch = TransitionBatch.from_arrays(obs, act, obs, np.zeros(200))
    r = reward(batch)
    assert np.corrcoef(r, x @ true_w)[0, 1] > 0.95


def test_ensemble_term_alpha_is_mean_plus_alpha_std():
    ens = RewardEnsemble([MLPReward.linear([1.0]), MLPReward.linear([2.0]), MLPReward.linear([6.0])])
    batch = TransitionBatch.from_arrays(np.array([[1.0], [2.0]]), np.zeros(2), np.zeros((2, 1)), np.zeros(2))
    mean_term = RewardModelTerm(ens, features="obs")
    lcb = RewardModelTerm(ens, features="obs", alpha=-1.0)
    x = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(mean_term(batch), ens(x))
    np.testing.assert_allclose(lcb(batch), ens(x) - ens.std(x))
    assert np.all(lcb(batch) < mean_term(batch))


def test_sample_batch_needs_a_featuriser_and_accepts_import_strings(tmp_path, monkeypatch):
    (tmp_path / "rk_featurisers.py").write_text(
        "def char_counts(batch):\n"
        "    return [[len(p), len(c)] for p, c in zip(batch.prompt_texts(), batch.completion_texts())]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    term = RewardModelTerm(MLPReward.linear([1.0]))
    with pytest.raises(BatchError, match="featuriser"):
        term(SampleBatch(["p"], ["c"]))
    t2 = RewardModelTerm(MLPReward.linear([1.0, 1.0]), features="rk_featurisers:char_counts")
    assert t2(SampleBatch(["ab"], ["cde"])).tolist() == [5.0]
    with pytest.raises(ConfigError, match="features"):
        RewardModelTerm(MLPReward.linear([1.0]), features="no_such_module:fn")


def test_reward_model_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        build_reward({"terms": [{"type": "reward_model", "params": {"path": str(tmp_path / "nope.npz")}}]})
    with pytest.raises(ConfigError, match="path"):
        RewardModelTerm()
    m = MLPReward.linear([1.0, 1.0])
    with pytest.raises(BatchError, match="features"):
        batch = TransitionBatch.from_arrays(np.zeros((2, 3)), np.zeros(2), np.zeros((2, 3)), np.zeros(2))
        RewardModelTerm(m, features="obs")(batch)


def test_bagged_ensemble_is_uncertain_off_distribution():
    pairs, _, _ = linear_preference_task(60, dim=3, seed=0)
    ens = fit_ensemble(pairs, n_members=5, seed=0)
    near = np.random.default_rng(1).normal(size=(100, 3))
    far = 20 * near
    assert ens.std(far).mean() > 5 * ens.std(near).mean()


def test_reward_model_learned_from_cartpole_segments_scores_real_transitions():
    """Preferences over real CartPole segments (truth: keep the pole upright, -theta^2) -> reward_model term."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(0)
    obs_l, act_l, nxt_l = [], [], []
    for ep in range(40):
        o, _ = env.reset(seed=ep)
        done = False
        while not done:
            a = int(rng.integers(2))
            o2, _, term, trunc, _ = env.step(a)
            obs_l.append(o), act_l.append(a), nxt_l.append(o2)
            o, done = o2, term or trunc
    env.close()
    obs, act, nxt = np.array(obs_l), np.array(act_l), np.array(nxt_l)
    square = lambda b: np.asarray(b.obs, dtype=float) ** 2  # noqa: E731  (features: squared state)
    feats = obs ** 2
    true_r = -(obs[:, 2] ** 2)
    seg = 5
    n_seg = len(obs) // seg
    X, Rt = feats[: n_seg * seg].reshape(n_seg, seg, 4), true_r[: n_seg * seg].reshape(n_seg, seg).sum(1)
    ia, ib = rng.integers(0, n_seg, 400), rng.integers(0, n_seg, 400)
    model = fit_linear_bt(PreferencePairs(X[ia], X[ib], (Rt[ia] > Rt[ib]).astype(float)), l2=1e-3)
    term = RewardModelTerm(model, features=square)
    batch = TransitionBatch.from_arrays(obs, act, nxt, np.zeros(len(obs)))
    r = term(batch)
    i, j = rng.integers(0, len(obs), 2000), rng.integers(0, len(obs), 2000)
    keep = true_r[i] != true_r[j]
    assert np.mean((r[i] > r[j])[keep] == (true_r[i] > true_r[j])[keep]) > 0.9


def test_jsonl_preferences_skip_malformed_rows_and_train(tmp_path):
    import json

    from rewardkit.learn import load_pairs, read_preference_jsonl, save_pairs

    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta"]
    lines = []
    for i in range(60):  # truth: answers with more "good" words are preferred
        good = " ".join(["good"] * int(rng.integers(2, 5)) + list(rng.choice(words, 3)))
        bad = " ".join(["good"] * int(rng.integers(0, 2)) + list(rng.choice(words, 5)))
        lines.append(json.dumps({"prompt": f"q{i}", "chosen": good, "rejected": bad, "margin": 1.0}))
    lines += ["{not json", json.dumps({"prompt": "q", "chosen": "x"}), json.dumps({"chosen": 3, "rejected": "y"}),
              json.dumps({"chosen": "a", "rejected": "b", "margin": "big"}), json.dumps([1, 2])]
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    feat = lambda b: [[c.split().count("good"), len(c.split())] for c in b.completion_texts()]  # noqa: E731
    pairs, report = read_preference_jsonl(tmp_path / "p.jsonl", feat)
    assert (report.n_rows, report.n_kept, report.n_skipped) == (65, 60, 5)
    assert any("line 62" in r for r in report.skipped)
    save_pairs(pairs, tmp_path / "p.npz")
    again = load_pairs(tmp_path / "p.npz")
    np.testing.assert_allclose(again.a, pairs.a)
    model = fit_linear_bt(again)
    assert model.weights[0][0, 0] > 0  # learned that "good" words are rewarded
    with pytest.raises(ConfigError, match="no valid preference rows"):
        (tmp_path / "bad.jsonl").write_text("{}\n[]\n")
        read_preference_jsonl(tmp_path / "bad.jsonl", feat)
