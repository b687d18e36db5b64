"""The same ComposedReward exported to TRL, verl and OpenRLHF gives the same numbers."""

import pickle

import numpy as np
import pytest
import torch

from rewardkit.core import ComposedReward, Component, ConfigError, Constant, FunctionTerm, SampleBatch
from rewardkit.integrations.openrlhf import ResponseSplitError, as_openrlhf_reward_func, split_response
from rewardkit.integrations.trl import as_trl_reward, as_trl_reward_funcs, score_samples
from rewardkit.integrations.verl import as_verl_compute_score
from rewardkit.verify.gate import content_gate
from rewardkit.verify.result import Verifier, VerifyResult


class Contains(Verifier):
    """1 if the reference answer occurs in the completion; not applicable without a reference."""

    name = "contains"
    reference_columns = ("answer",)

    def __init__(self):
        self.calls = 0

    def verify(self, completion, answer=None, **_):
        self.calls += 1
        return VerifyResult(float(str(answer) in completion), extracted=completion)


def brevity(batch):
    return [1.0 if len(c) <= 8 else 0.0 for c in batch.completion_texts()]


def make_reward():
    contains = Contains()
    reward = ComposedReward([
        Component(contains.as_term("correct"), 1.0),
        Component(content_gate(name="gate"), 0.5),
        Component(FunctionTerm("brevity", brevity), 0.2, gate_on="correct", gate_threshold=1.0),
    ], name="total")
    return reward, contains


PROMPTS = ["2+2?", "2+2?", "3*3?", "capital?"]
COMPLETIONS = ["It is 4", "It is 5 or so, long", "9", ":"]
ANSWERS = ["4", "4", "9", None]


def test_trl_per_term_functions_sum_to_the_composed_total():
    reward, verifier = make_reward()
    funcs, weights = as_trl_reward_funcs(reward)
    assert [f.__name__ for f in funcs] == ["correct", "gate", "brevity"] and weights == [1.0, 0.5, 0.2]
    cols = {"answer": ANSWERS, "trainer_state": object(), "log_extra": print, "completion_ids": [[1]] * 4}
    outs = [f(prompts=PROMPTS, completions=COMPLETIONS, **cols) for f in funcs]
    assert verifier.calls == 4                     # the composition is evaluated once for all three functions
    assert outs[0] == [1.0, 0.0, 1.0, None]        # no reference -> TRL skips the row for this term
    assert outs[1] == [1.0, 1.0, 1.0, 0.0]
    assert outs[2] == [1.0, 0.0, 1.0, 0.0]         # brevity gated on correctness
    # TRL's weighted nansum of the per-term functions == rewardkit's total
    trl_sum = np.nansum(np.array(outs, dtype=float) * np.array(weights)[:, None], axis=0)
    total = as_trl_reward(make_reward()[0])(prompts=PROMPTS, completions=COMPLETIONS, answer=ANSWERS)
    np.testing.assert_allclose(trl_sum, total)
    assert total == pytest.approx([1.7, 0.5, 1.7, 0.0])


def test_trl_conversational_format_and_log_metric():
    reward, _ = make_reward()
    logged = {}
    f = as_trl_reward(reward, name="rk_total")
    prompts = [[{"role": "user", "content": p}] for p in PROMPTS]
    completions = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
    out = f(prompts=prompts, completions=completions, answer=ANSWERS,
            log_metric=lambda k, v: logged.__setitem__(k, v))
    assert f.__name__ == "rk_total" and out == pytest.approx([1.7, 0.5, 1.7, 0.0])
    assert logged["rewardkit/correct"] == pytest.approx(2 / 3)   # mean over rows where it applies
    assert logged["rewardkit/gate/error_frac"] == 0.25              # ":" was rejected by the gate
    assert set(logged) == {"rewardkit/correct", "rewardkit/gate", "rewardkit/brevity",
                           "rewardkit/correct/error_frac", "rewardkit/gate/error_frac"}


def test_trl_total_is_none_only_when_no_term_applies():
    only_correct = ComposedReward([Contains().as_term("correct")])
    out = as_trl_reward(only_correct)(prompts=["q", "q"], completions=["4", "4"], answer=["4", None])
    assert out == [1.0, None]


def test_trl_functions_pickle_and_refuse_clipped_totals():
    funcs, _ = as_trl_reward_funcs(ComposedReward([Constant(1.0, "a"), Constant(2.0, "b")]))
    clone = pickle.loads(pickle.dumps(funcs[1]))
    assert clone.__name__ == "b" and clone(prompts=["p"], completions=["c"]) == [2.0]
    with pytest.raises(ValueError, match="as_trl_reward"):
        as_trl_reward_funcs(ComposedReward([Constant(1.0, "a")], clip=(-1, 1)))


def test_per_term_reuse_is_keyed_on_the_batch():
    counter = {"n": 0}

    def count(b):
        counter["n"] += 1
        return [1.0] * len(b)

    funcs, _ = as_trl_reward_funcs(ComposedReward([FunctionTerm("a", count), Constant(0.0, "b")]))
    funcs[0](prompts=["p"], completions=["x"])
    funcs[1](prompts=["p"], completions=["x"])
    assert counter["n"] == 1
    funcs[1](prompts=["p"], completions=["y"])          # a different batch: recomputed, not stale
    assert counter["n"] == 2


