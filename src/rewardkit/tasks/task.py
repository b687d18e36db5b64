"""A task: a dataset, a prompt (system prompt + template), a reward config and metadata, loadable as one unit.

A task file (YAML, TOML or JSON; paths are relative to the file)::

    name: arithmetic-easy
    description: two-operand integer arithmetic
    dataset:                      # exactly one of path / rows / generator
      path: problems.jsonl        # .jsonl or .parquet;  or  rows: [{question: ..., answer: ...}, ...]
      # generator: arithmetic     # a registered generator, or "package.module:function"
      # params: {n: 100, seed: 0} # the generator's keyword arguments
      limit: 100                  # optional: the first N rows
    system_prompt: Think in <think></think>, then answer in <answer></answer>.
    prompt_template: "{question}" # fields are row columns
    answer_column: answer         # the label (verl ground_truth, OpenRLHF label); default "answer"
    reward:                       # a reward config (docs/core.md)
      terms:
        - {type: math_answer, name: correct}
        - {type: think_answer_format, name: format, weight: 0.2}
    metadata: {ability: math}     # free-form; ``ability`` and ``data_source`` go to the verl export

A small Python package is a task too: ``load_task("my_pkg.my_task")`` imports the module
and reads its ``TASK`` (such a mapping, with ``dataset.rows`` or a generator) or calls its
``task()`` function (returning a mapping or a :class:`Task`).

The rows of a task are plain dicts; every column except the template's prompt is a reference
column of the reward (:class:`~rewardkit.core.SampleBatch` ``columns``).  For sample ``i``
the model sees the chat

.. math:: m_i = [(\\text{system}, s),\\ (\\text{user}, \\mathrm{template}(\\mathrm{row}_i))]

Bad task files give one :class:`~rewardkit.core.ConfigError` line naming the field.

Example:
    >>> t = Task.from_mapping({"name": "t", "dataset": {"rows": [{"question": "1+1?", "answer": "2"}]},
    ...                        "prompt_template": "Q: {question}",
    ...                        "reward": {"terms": [{"type": "math_answer", "name": "correct"}]}})
    >>> t.messages(t.rows[0])
    [{'role': 'user', 'content': 'Q: 1+1?'}]
    >>> t.score(["\\\\boxed{2}", "3"], rows=[t.rows[0]] * 2).total.tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.core import ComposedReward, ConfigError, RewardResult, SampleBatch, build_reward, read_mapping
from rewardkit.core.registry import Registry

__all__ = ["GENERATORS", "TASKS", "Task", "available_tasks", "load_task", "register_generator", "register_task"]

#: task name -> factory returning a :class:`Task` (the built-ins are registered by :mod:`rewardkit.tasks.builtin`)
TASKS: Registry = Registry("task", loaders=("rewardkit.tasks.builtin",))
#: generator name -> function(**params) -> iterable of row dicts
GENERATORS: Registry = Registry("generator", loaders=("rewardkit.tasks.builtin",))

_TASK_KEYS = {"name", "description", "dataset", "system_prompt", "prompt_template", "answer_column", "reward",
              "metadata"}
_DATASET_KEYS = {"path", "rows", "generator", "params", "limit"}
_MAX_ROWS = 1_000_000


def register_task(name: str, factory: Callable[[], Task] | None = None, *, override: bool = False) -> Any:
    """Register a task factory under ``name`` (usable as a decorator).

    Example:
        >>> @register_task("doc_echo", override=True)
        ... def _echo():
        ...     return Task("doc_echo", [{"question": "hi", "answer": "hi"}],
        ...                 {"terms": [{"type": "qa_match", "params": {"require_tags": False}}]})
        >>> load_task("doc_echo").rows
        [{'question': 'hi', 'answer': 'hi'}]
    """
    return TASKS.register(name, factory, override=override)


def register_generator(name: str, fn: Callable[..., Iterable[Mapping[str, Any]]] | None = None, *,
                       override: bool = False) -> Any:
    """Register a procedural dataset generator (``fn(**params) -> rows``) under ``name``."""
    return GENERATORS.register(name, fn, override=override)


def available_tasks() -> list[str]:
    """Names of the registered tasks (the built-ins included).

    Example:
        >>> {"math", "code", "sql", "structured", "toolcall"} <= set(available_tasks())
        True
    """
    return TASKS.names()


@dataclass
class Task:
    """A loaded task: its rows, prompt, reward config and metadata.

    Attributes:
        name: the task's name (``data_source`` of the verl export unless the metadata names one).
        rows: the dataset, one dict per prompt.
        reward_config: the reward section (a mapping for :func:`~rewardkit.core.build_reward`).
        system_prompt: the system message ('' for none).
        prompt_template: ``str.format`` template over the row's columns.
        answer_column: the label column (verl ``ground_truth``, OpenRLHF ``label``).
        metadata: free-form; ``ability`` and ``data_source`` are used by the verl export.
    """

    name: str
    rows: list[dict[str, Any]]
    reward_config: Mapping[str, Any]
    system_prompt: str = ""
    prompt_template: str = "{question}"
    answer_column: str = "answer"
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        from rewardkit.verify.judge.prompt import template_fields

        if not isinstance(self.rows, list) or not self.rows:
            raise ConfigError("dataset", f"has {len(self.rows) if isinstance(self.rows, list) else 0} rows",
                              "at least one row")
        fields = template_fields(self.prompt_template)
        for i, row in enumerate(self.rows):
            if not isinstance(row, dict):
                raise ConfigError(f"dataset[{i}]", f"got {type(row).__name__}", "a mapping of column -> value")
            missing = sorted(fields - set(row))
            if missing:
                raise ConfigError(f"dataset[{i}].{missing[0]}", "missing (used by prompt_template)",
                                  f"every row to have the columns {sorted(fields)}")
        self._reward: ComposedReward | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any], base_dir: str | os.PathLike | None = None) -> Task:
        """Validate a task mapping (the YAML schema of the module docstring) and load its dataset."""
        if not isinstance(spec, Mapping):
            raise ConfigError("task", f"got {type(spec).__name__}", "a mapping with name, dataset and reward")
        unknown = sorted(set(spec) - _TASK_KEYS)
        if unknown:
            raise ConfigError(unknown[0], "unknown key", f"one of {sorted(_TASK_KEYS)}")
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("name", f"got {name!r}", "the task's name (a non-empty string)")
        for key in ("system_prompt", "prompt_template", "answer_column", "description"):
            if key in spec and not isinstance(spec[key], str):
                raise ConfigError(key, f"got {type(spec[key]).__name__}", "a string")
        if "reward" not in spec:
            raise ConfigError("reward", "missing", "a reward config with terms (docs/core.md)")
        reward = spec["reward"]
        if not isinstance(reward, Mapping):
            raise ConfigError("reward", f"got {type(reward).__name__}", "a reward config with terms")
        build_reward(reward, field="reward")  # validated now: a bad term fails at load time, naming its field
        meta = spec.get("metadata", {})
        if not isinstance(meta, Mapping):
            raise ConfigError("metadata", f"got {type(meta).__name__}", "a mapping")
        rows = _load_rows(spec.get("dataset"), Path(base_dir) if base_dir is not None else Path.cwd())
        return cls(name.strip(), rows, dict(reward), spec.get("system_prompt", ""),
                   spec.get("prompt_template", "{question}"), spec.get("answer_column", "answer"), dict(meta),
                   spec.get("description", ""))

    @property
    def reward(self) -> ComposedReward:
        """The task's reward, built once from :attr:`reward_config`."""
        if self._reward is None:
            self._reward = build_reward(self.reward_config, field="reward")
        return self._reward

    # ------------------------------------------------------------------ prompts
    def prompt(self, row: Mapping[str, Any]) -> str:
        """The user message of ``row``: the template filled with its columns."""
        from rewardkit.verify.judge.prompt import render_prompt

        return render_prompt(self.prompt_template, **row)

    def messages(self, row: Mapping[str, Any]) -> list[dict[str, str]]:
        """The chat sent to the model for ``row`` (system message first when there is one)."""
        msgs = [{"role": "user", "content": self.prompt(row)}]
        if self.system_prompt:
            msgs.insert(0, {"role": "system", "content": self.system_prompt})
        return msgs

    def columns(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """Reference columns of ``rows`` for a :class:`~rewardkit.core.SampleBatch` (every column, absent = None)."""
        names = sorted({k for r in rows for k in r})
        return {k: [r.get(k) for r in rows] for k in names}

    def batch(self, completions: Sequence[Any], rows: Sequence[Mapping[str, Any]] | None = None) -> SampleBatch:
        """A :class:`~rewardkit.core.SampleBatch` of ``completions`` for ``rows`` (default: all rows, in order)."""
        rows = list(self.rows if rows is None else rows)
        if len(rows) != len(completions):
            raise ConfigError("rows", f"has {len(rows)} entries for {len(completions)} completions",
                              "one row per completion")
        return SampleBatch([self.messages(r) for r in rows], list(completions), self.columns(rows))

    def score(self, completions: Sequence[Any], rows: Sequence[Mapping[str, Any]] | None = None) -> RewardResult:
        """Evaluate the task's reward on ``completions`` (one per row): total and per-term values."""
        return self.reward.evaluate(self.batch(completions, rows))

    # ------------------------------------------------------------------ exports
    def to_trl(self) -> list[dict[str, Any]]:
        """Rows for TRL (see :func:`rewardkit.tasks.export.to_trl`)."""
        from .export import to_trl

        return to_trl(self)

    def to_verl(self, path: str | os.PathLike, split: str = "train") -> Path:
        """verl parquet (see :func:`rewardkit.tasks.export.to_verl`)."""
        from .export import to_verl

        return to_verl(self, path, split)

    def to_openrlhf(self, path: str | os.PathLike, input_key: str = "input", label_key: str = "label") -> Path:
        """OpenRLHF JSONL (see :func:`rewardkit.tasks.export.to_openrlhf`)."""
        from .export import to_openrlhf

        return to_openrlhf(self, path, input_key, label_key)

    def __repr__(self) -> str:
        terms = [t.get("name") or t.get("type") for t in self.reward_config.get("terms", [])]
        return f"Task({self.name!r}, {len(self.rows)} rows, terms={terms})"


# ---------------------------------------------------------------------- datasets
def _load_rows(ds: Any, base: Path) -> list[dict[str, Any]]:
    if not isinstance(ds, Mapping):
        raise ConfigError("dataset", f"got {ds!r}"[:120], "a mapping with one of path, rows or generator")
    unknown = sorted(set(ds) - _DATASET_KEYS)
    if unknown:
        raise ConfigError(f"dataset.{unknown[0]}", "unknown key", f"one of {sorted(_DATASET_KEYS)}")
    given = [k for k in ("path", "rows", "generator") if k in ds]
    if len(given) != 1:
        raise ConfigError("dataset", f"gives {given or 'none'} of path/rows/generator", "exactly one of them")
    limit = ds.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError("dataset.limit", f"got {limit!r}", "a positive integer")
    cap = min(limit or _MAX_ROWS, _MAX_ROWS)
    if "params" in ds and "generator" not in ds:
        raise ConfigError("dataset.params", "given without a generator", "params only with dataset.generator")
    if "rows" in ds:
        rows = ds["rows"]
        if not isinstance(rows, list):
            raise ConfigError("dataset.rows", f"got {type(rows).__name__}", "a list of mappings")
        out = [dict(r) if isinstance(r, Mapping) else r for r in rows[:cap]]
    elif "path" in ds:
        out = read_rows(ds["path"], base, cap)
    else:
        out = _generate(ds["generator"], ds.get("params", {}), cap)
    for i, r in enumerate(out):
        if not isinstance(r, dict):
            raise ConfigError(f"dataset[{i}]", f"got {type(r).__name__}", "a mapping of column -> value")
    return out


def read_rows(path: Any, base: str | os.PathLike = ".", limit: int = _MAX_ROWS) -> list[dict[str, Any]]:
    """Rows of a ``.jsonl`` or ``.parquet`` file (relative paths from ``base``); a bad line names its number.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "d.jsonl")
        >>> _ = open(p, "w").write('{"question": "1+1?", "answer": "2"}\\n\\n[1]\\n')
        >>> read_rows(p)
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: dataset.path: line 3 of d.jsonl is a list; expected one JSON object per line
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError("dataset.path", f"got {path!r}", "a .jsonl or .parquet file")
    p = Path(path)
    if not p.is_absolute():
        p = Path(base) / p
    if not p.is_file():
        raise ConfigError("dataset.path", f"{str(path)!r} is not a file", "a .jsonl or .parquet file")
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except Exception as e:  # any reader failure is a bad file
            raise ConfigError("dataset.path", f"{p.name} is not readable parquet ({type(e).__name__})",
                              "a parquet file") from None
        return table.slice(0, limit).to_pylist()
    if p.suffix not in (".jsonl", ".json"):
        raise ConfigError("dataset.path", f"{p.name} has suffix {p.suffix!r}", "a .jsonl or .parquet file")
    out: list[dict[str, Any]] = []
    with p.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if len(out) >= limit:
                break
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                raise ConfigError("dataset.path", f"line {n} of {p.name} is not JSON", "one JSON object per line") from None
            if not isinstance(obj, dict):
                raise ConfigError("dataset.path", f"line {n} of {p.name} is a {type(obj).__name__}",
                                  "one JSON object per line")
            out.append(obj)
    return out


def _generate(gen: Any, params: Any, cap: int) -> list[dict[str, Any]]:
    if not isinstance(params, Mapping):
        raise ConfigError("dataset.params", f"got {type(params).__name__}", "a mapping of keyword arguments")
    if not isinstance(gen, str) or not gen:
        raise ConfigError("dataset.generator", f"got {gen!r}", "a registered generator or 'module:function'")
    if ":" in gen:
        mod, _, fn_name = gen.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), fn_name)
        except (ImportError, AttributeError) as e:
            raise ConfigError("dataset.generator", f"cannot load {gen!r} ({type(e).__name__})",
                              "an importable 'module:function'") from None
    else:
        fn = GENERATORS.get(gen, "dataset.generator").factory
    try:
        rows = fn(**params)
    except TypeError as e:
        raise ConfigError("dataset.params", str(e).split("\n")[0], f"the keyword arguments of {gen}") from None
    out: list[Any] = []
    for r in rows:
        if len(out) >= cap:
            break
        out.append(dict(r) if isinstance(r, Mapping) else r)
    return out


# ---------------------------------------------------------------------- loading
def load_task(name_or_path: str | os.PathLike | Mapping[str, Any]) -> Task:
    """A task by registered name, task file (``.yaml``/``.yml``/``.toml``/``.json``), module name or mapping.

    Example:
        >>> t = load_task("math")
        >>> len(t.rows), sorted(t.rows[0]), [c.term.name for c in t.reward.components]
        (200, ['answer', 'question'], ['correct', 'format'])
    """
    if isinstance(name_or_path, Mapping):
        return Task.from_mapping(name_or_path)
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path):
        raise ConfigError("task", f"got {name_or_path!r}", "a task name, a task file or a module")
    s = str(name_or_path)
    p = Path(s)
    if p.suffix in (".yaml", ".yml", ".toml", ".json") or p.is_file():
        spec = read_mapping(p)  # a missing or unreadable file is one ConfigError line
        return Task.from_mapping(spec, base_dir=p.resolve().parent)
    if s in TASKS:
        task = TASKS.get(s, "task").factory()
        if not isinstance(task, Task):
            raise ConfigError(f"task {s!r}", f"factory returned {type(task).__name__}", "a Task")
        return task
    try:
        mod = importlib.import_module(s)
    except ImportError:
        raise ConfigError("task", f"{s!r} is not a registered task, a task file or an importable module",
                          f"one of {TASKS.names()}, a .yaml file or a module with TASK") from None
    obj = mod.task() if callable(getattr(mod, "task", None)) else getattr(mod, "TASK", None)
    if isinstance(obj, Task):
        return obj
    if isinstance(obj, Mapping):
        return Task.from_mapping(obj, base_dir=Path(getattr(mod, "__file__", ".") or ".").parent)
    raise ConfigError(f"task {s!r}", "the module has no TASK mapping or task() function", "a task module")
