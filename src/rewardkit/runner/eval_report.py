"""The HTML report of ``rewardkit eval``: one self-contained file beside the runner's results database.

Sections (each an ``<h2>`` with a stable ``id``): ``summary`` (each term's mean with its 95 %
bootstrap interval over prompts, and the total), ``passk`` (pass@k, unbiased estimator),
``reliability`` (generation error and timeout rates, verifier error rates, latency percentiles),
``prompts`` (the first prompts with their mean total and passing samples) and ``metadata``
(the evaluation config and the versions the runner report lists).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import atomic_write, inside
from .report import REPORT_CSS, REPORT_NAME, _versions
from .runner import DB_NAME
from .store import ResultStore

__all__ = ["write_eval_report"]


def _ci(c: Mapping[str, Any]) -> str:
    return "-" if c.get("mean") is None else f"{c['mean']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}] (n={c['n']})"


def write_eval_report(out_dir: str | Path, summary: Mapping[str, Any], config: Mapping[str, Any],
                      max_prompts: int = 50) -> Path:
    """Write ``<out>/report.html`` for an evaluation summary (:func:`~rewardkit.runner.evaluate.summarize_eval`)."""
    esc = html.escape
    out = Path(out_dir)
    store = ResultStore(inside(out, DB_NAME))
    try:
        evals = [e for e in store.evals(summary["run_key"]) if e["step"] >= 0][:max_prompts]
    finally:
        store.close()
    term_rows = [f"<tr><th>total</th><td>{_ci(summary['total'])}</td><td>-</td></tr>"]
    term_rows += [f"<tr><th>{esc(t)}</th><td>{_ci(c)}</td><td>{summary['verifier_error_rate'].get(t, 0.0):.3f}</td></tr>"
                  for t, c in summary["terms"].items()]
    pass_rows = "".join(f"<tr><th>pass@{esc(k)}</th><td>{v:.3f}</td></tr>" for k, v in summary["pass@k"].items())
    rel = {"generation error rate": f"{summary['error_rate']:.3f}", "timeout rate": f"{summary['timeout_rate']:.3f}",
           "scoring error rate": f"{summary['score_error_rate']:.3f}",
           "malformed rows": str(summary["malformed_rows"]),
           **{f"latency {q}": f"{v:.3f} s" for q, v in summary["latency_s"].items()}}
    rel_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rel.items())
    prompt_rows = "".join(
        f"<tr><td>{e['step']}</td><td>{e['episodes']}</td>"
        f"<td>{'-' if e['return_mean'] is None else format(e['return_mean'], '.3f')}</td>"
        f"<td>{e['success_rate']:.2f}</td><td>{e['length_mean']:.0f}</td></tr>" for e in evals)
    meta = {"task": summary["task"], "model": summary["model"], "samples per prompt": summary["n"],
            "prompts": summary["prompts"], "samples": summary["samples"], "run key": summary["run_key"],
            "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "database": summary["database"], **_versions()}
    meta_rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in meta.items())
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rewardkit eval: {esc(summary['task'])}</title>
<style>
{REPORT_CSS}</style></head><body>
<h1>rewardkit eval report: {esc(summary['task'])} / {esc(summary['model'])}</h1>
<h2 id="summary">Reward terms</h2>
<p class="note">Mean over prompts of each prompt's mean value, with a 95% percentile bootstrap interval over prompts
(1000 resamples, seed 0). Samples whose generation failed are left out. Error rate: the fraction of scored samples
whose verifier reported an error.</p>
<table><thead><tr><th>term</th><th>mean [95% CI]</th><th>verifier error rate</th></tr></thead>
<tbody>{''.join(term_rows)}</tbody></table>
<h2 id="passk">pass@k</h2>
<p class="note">Unbiased estimator (Chen et al., 2021) averaged over prompts; a sample passes when
{esc(str(summary['pass_term']))} &gt;= {summary['pass_threshold']:g}.</p>
<table><tbody>{pass_rows}</tbody></table>
<h2 id="reliability">Errors and latency</h2>
<table><tbody>{rel_rows}</tbody></table>
<h2 id="prompts">Prompts</h2>
<p class="note">The first {len(evals)} prompts: samples, mean total reward, passing fraction, mean characters.</p>
<table><thead><tr><th>prompt</th><th>samples</th><th>mean total</th><th>passing</th><th>chars</th></tr></thead>
<tbody>{prompt_rows}</tbody></table>
<h2 id="metadata">Metadata</h2>
<table><tbody>{meta_rows}</tbody></table>
<h3>Evaluation config</h3><pre>{esc(json.dumps(config, indent=2, sort_keys=True, default=str))}</pre>
</body></html>
"""
    return atomic_write(inside(out, REPORT_NAME), doc)
