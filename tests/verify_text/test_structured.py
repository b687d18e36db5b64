"""Tests of the structured-output reward (real jsonschema, PyYAML, tomllib)."""

from __future__ import annotations

import copy
import doctest
import itertools
import json
import math

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardkit.verify.structured as smod
from rewardkit.core import ConfigError, SampleBatch, build_reward
from rewardkit.verify.structured import (
    StructuredOutputVerifier, grade_structured, parse_structured, schema_checks, strictify,
)

SCHEMA = {
    "type": "object",
    "required": ["name", "age", "email", "tags", "address", "status"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "uniqueItems": True},
        "address": {"type": "object", "required": ["city"],
                    "properties": {"city": {"type": "string"}, "zip": {"type": "string", "maxLength": 5}}},
        "status": {"enum": ["active", "inactive"]},
        "score": {"type": "number", "exclusiveMinimum": 0},
    },
}
VALID = {"name": "Ada", "age": 36, "email": "ada@x.org", "tags": ["a", "b"],
         "address": {"city": "London", "zip": "N1"}, "status": "active", "score": 9.5}


def _set(path, value):
    def op(d):
        *head, last = path
        node = d
        for k in head:
            node = node[k]
        node[last] = value
    return op


def _del(path):
    def op(d):
        *head, last = path
        node = d
        for k in head:
            node = node[k]
        del node[last]
    return op


# independent corruptions, each breaking a different schema check
CORRUPTIONS = [
    _set(["name"], 123), _set(["age"], -5), _del(["email"]), _set(["tags"], ["a", "z"]),
    _set(["extra"], True), _del(["address", "city"]), _set(["status"], "bogus"), _set(["score"], "high"),
    _set(["address", "zip"], "1234567"),
]


def test_doctests():
    res = doctest.testmod(smod)
    assert res.attempted > 10 and res.failed == 0


def test_valid_instance_scores_one_and_checks_are_fixed():
    g = grade_structured(VALID, SCHEMA)
    assert g.valid and g.score == 1.0 and not g.violations
    assert g.total == len(schema_checks(SCHEMA))
    broken = dict(VALID, age=-1)
    assert grade_structured(broken, SCHEMA).total == g.total  # denominator does not depend on the instance


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(len(CORRUPTIONS)))))
def test_partial_credit_decreases_with_each_error(order):
    inst = copy.deepcopy(VALID)
    scores = [grade_structured(inst, SCHEMA).score]
    for k in order:
        CORRUPTIONS[k](inst)
        g = grade_structured(inst, SCHEMA)
        assert not g.valid
        scores.append(g.score)
    assert scores[0] == 1.0
    assert all(b < a for a, b in itertools.pairwise(scores)), scores  # strictly decreasing
    assert scores[-1] > grade_structured(None, SCHEMA, parsed=False).score == 0.0


def test_wrong_root_type_and_missing_subtree_are_not_vacuous():
    assert grade_structured([], SCHEMA).score < 0.1
    no_addr = {k: v for k, v in VALID.items() if k != "address"}
    g = grade_structured(no_addr, SCHEMA)
    assert "$.address.city:type" in g.failed_checks  # blocked by the missing required parent
    no_score = {k: v for k, v in VALID.items() if k != "score"}
    assert grade_structured(no_score, SCHEMA).score == 1.0  # optional and absent


def test_parsing_formats():
    yaml_text = "```yaml\nname: Ada\nage: 36\n```"
    toml_text = 'name = "Ada"\nage = 36\n'
    assert parse_structured(yaml_text, "auto")[0] == {"name": "Ada", "age": 36}
    assert parse_structured(toml_text, "toml")[0] == {"name": "Ada", "age": 36}
    assert parse_structured("Sure! {\"a\": [1, 2]} hope that helps", "json")[0] == {"a": [1, 2]}
    assert parse_structured("<answer>{\"a\": 1}</answer>", "json")[0] == {"a": 1}
    assert parse_structured("just words", "auto")[1] is not None
    assert parse_structured("", "json")[1] == "empty_response"
    with pytest.raises(ConfigError, match="format"):
        parse_structured("x", "xml")


def test_verifier_errors_and_modes():
    v = StructuredOutputVerifier(schema=SCHEMA)
    assert v.verify(json.dumps(VALID)).value == 1.0
    bad = v.verify(json.dumps(dict(VALID, age=-1)))
    assert bad.error == "schema_violation" and 0 < bad.value < 1 and bad.info["violations"]
    assert v.verify("{not json").error == "parse_error" and v.verify("{not json").value == 0.0
    assert v.verify("   ").error == "empty_response"
    assert StructuredOutputVerifier(schema=SCHEMA, mode="binary").verify(json.dumps(dict(VALID, age=-1))).value == 0.0
    # strict mode (NeMo-Gym): every property required, no extras
    loose = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
    assert StructuredOutputVerifier(schema=loose).verify('{"a": 1}').value == 1.0
    assert StructuredOutputVerifier(schema=loose, strict=True).verify('{"a": 1}').value < 1.0
    assert strictify(loose)["required"] == ["a", "b"]
    with pytest.raises(ConfigError, match="schema"):
        StructuredOutputVerifier(schema={"type": "no-such-type"})
    # a malformed per-row schema is a bad reference, not a crash
    assert v.verify('{"a": 1}', schema="{broken").error == "bad_reference"


def test_refs_and_combinators():
    schema = {"$defs": {"pt": {"type": "object", "required": ["x", "y"],
                               "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}},
              "type": "object", "required": ["p", "kind"],
              "properties": {"p": {"$ref": "#/$defs/pt"}, "kind": {"anyOf": [{"const": "a"}, {"const": "b"}]}}}
    assert grade_structured({"p": {"x": 1, "y": 2}, "kind": "a"}, schema).score == 1.0
    g = grade_structured({"p": {"x": 1}, "kind": "z"}, schema)
    assert not g.valid and "$.p:required[y]" in g.failed_checks and "$.kind:anyOf" in g.failed_checks


def test_term_reads_schema_column():
    r = build_reward({"terms": [{"type": "structured_output", "params": {"format": "auto"}}]})
    s = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
    out = r(SampleBatch(["p"] * 3, ['{"a": 1}', "a: x", "nope"], {"schema": [s, s, s]}))
    assert out[0] == 1.0 and 0 < out[1] < 1 and out[2] == 0.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 200) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.sampled_from([*SCHEMA["properties"], "city", "zip", "q"]),
                                                          ch, max_size=6),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_score_is_one_iff_jsonschema_validates(instance):
    g = grade_structured(instance, SCHEMA)
    assert 0.0 <= g.score <= 1.0 and math.isfinite(g.score)
    assert (g.score == 1.0) == jsonschema.Draft202012Validator(SCHEMA).is_valid(instance)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200) | json_values.map(json.dumps))
def test_fuzz_never_raises(text):
    for fmt in ("json", "auto"):
        r = StructuredOutputVerifier(schema=SCHEMA, format=fmt).safe_verify(text)
        assert math.isfinite(r.value) and 0.0 <= r.value <= 1.0
        assert r.error is None or not r.error.startswith("internal"), r.info
