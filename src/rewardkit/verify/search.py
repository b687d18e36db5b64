"""Search-step process reward: is the retrieved passage correct, and is it useful for the query? (ReSeek)

ReSeek (catalog #149, 2025, "A Self-Correcting Framework for Search Agents with Instructive Rewards")
rewards each search step of an agent densely instead of only its final answer:

.. math:: r_{step} = w_c\\,\\underbrace{\\mathbb{1}[\\exists g \\in G:\\ g \\sqsubseteq \\text{passage}]}_{\\text{correctness}}
          + w_u\\,\\underbrace{\\frac{|\\text{tok}(q) \\cap \\text{tok}(\\text{passage})|}{|\\text{tok}(q)|}}_{\\text{utility}}

Correctness: a gold answer occurs in the passage as whole words after SQuAD normalisation (lower
case, no punctuation or articles; :func:`rewardkit.verify.math.qa.sub_match`).  Utility: the share of
the query's content tokens (stop words removed) found in the passage.  The paper judges both with an
LLM; string matching is the offline, deterministic version the catalog asks for.  A passage or
query over the QA size budget (``DEFAULT_BUDGETS["qa"]``) is not read and scores 0.

As a term (``search_step``): the completion is the retrieved passage, the prompt is the search
query, and the gold answers come from ``answer_column`` (a string or a list of aliases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardkit.core import RewardTerm, register_term
from rewardkit.core.errors import ConfigError

from .budget import DEFAULT_BUDGETS
from .math.qa import normalize_squad, sub_match

__all__ = ["SearchStepReward", "search_step_reward"]

_STOP = frozenset("what which who whom whose when where why how is are was were be been do does did of in on at to for "
                  "by with from and or not this that these those it its as".split())


def _content_tokens(text: str) -> set[str]:
    return {t for t in normalize_squad(text).split() if t not in _STOP}


def search_step_reward(passage: str, gold: Any, query: str, w_correct: float = 1.0,
                       w_utility: float = 0.5) -> tuple[float, float, float]:
    """``(reward, correctness, utility)`` of one retrieved passage (see the module doc).

    Example:
        >>> search_step_reward("Paris is the capital of France.", ["Paris"], "capital of France?")
        (1.5, 1.0, 1.0)
        >>> search_step_reward("Bananas are yellow.", "Paris", "capital of France?")
        (0.0, 0.0, 0.0)
    """
    passage, query = str(passage), str(query)
    if len(passage) > DEFAULT_BUDGETS["qa"].max_chars or len(query) > DEFAULT_BUDGETS["qa"].max_chars:
        return 0.0, 0.0, 0.0   # over the per-sample size budget: not read (docs/verify-budgets.md)
    correct = 1.0 if sub_match(passage, gold) else 0.0
    q = _content_tokens(query)
    utility = len(q & _content_tokens(passage)) / len(q) if q else 0.0
    return w_correct * correct + w_utility * utility, correct, utility


class SearchStepReward(RewardTerm):
    """ReSeek's per-search-step reward as a sample term (see the module doc).

    Example:
        >>> from rewardkit.core import SampleBatch
        >>> t = SearchStepReward()
        >>> t(SampleBatch(["capital of France?"], ["Paris is the capital of France."], {"answer": ["Paris"]})).tolist()
        [1.5]
    """

    batch_kind = "sample"

    def __init__(self, answer_column: str = "answer", w_correct: float = 1.0, w_utility: float = 0.5,
                 name: str = "search_step"):
        super().__init__(name)
        if w_correct < 0 or w_utility < 0:
            raise ConfigError("w_correct/w_utility", f"got {w_correct}, {w_utility}", "non-negative weights")
        self.answer_column, self.w_correct, self.w_utility = answer_column, float(w_correct), float(w_utility)

    def compute(self, batch: Any) -> np.ndarray:
        golds = batch.column(self.answer_column)
        return np.array([search_step_reward(p, g, q, self.w_correct, self.w_utility)[0]
                         for p, g, q in zip(batch.completion_texts(), golds, batch.prompt_texts(), strict=True)])


@register_term("search_step", batch_kind="sample")
def search_step(answer_column: str = "answer", w_correct: float = 1.0, w_utility: float = 0.5,
                name: str = "search_step") -> SearchStepReward:
    """ReSeek search-step reward: gold answer in the passage + share of query terms covered."""
    return SearchStepReward(answer_column, w_correct, w_utility, name)