def test_verl_compute_score_dict_batch_and_routing():
    reward, _ = make_reward()
    score = as_verl_compute_score(reward)
    d = score("openai/gsm8k", "It is 4", "4", {"question": "2+2?", "split": "train"})
    assert d == {"score": pytest.approx(1.7), "correct": 1.0, "gate": 1.0, "brevity": 1.0}
    batch = score(["a", "a"], ["It is 4", ":"], ["4", "4"], [None, {"question": "q"}])
    assert [b["score"] for b in batch] == pytest.approx([1.7, 0.0])
    assert set(batch[0]) == set(batch[1])              # verl stacks the extra keys: same keys everywhere
    routed = as_verl_compute_score({"math": reward, "default": ComposedReward([Constant(-1.0, "unknown")])},
                                   return_dict=False)
    assert routed("math", "It is 4", "4") == pytest.approx(1.7) and routed("other", "x", "4") == -1.0
    with pytest.raises(ConfigError, match="data_source"):
        as_verl_compute_score({"math": reward})("other", "x", "4")


def test_verl_ground_truth_wins_over_extra_info_and_sees_data_source():
    seen = {}

    def spy(b):
        seen.update({k: v[0] for k, v in b.columns.items()})
        seen["prompt"] = b.prompts[0]
        return [0.0]

    score = as_verl_compute_score(ComposedReward([FunctionTerm("spy", spy)]))
    score("lighteval/MATH", "x", "GOLD", {"answer": "long worked solution", "question": "Q?", "index": 3})
    assert seen == {"answer": "GOLD", "question": "Q?", "index": 3, "data_source": "lighteval/MATH", "prompt": "Q?"}


def test_openrlhf_reward_func_tensors_and_response_split():
    reward, _ = make_reward()
    f = as_openrlhf_reward_func(reward, scores_term="correct")
    queries = [p + " " + c + "<|im_end|>" for p, c in zip(PROMPTS, COMPLETIONS, strict=True)]
    out = f(queries, [p + " " for p in PROMPTS], ["4", "4", "9", "Paris"])
    assert isinstance(out["rewards"], torch.Tensor) and out["rewards"].dtype == torch.float32
    assert out["rewards"].tolist() == pytest.approx([1.7, 0.5, 1.7, 0.0])
    assert out["scores"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert set(out["extra_logs"]) == {"correct", "gate", "brevity", "split_error"}
    assert split_response("<s>Q</s>A</s><|endoftext|>", "<s>Q</s>") == "A"
    with pytest.raises(ResponseSplitError, match="query: does not contain the prompt"):
        split_response("no prompt prefix", "other")
    with pytest.raises(ConfigError, match="labels"):
        f(queries, PROMPTS, ["4"])


def test_same_numbers_in_all_three_frameworks():
    reward, _ = make_reward()
    trl = as_trl_reward(reward)(prompts=PROMPTS, completions=COMPLETIONS, answer=ANSWERS)
    verl = as_verl_compute_score(reward, return_dict=False)(["ds"] * 4, COMPLETIONS, ANSWERS, [None] * 4)
    orl = as_openrlhf_reward_func(reward, as_tensors=False)([p + c for p, c in zip(PROMPTS, COMPLETIONS, strict=True)],
                                                            PROMPTS, ANSWERS)["rewards"]
    direct = reward(SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS}))
    np.testing.assert_allclose(trl, direct)
    np.testing.assert_allclose(verl, direct)
    np.testing.assert_allclose(orl, direct)


def test_env_entry_points_read_the_config(tmp_path, monkeypatch):
    import rewardkit.integrations.openrlhf as orl
    import rewardkit.integrations.verl as vl

    cfg = tmp_path / "reward.yaml"
    cfg.write_text("reward:\n  terms:\n    - {type: content_gate, name: gate}\n"
                   "    - {type: constant, name: bonus, weight: 0.5, params: {value: 1.0}}\n")
    monkeypatch.setenv("REWARDKIT_CONFIG", str(cfg))
    monkeypatch.setattr(vl, "_DEFAULT", None)
    monkeypatch.setattr(orl, "_DEFAULT", None)
    assert vl.compute_score("x", "Solution", None) == {"score": 0.5, "gate": 0.0, "bonus": 1.0}
    assert [d["score"] for d in vl.compute_score_batch(["x", "x"], ["42", ":"], [None, None])] == [1.5, 0.5]
    assert orl.reward_func(["q 42"], ["q "], [None])["rewards"].tolist() == [1.5]
    monkeypatch.delenv("REWARDKIT_CONFIG")
    monkeypatch.setattr(vl, "_DEFAULT", None)
    with pytest.raises(ConfigError, match="REWARDKIT_CONFIG"):
        vl.compute_score("x", "y", None)


def test_score_samples_reports_verifier_errors():
    s = score_samples(ComposedReward([content_gate(name="gate")]), ["q", "q"], ["Thought process:", "x=1"])
    assert s.errors == {"gate": ["opener_only", None]} and s.totals() == [0.0, 1.0]


def test_split_response_is_linear_on_token_spam():
    import time

    t0 = time.perf_counter()
    assert split_response("Q A" + "</s>" * 100_000 + " <|im_end|>\n", "Q ") == "A"
    assert time.perf_counter() - t0 < 2.0
