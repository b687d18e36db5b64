import numpy as np
import pytest

from rewardkit.core import SampleBatch, build_reward, get_factory
from rewardkit.core.errors import ConfigError
from rewardkit.verify.math.choice import MultipleChoiceVerifier, extract_choice
from rewardkit.verify.math.gsm8k import GSM8KVerifier, extract_gsm8k
from rewardkit.verify.math.masterkeys import MASTER_KEYS, master_key_fpr
from rewardkit.verify.math.qa import QAVerifier, exact_match, normalize_squad, sub_match, token_f1
from rewardkit.verify.math.verifier import MathVerifier, gold_answer
from rewardkit.verify.result import VerifierTerm

GOLDS = ["3", "\\frac{1}{2}", "x^2+1", "(1,2)", "A", "Paris", "#### 12", "0"]


def test_math_verifier_batch_groups_by_gold(symbolic_eq):
    v = MathVerifier(equivalence=symbolic_eq)
    comps = ["\\boxed{\\frac{2}{4}}", "Answer: 0.5", "\\boxed{1/3}", "no answer here", "\\boxed{\\max(2, x)}",
             "\\boxed{\\max(3, x)}"]
    golds = ["1/2"] * 4 + ["\\max(x, 2)"] * 2
    rs = v.verify_batch(SampleBatch(["q"] * 6, comps, {"answer": golds}))
    assert [r.value for r in rs] == [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert rs[3].error == "no_answer" and rs[2].error is None
    assert rs[0].info["rule"] == "boxed" and rs[1].info["rule"] == "answer_line"
    assert rs[4].info["method"] == "symbolic" and rs[0].info["method"] == "numeric"


def test_gold_forms_and_alternatives(symbolic_eq):
    v = MathVerifier(equivalence=symbolic_eq, incorrect=-1.0)
    assert gold_answer("work ... $\\boxed{42}$") == "42" and gold_answer("3+4=7\n#### 1,007") == "1007"
    assert v.verify("\\boxed{42}", answer="so the answer is $\\boxed{42}$").value == 1.0
    assert v.verify("\\boxed{7}", answer=["6", "7"]).value == 1.0
    assert v.verify("\\boxed{8}", answer=["6", "7"]).value == -1.0
    r = v.verify("\\boxed{8}", answer=None)
    assert r.error == "missing_reference" and r.value == -1.0


@pytest.mark.parametrize("gold", GOLDS)
def test_master_keys_score_zero_for_every_verifier(gold, symbolic_eq):
    verifiers = [MathVerifier(equivalence=symbolic_eq), GSM8KVerifier(), GSM8KVerifier(method="flexible"),
                 QAVerifier(), QAVerifier(mode="sub_match", require_tags=False), MultipleChoiceVerifier()]
    for ver in verifiers:
        for key in MASTER_KEYS:
            r = ver.safe_verify(key, answer=gold)
            assert r.value == 0.0, (type(ver).__name__, key, gold)


def test_master_key_fpr_helper_detects_a_lenient_scorer():
    assert master_key_fpr(lambda t, g: 1.0, ["1"]) == 1.0
    v = MathVerifier(symbolic=False)
    assert master_key_fpr(lambda t, g: v.verify(t, answer=g).value, ["1", "2"]) == 0.0


def test_gsm8k_strict_and_flexible():
    assert extract_gsm8k("so #### -1,234.") == "-1234"
    assert extract_gsm8k("the answer is 42") is None
    assert extract_gsm8k("the answer is $42.", "flexible") == "42"
    assert extract_gsm8k("12 then 7 then nothing", "flexible") == "7"
    v = GSM8KVerifier(format_score=0.1)
    assert v.verify("#### 72", answer="...#### 72").value == 1.0
    assert v.verify("#### 71", answer="72").value == 0.1
    assert v.verify("72", answer="72").error == "no_answer"
    assert GSM8KVerifier(method="flexible").verify("it's 72", answer="72").value == 1.0
    assert GSM8KVerifier().verify("#### 72.0", answer="72").value == 0.0  # string match, like lm-eval
    assert GSM8KVerifier(numeric=True).verify("#### 72.0", answer="72").value == 1.0
    assert GSM8KVerifier(tail_chars=10).verify("#### 72" + "x" * 50, answer="72").value == 0.0
    with pytest.raises(ConfigError, match="method"):
        GSM8KVerifier(method="loose")


def test_qa_normalisation_em_submatch_f1_and_tag_spam():
    assert normalize_squad("The Eiffel  Tower.") == "eiffel tower"
    assert exact_match("an apple", ["Apple"]) and not exact_match("apple pie", ["apple"])
    assert sub_match("the big apple pie", "apple") and not sub_match("pineapple", "apple")
    # whole words only, at either end and for several words; a sign is part of its number
    assert sub_match("Apple pie", "apple") and sub_match("a big apple", "apple") and not sub_match("apples", "apple")
    assert sub_match("It is the Eiffel Tower, in Paris", ["Louvre", "eiffel tower in"])
    assert not sub_match("eiffel towers", "Eiffel Tower") and not sub_match("it was -71.08", "71.08")
    assert token_f1("eiffel tower paris", "Eiffel Tower") == pytest.approx(0.8)
    v = QAVerifier()
    assert v.verify("<answer>x</answer> <answer>Paris</answer>", answer={"target": ["paris"]}).error == "multiple_answers"
    assert QAVerifier(multiple="last").verify("<answer>x</answer> <answer>Paris</answer>", answer="paris").value == 1.0
    assert v.verify("<answer>Paris</answer> <answer>paris.</answer>", answer={"target": ["paris"]}).value == 1.0
    assert v.verify("Paris", answer="Paris").error == "no_answer"
    assert QAVerifier(require_tags=False).verify("Paris", answer="Paris").value == 1.0
    spam = "<answer>Paris</answer>" * 11
    assert v.verify(spam, answer="Paris").value == pytest.approx(0.25)
    assert QAVerifier(mode="sub_match").verify("<answer></answer>", answer="a").value == 0.0


def test_multiple_choice():
    assert extract_choice("I pick option (B).") == "B"
    assert extract_choice("\\boxed{\\text{(D)}}") == "D"
    assert extract_choice("Reasoning...\n**C**\n") == "C"
    assert extract_choice("A cat sat. I think so.") is None
    assert extract_choice("Answer: E", letters="ABCD") is None
    v = MultipleChoiceVerifier(letters="ABCD")
    assert v.verify("The answer is C", answer="C").value == 1.0
    assert v.verify("The answer is C", answer=2).value == 1.0
    assert v.verify("The answer is C", answer="(B)").value == 0.0
    assert v.verify("no idea", answer="B").error == "no_answer"
    with pytest.raises(ConfigError, match="letters"):
        MultipleChoiceVerifier(letters="abc")


def test_terms_are_registered_and_build_from_config():
    for name in ("math_answer", "gsm8k", "qa_match", "multiple_choice"):
        assert get_factory(name).batch_kind == "sample"
    r = build_reward({"terms": [
        {"type": "math_answer", "params": {"symbolic": False, "rules": ["boxed"]}, "weight": 2.0},
        {"type": "multiple_choice", "params": {"letters": "ABCD", "answer_column": "choice"}},
        {"type": "qa_match", "params": {"mode": "sub_match", "answer_column": "text"}},
    ]})
    b = SampleBatch(["q", "q"], ["\\boxed{0.5} <answer>(B) Paris</answer>", ":"],
                    {"answer": ["1/2", "1/2"], "choice": ["B", "B"], "text": ["Paris", "Paris"]})
    out = r(b)
    assert out.tolist() == [4.0, 0.0]
    from rewardkit.verify.math.terms import math_answer
    term = math_answer(symbolic=False)
    assert isinstance(term, VerifierTerm)
    assert np.all(np.isfinite(term(b)))
    assert term.error_counts() == {"no_answer": 1}


def test_several_boxed_answers(symbolic_eq):
    from rewardkit.verify.math.extract import ExtractConfig

    v = MathVerifier(equivalence=symbolic_eq, extract=ExtractConfig(boxed="all"))
    assert gold_answer("\\(\\boxed{1}\\) and \\(\\boxed{-2}\\).") == "1, -2"
    assert v.verify("roots: \\boxed{-2} and \\boxed{1}", answer="\\boxed{1} and \\boxed{-2}").value == 1.0
    assert v.verify("roots: \\boxed{-2} and \\boxed{3}", answer="\\boxed{1} and \\boxed{-2}").value == 0.0


def test_math_answer_term_passes_extraction_options():
    r = build_reward({"terms": [{"type": "math_answer", "params": {
        "symbolic": False, "rules": ["hash", "boxed"], "tail_chars": 12, "latest_anchor": False}}]})
    from rewardkit.verify.math.terms import math_answer

    term = math_answer(symbolic=False, rules=["hash", "boxed"], tail_chars=12, latest_anchor=False)
    cfg = term.verifier.extract_config
    assert (cfg.rules, cfg.tail_chars, cfg.latest_anchor, cfg.multiple) == (("hash", "boxed"), 12, False, "reject")
    assert math_answer(symbolic=False, boxed="all").verifier.extract_config.multiple == "list"
    b = SampleBatch(["q"], ["\\boxed{1} " + "x" * 20 + " #### 7"], {"answer": ["7"]})
    assert r(b).tolist() == [1.0]  # only the last 12 characters are read: the box is cut off


def test_qa_gold_aliases_normalised_once_per_group(monkeypatch):
    from rewardkit.core.cache import LRUCache
    from rewardkit.verify.math import qa

    calls: list[str] = []
    real = qa.normalize_squad
    monkeypatch.setattr(qa, "normalize_squad", lambda s: calls.append(s) or real(s))
    monkeypatch.setattr(qa, "_GOLD_NORMS", LRUCache(64))
    v = QAVerifier()
    golds = ["Eiffel Tower", "La tour Eiffel"]
    values = [v.verify(f"<answer>{c}</answer>", answer=golds).value for c in ("the eiffel tower", "Paris", "Tour Eiffel")]
    assert values == [1.0, 0.0, 0.0]
    assert calls.count("Eiffel Tower") == 1 and calls.count("La tour Eiffel") == 1
