"""rewardkit.verify: rule-based, verifiable rewards for LLM outputs.

Importing this package registers every verifier term type (``math_answer``,
``gsm8k``, ``code_tests``, ``sql_reward``, ``structured_output``, ``tool_call_*``,
``think_answer_format``, length terms, ``content_gate``, ``llm_judge`` ...), so a
reward config can name them.  Sub-packages whose optional third-party
dependency (an extra) is not installed are skipped; any other import error is
raised.
"""

import importlib
import importlib.util

from .result import Verifier, VerifierTerm, VerifyResult
from .gate import MASTER_KEYS, ContentGate, content_gate, gate_reason, has_answer
from .judge import JudgeCache, LLMJudge, OpenAIChatClient, RateLimiter, RetryPolicy, llm_judge, parse_verdict
from .functions import FunctionVerifier, GroupFunctionTerm, SampleFunctionTerm, group_term, term

__all__ = [
    "MASTER_KEYS",
    "ContentGate",
    "FunctionVerifier",
    "GroupFunctionTerm",
    "JudgeCache",
    "LLMJudge",
    "OpenAIChatClient",
    "RateLimiter",
    "RetryPolicy",
    "SampleFunctionTerm",
    "Verifier",
    "VerifierTerm",
    "VerifyResult",
    "content_gate",
    "gate_reason",
    "group_term",
    "has_answer",
    "llm_judge",
    "parse_verdict",
    "term",
]

#: verifier modules of this package -> the names re-exported here
_MODULES = {
    "math": ("MathVerifier", "GSM8KVerifier", "QAVerifier", "MultipleChoiceVerifier", "master_key_fpr"),
    "code": ("CodeVerifier", "SandboxLimits", "run_python", "SandboxFusionVerifier"),
    "sql": ("SQLVerifier", "ReadOnlyDatabase"),
    "structured": ("StructuredOutputVerifier",),
    "toolcall": ("ToolRLVerifier", "ToolCallVerifier"),
    "format": ("TagFormatVerifier",),
    "length": ("OverlongPenalty", "CosineLength", "RepetitionPenalty", "TruncationPenalty"),
    "search": ("SearchStepReward",),
    "group_terms": ("GroupTerm",),
}


def _import_if_present(name: str):
    """Import ``rewardkit.verify.<name>`` if it exists; ``None`` if it or an optional extra is missing."""
    if importlib.util.find_spec(f"{__name__}.{name}") is None:
        return None
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in ("rewardkit", ""):
            raise  # a broken rewardkit module is a real error
        return None  # an optional third-party dependency (an extra) is not installed


for _name, _exports in _MODULES.items():
    _mod = _import_if_present(_name)
    if _mod is None:
        continue
    globals()[_name] = _mod
    for _attr in _exports:
        globals()[_attr] = getattr(_mod, _attr)
        __all__.append(_attr)
del _name, _exports, _mod
