"""Every registered term keeps its state through Scale, Clip, Gate and Normalized (issue 9, item 6).

For each registered term type: build it with minimal valid params (its registered
``example``, else a builder in ``tests/term_examples.py`` that makes what it needs:
trained model files, a judge server on loopback, a fast sandbox), wrap it, feed
batches, save the state, build a fresh copy, load the state, and check both give
identical outputs on new batches.  No term is skipped.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardkit.core import Clip, FunctionTerm, Gate, Normalized, Scale

import term_examples as tx  # the shared builders of tests/term_examples.py (tests/conftest.py: term_ctx)

WRAPPERS = {
    "scale": lambda t: Scale(t, 2.0),
    "clip": lambda t: Clip(t, -3.0, 3.0),
    "gate": lambda t: Gate(t, FunctionTerm("cond", lambda b: np.arange(len(b)) % 2, batch_kind=t.batch_kind)),
    "normalized": lambda t: Normalized(t, statistic="return", gamma=0.9),
}


@pytest.mark.parametrize("wrap", sorted(WRAPPERS))
@pytest.mark.parametrize("name", tx.term_names())
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), before=st.integers(1, 3), after=st.integers(1, 3), n=st.integers(2, 5))
def test_state_round_trips_through_every_wrapper(term_ctx, name, wrap, seed, before, after, n):
    term = tx.build(name, term_ctx)
    outer = WRAPPERS[wrap](term)
    kind = term.batch_kind
    rng = np.random.default_rng(seed)
    for _ in range(before):
        outer(tx.batch_for(name, kind, rng, n, term_ctx))
    state = pickle.loads(pickle.dumps(outer.state_dict()))  # what a checkpoint stores
    fresh = WRAPPERS[wrap](tx.build(name, term_ctx))
    fresh.load_state_dict(state)
    for i in range(after):
        b = tx.batch_for(name, kind, rng, n, term_ctx)
        a, c = outer(b), fresh(b)
        np.testing.assert_array_equal(a, c, err_msg=f"{name} in {wrap}: batch {i} after loading the state")
