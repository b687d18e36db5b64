"""The per-sample limits behind the sweep of test_budgets.py, one family at a time: schema
regexes, code extraction, length terms, judge prompts, math pre-screen and worker warm-up."""

from __future__ import annotations

import json
import time

import pytest

from rewardkit.core import ConfigError, SampleBatch
from rewardkit.verify.code.runner import CodeVerifier, extract_code
from rewardkit.verify.judge.llm import MAX_PROMPT_CHARS, LLMJudge
from rewardkit.verify.length import RepetitionPenalty, repetition_penalty
from rewardkit.verify.math.verifier import MathVerifier, answer_limit
from rewardkit.verify.patterns import PatternTimeout, bounded_search, pattern_budget
from rewardkit.verify.structured import StructuredOutputVerifier
from rewardkit.verify.toolcall import ToolCallVerifier

EVIL = "^(a|a)*$"  # exponential backtracking on 'a' * n + '!'
HOSTILE = "a" * 40 + "!"


def _schema(pattern: str) -> dict:
    return {"type": "object", "required": ["k"], "properties": {"k": {"type": "string", "pattern": pattern}}}


# ------------------------------------------------------------------------------ schema regexes
def test_backtracking_pattern_is_stopped_by_the_budget():
    t0 = time.perf_counter()
    with pytest.raises(PatternTimeout), pattern_budget(0.05):
        bounded_search(EVIL, HOSTILE)
    assert time.perf_counter() - t0 < 1.0


def test_searches_of_one_sample_share_the_budget():
    with pattern_budget(0.0), pytest.raises(PatternTimeout):
        bounded_search("a", "a")  # nothing left: even a trivial search is refused
    assert bounded_search("^a+$", "aaa") and not bounded_search("^a+$", "ab")


@pytest.mark.parametrize("pattern,value,expected", [
    (EVIL, HOSTILE, (0.0, "timeout")),
    (EVIL, "aaaa", (1.0, None)),
    ("^(a+)+$", HOSTILE, (0.8, "schema_violation")),  # the regex module defuses this one: a plain miss
])
def test_structured_output_pattern_budget(pattern, value, expected):
    v = StructuredOutputVerifier(schema=_schema(pattern))
    t0 = time.perf_counter()
    r = v.verify(json.dumps({"k": value}))
    assert time.perf_counter() - t0 < 2.0
    assert (round(r.value, 3), r.error) == expected


def test_pattern_properties_and_additional_properties_are_bounded():
    schema = {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}, "additionalProperties": False}
    r = StructuredOutputVerifier(schema=schema).verify(json.dumps({HOSTILE: 1}))
    assert (r.value, r.error) == (0.0, "timeout")


def test_tool_call_argument_pattern_budget():
    v = ToolCallVerifier()
    tools = [{"name": "f", "parameters": _schema(EVIL)}]
    gold = [{"name": "f", "arguments": {"k": "a"}}]
    call = '<tool_call>{"name": "f", "arguments": {"k": "%s"}}</tool_call>'
    t0 = time.perf_counter()
    r = v.verify(call % HOSTILE, gold_calls=gold, tools=tools)
    assert time.perf_counter() - t0 < 2.0 and (r.value, r.error) == (0.0, "timeout")
    assert v.verify(call % "a", gold_calls=gold, tools=tools).value == 1.0


# ------------------------------------------------------------------------------ code
def _seconds(f, text):
    t0 = time.perf_counter()
    f(text)
    return time.perf_counter() - t0


