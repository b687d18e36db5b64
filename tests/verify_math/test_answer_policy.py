"""Issue #19 families 1, 7, 11, 12c, the long bare answer, and issue #18 item 3 (one answer
policy for every extractor), each checked over generated surface forms and response templates.

Every test here fails on the code before these changes (several boxes kept the last box,
answer sentences paired ``$`` across sentences, ``qa_match`` dropped signs and decimal points,
solution golds without a box or ``####`` were compared whole, bare formulas over 80
characters fell back to their last number)."""

import random
import time

import pytest

from rewardkit.core import SampleBatch
from rewardkit.verify.answers import MULTIPLE_ANSWERS, resolve_answers
from rewardkit.verify.math.choice import MultipleChoiceVerifier, extract_choice
from rewardkit.verify.math.extract import ExtractConfig, extract_answer
from rewardkit.verify.math.gsm8k import GSM8KVerifier, extract_gsm8k
from rewardkit.verify.math.masterkeys import MASTER_KEYS
from rewardkit.verify.math.qa import QAVerifier, normalize_squad
from rewardkit.verify.math.verifier import MathVerifier, gold_answer, gold_elements
from rewardkit.verify.tags import tag_answers, tag_content

FAST = MathVerifier(symbolic=False)


def _value(rng: random.Random) -> tuple[str, str]:
    """A random exact value in two spellings (LaTeX, another surface form)."""
    kind = rng.choice(["int", "neg", "frac", "sqrt", "dec"])
    if kind == "int":
        n = rng.randint(2, 999)
        return str(n), f"{n}"
    if kind == "neg":
        n = rng.randint(1, 99)
        return f"-{n}", f"- {n}"
    if kind == "frac":
        p, q = rng.choice([(1, 2), (3, 4), (5, 7), (2, 9), (11, 13)])
        return f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}"
    if kind == "sqrt":
        n = rng.choice([2, 3, 5, 7])
        return f"\\sqrt{{{n}}}", f"\\sqrt {n}"
    n = rng.randint(1, 99)
    return f"{n}.5", f"\\frac{{{2 * n + 1}}}{{2}}"


def _other(rng: random.Random, v: str) -> str:
    """A value different from ``v``."""
    while True:
        w, _ = _value(rng)
        if w != v:
            return w


BOX_SEPARATORS = [", ", " and ", "; ", "\n", ", then ", " or "]
BOX_WRAPS = ["\\boxed{{{}}}", "$\\boxed{{{}}}$", "\\fbox{{{}}}", "\\(\\boxed{{{}}}\\)"]
PREFIXES = ["", "So the solutions are ", "After solving, we get ", "Thus:\n"]


def _boxes(rng: random.Random, values: list[str]) -> str:
    wrap = rng.choice(BOX_WRAPS)
    sep = rng.choice(BOX_SEPARATORS)
    return rng.choice(PREFIXES) + sep.join(wrap.format(v) for v in values) + rng.choice(["", ".", " are the roots."])


# -- family 1: several boxes ------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_boxes_that_together_answer_a_set_gold(seed, symbolic_eq):
    rng = random.Random(seed)
    k = rng.randint(2, 4)
    values: list[str] = []
    while len(values) < k:
        v = str(rng.randint(-30, 30))
        if v not in values:
            values.append(v)
    gold = rng.choice(["\\{{{}\\}}", "{}"]).format(", ".join(values))
    shown = values[:]
    rng.shuffle(shown)
    v = MathVerifier(equivalence=symbolic_eq)
    r = v.verify(_boxes(rng, shown), answer=gold)
    assert (r.value, r.error) == (1.0, None), (gold, shown, r)
    # one element short, or one element wrong: never right
    r = v.verify(_boxes(rng, shown[:-1]), answer=gold)
    assert r.value == 0.0 and (k == 2 or r.error == MULTIPLE_ANSWERS)
    wrong = [*shown[:-1], str(int(shown[-1]) + 100)]
    assert v.verify(_boxes(rng, wrong), answer=gold).value == 0.0


@pytest.mark.parametrize("seed", range(60))
def test_shotgun_boxes_fail_for_a_single_gold(seed):
    rng = random.Random(1000 + seed)
    gold, _ = _value(rng)
    guesses = [gold] + [_other(rng, gold) for _ in range(rng.randint(1, 3))]
    rng.shuffle(guesses)
    text = _boxes(rng, guesses)
    r = FAST.verify(text, answer=gold)
    assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS), (gold, text, r)
    assert sorted(r.info["answers"]) == sorted(set(guesses))


