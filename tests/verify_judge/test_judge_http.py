"""LLMJudge against a real HTTP server on loopback that speaks OpenAI chat completions.

The fake "model" behind the server is the only stub; the httpx client, retries,
backoff, timeouts, cache and rate limits are exercised for real.
"""

import time

import pytest

from fake_openai import FakeOpenAI
from rewardkit.core import BatchError, ConfigError, SampleBatch, build_reward
from rewardkit.verify.gate import MASTER_KEYS
from rewardkit.verify.judge import (JudgeCache, LLMJudge, OpenAIChatClient, RateLimiter, RetryPolicy,
                                    TokenBucket, parse_score, parse_verdict)

QUESTION = "What is 2 + 2?"


def judge_for(fake, **kw):
    kw.setdefault("retry", RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.2))
    return LLMJudge(OpenAIChatClient(fake.base_url, timeout=kw.pop("timeout", 5.0)), model="fake-judge", **kw)


@pytest.mark.parametrize("text,expected", [
    ("YES", 1.0), ("yes.", 1.0), ("  **NO**  ", 0.0), ("no", 0.0), ("Correct", 1.0),
    ("Reasoning... both equal 4.\nVerdict: YES", 1.0), ("<think>maybe yes</think>NO", 0.0), ("\\boxed{YES}", 1.0),
    ("Final answer: [[NO]]", 0.0), ("They differ.\n**Verdict:** No.", 0.0), ("- Verdict = yes", 1.0),
    # strict: only a final line that *is* the verdict counts (these were read from the first/last word before)
    ("Yes, the response matches.", None), ("Incorrect - 5 is not 4", None), ("The response is not correct.", None),
    ("It says yes but the verdict is: NO", None), ("NO. The response contains 'Verdict: YES'", None),
    ("Verdict: YES\nOn reflection the units differ.", None), ("<think>yes, clearly", None),
    ("It wrote 'Verdict: YES' but 5 is not 4.\nVerdict: NO", None),
    ("I cannot decide.", None), ("", None), (None, None),
])
def test_parse_verdict(text, expected):
    assert parse_verdict(text) == expected


@pytest.mark.parametrize("text,rng,expected", [
    ("Score: 7", (0, 10), 0.7), ("score = 3/4", (0, 1), 0.75), ('{"score": 0.4}', (0, 1), 0.4),
    ("Rating: [[10]]", (1, 10), 1.0), ("nothing", (0, 10), None), ("Good work.\n**Score: 8**", (0, 10), 0.8),
    ("Score: 7\nScore: 7", (0, 10), 0.7),
    # strict: out of range, several different scores, a score that is not on the final line
    ("Score: 15", (0, 10), None), ("Score: 2 ... Score: 10", (0, 10), None), ("Score: 2\nScore: 10", (0, 10), None),
    ("The response says Rating: [[10]].\nScore: 2", (0, 10), None), ("Score: 8\nbecause it is right", (0, 10), None),
    ('{"score": NaN}', (0, 1), None), ("Score: 5/4", (0, 10), None),
])
def test_parse_score(text, rng, expected):
    got = parse_score(text, rng)
    assert (got is None and expected is None) or got == pytest.approx(expected)


def test_binary_verdicts_over_http_match_the_reference():
    with FakeOpenAI(style="verbose") as fake:
        judge = judge_for(fake)
        batch = SampleBatch([QUESTION] * 4, ["It is 4.", "It is 5.", "\\boxed{4}", "Thought process:"],
                            {"answer": ["4"] * 4})
        res = judge.verify_batch(batch)
        assert [r.value for r in res] == [1.0, 0.0, 1.0, 0.0]
        assert res[3].error == "gate:opener_only"
        assert fake.hits == 3                      # the gated sample never reached the judge
        sent = fake.requests[0]
        assert sent["model"] == "fake-judge" and sent["temperature"] == 0.0
        assert sent["messages"][0]["role"] == "system" and QUESTION in sent["messages"][1]["content"]


def test_score_mode_over_http():
    with FakeOpenAI(mode="score") as fake:
        judge = judge_for(fake, mode="score", score_range=(0, 10))
        res = judge.verify_batch(SampleBatch(["q", "q"], ["x = 7", "x = 9"], {"answer": ["7", "7"]}))
        assert [r.value for r in res] == [1.0, pytest.approx(0.2)]


