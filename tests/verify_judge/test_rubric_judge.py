"""Rubric judges against a real HTTP server on loopback speaking OpenAI chat completions.

The fake "model" (a subclass of the judge tests' :class:`FakeOpenAI`) grades two criteria from the
prompt it receives; the client, retries, cache, gate and the strict per-criterion parser run for real.
"""

import math
import pickle
import re

import numpy as np
import pytest

from fake_openai import FakeOpenAI
from rewardkit.core import ConfigError, SampleBatch, build_reward
from rewardkit.verify.judge import OpenAIChatClient, RetryPolicy, RubricJudge, RubricTerm

CRITERIA = [{"name": "correct", "description": "The final answer equals the reference.", "weight": 3},
            {"name": "clear", "description": "The reasoning is easy to follow.", "weight": 1, "scale": 4}]


class RubricModel(FakeOpenAI):
    """Grades ``correct`` (reference in the response) and ``clear`` (4 if the response has 'because', else 1)."""

    def reply(self, user, model, scripted=None, body=None):
        if scripted is None:
            ref = re.search(r"REFERENCE ANSWER:\n(.*?)\n\n", user, re.S).group(1).strip()
            resp = re.search(r"RESPONSE:\n(.*?)\n\nCRITERIA:", user, re.S).group(1)
            ok = re.search(r"(?<![\w.])" + re.escape(ref) + r"(?!\w)", resp) is not None
            scripted = (f"<think>check</think>Assessment follows.\n- **correct**: {'YES' if ok else 'NO'}\n"
                        f"- **clear**: {4 if 'because' in resp else 1}")
        return super().reply(user, model, scripted, body)


def judge_for(fake, **kw):
    kw.setdefault("retry", RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05))
    return RubricJudge(OpenAIChatClient(fake.base_url, timeout=5.0), CRITERIA, model="fake", **kw)


def test_weighted_criteria_over_http_and_sub_terms():
    with RubricModel() as fake:
        term = RubricTerm(judge_for(fake), "rubric")
        batch = SampleBatch(["2+2?"] * 3, ["4 because 2+2=4", "It is 4.", "5 because I say so"], {"answer": ["4"] * 3})
        values = term(batch)
        # (3*correct + 1*clear/4) / 4
        np.testing.assert_allclose(values, [(3 + 1) / 4, (3 + 0.25) / 4, (0 + 1) / 4])
        subs = term.sub_terms()
        assert sorted(subs) == ["rubric/clear", "rubric/correct"]
        np.testing.assert_allclose(subs["rubric/correct"], [1, 1, 0])
        np.testing.assert_allclose(subs["rubric/clear"], [1, 0.25, 1])
        assert "CRITERIA:\n- correct (YES/NO): The final answer equals the reference.\n- clear (0-4)" in \
            fake.requests[0]["messages"][-1]["content"]
        hits = fake.hits
        term(batch)                                   # the same samples again: all from the cache
        assert fake.hits == hits and term.verifier.stats()["cache_hits"] == 3


@pytest.mark.parametrize("reply,error,criterion", [
    ("correct: YES", "missing_criterion", "clear"),
    ("correct: YES\nclear: 7", "malformed_criterion", "clear"),
    ("correct: perhaps\nclear: 2", "malformed_criterion", "correct"),
    ("correct: YES\ncorrect: YES", "duplicate_criterion", "correct"),
    ("The response claims correct: YES.\ncorrect: NO\nclear: 3", "conflicting_verdicts", "correct"),
    ("correct: YES\nclear: 3\nThat is all.", "missing_criterion", "correct"),
    ("<think>correct: YES", "unclosed_think", None),
])
def test_malformed_or_missing_criteria_get_the_fail_value_and_are_not_cached(reply, error, criterion):
    with RubricModel() as fake:
        term = RubricTerm(judge_for(fake, fail_value=-1.0), "rubric")
        batch = SampleBatch(["2+2?"], ["4 because 2+2=4"], {"answer": ["4"]})
        fake.script = [("reply", reply)]
        assert term(batch).tolist() == [-1.0]
        r = term.last_results[0]
        assert (r.error, r.info["parse_error"], r.info["criterion"]) == ("unparsable_verdict", error, criterion)
        assert all(math.isnan(v[0]) for v in term.sub_terms().values())   # not logged as 0
        assert term(batch).tolist() == [1.0] and fake.hits == 2            # unparsable replies are not cached


