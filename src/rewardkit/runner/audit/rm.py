"""``rewardkit audit --rm rm.yaml --pairs pairs.jsonl``: evaluate a reward model on preference pairs.

The reward model is any rewardkit reward config over ``SampleBatch`` (a ``reward_model`` term on
embeddings, a judge, a verifier).  Rows: ``prompt``, ``chosen``, ``rejected``, optional ``subset``
and optional gold scores ``chosen_gold`` / ``rejected_gold``.

Checks:

* ``rm.accuracy`` - RewardBench's rule (Lambert et al. 2024): a pair is won when
  :math:`r(\\text{chosen}) > r(\\text{rejected})`, a tie counts ½; accuracy per subset with a
  stratified bootstrap 95 % interval (red ≤ 0.55, yellow ≤ 0.7).
* ``rm.baselines`` - the same rule applied to trivial features of the text (length in characters,
  words, newlines, digits, ``!``), each in its better direction (more wins, or less wins): the RM's
  accuracy margin over the best of them (red ≤ 0, yellow ≤ 0.05).
* ``rm.calibration`` - expected calibration error of the Bradley–Terry probability
  :math:`\\sigma(r_a - r_b)` on pairs presented in a random (seeded) order (yellow ≥ 0.1, red ≥ 0.2);
  the fitted temperature is in the details.
* ``rm.overoptimization`` - with gold scores: best-of-n selection by the RM over the pooled
  completions, :math:`n = 1, 2, 4, \\dots`; the gold score of the selected completion against
  :math:`d = \\sqrt{\\mathrm{KL}_{BoN}(n)} = \\sqrt{\\log n - (n-1)/n}` (Gao et al. 2023), fitted with
  the BoN form.  Red when the gold score at the largest ``n`` has fallen ≥ 10 % of its range from its
  peak, yellow when it fell at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...audit.checks import Check, grade
from ...audit.evaluation import bt_probability, calibration, fit_temperature, pairwise_accuracy, pairwise_outcomes
from ...audit.overoptimization import bon_kl, fit_overoptimization
from ...core.batch import SampleBatch
from ...core.errors import ConfigError
from ...core.seeding import seeded

__all__ = ["TRIVIAL_FEATURES", "audit_rm"]

#: the trivial-feature baselines: name -> feature of a completion
TRIVIAL_FEATURES = {
    "length": lambda s: float(len(s)),
    "words": lambda s: float(len(s.split())),
    "newlines": lambda s: float(s.count("\n")),
    "digits": lambda s: float(sum(c.isdigit() for c in s)),
    "exclamations": lambda s: float(s.count("!")),
}


def _score(reward: Any, prompts: Sequence[Any], texts: Sequence[str], cols: dict[str, list[Any]]) -> np.ndarray:
    return np.asarray(reward.evaluate(SampleBatch(list(prompts), list(texts), cols)).total, dtype=np.float64)


def _gold(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray] | None:
    if not all("chosen_gold" in r and "rejected_gold" in r for r in rows):
        return None
    try:
        return (np.array([float(r["chosen_gold"]) for r in rows]), np.array([float(r["rejected_gold"]) for r in rows]))
    except (TypeError, ValueError):
        raise ConfigError("pairs.chosen_gold", "is not a number in every row", "numeric gold scores") from None


def _overopt(rc: np.ndarray, rr: np.ndarray, gold: tuple[np.ndarray, np.ndarray], seed: int) -> Check:
    proxy = np.concatenate([rc, rr])
    g = np.concatenate(gold)
    ns = [n for n in (1, 2, 4, 8, 16, 32, 64, 128) if n <= len(proxy)]
    curve = []
    with seeded(seed, torch=False) as rng:
        for n in ns:
            picks = []
            for _ in range(200):
                idx = rng.choice(len(proxy), size=n, replace=False)
                picks.append(int(idx[np.argmax(proxy[idx])]))
            curve.append(float(g[picks].mean()))
    d = np.sqrt(np.asarray(bon_kl(np.asarray(ns, dtype=np.float64)), dtype=np.float64))
    fit = fit_overoptimization(d, np.asarray(curve) - curve[0], form="bon") if len(ns) >= 3 else None
    span = max(float(np.ptp(curve)), 1e-12)
    drop = (max(curve) - curve[-1]) / span if len(curve) > 1 else 0.0
    status = "red" if drop >= 0.1 else "yellow" if drop > 1e-9 else "green"
    return Check("rm", "overoptimization", status, drop,
                 f"best-of-n by the RM: gold score {curve[0]:.3f} at n=1, peak {max(curve):.3f}, {curve[-1]:.3f} at "
                 f"n={ns[-1]} ({drop:.0%} of the range lost after the peak)",
                 {"n": ns, "d": d.tolist(), "gold": curve,
                  "fit": None if fit is None else {"alpha": fit.alpha, "beta": fit.beta, "d_peak": fit.d_peak}})


def audit_rm(reward: Any, rows: list[dict[str, Any]], seed: int = 0, n_boot: int = 1000) -> tuple[list[Check], dict[str, Any]]:
    """Run every reward-model check of the module docstring.

    Example:
        >>> from rewardkit.core.config import build_reward
        >>> rm = build_reward({"terms": [{"type": "math_answer", "name": "correct"}]})
        >>> rows = [{"prompt": "1+1?", "chosen": "\\\\boxed{2}", "rejected": "\\\\boxed{3}", "answer": "2"}] * 4
        >>> checks, _ = audit_rm(rm, rows, n_boot=50)
        >>> {c.name: c.status for c in checks}["accuracy"]
        'green'
    """
    prompts = [r["prompt"] for r in rows]
    chosen = [str(r["chosen"]) for r in rows]
    rejected = [str(r["rejected"]) for r in rows]
    extra = sorted({k for r in rows for k in r} - {"prompt", "chosen", "rejected", "subset", "chosen_gold", "rejected_gold"})
    cols = {k: [r.get(k) for r in rows] for k in extra}
    rc, rr = _score(reward, prompts, chosen, cols), _score(reward, prompts, rejected, cols)
    subsets = [str(r.get("subset", "all")) for r in rows]
    rep = pairwise_accuracy(rc, rr, categories=subsets, n_boot=n_boot, seed=seed)
    per = {k: {"accuracy": c.accuracy, "n": c.n, "ci": list(c.ci)} for k, c in rep.per_category.items()}
    acc = Check("rm", "accuracy", grade(rep.accuracy, 0.7, 0.55, higher_is_worse=False), rep.accuracy,
                f"accuracy {rep.accuracy:.3f} [{rep.ci[0]:.3f}, {rep.ci[1]:.3f}] on {rep.n} pairs, "
                f"{len(per)} subset(s)", {"per_subset": per})
    base = {}
    for name, f in TRIVIAL_FEATURES.items():   # a trivial feature may predict either way: more or less of it wins
        a = float(pairwise_outcomes([f(c) for c in chosen], [f(r) for r in rejected]).mean())   # no bootstrap needed
        base[name] = max(a, 1.0 - a)
    best = max(base, key=base.__getitem__)
    margin = rep.accuracy - base[best]
    baselines = Check("rm", "baselines", grade(margin, 0.05, 0.0, higher_is_worse=False), margin,
                      f"{margin:+.3f} over the best trivial baseline ({best}: {base[best]:.3f})", {"baselines": base})
    with seeded(seed, torch=False) as rng:
        flip = rng.random(len(rows)) < 0.5
    first, second = np.where(flip, rr, rc), np.where(flip, rc, rr)
    prob, label = bt_probability(first, second), (~flip).astype(np.float64)
    cal = calibration(prob, label)
    temp = fit_temperature(first - second, label)
    calib = Check("rm", "calibration", grade(cal.ece, 0.1, 0.2), cal.ece,
                  f"expected calibration error {cal.ece:.3f} of sigma(r_a - r_b); fitted temperature {temp:.3g}",
                  {"ece": cal.ece, "brier": cal.brier, "temperature": temp,
                   "bin_confidence": cal.bin_confidence.tolist(), "bin_frequency": cal.bin_frequency.tolist()})
    checks = [acc, baselines, calib]
    gold = _gold(rows)
    checks.append(_overopt(rc, rr, gold, seed) if gold is not None else
                  Check("rm", "overoptimization", "skipped", float("nan"), "no chosen_gold/rejected_gold scores"))
    return checks, {"chosen": rc.tolist(), "rejected": rr.tolist()}
