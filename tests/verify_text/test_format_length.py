"""Tests of the think/answer format reward and the length-shaping terms."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit.verify.format as fmtmod
import rewardkit.verify.length as lenmod
from rewardkit.core import ConfigError, SampleBatch, build_reward
from rewardkit.verify.format import TagFormatVerifier, extract_tag
from rewardkit.verify.length import (
    CosineLength, OverlongPenalty, RepetitionPenalty, TruncationPenalty, cosine_length_reward, count_length,
    dapo_overlong_penalty, repetition_penalty,
)


@pytest.mark.parametrize("mod", [fmtmod, lenmod])
def test_doctests(mod):
    res = doctest.testmod(mod)
    assert res.attempted > 5 and res.failed == 0


# ------------------------------------------------------------------------------------ format
HACKS = {
    # completion: (default verdict, error)
    "<think>reason\nmore</think>\n<answer>42</answer>": (1.0, None),
    "  <think>r</think><answer>42</answer>\n": (1.0, None),
    "<think>r</think><answer>1</answer><answer>42</answer>": (0.0, "tag_spam"),
    "<think>r</think><answer>1</answer></answer>": (0.0, "tag_spam"),
    "<think>r<think>r</think><answer>42</answer>": (0.0, "tag_spam"),
    "<think>r</think>": (0.0, "missing_tag"),
    "<answer>42</answer>": (0.0, "missing_tag"),
    "<think>r</think><answer>42": (0.0, "missing_tag"),
    "preamble <think>r</think><answer>42</answer>": (0.0, "bad_grammar"),
    "<think>r</think> chatter <answer>42</answer>": (0.0, "bad_grammar"),
    "<answer>42</answer><think>r</think>": (0.0, "bad_grammar"),
    "<think>r</think><answer>42</answer> P.S. hi": (0.0, "bad_grammar"),
    "<think> </think><answer>42</answer>": (0.0, "empty_block"),
    "<think>r</think><answer>  </answer>": (0.0, "empty_block"),
    "": (0.0, "missing_tag"),
}


@pytest.mark.parametrize("text,expected", list(HACKS.items()))
def test_format_hack_corpus(text, expected):
    r = TagFormatVerifier().verify(text)
    assert (r.value, r.error) == expected


def test_prefilled_think_and_custom_tags():
    pre = TagFormatVerifier(prefilled_think=True)
    assert pre.verify("reasoning...</think>\n<answer>4</answer>").value == 1.0
    # an opening tag in the completion is a second <think> when the template already opened one
    assert pre.verify("<think>reasoning</think><answer>4</answer>").error == "tag_spam"
    # without the flag the same prefilled output is (wrongly, for such templates) rejected
    assert TagFormatVerifier().verify("reasoning...</think>\n<answer>4</answer>").value == 0.0
    custom = TagFormatVerifier(think_tag="reasoning", answer_tag="final")
    r = custom.verify("<reasoning>x</reasoning><final>7</final>")
    assert r.value == 1.0 and r.extracted == "7"
    assert TagFormatVerifier(allow_trailing_text=True).verify("<think>a</think><answer>1</answer> bye").value == 1.0
    assert TagFormatVerifier(require_think=False).verify("<answer>1</answer>").value == 1.0
    with pytest.raises(ConfigError, match="think_tag"):
        TagFormatVerifier(think_tag="bad tag>")
    assert extract_tag("<answer>1</answer><answer>2</answer>", last=False) == "1"


def test_format_term_through_config():
    r = build_reward({"terms": [{"type": "think_answer_format", "params": {"prefilled_think": True}}]})
    out = r(SampleBatch(["p"] * 2, ["x</think><answer>1</answer>", "<answer>1</answer>"]))
    assert out.tolist() == [1.0, 0.0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["<think>", "</think>", "<answer>", "</answer>", "x", " ", "\n", "42"]),
                max_size=20).map("".join)
       | st.text(max_size=100))
def test_format_fuzz(text):
    for v in (TagFormatVerifier(), TagFormatVerifier(prefilled_think=True)):
        r = v.safe_verify(text)
        assert r.value in (0.0, 1.0) and (r.value == 1.0) == (r.error is None)
        if r.value == 1.0:  # exactly one of each tag in an accepted completion
            assert text.count("<answer>") == 1 and text.count("</answer>") == 1 and text.count("</think>") == 1


# ------------------------------------------------------------------------------------ length
def test_dapo_variants_side_by_side():
    L = np.array([0, 12, 13, 16, 19, 20, 21, 40])
    paper = dapo_overlong_penalty(L, max_length=20, buffer=8)
    verl = dapo_overlong_penalty(L, 20, 8, variant="verl")
    hard = dapo_overlong_penalty(L, 20, 8, variant="hard")
    assert paper.tolist() == [0, 0, -1 / 8, -0.5, -7 / 8, -1, -1, -1]
    # identical inside [0, L_max]; verl keeps decreasing beyond (no cap)
    inside = L <= 20
    np.testing.assert_allclose(paper[inside], verl[inside])
    assert verl[-1] == pytest.approx(-(40 - 12) / 8)
    assert hard.tolist() == [0, 0, 0, 0, 0, -1, -1, -1]
    assert dapo_overlong_penalty([16], 20, 8, factor=0.5).tolist() == [-0.25]
    with pytest.raises(ConfigError, match="buffer"):
        dapo_overlong_penalty([1], 20, 30)
    with pytest.raises(ConfigError, match="variant"):
        dapo_overlong_penalty([1], 20, 5, variant="x")


def test_cosine_length_shape():
    L = np.arange(0, 101, 10)
    good = cosine_length_reward(L, np.ones_like(L), 100)
    bad = cosine_length_reward(L, np.zeros_like(L), 100)
    assert np.all(np.diff(good) < 0) and np.all(np.diff(bad) > 0)  # short correct best; long wrong least bad
    assert good.min() > bad.max()
    assert good[0] == pytest.approx(1.0) and good[-1] == pytest.approx(0.5)
    assert bad[0] == pytest.approx(-1.0) and bad[-1] == pytest.approx(-0.5)
    assert cosine_length_reward([150], [1], 100).tolist() == [0.5]
    assert cosine_length_reward([100, 99], [1, 1], 100, exceed_value=-10.0)[0] == -10.0


def test_repetition_and_count():
    assert repetition_penalty("the cat sat on the mat".split(), 3) == 0.0
    loop = ("I am stuck " * 20).split()
    assert repetition_penalty(loop, 3) < -0.9
    assert repetition_penalty([], 3) == 0.0
    assert count_length("abc def", unit="char") == 7
    with pytest.raises(ConfigError, match="unit"):
        count_length("x", unit="bytes")


def test_length_terms_on_batches():
    texts = ["a " * 5, "a " * 15, "a " * 30]
    batch = SampleBatch(["p"] * 3, texts, {"correct": [True, False, True]})
    assert OverlongPenalty(max_length=20, buffer=10)(batch).tolist() == [0.0, -0.5, -1.0]
    # tokens from a tokenizer callable (characters here) or from the num_tokens column
    assert OverlongPenalty(20, 10, tokenizer=lambda s: s.replace(" ", ""))(batch).tolist() == [0.0, -0.5, -1.0]
    b2 = SampleBatch(["p"] * 3, texts, {"num_tokens": [1, 2, 18]})
    assert OverlongPenalty(20, 10)(b2).tolist() == [0.0, 0.0, -0.8]
    cos = CosineLength(max_length=30)(batch)
    assert cos[0] > cos[2] > 0 > cos[1]
    rep = RepetitionPenalty(ngram_size=2)(SampleBatch(["p"] * 2, ["x y x y x y", "one two three four"]))
    assert rep[0] < 0 and rep[1] == 0.0
    tr = TruncationPenalty(penalty=-2.0)(SampleBatch(["p"] * 3, ["a", "b", "c"], {"truncated": [False, True, None]}))
    assert tr.tolist() == [0.0, -2.0, 0.0]
    tr2 = TruncationPenalty(max_length=3)(SampleBatch(["p"] * 2, ["a b", "a b c"]))
    assert tr2.tolist() == [0.0, -1.0]


def test_length_terms_registered():
    r = build_reward({"terms": [
        {"type": "overlong_penalty", "params": {"max_length": 10, "buffer": 5, "variant": "verl"}},
        {"type": "repetition_penalty", "params": {"ngram_size": 2}},
        {"type": "cosine_length", "params": {"max_length": 10}},
        {"type": "truncation_penalty"},
    ]})
    out = np.asarray(r(SampleBatch(["p"], ["a b c"], {"correct": [1], "finish_reason": ["stop"]})), dtype=float)
    assert out.shape == (1,) and math.isfinite(out[0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=10),
       st.integers(1, 10_000), st.floats(0.01, 1.0), st.sampled_from(["paper", "verl", "hard"]))
def test_length_fuzz_finite(lengths, max_len, frac, variant):
    buf = max(1, int(max_len * frac))
    pen = dapo_overlong_penalty(lengths, max_len, buf, variant=variant)
    assert np.all(np.isfinite(pen)) and np.all(pen <= 0)
    if variant != "verl":
        assert np.all(pen >= -1)
    cos = cosine_length_reward(lengths, [i % 2 for i in range(len(lengths))], max_len)
    assert np.all(np.isfinite(cos)) and np.all((cos >= -1) & (cos <= 1))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.integers(1, 5))
def test_repetition_fuzz(text, n):
    v = RepetitionPenalty(ngram_size=n)(SampleBatch(["p"], [text]))[0]
    assert -1.0 <= v <= 0.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=3)),
                          st.one_of(st.none(), st.sampled_from(["stop", "length", "LENGTH", ""]), st.integers())),
                min_size=1, max_size=5))
def test_truncation_and_cosine_terms_fuzz(rows):
    texts = [r[0] for r in rows]
    batch = SampleBatch(["p"] * len(rows), texts, {"truncated": [r[1] for r in rows], "finish_reason": [r[2] for r in rows],
                                                   "correct": [r[1] for r in rows], "num_tokens": [r[2] for r in rows]})
    tr = TruncationPenalty(max_length=5)(batch)
    assert set(tr.tolist()) <= {0.0, -1.0}
    cos = CosineLength(max_length=10)(batch)
    assert np.all(np.isfinite(cos)) and np.all(np.abs(cos) <= 1.0)
    ov = OverlongPenalty(max_length=10, buffer=4)(batch)
    assert np.all((ov <= 0) & (ov >= -1))
