"""The "master key" responses of Zhao et al. (2025), as a robustness probe.

Zhao, Liu et al. (2025), "One Token to Fool LLM-as-a-Judge" (arXiv 2507.08794)
show that generative reward models accept content-free responses – a lone
punctuation mark, a reasoning opener, "Solution" in several languages – as correct
up to 80–90 % of the time.  A rule-based verifier must score every one of them 0.
:func:`master_key_fpr` measures the false-positive rate of any scorer.

.. math:: \\mathrm{FPR}_{mk} = \\frac{1}{|K||G|} \\sum_{k \\in K} \\sum_{g \\in G} [\\,r(k, g) > 0\\,]

Example:
    >>> from rewardkit.verify.math.verifier import MathVerifier
    >>> v = MathVerifier(symbolic=False)
    >>> master_key_fpr(lambda text, gold: v.verify(text, answer=gold).value, ["3", "\\\\frac{1}{2}"])
    0.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["MASTER_KEYS", "master_key_fpr"]

#: the master-key strings (the paper's list plus two truncated-box variants)
MASTER_KEYS: tuple[str, ...] = (
    " ", ".", ",", ":", ";",
    "Thought process:", "Let's solve this problem step by step.", "Solution",
    "解", "かいせつ", "Respuesta",
    "\\boxed{}", "The answer is \\boxed{",
)


def master_key_fpr(score: Callable[[str, str], float], golds: Sequence[str],
                   keys: Sequence[str] = MASTER_KEYS) -> float:
    """Fraction of (master key, gold) pairs that ``score(text, gold)`` rewards (> 0)."""
    total = hits = 0
    for g in golds:
        for k in keys:
            total += 1
            try:
                hits += float(score(k, g)) > 0
            except Exception:  # a scorer that crashes did not accept the key
                pass
    return hits / max(total, 1)
