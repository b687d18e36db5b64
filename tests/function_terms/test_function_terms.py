"""Plain functions as terms (issue #18 item 1): argument binding, async, errors, budgets, pickling, registry."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import pickle
import threading
import time

import numpy as np
import pytest

import rewardkit
from rewardkit.core import ComposedReward, ConfigError, FunctionTerm, SampleBatch, build_reward
from rewardkit.core.config import build_reward_document
from rewardkit.verify.functions import ARGUMENTS, FunctionVerifier, GroupFunctionTerm, SampleFunctionTerm


# --- module-level functions: picklable by reference ---------------------------------------------------------

@rewardkit.term
def exact(completion, answer, info=None):
    """1 when the completion is the gold answer (stripped)."""
    return float(completion.strip() == answer)


@rewardkit.term(fail_value=-1.0, max_concurrency=4, time_s=0.5)
async def slow_exact(completion, answer, index):
    await asyncio.sleep(2.0 if completion == "hang" else 0.05)
    return float(completion == answer)


def shout(completion):
    return float(completion.isupper())


@rewardkit.group_term
def share_of_group(completions, answers):
    right = [c == a for c, a in zip(completions, answers, strict=True)]
    return [float(r) / max(1, sum(right)) for r in right]


PROMPTS = ["2+2?", "2+2?", "3*3?", "3*3?"]
COMPLETIONS = ["4", " 4 ", "9", "nine"]
ANSWERS = ["4", "4", "9", "9"]


def batch(**cols):
    return SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS, **cols})


# --- binding ----------------------------------------------------------------------------------------------

def test_arguments_are_filled_by_name_from_the_table():
    seen = []

    def spy(prompt, completion, prompt_messages, completion_messages, answer, info, state, group, index, tests):
        seen.append((prompt, completion, prompt_messages, completion_messages, answer, info, state, group, index, tests))
        return 0.0

    chat_p = [[{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]] * 2
    chat_c = [[{"role": "assistant", "content": "A1"}], "A2"]
    b = SampleBatch(chat_p, chat_c, {"gold": ["g1", "g2"], "metadata": [{"k": 1}, {"k": 2}], "tests": ["t1", "t2"]},
                    group=["x", "y"])
    rewardkit.term(spy)(b)
    assert seen == [("S\nQ", "A1", chat_p[0], chat_c[0], "g1", {"k": 1}, {}, "x", 0, "t1"),
                    ("S\nQ", "A2", chat_p[1], "A2", "g2", {"k": 2}, {}, "y", 1, "t2")]
    assert set(ARGUMENTS) >= {"prompt", "completion", "answer", "info", "state", "group", "index"}


def test_answer_prefers_the_answer_column_and_defaults_fill_missing_columns():
    def f(completion, answer, hint="none", **rest):
        return float(answer == "A") + 10 * (hint != "none") + 100 * len(rest)

    b = SampleBatch(["p"], ["c"], {"answer": ["A"], "gold": ["G"], "extra": [1]})
    assert rewardkit.term(f)(b).tolist() == [101.0]       # answer wins over gold; **rest gets `extra` only
    assert rewardkit.term(f)(SampleBatch(["p"], ["c"], {"answer": ["A"], "hint": ["h"]})).tolist() == [11.0]


def test_missing_required_column_is_one_line_naming_argument_and_columns():
    with pytest.raises(ConfigError) as e:
        exact(SampleBatch(["p"], ["c"], {"solution": ["4"]}))
    msg = str(e.value)
    assert "\n" not in msg and "argument 'answer'" in msg and "have: solution" in msg
    # at build time when the data's columns are declared
    with pytest.raises(ConfigError, match=r"argument 'tests'.*have: answer"):
        rewardkit.term(lambda completion, tests: 0.0, columns=["answer"])
    rewardkit.term(lambda completion, tests=None: 0.0, columns=["answer"])   # a default is enough


@pytest.mark.parametrize("fn, match", [
    (lambda *completions: 0.0, "positional-only or \\*args"),
    (lambda: 0.0, "takes no arguments"),
])
def test_bad_signatures_fail_at_build_time(fn, match):
    with pytest.raises(ConfigError, match=match):
        rewardkit.term(fn)


def test_decorated_name_still_calls_the_function_and_scores_batches():
    assert exact("4", "4") == 1.0 and exact(completion="5", answer="4") == 0.0
    assert exact(batch()).tolist() == [1.0, 1.0, 1.0, 0.0]
    assert isinstance(exact, SampleFunctionTerm) and exact.name == "exact" and exact.__doc__.startswith("1 when")


def test_as_term_reads_per_sample_functions_and_keeps_batch_functions():
    assert rewardkit.as_term(shout, "loud")(SampleBatch(["p", "p"], ["HI", "hi"])).tolist() == [1.0, 0.0]
    legacy = rewardkit.as_term(lambda b: [len(b)] * len(b), "n")
    assert isinstance(legacy, FunctionTerm) and legacy(batch()).tolist() == [4.0] * 4
    assert rewardkit.as_term(exact) is exact
    # options force the per-sample reading
    assert isinstance(rewardkit.as_term(lambda x: 1.0, "x", columns=["x"]), SampleFunctionTerm)
    # core's coercion (ComposedReward([...]), Scale, Gate ...) refuses a per-sample function instead of
    # calling it with a batch
    with pytest.raises(ConfigError, match="term 'shout': is a per-sample function"):
        ComposedReward([shout])
    # a transition batch is a clear kind error, not a call of the function
    from rewardkit.core import BatchError, TransitionBatch

    with pytest.raises(BatchError, match="term 'exact': got a TransitionBatch"):
        exact(TransitionBatch.from_arrays(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1)))


# --- failures -------------------------------------------------------------------------------------------

def test_an_exception_is_a_typed_error_with_the_fail_value_never_a_silent_zero():
    def parse(completion, answer):
        return float(int(completion) == int(answer))

    t = rewardkit.term(parse, fail_value=-0.5)
    assert t(batch()).tolist() == [1.0, 1.0, 1.0, -0.5]
    assert t.error_counts() == {"internal:ValueError": 1}
    assert "invalid literal" in t.last_results[3].info["message"]
    assert [r.error for r in t.last_results[:3]] == [None, None, None]


@pytest.mark.parametrize("ret, error", [(None, "not_applicable"), ("yes", "bad_return"), (float("nan"), "bad_return"),
                                        (float("inf"), "bad_return")])
def test_non_numbers_are_typed_errors(ret, error):
    t = rewardkit.term(lambda completion: ret, fail_value=0.25)
    assert t(SampleBatch(["p"], ["c"])).tolist() == [0.25] and t.last_results[0].error == error


def test_bad_fail_value_and_concurrency():
    for kw, field in (({"fail_value": float("nan")}, "fail_value"), ({"max_concurrency": 0}, "max_concurrency"),
                      ({"time_s": -1}, "time_s")):
        with pytest.raises(ConfigError, match=field):
            rewardkit.term(shout, **kw)


def test_async_timeout_cancels_and_the_batch_survives():
    b = SampleBatch(["p"] * 3, ["4", "hang", "5"], {"answer": ["4", "4", "4"]})
    t0 = time.perf_counter()
    out = slow_exact(b)
    elapsed = time.perf_counter() - t0
    assert out.tolist() == [1.0, -1.0, 0.0]
    assert [r.error for r in slow_exact.last_results] == [None, "timeout", None]
    assert elapsed < 1.5                                    # 0.5 s budget, not the 2 s sleep


def test_sync_overrun_is_abandoned_at_the_budget():
    release = threading.Event()

    def stuck(completion):
        if completion == "stuck":
            release.wait(5.0)
        return 1.0

    t = rewardkit.term(stuck, time_s=0.3, max_concurrency=2)
    t0 = time.perf_counter()
    assert t(SampleBatch(["p", "p"], ["ok", "stuck"])).tolist() == [1.0, 0.0]
    assert time.perf_counter() - t0 < 2.0 and t.last_results[1].error == "timeout"
    release.set()


def test_after_an_abandoned_call_a_fresh_worker_finishes_the_batch():
    release = threading.Event()
    state = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def f(completion):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        if completion == "stuck":
            release.wait(5.0)
        else:
            time.sleep(0.01)
        with lock:
            state["now"] -= 1
        return float(len(completion))

    b = SampleBatch(["p"] * 6, ["stuck", "a", "bb", "stuck", "ccc", "d"])
    t = rewardkit.term(f, time_s=0.3, max_concurrency=1)
    assert t(b).tolist() == [0.0, 1.0, 2.0, 0.0, 3.0, 1.0]
    assert [r.error for r in t.last_results] == ["timeout", None, None, "timeout", None, None]
    assert state["peak"] <= 3          # one live worker at a time, plus the two abandoned ones still waiting
    release.set()
    deadline = time.monotonic() + 5.0
    while state["now"] and time.monotonic() < deadline:   # the abandoned calls return once released
        time.sleep(0.01)
    assert state["now"] == 0
    state["peak"] = 0
    t4 = rewardkit.term(f, max_concurrency=4)
    assert t4(SampleBatch(["p"] * 16, ["x"] * 16)).tolist() == [1.0] * 16 and state["peak"] <= 4


def test_too_large_completion_is_not_read():
    from rewardkit.verify.budget import Budget

    calls = []
    t = rewardkit.term(lambda completion: calls.append(1) or 1.0, budget=Budget(max_chars=10))
    assert t(SampleBatch(["p", "p"], ["short", "x" * 11])).tolist() == [1.0, 0.0]
    assert t.last_results[1].error == "too_large" and len(calls) == 1


# --- async concurrency and event loops ------------------------------------------------------------------

def test_async_concurrency_is_bounded():
    state = {"now": 0, "peak": 0}

    async def probe(completion):
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.05)
        state["now"] -= 1
        return 1.0

    b = SampleBatch(["p"] * 12, ["c"] * 12)
    t0 = time.perf_counter()
    assert rewardkit.term(probe, max_concurrency=3)(b).tolist() == [1.0] * 12
    assert state["peak"] == 3
    assert time.perf_counter() - t0 < 12 * 0.05             # concurrent, not serial (4 waves of 0.05 s)


def test_works_when_called_inside_a_running_event_loop():
    async def caller():
        loop_thread = threading.get_ident()
        seen = []

        async def where(completion):
            seen.append(threading.get_ident())
            return 2.0

        out = rewardkit.term(where)(SampleBatch(["p"], ["c"]))
        return out.tolist(), seen[0] != loop_thread

    assert asyncio.run(caller()) == ([2.0], True)


# --- pickling -------------------------------------------------------------------------------------------

def test_module_level_terms_pickle_by_reference():
    for t in (exact, slow_exact, share_of_group, rewardkit.as_term(shout, "loud")):
        clone = pickle.loads(pickle.dumps(t))
        assert type(clone) is type(t) and clone.name == t.name
        b = SampleBatch(["p", "p"], ["4", "HI"], {"answer": ["4", "4"]})
        np.testing.assert_array_equal(clone(b), t(b))
    clone = pickle.loads(pickle.dumps(exact))
    assert clone.verifier.fn is exact.verifier.fn          # the same code object, not a copy
    composed = ComposedReward([(exact, 1.0), (share_of_group, 0.5)])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(composed))(batch()), composed(batch()))


def test_lambdas_and_closures_are_refused_with_a_clear_error():
    scale = 2.0

    def closure(completion):
        return scale

    for t in (rewardkit.term(lambda completion: 1.0), rewardkit.term(closure)):
        with pytest.raises(ConfigError, match="lambda or closure that cannot be pickled; expected a function "
                                              "defined with def at module level"):
            pickle.dumps(t)


def _score(t):
    return t(SampleBatch(PROMPTS, COMPLETIONS, {"answer": ANSWERS})).tolist()


def test_terms_run_in_a_spawn_pool():
    with mp.get_context("spawn").Pool(1) as pool:
        got = pool.map(_score, [exact, share_of_group])
    assert got == [_score(exact), _score(share_of_group)]


# --- registry and configs ---------------------------------------------------------------------------------

def test_registered_function_is_a_config_type(tmp_path, monkeypatch):
    mod = tmp_path / "my_fn_rewards.py"
    mod.write_text("import rewardkit\n\n"
                   "@rewardkit.term(register='test_fn_exact')\n"
                   "def exact(completion, answer):\n"
                   "    '''Exact match of the stripped completion.'''\n"
                   "    return float(completion.strip() == answer)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = {"plugins": ["my_fn_rewards"],
           "reward": {"terms": [{"type": "test_fn_exact", "name": "correct", "params": {"fail_value": -1.0}},
                                {"type": "constant", "name": "bonus", "weight": 0.1,
                                 "params": {"value": 1.0}}]}}
    r = build_reward_document(doc)
    assert r(batch()).tolist() == pytest.approx([1.1, 1.1, 1.1, 0.1])
    assert r.components[0].term.verifier.fail_value == -1.0
    from rewardkit.core.registry import TERMS

    assert TERMS.get("test_fn_exact").summary == "Exact match of the stripped completion."
    with pytest.raises(ConfigError, match=r"reward.terms\[0\].params.fail_value: got 'x'"):
        build_reward({"terms": [{"type": "test_fn_exact", "params": {"fail_value": "x"}}]})
    # the yaml file with plugins: goes through `rewardkit check` too
    cfg = tmp_path / "reward.yaml"
    cfg.write_text("plugins: [my_fn_rewards]\nreward:\n  terms:\n    - {type: test_fn_exact, name: correct}\n")
    import subprocess
    import sys

    env = {"PYTHONPATH": f"{tmp_path}:{rewardkit.__path__[0].rsplit('/', 1)[0]}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "rewardkit.cli.main", "check", str(cfg)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0 and "correct: weight 1.0 (SampleFunctionTerm)" in out.stdout, out.stderr


def test_function_verifier_verify_single_sample():
    v = FunctionVerifier(exact.verifier.fn)
    assert v.verify("4", answer="4").value == 1.0 and v.verify("x", answer="4").value == 0.0


def test_group_term_type():
    assert isinstance(share_of_group, GroupFunctionTerm)
