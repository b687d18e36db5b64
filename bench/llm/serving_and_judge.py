"""Content gate, LLM judge client and reward-server throughput (issue #5).

The reference is the openai SDK (pip install openai), talking to the same loopback fake
OpenAI-compatible model as rewardkit's own client.

    python bench/llm/serving_and_judge.py
"""
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "verify_judge"))
import httpx
from fake_openai import FakeOpenAI
from rewardkit.core import ComposedReward, Constant, SampleBatch
from rewardkit.verify.gate import ContentGate, MASTER_KEYS, gate_reason
from rewardkit.verify.judge import LLMJudge, OpenAIChatClient, JudgeCache, RateLimiter
from rewardkit.integrations.server import create_app, BackgroundServer
from rewardkit.integrations.openrlhf import as_openrlhf_reward_func
from rewardkit.verify.gate import content_gate
import openai

rng = random.Random(0)
words = "the sum of the roots is so we get x equals then compute factor divide answer".split()
texts = [" ".join(rng.choice(words) for _ in range(80)) + f" so the answer is {i}." for i in range(5000)]
g = ContentGate()
t0 = time.perf_counter()
for t in texts:
    g.reason(t)
dt = time.perf_counter() - t0
print(f"| gate: typical 80-word responses | {len(texts)/dt:,.0f} responses/s |")
t0 = time.perf_counter()
rej = sum(gate_reason(k) is not None for k in MASTER_KEYS * 100)
dt = time.perf_counter() - t0
print(f"| gate: master keys rejected | {rej}/{len(MASTER_KEYS)*100} ({len(MASTER_KEYS)*100/dt:,.0f}/s) |")

N = 200
with FakeOpenAI() as fake:
    msgs = [[{"role": "user", "content": f"REFERENCE ANSWER:\n4\n\nRESPONSE:\nit is {i}\n\nReply"}] for i in range(N)]
    rk = OpenAIChatClient(fake.base_url)
    sdk = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
    for _ in range(10):  # warm both clients
        rk.complete("m", msgs[0])
        sdk.chat.completions.create(model="m", messages=msgs[0])
    res = {}
    for name, fn in [("rewardkit OpenAIChatClient (stdlib http.client)", lambda m: rk.complete("m", m)),
                     ("openai SDK", lambda m: sdk.chat.completions.create(model="m", messages=m).choices[0].message.content)]:
        best = []
        for _rep in range(3):
            t0 = time.perf_counter()
            for m in msgs:
                fn(m)
            best.append(time.perf_counter() - t0)
        res[name] = N / min(best)
    a, b = res.values()
    print(f"| sequential chat calls, loopback fake model: rewardkit | {a:,.0f} calls/s |")
    print(f"| same, openai SDK {openai.__version__} | {b:,.0f} calls/s (ratio rewardkit/SDK {a/b:.2f}x) |")
    batch = SampleBatch(["What is 2+2?"] * N, [f"it is {i}" for i in range(N)], {"answer": ["4"] * N})
    for workers in (1, 4):
        fake.script = [("sleep", 0.02)] * N
        j = LLMJudge(OpenAIChatClient(fake.base_url), model="m", max_workers=workers, cache=JudgeCache(0),
                     limiter=RateLimiter(max_concurrent=workers))
        t0 = time.perf_counter()
        j.verify_batch(batch)
        dt = time.perf_counter() - t0
        print(f"| judge batch of {N}, 20 ms model latency, {workers} worker(s) | {N/dt:,.0f} samples/s |")
    j = LLMJudge(OpenAIChatClient(fake.base_url), model="m")
    j.verify_batch(batch)
    h = fake.hits
    t0 = time.perf_counter()
    j.verify_batch(batch)
    dt = time.perf_counter() - t0
    assert fake.hits == h
    print(f"| judge batch of {N}, all cache hits (LRU) | {N/dt:,.0f} samples/s, 0 server calls |")
    fake.mode = "gullible"
    mk = SampleBatch(["What is 2+2?"] * len(MASTER_KEYS), list(MASTER_KEYS), {"answer": ["4"] * len(MASTER_KEYS)})
    fpr0 = sum(r.value for r in LLMJudge(OpenAIChatClient(fake.base_url), gate=None).verify_batch(mk)) / len(MASTER_KEYS)
    fpr1 = sum(r.value for r in LLMJudge(OpenAIChatClient(fake.base_url)).verify_batch(mk)) / len(MASTER_KEYS)
    print(f"| master-key FPR of an always-YES judge: without gate / with gate | {fpr0:.0%} / {fpr1:.0%} |")

reward = ComposedReward([content_gate(name="gate"), Constant(0.1, "bonus")])
B = 256
body = {"query": [f"Q{i} A: {t}" for i, t in enumerate(texts[:B])], "prompts": [f"Q{i} A: " for i in range(B)],
        "labels": ["x"] * B}
f = as_openrlhf_reward_func(reward, as_tensors=False)
t0 = time.perf_counter()
for _ in range(20):
    f(body["query"], body["prompts"], body["labels"])
inproc = 20 * B / (time.perf_counter() - t0)
with BackgroundServer(create_app(reward)) as srv, httpx.Client() as c:
    c.post(srv.url + "/get_reward", json=body)
    lat = []
    for _ in range(20):
        t0 = time.perf_counter()
        r = c.post(srv.url + "/get_reward", json=body)
        lat.append(time.perf_counter() - t0)
        assert r.status_code == 200
med = statistics.median(lat)
print(f"| /get_reward, batch {B} (gate + constant), HTTP | median {med * 1000:.1f} ms/request = "
      f"{B / med:,.0f} samples/s (in-process: {inproc:,.0f} samples/s) |")
