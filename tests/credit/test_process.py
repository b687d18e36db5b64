"""Process and turn rewards: ReST-MCTS* step values (#155), ReSeek search steps (#149), Sotopia-RL utterances (#46)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from rewardkit.core import SampleBatch, build_reward
from rewardkit.core.errors import BatchError, ConfigError
from rewardkit.credit import mc_step_values, utterance_rewards, value_increments
from rewardkit.verify.search import search_step_reward

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "credit"))
from rest_mcts_steps import prefix_values


def test_mc_values_rank_correct_prefixes_above_corrupted_ones():
    """#155: on arithmetic chains with known answers, every correct prefix outranks its corrupted twin."""
    runs = [prefix_values(seed, n_rollouts=16) for seed in range(8)]
    good = np.array([r[0] for r in runs])
    bad = np.array([r[1] for r in runs])
    assert np.all(good > bad)
    assert np.all(np.diff(good.mean(axis=0)) > 0)          # the value grows as the solution gets longer
    assert good[:, -1].tolist() == [1.0] * 8 and bad[:, -1].tolist() == [0.0] * 8


def test_value_increments_sum_to_the_value_gain_and_validate():
    v = np.array([0.2, 0.5, 0.4, 1.0])
    assert value_increments(v).sum() == pytest.approx(0.8)
    with pytest.raises(BatchError):
        value_increments([1.0])
    with pytest.raises(ConfigError):
        mc_step_values([1], lambda p, r: p, lambda x: True, n_rollouts=0)


@pytest.mark.parametrize("passage, gold, expect_correct", [
    ("The Eiffel Tower was completed in 1889.", ["1889"], 1.0),
    ("The Eiffel Tower was completed in 18890 units.", ["1889"], 0.0),       # whole words only
    ("Completed in 1889", ["eighteen eighty-nine", "1889"], 1.0),            # any alias
    ("Gustave Eiffel's company designed it.", "1889", 0.0),
])
def test_search_step_correctness(passage, gold, expect_correct):
    _, correct, _ = search_step_reward(passage, gold, "When was the Eiffel Tower completed?")
    assert correct == expect_correct


def test_search_step_utility_counts_query_terms_and_the_term_scores_a_batch():
    _, _, full = search_step_reward("Eiffel Tower completed 1889", "1889", "When was the Eiffel Tower completed?")
    _, _, none = search_step_reward("Bananas are yellow", "1889", "When was the Eiffel Tower completed?")
    assert full == 1.0 and none == 0.0
    reward = build_reward({"terms": [{"type": "search_step", "name": "step", "params": {"w_utility": 0.0}}]})
    out = reward(SampleBatch(["q", "q"], ["answer: 42", "nothing here"], {"answer": ["42", "42"]}))
    assert out.tolist() == [1.0, 0.0]


def test_utterance_rewards_sum_to_each_dimension_and_combine_deterministically():
    """#46: the split preserves every dimension's episode score; the weights combine them linearly."""
    rng = np.random.default_rng(0)
    scores = {"goal": 0.8, "relationship": -0.3, "knowledge": 0.5}
    attr = {d: rng.random(7) for d in scores}
    w = {"goal": 1.0, "relationship": 0.5, "knowledge": 0.25}
    r, per = utterance_rewards(scores, attr, w)
    for d in scores:
        assert per[d].sum() == pytest.approx(scores[d])
    assert r.sum() == pytest.approx(sum(w[d] * scores[d] for d in scores))
    r2, _ = utterance_rewards(scores, attr, w)
    assert np.array_equal(r, r2)
    stub = {d: [1.0 if d in u else 0.0 for u in ("goal", "goal knowledge", "relationship")] for d in scores}
    _, per3 = utterance_rewards(scores, stub)                       # a keyword "labeller"
    assert per3["goal"].tolist() == [0.4, 0.4, 0.0] and per3["relationship"].tolist() == [0.0, 0.0, -0.3]
    with pytest.raises(BatchError):
        utterance_rewards({"goal": 1.0}, {"goal": [1.0, -1.0]})
    with pytest.raises(ConfigError):
        utterance_rewards({"goal": 1.0}, {"knowledge": [1.0]})


def test_oprl_implicit_prm_ranks_outcomes_and_keeps_the_optimal_policy():
    """#144: DPO on outcome preferences gives step rewards whose sums rank held-out pairs and whose
    greedy policy reaches the goal as fast as the outcome-optimal one."""
    from oprl_tabular import run

    for seed in range(2):
        r = run(seed)
        assert r["heldout_accuracy"] >= 0.95
        assert r["greedy_steps"] == r["optimal_steps"]


def test_implicit_step_rewards_validate():
    from rewardkit.credit import fit_trajectory_dpo, implicit_step_rewards

    with pytest.raises(ConfigError, match="beta"):
        implicit_step_rewards(np.zeros((2, 2)), beta=0.0)
    with pytest.raises(ConfigError, match="preferred"):
        fit_trajectory_dpo([], [], 2, 2)
    r = implicit_step_rewards(np.zeros((3, 4)), beta=2.0)
    assert np.allclose(r, 0.0)            # pi_theta = pi_ref: no process reward


def test_dichotomy_of_control_achieves_what_it_promises_and_dt_does_not():
    """#192: where high returns come from luck, return-conditioned imitation misses its target; DoC's
    action-only latent achieves its own value estimate."""
    from doc_stochastic import compare

    for target in (2.3, 0.8, 0.4):
        r = compare(target)
        assert abs(r["doc_achieved"] - r["doc_promised"]) < 0.1      # ~3 standard errors of the two estimates
    lucky = compare(2.3)
    assert lucky["target"] - lucky["dt_achieved"] > 1.0


def test_doc_plan_validates_and_picks_the_best_feasible_value():
    from rewardkit.credit.control import doc_plan

    data = [[(0, 0, 1.0)], [(0, 1, 3.0)], [(0, 1, 1.0)]]
    assert doc_plan(data, 5.0) == ((1,), 2.0) and doc_plan(data, 1.5) == ((0,), 1.0)
    assert doc_plan(data, 0.0) == ((0,), 1.0)              # nothing below the target: the lowest value
    with pytest.raises(ConfigError):
        doc_plan([], 1.0)
