"""CPU cost of every exploration bonus on recorded MiniGrid rollouts (a markdown table).

One command::

    python -m rewardkit.explore.timing                 # flat and image observations
    python -m rewardkit.explore.timing --obs image --latent 128

Records random-policy rollouts of ``n_envs`` x ``MiniGrid-DoorKey-8x8-v0`` (same-step
reset, so every row is a real transition) with ``FlatObsWrapper`` (2 835 values) and
``ImgObsWrapper`` (7x7x3), then for each module: construction time, the per-step path
(``observe`` on each of the ``T`` steps), the rollout path (one ``compute``) and one
``update`` on the rollout.  One torch thread; the first rollout warms up, the second
is timed.  The comparison with RLLTE lives in ``bench/explore/b1_modules.py``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any
from collections.abc import Callable

import numpy as np

__all__ = ["main", "record_rollouts", "time_module"]


def record_rollouts(kind: str, n_envs: int = 8, steps: int = 128, rollouts: int = 2, seed: int = 0) -> dict[str, np.ndarray]:
    """Random-policy MiniGrid DoorKey-8x8 rollouts ``(rollouts*steps, n_envs, ...)`` (``kind``: flat | image)."""
    import gymnasium as gym
    import minigrid  # noqa: F401
    from minigrid.wrappers import FlatObsWrapper, ImgObsWrapper

    wrap = FlatObsWrapper if kind == "flat" else ImgObsWrapper
    envs = [wrap(gym.make("MiniGrid-DoorKey-8x8-v0")) for _ in range(n_envs)]
    obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(envs)])
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"obs": [], "actions": [], "next_obs": [], "terminated": [], "truncated": []}
    for _ in range(rollouts * steps):
        a = rng.integers(0, 7, n_envs)
        res = [e.step(int(x)) for e, x in zip(envs, a, strict=False)]
        out["obs"].append(obs)
        out["actions"].append(a)
        out["next_obs"].append(np.stack([r[0] for r in res]))
        out["terminated"].append(np.array([r[2] for r in res]))
        out["truncated"].append(np.array([r[3] for r in res]))
        obs = np.stack([e.reset()[0] if (r[2] or r[3]) else r[0] for e, r in zip(envs, res, strict=False)])
    return {k: np.stack(v) for k, v in out.items()}


def _modules(shape: tuple[int, ...], latent: int) -> dict[str, Callable[[], Any]]:
    from .combine import e3b_x_rnd, ngu
    from .counts import CountBonus
    from .disagreement import Disagreement
    from .e3b import E3B
    from .icm import ICM
    from .ngu import EpisodicKNN
    from .noveld import NovelD
    from .rdd import RDD
    from .re3 import RE3
    from .ride import RIDE
    from .rnd import RND
    from .simhash import SimHashBonus

    a = {"obs_shape": shape}
    return {
        "CountBonus (product)": lambda: CountBonus("product"),
        "SimHashBonus": lambda: SimHashBonus(**a),
        "RND": lambda: RND(latent_dim=latent, **a),
        "RDD (DRND, 4 targets)": lambda: RDD(num_targets=4, latent_dim=latent, **a),
        "ICM": lambda: ICM(n_actions=7, latent_dim=latent, **a),
        "Disagreement": lambda: Disagreement(n_actions=7, **a),
        "E3B": lambda: E3B(n_actions=7, latent_dim=latent, **a),
        "RIDE": lambda: RIDE(n_actions=7, latent_dim=latent, **a),
        "NovelD": lambda: NovelD(latent_dim=latent, **a),
        "RE3": lambda: RE3(latent_dim=latent, **a),
        "EpisodicKNN (NGU)": lambda: EpisodicKNN(n_actions=7, **a),
        "NGU (kNN x RND)": lambda: ngu(n_actions=7, **a),
        "E3B x RND": lambda: e3b_x_rnd(n_actions=7, **a),
    }


def time_module(make: Callable[[], Any], data: dict[str, np.ndarray], steps: int) -> dict[str, float]:
    """Seconds for init, per-step observe over ``steps`` steps, one compute and one update."""
    t0 = time.perf_counter()
    m = make()
    init = time.perf_counter() - t0
    halves = [{k: v[i * steps:(i + 1) * steps] for k, v in data.items()} for i in range(2)]
    res: dict[str, float] = {"init": init}
    for i, b in enumerate(halves):  # i = 0 warms up
        t0 = time.perf_counter()
        for t in range(steps):
            m.observe(b["obs"][t], b["actions"][t], b["next_obs"][t], b["terminated"][t], b["truncated"][t])
        t_obs = time.perf_counter() - t0
        m.reset()
        t0 = time.perf_counter()
        m.compute(b)
        t_comp = time.perf_counter() - t0
        t0 = time.perf_counter()
        m.update(b)
        t_upd = time.perf_counter() - t0
        if i == 1:
            res.update(observe=t_obs, compute=t_comp, update=t_upd)
    return res


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--obs", nargs="+", default=["flat", "image"], choices=["flat", "image"])
    p.add_argument("--envs", type=int, default=8)
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--latent", type=int, default=64)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    n = args.envs * args.steps
    print(f"# rewardkit.explore module cost: {args.envs} x MiniGrid-DoorKey-8x8-v0, {args.steps}-step rollouts, "
          f"latent {args.latent}, 1 torch thread\n")
    for kind in args.obs:
        data = record_rollouts(kind, args.envs, args.steps)
        shape = data["obs"].shape[2:]
        print(f"## {kind} observations {shape}\n")
        print("| module | init (s) | observe s/1k trans | compute s/1k | update s/1k "
              "| trans/s (observe+update) | trans/s (compute+update) |")
        print("|---|---|---|---|---|---|---|")
        for name, make in _modules(shape, args.latent).items():
            r = time_module(make, data, args.steps)
            k = 1000.0 / n
            print(f"| {name} | {r['init']:.3f} | {r['observe'] * k:.3f} | {r['compute'] * k:.3f} | "
                  f"{r['update'] * k:.3f} | {n / (r['observe'] + r['update']):,.0f} | "
                  f"{n / (r['compute'] + r['update']):,.0f} |", flush=True)
        print()


if __name__ == "__main__":  # pragma: no cover
    main()
