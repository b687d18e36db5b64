"""Tests of the ToolRL-compatible and schema-aware tool-call rewards."""

from __future__ import annotations

import doctest
import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit.verify.toolcall as tmod
from rewardkit.core import SampleBatch, build_reward
from rewardkit.verify.toolcall import (
    ToolCallVerifier, ToolRLVerifier, parse_tool_calls, toolrl_correctness_reward, toolrl_format_reward,
    toolrl_match_score, values_match,
)


def block(*calls, think="t"):
    body = "\n".join(json.dumps(c) for c in calls)
    return f"<think>{think}</think>\n<tool_call>\n{body}\n</tool_call>"


F = {"name": "f", "parameters": {"a": 1, "b": 2}}
G = {"name": "g", "parameters": {"c": "x"}}
GOLD = block(F, G).split("</think>\n", 1)[1]


def test_doctests():
    res = doctest.testmod(tmod)
    assert res.attempted > 15 and res.failed == 0


# ------------------------------------------------------------------------ ToolRL, hand-computed
@pytest.mark.parametrize("pred,expected", [
    ([F, G], 3.0),                                            # exact list equality
    ([G, F], 3.0),                                            # S = 1 + 3 + 2 = S_max (reordered)
    ([G, {"name": "f", "parameters": {"a": 1, "b": 3}}], 2.0),  # S = 1 + (1+1) + (1+1) = 5, S_max = 6
    ([F], 6 * (0.5 + 3) / 6 - 3),                             # names J = 1/2
    ([F, G, G], 6 * (2 / 3 + 3 + 2) / 6 - 3),                 # duplicate call: names J = 2/3
    ([{"name": "f", "parameters": {"a": "1", "b": 2}}, G], 6 * (1 + 2 + 2) / 6 - 3),   # "1" != 1
    ([{"name": "f", "parameters": {"a": True, "b": 2.0}}, G], 3 - 0.0),                # Python ==: True == 1, 2.0 == 2
    ([{"name": "f", "parameters": {"a": 1}}, G], 6 * (1 + (0.5 + 1) + 2) / 6 - 3),       # key J = 1/2
    ([{"name": "h", "parameters": {}}], -3.0),
])
def test_toolrl_correctness_hand_computed(pred, expected):
    got = toolrl_correctness_reward(block(*pred), GOLD)
    assert got == pytest.approx(expected)


def test_toolrl_failure_modes():
    assert toolrl_correctness_reward("<think>t</think> no call", GOLD) == -3.0
    assert toolrl_correctness_reward("<tool_call>\nnot json\n</tool_call>", GOLD) == -3.0
    assert toolrl_correctness_reward(block({"name": "f"}), GOLD) == -3.0          # same name, no "parameters"
    assert toolrl_correctness_reward(block({"name": ["f"], "parameters": {}}), GOLD) == -3.0  # unhashable name
    # a non-matching extra call without "parameters" is never dereferenced, as in the original
    assert toolrl_correctness_reward(block(F, G, {"name": "zzz"}), GOLD) == pytest.approx(6 * (2 / 3 + 5) / 6 - 3)
    # gold without a tool call: correctness 0 even for a hallucinated call (the released quirk)
    assert toolrl_correctness_reward(block(F), "<response>hi</response>") == 0.0
    with pytest.raises(ValueError):
        toolrl_correctness_reward(block(F), "<tool_call>\nnot json\n</tool_call>")


def test_toolrl_format_grammar():
    ok = block(F)
    assert toolrl_format_reward(ok, GOLD) == 1.0
    assert toolrl_format_reward(ok + "\n", GOLD) == 1.0           # `$` before a final newline
    assert toolrl_format_reward(ok + "\nmore", GOLD) == 0.0
    assert toolrl_format_reward(ok.replace("</think>\n", "</think>"), GOLD) == 0.0
    assert toolrl_format_reward(ok + "\n<tool_call>\n{}\n</tool_call>", GOLD) == 0.0   # two blocks
    both = GOLD + "\n<response>done</response>"
    assert toolrl_format_reward(ok + "\n<response>done</response>", both) == 1.0
    assert toolrl_format_reward("<think>x</think>\n<response>hi</response>", "<response>y</response>") == 1.0
    assert toolrl_format_reward("<think>x</think>", "plain answer") == 1.0
    assert toolrl_match_score([], []) == 1.0


def test_toolrl_verifier_total_and_term():
    v = ToolRLVerifier()
    r = v.verify(block(F, G), gold_calls=GOLD)
    assert r.value == 4.0 and r.components == {"format": 1.0, "correctness": 3.0}
    r = v.verify("I will not call tools", gold_calls=[F])
    assert r.value == -3.0 and r.error == "no_tool_call"
    assert v.verify(block(F), gold_calls=[{"nope": 1}]).error == "bad_reference"
    term = build_reward({"terms": [{"type": "tool_call_toolrl"}]})
    out = term(SampleBatch(["p"] * 2, [block(F), "x"], {"gold_calls": [[F], [F]]}))
    assert out.tolist() == [4.0, -3.0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.lists(st.dictionaries(st.sampled_from(["name", "parameters", "x"]),
                                                        st.sampled_from(["f", "g", 1, None, {"a": 1}, {"b": "2"}, []]),
                                                        max_size=3), max_size=3).map(lambda cs: block(*cs)))
def test_toolrl_fuzz_range(text):
    r = ToolRLVerifier().safe_verify(text, gold_calls=[F, G])
    assert -3.0 <= r.value <= 4.0 and math.isfinite(r.value)
    assert r.error is None or not r.error.startswith("internal")


