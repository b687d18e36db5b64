"""Every registered term keeps its state through Scale, Clip, Gate and Normalized (issue 9, item 6).

For each registered term type: build it with minimal valid params (its registered
``example``, else the table below), wrap it, feed batches, save the state, build a
fresh copy, load the state, and check both give identical outputs on new batches.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardkit.core import (Clip, FunctionTerm, Gate, Normalized, SampleBatch, Scale, TransitionBatch,
                            available_terms, build_reward)

#: minimal valid params of terms that declare no ``example`` when registered
EXAMPLES = {
    "cosine_length": {"max_length": 50},
    "overlong_penalty": {"max_length": 50, "buffer": 10},
    "e3b_bonus": {"obs_shape": [4], "n_actions": 3},
    "rnd_bonus": {"obs_shape": [4]},
    "simhash_bonus": {"obs_shape": [4]},
    "exploration_bonus": {"method": "count"},
    "explors": {"n_states": 6, "n_actions": 3},
    "global_x_episodic_bonus": {"preset": "count_x_count"},
    "look_back_advice": {"phi": [[0.0, 0.5, 1.0]] * 6},
    "potential_shaping": {"potential": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "gamma": 0.9},
    "par": {"term": {"type": "constant", "params": {"value": 1.0}}, "reference_value": 0.5},
    "scalarized": {"reward": lambda: build_reward({"terms": [{"type": "constant", "params": {"value": 1.0}}]})},
}
#: terms on Discrete (integer) observations
DISCRETE = {"explors", "look_back_advice", "potential_shaping"}
#: terms this test cannot build from plain params, and why (each has its own state tests in its package)
SKIP = {
    "airl_reward": "needs a trained AIRL model file",
    "gail_reward": "needs a trained GAIL discriminator file",
    "reward_model": "needs a trained reward-model file",
    "llm_judge": "needs a judge HTTP server",
    "code_tests": "runs a sandbox per sample (minutes for this matrix)",
    "minigrid_doorkey_shaping": "needs MiniGridStateInfo transitions",
    "rm_shaping": "needs a reward-machine object",
}

WRAPPERS = {
    "scale": lambda t: Scale(t, 2.0),
    "clip": lambda t: Clip(t, -3.0, 3.0),
    "gate": lambda t: Gate(t, FunctionTerm("cond", lambda b: np.arange(len(b)) % 2, batch_kind=t.batch_kind)),
    "normalized": lambda t: Normalized(t, statistic="return", gamma=0.9),
}
TERMS = sorted(n for n in available_terms() if n not in SKIP and not n.startswith(("doc_", "test_")))


def test_every_registered_term_is_covered_or_skipped_with_a_reason():
    import inspect

    for name, spec in available_terms().items():
        if name in SKIP or name.startswith(("doc_", "test_")):
            continue
        required = [k for k, p in spec.parameters().items() if p.default is inspect.Parameter.empty]
        assert not required or spec.example is not None or name in EXAMPLES, \
            f"term {name!r} needs example params (register_term(..., example=...)) or a SKIP reason"


def _build(name):
    spec = available_terms()[name]
    params = dict(spec.example if spec.example is not None else EXAMPLES.get(name, {}))
    params = {k: (v() if callable(v) else v) for k, v in params.items()}
    return spec.factory(**params), spec.batch_kind


def _batch(kind, discrete, rng, n):
    if kind == "sample":
        comps = [f"<think>x</think><answer>{int(rng.integers(0, 5))}</answer>" * int(rng.integers(1, 3))
                 for _ in range(n)]
        return SampleBatch(["q"] * n, comps, {"answer": [str(int(rng.integers(0, 5))) for _ in range(n)],
                                              "correct": [bool(rng.integers(0, 2)) for _ in range(n)]})
    shape = (n,) if discrete else (n, 4)
    hi = 6 if discrete else 4
    obs, nxt = rng.integers(0, hi, shape), rng.integers(0, hi, shape)
    if not discrete:
        obs, nxt = obs.astype(np.float64), nxt.astype(np.float64)
    return TransitionBatch.from_arrays(obs, rng.integers(0, 3, n), nxt, rng.normal(size=n),
                                       terminated=rng.random(n) < 0.2, truncated=rng.random(n) < 0.1,
                                       info=[{"x": float(v)} for v in rng.normal(size=n)], env_index=np.arange(n))


@pytest.mark.parametrize("wrap", sorted(WRAPPERS))
@pytest.mark.parametrize("name", TERMS)
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), before=st.integers(1, 3), after=st.integers(1, 3), n=st.integers(2, 5))
def test_state_round_trips_through_every_wrapper(name, wrap, seed, before, after, n):
    term, kind = _build(name)
    outer = WRAPPERS[wrap](term)
    discrete = name in DISCRETE
    rng = np.random.default_rng(seed)
    for _ in range(before):
        outer(_batch(kind, discrete, rng, n))
    state = pickle.loads(pickle.dumps(outer.state_dict()))  # what a checkpoint stores
    fresh = WRAPPERS[wrap](_build(name)[0])
    fresh.load_state_dict(state)
    for i in range(after):
        b = _batch(kind, discrete, rng, n)
        a, c = outer(b), fresh(b)
        np.testing.assert_array_equal(a, c, err_msg=f"{name} in {wrap}: batch {i} after loading the state")
