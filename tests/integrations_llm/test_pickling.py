"""Every registered term, a composed reward and every export survive pickling (Ray, spawn, accelerate).

A round-trip must give an equal scorer: the same values on the same batch.  No term is skipped:
terms that need trained files, a judge server or special batches get them from tests/term_examples.py.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle

import numpy as np
import pytest

from rewardkit.core import SampleBatch, build_reward
from rewardkit.integrations.openrlhf import as_openrlhf_reward_func
from rewardkit.integrations.trl import as_trl_reward, as_trl_reward_funcs
from rewardkit.integrations.verl import as_verl_compute_score

import term_examples as tx  # the shared builders of tests/term_examples.py (tests/conftest.py: term_ctx)


@pytest.mark.parametrize("name", tx.term_names())
def test_every_registered_term_pickles_to_an_equal_scorer(term_ctx, name):
    """Built from its example params (or a shared builder: trained files, a loopback judge, a fast sandbox),
    scored on a batch it can read; the copy, pickled before the original scored, must give the same values."""
    reward = build_reward({"terms": [{"type": name, "params": tx.params(name, term_ctx)}]})
    copy = pickle.loads(pickle.dumps(reward))
    batch = tx.batch_for(name, reward.batch_kind, np.random.default_rng(0), 5, term_ctx)
    want = reward.evaluate(batch).total
    np.testing.assert_array_equal(copy.evaluate(batch).total, want)


def math_reward():
    return build_reward({"name": "total", "terms": [
        {"type": "math_answer", "name": "correct"},
        {"type": "think_answer_format", "name": "format", "weight": 0.2}]})


PROMPTS = ["What is 2+2?", "What is 3*3?", "Half of 3?"]
COMPLETIONS = ["<think>add</think><answer>\\boxed{4}</answer>", "\\boxed{8}", "<think>x</think><answer>1.5</answer>"]
ANSWERS = ["4", "9", "3/2"]


def test_composed_reward_and_every_export_round_trip():
    reward = math_reward()
    batch = SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS})
    np.testing.assert_allclose(pickle.loads(pickle.dumps(reward)).evaluate(batch).total, reward.evaluate(batch).total)
    verl = as_verl_compute_score(reward)
    assert pickle.loads(pickle.dumps(verl))("math", COMPLETIONS[0], "4") == verl("math", COMPLETIONS[0], "4")
    orl = as_openrlhf_reward_func(reward, as_tensors=False)
    args = ([p + " " + c for p, c in zip(PROMPTS, COMPLETIONS, strict=True)], PROMPTS, ANSWERS)
    assert pickle.loads(pickle.dumps(orl))(*args) == orl(*args)
    funcs, _ = as_trl_reward_funcs(reward)
    for f in [as_trl_reward(reward), *funcs]:
        assert pickle.loads(pickle.dumps(f))(PROMPTS, COMPLETIONS, answer=ANSWERS) == f(PROMPTS, COMPLETIONS,
                                                                                       answer=ANSWERS)


def _call(f):
    return f(PROMPTS, COMPLETIONS, answer=ANSWERS)


def test_trl_funcs_run_in_a_spawn_pool():
    reward = math_reward()
    funcs, _ = as_trl_reward_funcs(reward)
    funcs = [as_trl_reward(reward), *funcs]
    with mp.get_context("spawn").Pool(2) as pool:
        got = pool.map(_call, funcs)
    assert got == [_call(f) for f in funcs]
    assert got[0] == pytest.approx([1.2, 0.0, 1.2])
