"""Sequential chat calls to the loopback fake model: rewardkit's HTTP client vs a plain httpx.Client.

rewardkit.verify.http's client (stdlib http.client, keep-alive, one watchdog per attempt)
replaced httpx inside OpenAIChatClient; this checks that the hard per-attempt deadline
costs no throughput.  Run: PYTHONPATH=src python bench/llm/judge_client.py
"""

import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "verify_judge"))
from fake_openai import FakeOpenAI

from rewardkit.verify.judge import OpenAIChatClient

N = 300
with FakeOpenAI() as fake:
    msgs = [[{"role": "user", "content": f"REFERENCE ANSWER:\n4\n\nRESPONSE:\nit is {i}\n\nReply"}] for i in range(N)]
    rk = OpenAIChatClient(fake.base_url)
    hx = httpx.Client(timeout=30)

    def via_httpx(m):
        r = hx.post(fake.base_url + "/chat/completions", json={"model": "m", "messages": m})
        return r.json()["choices"][0]["message"]["content"]

    for _ in range(10):
        rk.complete("m", msgs[0])
        via_httpx(msgs[0])
    for name, fn in [("rewardkit OpenAIChatClient (verify.http)", lambda m: rk.complete("m", m)),
                     ("httpx.Client", via_httpx)]:
        best = []
        for _ in range(3):
            t0 = time.perf_counter()
            for m in msgs:
                fn(m)
            best.append(time.perf_counter() - t0)
        print(f"| sequential chat calls, {name} | {N / min(best):,.0f} calls/s |")
