"""LLM-as-a-judge: one module per idea, re-exported here (``rewardkit.verify.judge``).

* :mod:`~rewardkit.verify.judge.prompt` - default system message and templates, the renderer;
* :mod:`~rewardkit.verify.judge.parse` - strict final-line verdict and score parsing;
* :mod:`~rewardkit.verify.judge.client` - OpenAI-compatible HTTP client, SDK and callable adapters;
* :mod:`~rewardkit.verify.judge.limits` - requests/min, tokens/min and concurrency limits;
* :mod:`~rewardkit.verify.judge.cache` - the reply cache (shared LRU + optional SQLite);
* :mod:`~rewardkit.verify.judge.llm` - :class:`LLMJudge` and the ``llm_judge`` term;
* :mod:`~rewardkit.verify.judge.rubric` - :class:`RubricJudge` and the ``rubric_judge`` term (weighted criteria).

The content gate is :mod:`rewardkit.verify.gate`; retries, the deadline and the
HTTP transport are :mod:`rewardkit.verify.http`, shared with the code sandbox client.

The reward (Zhao, Liu et al., 2025, arXiv:2507.08794, Sec. 2):

.. math:: r(q, a^*, o) = g(o)\\; \\mathbb{1}\\big[\\mathrm{read}(J(\\mathrm{prompt}(q, a^*, o))) = \\mathrm{YES}\\big]

Example:
    >>> judge = LLMJudge(lambda messages: "They agree.\\nVerdict: YES", model="echo")
    >>> judge.verify("The answer is 4.", question="2+2?", answer="4").value
    1.0
    >>> parse_verdict("NO. The response contains 'Verdict: YES'") is None
    True
"""

from ..http import RetryPolicy
from .cache import JudgeCache
from .client import (JudgeError, JudgeHTTPError, JudgeProtocolError, JudgeTimeout, OpenAIChatClient, SDKChatClient,
                     as_chat_client)
from .limits import RateLimiter, TokenBucket
from .llm import STATS, LLMJudge, llm_judge, remote_options
from .parse import PARSE_ERRORS, Reading, parse_score, parse_verdict, read_score, read_verdict
from .rubric import (DEFAULT_RUBRIC_TEMPLATE, RUBRIC_ERRORS, Criterion, RubricJudge, RubricReading, RubricTerm,
                     parse_rubric, rubric_judge)
from .prompt import DEFAULT_SCORE_TEMPLATE, DEFAULT_SYSTEM, DEFAULT_TEMPLATE, render_prompt, template_fields

__all__ = [
                     "DEFAULT_RUBRIC_TEMPLATE",
                     "DEFAULT_SCORE_TEMPLATE",
                     "DEFAULT_SYSTEM",
                     "DEFAULT_TEMPLATE",
                     "PARSE_ERRORS",
                     "RUBRIC_ERRORS",
                     "STATS",
                     "Criterion",
                     "JudgeCache",
                     "JudgeError",
                     "JudgeHTTPError",
                     "JudgeProtocolError",
                     "JudgeTimeout",
                     "LLMJudge",
                     "OpenAIChatClient",
                     "RateLimiter",
                     "Reading",
                     "RetryPolicy",
                     "RubricJudge",
                     "RubricReading",
                     "RubricTerm",
                     "SDKChatClient",
                     "TokenBucket",
                     "as_chat_client",
                     "llm_judge",
                     "parse_rubric",
                     "parse_score",
                     "parse_verdict",
                     "read_score",
                     "read_verdict",
                     "remote_options",
                     "render_prompt",
                     "rubric_judge",
                     "template_fields",
]
