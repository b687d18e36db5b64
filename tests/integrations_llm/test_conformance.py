"""rewardkit's entry files loaded and called by verl's and OpenRLHF's own code.

verl: ``verl.trainer.ppo.reward.get_custom_reward_fn`` loads ``integrations/verl.py`` by
path; its naive, batch, prime and dapo reward managers score a real ``DataProto``.
OpenRLHF: ``openrlhf.utils.agent.SingleTurnAgentExecutor`` loads ``integrations/openrlhf.py``
by path (``--remote_rm_url file.py``) or posts to rewardkit's server (``/get_reward``).
vLLM is GPU-only and not installed, so the generation engine is a scripted policy that
returns fixed token ids; everything after generation is OpenRLHF's code.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import types
from typing import ClassVar

import numpy as np
import pytest
import torch

import rewardkit.integrations.openrlhf as rk_openrlhf
import rewardkit.integrations.verl as rk_verl
from rewardkit.core import SampleBatch, build_reward, load_reward

verl_reward = pytest.importorskip("verl.trainer.ppo.reward", reason="verl not installed (bash scripts/install.sh)")
verl_managers = pytest.importorskip("verl.workers.reward_manager", reason="verl not installed")
agent = pytest.importorskip("openrlhf.utils.agent", reason="openrlhf not installed (bash scripts/install.sh)")
from omegaconf import OmegaConf  # noqa: E402  (a verl dependency)
from verl import DataProto  # noqa: E402

VERL_FILE = os.path.abspath(rk_verl.__file__)
OPENRLHF_FILE = os.path.abspath(rk_openrlhf.__file__)

CONFIG = """reward:
  name: total
  terms:
    - {type: math_answer, name: correct}
    - {type: constant, name: offset, weight: -0.5, params: {value: 1.0}}
"""

# (prompt, response, ground truth): right, wrong, unparsable, right with a fraction
SAMPLES = [("What is 2+2?", "The answer is \\boxed{4}.", "4"),
           ("What is 3*3?", "It is \\boxed{8}.", "9"),
           ("Half of 3? (hint: 1.5)", "I don't know", "3/2"),
           ("Half of 3?", "So \\boxed{\\frac{3}{2}}", "1.5")]


class CharTokenizer:
    """A character-level tokenizer built in the test: id 0 is padding (special), 1 is end-of-sequence.

    It collapses runs of whitespace to one space, as many real tokenizers' round-trips do.
    """

    pad_token_id, eos_token_id, eos_token = 0, 1, "</s>"
    specials: ClassVar[dict[int, str]] = {0: "<pad>", 1: "</s>"}

    def encode(self, text: str) -> list[int]:
        return [ord(c) + 2 for c in " ".join(text.split(" ")).replace("\n", " ").replace("  ", " ")]

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        ids = ids.tolist() if hasattr(ids, "tolist") else list(ids)
        return "".join(("" if skip_special_tokens else self.specials[i]) if i < 2 else chr(i - 2) for i in ids)

    def batch_decode(self, rows, skip_special_tokens: bool = False) -> list[str]:
        return [self.decode(r, skip_special_tokens) for r in rows]

    def __call__(self, text: str, add_special_tokens: bool = False, return_tensors: str | None = None):
        return {"input_ids": torch.tensor([self.encode(text)])}


@pytest.fixture()
def reward_env(tmp_path, monkeypatch):
    cfg = tmp_path / "reward.yaml"
    cfg.write_text(CONFIG)
    monkeypatch.setenv("REWARDKIT_CONFIG", str(cfg))
    monkeypatch.setattr(rk_verl, "_DEFAULT", None)
    monkeypatch.setattr(rk_openrlhf, "_DEFAULT", None)
    return load_reward(cfg)


def own_totals(reward, samples=SAMPLES) -> list[float]:
    batch = SampleBatch([p for p, _, _ in samples], [c for _, c, _ in samples], {"answer": [a for _, _, a in samples]})
    return [float(v) for v in reward.evaluate(batch).total]


# ------------------------------------------------------------------------------------------------ verl
def data_proto(tok: CharTokenizer, samples=SAMPLES) -> DataProto:
    """A DataProto as verl's rollout leaves it: left-padded prompts, right-padded responses."""
    p_ids = [tok.encode(p) for p, _, _ in samples]
    r_ids = [[*tok.encode(c), tok.eos_token_id] for _, c, _ in samples]
    lp, lr = max(map(len, p_ids)), max(map(len, r_ids)) + 2
    prompts = torch.tensor([[0] * (lp - len(x)) + x for x in p_ids])
    responses = torch.tensor([x + [0] * (lr - len(x)) for x in r_ids])
    mask = torch.cat([(prompts != 0).long(), (responses != 0).long()], dim=1)
    n = len(samples)
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                 "input_ids": torch.cat([prompts, responses], dim=1)},
        non_tensors={"data_source": np.array(["math"] * n, dtype=object),
                     "reward_model": np.array([{"ground_truth": a, "style": "rule"} for _, _, a in samples]),
                     "extra_info": np.array([{"question": p, "index": i} for i, (p, _, _) in enumerate(samples)])})


def verl_fn(name: str):
    config = OmegaConf.create({"reward": {"custom_reward_function": {"path": VERL_FILE, "name": name,
                                                                     "reward_kwargs": {}}}})
    return verl_reward.get_custom_reward_fn(config)


def last_token_rewards(reward_tensor: torch.Tensor, data: DataProto) -> list[float]:
    lp = data.batch["prompts"].shape[-1]
    lengths = data.batch["attention_mask"][:, lp:].sum(-1)
    return [float(reward_tensor[i, int(n) - 1]) for i, n in enumerate(lengths)]


