"""Plain Python functions as reward terms: per sample (``@term``) or per GRPO group (``@group_term``).

An LLM engineer writes a reward the way they think about it, one sample (or one group) at a
time, and rewardkit turns it into a batched :class:`~rewardkit.core.RewardTerm` that composes,
gates, normalises, pickles and exports to TRL, verl, OpenRLHF and the reward server like any
verifier::

    @rewardkit.term
    def correct(completion, answer, info=None) -> float:
        return float(completion.strip() == answer)

Arguments are filled **by name** from the :class:`~rewardkit.core.SampleBatch`:

======================  ==================================================================
argument                value (per sample; a group function gets the list over its group)
======================  ==================================================================
``prompt``              the prompt as text (chat messages joined by newlines)
``completion``          the completion as text (chat: the last message's content)
``prompt_messages``     the prompt as passed (a string or a chat message list)
``completion_messages`` the completion as passed (a string or a chat message list)
``answer``              column ``answer``, else ``gold`` (the reference answer)
``info``                column ``info``, else ``metadata``; ``{}`` when neither exists
``state``               column ``state``; ``{}`` when it does not exist
``group``               the GRPO group id (:meth:`~rewardkit.core.SampleBatch.group_ids`)
``index``               the sample's position in the batch
any other name          the batch column of that name (e.g. ``tests``, ``db_path``)
``**kwargs``            every column not already bound
======================  ==================================================================

A group function may also use the plural names ``prompts``, ``completions``, ``answers``,
``infos``, ``states``, ``indices`` (same values).  An argument whose column is missing takes
its default; without a default the call is a one-line :class:`~rewardkit.core.ConfigError`
naming the argument and the available columns (at build time when ``columns=`` is given).

**Failures.**  A function never crashes a batch and never gives a silent 0.  Each sample gets
a :class:`~rewardkit.verify.VerifyResult` in ``term.last_results`` (``term.error_counts()``
summarises them; the trainer exports log the error fraction): the function's value, or
``fail_value`` (default 0.0) with an error type:

=====================  ===============================================================
error                  when
=====================  ===============================================================
``internal:<Type>``    the function raised ``<Type>`` (the message is kept in ``info``)
``timeout``            it ran longer than the per-item budget ``time_s``
``too_large``          the completion is longer than the budget's ``max_chars`` (not called)
``not_applicable``     it returned ``None`` (TRL then skips the sample for this term)
``bad_return``         it returned a non-number, a non-finite number or a list of the wrong length
=====================  ===============================================================

For a group function the error applies to every sample of the group.

**Async and time.**  An ``async def`` is awaited with at most ``max_concurrency`` calls in
flight (default 16), on one event loop per batch call (its own thread when the caller is
already inside a running loop, e.g. the reward server).  A plain ``def`` runs on
``max_concurrency`` worker threads (default 1).  The per-item budget
(:class:`~rewardkit.verify.budget.Budget`, ``time_s`` default 10 s) cancels an async call;
a sync call that overruns is abandoned (its thread finishes in the background), so give
untrusted CPU-bound work to a sandboxed verifier instead.

**Pickling.**  A term built from a module-level ``def`` pickles it by reference (module and
qualified name; the decorated name resolves to the term and is unwrapped), so the copy in
another process (Ray, ``spawn``, verl's process pool) runs the same code.  A lambda or a
closure cannot be pickled: pickling such a term raises a one-line
:class:`~rewardkit.core.ConfigError`; it still works in-process.

Example:
    >>> from rewardkit.core import SampleBatch
    >>> def correct(completion, answer):
    ...     return float(completion.strip() == answer)
    >>> t = term(correct)
    >>> t(SampleBatch(["2+2?", "2+2?"], ["4", " 5"], {"answer": ["4", "4"]})).tolist()
    [1.0, 0.0]
    >>> def shortest(completions):
    ...     m = min(len(c) for c in completions)
    ...     return [float(len(c) == m) for c in completions]
    >>> group_term(shortest)(SampleBatch(["p", "p", "q"], ["aa", "a", "bbb"])).tolist()
    [0.0, 1.0, 1.0]
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rewardkit.core import ConfigError, RewardTerm, SampleBatch, TransitionBatch, register_term
from rewardkit.core import as_term as _core_as_term
from rewardkit.core.batch import SAMPLE_ARGUMENTS, looks_per_sample
from rewardkit.core.groups import group_members

from .budget import TIMEOUT, Budget
from .result import Verifier, VerifierTerm, VerifyResult

__all__ = [
    "ARGUMENTS",
    "BAD_RETURN",
    "NOT_APPLICABLE",
    "FunctionVerifier",
    "GroupFunctionTerm",
    "SampleFunctionTerm",
    "as_term",
    "group_term",
    "term",
]

#: error type of a function that returned ``None``
NOT_APPLICABLE = "not_applicable"
#: error type of a function that returned something that is not a finite number (or a list of the wrong length)
BAD_RETURN = "bad_return"

#: the default per-item budget of a function term (10 s: a function may call a service)
DEFAULT_BUDGET = Budget(max_chars=1_000_000, time_s=10.0)

#: argument name -> the columns it reads, first present wins (the table above; one place: rewardkit.core.batch)
ARGUMENTS = SAMPLE_ARGUMENTS
#: plural spellings accepted by group functions
_PLURAL = {"prompts": "prompt", "completions": "completion", "answers": "answer", "infos": "info",
           "states": "state", "indices": "index", "groups": "group"}
#: arguments that always have a value ({} when their column is absent)
_EMPTY_DICT = frozenset({"info", "state"})


class FunctionVerifier(Verifier):
    """A plain function as a :class:`~rewardkit.verify.Verifier` (see the module docs for arguments and errors).

    Args:
        fn: ``def`` or ``async def``; per sample returns a number (or ``None``), per group
            (``group=True``) a list of numbers, one per sample of the group.
        group: call ``fn`` once per GRPO group with lists instead of once per sample.
        fail_value: the value of a sample whose call failed (finite).
        max_concurrency: calls in flight at once (default 16 for ``async def``, 1 for ``def``).
        budget: the per-item :class:`~rewardkit.verify.budget.Budget`; ``time_s`` overrides its time.
        columns: the columns the data will have; checked against ``fn``'s required arguments now.

    Example:
        >>> v = FunctionVerifier(lambda completion: len(completion))
        >>> [r.value for r in v.verify_batch(SampleBatch(["p", "p"], ["ab", "abc"]))]
        [2.0, 3.0]
        >>> FunctionVerifier(lambda completion, answer: 1.0, columns=["gold_text"])
        Traceback (most recent call last):
        ...
        rewardkit.core.errors.ConfigError: term '<lambda>': argument 'answer': no column 'answer' or 'gold' \