@pytest.mark.parametrize("seed", range(30))
def test_the_same_answer_boxed_twice_is_one_answer(seed):
    rng = random.Random(2000 + seed)
    gold, other_spelling = _value(rng)
    text = _boxes(rng, [gold, rng.choice([gold, other_spelling])])
    r = FAST.verify(text, answer=gold)
    assert (r.value, r.error) == (1.0, None), (gold, text, r)


def test_a_tuple_gold_is_one_object_not_a_collection():
    assert gold_elements("(1, 2)") is None and gold_elements("[0, 1)") is None and gold_elements("1,000") is None
    r = FAST.verify("\\boxed{1}, \\boxed{2}", answer="(1, 2)")
    assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS)


def test_declared_list_answers_join_and_last_keeps_the_old_convention():
    lst = MathVerifier(symbolic=False, extract=ExtractConfig(multiple="list"))
    assert lst.verify("\\boxed{3} and \\boxed{-1}", answer="\\{3, -1\\}").value == 1.0
    last = MathVerifier(symbolic=False, extract=ExtractConfig(multiple="last"))
    assert last.verify("\\boxed{41} \\boxed{42}", answer="42").value == 1.0


# -- #18 item 3: the same policy for tags, #### lines, answer sentences, choices ----------------

STATEMENT_TEMPLATES = [
    "<answer>{}</answer>",
    "#### {}",
    "The answer is ${}$.",
    "Final Answer: {}",
    "Answer: \\({}\\)",
    "the final answer is {}",
]


@pytest.mark.parametrize("seed", range(60))
def test_several_different_statements_are_a_shotgun_in_every_form(seed):
    rng = random.Random(3000 + seed)
    gold, _ = _value(rng)
    wrong = _other(rng, gold)
    tmpl = rng.choice(STATEMENT_TEMPLATES)
    pair = [gold, wrong]
    rng.shuffle(pair)
    text = "Some work first.\n" + tmpl.format(pair[0]) + "\nWait, let me redo it.\n" + tmpl.format(pair[1])
    r = FAST.verify(text, answer=gold)
    assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS), (text, r)
    same = "Work.\n" + tmpl.format(gold) + "\nChecking again.\n" + tmpl.format(gold)
    assert FAST.verify(same, answer=gold).value == 1.0, same


def test_a_box_and_a_different_answer_line_are_pooled():
    for t in ("Answer: 10 ... so \\boxed{12}", "\\boxed{10} and the answer is 12", "Final answer: 10. Then \\boxed{12}",
              "Final answer: 10\nFinal answer: 12", "#### 10\n#### 12"):
        e = extract_answer(t)
        assert (e.answer, e.error, e.answers) == (None, MULTIPLE_ANSWERS, ["10", "12"]), t
    assert extract_answer("The final answer is $\\boxed{12}$. Answer: 12").answer == "12"
    for lead in ("x =", "x \\in", "x \\leq", "(", "2 +"):
        assert extract_answer(f"Thus, the answer is ${lead} \\boxed{{12}}$").answer == "12", lead


@pytest.mark.parametrize("seed", range(20))
def test_a_final_statement_after_intermediate_boxes_is_the_answer(seed):
    rng = random.Random(3500 + seed)
    gold, _ = _value(rng)
    steps = " ".join(f"Step {k}: we get $\\boxed{{{_other(rng, gold)}}}$." for k in range(rng.randint(1, 3)))
    final = rng.choice(["Final Answer: The final answer is ${}$. I hope it is correct.",
                        "The final answer is $\\boxed{{{}}}$.", "\n#### {}", "Final answer: {}"]).format(gold)
    if "####" in final and not gold.lstrip("-").isdigit():
        final = f"Final answer: {gold}"
    r = FAST.verify(steps + " " + final, answer=gold)
    assert (r.value, r.error) == (1.0, None), steps + final


@pytest.mark.parametrize("seed", range(20))
def test_gsm8k_hash_lines(seed):
    rng = random.Random(4000 + seed)
    g = rng.randint(1, 10**5)
    w = g + rng.choice([-1, 1, 10, -100])
    fmt = rng.choice(["{:,}", "{}", "{}."])
    text = f"step 1\n#### {fmt.format(g)}\nhmm\n#### {fmt.format(w)}"
    for method_v in (GSM8KVerifier(), GSM8KVerifier(numeric=True)):
        r = method_v.verify(text, answer=f"... #### {g}")
        assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS), text
    assert GSM8KVerifier(multiple="last").verify(text, answer=str(w)).value == 1.0
    assert extract_gsm8k(text) is None and extract_gsm8k(text, multiple="first") == str(g)
    assert GSM8KVerifier(numeric=True).verify(f"#### {g}\n#### {g}.0", answer=str(g)).value == 1.0


