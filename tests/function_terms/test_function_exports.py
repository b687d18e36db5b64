"""Function and group terms exported like any term: TRL's GRPOTrainer, verl's and OpenRLHF's entry points, the server."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest

import rewardkit
from rewardkit.core import ComposedReward, SampleBatch
from rewardkit.integrations.server import BackgroundServer, create_app
from rewardkit.integrations.trl import as_trl_reward_funcs


@rewardkit.term
def has_answer(completion, answer):
    """1 if the gold answer occurs in the completion; raises on the marker 'x!' (a typed error)."""
    if "x!" in completion:
        raise ValueError("marker")
    return float(str(answer) in completion)


@rewardkit.term(max_concurrency=4)
async def digit_share(completion):
    await asyncio.sleep(0)
    return sum(ch.isdigit() for ch in completion) / max(1, len(completion))


@rewardkit.group_term
def longer_than_group(completions):
    mean = sum(map(len, completions)) / len(completions)
    return [float(len(c) > mean) for c in completions]


def reward():
    return ComposedReward([(has_answer, 1.0), (digit_share, 0.5), (longer_than_group, 0.1)], name="fn")


PROMPTS = ["2+2=", "2+2=", "3+3=", "3+3="]
COMPLETIONS = ["4", "it is 4 x!", "6", "six?"]
ANSWERS = ["4", "4", "6", None]


def direct():
    return reward().evaluate(SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS}))


def test_trl_reward_funcs_report_errors_and_not_applicable():
    funcs, weights = as_trl_reward_funcs(reward())
    logged = {}
    outs = [f(prompts=PROMPTS, completions=COMPLETIONS, answer=ANSWERS,
              log_metric=lambda k, v: logged.__setitem__(k, v)) for f in funcs]
    assert [f.__name__ for f in funcs] == ["has_answer", "digit_share", "longer_than_group"]
    assert weights == [1.0, 0.5, 0.1]
    assert outs[0] == [1.0, 0.0, 1.0, None]                     # no gold -> TRL skips the row for this term
    assert outs[2] == [0.0, 1.0, 0.0, 1.0]                      # groups inferred from the repeated prompts
    np.testing.assert_allclose(outs[1], direct().terms["digit_share"])


def test_trl_grpo_trainer_runs_a_step_with_function_terms(tmp_path):
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    import torch
    from tiny_lm import char_tokenizer, tiny_llama

    torch.manual_seed(0)
    torch.set_num_threads(1)
    tokenizer = char_tokenizer()
    funcs, weights = as_trl_reward_funcs(reward())
    seen = []

    class Spy:
        def __init__(self, f):
            self.f, self.__name__ = f, f.__name__

        def __call__(self, *a, **kw):
            out = self.f(*a, **kw)
            seen.append((self.__name__, kw.get("prompts") or a[0], out))
            return out

    data = datasets.Dataset.from_dict({"prompt": ["2+2=", "3+4=", "1+1=", "5+3="], "answer": ["4", "7", "2", "8"]})
    args = trl.GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4, num_generations=4,
                          max_completion_length=6, learning_rate=1e-2, logging_steps=1, report_to="none",
                          use_cpu=True, save_strategy="no", seed=0, reward_weights=weights, disable_tqdm=True,
                          dataloader_num_workers=0, beta=0.0)
    trainer = trl.GRPOTrainer(model=tiny_llama(tokenizer), reward_funcs=[Spy(f) for f in funcs], args=args,
                              train_dataset=data, processing_class=tokenizer)
    trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    assert trainer.state.global_step == 1 and logs
    for name in ("has_answer", "digit_share", "longer_than_group"):
        assert f"rewards/{name}/mean" in logs[0], name
    # the group term saw TRL's GRPO groups: the 4 generations of one prompt
    prompts, group_out = next((p, out) for name, p, out in seen if name == "longer_than_group")
    assert len(set(prompts)) == 1 and len(group_out) == 4


def test_verl_and_openrlhf_entry_points_with_a_plugin_config(tmp_path, monkeypatch):
    import rewardkit.integrations.openrlhf as orl
    import rewardkit.integrations.verl as vl

    mod = tmp_path / "fn_plugin_rewards.py"
    mod.write_text("import rewardkit\n\n"
                   "@rewardkit.term(register='test_fn_contains')\n"
                   "def contains(completion, answer):\n"
                   "    return float(str(answer) in completion)\n\n"
                   "@rewardkit.group_term(register='test_fn_group_longest')\n"
                   "def longest(completions):\n"
                   "    m = max(map(len, completions))\n"
                   "    return [float(len(c) == m) for c in completions]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = tmp_path / "reward.yaml"
    cfg.write_text("plugins: [fn_plugin_rewards]\nreward:\n  terms:\n"
                   "    - {type: test_fn_contains, name: correct}\n"
                   "    - {type: test_fn_group_longest, name: longest, weight: 0.5}\n")
    monkeypatch.setenv("REWARDKIT_CONFIG", str(cfg))
    monkeypatch.setattr(vl, "_DEFAULT", None)
    monkeypatch.setattr(orl, "_DEFAULT", None)
    assert vl.compute_score("ds", "it is 42", "42", {"question": "q"}) == {"score": 1.5, "correct": 1.0,
                                                                          "longest": 1.0}
    got = vl.compute_score_batch(["ds"] * 3, ["42", "it is 42", "7"], ["42"] * 3, [{"question": "q"}] * 3)
    assert [d["score"] for d in got] == [1.0, 1.5, 0.0]          # one group: the same question
    out = orl.reward_func(["q 42", "q it is 42"], ["q ", "q "], ["42", "42"])
    assert out["rewards"].tolist() == [1.0, 1.5]


def test_server_in_process_and_in_a_worker(tmp_path):
    body = {"prompts": PROMPTS, "completions": COMPLETIONS, "columns": {"answer": ANSWERS}}
    want = direct()
    for workers in (0, 1):        # 0: scored on the server's thread pool; 1: pickled into a worker process
        with BackgroundServer(create_app(reward(), workers=workers)) as srv:
            got = httpx.post(srv.url + "/v1/reward", json=body, timeout=60).json()
        np.testing.assert_allclose(got["rewards"], want.total)
        assert got["terms"]["has_answer"] == [1.0, 0.0, 1.0, None]
        assert got["errors"]["has_answer"] == [None, "internal:ValueError", None, None]


def test_called_from_the_servers_event_loop_thread():
    async def handler():   # a reward computed synchronously inside a running loop (no to_thread)
        return reward()(SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS})).tolist()

    assert asyncio.run(handler()) == pytest.approx(direct().total.tolist())
