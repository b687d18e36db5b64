"""Property tests for the composition algebra: linearity, gates, clipping, nesting."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewardkit.core import (Clip, Component, ComposedReward, FunctionTerm, Gate, SampleBatch, Scale,
                            TransitionBatch, weighted_sum)
from rewardkit.core.errors import BatchError

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def _vals(name, values):
    arr = np.asarray(values, dtype=float)
    return FunctionTerm(name, lambda b: arr[: len(b)])


def _batch(n):
    return SampleBatch(["p"] * n, ["c"] * n)


@given(st.lists(st.tuples(finite, finite, finite, finite), min_size=1, max_size=20), finite, finite)
def test_weighted_sum_is_linear(rows, a, b):
    v1 = [r[0] for r in rows]
    v2 = [r[1] for r in rows]
    t1, t2 = _vals("x", v1), _vals("y", v2)
    res = ComposedReward([(t1, a), (t2, b)]).evaluate(_batch(len(rows)))
    np.testing.assert_allclose(res.total, a * np.array(v1) + b * np.array(v2), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.terms["x"], v1)
    contrib = res.contributions()
    np.testing.assert_allclose(contrib["x"] + contrib["y"], res.total, rtol=1e-9, atol=1e-6)


@given(st.lists(finite, min_size=1, max_size=20), finite, finite)
def test_scaling_a_composition_scales_the_total(vals, k, w):
    r = ComposedReward([(_vals("x", vals), w)])
    scaled = k * r
    np.testing.assert_allclose(scaled(_batch(len(vals))), k * r(_batch(len(vals))), rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(Scale(r, k)(_batch(len(vals))), k * w * np.array(vals), rtol=1e-9, atol=1e-6)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20), finite)
def test_gate_passes_value_only_where_condition_reaches_threshold(rows, thr):
    vals = np.array([r[0] for r in rows])
    cond = np.array([r[1] for r in rows])
    g = Gate(_vals("v", vals), _vals("c", cond), threshold=thr)(_batch(len(rows)))
    np.testing.assert_array_equal(g, np.where(cond >= thr, vals, 0.0))
    strict = Gate(_vals("v", vals), _vals("c", cond), threshold=thr, strict=True)(_batch(len(rows)))
    np.testing.assert_array_equal(strict, np.where(cond > thr, vals, 0.0))


@given(st.lists(st.tuples(finite, st.booleans()), min_size=1, max_size=20))
def test_named_gate_in_composition_uses_the_other_terms_value(rows):
    shaping = np.array([r[0] for r in rows])
    correct = np.array([float(r[1]) for r in rows])
    r = ComposedReward([Component(_vals("correct", correct), 1.0),
                        Component(_vals("shaping", shaping), 0.5, gate_on="correct", gate_threshold=1.0)])
    res = r.evaluate(_batch(len(rows)))
    np.testing.assert_allclose(res.total, correct + 0.5 * shaping * correct, atol=1e-9)
    assert np.all(res.terms["shaping"][correct == 0] == 0)


@given(st.lists(finite, min_size=1, max_size=20), finite, finite)
def test_clip_bounds(vals, lo, hi):
    lo, hi = min(lo, hi), max(lo, hi)
    out = Clip(_vals("x", vals), lo, hi)(_batch(len(vals)))
    assert np.all(out >= lo) and np.all(out <= hi)
    inside = (np.array(vals) >= lo) & (np.array(vals) <= hi)
    np.testing.assert_array_equal(out[inside], np.array(vals)[inside])


def test_total_clip_and_nested_terms_are_reported():
    inner = weighted_sum({"a": _vals("a", [2.0, -3.0]), "b": _vals("b", [1.0, 1.0])}, name="inner")
    outer = ComposedReward([(inner, 1.0), (_vals("c", [10.0, 0.0]), 1.0)], clip=(-1.5, 5.0))
    res = outer.evaluate(_batch(2))
    assert res.total.tolist() == [5.0, -1.5]
    assert res.terms["inner/a"].tolist() == [2.0, -3.0]
    assert res.terms["inner"].tolist() == [3.0, -2.0]


def test_each_term_is_computed_once_per_batch():
    calls = []
    t = FunctionTerm("t", lambda b: calls.append(1) or np.ones(len(b)))
    ComposedReward([Component(t, 1.0), Component(_vals("s", [1.0]), 1.0, gate_on="t")]).evaluate(_batch(1))
    assert len(calls) == 1


def test_bad_term_output_names_the_term():
    bad = FunctionTerm("bad", lambda b: np.ones(len(b) + 1))
    with pytest.raises(BatchError, match="term 'bad'"):
        bad(_batch(2))


def test_batch_kind_mismatch_is_a_clear_error():
    from rewardkit.core.builtin import EnvReward

    with pytest.raises(BatchError, match="expected a TransitionBatch"):
        EnvReward()(_batch(1))
    with pytest.raises(ValueError, match="mixes batch kinds"):
        ComposedReward([EnvReward(), FunctionTerm("s", lambda b: 0.0, batch_kind="sample")])


def test_duplicate_names_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        ComposedReward([_vals("x", [1.0]), _vals("x", [2.0])])


def test_transition_batch_validates_lengths():
    with pytest.raises(BatchError, match="terminated"):
        TransitionBatch(np.zeros((2, 1)), np.zeros(2), np.zeros((2, 1)), np.zeros(2), [True], [False, False])
    with pytest.raises(BatchError, match=r"columns\.answer"):
        SampleBatch(["p", "q"], ["a", "b"], {"answer": ["x"]})
    with pytest.raises(BatchError, match=r"columns\.gold"):
        SampleBatch(["p"], ["a"]).column("gold")
