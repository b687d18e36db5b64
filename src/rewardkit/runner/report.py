"""The HTML report of an experiment: one self-contained file plus PNG copies of the plots.

Sections (each an ``<h2>`` with a stable ``id``):

* ``summary`` – steps to reach the success threshold per variant: the median over
  seeds and every seed's value ("not reached" when the run never got there; the
  median is "not reached" when more than half of the seeds did not reach it);
  final evaluation success rate and return (mean and 95 % interval);
* ``curves`` – learning curves per variant: evaluation success rate and return
  (original env reward) against steps, the mean over seeds with a 95 % band;
* ``robust`` – aggregates across seeds with rliable (:mod:`rewardkit.runner.stats`): the IQM of
  each run score with a stratified-bootstrap 95 % interval, performance profiles, and the
  probability that each variant improves on the baseline (the first variant); bootstrap seed
  :data:`~rewardkit.runner.stats.BOOTSTRAP_SEED`, so the section is the same at every rewrite;
* ``terms`` – mean training-episode return of every reward term, per variant;
* ``runs`` – one row per run: key, seed, status, steps, wall time;
* ``metadata`` – the spec, config hash, versions, machine.

Confidence band: a two-sided 95 % Student-t interval over seeds at each
evaluation step, :math:`\\bar x \\pm t_{0.975,\\,n-1}\\, s/\\sqrt n` (no band with one
seed).  The band is clipped to the metric's valid range
(:data:`METRIC_RANGES`: a success rate stays in [0, 1], a count of visited cells
at or above 0 and at most the grid's cells); metrics without a known range (returns,
reward terms) are not clipped.  Legends sit outside the axes, to their right, so
they never hide data.  Curves of different seeds are aligned on the union of their evaluation
steps by carrying each seed's last value forward (all runs of one spec are
evaluated at the same steps, so this only matters for unfinished runs).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .files import atomic_write, inside
from .spec import ExperimentSpec
from .store import ResultStore

__all__ = ["METRIC_RANGES", "REPORT_CSS", "REPORT_NAME", "SCORES", "band", "collect", "fig_to_png", "robust_stats",
           "run_scores", "steps_to_threshold", "t_interval", "write_report"]

REPORT_NAME = "report.html"
#: the style sheet of every rewardkit HTML report (experiment and audit)
REPORT_CSS = """body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1200px;
        color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
