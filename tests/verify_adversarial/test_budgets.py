"""Adversarial inputs against every registered verifier: each sample must finish within 2 s,
the process must stay under 1 GB, and a bomb gets the documented fail value and error type
(docs/verify-budgets.md).  The registry sweep runs in a child interpreter (_run_corpus.py)
so its peak RSS is the verifiers' own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardkit.core.errors import LimitExceeded
from rewardkit.verify.budget import load_output
from rewardkit.verify.format import TagFormatVerifier
from rewardkit.verify.sql import extract_sql
from rewardkit.verify.structured import StructuredOutputVerifier
from rewardkit.verify.tags import find_fences, find_tag_blocks, last_tag_block
from rewardkit.verify.toolcall import parse_tool_calls

HERE = Path(__file__).parent
SRC = HERE.parents[1] / "src"
sys.path.insert(0, str(HERE))
from _run_corpus import BOMB  # noqa: E402

WALL_S = 2.0
#: corpus cases that attack schema regexes (well-formed payloads otherwise)
REGEX_CASES = ("schema_regex_plus", "schema_regex_alt", "tool_regex_alt")
RSS_MB = 1024
#: documented fail value of each verifier (docs/verify-budgets.md); None = not a pass/fail verifier
FAIL = {"math_answer": 0.0, "gsm8k": 0.0, "qa_match": 0.0, "multiple_choice": 0.0, "sql_reward": 0.0,
        "sql_execution": 0.0, "sql_syntax": 0.0, "sql_schema_link": 0.0, "sql_ngram": 0.0,
        "structured_output": 0.0, "think_answer_format": 0.0, "tool_call_schema": 0.0,
        "tool_call_toolrl": -3.0, "code_tests": 0.0, "llm_judge": 0.0}
#: verifiers with a size cap: a 2 MB completion is rejected with too_large before any scan
CAPPED = {"math_answer", "qa_match", "multiple_choice", "sql_reward", "sql_execution", "sql_syntax",
          "sql_schema_link", "sql_ngram", "structured_output", "think_answer_format", "tool_call_schema",
          "tool_call_toolrl", "code_tests", "llm_judge"}


@pytest.fixture(scope="module")
def sweep():
    import os

    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(HERE / "_run_corpus.py")], capture_output=True, text=True,
                         timeout=240, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    rows = [r for r in lines if "term" in r]
    return rows, {k: v for r in lines if "term" not in r for k, v in r.items()}


def test_every_registered_verifier_is_swept(sweep):
    from rewardkit.core.registry import available_terms

    rows, info = sweep
    swept = {r["term"] for r in rows}
    # rewardkit's own terms (tests in the same worker may register function terms of their own)
    sample_terms = {n for n, s in available_terms().items()
                    if s.batch_kind == "sample" and getattr(s.factory, "__module__", "").startswith("rewardkit.")}
    assert sample_terms <= swept  # no exceptions: code_tests and llm_judge included
    assert set(FAIL) <= swept
    assert info["judge_requests"] > 0  # the judge really went over HTTP for the small inputs


def test_each_sample_within_wall_clock_bound(sweep):
    rows, _ = sweep
    slow = [(r["term"], r["case"], round(r["seconds"], 2)) for r in rows if r["seconds"] > WALL_S]
    assert not slow


def test_values_finite_and_fail_value_on_bombs(sweep):
    rows, _ = sweep
    assert all(r["finite"] for r in rows)
    # the JSON-format structured verifier legitimately parses the bomb's first list (no aliases in
    # JSON) and gives partial credit; the YAML reading of the bomb is tested below
    # (same for the schema-regex cases, whose payloads parse and fail only the pattern check)
    legit = {("structured_output", "yaml_alias_bomb"), ("structured_output", "yaml_alias_bomb_answer"),
             ("structured_output", "schema_regex_plus"), ("structured_output", "tool_regex_alt"),
             ("structured_output", "judge_injection")}  # "[[10]]" in the prose is a JSON list
    wrong = [(r["term"], r["case"], r["value"]) for r in rows
             if r["term"] in FAIL and r["value"] != FAIL[r["term"]] and (r["term"], r["case"]) not in legit]
    assert not wrong


def test_budget_error_types(sweep):
    rows, _ = sweep
    by = {(r["term"], r["case"]): r for r in rows}
    for t in CAPPED:
        assert by[(t, "mb_2_text")]["error"] == "too_large", t
    for case in ("power_tower", "power_tower_2", "factorial"):
        assert by[("math_answer", case)]["error"] == "parse_limit", case
    # a backtracking schema pattern is stopped by the per-sample regex budget
    assert by[("structured_output", "schema_regex_alt")]["error"] == "timeout"
    assert by[("tool_call_schema", "tool_regex_alt")]["error"] == "timeout"
    assert by[("structured_output", "schema_regex_plus")]["error"] == "schema_violation"
    # the content gate stops verdict/score injection before the judge is asked
    assert by[("llm_judge", "judge_injection")]["error"] == "gate:judge_injection"
    # every verifier row of a bomb carries an error type, except a plain wrong answer of an answer rule
    # (and the judge's scripted "Verdict: NO", a clean verdict)
    plain = ("math_answer", "gsm8k", "qa_match", "multiple_choice", "sql_ngram", "llm_judge")
    # (the regex cases are well-formed payloads for every other verifier: checked above)
    for r in rows:
        if r["term"] in FAIL and r["term"] not in plain and r["case"] not in REGEX_CASES:
            assert r["error"] is not None, (r["term"], r["case"])


def test_length_terms_give_the_max_penalty_over_the_cap(sweep):
    rows, _ = sweep
    by = {(r["term"], r["case"]): r for r in rows}
    assert by[("repetition_penalty", "mb_2_text")]["value"] == -1.0  # 2 MB > max_chars: the maximum penalty


def test_process_memory_bound(sweep):
    _, mem = sweep
    assert mem["rss_mb"] < RSS_MB
    assert mem["children_rss_mb"] < RSS_MB


# ------------------------------------------------------------------------------ bounded parsers
@pytest.mark.parametrize("fmt", ["yaml", "auto"])
def test_yaml_alias_bomb_is_a_parse_limit(fmt):
    v = StructuredOutputVerifier(schema={"type": "object"}, format=fmt)
    t0 = time.perf_counter()
    r = v.verify("```yaml\n" + BOMB + "\n```")
    assert time.perf_counter() - t0 < WALL_S
    assert (r.value, r.error) == (0.0, "parse_limit")


@pytest.mark.parametrize("fmt,text", [
    ("json", "[" * 100_000 + "]" * 100_000),
    ("json", "[" * 100 + "]" * 100),
    ("json", "[" + "0," * 30_000 + "0]"),
    ("toml", "a = " + "[" * 100 + "]" * 100),
    ("yaml", "[" * 100 + "]" * 100),
    ("yaml", BOMB),
    ("json", " " * 300_000),
])
def test_bounded_loaders_refuse(fmt, text):
    with pytest.raises(LimitExceeded):
        load_output(text, fmt)


def test_bounded_loaders_accept_ordinary_payloads():
    assert load_output('{"a": [1, {"b": null}]}', "json") == {"a": [1, {"b": None}]}
    assert load_output("a: &x [1, 2]\nb: *x", "yaml") == {"a": [1, 2], "b": [1, 2]}
    assert load_output("[t]\nx = [1, 2]", "toml") == {"t": {"x": [1, 2]}}


# ------------------------------------------------------------------------------ linear tag scans
def _time(f, text):
    t0 = time.perf_counter()
    f(text)
    return time.perf_counter() - t0


@pytest.mark.parametrize("f", [
    lambda t: find_tag_blocks(t, ("think", "answer")),
    lambda t: last_tag_block(t, "answer"),
    lambda t: TagFormatVerifier().verify(t),
    lambda t: find_fences(t),
], ids=["find_tag_blocks", "last_tag_block", "format_verifier", "find_fences"])
def test_repeated_open_tags_scale_linearly(f):
    one, two = "<answer>" * (1_000_000 // 8), "<answer>" * (2_000_000 // 8)
    t1 = min(_time(f, one) for _ in range(3))
    t2 = min(_time(f, two) for _ in range(3))
    assert t2 < 1.0
    assert t2 < 3.0 * t1 + 0.05  # quadratic would be 4x (and seconds, not milliseconds)


def test_format_verifier_repeated_tags_2mb_fast():
    t0 = time.perf_counter()
    r = TagFormatVerifier(budget=None).verify("<think>" * 285_000)
    assert time.perf_counter() - t0 < WALL_S and r.value == 0.0 and r.error is not None


# ------------------------------------------------------------------------------ hypothesis
PIECES = ["<answer>", "</answer>", "<think>", "</think>", "<tool_call>", "</tool_call>", "```", "```json\n",
          "\n", "[", "{", '"', "\\boxed{", "}", "$", "SELECT ", " ", "a", "&a ", "*a ", "- ", ": "]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(parts=st.lists(st.sampled_from(PIECES), min_size=1, max_size=6), reps=st.integers(1, 40_000))
def test_random_repetitions_stay_within_budget(parts, reps):
    text = "".join(parts) * reps
    for f in (lambda t: TagFormatVerifier().verify(t), extract_sql, parse_tool_calls,
              lambda t: StructuredOutputVerifier(schema={"type": "object"}, format="auto").verify(t)):
        t0 = time.perf_counter()
        f(text)
        assert time.perf_counter() - t0 < WALL_S
