"""ExploRS chain: rewardkit vs the paper's reference code on the same protocol (curves + speed ratio).

The reference implementation (``machine-teaching-group/neurips2022_exploration-guided-reward-shaping``,
``code_tabular/``) is not on PyPI.  This script takes it from the local git mirror
(``/work/.mirror/...``; fetch it first) into the git-ignored ``bench/_scratch/explors_ref/``
and runs it unmodified, with three run-time shims for APIs that no longer exist here:

* ``np.float`` (removed in NumPy 1.24) is aliased to ``float``;
* ``gym`` is aliased to ``gymnasium`` (only ``gym.Env`` and ``gym.spaces`` are used);
* ``torch`` is replaced by a stub (the tabular code only reads ``torch.device``);
* ``plot_results`` (plotting, only used under ``__main__``) is replaced by an empty module.

Both implementations run the Q-learning chain experiment with the distractor (n1=20, n2=40, H=40,
alpha=0.1, epsilon=0.05, random ties, N_r=5, N_p=2, buffers 10/5, eval every 100 episodes x 5
rollouts) for the same seeds.  The random streams differ (the reference uses the global
``np.random``), so curves are compared statistically, and the wall-time ratio is printed.

Usage:
    python bench/design/explors_reference.py                 # 3 seeds x 5000 episodes, orig/explob/explors
    python bench/design/explors_reference.py --seeds 2 --episodes 2000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

from rewardkit.shaping.explors import first_crossing, run_explors
from rewardkit.tabular import chain_with_distractor

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / "bench" / "_scratch" / "explors_ref"
MIRROR = Path("/work/.mirror/machine-teaching-group+neurips2022_exploration-guided-reward-shaping/repo")
FILES = ("env_chain_n1_n2.py", "env_generic_with_teacher.py", "agent_Q_learning_tabular.py",
         "agent_reinforce_tabular.py", "utils.py", "parameters.py", "plot_results.py", "teaching_chain_n1_n2.py")
NAMES = {"orig": "Orig", "explob": "ExploB", "explors": "ExploRS", "selfrs": "SelfRS", "sors": "SORS_with_Rbar"}


def prepare() -> bool:
    if all((SCRATCH / f).exists() for f in FILES):
        return True
    if not MIRROR.exists():
        print(f"reference mirror not found at {MIRROR}; fetch github:machine-teaching-group/"
              "neurips2022_exploration-guided-reward-shaping first", file=sys.stderr)
        return False
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        src = subprocess.run(["git", "--git-dir", str(MIRROR), "show", f"HEAD:code_tabular/{f}"],
                             capture_output=True, text=True, check=True).stdout
        (SCRATCH / f).write_text(src)
    return True


def install_shims() -> None:
    if not hasattr(np, "float"):
        np.float = float  # type: ignore[attr-defined]
    import gymnasium
    gym_shim = types.ModuleType("gym")
    gym_shim.Env = gymnasium.Env
    gym_shim.spaces = gymnasium.spaces
    sys.modules.setdefault("gym", gym_shim)
    sys.modules.setdefault("gym.spaces", gymnasium.spaces)
    torch_stub = types.ModuleType("torch")
    torch_stub.device = lambda name: name
    torch_stub.cuda = types.SimpleNamespace(is_available=lambda: False)
    sys.modules["torch_stub_for_reference"] = torch_stub
    # plot_results.py sets a LaTeX preamble that current matplotlib rejects; it is only used by __main__
    sys.modules.setdefault("plot_results", types.ModuleType("plot_results"))


def run_reference(teacher: str, seed: int, episodes: int) -> tuple[np.ndarray, float]:
    real_torch = sys.modules.get("torch")
    sys.modules["torch"] = sys.modules["torch_stub_for_reference"]
    sys.path.insert(0, str(SCRATCH))
    try:
        import env_chain_n1_n2  # type: ignore
        import teaching_chain_n1_n2 as tc  # type: ignore
        tc.teaching.teaching_args["N_Q_learning"] = episodes + 1
        np.random.seed(seed)
        env = env_chain_n1_n2.ChainEnvironment({"Rmax": 1, "n_1": 20, "n_2": 40, "n_2_subgoal": 0.01,
                                                "n2_subgoal_position": 15, "n_actions:": 2, "gamma": 0.99,
                                                "randomMoveProb": 0.05, "H": 40})
        t0 = time.time()
        with contextlib.redirect_stdout(io.StringIO()):
            acc = tc.teaching(env, NAMES[teacher], "Q_learning").end_to_end_training()
        secs = time.time() - t0
        return np.asarray(acc[f"expected_reward_env_orig_{NAMES[teacher]}"]), secs
    finally:
        sys.path.remove(str(SCRATCH))
        if real_torch is not None:
            sys.modules["torch"] = real_torch
        else:
            sys.modules.pop("torch", None)


def fmt(v: np.ndarray) -> str:
    return f"{v.mean():.2f}±{(v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0):.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=5000)
    ap.add_argument("--variants", default="orig,explob,explors")
    args = ap.parse_args(argv)
    if not prepare():
        return 0
    install_shims()
    mdp, _ = chain_with_distractor()
    seeds = list(range(args.seeds))
    cps = [c for c in (1000, 2500, 5000) if c <= args.episodes]
    rows = []
    time_ref = time_rk = 0.0
    for v in args.variants.split(","):
        for impl in ("reference", "rewardkit"):
            curves, crosses, secs = [], [], []
            for s in seeds:
                if impl == "reference":
                    y, sec = run_reference(v, s, args.episodes)
                else:
                    t0 = time.time()
                    y = run_explors(mdp, v, args.episodes, tie_break="random", seed=s)["eval_return"]
                    sec = time.time() - t0
                x = np.arange(len(y)) * 100
                curves.append(y[: len(x)])
                crosses.append(first_crossing(x, y, 10.0))
                secs.append(sec)
                print(f"  {impl:9s} {v:8s} seed {s}: final {y[-1]:.2f} cross {crosses[-1]} ({sec:.1f}s)",
                      file=sys.stderr, flush=True)
            Y = np.array(curves)
            if impl == "reference":
                time_ref += sum(secs)
            else:
                time_rk += sum(secs)
            cells = [fmt(Y[:, c // 100]) for c in cps]
            rows.append(f"| {v} | {impl} | " + " | ".join(cells) +
                        f" | {', '.join(str(c) for c in crosses)} | {np.mean(secs):.1f} |")
    cmd = "python bench/design/explors_reference.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = ("| teacher | implementation | " + " | ".join(f"@{c}" for c in cps)
              + " | first episode with 5-pt moving mean ≥ 10 | s/run |")
    out = [f"### ExploRS chain with distractor: reference code vs rewardkit ({len(seeds)} seeds, {args.episodes} episodes)\n",
           f"Command: `{cmd.strip()}`\n", header, "|---|---|" + "---|" * (len(cps) + 2), *rows]
    out.append(f"\nWall time: reference {time_ref:.0f} s, rewardkit {time_rk:.0f} s; "
               f"speed ratio reference/rewardkit = {time_ref / max(time_rk, 1e-9):.2f}x")
    print("\n".join(out))
    res = ROOT / "bench" / "design" / "results" / "explors"
    res.mkdir(parents=True, exist_ok=True)
    (res / "explors_reference.md").write_text("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