@pytest.mark.parametrize("letters", ["AB", "CD", "BD", "AC"])
def test_choice_statements(letters):
    a, b = letters
    v = MultipleChoiceVerifier(letters="ABCD")
    for text in (f"Answer: {a}\nActually, answer: {b}", f"\\boxed{{{a}}} or \\boxed{{{b}}}",
                 f"<answer>{a}</answer><answer>{b}</answer>", f"The answer is ({a}). Final answer: ({b})",
                 "\\boxed{A}\\boxed{B}\\boxed{C}\\boxed{D}"):
        r = v.verify(text, answer=b)
        assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS), text
    for text in (f"({a}) is wrong because of x. ({b}) works. The answer is {b}.",
                 f"The answer is not ({a}). The answer is ({b}).",
                 f"Option {a} fails, so \\boxed{{{b}}}. The answer is {b}.",
                 f"The answer is a bit subtle: {b}. Answer: {b}"):
        assert extract_choice(text, "ABCD") == b, text
        assert v.verify(text, answer=b).value == 1.0, text


def test_tag_extractor_policy():
    t = "<answer>41</answer> text <ANSWER> 42 </answer>"
    assert tag_answers(t) == ["41", "42"] and tag_content(t, which="one") is None
    assert tag_content("<answer>4</answer><answer> 4. </answer>", which="one") == "4"
    assert resolve_answers(tag_answers(t)).error == MULTIPLE_ANSWERS
    with pytest.raises(ValueError, match="which"):
        tag_content(t, which="middle")


def test_qa_tags():
    v = QAVerifier()
    r = v.verify("<answer>Rome</answer> then <answer>Paris</answer>", answer="Paris")
    assert (r.value, r.error) == (0.0, MULTIPLE_ANSWERS)
    assert v.verify("<answer>Paris</answer> <answer>the Paris.</answer>", answer="Paris").value == 1.0
    assert QAVerifier(multiple="list").verify("<answer>1</answer><answer>-2</answer>", answer="1, -2").value == 1.0


# -- family 7: answer sentences with several math spans ----------------------------------------

NEGATIONS = ["The answer is not {a}. The answer is {b}.",
             "The answer isn't {a}. The answer is {b}.",
             "The final answer is not {a}; the final answer is {b}.",
             "Answer is not {a}. Answer: {b}",
             "The answer is {b}, not {a}.",
             "The answer is {b}. Indeed, {a} does not satisfy {c}."]
MATH_WRAPS = ["${}$", "\\({}\\)", "$$ {} $$", "$ {} $"]


@pytest.mark.parametrize("seed", range(60))
def test_answer_sentences_with_several_math_spans(seed):
    rng = random.Random(5000 + seed)
    b, _ = _value(rng)
    a = _other(rng, b)
    wrap = rng.choice(MATH_WRAPS)
    tmpl = rng.choice(NEGATIONS)
    text = rng.choice(["", "We check both candidates.\n"]) + tmpl.format(
        a=wrap.format(a), b=wrap.format(b), c=wrap.format("x^2 = 4"))
    e = extract_answer(text)
    assert (e.answer, e.error) == (b, None), (text, e)
    assert FAST.verify(text, answer=b).value == 1.0 and FAST.verify(text, answer=a).value == 0.0


# -- family 11: qa_match keeps signs and decimal points --------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_qa_numbers_keep_sign_and_decimal_point(seed):
    rng = random.Random(6000 + seed)
    x = rng.randint(100, 99999) / 100
    gold = f"-{x:.2f}"
    tmpl = rng.choice(["<answer>{}</answer>", "<answer>The value is {}.</answer>", "<answer> {} </answer>"])
    v = QAVerifier(mode="sub_match" if "value" in tmpl else "exact_match")
    assert v.verify(tmpl.format(gold), answer=gold).value == 1.0
    assert v.verify(tmpl.format(f"\u2212{x:.2f}0"), answer=gold).value == 1.0
    for wrong in (f"{x:.2f}", gold.replace(".", ""), gold.replace("-", "").replace(".", ""), f"-{x + 1:.2f}"):
        assert v.verify(tmpl.format(wrong), answer=gold).value == 0.0, wrong
    assert QAVerifier(mode="sub_match").verify(f"<answer>it is {x:.2f} m</answer>", answer=gold).value == 0.0


