import threading
import time

from rewardkit.verify.math.equivalence import MathEquivalence
from rewardkit.verify.math.pool import WorkerPool


def test_symbolic_cases_go_to_math_verify(symbolic_eq):
    v = symbolic_eq.compare("\\max(x, 2)", "\\max(2, x)")  # \max: not read by the fast path
    assert v.equal and v.method == "symbolic"
    v = symbolic_eq.compare("\\max(x, 2)", "\\max(3, x)")
    assert not v.equal and v.method == "symbolic"
    # rational-function and trigonometric identities and equations are decided by the fast path
    assert symbolic_eq.compare("\\frac{x}{x+1}", "1-\\frac{1}{x+1}").method == "numeric"
    assert symbolic_eq.compare("x^2+y^2=1", "y^2+x^2=1").method == "numeric"
    v = symbolic_eq.compare("\\sin^2 x + \\cos^2 x", "2")
    assert not v.equal and v.method == "numeric"
    assert symbolic_eq.compare("\\{1,1,2\\}", "\\{2,1\\}").equal
    assert symbolic_eq.compare("x^2+2x+1", "(x+1)^2").method == "numeric"


def test_group_decides_duplicates_once_and_caches(symbolic_eq):
    before = dict(symbolic_eq.stats)
    gold = "\\max(y, 2)"  # \max: the symbolic step decides it
    preds = ["\\max(2, y)"] * 6 + ["\\max(2,y)", "\\max(3, y)"]
    vs = symbolic_eq.compare_group(gold, preds)
    assert [v.equal for v in vs] == [True] * 7 + [False]
    assert symbolic_eq.stats["symbolic"] - before["symbolic"] == 3  # 3 distinct undecided answers, not 8
    again = symbolic_eq.compare(gold, "\\max(2, y)")
    assert again.equal and again.cached


def test_fast_path_never_starts_the_pool():
    eq = MathEquivalence(symbolic=True)
    eq._pool = None
    assert eq.compare("3/4", "0.75").method == "numeric"
    assert eq._pool is None


def test_works_in_a_worker_thread_and_pathological_input_times_out(symbolic_eq):
    out = {}

    def job():
        t = time.perf_counter()
        out["hard"] = symbolic_eq.compare("9^{9^{9^{9}}}", "8^{8^{8^{8}}}")
        out["t"] = time.perf_counter() - t
        out["easy"] = symbolic_eq.compare("\\sin^2 x + \\cos^2 x", "1")

    th = threading.Thread(target=job)
    th.start()
    th.join(30)
    assert not th.is_alive()
    assert out["hard"].method == "timeout" and not out["hard"].equal and out["hard"].error == "timeout"
    assert out["t"] < symbolic_eq.deadline + 1.0
    assert out["easy"].equal  # the replacement worker serves the next call
    assert symbolic_eq.pool.timeouts >= 1


def test_pool_from_many_threads_and_timeout_recycles_worker():
    with WorkerPool("rewardkit.verify.math.pool:sleep_then_echo", size=2, memory_limit_mb=None) as pool:
        res = {}

        def job(k):
            res[k] = pool.run([(0.0, k), (0.0, k + 100)], deadline=10)

        ts = [threading.Thread(target=job, args=(k,)) for k in range(6)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        assert res == {k: [("ok", k), ("ok", k + 100)] for k in range(6)}
        t0 = time.perf_counter()
        r = pool.run([(60.0, "slow"), (0.0, "after")], deadline=0.5)
        assert r == [("timeout", 0.5), ("ok", "after")]
        assert time.perf_counter() - t0 < 20  # killed at 0.5 s, not after the 60 s sleep
        assert pool.restarts == 1


def test_pool_reports_handler_errors():
    with WorkerPool("rewardkit.verify.math.pool:sleep_then_echo", size=1, memory_limit_mb=None) as pool:
        (status, msg), = pool.run(["not a pair"], deadline=10)
        assert status == "error" and "ValueError" in msg
