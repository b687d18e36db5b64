"""Export a :class:`~rewardkit.core.ComposedReward` as a verl ``compute_score``.

verl (Sheng et al., 2024, *HybridFlow: A Flexible and Efficient RLHF Framework*,
arXiv:2409.19256) loads a custom reward through
``custom_reward_function.path`` / ``.name`` and its reward managers call

``compute_score(data_source, solution_str, ground_truth, extra_info=None, **reward_kwargs)``

per sample (naive / prime / dapo managers) or, for the ``batch`` manager,
``compute_score(data_sources, solution_strs, ground_truths, extra_infos)`` with
lists.  The return is a ``float`` or a ``dict`` holding ``"score"``; other keys go
to ``reward_extra_info`` and are logged.  The score is written at the last valid
response token, so the per-sample reward is

.. math:: r = \\sum_k w_k\\, \\tilde r_k(q, o, a^*) \\quad\\text{(the composed total)}.

Mapping onto rewardkit's :class:`~rewardkit.core.SampleBatch`:

* completion = ``solution_str`` (already decoded, special tokens skipped);
* ``ground_truth`` -> column ``ground_truth_column`` (default ``"answer"``);
* every key of ``extra_info`` (a dict) -> a column of the same name, except that
  ``ground_truth`` wins over an ``extra_info`` key of the same name;
* ``data_source`` -> column ``"data_source"``;
* prompt = ``extra_info[prompt_key]`` if present (default key ``"question"``), else ``""``.

verl has no "None" reward: terms that do not apply contribute their value
(usually 0).  All samples return the same dict keys (verl stacks them), one per
term.  For ``data_source`` routing pass a mapping ``{data_source: reward}``
(``"default"`` catches the rest).

Without Python glue, point verl at this file and select the reward with an
environment variable::

    REWARDKIT_CONFIG=reward.yaml  custom_reward_function.path=<site-packages>/rewardkit/integrations/verl.py
    custom_reward_function.name=compute_score

Example:
    >>> from rewardkit.core import ComposedReward, FunctionTerm
    >>> correct = FunctionTerm("correct", lambda b: [a in c for c, a in zip(b.completion_texts(), b.column("answer"))])
    >>> score = as_verl_compute_score(ComposedReward([(correct, 2.0)]))
    >>> score("openai/gsm8k", "so #### 4", "4")
    {'score': 2.0, 'correct': 1.0}
    >>> as_verl_compute_score(ComposedReward([(correct, 2.0)]), return_dict=False)("gsm8k", "5", "4")
    0.0
"""

from __future__ import annotations

import os
import threading
from typing import Any
from collections.abc import Mapping, Sequence

from rewardkit.core import ComposedReward, ConfigError
from rewardkit.core.config import load_reward_from_env

from rewardkit.integrations.trl import _as_composed, score_samples  # absolute: verl loads this file by path

__all__ = ["VerlComputeScore", "as_verl_compute_score", "compute_score", "compute_score_batch", "compute_score_float"]