@pytest.mark.parametrize("seed", range(20))
def test_qa_lists_compare_element_by_element(seed):
    rng = random.Random(7000 + seed)
    xs = [rng.choice([-1, 1]) * rng.randint(1, 50) for _ in range(rng.randint(2, 5))]
    gold = ", ".join(map(str, xs))
    v = QAVerifier()
    for sep in (", ", ",", "; ", " "):
        assert v.verify(f"<answer>{sep.join(map(str, xs))}</answer>", answer=gold).value == 1.0, sep
    flipped = xs[:]
    flipped[rng.randrange(len(xs))] *= -1
    assert v.verify(f"<answer>{', '.join(map(str, flipped))}</answer>", answer=gold).value == 0.0
    assert v.verify(f"<answer>{''.join(str(abs(x)) for x in xs)}</answer>", answer=gold).value == 0.0
    assert normalize_squad("1,000 and 2") == "1000 and 2"


# -- family 12c: a gold that is a whole solution -------------------------------------------------

SOLUTIONS = ["We add the parts: 3 + 4 = 7, then scale by 2.\nThe answer is {v}.",
             "First we find 12 and 30. So the final answer is ${v}$.",
             "Let x be the count. Then 2x = 10.\nFinal Answer: The final answer is ${v}$. I hope it is correct.",
             "She buys 3 boxes of 12 eggs, 36 in all.\n#### {v}",
             "We get $x = 5$ first, and then \\boxed{{{v}}}."]


@pytest.mark.parametrize("seed", range(30))
def test_solution_golds_are_read_for_their_final_answer(seed):
    rng = random.Random(8000 + seed)
    tmpl = rng.choice(SOLUTIONS)
    v = str(rng.randint(11, 500)) if "####" in tmpl else _value(rng)[0]
    gold = tmpl.format(v=v)
    assert gold_answer(gold) == v, gold
    assert FAST.verify(f"so \\boxed{{{v}}}", answer=gold).value == 1.0
    assert FAST.verify(f"so \\boxed{{{_other(rng, v)}}}", answer=gold).value == 0.0
    assert gold_answer("New York") == "New York" and gold_answer("x = 5") == "x = 5"


# -- a bare answer longer than 80 characters ------------------------------------------------------

@pytest.mark.parametrize("seed", range(20))
def test_long_bare_answers_are_the_answer_not_their_last_number(seed):
    rng = random.Random(9000 + seed)
    coeffs = [rng.randint(1, 999) * rng.choice([-1, 1]) for _ in range(10)]
    terms = [f"{c}x^{{{k}}}" for k, c in enumerate(coeffs) if k > 1]
    poly = " + ".join(terms).replace("+ -", "- ")
    style = rng.choice(["{}", "$ {} $", "\\( {} \\)"])
    text = style.format(poly)
    assert len(poly) > 80
    e = extract_answer(text)
    assert (e.answer, e.rule) == (poly, "bare"), text
    shuffled = terms[:]
    rng.shuffle(shuffled)
    assert FAST.verify(text, answer=" + ".join(shuffled).replace("+ -", "- ")).value == 1.0
    near = [*terms[:-1], terms[-1].replace("x", "0x", 1) if not terms[-1].startswith("-") else terms[-1][1:]]
    assert FAST.verify(text, answer=" + ".join(near).replace("+ -", "- ")).value == 0.0
    # prose, or several lines of work, is still not a bare answer
    assert extract_answer("we find that " + poly).rule != "bare"
    assert extract_answer("2+2=4\n4*3=12\n12").answer == "12"  # the final line, not all of them


def test_python_spellings_are_not_prose():
    for s in ("4*sqrt(11)", "x**2 + 6*x - 7", "sqrt(2)/2", "pi/4", "log(3) + exp(2)"):
        assert extract_answer(s).answer == s and extract_answer(s).rule == "bare", s


# -- attacks still fail; scans stay linear ---------------------------------------------------------

def _attacks(gold: str) -> list[str]:
    """Enumerations that state many answers and end on the gold (the last one stated wins
    under the old "last box" rule)."""
    if gold.isalpha():
        guesses = [c for c in "ABCDE" if c != gold] + [gold]
    else:
        guesses = [str(i) for i in range(60)] + ["\\frac{1}{3}", "-1", gold]
    return ["\\boxed{" + "}\\boxed{".join(guesses) + "}",
            "\n".join(f"#### {g}" for g in guesses),
            "".join(f"<answer>{g}</answer>" for g in guesses),
            "\n".join(f"The answer is ${g}$." for g in guesses),
            "".join(f"Answer: \\boxed{{{g}}}\n" for g in guesses)]


