"""Schedules in core: values, finite parameters, scheduled weights and scales with their step in state."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.core import ConfigError, Constant, SampleBatch, Scheduled, build_reward
from rewardkit.core.schedules import constant, cosine, exponential, from_config, linear, piecewise


def _batch(k):
    return SampleBatch(["p"] * k, ["c"] * k)


def test_schedule_values_follow_their_equations():
    assert [linear(2.0, 0.0, 10)(t) for t in (0, 5, 10, 20)] == [2.0, 1.0, 0.0, 0.0]
    c = cosine(1.0, 0.2, 8)
    for t in (0, 2, 4, 8, 100):
        want = 0.2 + 0.5 * 0.8 * (1 + math.cos(math.pi * min(t / 8, 1)))
        assert c(t) == pytest.approx(want)
    assert exponential(4.0, rate=0.5, minimum=0.6)(3) == 0.6
    p = piecewise([[10, 1.0], [20, 3.0], [40, -1.0]])
    assert [p(t) for t in (0, 10, 15, 20, 30, 40, 99)] == [1.0, 1.0, 2.0, 3.0, 1.0, -1.0, -1.0]
    assert [constant(1.0, warmup_steps=4)(t) for t in (0, 1, 4, 9)] == [0.0, 0.25, 1.0, 1.0]


ARGS = {"linear": {"start": 1.0, "end": 0.0, "steps": 10}, "cosine": {"start": 1.0, "end": 0.0, "steps": 10},
        "exponential": {"start": 1.0, "rate": 0.1, "minimum": 0.0}, "constant": {"value": 1.0},
        "piecewise": {"points": [[0, 1.0], [5, 0.0]]}}


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(ARGS)), v=st.sampled_from([math.nan, math.inf, -math.inf]), data=st.data())
def test_schedule_parameters_must_be_finite(kind, v, data):
    args = dict(ARGS[kind])
    key = data.draw(st.sampled_from(sorted(k for k in args if k != "steps")))
    args[key] = [[0, 1.0], [5, v]] if key == "points" else v
    with pytest.raises(ConfigError) as e:
        from_config({"schedule": kind, **args}, "terms[1].weight")
    where = "points[1][1]" if key == "points" else key
    assert str(e.value).startswith(f"terms[1].weight.{where}: expected a finite number")


def test_bad_schedule_kind_and_steps():
    with pytest.raises(ConfigError, match=r"^w.schedule: got 'step'; expected one of \['constant', 'cosine'"):
        from_config({"schedule": "step"}, "w")
    with pytest.raises(ConfigError, match=r"^w.steps: got 0; expected an int >= 1$"):
        from_config({"schedule": "linear", "start": 1, "end": 0, "steps": 0}, "w")
    with pytest.raises(ConfigError, match=r"^w.points\[1\]\[0\]: step 0 after 5"):
        from_config({"schedule": "piecewise", "points": [[5, 1], [0, 1]]}, "w")


YAML = """
terms:
  - {type: constant, name: task, params: {value: 1.0}}
  - type: constant
    name: bonus
    params: {value: 2.0}
    weight: {schedule: linear, start: 1.0, end: 0.0, steps: 8}
  - type: constant
    name: cost
    params: {value: -1.0}
    scale: {schedule: piecewise, points: [[0, 0.0], [4, 1.0]]}
"""


def test_yaml_weight_and_scale_schedules_resume_from_state():
    r = build_reward(yaml.safe_load(YAML))
    res = r.evaluate(_batch(2))  # step 0: bonus weight 1, cost scale 0
    assert res.total.tolist() == [3.0, 3.0] and res.weights["bonus"] == 1.0
    res = r.evaluate(_batch(2))  # step 2: bonus weight 0.75, cost scale 0.5
    assert res.total.tolist() == [1.0 + 1.5 - 0.5] * 2 and res.terms["bonus"].tolist() == [2.0, 2.0]
    state = r.state_dict()
    assert state["_weight_step"] == 4 and state["cost"]["step"] == 4
    fresh = build_reward(yaml.safe_load(YAML))
    fresh.load_state_dict(state)
    for k in (3, 1, 5):
        assert np.array_equal(fresh(_batch(k)), r(_batch(k)))
    assert r.weights["bonus"] == 0.0 and fresh.step == r.step == 13


def test_scheduled_counts_calls_and_forwards_state():
    t = Scheduled(Constant(1.0), {"schedule": "linear", "start": 1.0, "end": 0.0, "steps": 2}, unit="calls")
    assert [t(_batch(5)).tolist()[0] for _ in range(3)] == [1.0, 0.5, 0.0]
    assert t.state_dict() == {"step": 3, "term": {}}
    with pytest.raises(ConfigError, match=r"^unit: got 'epochs'"):
        Scheduled(Constant(1.0), 1.0, unit="epochs")
    with pytest.raises(ConfigError, match=r"^scale: expected a finite number, got nan$"):
        Scheduled(Constant(1.0), math.nan)
