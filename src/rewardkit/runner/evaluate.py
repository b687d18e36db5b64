"""``rewardkit eval``: run a model on a task through an OpenAI-compatible endpoint (or re-score saved outputs).

For every prompt of the task, ``n`` completions are requested from ``{base_url}/chat/completions``
(the judge's :class:`~rewardkit.verify.judge.OpenAIChatClient` and the retry policy of
:mod:`rewardkit.verify.http`; request ``j`` of a prompt carries ``seed = seed + j``) and scored with
the task's reward.  Or, with ``outputs``, completions are read from a JSONL file: one object per
line with ``completion`` and either ``index`` (the task row) or the row's columns themselves.

What is stored (the runner's :class:`~rewardkit.runner.store.ResultStore`, ``<out>/results.sqlite``):
one ``runs`` row for the evaluation; per prompt, committed in one transaction as soon as it is
scored, an ``evals`` row (``step`` = prompt index, ``episodes`` = samples, ``return_mean``/``_std``
= total reward, ``success_rate`` = passing fraction, ``length_mean`` = characters, ``wall_s`` = mean
latency), the per-term means in ``term_returns`` (sub-terms such as ``rubric/<criterion>`` too)
and every sample in ``samples``.  A killed evaluation keeps every prompt already scored; a
malformed output line is stored as a sample with the error ``malformed_row`` (at step ``-1 - line``) and
the rest is scored; an exception in the reward becomes ``score_error:<Type>`` for that prompt.

What is reported (:func:`summarize_eval`, also written to ``summary.json``, ``summary.md`` and
``report.html``):

* each term's mean (and the total's) with a 95 % percentile bootstrap interval over prompts
  (Efron, 1979; :mod:`rewardkit.core.bootstrap` over per-prompt means, 1000 resamples, seed 0);
* pass@k for k = 1, 2, 4, ... up to n with the unbiased estimator of Chen et al. (2021)
  (:func:`rewardkit.advantage.pass_at_k`); a sample passes when the ``pass_term`` (default: the
  reward's first term) is at least ``pass_threshold`` (default 1) and its generation succeeded;
* the generation error rate and timeout rate (timeouts and deadlines), each verifier term's
  error rate, and latency percentiles p50/p90/p99 of the generation requests.

A sample whose generation failed is not scored: its term values are NaN (left out of the means)
and it counts as not passing.

Example:
    >>> import tempfile
    >>> from rewardkit.tasks import load_task
    >>> task = load_task("math"); task.rows = task.rows[:2]
    >>> out = tempfile.mkdtemp()
    >>> with open(out + "/o.jsonl", "w") as f:
    ...     _ = f.write('{"index": 0, "completion": "<think>.</think><answer>-48</answer>"}\\n'
    ...                 '{"index": 1, "completion": "205"}\\nnot json\\n')
    >>> s = evaluate(task, out_dir=out, outputs=out + "/o.jsonl", progress=False, report=False)
    >>> s["terms"]["correct"]["mean"], s["pass@k"], s["malformed_rows"]
    (0.5, {'1': 0.5}, 1)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from rewardkit.core import ConfigError

from .files import OutputLock, atomic_write, inside
from .runner import DB_NAME
from .store import ResultStore

__all__ = ["DB_NAME", "evaluate", "read_outputs", "summarize_eval"]

MALFORMED = "malformed_row"
_TIMEOUT_KINDS = ("timeout", "deadline")


# ------------------------------------------------------------------------------------------ inputs
def read_outputs(path: str | os.PathLike, task: Any) -> tuple[list[tuple[dict[str, Any], list[dict[str, Any]]]],
                                                              list[dict[str, Any]]]:
    """Group a JSONL file of saved outputs by prompt: ``([(row, [samples...]), ...], malformed)``.

    A line is ``{"completion": ..., "index": i}`` (row ``i`` of the task) or ``{"completion": ..., <row
    columns>}``; ``latency`` and ``error`` are optional.  Every other line becomes a malformed sample
    (its line number and reason), never an exception.
    """
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    bad: list[dict[str, Any]] = []
    p = Path(path)
    if not p.is_file():
        raise ConfigError("--outputs", f"{str(path)!r} is not a file", "a JSONL file of saved outputs")
    with p.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                bad.append({"line": n, "reason": "not JSON"})
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("completion"), (str, list)):
                bad.append({"line": n, "reason": "no 'completion' string"})
                continue
            if "index" in obj:
                i = obj["index"]
                if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(task.rows):
                    bad.append({"line": n, "reason": f"index {i!r} is not a row of the task"})
                    continue
                row = task.rows[i]
                key = f"i{i}"
            else:
                row = {k: v for k, v in obj.items() if k not in ("completion", "latency", "error", "sample")}
                try:
                    task.prompt(row)
                except ConfigError as e:
                    bad.append({"line": n, "reason": str(e)})
                    continue
                key = json.dumps(row, sort_keys=True, default=str)
            lat = obj.get("latency")
            groups.setdefault(key, (row, []))[1].append(
                {"completion": obj["completion"], "error": obj.get("error") if isinstance(obj.get("error"), str) else None,
                 "latency": float(lat) if isinstance(lat, (int, float)) and not isinstance(lat, bool) else None})
    return list(groups.values()), bad


def _generate(client: Any, model: str, messages: list[dict[str, str]], n: int, seed: int,
              params: Mapping[str, Any], retry: Any) -> list[dict[str, Any]]:
    """``n`` completions of one prompt; a failed request gives an empty completion with its error kind."""
    from rewardkit.verify.http import RequestError, call_with_retry

    out = []
    for j in range(n):
        t0 = time.perf_counter()
        try:
            text = call_with_retry(lambda left, j=j: client.complete(model, messages, timeout=left, seed=seed + j,
                                                                     **params), retry)
            out.append({"completion": text, "error": None, "latency": time.perf_counter() - t0})
        except RequestError as e:
            out.append({"completion": "", "error": f"generation:{e.kind}", "latency": time.perf_counter() - t0})
    return out


# ------------------------------------------------------------------------------------------ scoring
def _score(task: Any, row: Mapping[str, Any], samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Score the samples of one prompt; generation failures are not scored (NaN)."""
    from rewardkit.integrations.trl import score_samples

    ok = [i for i, s in enumerate(samples) if s["error"] is None]
    scored = [dict(s, sample=i, total=float("nan"), terms={}, errors={}) for i, s in enumerate(samples)]
    if not ok:
        return scored
    try:
        batch = task.batch([samples[i]["completion"] for i in ok], [row] * len(ok))
        # the exports' shared core: the result, each verifier term's errors and sub-terms (rubric/<criterion>)
        res = score_samples(task.reward, batch.prompts, batch.completions, batch.columns)
    except Exception as e:  # a broken reward or reference never loses the evaluation
        for i in ok:
            scored[i]["error"] = f"score_error:{type(e).__name__}"
        return scored
    for k, i in enumerate(ok):
        scored[i]["total"] = float(res.result.total[k])
        scored[i]["terms"] = {**{t: float(v[k]) for t, v in res.result.terms.items()},
                              **{t: float(v[k]) for t, v in res.sub_terms.items()}}
        scored[i]["errors"] = {t: e[k] for t, e in res.errors.items() if e[k] is not None}
    return scored


