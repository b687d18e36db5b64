"""A task's rows in the data formats of TRL, verl and OpenRLHF.

* **TRL** (``GRPOTrainer``'s dataset): one dict per prompt with ``prompt`` as a chat
  (``[{"role": "system", ...}, {"role": "user", ...}]``) and every row column beside it;
  TRL passes those columns to the reward functions by name, so
  :func:`rewardkit.integrations.trl.as_trl_reward_funcs` of the task's reward reads them.
* **verl** (``RLHFDataset`` parquet): ``data_source``, ``prompt`` (the chat), ``ability``,
  ``reward_model = {"style": "rule", "ground_truth": str(row[answer_column])}`` and
  ``extra_info = {"index", "split", <other columns>}`` (plus ``question``, the user message, when the
  row has no such column).  The verl export of the
  reward (:mod:`rewardkit.integrations.verl`) maps ``ground_truth`` to the ``answer``
  column and every ``extra_info`` key to a column, so the reward sees the same columns as
  in rewardkit.  Nested values (dicts, lists) are written as JSON strings, so every row has
  the same parquet schema (the built-in tasks keep such columns as strings already).
* **OpenRLHF** (``--prompt_data file.jsonl --input_key input --label_key label
  --apply_chat_template``): ``input`` is the chat, ``label`` the answer column; OpenRLHF
  hands the label to ``reward_func`` as ``labels``.  Only that one column reaches the
  reward: tasks whose reward reads several columns (``sql``: ``db_path`` and ``gold_sql``,
  ``toolcall``: ``gold_calls`` and ``tools``) keep the others in the file, but OpenRLHF
  does not pass them on.

Example:
    >>> from rewardkit.tasks import load_task
    >>> row = to_trl(load_task("math"))[0]
    >>> [m["role"] for m in row["prompt"]], row["answer"]
    (['system', 'user'], '-48')
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .task import Task

__all__ = ["to_openrlhf", "to_trl", "to_verl", "verl_rows"]


def _scalar(v: Any) -> Any:
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list, tuple)) else v


def to_trl(task: Task) -> list[dict[str, Any]]:
    """Rows for ``datasets.Dataset.from_list``: ``prompt`` (the chat) plus every row column."""
    return [{"prompt": task.messages(r), **{k: v for k, v in r.items() if k != "prompt"}} for r in task.rows]


def verl_rows(task: Task, split: str = "train") -> list[dict[str, Any]]:
    """The rows of :func:`to_verl` before they are written."""
    meta = task.metadata
    out = []
    for i, r in enumerate(task.rows):
        extra = {k: _scalar(v) for k, v in r.items() if k != task.answer_column}
        extra.update({"index": i, "split": split})
        extra.setdefault("question", task.prompt(r))  # the judge's question in rewardkit.integrations.verl
        gt = r.get(task.answer_column)
        out.append({"data_source": str(meta.get("data_source", task.name)), "prompt": task.messages(r),
                    "ability": str(meta.get("ability", "")),
                    "reward_model": {"style": "rule", "ground_truth": "" if gt is None else str(_scalar(gt))},
                    "extra_info": extra})
    return out


def to_verl(task: Task, path: str | os.PathLike, split: str = "train") -> Path:
    """Write verl's parquet schema (data_source, prompt, ability, reward_model, extra_info) to ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rewardkit.runner.files import atomic_write

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(verl_rows(task, split)), buf)
    return atomic_write(p, buf.getvalue().to_pybytes())


def to_openrlhf(task: Task, path: str | os.PathLike, input_key: str = "input", label_key: str = "label") -> Path:
    """Write OpenRLHF prompt JSONL: ``input_key`` = the chat, ``label_key`` = the answer column, other columns kept."""
    from rewardkit.runner.files import atomic_write

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for r in task.rows:
        rest = {k: _scalar(v) for k, v in r.items() if k not in (task.answer_column, input_key, label_key)}
        label = r.get(task.answer_column)
        lines.append(json.dumps({input_key: task.messages(r), label_key: None if label is None else _scalar(label),
                                 **rest}, ensure_ascii=False) + "\n")
    return atomic_write(p, "".join(lines))
