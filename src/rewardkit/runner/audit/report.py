"""The audit report: one self-contained HTML file (the runner's report style) and a JSON summary.

``write_audit_report`` writes ``<out>/audit.html`` and ``<out>/audit.json``.  The JSON holds every
:class:`~rewardkit.audit.checks.Check` (section, name, status, value, message, details) and the
overall status, the worst status among the checks that ran.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ...audit.checks import Check, worst
from ..files import atomic_write, inside
from ..report import REPORT_CSS, fig_to_png

__all__ = ["audit_summary", "write_audit_report"]

_COLORS = {"green": "#1a7f37", "yellow": "#9a6700", "red": "#cf222e", "skipped": "#6e7781"}


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def audit_summary(target: str, checks: list[Check], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON summary: overall status, counts per status, every check and the metadata.

    Example:
        >>> s = audit_summary("env", [Check("terms", "dominance", "red", 0.95, "bonus is 95%")])
        >>> s["status"], s["counts"]["red"]
        ('red', 1)
    """
    counts = {k: sum(c.status == k for c in checks) for k in _COLORS}
    return _jsonable({"target": target, "status": worst(checks), "counts": counts,
                      "checks": [c.to_dict() for c in checks], "meta": meta or {}})


def _terms_plot(ax: Any, d: dict[str, Any]) -> None:
    scale = d["scale"]
    ax.barh(list(scale), [v["share"] for v in scale.values()], color="#4c72b0")
    ax.set_xlabel("share of mean |weighted reward|")
    ax.set_xlim(0, 1)


def _latency_plot(ax: Any, d: dict[str, Any]) -> None:
    ax.hist(np.asarray(d["times"]) * 1e3, bins=30, color="#4c72b0")
    ax.set_xlabel("ms per sample")


def _calibration_plot(ax: Any, d: dict[str, Any]) -> None:
    ax.plot([0, 1], [0, 1], ":", color="gray")
    ax.plot(d["bin_confidence"], d["bin_frequency"], "o-")
    ax.set_xlabel("predicted P(first preferred)")
    ax.set_ylabel("observed frequency")


def _overopt_plot(ax: Any, d: dict[str, Any]) -> None:
    ax.plot(d["d"], d["gold"], "o-")
    ax.set_xlabel("sqrt(KL) of best-of-n")
    ax.set_ylabel("gold score of the RM's pick")


#: figure name -> (check name, the details key it needs, figure size, drawing function)
_PLOTS = {
    "terms": ("dominance", "scale", (6, 2.5), _terms_plot),
    "latency": ("latency", "times", (6, 2.5), _latency_plot),
    "calibration": ("calibration", "bin_confidence", (3.5, 3.5), _calibration_plot),
    "overoptimization": ("overoptimization", "gold", (5, 3), _overopt_plot),
}


def _figures(checks: list[Check]) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, bytes] = {}
    by = {c.name: c for c in checks}
    for fig_name, (check, key, size, draw) in _PLOTS.items():
        if check in by and by[check].details.get(key):
            fig, ax = plt.subplots(figsize=size)
            draw(ax, by[check].details)
            out[fig_name] = fig_to_png(fig)
            plt.close(fig)
    return out


def write_audit_report(target: str, checks: list[Check], out_dir: str | Path,
                       meta: dict[str, Any] | None = None) -> Path:
    """Write ``audit.html`` and ``audit.json`` into ``out_dir``; returns the HTML path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = audit_summary(target, checks, meta)
    atomic_write(inside(out, "audit.json"), json.dumps(summary, indent=2, allow_nan=False) + "\n")
    esc = html.escape
    rows = "".join(
        f"<tr><td style='color:{_COLORS[c.status]};font-weight:bold'>{c.status}</td><td>{esc(c.section)}</td>"
        f"<td><code>{esc(c.name)}</code></td><td>{'-' if math.isnan(c.value) else f'{c.value:.4g}'}</td>"
        f"<td>{esc(c.message)}</td></tr>" for c in checks)
    imgs = "".join(
        f"<h3>{esc(name)}</h3><img alt='{esc(name)}' style='max-width:100%' "
        f"src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>" for name, png in _figures(checks).items())
    meta_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in (meta or {}).items())
    overall = summary["status"]
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rewardkit audit: {esc(target)}</title>
<style>{REPORT_CSS}</style></head><body>
<h1>rewardkit audit: {esc(target)}</h1>
<p>Overall: <b style="color:{_COLORS[overall]}">{overall}</b> ({summary['counts']['red']} red,
{summary['counts']['yellow']} yellow, {summary['counts']['green']} green, {summary['counts']['skipped']} skipped)</p>
<h2 id="checks">Checks</h2>
<table><thead><tr><th>status</th><th>section</th><th>check</th><th>value</th><th>finding</th></tr></thead>
<tbody>{rows}</tbody></table>
<h2 id="plots">Plots</h2>{imgs or '<p class="note">no plots for this target</p>'}
<h2 id="metadata">Metadata</h2><table>{meta_rows}</table>
</body></html>
"""
    path = inside(out, "audit.html")
    atomic_write(path, doc)
    return path
