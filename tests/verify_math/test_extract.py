import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.verify.math.extract import ExtractConfig, extract_answer, find_boxed, last_number
from rewardkit.verify.math.masterkeys import MASTER_KEYS


def test_boxed_nested_braces_and_fbox():
    t = r"first \boxed{x} then \fbox{\frac{a}{b^{2}}} end"
    e = extract_answer(t, ExtractConfig(multiple="last"))
    assert e.answer == r"\frac{a}{b^{2}}" and e.rule == "boxed"
    assert t[e.span[0]:e.span[1]] == e.answer
    e = extract_answer(r"so \fbox{\frac{a}{b^{2}}} = \boxed{ \frac{a}{b^{2}} }.")  # the same answer twice
    assert (e.answer, e.error) == (r"\frac{a}{b^{2}}", None)


def test_boxed_last_vs_first():
    t = r"\boxed{1} ... \boxed{2}"
    assert extract_answer(t, ExtractConfig(boxed="last")).answer == "2"  # the deprecated alias
    assert extract_answer(t, ExtractConfig(boxed="first")).answer == "1"
    e = extract_answer(t)  # default: two different answers are a shotgun
    assert (e.answer, e.error, e.answers) == (None, "multiple_answers", ["1", "2"])


def test_unbalanced_and_empty_boxes_do_not_extract():
    assert find_boxed(r"The answer is \boxed{") == []
    e = extract_answer(r"The answer is \boxed{", ExtractConfig(rules=("boxed",)))
    assert e.answer is None and e.trace == ["boxed: unbalanced"]
    assert extract_answer(r"\boxed{}").answer is None


def test_escaped_braces_inside_box():
    assert extract_answer(r"\boxed{\{1,2\}}").answer == r"\{1,2\}"


def test_answer_tag_beats_boxed_and_is_last():
    t = "<answer>1</answer> \\boxed{9} <answer> 7 </answer>"
    e = extract_answer(t, ExtractConfig(multiple="last"))
    assert (e.answer, e.rule) == ("7", "answer_tag")
    e = extract_answer(t)
    assert (e.rule, e.error, e.answers) == ("answer_tag", "multiple_answers", ["1", "7"])
    e = extract_answer("<answer>7</answer> \\boxed{9} <answer> 7 </answer>")
    assert (e.answer, e.rule) == ("7", "answer_tag")


def test_answer_line_hash_and_last_number():
    assert extract_answer("so...\nFinal Answer: $\\frac{3}{4}$.").answer == "\\frac{3}{4}"
    assert extract_answer("The final answer is 12.").answer == "12"
    assert extract_answer("blah\n#### 1,234").rule == "hash"
    e = extract_answer("3 apples and -2.5 pears")
    assert (e.answer, e.rule) == ("-2.5", "last_number")
    t = "x 1,250 y"
    a, b = last_number(t)
    assert t[a:b] == "1,250"


def test_rule_order_is_configurable_and_trace_records_each_rule():
    t = "#### 5\nand \\boxed{6}"
    assert extract_answer(t, ExtractConfig(rules=("hash", "boxed"), latest_anchor=False)).answer == "5"
    last = ExtractConfig(rules=("hash", "boxed"), multiple="last")
    assert extract_answer(t, last).answer == "6"  # stated last
    assert extract_answer(t, ExtractConfig(rules=("hash", "boxed"))).error == "multiple_answers"  # pooled
    assert extract_answer("\\boxed{10} ... answer: 12", ExtractConfig(multiple="last")).answer == "12"
    assert extract_answer("\\boxed{10} ... Final answer: 12").answer == "12"  # a final statement
    assert extract_answer("\\boxed{12} ... Final answer: 12").answer == "12"
    assert extract_answer("so $d = 90/n$ and there are 12 of them.").answer == "12"  # value after formula
    e = extract_answer(t, ExtractConfig(rules=("answer_tag", "boxed")))
    assert e.answer == "6" and e.trace == ["answer_tag: no match", "boxed: matched (1 of 1)"]


def test_tail_window_and_span_offsets():
    t = "\\boxed{1}" + "x" * 500 + "answer: 2"
    e = extract_answer(t, ExtractConfig(tail_chars=50))
    assert e.answer == "2" and t[e.span[0]:e.span[1]] == "2"


@pytest.mark.parametrize("key", MASTER_KEYS)
def test_master_keys_extract_nothing(key):
    assert extract_answer(key).answer is None


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match=r"rules\[1\]"):
        ExtractConfig(rules=("boxed", "nope"))
    with pytest.raises(ConfigError, match="boxed"):
        ExtractConfig(boxed="middle")


def test_all_boxes_and_last_math_span():
    t = "so \\boxed{(1, 2)} and \\boxed{(2, 1)} with \\boxed{\\boxed{3}}"
    e = extract_answer(t, ExtractConfig(boxed="all"))
    assert e.answer == "(1, 2), (2, 1), 3" and e.rule == "boxed"
    e = extract_answer("We get $x = 1$ and finally $$x \\geq 5$$ is the solution.")
    assert (e.answer, e.rule) == ("x \\geq 5", "last_math")
    assert extract_answer("price is $5 and $").answer == "5 and"  # stray dollars pair up, no crash
    assert extract_answer("\\( unclosed and $ also").rule is None


def test_bare_formula_and_value_inside_an_answer_sentence():
    assert extract_answer("-\\frac{10}{9}").rule == "bare"
    assert extract_answer("1 000").answer == "1 000"
    assert extract_answer("Solution").answer is None and extract_answer(":").answer is None
    e = extract_answer("Final Answer: The largest $n$ is 34.")
    assert (e.answer, e.rule) == ("34", "answer_line")
    assert extract_answer("Answer $ \\frac{1}{2} \\$ = \\frac{10}{9} $").answer == "\\frac{1}{2} \\$ = \\frac{10}{9}"