def test_verl_loads_the_entry_file_by_path_with_its_own_loader(reward_env):
    fn = verl_fn("compute_score")
    out = fn(data_source="math", solution_str=SAMPLES[0][1], ground_truth="4", extra_info={})
    assert out["score"] == pytest.approx(0.5) and out["correct"] == 1.0


@pytest.mark.parametrize("manager", ["naive", "dapo", "batch"])
def test_verl_managers_score_like_rewardkit(reward_env, manager):
    tok = CharTokenizer()
    data = data_proto(tok)
    cls = verl_managers.get_reward_manager_cls(manager)
    out = cls(tokenizer=tok, num_examine=0, compute_score=verl_fn("compute_score"))(data, return_dict=True)
    expected = own_totals(reward_env)
    assert expected == pytest.approx([0.5, -0.5, -0.5, 0.5])
    assert last_token_rewards(out["reward_tensor"], data) == pytest.approx(expected)
    assert out["reward_extra_info"]["correct"] == pytest.approx([1.0, 0.0, 0.0, 1.0])
    assert float(out["reward_tensor"].sum()) == pytest.approx(sum(expected))  # nothing written elsewhere


def test_verl_prime_manager_scores_like_rewardkit_in_its_process_pool(reward_env):
    tok = CharTokenizer()
    data = data_proto(tok)
    prime = verl_managers.get_reward_manager_cls("prime")
    out = prime(tokenizer=tok, num_examine=0, compute_score=verl_fn("compute_score_float"))(data, return_dict=True)
    expected = own_totals(reward_env)
    assert last_token_rewards(out["reward_tensor"], data) == pytest.approx(expected)
    assert data.batch["acc"].tolist() == pytest.approx(expected)


# -------------------------------------------------------------------------------------------- OpenRLHF
class ScriptedEngine:
    """Stands in for vLLM (GPU-only): 'generates' a fixed response for each prompt."""

    def __init__(self, tok: CharTokenizer, responses: dict[str, str]):
        self.tok, self.responses = tok, responses

    async def generate(self, prompt_token_ids, params, multi_modal_data=None):
        prompt = self.tok.decode(prompt_token_ids)
        ids = [*self.tok.encode(self.responses[prompt]), self.tok.eos_token_id]
        out = types.SimpleNamespace(token_ids=ids, finish_reason="stop", logprobs=None)
        return types.SimpleNamespace(outputs=[out])


def run_executor(executor, samples, tok) -> list[dict]:
    engine = ScriptedEngine(tok, {tok.decode(tok.encode(p)): c for p, c, _ in samples})
    params = types.SimpleNamespace(max_tokens=256, logprobs=None)

    async def go():
        return [await executor.execute(p, a, params, 1024, tok, engine) for p, _, a in samples]

    return asyncio.run(go())


# prompts with newlines and double spaces: the decoded query does not start with the prompt text
CHAT_SAMPLES = [(f"User:  {p}\nAssistant:", c, a) for p, c, a in SAMPLES]


def test_openrlhf_loads_reward_func_by_path_and_takes_zero_scores(reward_env, monkeypatch):
    monkeypatch.setenv("REWARDKIT_SCORES_TERM", "correct")
    tok = CharTokenizer()
    outs = run_executor(agent.SingleTurnAgentExecutor(OPENRLHF_FILE), CHAT_SAMPLES, tok)
    expected = own_totals(reward_env, CHAT_SAMPLES)
    assert [float(o["reward"][0]) for o in outs] == pytest.approx(expected)
    # a wrong answer has score 0.0, and OpenRLHF keeps it (not the reward, -0.5)
    assert [float(o["scores"][0]) for o in outs] == [1.0, 0.0, 0.0, 1.0]
    assert [float(o["extra_logs"]["split_error"][0]) for o in outs] == [0.0] * 4


def test_openrlhf_never_scores_the_prompt():
    # the prompt holds the answer (1.5); "I don't know" must not be rewarded for it
    reward = build_reward({"terms": [{"type": "math_answer", "name": "correct"}]})
    f = rk_openrlhf.as_openrlhf_reward_func(reward, as_tensors=False)
    prompt = "User:  Half of 3? (hint: 1.5)\nAssistant:"
    query = "User: Half of 3? (hint: 1.5) Assistant: I don't know</s>"
    assert f([query], [prompt], ["3/2"])["rewards"] == [0.0]
    # unsplittable: the documented fail value, an error flag, never the prompt's score
    g = rk_openrlhf.as_openrlhf_reward_func(reward, as_tensors=False, unsplit_reward=-1.0)
    out = g(["Half of 3 is 1.5"], ["a prompt that is not in the query at all"], ["3/2"])
    assert out["rewards"] == [-1.0] and out["scores"] == [0.0] and out["extra_logs"]["split_error"] == [1.0]


def test_openrlhf_remote_rm_path_talks_to_rewardkit_server(reward_env):
    from rewardkit.integrations.server import BackgroundServer, create_app

    tok = CharTokenizer()
    with BackgroundServer(create_app(reward_env)) as srv:
        outs = run_executor(agent.SingleTurnAgentExecutor(srv.url + "/get_reward"), CHAT_SAMPLES, tok)
    expected = own_totals(reward_env, CHAT_SAMPLES)
    assert [float(np.ravel(o["reward"])[0]) for o in outs] == pytest.approx(expected)


def test_entry_files_load_by_path_like_the_frameworks_sources(reward_env):
    """The exact loader code of both frameworks (spec_from_file_location + exec_module)."""
    for name, path, attr in [("custom_module_x", VERL_FILE, "compute_score"),
                             ("reward_func", OPENRLHF_FILE, "reward_func")]:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # raised "attempted relative import with no known parent package"
        assert callable(getattr(module, attr))
