"""VPL-lite beats an unconditioned BT on two user groups with opposite preferences."""

import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.learn import PreferencePairs, fit_linear_bt, pair_accuracy, fit_vpl, user_groups_task


@pytest.fixture(scope="module")
def setup():
    pairs, _group, _diff, w = user_groups_task(40, 24, dim=6, shared=0.3, seed=0)
    model = fit_vpl(pairs, steps=300, context_size=8, query_size=8, seed=0)
    baseline = fit_linear_bt(pairs)
    test, g, tdiff, _ = user_groups_task(20, 48, dim=6, shared=0.3, seed=100, w_opposed=w[0], w_shared=w[1])
    return model, baseline, test, g, tdiff


def test_vpl_beats_unconditioned_bt_per_group(setup):
    model, baseline, test, g, tdiff = setup
    acc = {0: [], 1: []}
    acc_bt = {0: [], 1: []}
    for u in range(20):  # unseen users: 8 labelled pairs to infer z, 40 held-out pairs to score
        m = np.flatnonzero(test.user == u)
        ctx, held = test.subset(m[:8]), test.subset(m[8:])
        acc[g[u]].append(pair_accuracy(model.for_user(ctx), held.a, held.b, tdiff[m[8:]]))
        acc_bt[g[u]].append(pair_accuracy(baseline, held.a, held.b, tdiff[m[8:]]))
    for grp in (0, 1):
        vpl, bt = np.mean(acc[grp]), np.mean(acc_bt[grp])
        assert vpl > 0.85, (grp, vpl)
        assert vpl > bt + 0.15, (grp, vpl, bt)
    # the unconditioned model cannot serve both groups: its two group accuracies sum to ~1 + shared part
    assert np.mean(acc_bt[0]) + np.mean(acc_bt[1]) < 1.5


def test_latent_separates_the_groups(setup):
    model, _, test, g, _ = setup
    z = np.stack([model.encode(test.subset(np.flatnonzero(test.user == u)[:8])) for u in range(20)])
    centre0, centre1 = z[g == 0].mean(0), z[g == 1].mean(0)
    spread = max(np.linalg.norm(z[g == 0] - centre0, axis=1).mean(), np.linalg.norm(z[g == 1] - centre1, axis=1).mean())
    assert np.linalg.norm(centre0 - centre1) > 2 * spread


def test_vpl_needs_user_ids():
    pairs, _, _, _ = user_groups_task(4, 20, seed=0)
    with pytest.raises(ConfigError, match=r"pairs\.user"):
        fit_vpl(PreferencePairs(pairs.a, pairs.b, pairs.label), steps=1)  # user ids dropped
    with pytest.raises(ConfigError, match="pairs per user"):
        fit_vpl(pairs, context_size=15, query_size=15, steps=1)
