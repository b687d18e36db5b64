"""Adversarial completions must be handled in (near-)linear time in the trainer process.

Regression: a long prose answer inside ``\\boxed{}`` made the unit-stripping regex
backtrack exponentially (found with math-verify's own regression cases)."""

import time

import pytest

from rewardkit.verify.math.choice import MultipleChoiceVerifier
from rewardkit.verify.math.extract import extract_answer, find_boxed
from rewardkit.verify.math.gsm8k import GSM8KVerifier
from rewardkit.verify.math.numeric import fast_equal, normalize_answer
from rewardkit.verify.math.qa import QAVerifier
from rewardkit.verify.math.verifier import MathVerifier

PROSE = " ".join(["the divisors of ninety are one two three and so on"] * 40)
INPUTS = {
    "boxed_prose": "\\boxed{" + PROSE + " I hope it is correct}",
    "unit_like_prose": "12 " + " ".join(["apples"] * 3000) + " !",
    "unclosed_boxes": "\\boxed{" * 20000,
    "open_tags": "<answer>" * 20000 + "x",
    "spaces_after_answer": "answer" + " " * 50000 + "z",
    "stars_and_spaces": ("*" + " " * 50) * 2000,
    "braces": "{" * 50000 + "}" * 49999,
    "thousands": "1," * 30000,
    "deep_parens": "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",
    "many_lines": "(A\n" * 30000,
}
VERIFIERS = [MathVerifier(symbolic=False), GSM8KVerifier(), GSM8KVerifier(method="flexible"), QAVerifier(),
             QAVerifier(mode="sub_match", require_tags=False), MultipleChoiceVerifier()]


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_adversarial_inputs_are_fast(name):
    text = INPUTS[name]
    t = time.perf_counter()
    for v in VERIFIERS:
        r = v.safe_verify(text, answer="12")
        assert r.error is None or not r.error.startswith("internal"), (type(v).__name__, r.error)
    extract_answer(text)
    find_boxed(text)
    fast_equal(text[:5000], "12")
    normalize_answer(text)
    assert time.perf_counter() - t < 3.0, name


def test_linear_find_boxed_keeps_semantics():
    t = "\\boxed{ \\boxed{1} and \\boxed{\\frac{a}{b}} \\fbox{\\{x\\}}"
    assert [t[a:b] for a, b in find_boxed(t)] == ["1", "\\frac{a}{b}", "\\{x\\}"]
    u = "\\boxed 5 and \\boxed{{1}}"
    assert [u[a:b] for a, b in find_boxed(u)] == ["5", "{1}"]