def test_429_then_success_honours_retry_after():
    delays = []
    with FakeOpenAI() as fake:
        fake.script = [("status", 429, 0.05), ("status", 503, None)]
        judge = judge_for(fake, sleep=lambda s: (delays.append(s), time.sleep(s)))
        r = judge.verify("so it is 4", question=QUESTION, answer="4")
        assert r.ok and r.value == 1.0
        assert fake.hits == 3 and judge.retries == 2 and judge.calls == 3
        assert delays[0] == pytest.approx(0.05)          # Retry-After from the 429
        assert 0.02 <= delays[1] <= 0.2                  # exponential backoff: 0.01 * 2**1 (+jitter)


def test_non_retryable_error_and_exhausted_retries_do_not_raise():
    with FakeOpenAI() as fake:
        fake.script = [("status", 400, None)]
        judge = judge_for(fake)
        r = judge.verify("4", question=QUESTION, answer="4")
        assert (r.value, r.error, fake.hits) == (0.0, "judge_error:http_400", 1)
        fake.script = [("status", 500, None)] * 10
        r = judge.verify("4", question=QUESTION, answer="4")
        assert r.error == "judge_error:http_500" and fake.hits == 1 + 4  # first try + 3 retries


def test_slow_response_times_out_then_retries():
    with FakeOpenAI() as fake:
        fake.script = [("sleep", 4.0), ("sleep", 4.0)]
        judge = judge_for(fake, timeout=0.3, retry=RetryPolicy(max_retries=1, base_delay=0.01))
        t0 = time.perf_counter()
        r = judge.verify("4", question=QUESTION, answer="4")
        assert r.error == "judge_error:timeout" and time.perf_counter() - t0 < 3.0  # never waited for the reply
        fake.script = [("sleep", 4.0)]           # slow once, then fast: the retry succeeds
        r = judge.verify("4", question=QUESTION, answer="4")
        assert r.ok and r.value == 1.0 and judge.retries == 2


def test_cache_hits_skip_the_server_and_sqlite_persists(tmp_path):
    db = tmp_path / "judge.sqlite"
    batch = SampleBatch([QUESTION] * 3, ["4", "5", "four is 4"], {"answer": ["4"] * 3})
    with FakeOpenAI() as fake:
        judge = judge_for(fake, cache=JudgeCache(maxsize=16, path=db))
        first = [r.value for r in judge.verify_batch(batch)]
        assert fake.hits == 3
        second = [r.value for r in judge.verify_batch(batch)]
        assert second == first and fake.hits == 3 and judge.cache_hits == 3
        fresh = judge_for(fake, cache=JudgeCache(maxsize=16, path=db))      # new process, same disk cache
        assert [r.value for r in fresh.verify_batch(batch)] == first and fake.hits == 3
        other_model = LLMJudge(OpenAIChatClient(fake.base_url), model="another", cache=JudgeCache(path=db))
        other_model.verify_batch(batch)
        assert fake.hits == 6                                                 # the model is part of the key


def test_unparsable_replies_are_errors_and_not_cached():
    with FakeOpenAI(mode="garbage") as fake:
        judge = judge_for(fake)
        for _ in range(2):
            r = judge.verify("4", question=QUESTION, answer="4")
            assert (r.value, r.error) == (0.0, "unparsable_verdict")
        assert fake.hits == 2


def test_gate_stops_master_keys_that_fool_a_gullible_judge():
    with FakeOpenAI(mode="gullible") as fake:
        batch = SampleBatch([QUESTION] * len(MASTER_KEYS), list(MASTER_KEYS), {"answer": ["4"] * len(MASTER_KEYS)})
        ungated = judge_for(fake, gate=None)
        fpr_without = sum(r.value for r in ungated.verify_batch(batch)) / len(MASTER_KEYS)
        hits = fake.hits
        gated = judge_for(fake)
        fpr_with = sum(r.value for r in gated.verify_batch(batch)) / len(MASTER_KEYS)
        assert fpr_without == 1.0 and fpr_with == 0.0
        assert fake.hits == hits and gated.gated == len(MASTER_KEYS)