def test_retries_gate_and_config_path():
    with RubricModel() as fake:
        reward = build_reward({"terms": [{"type": "rubric_judge", "name": "rubric", "params": {
            "base_url": fake.base_url, "criteria": CRITERIA, "backoff": 0.01, "max_retries": 2}}]})
        term = reward.terms["rubric"]
        fake.script = [("status", 503, 0)]
        out = reward(SampleBatch(["2+2?", "2+2?"], ["4 because 2+2=4", ":"], {"answer": ["4", "4"]}))
        assert out.tolist() == [1.0, 0.0]
        assert term.last_results[1].error == "gate:punctuation_only"
        stats = term.verifier.stats()
        assert (stats["retries"], stats["gated"], fake.hits) == (1, 1, 2)


def test_no_reference_column_is_allowed_and_pickles():
    with RubricModel() as fake:
        fake.script = [("reply", "correct: NO\nclear: 4")]
        judge = pickle.loads(pickle.dumps(judge_for(fake)))
        res = judge.verify_batch(SampleBatch(["Write a haiku."], ["Autumn moon, because"]))
        assert res[0].value == pytest.approx(0.25) and res[0].components == {"correct": 0.0, "clear": 1.0}


@pytest.mark.parametrize("criteria,field", [
    ([], "criteria"), ([{"name": "a b"}], "criteria[0].name"), ([{"name": "a"}, {"name": "A"}], "criteria[1].name"),
    ([{"name": "a", "weight": "high"}], "criteria[0].weight"), ([{"name": "a", "scale": 2.5}], "criteria[0].scale"),
    ([{"name": "a", "points": 2}], "criteria[0].points"), ([{"name": "a", "weight": 0}], "criteria"),
])
def test_bad_rubrics_name_the_field(criteria, field):
    with pytest.raises(ConfigError) as e:
        RubricJudge(lambda m: "", criteria)
    assert str(e.value).startswith(field + ":")


def test_sub_terms_are_logged_by_the_trainer_exports():
    from rewardkit.integrations.openrlhf import as_openrlhf_reward_func
    from rewardkit.integrations.trl import as_trl_reward
    from rewardkit.integrations.verl import as_verl_compute_score

    with RubricModel() as fake:
        reward = build_reward({"terms": [{"type": "rubric_judge", "name": "rubric", "params": {
            "base_url": fake.base_url, "criteria": CRITERIA, "max_retries": 0}}]})
        logged = {}
        totals = as_trl_reward(reward)(["2+2?"] * 2, ["4 because 2+2=4", "5"], None, answer=["4", "4"],
                                       log_metric=lambda k, v: logged.__setitem__(k, v))
        assert totals == [1.0, 0.0625]
        assert logged["rewardkit/rubric/correct"] == 0.5 and logged["rewardkit/rubric/clear"] == pytest.approx(0.625)
        d = as_verl_compute_score(reward)("ds", "4 because 2+2=4", "4", {"question": "2+2?"})
        assert d == {"score": 1.0, "rubric": 1.0, "rubric/correct": 1.0, "rubric/clear": 1.0}
        logs = as_openrlhf_reward_func(reward, as_tensors=False)(["Q: 2+2? 5"], ["Q: 2+2?"], ["4"])["extra_logs"]
        assert logs["rubric/correct"] == [0.0] and logs["rubric/clear"] == [0.25]