def _nanmean(x: Sequence[float]) -> float | None:
    a = np.asarray(x, dtype=float)
    return float(np.nanmean(a)) if a.size and np.isfinite(a).any() else None


def _passes(s: Mapping[str, Any], term: str, threshold: float) -> bool:
    v = s["terms"].get(term)
    return s.get("error") is None and v is not None and np.isfinite(v) and v >= threshold - 1e-12


def _record(store: ResultStore, run_key: str, step: int, scored: list[dict[str, Any]], pass_term: str,
            threshold: float) -> None:
    terms = sorted({t for s in scored for t in s["terms"]})
    values = {"episodes": len(scored), "return_mean": _nanmean([s["total"] for s in scored]),
              "return_std": float(np.nanstd([s["total"] for s in scored])) if any(
                  np.isfinite(s["total"]) for s in scored) else None,
              "success_rate": float(np.mean([_passes(s, pass_term, threshold) for s in scored])),
              "length_mean": float(np.mean([len(str(s["completion"])) for s in scored])),
              "wall_s": _nanmean([np.nan if s.get("latency") is None else s["latency"] for s in scored])}
    means = {t: _nanmean([s["terms"].get(t, np.nan) for s in scored]) for t in terms}
    store.add_eval(run_key, step, values, {t: v for t, v in means.items() if v is not None}, scored)


# ------------------------------------------------------------------------------------------ summary
def _ks(n: int) -> list[int]:
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    if ks[-1] != n:
        ks.append(n)
    return ks


