"""Benchmark: rewardkit's Bradley-Terry reward training vs PyPI `imitation`'s preference comparisons.

One command (from the repo root):

    python bench/learn/bt_vs_imitation.py            # 3 seeds x {1000 x 5, 3000 x 10} pairs x epochs

Same data for both: random-walk trajectories (obs in R^4, step sigma 0.3; actions in [-1, 1]^2;
T = 50), true reward r = tanh(w.s + 0.5 v.a), fragments of length 10 drawn uniformly,
labels from a Boltzmann-rational rater (temperature 1, sampled) - the setup of the research
note's section 11.1.  Both train the same model: an MLP (6 -> 32 -> 32 -> 1, ReLU) on
[obs, action], BT/cross-entropy loss on summed fragment returns, AdamW (lr 1e-3, weight
decay 0.01), batch 32, single thread.  Metrics: accuracy on 2000 held-out fragment pairs
against the true-return order, Pearson correlation of per-step rewards with the truth,
training wall and CPU time (after a warm-up run in each process, so torch's
one-time initialisation is not counted on either side), and the speed ratio (imitation / rewardkit).

imitation runs in a scratch venv (bench/_scratch/imitation_venv, git-ignored) created with
`--system-site-packages` so it reuses this environment's torch 2.13 / gymnasium / SB3, and
`pip install --no-deps imitation==1.0.1` (the only module it needs here imports with them).
A last row times active query selection (1000 candidate fragment pairs -> the 100 with the
highest variance of the predicted preference probability over a 3-member ensemble): imitation's
ActiveSelectionFragmenter vs rewardkit's select_queries, both scoring with the SAME three
networks (imitation's, exported to rewardkit; the row shows the max reward difference).
Pass --no-imitation to run rewardkit alone.  Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / "bench" / "_scratch" / "learn"
VENV = ROOT / "bench" / "_scratch" / "imitation_venv"
WORKER = Path(__file__).with_name("_imitation_worker.py")


def make_data(seed: int, n_pairs: int, n_test_pairs: int = 2000, frag: int = 10, T: int = 50) -> dict:
    rng = np.random.default_rng(seed)
    OBS, ACT = 4, 2
    w, v = rng.normal(size=OBS), rng.normal(size=ACT)

    def trajs(n):
        o = np.cumsum(rng.normal(scale=0.3, size=(n, T + 1, OBS)), axis=1)
        a = rng.uniform(-1, 1, (n, T, ACT))
        r = np.tanh(o[:, :-1] @ w + 0.5 * (a @ v))
        return o, a, r

    def fragments(o, a, r, n):
        ti = rng.integers(0, o.shape[0], n)
        st = rng.integers(0, T - frag + 1, n)
        idx = st[:, None] + np.arange(frag)[None, :]
        oi = st[:, None] + np.arange(frag + 1)[None, :]
        return o[ti[:, None], oi], a[ti[:, None], idx], r[ti[:, None], idx]

    train, test = trajs(400), trajs(100)
    o1, a1, r1 = fragments(*train, n_pairs)
    o2, a2, r2 = fragments(*train, n_pairs)
    p = 1.0 / (1.0 + np.exp(-(r1.sum(1) - r2.sum(1))))
    labels = (rng.random(n_pairs) < p).astype(np.float64)
    to1, ta1, tr1 = fragments(*test, n_test_pairs)
    to2, ta2, tr2 = fragments(*test, n_test_pairs)
    return dict(traj_obs=train[0], traj_acts=train[1], traj_rews=train[2],
                obs1=o1, acts1=a1, rews1=r1, obs2=o2, acts2=a2, rews2=r2, labels=labels,
                test_obs1=to1, test_acts1=ta1, test_rews1=tr1, test_obs2=to2, test_acts2=ta2, test_rews2=tr2)


def feats(o: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.concatenate([o[:, :-1], a], axis=-1)


def run_rewardkit(d: dict, epochs: int, seed: int) -> dict:
    import torch
    from rewardkit.learn import PreferencePairs, fit_bt
    torch.set_num_threads(1)
    pairs = PreferencePairs(feats(d["obs1"], d["acts1"]), feats(d["obs2"], d["acts2"]), d["labels"])
    # warm-up (torch's one-time lazy initialisation), as on the imitation side
    fit_bt(pairs.subset(np.arange(64)), hidden=(32, 32), activation="relu", epochs=1, batch_size=32)
    w0, c0 = time.perf_counter(), time.process_time()
    model = fit_bt(pairs, hidden=(32, 32), activation="relu", epochs=epochs, batch_size=32, lr=1e-3,
                     weight_decay=0.01, seed=seed)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    ra = model(feats(d["test_obs1"], d["test_acts1"]))
    rb = model(feats(d["test_obs2"], d["test_acts2"]))
    true = d["test_rews1"].sum(1) - d["test_rews2"].sum(1)
    acc = float(np.mean(np.sign(ra.sum(1) - rb.sum(1)) == np.sign(true)))
    corr = float(np.corrcoef(ra.reshape(-1), d["test_rews1"].reshape(-1))[0, 1])
    return {"wall": wall, "cpu": cpu, "acc": acc, "corr": corr}


def ensure_venv() -> tuple[Path | None, str]:
    py = VENV / "bin" / "python"
    if not py.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(VENV)], check=True,
                           capture_output=True, timeout=300)
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "imitation==1.0.1"], check=True,
                           capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as e:
            return None, f"could not create the imitation venv: {e}"
    chk = subprocess.run([str(py), "-c", "import imitation.algorithms.preference_comparisons, imitation, torch;"
                          "print(imitation.__version__, torch.__version__)"],
                         capture_output=True, text=True, timeout=300)
    if chk.returncode != 0:
        return None, "imitation does not import: " + chk.stderr.strip().splitlines()[-1]
    return py, chk.stdout.strip()


def run_imitation(py: Path, path: Path, epochs: int, seed: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([str(py), str(WORKER), str(path), str(epochs), str(seed)], capture_output=True,
                         text=True, timeout=1800, env=env)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_active(py: Path | None, d: dict, path: Path, seed: int) -> str:
    """Active selection: 1000 candidate fragment pairs -> the 100 with the highest ensemble variance."""
    from rewardkit.learn import load_reward_model
    from rewardkit.learn.active import select_queries
    weights = SCRATCH / f"active_members_{seed}.npz"
    im = None
    if py is not None:
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        out = subprocess.run([str(py), str(WORKER), str(path), "active", str(seed), str(weights)],
                             capture_output=True, text=True, timeout=1800, env=env)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        im = json.loads(out.stdout.strip().splitlines()[-1])
        ens = load_reward_model(weights)  # the same three networks imitation used
        o, a = d["traj_obs"][0, :5], d["traj_acts"][0, :5]
        probe_err = float(np.max(np.abs(ens.members[0](np.concatenate([o, a], 1)) - np.load(weights)["probe"])))
    else:
        from rewardkit.learn import MLPReward, RewardEnsemble
        rng = np.random.default_rng(seed)
        ens = RewardEnsemble([MLPReward([rng.normal(size=(6, 32)), rng.normal(size=(32, 32)), rng.normal(size=(32, 1))],
                                        [np.zeros(32), np.zeros(32), np.zeros(1)], "relu") for _ in range(3)])
        probe_err = float("nan")
    rng = np.random.default_rng(seed)
    o, a, T = d["traj_obs"], d["traj_acts"], d["traj_acts"].shape[1]

    def sample(n):
        ti, st = rng.integers(0, o.shape[0], n), rng.integers(0, T - 10 + 1, n)
        idx = st[:, None] + np.arange(10)[None, :]
        return np.concatenate([o[ti[:, None], idx], a[ti[:, None], idx]], axis=-1)

    w0, c0 = time.perf_counter(), time.process_time()
    fa, fb = sample(1000), sample(1000)
    chosen = select_queries(ens, fa, fb, 100)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert len(chosen) == 100
    if im is None:
        return f"| active selection 1000 -> 100 | {seed} | - | - | {wall:.3f} / {cpu:.3f} | - | - |"
    return (f"| active selection 1000 -> 100 (same 3 nets; max reward diff {probe_err:.1e}) | {seed} | "
            f"{im['wall']:.3f} / {im['cpu']:.3f} | - | {wall:.3f} / {cpu:.3f} | - | "
            f"{im['wall'] / wall:.0f}x, {im['cpu'] / cpu:.0f}x |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--configs", nargs="*", default=["1000x5", "3000x10"], help="PAIRSxEPOCHS (none: active row only)")
    ap.add_argument("--no-imitation", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    py, info = (None, "skipped (--no-imitation)") if args.no_imitation else ensure_venv()
    print(f"imitation: {info}\n")
    print("| pairs x epochs | seed | imitation wall / CPU (s) | imitation acc / corr "
          "| rewardkit wall / CPU (s) | rewardkit acc / corr | speed ratio (wall, CPU) |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for cfg in args.configs:
        n_pairs, epochs = (int(x) for x in cfg.split("x"))
        for seed in args.seeds:
            d = make_data(seed, n_pairs)
            path = SCRATCH / f"bt_data_{n_pairs}_{seed}.npz"
            np.savez(path, **d)
            rk = run_rewardkit(d, epochs, seed)
            im = run_imitation(py, path, epochs, seed) if py else None
            if im:
                ratio = (im["wall"] / rk["wall"], im["cpu"] / rk["cpu"])
                ratios.append(ratio)
                im_s = f"{im['wall']:.2f} / {im['cpu']:.2f} | {im['acc']:.3f} / {im['corr']:.3f}"
                r_s = f"{ratio[0]:.1f}x, {ratio[1]:.1f}x"
            else:
                im_s, r_s = "- | -", "-"
            print(f"| {n_pairs} x {epochs} | {seed} | {im_s} | {rk['wall']:.2f} / {rk['cpu']:.2f} | "
                  f"{rk['acc']:.3f} / {rk['corr']:.3f} | {r_s} |", flush=True)
    d = make_data(args.seeds[0], 10)
    path = SCRATCH / f"bt_data_active_{args.seeds[0]}.npz"
    np.savez(path, **d)
    print(run_active(py, d, path, args.seeds[0]), flush=True)
    if ratios:
        r = np.array(ratios)
        print(f"\ngeometric-mean speed ratio (imitation / rewardkit): wall {np.exp(np.log(r[:, 0]).mean()):.1f}x, "
              f"CPU {np.exp(np.log(r[:, 1]).mean()):.1f}x")


if __name__ == "__main__":
    main()
