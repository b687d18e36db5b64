"""The two batch types every reward term consumes.

rewardkit works on batches: a reward term maps a batch of ``n`` items to a float
array of shape ``(n,)``.  There are two kinds of item:

* :class:`TransitionBatch` – environment transitions ``(s, a, s', r, terminated,
  truncated, info)``, batched over the sub-environments of a vector env (or over
  time, or both flattened);
* :class:`SampleBatch` – LLM samples ``(prompt, completion)`` plus reference
  columns such as the gold answer, unit tests or a database path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np

from .errors import BatchError
from .groups import group_codes

__all__ = ["SAMPLE_ARGUMENTS", "Batch", "SampleBatch", "TransitionBatch", "looks_per_sample"]

#: argument names of a per-sample reward function -> the SampleBatch columns they read, first present
#: wins (``()``: not a column: the prompt/completion text or messages, the group id, the index).  The
#: table of docs/function-terms.md; ``rewardkit.term`` fills arguments by these names.
SAMPLE_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "prompt": (), "completion": (), "prompt_messages": (), "completion_messages": (),
    "answer": ("answer", "gold"), "info": ("info", "metadata"), "state": ("state",),
    "group": (), "index": (),
}


def looks_per_sample(fn: Any) -> bool:
    """Whether ``fn`` reads as a per-sample reward function: an argument named in
    :data:`SAMPLE_ARGUMENTS` and none called ``batch``.

    Example:
        >>> looks_per_sample(lambda completion, answer: 1.0), looks_per_sample(lambda batch: [1.0])
        (True, False)
    """
    import inspect

    try:
        names = set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return "batch" not in names and bool(names & set(SAMPLE_ARGUMENTS))


@dataclass
class TransitionBatch:
    """A batch of ``n`` environment transitions.

    Attributes:
        obs: observations ``s_t``, shape ``(n, ...)`` (or a dict of such arrays).
        action: actions ``a_t``, shape ``(n, ...)``.
        next_obs: observations ``s_{t+1}``, shape ``(n, ...)``.  For a transition that
            ended an episode this is the *true* final observation (SB3's
            ``info["terminal_observation"]``), never the reset observation.
        reward: the environment's own reward ``r_t``, shape ``(n,)``.
        terminated: ``True`` where ``s_{t+1}`` is terminal (MDP absorbing state).
        truncated: ``True`` where the episode was cut by a time limit; ``s_{t+1}`` is
            *not* terminal and still has value.
        info: one info dict per item (may be empty dicts).
        env_index: which sub-environment each item came from, shape ``(n,)``; lets
            stateful (episodic) terms keep per-env state.  Defaults to ``arange(n)``.

    Example:
        >>> import numpy as np
        >>> b = TransitionBatch.from_arrays(obs=np.zeros((2, 3)), action=np.array([0, 1]),
        ...     next_obs=np.ones((2, 3)), reward=np.array([0.0, 1.0]))
        >>> len(b), b.done.tolist()
        (2, [False, False])
    """

    obs: Any
    action: Any
    next_obs: Any
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: Sequence[Mapping[str, Any]] = field(default_factory=list)
    env_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.reward = np.asarray(self.reward, dtype=np.float64).reshape(-1)
        n = self.reward.shape[0]
        self.terminated = _bool_column(self.terminated, n, "terminated")
        self.truncated = _bool_column(self.truncated, n, "truncated")
        if not self.info:
            self.info = [{} for _ in range(n)]
        elif len(self.info) != n:
            raise BatchError("info", f"has {len(self.info)} entries for {n} transitions",
                             "one dict per transition")
        if self.env_index is None:
            self.env_index = np.arange(n)
        else:
            self.env_index = np.asarray(self.env_index, dtype=np.int64).reshape(-1)
            if self.env_index.shape[0] != n:
                raise BatchError("env_index", f"has {self.env_index.shape[0]} entries for {n} transitions",
                                 "one int per transition")

    @classmethod
    def from_arrays(cls, obs: Any, action: Any, next_obs: Any, reward: Any,
                    terminated: Any = None, truncated: Any = None,
                    info: Sequence[Mapping[str, Any]] | None = None,
                    env_index: Any = None) -> TransitionBatch:
        """Build a batch, defaulting ``terminated``/``truncated`` to all-False."""
        n = np.asarray(reward).reshape(-1).shape[0]
        if terminated is None:
            terminated = np.zeros(n, dtype=bool)
        if truncated is None:
            truncated = np.zeros(n, dtype=bool)
        return cls(obs, action, next_obs, np.asarray(reward), terminated, truncated,
                   list(info) if info is not None else [], env_index)

    @property
    def done(self) -> np.ndarray:
        """``terminated | truncated``: the episode ended at this transition."""
        done: np.ndarray = self.terminated | self.truncated
        return done

    def __len__(self) -> int:
        return int(self.reward.shape[0])


@dataclass
class SampleBatch:
    """A batch of ``n`` LLM samples.

    Attributes:
        prompts: the prompt of each sample (a string, or a chat message list).
        completions: the model output of each sample (a string, or a chat message
            list whose last message's ``content`` is the completion).
        columns: reference columns, each a sequence of length ``n`` – e.g.
            ``{"answer": [...], "tests": [...]}``.  TRL passes dataset columns this way.
        group: the GRPO group id of each sample (optional; any hashable ids).  Without it,
            a ``"group"`` column is used, and without that the group is inferred from
            repeated prompts: samples with the same prompt text form one group, as the
            ``G`` completions of one prompt do in every GRPO trainer.  Read it with
            :meth:`group_ids` / :meth:`group_index`.

    Example:
        >>> b = SampleBatch(["1+1?"], ["\\\\boxed{2}"], {"answer": ["2"]})
        >>> len(b), b.column("answer")
        (1, ['2'])
        >>> SampleBatch(["a", "b", "a"], ["x", "y", "z"]).group_index().tolist()
        [0, 1, 0]
    """

    prompts: Sequence[Any]
    completions: Sequence[Any]
    columns: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    group: Sequence[Any] | None = None

    def __post_init__(self) -> None:
        n = len(self.completions)
        if len(self.prompts) != n:
            raise BatchError("prompts", f"has {len(self.prompts)} entries for {n} completions",
                             "one prompt per completion")
        cols = {}
        for k, v in dict(self.columns).items():
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
                v = [v] * n  # broadcast a scalar column
            if len(v) != n:
                raise BatchError(f"columns.{k}", f"has {len(v)} entries for {n} completions",
                                 "one entry per completion")
            cols[k] = list(v)
        self.columns = cols
        if self.group is not None:
            g = list(self.group.reshape(-1)) if isinstance(self.group, np.ndarray) else list(self.group)
            if len(g) != n:
                raise BatchError("group", f"has {len(g)} entries for {n} completions", "one group id per completion")
            self.group = g

    def __len__(self) -> int:
        return len(self.completions)

    def column(self, name: str, default: Any = ...) -> Sequence[Any]:
        """Return reference column ``name``; a clear :class:`BatchError` if it is missing."""
        if name in self.columns:
            return self.columns[name]
        if default is not ...:
            return [default] * len(self)
        raise BatchError(f"columns.{name}", f"missing (have: {sorted(self.columns) or 'none'})",
                         f"a column '{name}' with one entry per completion")

    def group_ids(self) -> list[Any]:
        """The group id of each sample: ``group``, else the ``"group"`` column, else the prompt text."""
        if self.group is not None:
            return list(self.group)
        if "group" in self.columns:
            return list(self.columns["group"])
        return self.prompt_texts()

    def group_index(self) -> np.ndarray:
        """Dense group indices ``0..k-1`` of :meth:`group_ids` (see :func:`rewardkit.core.groups.group_codes`)."""
        return group_codes(self.group_ids(), len(self))

    def completion_texts(self) -> list[str]:
        """Completions as plain strings (the last message's content for chat format)."""
        return [_as_text(c) for c in self.completions]

    def prompt_texts(self) -> list[str]:
        """Prompts as plain strings (chat messages joined by newlines)."""
        out = []
        for p in self.prompts:
            if isinstance(p, str):
                out.append(p)
            elif isinstance(p, Sequence) and p and isinstance(p[0], Mapping):
                out.append("\n".join(str(m.get("content", "")) for m in p))
            else:
                out.append("" if p is None else str(p))
        return out


Batch = TransitionBatch | SampleBatch


def _as_text(c: Any) -> str:
    if isinstance(c, str):
        return c
    if c is None:
        return ""
    if isinstance(c, Sequence) and c and isinstance(c[-1], Mapping):
        return str(c[-1].get("content", ""))
    return str(c)


def _bool_column(x: Any, n: int, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=bool).reshape(-1)
    if a.shape[0] != n:
        raise BatchError(name, f"has {a.shape[0]} entries for {n} transitions", "one bool per transition")
    return a