def summarize_eval(store: ResultStore, run_key: str, pass_term: str, pass_threshold: float = 1.0,
                   n_boot: int = 1000) -> dict[str, Any]:
    """Term means with bootstrap CIs, pass@k, error/timeout rates and latency percentiles of a stored eval run."""
    from rewardkit.advantage import mean_pass_at_k
    from rewardkit.core.bootstrap import bootstrap_means, percentile_interval

    rows = store.samples(run_key)
    good = [s for s in rows if s["step"] >= 0]
    by_prompt: dict[int, list[dict[str, Any]]] = {}
    for s in good:
        by_prompt.setdefault(s["step"], []).append(s)
    names = sorted({t for s in good for t in s["terms"]})

    def ci(per_prompt: list[float]) -> dict[str, Any]:
        v = np.array([x for x in per_prompt if x is not None and np.isfinite(x)], dtype=float)
        if v.size == 0:
            return {"mean": None, "lo": None, "hi": None, "n": 0}
        lo, hi = percentile_interval(bootstrap_means(v, n_boot, np.random.default_rng(0)))
        return {"mean": round(float(v.mean()), 6), "lo": round(lo, 6), "hi": round(hi, 6), "n": int(v.size)}

    def prompt_means(key: Callable[[dict[str, Any]], float]) -> list[float]:
        return [np.nan if (m := _nanmean([key(s) for s in ss])) is None else m for ss in by_prompt.values()]

    terms = {t: ci(prompt_means(lambda s, t=t: s["terms"].get(t, np.nan))) for t in names}
    ns = [len(ss) for ss in by_prompt.values()]
    cs = [sum(_passes(s, pass_term, pass_threshold) for s in ss) for ss in by_prompt.values()]
    n_min = min(ns) if ns else 0
    gen_err = [s["error"] for s in good if s["error"] and s["error"].startswith("generation:")]
    lat = np.array([s["latency"] for s in good if s["latency"] is not None], dtype=float)
    verr: dict[str, float] = {}
    for t in names:
        scored = [s for s in good if t in s["terms"]]
        if scored:
            verr[t] = round(sum(t in s["errors"] for s in scored) / len(scored), 6)
    return {
        "prompts": len(by_prompt), "samples": len(good), "malformed_rows": len(rows) - len(good),
        "total": ci(prompt_means(lambda s: s["total"] if s["total"] is not None else np.nan)),
        "terms": terms,
        "pass_term": pass_term, "pass_threshold": pass_threshold,
        "pass@k": {str(k): round(mean_pass_at_k(ns, cs, k), 6) for k in _ks(n_min)} if n_min else {},
        "error_rate": round(len(gen_err) / len(good), 6) if good else 0.0,
        "timeout_rate": round(sum(e.split(":", 1)[1] in _TIMEOUT_KINDS for e in gen_err) / len(good), 6)
        if good else 0.0,
        "score_error_rate": round(sum(bool(s["error"] and s["error"].startswith("score_error")) for s in good)
                                  / len(good), 6) if good else 0.0,
        "verifier_error_rate": verr,
        "latency_s": {f"p{q}": round(float(np.percentile(lat, q)), 6) for q in (50, 90, 99)} if lat.size else {},
    }


