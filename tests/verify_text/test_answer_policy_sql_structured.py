"""The one answer policy reaches the SQL and structured-output extractors (issue #18, item 3)."""

import pytest

from rewardkit.verify.sql import sql_answer
from rewardkit.verify.structured import StructuredOutputVerifier, parse_structured

SHOTGUNS = [
    "<answer>{a}</answer><answer>{b}</answer>",
    "<think>x</think>\n<answer>\n{a}\n</answer>\nor maybe\n<ANSWER>{b}</ANSWER>",
    "<answer>```\n{a}\n```</answer> <answer>```\n{b}\n```</answer>",
]


@pytest.mark.parametrize("template", SHOTGUNS)
def test_different_answer_blocks_are_a_shotgun(template):
    assert sql_answer(template.format(a="SELECT 1", b="SELECT 2")) == (None, "multiple_answers")
    value, err, _ = parse_structured(template.format(a='{"a": 1}', b='{"a": 2}'))
    assert value is None and err == "multiple_answers"


@pytest.mark.parametrize("template", SHOTGUNS)
def test_repeated_identical_blocks_are_one_answer(template):
    assert sql_answer(template.format(a="SELECT 1", b="SELECT 1")) == ("SELECT 1", None)
    assert parse_structured(template.format(a='{"a": 1}', b='{"a": 1}'))[0] == {"a": 1}


def test_structured_verifier_reports_the_error_type():
    r = StructuredOutputVerifier(schema={"type": "object"}).verify('<answer>{"a": 1}</answer><answer>{"a": 2}</answer>')
    assert r.value == 0.0 and r.error == "multiple_answers"