@pytest.mark.parametrize("unit", ["```", "```\n"])
def test_code_extraction_is_linear_on_repeated_fences(unit):
    one, two = unit * (500_000 // len(unit)), unit * (1_000_000 // len(unit))
    t1 = min(_seconds(extract_code, one) for _ in range(3))
    t2 = min(_seconds(extract_code, two) for _ in range(3))
    assert t2 < 2.0  # the per-sample budget (the old regex took > 60 s on '```' * 333,333)
    assert t2 < 3.0 * t1 + 0.05  # quadratic would be 4x


@pytest.mark.parametrize("text,code", [
    ("a\n```python\nx = 1\n```\n```\ny = 2\n```", "x = 1\n"),
    ("```\ny = 2\n```", "y = 2\n"),
    ("intro\n```python\nx = 1\n", "x = 1\n"),  # truncated: what follows the open fence
    ("plain code", "plain code"),
])
def test_code_extraction_keeps_its_rules(text, code):
    assert extract_code(text) == code


def test_code_tests_too_large_never_reaches_the_sandbox():
    v = CodeVerifier(workers=1, backend="fresh")
    r = v.verify("x = 1\n" * 50_000, tests=["assert x == 1"])
    assert (r.value, r.error) == (0.0, "too_large")
    assert v.stats()["samples"] == 0  # nothing was run


# ------------------------------------------------------------------------------ length terms
def test_repetition_penalty_over_the_cap_is_the_max_penalty():
    term = RepetitionPenalty(max_penalty=-0.5, max_chars=1_000)
    out = term(SampleBatch(["p"] * 2, ["a b c d " * 300, "a b c d " * 100]))
    assert out.tolist() == [-0.5, repetition_penalty(("a b c d " * 100).split(), 3, -0.5)]
    with pytest.raises(ConfigError, match="max_chars"):
        RepetitionPenalty(max_chars=0)


def test_repetition_penalty_matches_the_definition():
    import random

    rng = random.Random(0)
    toks = [rng.choice("abcd") for _ in range(500)]
    grams = [tuple(toks[i:i + 3]) for i in range(len(toks) - 2)]
    assert repetition_penalty(toks, 3) == pytest.approx(-(1 - len(set(grams)) / len(grams)))


def test_repetition_penalty_megabyte_under_budget():
    t0 = time.perf_counter()
    RepetitionPenalty()(SampleBatch(["p"], ["a " * 500_000]))
    assert time.perf_counter() - t0 < 2.0


# ------------------------------------------------------------------------------ judge
def test_judge_caps_completion_and_prompt_before_any_call():
    calls = []
    j = LLMJudge(lambda m: calls.append(m) or "Verdict: YES")
    r = j.verify("the answer is 4 " * 20_000, answer="4")
    assert (r.value, r.error) == (0.0, "too_large")
    r = j.verify("4", answer="x" * (MAX_PROMPT_CHARS + 1))
    assert (r.value, r.error) == (0.0, "too_large")
    assert calls == []
    assert j.verify("The answer is 4.", answer="4").value == 1.0 and len(calls) == 1


# ------------------------------------------------------------------------------ math
@pytest.mark.parametrize("answer", ["x+" * 300 + "1", "(" * 40 + "1" + ")" * 40, "1" * 1_001])
def test_math_prescreen_refuses_oversized_answers(answer):
    assert answer_limit(answer) is not None
    r = MathVerifier(symbolic=False).verify(f"<answer>{answer}</answer>", answer="1")
    assert (r.value, r.error) == (0.0, "parse_limit")


@pytest.mark.parametrize("answer", ["\\frac{x^2+2x+1}{x+1}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
                                    ", ".join(str(i) for i in range(100)), "(x+1)^{10}-(x-1)^{10}"])
def test_math_prescreen_keeps_legitimate_answers(answer):
    assert answer_limit(answer) is None


def test_symbolic_worker_is_warm_before_its_first_request():
    from rewardkit.verify.math.equivalence import SYMBOLIC_TARGET
    from rewardkit.verify.math.pool import WorkerPool

    with WorkerPool(SYMBOLIC_TARGET) as pool:
        pool.warm_up()  # start-up (imports + one comparison) happens here, not in the deadline below
        (status, value), = pool.run([("x^2+2x+1", "(x+1)^2", 6)], deadline=0.5)
    assert status == "ok" and value[0] is True
