"""Answer equivalence: fast exact/numeric pre-pass, then math-verify in a worker pool.

The pipeline for one ``(gold, pred)`` pair:

1. **verdict cache** – GRPO samples G completions per prompt and many of them end in
   the same answer string; a verdict is computed once per ``(gold, pred)``.
2. **fast path** (:func:`~rewardkit.verify.math.exact.exact_equal`) – an own parser from
   the answer grammar (LaTeX and plain/Python syntax) to exact values: rationals, radicals,
   π, e, complex numbers, intervals, unions, relations, sets, tuples, matrices, non-decimal
   literals; free variables by randomised identity testing (false-positive bound < 1e-9 per
   pair).  It honours the comparison options (:class:`~rewardkit.verify.math.exact.CompareOptions`:
   ``form``, ``tolerance``, ``sig_figs``, ``locale``, ``precision``).  Forms it does not read
   go to the older pre-pass (:func:`~rewardkit.verify.math.numeric.fast_equal`: units, …);
   both are three-valued (True / False / undecided).
3. **symbolic** – undecided pairs go to math-verify (``parse`` + ``verify``) inside a
   persistent :class:`~rewardkit.verify.math.pool.WorkerPool` with a per-pair
   deadline that holds in any thread.  Each worker caches the parsed gold, so a
   gold is parsed once per group, not once per completion.

Example:
    >>> eq = MathEquivalence(symbolic=False)
    >>> eq.compare("\\\\frac{3}{4}", "0.75").equal, eq.compare("3", "4").method
    (True, 'numeric')
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from rewardkit.core.cache import LRUCache
from rewardkit.core.errors import ConfigError
from rewardkit.core.pickling import RebuildOnUnpickle

from .exact import CompareOptions, exact_equal
from .numeric import fast_equal, normalize_answer
from .pool import WorkerPool, get_pool

__all__ = ["SYMBOLIC_TARGET", "MathEquivalence", "Verdict"]

#: the pool handler that runs math-verify
SYMBOLIC_TARGET = "rewardkit.verify.math.symbolic:verify_pair"


@dataclass(frozen=True)
class Verdict:
    """Outcome of one comparison.

    Attributes:
        equal: whether the answers are judged equivalent.
        method: ``"string"``, ``"numeric"``, ``"symbolic"``, ``"undecided"`` (symbolic
            step disabled) or the failure kind ``"timeout"``, ``"gold_unparsed"``,
            ``"pred_unparsed"``, ``"crashed"``, ``"error"``.
        cached: the verdict came from the verdict cache.
    """

    equal: bool
    method: str
    cached: bool = False

    @property
    def error(self) -> str | None:
        """A :class:`~rewardkit.verify.VerifyResult` error type, or None for a clean verdict."""
        return {"timeout": "timeout", "gold_unparsed": "gold_parse_error", "crashed": "internal:crashed",
                "error": "internal:symbolic"}.get(self.method)


class MathEquivalence(RebuildOnUnpickle):
    """Decide whether predicted answers equal a gold answer.

    Args:
        symbolic: run undecided pairs through math-verify (in worker processes).
        workers: number of worker processes for the symbolic step.
        deadline: seconds allowed per symbolic comparison (default 1.0: the per-sample
            budget is 2 s, and workers are warmed up before they take work, so this times
            only the comparison; legitimate answers take milliseconds to ~0.3 s); a worker
            that exceeds it is killed and replaced and the pair is reported as ``"timeout"``.
        float_rounding: digits math-verify rounds floats to (its default is 6).
        cache_size: verdicts kept in the ``(gold, pred)`` LRU cache (0 disables it).
        pool: an existing :class:`WorkerPool` (``SYMBOLIC_TARGET``) to share.
        options: a :class:`~rewardkit.verify.math.exact.CompareOptions` (``form``, ``tolerance``,
            ``sig_figs``, ``locale``, ``precision``); the default compares values exactly.
            The options are applied by the fast path; an answer it cannot read goes to
            math-verify, which compares values only.
    """

    def __init__(self, symbolic: bool = True, workers: int = 1, deadline: float = 1.0,
                 float_rounding: int = 6, cache_size: int = 65536, pool: WorkerPool | None = None,
                 options: CompareOptions | None = None):
        if not (isinstance(deadline, (int, float)) and deadline > 0):
            raise ConfigError("deadline", f"got {deadline!r}", "a positive number of seconds")
        if not (isinstance(workers, int) and workers >= 1):
            raise ConfigError("workers", f"got {workers!r}", "a positive int")
        self.symbolic = bool(symbolic)
        self.workers = workers
        self.deadline = float(deadline)
        self.float_rounding = int(float_rounding)
        self.cache_size = int(cache_size)
        self._pool = pool
        if options is not None and not isinstance(options, CompareOptions):
            raise ConfigError("options", f"got {type(options).__name__}", "a CompareOptions")
        self.options = options or CompareOptions()
        self._cache: LRUCache[tuple[str, str], Verdict] = LRUCache(self.cache_size)
        self._lock = threading.Lock()
        self.stats = {"cache": 0, "string": 0, "exact": 0, "numeric": 0, "symbolic": 0, "timeout": 0}

    # pickling (Ray, spawn, verl's prime manager) drops the lock, the cache and the worker pool
    # (the LRUCache pickles itself)
    _transient: ClassVar[dict[str, Callable[[], Any]]] = {"_lock": threading.Lock, "_pool": lambda: None}

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = get_pool(SYMBOLIC_TARGET, self.workers)
        return self._pool

    def warm_up(self) -> None:
        """Start the worker processes and run one symbolic comparison on each, so the
        first real batch does not pay for interpreter start-up and sympy's first-call costs."""
        if not self.symbolic:
            return
        self.pool.warm_up()
        with ThreadPoolExecutor(self.workers) as ex:
            list(ex.map(lambda _: self.pool.run([("\\frac{x}{x+1}", "1-\\frac{1}{x+1}", self.float_rounding)],
                                                deadline=max(self.deadline, 60.0)), range(self.workers)))

    # -- cache ---------------------------------------------------------------------
    def _cached(self, key: tuple[str, str]) -> Verdict | None:
        v = self._cache.get(key)
        if v is not None:
            with self._lock:
                self.stats["cache"] += 1
        return v

    def _store(self, key: tuple[str, str], v: Verdict) -> None:
        self._cache.put(key, v)

    # -- the API ---------------------------------------------------------------------
    def compare(self, gold: str, pred: str) -> Verdict:
        """One pair (see :meth:`compare_group`)."""
        return self.compare_group(gold, [pred])[0]

    def compare_group(self, gold: str, preds: Sequence[str]) -> list[Verdict]:
        """Compare many predictions with one gold (a GRPO group): the gold is normalised
        once, duplicates are decided once and all undecided pairs go to one worker."""
        gold = str(gold)
        g_norm = normalize_answer(gold)
        out: list[Verdict | None] = [None] * len(preds)
        todo: dict[str, list[int]] = {}
        for i, p in enumerate(preds):
            p = str(p)
            key = (gold, p)
            hit = self._cached(key)
            if hit is not None:
                out[i] = Verdict(hit.equal, hit.method, cached=True)
                continue
            if p in todo:
                todo[p].append(i)
                continue
            p_norm = normalize_answer(p)
            v: Verdict | None
            if g_norm and g_norm == p_norm:
                v, path = Verdict(True, "string"), "string"
            else:
                fast = exact_equal(gold, p, self.options)
                path = "exact"
                if fast is None:
                    fast, path = fast_equal(g_norm, p_norm, normalized=True), "numeric"
                v = None if fast is None else Verdict(fast, "numeric")
            if v is not None:
                self.stats[path] += 1
                self._store(key, v)
                out[i] = v
            else:
                todo[p] = [i]
        if todo:
            uniq = list(todo)
            verdicts = self._symbolic(gold, uniq)
            for p, v in zip(uniq, verdicts, strict=False):
                if v.method in ("symbolic", "timeout", "gold_unparsed", "pred_unparsed", "undecided"):
                    self._store((gold, p), v)
                for i in todo[p]:
                    out[i] = v
        return [v for v in out]  # type: ignore[misc]

    def compare_many(self, golds: Sequence[str], preds: Sequence[str]) -> list[Verdict]:
        """Pairs with mixed golds: grouped by gold, groups spread over the workers."""
        if len(golds) != len(preds):
            raise ConfigError("preds", f"has {len(preds)} entries for {len(golds)} golds", "one per gold")
        groups: dict[str, list[int]] = {}
        for i, g in enumerate(golds):
            groups.setdefault(str(g), []).append(i)
        out: list[Verdict | None] = [None] * len(preds)

        def run(item: tuple[str, list[int]]) -> None:
            g, idx = item
            for i, v in zip(idx, self.compare_group(g, [preds[i] for i in idx]), strict=False):
                out[i] = v

        items = list(groups.items())
        if self.symbolic and self.workers > 1 and len(items) > 1:
            with ThreadPoolExecutor(self.workers) as ex:
                list(ex.map(run, items))
        else:
            for it in items:
                run(it)
        return out  # type: ignore[return-value]

    def _symbolic(self, gold: str, preds: list[str]) -> list[Verdict]:
        if not self.symbolic:
            return [Verdict(False, "undecided") for _ in preds]
        replies = self.pool.run([(gold, p, self.float_rounding) for p in preds], deadline=self.deadline)
        out = []
        for status, value in replies:
            if status == "ok":
                eq, g_ok, p_ok = value
                method = "symbolic" if g_ok and p_ok else ("gold_unparsed" if not g_ok else "pred_unparsed")
                v = Verdict(bool(eq), method)
            else:
                v = Verdict(False, status if status in ("timeout", "crashed") else "error")
            self.stats["symbolic" if v.method == "symbolic" else "timeout" if v.method == "timeout" else "symbolic"] += 1
            out.append(v)
        return out
