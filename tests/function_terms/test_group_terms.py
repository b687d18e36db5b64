"""Group-aware terms (issue #18 item 2): the group column, the built-ins, order invariance, advantages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit
from rewardkit.advantage import grpo, rloo
from rewardkit.core import BatchError, ConfigError, SampleBatch, build_reward
from rewardkit.core.groups import (correct_diversity, group_codes, group_members, majority_agreement,
                                   majority_label, relative_rank, shortest_correct)


# --- the group column ---------------------------------------------------------------------------------------

def test_group_column_precedence_and_default():
    b = SampleBatch(["p", "q", "p"], ["a", "b", "c"])
    assert b.group_ids() == ["p", "q", "p"] and b.group_index().tolist() == [0, 1, 0]   # repeated prompts
    b = SampleBatch(["p", "q", "p"], ["a", "b", "c"], {"group": [5, 5, 6]})
    assert b.group_index().tolist() == [0, 0, 1]                                         # a "group" column
    b = SampleBatch(["p", "q", "p"], ["a", "b", "c"], {"group": [5, 5, 6]}, group=np.array([1, 2, 2]))
    assert b.group_ids() == [1, 2, 2]                                                    # the field wins
    with pytest.raises(BatchError, match="group: has 2 entries for 3 completions"):
        SampleBatch(["p"] * 3, ["a"] * 3, group=[0, 1])


def test_group_codes_forms():
    assert group_codes(np.array([9, 2, 9, 4])).tolist() == [0, 1, 0, 2]
    assert group_codes(["b", "a", "b"]).tolist() == [0, 1, 0]
    assert group_codes(None, 2).tolist() == [0, 0]
    with pytest.raises(BatchError, match=r"group\[1\]: got unhashable list"):
        group_codes([1, [2]])
    assert [m.tolist() for m in group_members(np.array([1, 0, 1, 2]))] == [[1], [0, 2], [3]]


def test_advantages_read_the_same_column():
    r = np.array([1.0, 0.0, 0.5, 1.0, 1.0, 0.0])
    b = SampleBatch(["p", "q", "p", "q", "r", "r"], list("abcdef"))
    ids = ["p", "q", "p", "q", "r", "r"]
    for est in (grpo, rloo):
        np.testing.assert_allclose(est(r, b), est(r, ids))
        np.testing.assert_allclose(est(r, b), est(r, np.array([0, 1, 0, 1, 2, 2])))
    assert grpo(r, SampleBatch(["x"] * 6, list("abcdef"), group=[0, 0, 0, 1, 1, 1]))[3:].round(3).tolist() == \
        [0.577, 0.577, -1.155]
    np.testing.assert_allclose(grpo(r), grpo(r, [0] * 6))                               # old default kept


# --- the built-ins: hand-computed cases a wrong implementation fails ------------------------------------------

def test_relative_rank_mid_ranks_and_singletons():
    out = relative_rank([0, 0, 0, 0, 1, 2, 2], [3.0, 1.0, 3.0, 2.0, 7.0, np.nan, 1.0])
    # group 0: 1 < 2 < 3 = 3 -> ranks 0, 1/3, (2+0.5)/3 twice
    np.testing.assert_allclose(out[:4], [2.5 / 3, 0.0, 2.5 / 3, 1 / 3])
    assert out[4] == 0.5 and np.isnan(out[5]) and out[6] == 0.5                  # NaN is not ranked


def test_shortest_correct_only_correct_minimal_length_per_group():
    out = shortest_correct(["a", "a", "a", "b", "b", "c"], [5, 3, 5, 4, 4, 1], [True, False, True, True, True, False])
    assert out.tolist() == [1.0, 0.0, 1.0, 1.0, 1.0, 0.0]   # the shorter wrong one never wins; ties share


def test_correct_diversity_counts_distinct_correct_answers():
    out = correct_diversity([0, 0, 0, 0, 1, 1], ["x", "y", "x", "z", "u", "u"], [True, True, True, False, True, True])
    np.testing.assert_allclose(out, [2 / 3, 2 / 3, 2 / 3, 0.0, 0.5, 0.5])        # the wrong "z" does not count


def test_majority_needs_a_strict_plurality_and_ignores_none():
    assert majority_label([0] * 5, ["4", None, None, None, "5"]) == [None] * 5  # 1-1 tie: no label
    assert majority_label([0] * 4, ["4", None, "4", "5"]) == ["4"] * 4
    assert majority_agreement([0, 0, 0, 1, 1, 1], ["4", "4", None, "1", "1", "2"]).tolist() == \
        [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]


def test_registered_group_terms_on_completions():
    comps = ["<answer>4</answer>", "reasoning... \\boxed{4} done", "\\boxed{5}", "no answer here",
             "\\boxed{7}", "\\boxed{7}"]
    b = SampleBatch(["q"] * 4 + ["r"] * 2, comps, {"answer": ["4"] * 4 + ["7"] * 2})
    r = build_reward({"terms": [
        {"type": "majority_agreement", "name": "maj"},
        {"type": "shortest_correct", "name": "short", "params": {"correct": {"type": "gsm8k",
                                                                             "params": {"method": "flexible"}}}},
        {"type": "correct_diversity", "name": "div", "params": {"correct": {"type": "gsm8k",
                                                                           "params": {"method": "flexible"}}}},
        {"type": "group_rank", "name": "rank", "params": {"term": {"type": "constant", "params": {"value": 1.0}}}},
    ]})
    res = r.evaluate(b)
    assert res.terms["maj"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    assert res.terms["short"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    assert res.terms["div"].tolist() == [0.5, 0.5, 0.0, 0.0, 0.5, 0.5]
    assert res.terms["rank"].tolist() == [0.5] * 6
    with pytest.raises(ConfigError, match=r"params\.term: got str"):
        build_reward({"terms": [{"type": "group_rank", "params": {"term": "math_answer"}}]})


# --- order invariance: property tests over random permutations ------------------------------------------------

@rewardkit.group_term
def above_group_mean(completions):
    """1 for completions longer than the mean length of their group (order-free by construction)."""
    lengths = [len(c) for c in completions]
    mean = sum(lengths) / len(lengths)
    return [float(x > mean) for x in lengths]


_groups = st.lists(st.integers(0, 3), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(_groups, st.data())
def test_group_primitives_are_permutation_invariant(groups, data):
    n = len(groups)
    scores = data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=n, max_size=n))
    answers = data.draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    correct = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    perm = np.array(data.draw(st.permutations(range(n))))
    g, s, a, c = np.array(groups), np.array(scores), answers, np.array(correct)
    ap = [a[i] for i in perm]
    for f, args, args_p in [
        (relative_rank, (g, s), (g[perm], s[perm])),
        (shortest_correct, (g, s, c), (g[perm], s[perm], c[perm])),
        (correct_diversity, (g, a, c), (g[perm], ap, c[perm])),
        (majority_agreement, (g, a), (g[perm], ap)),
    ]:
        np.testing.assert_array_equal(f(*args)[perm], f(*args_p), err_msg=f.__name__)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q", "r"]), st.sampled_from(["\\boxed{1}", "\\boxed{2}", "x", "yy z"])),
                min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_group_terms_give_the_same_result_whatever_the_order(rows, rnd):
    reward = build_reward({"terms": [
        {"type": "majority_agreement", "name": "maj"},
        {"type": "shortest_correct", "name": "short", "params": {"correct": {"type": "majority_agreement"}}},
        {"type": "group_rank", "name": "rank", "params": {"term": {"type": "think_answer_format"}}},
    ]})
    reward.components.append(type(reward.components[0])(above_group_mean, 1.0))
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    prompts, comps = [r[0] for r in rows], [r[1] for r in rows]
    base = reward.evaluate(SampleBatch(prompts, comps))
    shuffled = reward.evaluate(SampleBatch([prompts[i] for i in perm], [comps[i] for i in perm]))
    for name in ("maj", "short", "rank", "above_group_mean"):
        np.testing.assert_array_equal(base.terms[name][perm], shuffled.terms[name], err_msg=name)


def test_a_group_function_gets_its_group_in_batch_order_and_errors_cover_the_group():
    calls = []

    def spy(completions, group):
        calls.append((list(completions), list(group)))
        if completions[0] == "boom":
            raise RuntimeError("bad group")
        return [1.0] * (len(completions) - (completions[0] == "short"))

    t = rewardkit.group_term(spy, fail_value=-1.0)
    b = SampleBatch(["p", "q", "p", "q", "r"], ["x", "boom", "y", "z", "short"])
    assert t(b).tolist() == [1.0, -1.0, 1.0, -1.0, -1.0]
    assert calls == [(["x", "y"], ["p", "p"]), (["boom", "z"], ["q", "q"]), (["short"], ["r"])]
    assert [r.error for r in t.last_results] == [None, "internal:RuntimeError", None, "internal:RuntimeError",
                                                 "bad_return"]
