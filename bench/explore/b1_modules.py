"""B1 – exploration-module throughput: rewardkit vs RLLTE (rllte-core 1.0.1) on the same rollouts.

One command::

    python bench/explore/b1_modules.py            # 5 recorded rollouts, 4 timed
    python bench/explore/b1_modules.py --quick    # 2 rollouts, 1 timed

What it does (research notes §8.1 / protocol B3 of the notes, "B1" in issue #3):

1. records random-policy rollouts of 8 x ``MiniGrid-DoorKey-8x8-v0`` (128 steps each,
   SAME_STEP autoreset so every row is a real transition) with two encodings: ``flat``
   (``FlatObsWrapper``, 2 835 floats) and ``image`` (``ImgObsWrapper``, transposed to
   3x7x7 CHW for both libraries);
2. feeds the *same arrays* to each rewardkit module (``compute`` + ``update`` per
   rollout) and, in a separate process of the scratch venv ``bench/_scratch/rllte_venv``
   (``pip install rllte-core==1.0.1 --no-deps`` + pynvml termcolor; never committed), to
   the RLLTE module (``watch`` per step, then ``compute(sync=True)``, which trains);
3. the first rollout warms up (first-call kernel selection, lazy init), the others are
   timed and the *best* one is kept for each library (the box is shared, so the minimum
   is the least load-disturbed estimate); prints init time, transitions/s and the speed
   ratio, then correctness checks.

Matched sizes: latent 128 for RND/ICM/E3B/RE3/RIDE/Disagreement, 32 for the
episodic kNN (RLLTE's defaults).  1 torch thread in both processes.
RLLTE's NGU needs ``mrs`` patched in (1.0.1 bug, notes §1.4-2).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRATCH = os.path.join(ROOT, "bench", "_scratch")
VENV_PY = os.path.join(SCRATCH, "rllte_venv", "bin", "python")
N_ENVS, T, ENV_ID, N_ACTIONS = 8, 128, "MiniGrid-DoorKey-8x8-v0", 7
MODULES = ["RND", "ICM", "E3B", "RE3", "RIDE", "PseudoCounts", "NGU", "Disagreement"]


# ----------------------------------------------------------------------------- data
def make_env(kind: str):
    import gymnasium as gym
    import minigrid  # noqa: F401
    from minigrid.wrappers import FlatObsWrapper, ImgObsWrapper

    def thunk():
        env = gym.make(ENV_ID)
        if kind == "flat":
            return FlatObsWrapper(env)
        env = ImgObsWrapper(env)
        space = gym.spaces.Box(0, 255, (3, 7, 7), np.uint8)
        return gym.wrappers.TransformObservation(env, lambda o: np.ascontiguousarray(o.transpose(2, 0, 1)), space)
    return thunk


def record(kind: str, rollouts: int, path: str) -> None:
    import gymnasium as gym
    envs = gym.vector.SyncVectorEnv([make_env(kind)] * N_ENVS, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    rng = np.random.default_rng(0)
    obs, _ = envs.reset(seed=list(range(N_ENVS)))
    OBS, NX, A, TE, TR = [], [], [], [], []
    for _ in range(rollouts * T):
        a = rng.integers(0, N_ACTIONS, N_ENVS)
        nxt, _, te, tr, info = envs.step(a)
        true_next = np.array(nxt, copy=True)
        for e in np.flatnonzero(te | tr):
            true_next[e] = info["final_obs"][e]
        OBS.append(obs), NX.append(true_next), A.append(a), TE.append(te), TR.append(tr)
        obs = nxt
    np.savez(path, obs=np.stack(OBS).astype(np.float32), next_obs=np.stack(NX).astype(np.float32),
             actions=np.stack(A).astype(np.int64), terminated=np.stack(TE), truncated=np.stack(TR))


def rollout(data, i: int) -> dict:
    s = slice(i * T, (i + 1) * T)
    return {k: data[k][s] for k in ("obs", "next_obs", "actions", "terminated", "truncated")}


# ----------------------------------------------------------------------------- rewardkit
def rk_module(name: str, obs_shape: tuple):
    from rewardkit.explore import combine
    from rewardkit.explore.counts import CountBonus
    from rewardkit.explore.disagreement import Disagreement
    from rewardkit.explore.e3b import E3B
    from rewardkit.explore.icm import ICM
    from rewardkit.explore.ngu import EpisodicKNN
    from rewardkit.explore.re3 import RE3
    from rewardkit.explore.ride import RIDE
    from rewardkit.explore.rnd import RND
    # flat obs: RLLTE's MLP encoder is 2835 -> 256 -> 128; rewardkit's 2835 -> 256 -> 256 -> latent is
    # slightly *more* work per row, so speed comes from the algorithm, not a smaller network
    a = dict(obs_shape=obs_shape, seed=0, **({"hidden": 256} if len(obs_shape) == 1 else {}))
    return {
        "RND": lambda: RND(latent_dim=128, **a),
        "ICM": lambda: ICM(n_actions=N_ACTIONS, latent_dim=128, **a),
        "E3B": lambda: E3B(n_actions=N_ACTIONS, latent_dim=128, **a),
        "RE3": lambda: RE3(latent_dim=128, k=5, storage_size=1000, **a),
        "RIDE": lambda: RIDE(n_actions=N_ACTIONS, latent_dim=128, **a),
        "PseudoCounts": lambda: EpisodicKNN(n_actions=N_ACTIONS, latent_dim=32, k=10, **a),
        "NGU": lambda: combine.ngu(obs_shape, N_ACTIONS, seed=0),
        "Disagreement": lambda: Disagreement(n_actions=N_ACTIONS, latent_dim=128, **a),
        "counts (exact, episodic)": lambda: CountBonus(mode="episodic", key_fn="obs_hash"),
        "counts (exact, product)": lambda: CountBonus(mode="product", key_fn="obs_hash"),
    }[name]()


def time_rk(name: str, data, n_roll: int) -> dict:
    import torch
    torch.set_num_threads(1)
    obs_shape = tuple(data["obs"].shape[2:])
    rk_module(name, obs_shape)  # imports (torch, module files) are not init time
    t0 = time.perf_counter()
    m = rk_module(name, obs_shape)
    init = time.perf_counter() - t0
    first = rollout(data, 0)
    m.warmup(first["next_obs"])
    times, bonus_t = [], []
    for i in range(n_roll):
        b = rollout(data, i)
        t0 = time.perf_counter()
        m.compute(b)
        t1 = time.perf_counter()
        m.update(b)
        times.append(time.perf_counter() - t0)
        bonus_t.append(t1 - t0)
    train_t = [a - b for a, b in zip(times, bonus_t, strict=False)]
    return {"init": init, **_best(times, bonus_t, train_t)}


def _best(times: list, bonus_t: list, train_t: list) -> dict:
    """Best of the timed rollouts (the first one warms up) for the total, scoring and training times."""
    best = lambda x: float(np.min(x[1:])) if len(x) > 1 else x[0]  # noqa: E731
    per = best(times)
    return {"sec_per_rollout": per, "tps": N_ENVS * T / per, "bonus_sec": best(bonus_t), "train_sec": best(train_t)}


# ----------------------------------------------------------------------------- RLLTE worker
def rllte_worker(kind: str, name: str, path: str, n_roll: int) -> None:
    import gymnasium as gym
    import torch as th
    th.set_num_threads(1)
    import warnings
    warnings.filterwarnings("ignore")
    from rllte.xplore import reward as R
    data = np.load(path)
    envs = gym.vector.SyncVectorEnv([make_env(kind)] * N_ENVS)
    extra = {"encoder_model": "espeholt"} if kind == "image" else {}
    t0 = time.perf_counter()
    m = getattr(R, name)(envs, device="cpu", **extra)
    init = time.perf_counter() - t0
    if name == "NGU" and not hasattr(m, "mrs"):
        m.mrs = 5.0  # 1.0.1 forgets to store it (fixed on main by PR #56, never released)
    times, watch_t, train_t, acc = [], [], [], [0.0]
    train = m.update

    def timed_update(samples):  # compute(sync=True) trains through self.update: time it apart
        t = time.perf_counter()
        train(samples)
        acc[0] += time.perf_counter() - t
    m.update = timed_update
    for i in range(n_roll):
        acc[0] = 0.0
        b = {k: th.as_tensor(v) for k, v in rollout(data, i).items()}
        samples = {"observations": b["obs"], "actions": b["actions"], "rewards": th.zeros(T, N_ENVS),
                   "terminateds": b["terminated"].float(), "truncateds": b["truncated"].float(),
                   "next_observations": b["next_obs"]}
        t0 = time.perf_counter()
        for t in range(T):
            m.watch(samples["observations"][t], samples["actions"][t], samples["rewards"][t],
                    samples["terminateds"][t], samples["truncateds"][t], samples["next_observations"][t])
        t1 = time.perf_counter()
        m.compute(samples, sync=True)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        watch_t.append(t1 - t0)
        train_t.append(acc[0])
    bonus_t = [a - b for a, b in zip(times, train_t, strict=False)]
    print("RESULT " + json.dumps({"init": init, **_best(times, bonus_t, train_t),
                                  "watch": float(np.mean(watch_t[1:] if len(watch_t) > 1 else watch_t))}))


def time_rllte(kind: str, name: str, path: str, n_roll: int) -> dict:
    if not os.path.exists(VENV_PY):
        return {"error": "no scratch venv (see module docstring)"}
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    p = subprocess.run([VENV_PY, __file__, "--rllte-worker", kind, name, path, str(n_roll)],
                       capture_output=True, text=True, env=env, timeout=900)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    err = (p.stderr.strip().splitlines() or ["?"])[-1]
    return {"error": err[:120]}


# ----------------------------------------------------------------------------- correctness
def correctness() -> list[tuple[str, str, bool]]:
    import torch
    from rewardkit.explore.counts import CountBonus
    from rewardkit.explore.e3b import E3B
    from rewardkit.explore.nets import forward_filtered_returns
    from rewardkit.explore.rnd import RND
    out = []
    # (i) E3B Sherman–Morrison inverse vs torch.linalg.inv after 640 steps, bonus at reset
    e3b = E3B(obs_shape=(16,), n_actions=3, latent_dim=32, seed=0)
    rng = np.random.default_rng(0)
    o = rng.normal(size=(641, 1, 16)).astype(np.float32)
    f = [False]
    phis = [e3b.embed(o[0])]
    e3b.observe(o[0], [0], o[1], f, f)  # registers s_0, scores s_1
    phis.append(e3b.embed(o[1]))
    for t in range(1, 640):
        e3b.observe(o[t], [0], o[t + 1], f, f)
        phis.append(e3b.embed(o[t + 1]))
    P = torch.tensor(np.concatenate(phis), dtype=torch.float64)
    C = 0.1 * torch.eye(32, dtype=torch.float64) + P.T @ P
    ref = torch.linalg.inv(C).numpy()
    rel = float(np.linalg.norm(e3b.c_inv[0] - ref) / np.linalg.norm(ref))
    out.append(("E3B Sherman–Morrison C^-1 vs torch.linalg.inv after 640 steps", f"rel. err {rel:.1e}", rel < 1e-4))
    e3b.observe(o[0], [0], o[1], [True], f)  # the episode ends here
    reset_ok = bool(np.allclose(e3b.c_inv[0], np.eye(32) / 0.1))
    b1 = float(e3b.observe(o[5], [0], o[6], f, f)[0])  # new episode: registers s_0=o[5], scores o[6]
    p0, p1 = e3b.embed(o[5])[0], e3b.embed(o[6])[0]
    want = float(p1 @ np.linalg.inv(0.1 * np.eye(32) + np.outer(p0, p0)) @ p1)
    out.append(("E3B: C^-1 reset to I/lambda at episode end; first bonus = phi1'(lambda I + phi0 phi0')^-1 phi1",
                f"reset {reset_ok}, |diff| {abs(b1 - want):.1e}", reset_ok and abs(b1 - want) < 1e-6 * max(1, want)))
    # (ii) RND decays >= 10x on a state repeated 1000 times
    rnd = RND(obs_shape=(16,), seed=0, reward_norm=False)
    rnd.warmup(rng.normal(size=(256, 16)))
    s = np.ones((1, 16), dtype=np.float32)
    before = float(rnd.raw_bonus(s)[0])
    rep = np.repeat(s, 100, axis=0)
    for _ in range(10):
        rnd.update({"obs": rep, "next_obs": rep})
    after = float(rnd.raw_bonus(s)[0])
    out.append(("RND on a state repeated 1000 times decays >= 10x", f"{before:.3g} -> {after:.3g} ({before / after:.0f}x)",
                before / after >= 10))
    # (iii) exact episodic 1/sqrt(n) for a scripted key sequence
    cb = CountBonus(mode="episodic", key_fn="explicit")
    seq = [3, 3, 5, 3, 5, 7, 3]
    got = [float(cb.observe([[0]], [0], [[k]], f, f)[0]) for k in seq]
    want, seen = [], {0: 1}
    for k in seq:
        seen[k] = seen.get(k, 0) + 1
        want.append(1 / np.sqrt(seen[k]))
    worst = max(abs(a - b) for a, b in zip(got, want, strict=False))
    out.append(("counts: episodic bonus is exactly 1/sqrt(n)", f"max |diff| {worst:.1e}", got == want))
    # (iv) reward forward filter runs along time (CleanRL #360 regression)
    r = rng.random((5, 3))
    R, _ = forward_filtered_returns(r, 0.9)
    manual = np.zeros(3)
    ok = True
    for t in range(5):
        manual = 0.9 * manual + r[t]
        ok &= bool(np.allclose(R[t], manual))
    out.append(("RFF accumulates along time per env (CleanRL #360)", "matches manual loop" if ok else "mismatch", ok))
    return out


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 rollouts (1 timed) instead of 5 (4 timed)")
    ap.add_argument("--kinds", default="flat,image")
    ap.add_argument("--modules", default=",".join(MODULES))
    ap.add_argument("--counts-repeats", type=int, default=0, metavar="R",
                    help="only the exact counts vs RLLTE PseudoCounts, R interleaved rounds (A B A B) with the load")
    args = ap.parse_args()
    n_roll = 2 if args.quick else 5
    os.makedirs(SCRATCH, exist_ok=True)
    if args.counts_repeats:
        return counts_interleaved(args.kinds.split(","), n_roll, args.counts_repeats)
    print(f"# B1 exploration modules: rewardkit vs RLLTE 1.0.1 ({N_ENVS} x {ENV_ID}, {T}-step rollouts, "
          f"best of {n_roll - 1} timed after 1 warm-up, 1 torch thread)\n")
    print("Bonus path = scoring a rollout (rewardkit `compute`; RLLTE `watch` per step + `compute` minus its "
          "training); total = bonus path + training the module's networks on the rollout (`update`).\n")
    print("| module | obs | rewardkit init (s) | RLLTE init (s) | rewardkit trans/s | RLLTE trans/s | "
          "speed ratio, total | speed ratio, bonus path |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for kind in args.kinds.split(","):
        path = os.path.join(SCRATCH, f"b1_{kind}_{n_roll}.npz")
        if not os.path.exists(path):
            record(kind, n_roll, path)
        data = dict(np.load(path))
        for name in args.modules.split(","):
            rk = time_rk(name, data, n_roll)
            rl = time_rllte(kind, name, path, n_roll)
            ratio = rk["tps"] / rl["tps"] if "tps" in rl else float("nan")
            bratio = rl["bonus_sec"] / rk["bonus_sec"] if "bonus_sec" in rl else float("nan")
            rows.append((name, kind, rk, rl, ratio))
            rl_init = f"{rl['init']:.2f}" if "init" in rl else "—"
            rl_tps = f"{rl['tps']:,.0f}" if "tps" in rl else f"error: {rl.get('error')}"
            print(f"| {name} | {kind} | {rk['init']:.3f} | {rl_init} | {rk['tps']:,.0f} | {rl_tps} | "
                  f"{'—' if ratio != ratio else f'{ratio:.1f}x'} | {'—' if bratio != bratio else f'{bratio:.1f}x'} |",
                  flush=True)
        for extra in ("counts (exact, episodic)", "counts (exact, product)"):
            rk = time_rk(extra, data, n_roll)
            pc = next((r for r in rows if r[0] == "PseudoCounts" and r[1] == kind), None)
            ratio = rk["tps"] / pc[3]["tps"] if pc and "tps" in pc[3] else float("nan")
            bratio = pc[3]["bonus_sec"] / rk["bonus_sec"] if pc and "bonus_sec" in pc[3] else float("nan")
            print(f"| {extra} (vs RLLTE PseudoCounts) | {kind} | {rk['init']:.3f} | — | {rk['tps']:,.0f} | "
                  f"{pc[3].get('tps', float('nan')) if pc else float('nan'):,.0f} | "
                  f"{'—' if ratio != ratio else f'{ratio:.1f}x'} | {'—' if bratio != bratio else f'{bratio:.1f}x'} |",
                  flush=True)
    print("\n## Where the time goes (ms per rollout of 1 024 transitions, best of the timed rollouts)\n")
    print("Training = the module's `update` (RLLTE: timed inside `compute(sync=True)`). 'Cap' = RLLTE total / "
          "RLLTE training: the largest total speed-up of any library that trains the same network as fast as "
          "RLLTE does.\n")
    print("| module | obs | rewardkit scoring | rewardkit training | RLLTE scoring | RLLTE training | "
          "RLLTE training share | cap |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kind, rk, rl, _ in rows:
        if rl.get("train_sec", 0.0) > 0:
            tot = rl["bonus_sec"] + rl["train_sec"]
            print(f"| {name} | {kind} | {1e3 * rk['bonus_sec']:.1f} | {1e3 * rk['train_sec']:.1f} | "
                  f"{1e3 * rl['bonus_sec']:.1f} | {1e3 * rl['train_sec']:.1f} | {rl['train_sec'] / tot:.0%} | "
                  f"{tot / rl['train_sec']:.1f}x |")
    if "flat" in args.kinds.split(","):
        d = np.load(os.path.join(SCRATCH, f"b1_flat_{n_roll}.npz"))
        used = [int(((rollout(d, i)["obs"] != 0) | (rollout(d, i)["next_obs"] != 0)).reshape(-1, d["obs"].shape[-1])
                    .any(axis=0).sum()) for i in range(n_roll)]
        print(f"\nFlatObs columns that are non-zero somewhere in a rollout (what `ZeroColumnSkippingLinear` "
              f"multiplies): {min(used)}–{max(used)} of {d['obs'].shape[-1]}.")
    print("\n## Correctness checks (rewardkit)\n")
    print("| check | value | pass |")
    print("|---|---|---|")
    for name, val, ok in correctness():
        print(f"| {name} | {val} | {'yes' if ok else 'NO'} |")


def counts_interleaved(kinds: list[str], n_roll: int, repeats: int) -> None:
    """Exact counts (rewardkit) vs RLLTE PseudoCounts, timed back to back in each round, the order alternating
    (A B, B A, ...), with the 1-minute load average at each round's start; prints the range of the ratios."""
    print(f"# Exact counts vs RLLTE PseudoCounts, {repeats} interleaved rounds ({N_ENVS} x {ENV_ID}, {T}-step "
          f"rollouts, best of {n_roll - 1} timed after 1 warm-up, 1 torch thread)\n")
    print("| obs | round | load average | RLLTE PseudoCounts trans/s | counts (episodic) trans/s | "
          "counts (product) trans/s | ratio episodic | ratio product |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        path = os.path.join(SCRATCH, f"b1_{kind}_{n_roll}.npz")
        if not os.path.exists(path):
            record(kind, n_roll, path)
        data = dict(np.load(path))
        ratios = []
        for r in range(repeats):
            load = os.getloadavg()[0]
            rk: dict = {}
            for side in (("rk", "rl") if r % 2 == 0 else ("rl", "rk")):
                if side == "rl":
                    rl = time_rllte(kind, "PseudoCounts", path, n_roll)
                else:
                    rk = {m: time_rk(f"counts (exact, {m})", data, n_roll) for m in ("episodic", "product")}
            if "tps" not in rl:
                print(f"| {kind} | {r + 1} | {load:.1f} | error: {rl.get('error')} | | | | |")
                continue
            re_, rp = rk["episodic"]["tps"] / rl["tps"], rk["product"]["tps"] / rl["tps"]
            ratios += [re_, rp]
            print(f"| {kind} | {r + 1} | {load:.1f} | {rl['tps']:,.0f} | {rk['episodic']['tps']:,.0f} | "
                  f"{rk['product']['tps']:,.0f} | {re_:.1f}x | {rp:.1f}x |", flush=True)
        if ratios:
            print(f"\n{kind}: **{min(ratios):.0f}–{max(ratios):.0f}x** over {repeats} rounds (both count modes)\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rllte-worker":
        rllte_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