td.nr { color: #a33; } td.ok { color: #161; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; }
"""
_STYLES = ("-", "--", "-.", ":")

#: valid (low, high) of each plotted metric with a known range; None: unbounded on that side
METRIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    "success_rate": (0.0, 1.0),
    "unique_cells": (0.0, None),
}


def t_interval(values: np.ndarray, axis: int = 0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and two-sided Student-t interval over ``axis`` (NaNs ignored).

    >>> m, lo, hi = t_interval(np.array([[0.0], [1.0], [2.0]]))
    >>> float(m[0]), round(float(hi[0] - m[0]), 3)
    (1.0, 2.484)
    """
    from scipy import stats

    x = np.asarray(values, dtype=np.float64)
    n = np.sum(~np.isnan(x), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=axis) if x.size else np.zeros(0)
        sd = np.nanstd(x, axis=axis, ddof=1) if x.shape[axis] > 1 else np.zeros_like(mean)
        half = np.where(n > 1, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    half = np.nan_to_num(half)
    return mean, mean - half, mean + half


def band(values: np.ndarray, metric: str | None = None, high: float | None = None,
         level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and confidence band over seeds (axis 0), clipped to ``metric``'s valid range.

    The band is :func:`t_interval`, :math:`\\bar x \\pm t_{(1+level)/2,\\,n-1}\\, s/\\sqrt n`,
    then clipped to :data:`METRIC_RANGES` ``[metric]`` (no clipping for an unknown metric);
    ``high`` tightens the upper end (e.g. the number of cells of a grid).

    >>> m, lo, hi = band(np.array([[0.0, 3.0], [0.0, 30.0]]), "unique_cells", high=20)
    >>> lo.tolist(), hi.tolist()
    ([0.0, 0.0], [0.0, 20.0])
    """
    mean, lo, hi = t_interval(values, axis=0, level=level)
    low, up = METRIC_RANGES.get(metric or "", (None, None))
    if high is not None:
        up = high if up is None else min(up, high)
    if low is not None or up is not None:
        lo, hi = np.clip(lo, low, up), np.clip(hi, low, up)
    return mean, lo, hi


def _legend_outside(ax: Any, fontsize: float = 8) -> Any:
    """Legend to the right of ``ax``'s data area (``tight_layout`` makes room for it)."""
    return ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def steps_to_threshold(steps: list[int], success: list[float], threshold: float) -> int | None:
    """First evaluation step whose success rate reaches ``threshold`` (None if never).

    >>> steps_to_threshold([0, 10, 20], [0.0, 0.95, 0.5], 0.9)
    10
    >>> steps_to_threshold([0, 10], [0.0, 0.5], 0.9) is None
    True
    """
    for s, v in zip(steps, success, strict=False):
        if v is not None and v >= threshold:
            return int(s)
    return None


def _median_reached(values: list[int | None]) -> float | None:
    """Median with "not reached" counted as +infinity; None when the median is not reached."""
    x = np.array([np.inf if v is None else float(v) for v in values])
    if x.size == 0:
        return None
    m = float(np.median(x))
    return None if not np.isfinite(m) else m


def collect(spec: ExperimentSpec, db_path: str | os.PathLike) -> dict[str, Any]:
    """Read the runs of ``spec`` from the database into per-variant arrays."""
    store = ResultStore(db_path)
    try:
        data: dict[str, Any] = {"variants": {}, "runs": []}
        for r in spec.runs():
            run = store.run(r.key)
            evals = store.evals(r.key) if run else []
            terms = store.term_returns(r.key) if run else []
            cov = store.coverage(r.key) if run else []
            data["runs"].append({"key": r.key, "variant": r.variant, "seed": r.seed,
                                 "status": run["status"] if run else "missing",
                                 "steps": run["steps"] if run else 0,
                                 "wall_s": run["wall_s"] if run else None,
                                 "error": (run["error"] or "").splitlines()[0] if run and run["error"] else ""})
            v = data["variants"].setdefault(r.variant, {"seeds": [], "curves": [], "terms": [], "status": [],
                                                        "coverage": []})
            v["seeds"].append(r.seed)
            v["status"].append(run["status"] if run else "missing")
            v["curves"].append(evals)
            v["terms"].append(terms)
            v["coverage"].append(cov)
        return data
    finally:
        store.close()


def _aligned(curves: list[list[dict]], column: str) -> tuple[np.ndarray, np.ndarray]:
    """Union of steps x seeds matrix of ``column`` with last-value-carried-forward."""
    steps = sorted({int(e["step"]) for c in curves for e in c})
    mat = np.full((len(curves), len(steps)), np.nan)
    for i, c in enumerate(curves):
        if not c:
            continue
        cs = [int(e["step"]) for e in c]
        vals = [np.nan if e.get(column) is None else float(e[column]) for e in c]
        j = 0
        last = np.nan
        for k, s in enumerate(steps):
            while j < len(cs) and cs[j] <= s:
                last = vals[j]
                j += 1
            if s <= cs[-1]:
                mat[i, k] = last
    return np.asarray(steps), mat


#: the per-run scores aggregated across seeds in the ``robust`` section: name -> (label, valid range)
SCORES: dict[str, tuple[str, tuple[float, float] | None]] = {
    "final_success": ("final success rate", (0.0, 1.0)),
    "success_auc": ("mean success rate over evaluations (area under the curve)", (0.0, 1.0)),
    "final_return": ("final evaluation return", None),
}


def run_scores(data: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """Per score of :data:`SCORES`, per variant: one value per finished run (seeds in spec order).

    ``final_success`` and ``final_return`` are the last evaluation point's; ``success_auc`` is
    the mean success rate over all evaluation points.  Unfinished or failed runs are left out.
    """
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in SCORES}
    for name, v in data["variants"].items():
        done = [c for c, st in zip(v["curves"], v["status"], strict=False) if st == "done" and c]
        rows = {"final_success": [c[-1]["success_rate"] for c in done],
                "success_auc": [float(np.mean([e["success_rate"] for e in c])) if all(
                    e["success_rate"] is not None for e in c) else None for c in done],
                "final_return": [c[-1]["return_mean"] for c in done]}
        for k, vals in rows.items():
            if vals and all(x is not None for x in vals):
                out[k][name] = np.asarray(vals, dtype=np.float64)
    return out


def robust_stats(data: dict[str, Any], reps: int | None = None) -> dict[str, Any]:
    """The ``robust`` section's numbers: per score, IQM with a bootstrap interval per variant
    (``iqm``), P(variant > baseline) (``poi``; baseline = the first variant with data) and the
    performance profile over ``taus`` (``profile``, bounded scores only).

    Raises ImportError (naming the extra) when rliable is not installed.
    """
    from . import stats

    r = stats.BOOTSTRAP_REPS if reps is None else reps
    out: dict[str, Any] = {}
    for k, per_variant in run_scores(data).items():
        if not per_variant:
            continue
        base = next(iter(per_variant))
        entry: dict[str, Any] = {"baseline": base, "iqm": stats.iqm_ci(per_variant, reps=r),
                                 "poi": stats.probability_of_improvement(per_variant, base, reps=r),
                                 "n": {n: int(a.size) for n, a in per_variant.items()}}
        rng = SCORES[k][1]
        if rng is not None:
            taus = np.linspace(rng[0], rng[1], 51)
            entry["taus"] = taus
            entry["profile"] = stats.performance_profile(per_variant, taus, reps=r)
        out[k] = entry
    return out


def _profile_figure(plt: Any, colors: list[str], robust: dict[str, Any]) -> Any:
    """Performance profiles (fraction of runs with score > tau) with bootstrap bands, one panel per bounded score."""
    keys = [k for k in robust if "profile" in robust[k]]
    fig, axes = plt.subplots(1, len(keys), figsize=(6.5 * len(keys), 3.6), squeeze=False)
    for ax, k in zip(axes[0], keys, strict=False):
        taus = robust[k]["taus"]
        for i, (name, (p, lo, hi)) in enumerate(robust[k]["profile"].items()):
            c = colors[i % len(colors)]
            ax.plot(taus, p, color=c, lw=2, ls=_STYLES[i % len(_STYLES)], drawstyle="steps-post",
                    label=f"{name} (n={robust[k]['n'][name]})")
            ax.fill_between(taus, lo, hi, color=c, alpha=0.15, lw=0, step="post")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(f"{SCORES[k][0]} threshold τ")
        ax.set_ylabel("fraction of runs with score > τ")
        ax.set_title(f"performance profile: {k}", fontsize=9)
        ax.grid(alpha=0.3)
        _legend_outside(ax, fontsize=7)
    fig.tight_layout()
    return fig


def fig_to_png(fig: Any) -> bytes:
    """A matplotlib figure as PNG bytes (110 dpi, tight bounding box), as every report embeds it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _figures(spec: ExperimentSpec, data: dict[str, Any], robust: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's matplotlib figures by name (``curves``, ``terms``, ``profile`` when ``robust`` has
    profiles and, on grid envs, ``coverage``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    figs = {"curves": _curves_figure(plt, colors, spec, data), "terms": _terms_figure(plt, colors, spec, data)}
    if any(c for v in data["variants"].values() for c in v["coverage"]):
        figs["coverage"] = _coverage_figure(plt, colors, spec.budget_unit, data)
    if robust and any("profile" in v for v in robust.values()):
        figs["profile"] = _profile_figure(plt, colors, robust)
    return figs


def _plots(spec: ExperimentSpec, data: dict[str, Any], robust: dict[str, Any] | None = None) -> dict[str, bytes]:
    import matplotlib.pyplot as plt

    pngs: dict[str, bytes] = {}
    for name, fig in _figures(spec, data, robust).items():
        pngs[name] = fig_to_png(fig)
        plt.close(fig)
    return pngs


def _curves_figure(plt: Any, colors: list[str], spec: ExperimentSpec, data: dict[str, Any]) -> Any:
    """Evaluation success rate and return against steps: mean over seeds with a clipped 95 % band."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.2))
    for i, (name, v) in enumerate(data["variants"].items()):
        c = colors[i % len(colors)]
        for ax, col in ((axes[0], "success_rate"), (axes[1], "return_mean")):
            steps, mat = _aligned(v["curves"], col)
            if steps.size == 0:
                continue
            mean, lo, hi = band(mat, col)
            n = int(np.sum(~np.isnan(mat[:, -1]))) if mat.size else 0
            ax.plot(steps, mean, color=c, label=f"{name} (n={n})", lw=2, ls=_STYLES[i % len(_STYLES)],
                    marker=".", ms=4)
            ax.fill_between(steps, lo, hi, color=c, alpha=0.18, lw=0)
    axes[0].axhline(spec.success_threshold, color="k", ls="--", lw=1, label=f"threshold {spec.success_threshold:g}")
    axes[0].set_ylim(-0.03, 1.03)
    axes[0].set_title("evaluation success rate (mean, 95% t-interval over seeds)")
    axes[1].set_title("evaluation return, original env reward")
    for ax in axes:
        ax.set_xlabel(spec.budget_unit)
        ax.grid(alpha=0.3)
        _legend_outside(ax)
    fig.tight_layout()
    return fig


def _terms_figure(plt: Any, colors: list[str], spec: ExperimentSpec, data: dict[str, Any]) -> Any:
    """Per variant: mean training-episode return of every reward term (band unclipped: no known range)."""
    names = list(data["variants"])
    fig, axes = plt.subplots(1, len(names), figsize=(max(5.5, 5.5 * len(names)), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=False):
        v = data["variants"][name]
        term_names = sorted({t["term"] for ts in v["terms"] for t in ts})
        for j, term in enumerate(term_names):
            curves = [[{"step": t["step"], "value": t["value"]} for t in ts if t["term"] == term] for ts in v["terms"]]
            steps, mat = _aligned(curves, "value")
            if steps.size == 0:
                continue
            mean, lo, hi = band(mat)
            ax.plot(steps, mean, color=colors[j % len(colors)], label=term, lw=1.6)
            ax.fill_between(steps, lo, hi, color=colors[j % len(colors)], alpha=0.15, lw=0)
        steps, mat = _aligned(v["curves"], "train_env_return")
        if steps.size:
            mean, _, _ = band(mat)
            ax.plot(steps, mean, color="k", ls=":", lw=1.2, label="env return (original)")
        ax.set_title(f"{name}: training-episode return per term", fontsize=9)
        ax.set_xlabel(spec.budget_unit)
        ax.grid(alpha=0.3)
        _legend_outside(ax, fontsize=7)
    fig.tight_layout()
    return fig


def visit_grid(cells: list[list[int]], shape: Any = None) -> np.ndarray:
    """Visit counts ``[[x, y, n], ...]`` as a ``(width, height)`` array indexed ``[x, y]``.

    ``shape`` (the grid's ``[width, height]``) defaults to the smallest grid holding the cells.

    >>> visit_grid([[0, 0, 2], [2, 1, 5]]).tolist()
    [[2, 0], [0, 0], [0, 5]]
    >>> visit_grid([[1, 1, 3]], shape=[3, 3]).sum(), visit_grid([], shape=[2, 4]).shape
    (np.int64(3), (2, 4))
    """
    from rewardkit.explore.coverage import CoverageTracker

    t = CoverageTracker()
    t.counts = {(int(x), int(y)): int(n) for x, y, n in cells}
    return t.grid(None if shape is None else (int(shape[0]), int(shape[1])))


def _coverage_figure(plt: Any, colors: list[str], unit: str, data: dict[str, Any]) -> Any:
    """Unique cells visited during training (mean over seeds, band in [0, grid cells]) and each
    variant's final visitation heatmap."""
    names = [n for n, v in data["variants"].items() if any(v["coverage"])]
    fig, axes = plt.subplots(1, 1 + len(names), figsize=(6.0 + 3.4 * len(names), 3.6), squeeze=False)
    ax = axes[0][0]
    for i, name in enumerate(names):
        curves = [[{"step": p["step"], "unique_cells": p["unique_cells"]} for p in c]
                  for c in data["variants"][name]["coverage"]]
        steps, mat = _aligned(curves, "unique_cells")
        sizes = [int(np.prod(c[-1]["shape"])) for c in data["variants"][name]["coverage"] if c and c[-1].get("shape")]
        if steps.size:
            mean, lo, hi = band(mat, "unique_cells", high=max(sizes) if sizes else None)
            ax.plot(steps, mean, color=colors[i % len(colors)], label=name, lw=1.8, ls=_STYLES[i % len(_STYLES)])
            ax.fill_between(steps, lo, hi, color=colors[i % len(colors)], alpha=0.15, lw=0)
    ax.set_title("unique cells visited in training", fontsize=9)
    ax.set_xlabel(unit)
    ax.grid(alpha=0.3)
    _legend_outside(ax, fontsize=7)
    grids = {n: [visit_grid(c[-1]["visits"], c[-1].get("shape")) for c in data["variants"][n]["coverage"] if c]
             for n in names}
    w = max((g.shape[0] for gs in grids.values() for g in gs), default=0)
    h = max((g.shape[1] for gs in grids.values() for g in gs), default=0)
    for ax, name in zip(axes[0][1:], names, strict=False):
        total = np.zeros((w, h), dtype=np.int64)
        for g in grids[name]:
            total[: g.shape[0], : g.shape[1]] += g
        im = ax.imshow(np.log1p(total.T), origin="upper", cmap="viridis")
        ax.set_title(f"{name}: visits (log1p), {len(grids[name])} seed(s)", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
        ax.tick_params(labelsize=7)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def summarize(spec: ExperimentSpec, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per variant: steps to threshold (per seed and median) and final success/return."""
    out = {}
    for name, v in data["variants"].items():
        per_seed = []
        finals_s, finals_r = [], []
        for seed, c in zip(v["seeds"], v["curves"], strict=False):
            if not c:
                per_seed.append((seed, None, False))
                continue
            s = steps_to_threshold([e["step"] for e in c], [e["success_rate"] for e in c], spec.success_threshold)
            per_seed.append((seed, s, True))
            finals_s.append(c[-1]["success_rate"])
            finals_r.append(c[-1]["return_mean"])
        fs = t_interval(np.array(finals_s, dtype=float).reshape(-1, 1)) if finals_s else None
        fr = t_interval(np.array(finals_r, dtype=float).reshape(-1, 1)) if finals_r else None
        out[name] = {"per_seed": per_seed,
                     "unfinished": {seed for seed, st in zip(v["seeds"], v["status"], strict=False) if st != "done"},
                     "median": _median_reached([s for _, s, has in per_seed if has]),
                     "reached": sum(1 for _, s, has in per_seed if has and s is not None),
                     "n": sum(1 for *_, has in per_seed if has),
                     "final_success": None if fs is None else tuple(float(x[0]) for x in fs),
                     "final_return": None if fr is None else tuple(float(x[0]) for x in fr)}
    return out


def _fmt_wall(w: float | None) -> str:
    return "-" if w is None else f"{w:.1f}"


def _fmt_steps(s: float | int | None) -> str:
    return "not reached" if s is None else f"{round(s):,}"


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform(), "cpus": str(os.cpu_count())}
    for mod in ("rewardkit", "numpy", "torch", "stable_baselines3", "gymnasium", "minigrid"):
        try:
            m = __import__(mod)
            out[mod] = str(getattr(m, "__version__", "?"))
        except ImportError:
            out[mod] = "not installed"
    return out


def markdown_table(spec: ExperimentSpec, summary: dict[str, dict[str, Any]]) -> str:
    """The steps-to-threshold table as markdown (printed by the CLI)."""
    unit = spec.budget_unit
    seeds = spec.seeds
    head = f"| variant | median {unit} to success >= {spec.success_threshold:g} | reached | " + \
        " | ".join(f"seed {s}" for s in seeds) + " | final success (mean) |"
    sep = "|---" * (4 + len(seeds)) + "|"
    rows = [head, sep]
    for name, s in summary.items():
        per = {seed: (st, has) for seed, st, has in s["per_seed"]}
        cells = [(_fmt_steps(per[x][0]) + (" (unfinished)" if x in s["unfinished"] else "")
                  if per.get(x, (None, False))[1] else "-") for x in seeds]
        fin = "-" if s["final_success"] is None else f"{s['final_success'][0]:.2f}"
        rows.append(f"| {name} | {_fmt_steps(s['median'])} | {s['reached']}/{s['n']} | " + " | ".join(cells) +
                    f" | {fin} |")
    return "\n".join(rows)


def write_report(spec: ExperimentSpec, db_path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Write ``<out>/report.html``, ``<out>/summary.md`` and ``<out>/plots/*.png``; return the HTML path.

    Each file is replaced atomically (:func:`~rewardkit.runner.files.atomic_write`): a full
    disk leaves the previous report in place, never a truncated one.
    """
    out = Path(out_dir)
    plots_dir = inside(out, "plots")
    plots_dir.mkdir(parents=True, exist_ok=True)
    data = collect(spec, db_path)
    summary = summarize(spec, data)
    try:
        robust: dict[str, Any] | None = robust_stats(data)
        robust_note = ""
    except ImportError as e:  # the reporting extra is missing: the rest of the report is still written
        robust, robust_note = None, str(e)
    pngs = _plots(spec, data, robust)
    for name, png in pngs.items():
        atomic_write(inside(plots_dir, f"{name}.png"), png)
    atomic_write(inside(out, "summary.md"), markdown_table(spec, summary) + "\n")
    esc = html.escape
    unit = spec.budget_unit

    def img(name: str, alt: str) -> str:
        b64 = base64.b64encode(pngs[name]).decode("ascii")
        return f'<img alt="{esc(alt)}" src="data:image/png;base64,{b64}" style="max-width:100%">'

    rows = []
    for name, s in summary.items():
        per = {seed: (st, has) for seed, st, has in s["per_seed"]}
        cells = "".join(
            f"<td class='{'nr' if per.get(x, (None, False))[0] is None else 'ok'}'>"
            f"{_fmt_steps(per[x][0]) if per.get(x, (None, False))[1] else 'no data'}"
            f"{' (unfinished run)' if x in s['unfinished'] and per.get(x, (None, False))[1] else ''}</td>"
            for x in spec.seeds)
        fs = s["final_success"]
        fr = s["final_return"]
        fin_s = "-" if fs is None else f"{fs[0]:.2f} [{max(0.0, fs[1]):.2f}, {min(1.0, fs[2]):.2f}]"
        fin_r = "-" if fr is None else f"{fr[0]:.3f} [{fr[1]:.3f}, {fr[2]:.3f}]"
        desc = spec.variants[name].get("description", "")
        rows.append(f"<tr><th title='{esc(desc)}'>{esc(name)}</th>"
                    f"<td class='{'nr' if s['median'] is None else 'ok'}'><b>{_fmt_steps(s['median'])}</b></td>"
                    f"<td>{s['reached']}/{s['n']}</td>{cells}<td>{fin_s}</td><td>{fin_r}</td></tr>")
    seed_heads = "".join(f"<th>seed {s}</th>" for s in spec.seeds)
    run_rows = "".join(
        f"<tr><td><code>{esc(r['key'])}</code></td><td>{esc(r['variant'])}</td><td>{r['seed']}</td>"
        f"<td class='{'ok' if r['status'] == 'done' else 'nr'}'>{esc(r['status'])}</td><td>{r['steps'] or 0:,}</td>"
        f"<td>{_fmt_wall(r['wall_s'])}</td>"
        f"<td>{esc(r['error'])}</td></tr>" for r in data["runs"])
    walls = [r["wall_s"] for r in data["runs"] if r["wall_s"] is not None]
    variants_html = "".join(
        f"<h3>{esc(n)}</h3><p>{esc(v.get('description', ''))}</p><pre>{esc(json.dumps(v['reward'], indent=2))}</pre>"
        for n, v in spec.variants.items())
    meta = {"experiment": spec.name, "config hash": spec.config_hash, "env": json.dumps(spec.env),
            "learner": json.dumps(spec.learner), "budget": f"{spec.budget:,} {unit}",
            "evaluation": f"every {spec.eval_every:,} {unit}, {spec.eval_episodes} episodes, "
                          f"{'greedy' if spec.eval_deterministic else 'stochastic'} policy; an episode succeeds when "
                          f"its original env return > {spec.success_return_above:g}",
            "success threshold": f"success rate >= {spec.success_threshold:g}",
            "seeds": ", ".join(map(str, spec.seeds)),
            "runs": f"{len(data['runs'])} ({sum(r['status'] == 'done' for r in data['runs'])} done)",
            "sum of run wall times": f"{sum(walls):.1f} s" if walls else "-",
            "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "database": str(Path(db_path).resolve())}
    meta.update(_versions())
    meta_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in meta.items())
    coverage_html = "" if "coverage" not in pngs else (
        '<h2 id="coverage">Exploration coverage</h2>\n<p class="note">Grid cells the training agents stood on '
        "(all training envs, every step): the number of distinct cells so far, and where the visits went by the "
        "end of training, summed over seeds.</p>\n" + img("coverage", "coverage and visitation heatmaps") + "\n")
    robust_html = _robust_html(robust, robust_note, img if "profile" in pngs else None)
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rewardkit report: {esc(spec.name)}</title>
<style>
{REPORT_CSS}</style></head><body>
<h1>rewardkit experiment report: {esc(spec.name)}</h1>
<p class="note">{esc(spec.description)}</p>
<h2 id="summary">Steps to reach the success threshold</h2>
<p class="note">First evaluation point ({unit}) at which the evaluation success rate reached
{spec.success_threshold:g}. Median over seeds, counting "not reached" as infinitely late
(so the median is "not reached" when more than half of the seeds never got there).
Final values: mean [95% t-interval] over seeds at the last evaluation point.</p>
<table><thead><tr><th>variant</th><th>median {unit}</th><th>reached</th>{seed_heads}
<th>final success rate</th><th>final return</th></tr></thead><tbody>{''.join(rows)}</tbody></table>
{robust_html}
<h2 id="curves">Learning curves</h2>
<p class="note">Evaluation on the original environment reward, {spec.eval_episodes} fixed-seed episodes per point
(the same episodes for every variant of a seed). Line: mean over seeds; band: 95% Student-t interval,
clipped to [0, 1] for the success rate.</p>
{img("curves", "learning curves")}
<h2 id="terms">Reward terms</h2>
<p class="note">Mean training-episode return of each reward term (as the learner saw it, before weights),
per variant.</p>
{img("terms", "per-term returns")}
{coverage_html}<h2 id="runs">Runs</h2>
<table><thead><tr><th>run key</th><th>variant</th><th>seed</th><th>status</th><th>{unit}</th><th>wall s</th>
<th>error</th></tr></thead>
<tbody>{run_rows}</tbody></table>
<h2 id="metadata">Metadata</h2>
<table><tbody>{meta_rows}</tbody></table>
<h3>Reward variants</h3>{variants_html}
<h3>Experiment spec</h3><pre>{esc(json.dumps(spec.raw, indent=2, sort_keys=True))}</pre>
</body></html>
"""
    return atomic_write(inside(out, REPORT_NAME), doc)


def _robust_html(robust: dict[str, Any] | None, note: str, img: Any) -> str:
    """The ``robust`` section: an IQM table, the performance-profile plot and a P(improvement) table."""
    esc = html.escape
    head = ('<h2 id="robust">Aggregates across seeds (rliable)</h2>\n<p class="note">Per-run scores aggregated '
            "with rliable (Agarwal et al., 2021): the interquartile mean (IQM, the mean of the middle 50 % of runs) "
            "with a 95% stratified-bootstrap percentile interval, and the probability that a run of a variant beats "
            "a run of the baseline (ties count one half). Bootstrap: "
            "fixed seed, so the numbers are the same at every rewrite. Only finished runs count.</p>\n")
    if robust is None:
        return head + f"<p class='note'>Not computed: {esc(note)}</p>\n"
    if not robust:
        return head + "<p class='note'>No finished runs yet.</p>\n"
    variants = list(dict.fromkeys(n for v in robust.values() for n in v["iqm"]))
    heads = "".join(f"<th>IQM {esc(k)}</th>" for k in robust)
    rows = []
    for n in variants:
        cells = []
        for v in robust.values():
            e = v["iqm"].get(n)
            cells.append("<td>-</td>" if e is None else f"<td>{e.point:.3f} [{e.low:.3f}, {e.high:.3f}]</td>")
        n_runs = max((v["n"].get(n, 0) for v in robust.values()), default=0)
        rows.append(f"<tr><th>{esc(n)}</th><td>{n_runs}</td>{''.join(cells)}</tr>")
    iqm_table = (f"<table id='iqm'><thead><tr><th>variant</th><th>runs</th>{heads}</tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>\n")
    base = next(iter(robust.values()))["baseline"]
    poi_heads = "".join(f"<th>P({esc(k)} &gt; baseline)</th>" for k in robust)
    poi_rows = []
    for n in variants:
        if n == base:
            continue
        cells = []
        for v in robust.values():
            e = v["poi"].get(n)
            cells.append("<td>-</td>" if e is None else f"<td>{e.point:.2f} [{e.low:.2f}, {e.high:.2f}]</td>")
        poi_rows.append(f"<tr><th>{esc(n)}</th>{''.join(cells)}</tr>")
    poi_table = "" if not poi_rows else (
        f"<h3>Probability of improvement over the baseline <code>{esc(base)}</code></h3>\n"
        f"<table id='poi'><thead><tr><th>variant</th>{poi_heads}</tr></thead><tbody>{''.join(poi_rows)}</tbody>"
        "</table>\n")
    profile = "" if img is None else (
        "<h3>Performance profiles</h3>\n<p class='note'>The fraction of runs whose score exceeds each threshold "
        "τ, with a 95% bootstrap band; a curve above another is better at every threshold.</p>\n"
        + img("profile", "performance profiles") + "\n")
    return head + iqm_table + poi_table + profile
