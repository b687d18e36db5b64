"""Multi-objective: Pareto filtering, exact hypervolume, Tchebycheff vs weighted sum."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.core import Constant, FunctionTerm, SampleBatch, weighted_sum as ws
from rewardkit.spec.multi_objective import (Scalarized, hypervolume, pareto_front, pareto_mask, tchebycheff,
                                            linear_scalarization)

pts = st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=7)


@given(pts)
def test_pareto_mask_matches_definition(points):
    p = np.array(points, float)
    mask = pareto_mask(p)
    for i in range(len(p)):
        dominated = any((p[j] >= p[i]).all() and (p[j] > p[i]).any() for j in range(len(p)))
        assert mask[i] == (not dominated)


def _union_volume(p, ref):
    """Inclusion–exclusion over boxes [ref, p_i] (exact, small n only)."""
    vol = 0.0
    for k in range(1, len(p) + 1):
        for sub in itertools.combinations(range(len(p)), k):
            corner = np.min(p[list(sub)], axis=0)
            vol += (-1) ** (k + 1) * np.prod(np.clip(corner - ref, 0, None))
    return vol


@settings(max_examples=60)
@given(pts)
def test_hypervolume_is_exact(points):
    p = np.array(points, float)
    ref = np.zeros(3)
    assert np.isclose(hypervolume(p, ref), _union_volume(p, ref))
    assert np.isclose(hypervolume(p[:, :2], ref[:2]), _union_volume(p[:, :2], ref[:2]))


def test_hypervolume_only_depends_on_the_front_and_grows_with_new_points():
    p = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
    assert hypervolume(p, [0, 0]) == hypervolume(pareto_front(p), [0, 0]) == 6.0
    assert hypervolume(np.vstack([p, [[2.5, 2.5]]]), [0, 0]) > 6.0


def test_tchebycheff_reaches_unsupported_pareto_points_linear_scalarization_cannot():
    front = np.array([[1.0, 0.0], [0.0, 1.0], [0.4, 0.4]])  # (0.4, 0.4) lies on a concave part
    assert pareto_mask(front).all()
    for w in np.linspace(0, 1, 101):
        assert np.argmax(linear_scalarization(front, [w, 1 - w])) != 2
    assert np.argmax(tchebycheff(front, [0.5, 0.5], [1.0, 1.0])) == 2


def test_scalarized_term_uses_the_composed_terms_as_objectives():
    vec = ws({"a": FunctionTerm("a", lambda b: [1.0, 0.0]), "b": FunctionTerm("b", lambda b: [0.0, 1.0])})
    batch = SampleBatch(["p", "p"], ["x", "y"])
    s = Scalarized(vec, "linear", [0.25, 0.75])
    assert s(batch).tolist() == [0.25, 0.75]
    np.testing.assert_array_equal(s.vector(batch), [[1.0, 0.0], [0.0, 1.0]])
    t = Scalarized(ws({"a": Constant(1.0), "b": Constant(3.0)}), "tchebycheff", [0.5, 0.5], tau=1.0)
    assert t(SampleBatch(["p"], ["c"])).tolist() == [-0.5]  # utopia = (1, 3) + 1