def markdown_summary(s: Mapping[str, Any]) -> str:
    """The summary as a markdown table (printed by the CLI)."""
    def fmt(c: Mapping[str, Any]) -> str:
        return "-" if c["mean"] is None else f"{c['mean']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}]"

    lines = ["| metric | value |", "|---|---|", f"| total | {fmt(s['total'])} |"]
    lines += [f"| {t} | {fmt(c)} |" for t, c in s["terms"].items()]
    lines += [f"| pass@{k} ({s['pass_term']} >= {s['pass_threshold']:g}) | {v:.3f} |" for k, v in s["pass@k"].items()]
    lines += [f"| generation error rate | {s['error_rate']:.3f} |", f"| timeout rate | {s['timeout_rate']:.3f} |"]
    lines += [f"| latency {q} (s) | {v:.3f} |" for q, v in s["latency_s"].items()]
    lines.append(f"| prompts / samples / malformed rows | {s['prompts']} / {s['samples']} / {s['malformed_rows']} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ the run
def _progress(enabled: bool, total: int, label: str) -> Any:
    """A rich progress bar on stderr with the runner's columns (or ``None``)."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    bar.add_task(label, total=total)
    return bar


def _sources(rows: list[dict[str, Any]], outputs: Any, pool: ThreadPoolExecutor | None, inflight: int,
             gen: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Iterator[tuple[int, dict[str, Any],
                                                                                     list[dict[str, Any]]]]:
    """Yield ``(step, row, samples)`` as prompts become ready (generated concurrently, or read from a file)."""
    if outputs is not None:
        groups, _ = outputs
        for i, (row, samples) in enumerate(groups):
            yield i, row, samples
        return
    assert pool is not None
    pending: dict[Future, tuple[int, dict[str, Any]]] = {}
    it = iter(enumerate(rows))
    for i, row in it:
        pending[pool.submit(gen, row)] = (i, row)
        if len(pending) >= inflight:
            break
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for f in done:
            i, row = pending.pop(f)
            yield i, row, f.result()
            nxt = next(it, None)
            if nxt is not None:
                pending[pool.submit(gen, nxt[1])] = nxt


def _check_args(task: Any, n: Any, limit: Any, concurrency: Any, pass_term: str | None) -> str:
    """Validate the options (one ConfigError line naming the CLI flag); return the pass term."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1024:
        raise ConfigError("-n", f"got {n!r}", "a number of samples per prompt in [1, 1024]")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError("--limit", f"got {limit!r}", "a positive number of prompts")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ConfigError("--concurrency", f"got {concurrency!r}", "an integer in [1, 256]")
    names = [c.term.name for c in task.reward.components]
    pass_term = pass_term or names[0]
    if pass_term not in names:
        raise ConfigError("--pass-term", f"unknown term {pass_term!r}", f"one of {names}")
    return pass_term


def evaluate(task: Any, *, out_dir: str | os.PathLike, base_url: str | None = None, model: str = "model",
             n: int = 1, outputs: str | os.PathLike | None = None, limit: int | None = None,
             params: Mapping[str, Any] | None = None, concurrency: int = 4, timeout: float = 60.0,
             max_retries: int = 2, api_key_env: str = "OPENAI_API_KEY", seed: int = 0,
             pass_term: str | None = None, pass_threshold: float = 1.0, progress: bool = True,
             report: bool = True, client: Any = None) -> dict[str, Any]:
    """Evaluate a model (or saved outputs) on ``task`` into ``out_dir``; return :func:`summarize_eval`'s dict."""
    from rewardkit.tasks import load_task

    task = load_task(task) if not hasattr(task, "rows") else task
    pass_term = _check_args(task, n, limit, concurrency, pass_term)
    rows = task.rows[:limit] if limit else list(task.rows)
    parsed = read_outputs(outputs, task) if outputs is not None else None
    if parsed is None and client is None:
        if not base_url:
            raise ConfigError("--base-url", "missing", "an OpenAI-compatible API root such as "
                                                       "http://127.0.0.1:8000/v1, or --outputs FILE")
        from rewardkit.verify.judge import OpenAIChatClient

        client = OpenAIChatClient(base_url, api_key_env=api_key_env, timeout=timeout)
    config = {"task": task.name, "rows": len(rows), "model": model, "n": n, "base_url": base_url,
              "outputs": None if outputs is None else str(Path(outputs).resolve()), "params": dict(params or {}),
              "seed": seed, "reward": task.reward_config, "pass_term": pass_term, "pass_threshold": pass_threshold}
    blob = json.dumps(config, sort_keys=True, default=str)
    config_hash = hashlib.sha256(blob.encode()).hexdigest()[:12]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from rewardkit.verify.http import RetryPolicy

    retry = RetryPolicy(max_retries=int(max_retries), base_delay=0.5, deadline=timeout * (max_retries + 1) + 5.0)
    with OutputLock(out):
        store = ResultStore(inside(out, DB_NAME))
        try:
            store.add_experiment(config_hash, f"eval:{task.name}", config)
            store.start_run(config_hash, config_hash, model if parsed is None else "outputs", seed, 0, config)
            if parsed is not None:
                for b in parsed[1]:
                    store.add_eval(config_hash, -1 - b["line"], {"episodes": 1}, None, [
                        {"sample": b["line"], "completion": None, "total": None,
                         "error": f"{MALFORMED}: {b['reason']}"[:300], "latency": None}])
            total = sum(len(s) for _, s in parsed[0]) if parsed is not None else n * len(rows)
            bar = _progress(progress, total, f"eval {task.name} ({model if parsed is None else 'outputs'})")
            pool = ThreadPoolExecutor(concurrency) if parsed is None else None
            gen_params = {"temperature": 1.0, **dict(params or {})}

            def gen(row: dict[str, Any]) -> list[dict[str, Any]]:
                return _generate(client, model, task.messages(row), n, seed, gen_params, retry)

            steps = 0
            try:
                if bar is not None:
                    bar.start()
                for step, row, samples in _sources(rows, parsed, pool, 2 * concurrency, gen):
                    _record(store, config_hash, step, _score(task, row, samples), pass_term, pass_threshold)
                    steps += 1
                    if bar is not None:
                        bar.update(bar.task_ids[0], advance=len(samples))
            except BaseException as e:
                store.fail_run(config_hash, f"{type(e).__name__}: {e}")
                raise
            finally:
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
                if bar is not None:
                    bar.stop()
            store.finish_run(config_hash, steps=steps)
            summary = summarize_eval(store, config_hash, pass_term, pass_threshold)
            summary.update({"task": task.name, "model": model, "n": n, "run_key": config_hash,
                            "database": str(inside(out, DB_NAME))})
        finally:
            store.close()
        atomic_write(inside(out, "summary.json"), json.dumps(summary, indent=2, sort_keys=True) + "\n")
        atomic_write(inside(out, "summary.md"), markdown_summary(summary) + "\n")
        if report:
            from .eval_report import write_eval_report

            summary["report"] = str(write_eval_report(out, summary, config))
    return summary
