"""Reward-server latency under load, alone and with one hostile request in the mix (issue #10, item 6).

Starts `rewardkit serve` in a subprocess on loopback (math_answer + content_gate + format terms), drives
`--clients` concurrent clients that each send batches of `--batch` normal samples back to back for
`--seconds` per phase, and reports p50/p99 latency of those normal requests in three phases:

- baseline: normal requests only;
- items: one extra request with 500,000 items arrives 1 s into the phase;
- tower: one extra request whose sample is a power tower \\boxed{9^{9^{9^{99}}}} arrives 1 s into the phase.

Target: in each hostile phase, the normal requests' p99 stays below 2x the baseline p99.

    python bench/llm/serve_load.py                        # pool of 4 workers, 2 clients, 8 s per phase
    python bench/llm/serve_load.py --workers 0            # the old design: one in-process reward under a lock
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

CONFIG = """reward:
  name: total
  terms:
    - {type: math_answer, name: math}
    - {type: content_gate, name: gate, weight: 0.0}
    - {type: think_answer_format, name: format, weight: 0.1}
"""
TOWER = "<think>big</think><answer>\\boxed{9^{9^{9^{99}}}}</answer>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cfg: Path, workers: int, max_seconds: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("REWARDKIT_SERVE_TOKEN", None)
    cmd = [sys.executable, "-m", "rewardkit.cli.main", "serve", "--config", str(cfg), "--port", str(port),
           "--workers", str(workers), "--max-seconds", str(max_seconds), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start in 120 s")


def normal_body(batch: int, k: int) -> dict:
    answers = [str(k * batch + i) for i in range(batch)]
    query = [f"Q{a}: what is {a}? <think>easy</think><answer>\\boxed{{{a}}}</answer>" for a in answers]
    return {"query": query, "prompts": [q.split("<think>")[0] for q in query], "labels": answers}


def hostile_body(kind: str) -> dict:
    if kind == "items":
        return {"query": ["x"] * 500_000}
    return {"query": ["Q: " + TOWER], "prompts": ["Q: "], "labels": ["42"]}


def phase(url: str, clients: int, batch: int, seconds: float, hostile: str | None) -> dict:
    lat: list[float] = []
    bad: list[int] = []
    stop = time.monotonic() + seconds
    out: dict = {}

    def client(c: int) -> None:
        with httpx.Client(timeout=120) as h:
            k = 0
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = h.post(url + "/get_reward", json=normal_body(batch, c * 10_000 + k))
                dt = time.perf_counter() - t0
                if r.status_code != 200 or r.json()["rewards"] != [1.1] * batch:
                    bad.append(r.status_code)
                lat.append(dt)
                k += 1

    def attacker() -> None:
        time.sleep(1.0)
        t0 = time.perf_counter()
        r = httpx.post(url + "/get_reward", json=hostile_body(hostile), timeout=120)
        out["hostile"] = (r.status_code, r.json().get("type", "ok"), time.perf_counter() - t0)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    if hostile:
        threads.append(threading.Thread(target=attacker))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 180)
    q = statistics.quantiles(lat, n=100, method="inclusive")
    out.update(n=len(lat), p50=statistics.median(lat), p99=q[98], max=max(lat), bad=len(bad))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    ap.add_argument("--max-seconds", type=float, default=3.0, help="server's per-request scoring cap")
    a = ap.parse_args()
    if not (1 <= a.clients <= 16 and 1.0 <= a.seconds <= 60):
        raise SystemExit("--clients: expected 1..16; --seconds: expected 1..60")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "reward.yaml"
        cfg.write_text(CONFIG)
        proc, url = start_server(cfg, a.workers, a.max_seconds)
        try:
            phase(url, a.clients, a.batch, 2.0, None)                     # warm-up (imports, sympy caches)
            rows = {name: phase(url, a.clients, a.batch, a.seconds, hostile)
                    for name, hostile in (("baseline", None), ("items", "items"), ("tower", "tower"))}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"command: python bench/llm/serve_load.py --workers {a.workers} --clients {a.clients} "
          f"--batch {a.batch} --seconds {a.seconds:g} --max-seconds {a.max_seconds:g}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print("| phase | normal requests | p50 ms | p99 ms | max ms | p99 / baseline p99 | hostile request |")
    print("|---|---|---|---|---|---|---|")
    base = rows["baseline"]["p99"]
    for name, r in rows.items():
        h = r.get("hostile")
        hs = f"{h[0]} {h[1]} after {h[2]:.2f} s" if h else "-"
        print(f"| {name} | {r['n']} ({r['bad']} wrong) | {r['p50'] * 1000:.0f} | {r['p99'] * 1000:.0f} "
              f"| {r['max'] * 1000:.0f} | {r['p99'] / base:.2f}x | {hs} |")


if __name__ == "__main__":
    main()
