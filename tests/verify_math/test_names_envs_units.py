"""Three answer families found by bench/verify/math_cold.py: named values, matrices over several lines after an
anchor, and units after a number.  Each case has a right and a near-miss version; the near miss must fail."""

import random

import pytest

from rewardkit.verify.math import MathVerifier

V = MathVerifier(symbolic=False)
RNG = random.Random(19)


def _grouped(n: int) -> str:
    return f"{n:,}"


NAMED = []
for _ in range(12):
    n = RNG.randint(10_000, 999_999_999)
    var = RNG.choice("xyNk")
    NAMED.append((f"Since ${var} = {_grouped(n)}$, we are done.", str(n), f"Since ${var} = {_grouped(n + 1)}$, we are done."))
for _ in range(12):
    a, b, c = RNG.randint(-9, 9) or 1, RNG.randint(-9, 9), RNG.randint(-9, 9)
    gold = f"{a} x^{{2}} + {b} x + {c}"
    f = RNG.choice("pfgq")
    right = RNG.choice([f"{a}x^{{2}}+{b}x+{c}", f"{c} + {b}*x + {a}*x**2"]).replace("+-", "-").replace("+ -", "- ")
    wrong = f"{a}x^{{2}}+{b}x+{c + 1}".replace("+-", "-")
    NAMED.append((f"Since ${f}(x) = {right}$, we are done.", gold, f"Since ${f}(x) = {wrong}$, we are done."))


@pytest.mark.parametrize("response, gold, near_miss", NAMED)
def test_a_value_named_by_an_assignment_or_a_function(response, gold, near_miss):
    assert V.verify(response, answer=gold).value == 1.0
    assert V.verify(near_miss, answer=gold).value == 0.0


MATRICES = []
for _ in range(16):
    m = [[RNG.randint(-9, 9) for _ in range(2)] for _ in range(2)]
    gold_env, resp_env = RNG.choice(["pmatrix", "bmatrix"]), RNG.choice(["pmatrix", "bmatrix"])
    gold = f"\\begin{{{gold_env}}} {m[0][0]} & {m[0][1]} \\\\ {m[1][0]} & {m[1][1]} \\end{{{gold_env}}}"
    anchor = RNG.choice(["Answer: ", "#### ", "The final answer is "])

    def body(x, env=resp_env):
        return f"\\begin{{{env}}}\n{x[0][0]} & {x[0][1]} \\\\\n{x[1][0]} & {x[1][1]}\n\\end{{{env}}}"
    wrong = [row[:] for row in m]
    wrong[1][1] += 1
    MATRICES.append((f"Some working.\n{anchor}{body(m)}", gold, f"Some working.\n{anchor}{body(wrong)}"))


@pytest.mark.parametrize("response, gold, near_miss", MATRICES)
def test_a_matrix_over_several_lines_after_an_anchor(response, gold, near_miss):
    assert V.verify(response, answer=gold).value == 1.0
    assert V.verify(near_miss, answer=gold).value == 0.0


UNITS = []
for _ in range(16):
    n = RNG.randint(2, 999)
    unit = RNG.choice(["m", "cm", "kg", "s", "km", "mph", "dollars", "units"])
    spelled = RNG.choice([f"{n}\\,\\mathrm{{{unit}}}", f"{n} \\text{{ {unit}}}", f"{n} {unit}", f"{n}\\text{{{unit}}}^2"])
    template = RNG.choice(["Answer: {}", "Therefore\n\\[\\boxed{{{}}}\\]", "The final answer is ${}$"])
    UNITS.append((template.format(spelled), str(n), template.format(spelled.replace(str(n), str(n + 1), 1))))


@pytest.mark.parametrize("response, gold, near_miss", UNITS)
def test_a_unit_after_the_number(response, gold, near_miss):
    assert V.verify(response, answer=gold).value == 1.0
    assert V.verify(near_miss, answer=gold).value == 0.0


@pytest.mark.parametrize("answer, gold, expected", [
    ("2 pi", "2\\pi", 1.0), ("3 e", "3e", 1.0), ("2 i", "2i", 1.0), ("f(x) = 3y", "3y", 0.0), ("ab = 2", "2", 1.0),
])
def test_constants_and_variables_are_not_units_or_names(answer, gold, expected):
    assert V.verify(f"Answer: {answer}", answer=gold).value == expected