@pytest.mark.parametrize("gold", ["7", "42", "\\frac{1}{2}", "A", "B"])
def test_enumeration_attacks_and_master_keys_fail(gold):
    verifiers = [FAST, GSM8KVerifier(), GSM8KVerifier(numeric=True), QAVerifier(), MultipleChoiceVerifier()]
    attacks = _attacks(gold)
    for text in [*attacks, *MASTER_KEYS]:
        for ver in verifiers:
            r = ver.safe_verify(text, answer=gold)
            assert r.value == 0.0, (type(ver).__name__, text[:40], gold)
    rs = FAST.verify_batch(SampleBatch(["q"] * len(attacks), attacks, {"answer": [gold] * len(attacks)}))
    assert [(r.value, r.error) for r in rs] == [(0.0, MULTIPLE_ANSWERS)] * len(attacks)
    letters = "\\boxed{A}\\boxed{B}\\boxed{C}\\boxed{D}" + f"\\boxed{{{gold}}}"
    assert MultipleChoiceVerifier().verify(letters, answer=gold).value == 0.0


SCANS = {
    "anchors": "The answer is " * 20000,
    "negated": "The answer is not $1$. " * 8000,
    "dollars": "$" * 100000,
    "answer_dollar": "answer: $" * 20000,
    "distinct_boxes": "".join(f"\\boxed{{{i}}}" for i in range(20000)),
    "hash_lines": "".join(f"#### {i}\n" for i in range(20000)),
    "tags": "".join(f"<answer>{i}</answer>" for i in range(5000)),
    "connectives": "answer: 5" + " so the" * 30000 + " answer is 5",
    "nested_boxes": "\\boxed{" + "\\boxed{1}" * 20000 + "}",
    "nested_tags": "<answer>" + "\\boxed{\\boxed{2}}" * 10000 + "</answer>",
    "sentences": "The answer is " + "$1$. x " * 20000,
}


@pytest.mark.parametrize("name", sorted(SCANS))
def test_policy_scans_are_linear(name):
    text = SCANS[name]
    t = time.perf_counter()
    for ver in (FAST, GSM8KVerifier(), QAVerifier(), MultipleChoiceVerifier()):
        r = ver.safe_verify(text, answer="5")
        assert r.error is None or not r.error.startswith("internal"), (type(ver).__name__, r.error)
    extract_answer(text)
    assert time.perf_counter() - t < 3.0, name


# -- a bare final line after prose or a think block -------------------------------------------------

FINAL_LINES = ["(-\\infty, {n}]", "y = {n}x - 4", "f(x) = x^2 + {n}",
               "\\begin{{pmatrix}} {n} & 0 \\\\ 1 & {n} \\end{{pmatrix}}",
               "\\begin{{bmatrix}}\n{n} & 2 \\\\\n3 & 4\n\\end{{bmatrix}}", "{n}x^{{2}} - 3x + 1", "0 \\le x \\le {n}"]
LEADS = ["We set up the equation and simplify step by step.\n", "<think>\nTry small cases: 1, 2, 5.\n</think>\n",
         "Let me work through this. First 3 + 4 = 7 and 12/4 = 3.\n", "<think>\nlong thought\n</think>\n\n"]


@pytest.mark.parametrize("seed", range(30))
def test_a_bare_final_line_is_the_answer(seed):
    rng = random.Random(9500 + seed)
    line = rng.choice(FINAL_LINES).format(n=rng.randint(2, 99))
    text = rng.choice(LEADS) + line + rng.choice(["", "\n", " "])
    e = extract_answer(text)
    assert (e.answer, e.rule) == (line, "bare"), text
    assert FAST.verify(text, answer=line).value == 1.0
    # a line of working is not an answer: the last number is
    work = rng.choice(LEADS) + f"So {rng.randint(2, 9)} boxes.\n48/{rng.randint(2, 9)} = 7"
    assert extract_answer(work).rule == "last_number", work


@pytest.mark.parametrize("seed", range(20))
def test_qa_signs_of_codes_and_complex_numbers(seed):
    rng = random.Random(9900 + seed)
    v = QAVerifier()
    code = f"0x{rng.randint(16**3, 16**4 - 1):x}"
    assert v.verify(f"<answer>{code}</answer>", answer=code).value == 1.0
    assert v.verify(f"<answer>-{code}</answer>", answer=code).value == 0.0
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    gold = f"{a} - {b}i"
    assert v.verify(f"<answer>{a}.0 - {b}.0i</answer>", answer=gold).value == 1.0
    for wrong in (f"{a} + {b}i", f"-{a} - {b}i", f"{a} - {b + 1}i"):
        assert v.verify(f"<answer>{wrong}</answer>", answer=gold).value == 0.0, wrong
