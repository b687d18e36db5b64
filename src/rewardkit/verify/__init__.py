"""rewardkit.verify: rule-based, verifiable rewards for LLM outputs."""

from .result import Verifier, VerifierTerm, VerifyResult

__all__ = ["Verifier", "VerifierTerm", "VerifyResult"]