# ------------------------------------------------------------------------ schema-aware mode
TOOLS = [
    {"type": "function", "function": {"name": "book", "parameters": {
        "type": "object", "required": ["city", "nights"], "additionalProperties": False,
        "properties": {"city": {"type": "string"}, "nights": {"type": "integer", "minimum": 1},
                       "breakfast": {"type": "boolean"}}}}},
    {"name": "weather", "parameters": {"type": "object", "required": ["city"],
                                       "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}},
]
GOLD_CALLS = [{"name": "book", "arguments": {"city": "Paris", "nights": 2, "breakfast": True}},
              {"name": "weather", "arguments": {"city": "Paris", "days": 3}}]


def calls_text(calls):
    return "<tool_call>\n" + "\n".join(json.dumps(c) for c in calls) + "\n</tool_call>"


def test_values_match_type_aware():
    assert values_match(2.0, 2) and values_match("2", 2) and not values_match("two", 2)
    assert not values_match(1, True) and values_match("true", True, {"type": "boolean"})
    assert values_match(" PARIS ", "paris") and not values_match("Pariss", "paris")
    assert values_match(5, "5", {"type": "string"}) and not values_match(5, "5")
    assert values_match({"a": [1, "X"]}, {"a": [1.0, "x"]}) and not values_match([1, 2], [2, 1])
    assert values_match(None, None) and not values_match(None, 0)


def test_schema_mode_scores():
    v = ToolCallVerifier()
    exact = v.verify(calls_text(GOLD_CALLS), gold_calls=GOLD_CALLS, tools=TOOLS)
    assert exact.value == 1.0 and exact.error is None
    assert v.verify(calls_text(GOLD_CALLS[::-1]), gold_calls=GOLD_CALLS, tools=TOOLS).value == 1.0
    reordered = calls_text(GOLD_CALLS[::-1])
    assert ToolCallVerifier(ordered=True).verify(reordered, gold_calls=GOLD_CALLS, tools=TOOLS).value == 0.0
    # OpenAI-style arguments as a JSON string, case/whitespace in strings, 2.0 for 2
    book_args = json.dumps({"city": "paris ", "nights": 2.0, "breakfast": True})
    openai = [{"type": "function", "function": {"name": "book", "arguments": book_args}},
              {"name": "weather", "arguments": {"city": "Paris", "days": 3}}]
    assert v.verify(json.dumps(openai), gold_calls=GOLD_CALLS, tools=TOOLS).value == 1.0  # 2.0 is a JSON Schema integer
    string_nights = {"name": "book", "arguments": {"city": "Paris", "nights": "2", "breakfast": True}}
    r = v.verify(calls_text([string_nights, GOLD_CALLS[1]]), gold_calls=GOLD_CALLS, tools=TOOLS)
    assert r.error == "schema_violation" and r.value == pytest.approx((2 / 3 + 1) / 2)
    unk = v.verify(calls_text([{"name": "hack", "arguments": {}}]), gold_calls=GOLD_CALLS, tools=TOOLS)
    assert unk.value == 0.0 and unk.error == "unknown_tool"
    assert v.verify("no calls", gold_calls=GOLD_CALLS, tools=TOOLS).error == "no_tool_call"
    # nothing expected
    assert v.verify("Sure, the answer is 4.", gold_calls=[], tools=TOOLS).value == 1.0
    assert v.verify(calls_text(GOLD_CALLS[:1]), gold_calls=[], tools=TOOLS).error == "unexpected_call"


ERRORS = [
    lambda cs: cs[0]["arguments"].__setitem__("city", "Lyon"),        # wrong value
    lambda cs: cs[0]["arguments"].pop("breakfast"),                   # missing optional arg
    lambda cs: cs[1]["arguments"].__setitem__("days", "three"),       # wrong type
    lambda cs: cs[1]["arguments"].__setitem__("extra", 1),            # extra arg
    lambda cs: cs.append({"name": "weather", "arguments": {"city": "Rome"}}),  # extra call
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(len(ERRORS)))))
def test_schema_mode_monotone_in_errors(order):
    v = ToolCallVerifier()
    calls = json.loads(json.dumps(GOLD_CALLS))
    scores = [v.verify(calls_text(calls), gold_calls=GOLD_CALLS, tools=TOOLS).value]
    for k in order:
        ERRORS[k](calls)
        scores.append(v.verify(calls_text(calls), gold_calls=GOLD_CALLS, tools=TOOLS).value)
    assert scores[0] == 1.0 and all(b <= a for a, b in itertools.pairwise(scores)), scores
    # strictly decreasing while every call is still matched to its own gold call (once the extra
    # call exists, a damaged original may be swapped out for it, so later errors can be free)
    upto = order.index(4) + 1
    assert all(b < a for a, b in itertools.pairwise(scores[:upto + 1])), scores


def test_schema_term_registered():
    r = build_reward({"terms": [{"type": "tool_call_schema"}]})
    out = r(SampleBatch(["p"] * 2, [calls_text(GOLD_CALLS), "nothing"],
                        {"gold_calls": [GOLD_CALLS] * 2, "tools": [TOOLS] * 2}))
    assert out.tolist() == [1.0, 0.0]


_FUZZ_ARGS = st.one_of(st.text(max_size=10), st.dictionaries(
    st.sampled_from(["city", "nights", "days"]),
    st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans())))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.lists(st.fixed_dictionaries({"name": st.sampled_from(["book", "weather", "x", 3]),
                                                               "arguments": _FUZZ_ARGS}),
                                       max_size=3).map(calls_text))
def test_schema_mode_fuzz(text):
    r = ToolCallVerifier().safe_verify(text, gold_calls=GOLD_CALLS, tools=TOOLS)
    assert 0.0 <= r.value <= 1.0
    assert r.error is None or not r.error.startswith("internal"), r.info
    assert parse_tool_calls(text) is not None