class VerlComputeScore:
    """verl ``compute_score``: a float or ``{"score": total, <term>: value, ...}``.

    Called with lists (verl's ``batch`` reward manager) it returns a list.
    """

    def __init__(self, reward: Any, ground_truth_column: str = "answer", prompt_key: str = "question",
                 return_dict: bool = True):
        if isinstance(reward, Mapping):
            self.routes = {str(k): _as_composed(v) for k, v in reward.items()}
        else:
            self.routes = {"default": _as_composed(reward)}
        self.ground_truth_column = ground_truth_column
        self.prompt_key = prompt_key
        self.return_dict = return_dict
        self.__name__ = "compute_score"

    def reward_for(self, data_source: Any) -> ComposedReward:
        r = self.routes.get(str(data_source)) or self.routes.get("default")
        if r is None:
            raise ConfigError("data_source", f"no reward for {data_source!r}",
                              f"one of {sorted(self.routes)} (or a 'default' entry)")
        return r

    def __call__(self, data_source: Any = None, solution_str: Any = None, ground_truth: Any = None,
                 extra_info: Any = None, *, data_sources: Any = None, solution_strs: Any = None,
                 ground_truths: Any = None, extra_infos: Any = None, **reward_kwargs: Any) -> Any:
        if solution_strs is not None:  # the batch reward manager: plural keywords
            n = len(solution_strs)
            sources = list(data_sources) if data_sources is not None else [None] * n
            truths = list(ground_truths) if ground_truths is not None else [None] * n
            extras = list(extra_infos) if extra_infos is not None else [None] * n
            return self.score_many(sources, list(solution_strs), truths, extras)
        if isinstance(solution_str, (list, tuple)):  # lists passed positionally
            n = len(solution_str)
            sources = list(data_source) if isinstance(data_source, (list, tuple)) else [data_source] * n
            same = isinstance(ground_truth, (list, tuple)) and len(ground_truth) == n
            truths = list(ground_truth) if same else [ground_truth] * n
            extras = list(extra_info) if isinstance(extra_info, (list, tuple)) else [extra_info] * n
            return self.score_many(sources, list(solution_str), truths, extras)
        return self.score_many([data_source], [solution_str], [ground_truth], [extra_info])[0]

    def score_many(self, data_sources: Sequence[Any], solutions: Sequence[Any], ground_truths: Sequence[Any],
                   extra_infos: Sequence[Any]) -> list[Any]:
        """Score samples, grouping them by route so each reward sees one batch."""
        out: list[Any] = [None] * len(solutions)
        groups: dict[int, list[int]] = {}
        rewards: dict[int, ComposedReward] = {}
        for i, ds in enumerate(data_sources):
            r = self.reward_for(ds)
            groups.setdefault(id(r), []).append(i)
            rewards[id(r)] = r
        for rid, idx in groups.items():
            prompts, columns = [], {}
            rows = []
            for i in idx:
                extra = extra_infos[i] if isinstance(extra_infos[i], Mapping) else {}
                row = dict(extra)
                row[self.ground_truth_column] = ground_truths[i]
                row["data_source"] = data_sources[i]
                rows.append(row)
                prompts.append(str(extra.get(self.prompt_key, "")) if extra.get(self.prompt_key) is not None else "")
            keys = set().union(*rows)
            for k in keys:
                columns[k] = [row.get(k) for row in rows]
            scored = score_samples(rewards[rid], prompts, ["" if solutions[i] is None else str(solutions[i])
                                                           for i in idx], columns)
            for j, i in enumerate(idx):
                total = float(scored.result.total[j])
                if self.return_dict:
                    d = {"score": total}
                    d.update({k: float(v[j]) for k, v in scored.result.terms.items()})
                    d.update({k: float(v[j]) for k, v in scored.sub_terms.items()})
                    out[i] = d
                else:
                    out[i] = total
        return out


def as_verl_compute_score(reward: Any, ground_truth_column: str = "answer", prompt_key: str = "question",
                          return_dict: bool = True) -> VerlComputeScore:
    """Wrap a reward (or ``{data_source: reward}``) as verl's ``compute_score``."""
    return VerlComputeScore(reward, ground_truth_column, prompt_key, return_dict)


_DEFAULT: VerlComputeScore | None = None
_DEFAULT_LOCK = threading.Lock()


def _default() -> VerlComputeScore:
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = VerlComputeScore(load_reward_from_env(),
                                        ground_truth_column=os.environ.get("REWARDKIT_GROUND_TRUTH_COLUMN", "answer"))
        return _DEFAULT


def compute_score(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None, extra_info: Any = None,
                  **reward_kwargs: Any) -> Any:
    """verl entry point for the naive, dapo and batch managers: ``{"score": total, <term>: value}``.

    Reads the reward from ``$REWARDKIT_CONFIG`` (loaded once per process).  Accepts the
    batch manager's plural keywords (``data_sources=``, ``solution_strs=`` ...) too.
    """
    return _default()(data_source, solution_str, ground_truth, extra_info, **reward_kwargs)


def compute_score_float(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None,
                        extra_info: Any = None, **reward_kwargs: Any) -> Any:
    """verl entry point for the prime manager: the composed total as a ``float``.

    verl's prime manager reads each result with ``float(result)`` (or ``result[0]``); a
    dict makes it fail, and it then silently scores the whole batch 0.0.
    """
    out = _default()(data_source, solution_str, ground_truth, extra_info, **reward_kwargs)
    return [d["score"] for d in out] if isinstance(out, list) else out["score"]


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[Any], ground_truths: Sequence[Any],
                        extra_infos: Sequence[Any] | None = None, **reward_kwargs: Any) -> list[Any]:
    """verl ``batch`` reward-manager entry point (lists in, list of dicts out)."""
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    return _default().score_many(list(data_sources), list(solution_strs), list(ground_truths), extras)


if __name__ != "rewardkit.integrations.verl":
    # Loaded by file path (verl's ``load_extern_object``): hand out the installed package's
    # functions, so they pickle by reference (verl's prime manager sends them to a process
    # pool) and every loader shares one reward per process.
    import importlib as _importlib

    _pkg = _importlib.import_module("rewardkit.integrations.verl")
    compute_score, compute_score_float, compute_score_batch = (
        _pkg.compute_score, _pkg.compute_score_float, _pkg.compute_score_batch)