(have: gold_text); expected a batch column for every argument without a default
    """

    def __init__(self, fn: Callable[..., Any], *, group: bool = False, fail_value: float = 0.0,
                 max_concurrency: int | None = None, budget: Budget | None = None, time_s: float | None = None,
                 columns: Sequence[str] | None = None, name: str | None = None):
        if not callable(fn):
            raise ConfigError("fn", f"got {type(fn).__name__}", "a function")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", None) or "function"
        self.group = bool(group)
        if isinstance(fail_value, bool) or not isinstance(fail_value, (int, float)) or not math.isfinite(fail_value):
            raise ConfigError("fail_value", f"got {fail_value!r}", "a finite number")
        self.fail_value = float(fail_value)
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)
        if max_concurrency is None:
            max_concurrency = 16 if self.is_async else 1
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigError("max_concurrency", f"got {max_concurrency!r}", "a positive int")
        self.max_concurrency = max_concurrency
        budget = budget or DEFAULT_BUDGET
        self.budget = budget if time_s is None else Budget(budget.max_chars, time_s, budget.memory_mb)
        self.params, self.var_kw = _signature(fn, self.name, self.group)
        # the columns of required arguments: a row where all are None is "not applicable" to the trainer exports
        self.reference_columns = tuple(sorted({c for p, req in self.params.items() if req
                                               for c in _sources(p, self.group)}))
        if columns is not None:
            if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
                raise ConfigError("columns", f"got {columns!r}", "a list of column names")
            for p, required in self.params.items():
                if required:
                    self._source_of(p, set(columns))

    # -- argument binding -------------------------------------------------------------------
    def _source_of(self, param: str, have: set[str]) -> str | None:
        """The column ``param`` reads (``None``: not a column or an always-present default)."""
        base = _PLURAL.get(param, param) if self.group else param
        if base in ARGUMENTS:
            cols = ARGUMENTS[base]
            if not cols:
                return None
            for c in cols:
                if c in have:
                    return c
            if base in _EMPTY_DICT or not self.params[param]:
                return None
            raise _missing(self.name, param, cols, have)
        if base in have:
            return base
        if not self.params[param]:
            return None
        raise _missing(self.name, param, (base,), have)

    def _arguments(self, batch: SampleBatch, texts: list[str]) -> list[dict[str, Any]]:
        """The keyword arguments of each sample (a group function zips them per group); ``texts``: the
        batch's :meth:`~rewardkit.core.SampleBatch.completion_texts`, computed once by the caller."""
        n = len(batch)
        have = set(batch.columns)
        cols: dict[str, Sequence[Any]] = {}
        for p in self.params:
            base = _PLURAL.get(p, p) if self.group else p
            src = self._source_of(p, have)
            if src is not None:
                cols[p] = batch.columns[src]
            elif base == "prompt":
                cols[p] = batch.prompt_texts()
            elif base == "completion":
                cols[p] = texts
            elif base == "prompt_messages":
                cols[p] = list(batch.prompts)
            elif base == "completion_messages":
                cols[p] = list(batch.completions)
            elif base == "group":
                cols[p] = batch.group_ids()
            elif base == "index":
                cols[p] = list(range(n))
            elif base in _EMPTY_DICT:
                cols[p] = [{} for _ in range(n)]
        if self.var_kw:
            bound = {s for p in self.params for s in _sources(p, self.group)}
            for c, v in batch.columns.items():
                if c not in bound and c not in self.params:
                    cols[c] = v
        return [{k: v[i] for k, v in cols.items()} for i in range(n)]

    # -- scoring ----------------------------------------------------------------------------
    def verify(self, completion: str, **references: Any) -> VerifyResult:
        """Score one sample whose completion is ``completion`` and whose columns are ``references``."""
        cols = {k: [v] for k, v in references.items()}
        return self.verify_batch(SampleBatch([""], [completion], cols))[0]

    def verify_batch(self, batch: SampleBatch) -> list[VerifyResult]:
        n = len(batch)
        if n == 0:
            return []
        texts = batch.completion_texts()
        kwargs = self._arguments(batch, texts)
        out: list[VerifyResult | None] = [None] * n
        if self.group:
            jobs = [[int(i) for i in idx] for idx in group_members(batch.group_index())]
        else:
            jobs = []
            for i, text in enumerate(texts):
                big = self.budget.too_large(text, self.fail_value)
                if big is not None:
                    out[i] = big
                else:
                    jobs.append([i])
        results = _run_batch(self, jobs, kwargs)
        for idx, (value, error, message, latency) in zip(jobs, results, strict=True):
            if error is None and self.group:
                value, error, message = _group_values(value, len(idx))
            for k, i in enumerate(idx):
                v = value[k] if (self.group and error is None) else value
                out[i] = _result(v, error, message, latency, self.fail_value)
        return [r if r is not None else VerifyResult(self.fail_value, error="internal:missing") for r in out]

    # -- pickling ---------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["fn"] = _FunctionRef.of(self.fn, self.name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        fn = state["fn"]
        state["fn"] = fn.resolve() if isinstance(fn, _FunctionRef) else fn
        self.__dict__.update(state)