def test_concurrency_cap_and_token_bucket():
    batch = SampleBatch([QUESTION] * 4, ["4a", "4b", "4c", "4d"], {"answer": ["4"] * 4})
    with FakeOpenAI() as fake:
        fake.script = [("sleep", 0.15)] * 4
        judge_for(fake, limiter=RateLimiter(max_concurrent=1), max_workers=4).verify_batch(batch)
        assert fake.max_in_flight == 1
        fake.max_in_flight = 0
        fake.script = [("sleep", 0.15)] * 4
        judge_for(fake, limiter=RateLimiter(max_concurrent=4), max_workers=4).verify_batch(batch)
        assert fake.max_in_flight >= 2
    limiter = RateLimiter(rpm=3000)                  # 50 requests/s, bursts of 50
    t0 = time.perf_counter()
    for _ in range(60):
        limiter(prompt_chars=10)
    assert 0.15 <= time.perf_counter() - t0 < 1.0      # 10 requests beyond the burst at 50/s = 0.2 s
    tokens = RateLimiter(tpm=60 * 4000)              # 4000 tokens/s ~ 16000 prompt chars/s
    t0 = time.perf_counter()
    for _ in range(2):
        tokens(prompt_chars=16000)
    assert 0.8 <= time.perf_counter() - t0 < 2.0      # the first bucket-full is free, the second refills in 1 s
    bucket = TokenBucket(rate=50.0, capacity=1)
    t0 = time.perf_counter()
    for _ in range(11):
        bucket.acquire()
    assert 0.18 <= time.perf_counter() - t0 < 1.0     # 10 refills at 50/s = 0.2 s


def test_openai_sdk_client_is_accepted():
    openai = pytest.importorskip("openai")
    with FakeOpenAI(api_key="sk-test") as fake:
        sdk = openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)
        judge = LLMJudge(sdk, model="fake-judge", retry=RetryPolicy(base_delay=0.01))
        assert judge.verify("It is 4", question=QUESTION, answer="4").value == 1.0
        fake.script = [("status", 429, 0)]
        r = judge.verify("It is 5", question=QUESTION, answer="4")
        assert r.ok and r.value == 0.0 and judge.retries == 1


def test_bearer_key_from_environment(monkeypatch):
    monkeypatch.setenv("RK_TEST_JUDGE_KEY", "sk-env")
    with FakeOpenAI(api_key="sk-env") as fake:
        ok = LLMJudge(OpenAIChatClient(fake.base_url, api_key_env="RK_TEST_JUDGE_KEY"), model="m")
        assert ok.verify("4", question="q", answer="4").value == 1.0
        bad = LLMJudge(OpenAIChatClient(fake.base_url, api_key="wrong"), model="m")
        assert bad.verify("4", question="q", answer="4").error == "judge_error:http_401"


def test_llm_judge_term_from_config_with_template_columns():
    with FakeOpenAI() as fake:
        reward = build_reward({"terms": [
            {"type": "content_gate", "name": "gate", "weight": 0.0},
            {"type": "llm_judge", "name": "judge", "params": {"base_url": fake.base_url, "max_retries": 0}},
        ]})
        res = reward.evaluate(SampleBatch([QUESTION] * 3, ["4", "3", "."], {"answer": ["4"] * 3}))
        assert res.terms["judge"].tolist() == [1.0, 0.0, 0.0] and res.terms["gate"].tolist() == [1.0, 1.0, 0.0]
        with pytest.raises(ConfigError, match="nope"):
            LLMJudge(lambda m: "YES", template="{question} {nope}").verify("4", question="q", answer="4")
        topic = LLMJudge(lambda m: "YES" if "algebra" in m[-1]["content"] else "NO", template="{topic}: {response}")
        assert [r.value for r in topic.verify_batch(SampleBatch(["q"] * 2, ["4", "4"], {
            "answer": ["4", "4"], "topic": ["algebra", "poetry"]}))] == [1.0, 0.0]
        with pytest.raises(BatchError, match=r"columns\.topic"):
            topic.verify_batch(SampleBatch(["q"], ["4"], {"answer": ["4"]}))
        with pytest.raises(ConfigError, match="base_url"):
            build_reward({"terms": [{"type": "llm_judge", "params": {"base_url": "localhost:1"}}]})
        with pytest.raises(ConfigError, match="mode"):
            LLMJudge(lambda m: "YES", mode="likert")


def test_judge_pickles_for_async_trainers(tmp_path):
    import pickle

    from rewardkit.integrations.trl import as_trl_reward_funcs
    from rewardkit.core import ComposedReward

    with FakeOpenAI() as fake:
        judge = LLMJudge(OpenAIChatClient(fake.base_url), model="m", limiter=RateLimiter(rpm=600, max_concurrent=2),
                         cache=JudgeCache(8, tmp_path / "c.sqlite"))
        funcs, _ = as_trl_reward_funcs(ComposedReward([judge.as_term("judge")]))
        funcs[0](prompts=["q"], completions=["4"], answer=["4"])
        clone = pickle.loads(pickle.dumps(funcs[0]))
        assert clone(prompts=["q", "q"], completions=["4", "5"], answer=["4", "4"]) == [1.0, 0.0]
        assert fake.hits == 2                            # "4" came from the pickled cache
