"""Report plots: bands stay in each metric's valid range, legends stay off the data (issue #12, section 5)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from _runner_helpers import CHAIN

from rewardkit.runner.report import _aligned, _figures, band, collect, robust_stats, t_interval, write_report
from rewardkit.runner.spec import parse_spec
from rewardkit.runner.store import ResultStore

matplotlib.use("Agg")

# three seeds per variant, one good and two bad: the raw t-interval reaches far below 0 (and above 1)
SUCCESS = {0: [0.0, 0.0, 0.0], 1: [0.0, 0.0, 0.1], 2: [0.0, 0.9, 1.0]}
UNIQUE = {0: [1, 1, 1], 1: [1, 2, 2], 2: [1, 20, 25]}
GRID = [5, 5]


def _store(tmp_path):
    spec = parse_spec(dict(CHAIN, seeds=3))
    db = tmp_path / "results.sqlite"
    with ResultStore(db) as store:
        store.add_experiment(spec.config_hash, spec.name, spec.raw)
        for r in spec.runs():
            store.start_run(r.key, spec.config_hash, r.variant, r.seed, r.seed_index, r.config)
            for k, step in enumerate((0, 50, 100)):
                sr = SUCCESS[r.seed_index][k]
                cells = [[x, 0, 1] for x in range(min(UNIQUE[r.seed_index][k], 5))]
                cells += [[x, 1 + y, 1] for y in range(4) for x in range(5)][: max(0, UNIQUE[r.seed_index][k] - 5)]
                values = {"success_rate": sr, "return_mean": 10.0 * sr - 1.0, "train_env_return": sr,
                          "coverage": {"unique": UNIQUE[r.seed_index][k], "cells": cells, "shape": GRID}}
                store.add_eval(r.key, step, values, {"task": sr, "count": 0.1 * k})
            store.finish_run(r.key, 100, 1.0)
    return spec, db


@pytest.fixture
def figs(tmp_path):
    import matplotlib.pyplot as plt

    spec, db = _store(tmp_path)
    data = collect(spec, db)
    out = _figures(spec, data, robust_stats(data, reps=50))
    yield spec, data, out
    for f in out.values():
        plt.close(f)


def _band_ys(ax) -> list[np.ndarray]:
    return [np.concatenate([p.vertices[:, 1] for p in c.get_paths()]) for c in ax.collections
            if len(c.get_paths())]


def test_raw_intervals_leave_the_valid_range(figs):
    """The fixture is meaningful: without clipping, both bands would cross their bounds."""
    _, data, _ = figs
    curves = data["variants"]["env"]["curves"]
    _, lo, hi = t_interval(_aligned(curves, "success_rate")[1])
    assert lo.min() < 0 and hi.max() > 1
    cov = [[{"step": p["step"], "unique_cells": p["unique_cells"]} for p in c] for c in data["variants"]["env"]["coverage"]]
    _, lo, hi = t_interval(_aligned(cov, "unique_cells")[1])
    assert lo.min() < 0 and hi.max() > GRID[0] * GRID[1]


def test_plotted_bands_stay_in_each_metrics_range(figs):
    _, _, out = figs
    success_ax, return_ax = out["curves"].axes[:2]
    ys = _band_ys(success_ax)
    assert len(ys) == 2  # one band per variant
    for y in ys:
        assert y.min() >= 0.0 and y.max() <= 1.0
    assert min(y.min() for y in _band_ys(return_ax)) < -1.0  # returns have no known range: not clipped
    cov_ax = out["coverage"].axes[0]
    ys = _band_ys(cov_ax)
    assert len(ys) == 2
    for y in ys:
        assert y.min() >= 0.0 and y.max() <= GRID[0] * GRID[1]


def test_band_clips_only_known_metrics():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    _, lo, hi = band(x, "success_rate")
    assert lo.min() >= 0 and hi.max() <= 1
    _, lo_raw, hi_raw = band(x)
    assert lo_raw.min() < 0 and hi_raw.max() > 1


def test_legends_do_not_cover_any_data_area(figs):
    _, _, out = figs
    checked = 0
    for name, fig in out.items():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        data_areas = [a.get_window_extent(renderer) for a in fig.axes]
        for ax in fig.axes:
            leg = ax.get_legend()
            if leg is None:
                continue
            box = leg.get_window_extent(renderer)
            for area in data_areas:
                assert not box.overlaps(area), f"{name}: legend of {ax.get_title()!r} overlaps an axes"
            checked += 1
    assert checked == 2 + 2 + 1 + 2  # curves (2 axes), terms (one per variant), coverage, profiles (2 scores)


def test_report_writes_from_the_synthetic_store(tmp_path):
    spec, db = _store(tmp_path)
    html = write_report(spec, db, tmp_path).read_text(encoding="utf-8")
    assert "clipped to [0, 1]" in html
    assert {p.name for p in (tmp_path / "plots").iterdir()} == {"curves.png", "terms.png", "coverage.png", "profile.png"}