class SampleFunctionTerm(VerifierTerm):
    """The term of a per-sample function (what :func:`term` returns).

    Called with a :class:`~rewardkit.core.SampleBatch` it scores the batch; called with
    anything else it is the original function, so the decorated name stays unit-testable.

    Example:
        >>> @term
        ... def short(completion):
        ...     return float(len(completion) < 5)
        >>> short("abc"), short(SampleBatch(["p"], ["abcdef"])).tolist()
        (1.0, [0.0])
    """

    batch_kind = "sample"
    verifier: FunctionVerifier

    def __init__(self, verifier: FunctionVerifier, name: str | None = None):
        super().__init__(verifier, name)
        functools.update_wrapper(self, verifier.fn, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and isinstance(args[0], (SampleBatch, TransitionBatch)):
            return super().__call__(args[0])
        return self.verifier.fn(*args, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        skip = {"__wrapped__", *functools.WRAPPER_ASSIGNMENTS}
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        functools.update_wrapper(self, self.verifier.fn, updated=())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, fn={getattr(self.verifier.fn, '__qualname__', '?')})"


class GroupFunctionTerm(SampleFunctionTerm):
    """The term of a group function (what :func:`group_term` returns).

    Example:
        >>> @group_term
        ... def rank(completions):
        ...     return [float(sorted(completions).index(c)) for c in completions]
        >>> rank(SampleBatch(["p", "p"], ["b", "a"])).tolist()
        [1.0, 0.0]
    """


def term(fn: Callable[..., Any] | None = None, *, name: str | None = None, fail_value: float = 0.0,
         max_concurrency: int | None = None, time_s: float | None = None, budget: Budget | None = None,
         columns: Sequence[str] | None = None, register: bool | str = False) -> Any:
    """Decorator: a per-sample function ``fn(completion, answer, ...) -> float`` as a batched term.

    Usable bare (``@term``) or with options (``@term(name="correct", max_concurrency=8)``).
    ``register=True`` (or a type name) also registers it as a term type, so a YAML config
    that lists this module under ``plugins:`` can name it (``type: correct``).  See the
    module docs for the argument table, errors, async, budgets and pickling.

    Example:
        >>> from rewardkit.core import build_reward
        >>> @term(register="doc_exact", fail_value=-1.0)
        ... def exact(completion, answer):
        ...     return float(int(completion) == int(answer))
        >>> r = build_reward({"terms": [{"type": "doc_exact", "name": "exact"}]})
        >>> r(SampleBatch(["q", "q"], ["4", "four"], {"answer": ["4", "4"]})).tolist()
        [1.0, -1.0]
        >>> r.components[0].term.error_counts()
        {'internal:ValueError': 1}
    """
    opts = {"fail_value": fail_value, "max_concurrency": max_concurrency, "time_s": time_s, "budget": budget,
            "columns": columns}
    return _decorate(fn, name, register, False, opts)


def group_term(fn: Callable[..., Any] | None = None, *, name: str | None = None, fail_value: float = 0.0,
               max_concurrency: int | None = None, time_s: float | None = None, budget: Budget | None = None,
               columns: Sequence[str] | None = None, register: bool | str = False) -> Any:
    """Decorator: a group function ``fn(completions, answers, ...) -> list[float]`` as a batched term.

    The function is called once per GRPO group (:meth:`~rewardkit.core.SampleBatch.group_ids`:
    the ``group`` of the batch, else its ``group`` column, else repeated prompts) with one list
    per argument, in batch order, and returns one value per sample of the group.  Options as in
    :func:`term`; the time budget applies per group call.

    Example:
        >>> @group_term
        ... def agree(answers):
        ...     return [answers.count(a) / len(answers) for a in answers]
        >>> agree(SampleBatch(["p"] * 3, ["", "", ""], {"answer": ["4", "4", "5"]}, group=[0, 0, 0])).round(3).tolist()
        [0.667, 0.667, 0.333]
    """
    opts = {"fail_value": fail_value, "max_concurrency": max_concurrency, "time_s": time_s, "budget": budget,
            "columns": columns}
    return _decorate(fn, name, register, True, opts)


def as_term(obj: Any, name: str | None = None, **options: Any) -> RewardTerm:
    """Any reward as a term: a term as it is, a per-sample function as a :class:`SampleFunctionTerm`.

    A callable is read as a *per-sample* function when ``options`` are given or when one of
    its arguments is a name of the argument table (``completion``, ``answer`` …) and none is
    called ``batch``; otherwise it is a batch function ``fn(batch) -> array``
    (:func:`rewardkit.core.as_term`).  Use :func:`term` to force the per-sample reading.

    Example:
        >>> as_term(lambda completion: len(completion), "n_chars")(SampleBatch(["p"], ["abc"])).tolist()
        [3.0]
        >>> type(as_term(lambda b: [1.0] * len(b), "one")).__name__
        'FunctionTerm'
    """
    if isinstance(obj, RewardTerm) or not callable(obj):
        if options:
            raise ConfigError("as_term", f"options {sorted(options)} given for {type(obj).__name__}",
                              "options only with a plain function")
        return _core_as_term(obj, name)
    if options or looks_per_sample(obj):
        return term(obj, name=name, **options)
    return _core_as_term(obj, name)


# -- helpers ---------------------------------------------------------------------------------

def _decorate(fn: Callable[..., Any] | None, name: str | None, register: bool | str, group: bool,
              opts: dict[str, Any]) -> Any:
    def make(f: Callable[..., Any]) -> SampleFunctionTerm:
        cls = GroupFunctionTerm if group else SampleFunctionTerm
        t = cls(FunctionVerifier(f, group=group, name=name, **opts), name)
        if register:
            type_name = register if isinstance(register, str) else t.name
            register_term(type_name, _TermFactory(f, group, opts, type_name), batch_kind="sample")
        return t
    return make(fn) if fn is not None else make


class _TermFactory:
    """The registered factory of a decorated function: a fresh term per config entry."""

    def __init__(self, fn: Callable[..., Any], group: bool, opts: dict[str, Any], type_name: str):
        self.fn, self.group, self.opts, self.type_name = fn, group, opts, type_name
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__qualname__ = getattr(fn, "__qualname__", type_name)
        self.__doc__ = (fn.__doc__ or "").strip() or f"The function {self.__qualname__} as a reward term."

    def __call__(self, name: str | None = None, fail_value: float | None = None, max_concurrency: int | None = None,
                 time_s: float | None = None) -> SampleFunctionTerm:
        opts = dict(self.opts)
        for k, v in (("fail_value", fail_value), ("max_concurrency", max_concurrency), ("time_s", time_s)):
            if v is not None:
                opts[k] = v
        cls = GroupFunctionTerm if self.group else SampleFunctionTerm
        return cls(FunctionVerifier(self.fn, group=self.group, name=name or self.type_name, **opts), name)


def _signature(fn: Callable[..., Any], name: str, group: bool) -> tuple[dict[str, bool], bool]:
    """``{argument: required}`` of ``fn`` and whether it takes ``**kwargs``; a ConfigError for ``*args``."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ConfigError(f"term '{name}'", "has no inspectable signature", "a Python function") from None
    params: dict[str, bool] = {}
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            raise ConfigError(f"term '{name}': argument '{p.name}'", "is positional-only or *args",
                              "named arguments (filled by name from the batch)")
        else:
            params[p.name] = p.default is p.empty
    if not params and not var_kw:
        raise ConfigError(f"term '{name}'", "takes no arguments", "arguments named after batch columns, e.g. completion")
    return params, var_kw


def _sources(param: str, group: bool) -> tuple[str, ...]:
    base = _PLURAL.get(param, param) if group else param
    return ARGUMENTS[base] if base in ARGUMENTS else (base,)


def _missing(name: str, param: str, cols: Sequence[str], have: set[str]) -> ConfigError:
    want = " or ".join(repr(c) for c in cols)
    return ConfigError(f"term '{name}': argument '{param}'",
                       f"no column {want} (have: {', '.join(sorted(have)) or 'none'})",
                       "a batch column for every argument without a default")


_Outcome = tuple[Any, "str | None", "str | None", float]


def _run_batch(v: FunctionVerifier, jobs: list[list[int]], kwargs: list[dict[str, Any]]) -> list[_Outcome]:
    """Call ``v.fn`` for every job: a ``def`` on worker threads, an ``async def`` on one event loop."""
    if not jobs:
        return []

    def args_of(idx: list[int]) -> dict[str, Any]:
        if not v.group:
            return kwargs[idx[0]]
        return {k: [kwargs[i][k] for i in idx] for k in kwargs[idx[0]]}

    calls = [args_of(idx) for idx in jobs]
    if not v.is_async:
        return _ThreadRun(v, calls).run()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_gather(v, calls))
    box: dict[str, Any] = {}

    def runner() -> None:  # a loop is already running in this thread: ours gets a thread of its own
        try:
            box["out"] = asyncio.run(_gather(v, calls))
        except BaseException as e:  # re-raised in the caller's thread
            box["err"] = e

    th = threading.Thread(target=runner, name=f"rewardkit-term-{v.name}", daemon=True)
    th.start()
    th.join()
    if "err" in box:
        raise box["err"]
    out: list[_Outcome] = box["out"]
    return out


def _call(fn: Callable[..., Any], kw: dict[str, Any]) -> _Outcome:
    t0 = time.perf_counter()
    try:
        return fn(**kw), None, None, time.perf_counter() - t0
    except Exception as e:  # a user function never crashes the batch
        return None, f"internal:{type(e).__name__}", str(e)[:500], time.perf_counter() - t0


_TIMEOUT = getattr(asyncio, "timeout", None)


async def _gather(v: FunctionVerifier, calls: list[dict[str, Any]]) -> list[_Outcome]:
    sem = asyncio.Semaphore(v.max_concurrency)

    async def one(kw: dict[str, Any]) -> _Outcome:
        async with sem:
            t0 = time.perf_counter()
            try:
                if _TIMEOUT is not None:  # Python >= 3.11: no extra task per call
                    async with _TIMEOUT(v.budget.time_s):
                        value = await v.fn(**kw)
                else:
                    value = await asyncio.wait_for(v.fn(**kw), v.budget.time_s)
                return value, None, None, time.perf_counter() - t0
            except (asyncio.TimeoutError, TimeoutError):
                return None, TIMEOUT, f"took longer than time_s={v.budget.time_s}", time.perf_counter() - t0
            except Exception as e:  # a user function never crashes the batch
                return None, f"internal:{type(e).__name__}", str(e)[:500], time.perf_counter() - t0

    return list(await asyncio.gather(*(one(kw) for kw in calls)))


class _ThreadRun:
    """Sync calls on ``max_concurrency`` worker threads, each call under the per-item deadline.

    Workers take the next call from a shared counter.  The caller sleeps until the earliest
    deadline of a running call; a call past it gets ``timeout``, its worker is abandoned (it
    finishes in the background and its result is dropped) and a fresh worker takes its place.
    """

    def __init__(self, v: FunctionVerifier, calls: list[dict[str, Any]]):
        self.fn, self.calls, self.time_s, self.name = v.fn, calls, v.budget.time_s, v.name
        self.out: list[_Outcome | None] = [None] * len(calls)
        self.running: dict[int, tuple[int, float]] = {}   # worker id -> (call index, start time)
        self.abandoned: set[int] = set()
        self.next = 0
        self.left = len(calls)
        self.cond = threading.Condition()
        self.workers = 0
        self.width = min(v.max_concurrency, len(calls))

    def _spawn(self) -> None:
        wid = self.workers
        self.workers += 1
        threading.Thread(target=self._work, args=(wid,), name=f"rewardkit-{self.name}-{wid}", daemon=True).start()

    def _work(self, wid: int) -> None:
        while True:
            with self.cond:
                if wid in self.abandoned or self.next >= len(self.calls):
                    self.running.pop(wid, None)
                    return
                i = self.next
                self.next += 1
                self.running[wid] = (i, time.monotonic())
            res = _call(self.fn, self.calls[i])
            with self.cond:
                if wid in self.abandoned:
                    return
                self.running.pop(wid, None)
                self.out[i] = res
                self.left -= 1
                if self.left == 0:
                    self.cond.notify_all()
                    return

    def run(self) -> list[_Outcome]:
        with self.cond:
            for _ in range(self.width):
                self._spawn()
            while self.left:
                now = time.monotonic()
                late = [(wid, i, t0) for wid, (i, t0) in self.running.items() if now - t0 >= self.time_s]
                for wid, i, t0 in late:
                    self.abandoned.add(wid)
                    del self.running[wid]
                    self.out[i] = (None, TIMEOUT, f"took longer than time_s={self.time_s}", now - t0)
                    self.left -= 1
                    if self.next < len(self.calls):
                        self._spawn()
                if not self.left:
                    break
                starts = [t0 for _, t0 in self.running.values()]
                wait = (min(starts) + self.time_s - now) if starts else self.time_s
                self.cond.wait(max(wait, 0.0) + 1e-3)
        return [o if o is not None else (None, "internal:missing", None, 0.0) for o in self.out]


def _group_values(value: Any, size: int) -> tuple[Any, str | None, str | None]:
    if isinstance(value, np.ndarray):
        value = value.reshape(-1).tolist()
    if not isinstance(value, (list, tuple)) or len(value) != size:
        got = f"a list of {len(value)}" if isinstance(value, (list, tuple)) else type(value).__name__
        return None, BAD_RETURN, f"returned {got} for a group of {size}"
    return list(value), None, None


def _result(value: Any, error: str | None, message: str | None, latency: float, fail: float) -> VerifyResult:
    if error is not None:
        return VerifyResult(fail, error=error, latency=latency, info={"message": message or ""})
    if isinstance(value, VerifyResult):
        return value
    if value is None:
        return VerifyResult(fail, error=NOT_APPLICABLE, latency=latency)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return VerifyResult(fail, error=BAD_RETURN, latency=latency,
                            info={"message": f"returned {type(value).__name__}; expected a number"})
    if not math.isfinite(x):
        return VerifyResult(fail, error=BAD_RETURN, latency=latency, info={"message": f"returned {x}"})
    return VerifyResult(x, latency=latency)


class _FunctionRef:
    """A module-level function pickled by reference (module, qualified name)."""

    def __init__(self, module: str, qualname: str):
        self.module, self.qualname = module, qualname

    @classmethod
    def of(cls, fn: Any, name: str) -> Any:
        mod, qn = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
        if not mod or not qn or "<lambda>" in qn or "<locals>" in qn:
            raise ConfigError(f"term '{name}'", f"wraps {qn or type(fn).__name__}, a lambda or closure that "
                              "cannot be pickled", "a function defined with def at module level")
        return cls(mod, qn)

    def resolve(self) -> Any:
        obj: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, SampleFunctionTerm):  # the decorated name is the term: unwrap it
            obj = obj.verifier.fn
        return obj

