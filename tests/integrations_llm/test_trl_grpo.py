"""Two real TRL GRPOTrainer steps on CPU with rewardkit's per-term reward functions.

A tiny randomly initialised Llama (hidden 32, 2 layers) and a character-level
tokenizer built locally: nothing is downloaded.  One term is the LLM judge,
called over real HTTP on loopback (the remote "model" is the local fake server).
The test checks that every rewardkit term shows up in TRL's logged metrics as
``rewards/<term>/mean`` and that the logged means equal the values the
functions returned.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pytest

trl = pytest.importorskip("trl")
transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")
import torch  # noqa: E402

from rewardkit.core import ComposedReward, Component, FunctionTerm  # noqa: E402
from rewardkit.integrations.trl import as_trl_reward_funcs  # noqa: E402
from fake_openai import FakeOpenAI  # noqa: E402
from rewardkit.verify.gate import content_gate  # noqa: E402
from rewardkit.verify.judge import LLMJudge, OpenAIChatClient, RetryPolicy  # noqa: E402
from rewardkit.verify.result import Verifier, VerifyResult  # noqa: E402
from tiny_lm import char_tokenizer, tiny_llama  # noqa: E402


class AnswerPresent(Verifier):
    name = "answer_present"
    reference_columns = ("answer",)

    def verify(self, completion, answer=None, **_):
        return VerifyResult(float(str(answer) in completion))


class Recorder:
    """Wraps a TRL reward function and keeps what it returned (for comparing with TRL's logs)."""

    def __init__(self, fn):
        self.fn, self.__name__, self.outputs = fn, fn.__name__, []

    def __call__(self, *a, **kw):
        out = self.fn(*a, **kw)
        self.outputs.append(out)
        return out


@pytest.fixture()
def judge_server():
    with FakeOpenAI() as fake:
        yield fake


def test_grpo_two_steps_logs_every_rewardkit_term(tmp_path, judge_server):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    tokenizer = char_tokenizer()
    model = tiny_llama(tokenizer)
    before = [p.detach().clone() for p in model.parameters()]

    reward = ComposedReward([
        Component(AnswerPresent().as_term("answer_present"), 1.0),
        Component(content_gate(name="content_gate"), 0.5),
        Component(LLMJudge(OpenAIChatClient(judge_server.base_url, timeout=5), model="fake-judge",
                           retry=RetryPolicy(max_retries=1, base_delay=0.01)).as_term("llm_judge"), 0.5),
        Component(FunctionTerm("digit_ratio", lambda b: [sum(ch.isdigit() for ch in c) / max(1, len(c))
                                                        for c in b.completion_texts()]), 0.25),
    ], name="rk")
    funcs, weights = as_trl_reward_funcs(reward)
    recorders = [Recorder(f) for f in funcs]

    data = datasets.Dataset.from_dict({
        "prompt": ["2+2=", "3+4=", "1+1=", "5+3=", "2*3=", "9-4=", "6+1=", "8-8="],
        "answer": ["4", "7", "2", "8", "6", "5", "7", "0"],
    })
    args = trl.GRPOConfig(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4, num_generations=4,
        max_completion_length=8, learning_rate=1e-2, logging_steps=1, report_to="none", use_cpu=True,
        save_strategy="no", seed=0, reward_weights=weights, disable_tqdm=True, dataloader_num_workers=0,
        temperature=1.0, beta=0.0,
    )
    trainer = trl.GRPOTrainer(model=model, reward_funcs=recorders, args=args, train_dataset=data,
                              processing_class=tokenizer)
    trainer.train()

    logs = [h for h in trainer.state.log_history if "reward" in h]
    assert trainer.state.global_step == 2 and len(logs) == 2
    for name in ("answer_present", "content_gate", "llm_judge", "digit_ratio"):
        assert all(f"rewards/{name}/mean" in h and f"rewards/{name}/std" in h for h in logs), name
    assert all("rewardkit/llm_judge/error_frac" in h for h in logs)
    assert 0 < judge_server.hits <= 8                # 2 steps x 4 completions, minus gated/cached ones
    # what TRL logged is exactly what the rewardkit functions returned
    for rec in recorders:
        assert len(rec.outputs) == 2 and all(len(o) == 4 for o in rec.outputs)
        logged = [h[f"rewards/{rec.__name__}/mean"] for h in logs]
        np.testing.assert_allclose(logged, [np.mean(o) for o in rec.outputs], rtol=1e-5, atol=1e-6)
    # and the trainer's reward is rewardkit's weighted total
    totals = [np.mean(sum(w * np.array(r.outputs[i]) for w, r in zip(weights, recorders, strict=True))) for i in range(2)]
    np.testing.assert_allclose([h["reward"] for h in logs], totals, rtol=1e-5, atol=1e-6)
    changed = any(not torch.equal(a, b.detach()) for a, b in zip(before, trainer.model.parameters(), strict=True))
    stds = [h["reward_std"] for h in logs]
    assert changed or max(stds) == 0.0          # an update happens whenever the reward varies
