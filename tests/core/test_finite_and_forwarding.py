"""Wrappers forward reset/state to their children; finite numbers are enforced at construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardkit.core import (Clip, Component, ComposedReward, ConfigError, Constant, FunctionTerm, Gate, Normalized,
                            RewardNormalizer, RewardTerm, SampleBatch, Scale, build_reward, weighted_sum)


class Counter(RewardTerm):
    """Counts calls per item; state = the count; reset clears it."""

    def __init__(self, name="counter"):
        super().__init__(name)
        self.n = 0
        self.resets = 0

    def compute(self, batch):
        self.n += len(batch)
        return np.full(len(batch), float(self.n))

    def reset(self, mask=None):
        self.resets += 1
        self.n = 0

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, state):
        self.n = state["n"]


def _batch(k=3):
    return SampleBatch(["p"] * k, ["c"] * k)


WRAPS = {
    "scale": lambda t: Scale(t, 2.0),
    "clip": lambda t: Clip(t, -1e9, 1e9),
    "gate": lambda t: Gate(t, Constant(1.0, "cond"), threshold=0.5),
    "normalized": lambda t: Normalized(t, center=True),
    "composed": lambda t: ComposedReward([(t, 0.5)]),
    "nested": lambda t: Clip(Scale(Gate(Normalized(t), Constant(1.0, "cond")), 3.0), -5, 5),
}


@pytest.mark.parametrize("wrap", list(WRAPS), ids=list(WRAPS))
def test_wrappers_forward_state_and_reset(wrap):
    inner = Counter()
    outer = WRAPS[wrap](inner)
    outer(_batch(3))
    outer(_batch(2))
    state = outer.state_dict()
    assert state != {}
    fresh_inner = Counter()
    fresh = WRAPS[wrap](fresh_inner)
    fresh.load_state_dict(state)
    assert fresh_inner.n == 5
    assert np.array_equal(fresh(_batch(4)), outer(_batch(4)))
    outer.reset()
    assert inner.resets == 1 and inner.n == 0


def test_scale_of_normalized_keeps_its_checkpoint():
    t = Scale(Normalized(FunctionTerm("len", lambda b: [len(c) for c in b.completions])), 2.0)
    t(SampleBatch(["p", "p"], ["a", "abcd"]))
    assert t.state_dict()["term"]["normalizer"]["rms"]["count"] == 2.0


def test_config_scale_and_clip_keep_stateful_terms_state():
    r = build_reward({"terms": [{"type": "constant", "params": {"value": 1.0}, "scale": 2.0, "clip": [-3, 3],
                                 "normalize": {"statistic": "reward"}}]})
    r(_batch(3))
    assert r.state_dict()["constant"]["normalizer"]["rms"]["count"] == 3.0


def test_scalar_times_term_builds_a_weighted_composition():
    a, b = Constant(1.0, "a"), Constant(4.0, "b")
    r = 2 * a + b * 0.5
    assert isinstance(r, ComposedReward) and r.weights == {"a": 2.0, "b": 0.5}
    res = r.evaluate(_batch(1))
    assert res.total.tolist() == [4.0] and res.terms["a"].tolist() == [1.0]  # unweighted per-term value
    with pytest.raises(TypeError):
        a * b  # a term times a term is not defined
    with pytest.raises(ConfigError, match="weight: expected a finite number, got nan"):
        float("nan") * a


BAD = st.sampled_from([math.nan, math.inf, -math.inf, np.float32("nan"), 10**400])

#: (field named in the error, builder taking the bad value); Python construction
PY_FIELDS = {
    "scale": lambda v: Scale(Constant(1.0), v),
    "gate.threshold": lambda v: Gate(Constant(1.0), Constant(1.0), threshold=v),
    "gate.otherwise": lambda v: Gate(Constant(1.0), Constant(1.0), otherwise=v),
    "terms.c.weight": lambda v: Component(Constant(1.0, "c"), weight=v),
    "terms.c.gate.threshold": lambda v: Component(Constant(1.0, "c"), gate_threshold=v),
    "terms.constant.weight": lambda v: ComposedReward([(Constant(1.0), v)]),
    "terms.b.weight": lambda v: weighted_sum({"a": Constant(1.0), "b": Constant(1.0)}, {"b": v}),
    "normalize.gamma": lambda v: Normalized(Constant(1.0), gamma=v),
    "normalize.clip": lambda v: Normalized(Constant(1.0), clip=v),
    "normalize.epsilon": lambda v: RewardNormalizer(epsilon=v),
    "value": lambda v: Constant(v),
}


def _shown(v):
    return "1000000000000000000000000000000000000..." if isinstance(v, int) else str(float(v))


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(sorted(PY_FIELDS)), v=BAD)
def test_python_construction_rejects_non_finite(field, v):
    with pytest.raises(ConfigError) as e:
        PY_FIELDS[field](v)
    msg = str(e.value)
    assert msg.startswith(f"{field}: expected a finite number"), msg
    assert msg.endswith(f"got {_shown(v)}") and "\n" not in msg


@settings(max_examples=40, deadline=None)
@given(side=st.sampled_from(["low", "high"]), v=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_clip_bounds_are_finite_or_their_open_end(side, v):
    open_end = -math.inf if side == "low" else math.inf
    kw = {side: v}
    if v == open_end:
        assert Clip(Constant(5.0), **kw)(_batch(1)).tolist() == [5.0]
        return
    with pytest.raises(ConfigError, match=rf"^clip.{side}: expected a finite number or -?inf, got {v}$"):
        Clip(Constant(1.0), **kw)
    with pytest.raises(ConfigError, match=r"^clip\[[01]\]: expected a finite number or -?inf"):
        ComposedReward([Constant(1.0)], clip=(v, 1.0) if side == "low" else (-1.0, v))


#: YAML config fields: (term-level YAML snippet with {v}, field path named in the error)
YAML_FIELDS = [
    ("weight: {v}", "reward.terms[1].weight"),
    ("scale: {v}", "reward.terms[1].scale"),
    ("clip: [{v}, {v}]", "reward.terms[1].clip[0]"),
    ("gate: {{on: a, threshold: {v}}}", "reward.terms[1].gate.threshold"),
    ("normalize: {{gamma: {v}}}", "reward.terms[1].normalize.gamma"),
    ("normalize: {{clip: {v}}}", "reward.terms[1].normalize.clip"),
]


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(YAML_FIELDS), v=st.sampled_from([".nan", ".inf", "-.inf", ".NaN"]))
def test_yaml_configs_reject_non_finite(case, v):
    snippet, field = case
    if field.endswith("clip[0]") and v == "-.inf":
        field = "reward.terms[1].clip[1]"  # -inf is the open low end; the high end then fails
    text = ("reward:\n  terms:\n    - {type: constant, name: a, params: {value: 1}}\n"
            f"    - {{type: constant, name: b, params: {{value: 1}}, {snippet.format(v=v)}}}\n")
    data = yaml.safe_load(text)
    with pytest.raises(ConfigError) as e:
        build_reward(data["reward"])
    msg = str(e.value)
    shown = {".nan": "nan", ".NaN": "nan", ".inf": "inf", "-.inf": "-inf"}[v]
    assert msg.startswith(f"{field}: expected a finite number"), msg
    assert msg.endswith(f"got {shown}"), msg


def test_top_level_clip_and_constant_params_in_yaml():
    with pytest.raises(ConfigError, match=r"^reward.clip\[1\]: expected a finite number or inf, got nan$"):
        build_reward(yaml.safe_load("terms: [{type: constant, params: {value: 1}}]\nclip: [0, .nan]\n"))
    with pytest.raises(ConfigError, match=r"^reward.terms\[0\].params.value: expected a finite number, got inf$"):
        build_reward(yaml.safe_load("terms: [{type: constant, params: {value: .inf}}]\n"))
