"""Shared runner of the SB3 PPO exploration benchmarks (B2, B3, B4).

Setup (research notes §8.2): ``make_vec_env(env_id, n_envs=8, wrapper_class=...)``
with ``Monitor`` innermost (logged returns stay extrinsic), ``FlatObsWrapper``,
``AgentPositionInfo`` (privileged position for count keys / coverage), SB3 PPO
``MlpPolicy, n_steps=128, batch_size=256, n_epochs=4, ent_coef=0.01``, 1 torch thread.
The bonus reaches the advantages through
:class:`rewardkit.explore.sb3.IntrinsicRewardCallback` (GAE recomputed).

Every run writes ``bench/_scratch/results/<bench>/<run>.json`` (curve, wall time, time
spent inside the bonus callback, guard report); a finished run is not re-run, so a
benchmark can be resumed and its table printed from whatever has finished.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from collections.abc import Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(ROOT, "bench", "_scratch", "results")


def make_bonus(variant: str, obs_shape: tuple, n_actions: int, seed: int):
    """(bonus, coef, key_info, normalize) for a named variant; ``None`` bonus for plain PPO."""
    from rewardkit.explore.counts import CountBonus
    if variant == "none":
        return None, 0.0, None, None
    if variant == "count_sum":  # global + first visit (Henaff et al. 2023's additive combination)
        from rewardkit.explore.combine import Sum
        return Sum([CountBonus(mode="global"), CountBonus(mode="first_visit")], name="count_sum"), 0.01, "agent_pos", None
    if variant.startswith("count_"):  # count_<mode>[_<coef>]
        parts = variant.split("_")
        mode = "_".join(p for p in parts[1:] if not p[0].isdigit())
        coef = float(parts[-1]) if parts[-1][0].isdigit() else 0.01
        return CountBonus(mode=mode, name=f"count_{mode}"), coef, "agent_pos", None
    if variant == "e3b":
        from rewardkit.explore.e3b import E3B
        return E3B(obs_shape=obs_shape, n_actions=n_actions, latent_dim=32, seed=seed), 0.01, None, "reward"
    if variant == "rnd":
        from rewardkit.explore.rnd import RND
        return RND(obs_shape=obs_shape, seed=seed), 0.01, None, None
    raise ValueError(f"unknown variant {variant!r}")


def feed_guard(guard: Any, last_rollout: dict[str, Any]) -> None:
    """Feed one rollout of :class:`IntrinsicRewardCallback` to a bonus-share guard, step by step."""
    b = last_rollout["batch"]
    for t in range(last_rollout["extrinsic"].shape[0]):
        guard.update(last_rollout["env_rewards"][t], last_rollout["intrinsic"][t], b["terminated"][t], b["truncated"][t])


def curve_row(eps: list[dict[str, Any]], step: int, wall: float, bonus_cb: Any, guard: Any) -> dict[str, Any]:
    """One learning-curve point: recent episode return/success, bonus share, unique cells and guard flag."""
    from rewardkit.explore.sb3 import bonus_share

    rets = [e["r"] for e in eps]
    row = {"step": step, "return": float(np.mean(rets)) if rets else 0.0,
           "success": float(np.mean([r > 0 for r in rets])) if rets else 0.0,
           "episodes": len(eps), "wall": wall}
    if bonus_cb is not None and bonus_cb.last_rollout:
        row["share"] = bonus_share(bonus_cb.last_rollout["intrinsic"], bonus_cb.last_rollout["env_rewards"])
        if bonus_cb.coverage is not None:
            row["unique_cells"] = bonus_cb.coverage.unique
    if guard is not None:
        row["guard_flagged"] = guard.flagged
    return row


def run_sb3(bench: str, env_id: str, variant: str, seed: int, steps: int, key_fields: dict | None = None,
            reseed: list[int] | None = None, guard: bool = True, fresh: bool = False,
            tag_extra: str = "", keep_episodes: bool = False) -> dict[str, Any]:
    """Train SB3 PPO with one bonus variant; returns (and caches) the result dict."""
    if variant.endswith("@state"):  # count key = full privileged state (notes §8.2 probes)
        key_fields = {"direction": True, "carrying": True, "grid": True}
    out_path = run_path(bench, env_id, variant, seed, steps, reseed, tag_extra)
    if os.path.exists(out_path) and not fresh:
        with open(out_path) as f:
            return json.load(f)
    import gymnasium as gym
    import minigrid  # noqa: F401 - the import registers the MiniGrid env ids with gymnasium
    import torch
    from minigrid.wrappers import FlatObsWrapper, ReseedWrapper
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList
    from stable_baselines3.common.env_util import make_vec_env

    from rewardkit.explore.guard import BonusShareGuard
    from rewardkit.explore.sb3 import IntrinsicRewardCallback
    from rewardkit.explore.wrappers import AgentPositionInfo

    torch.set_num_threads(1)
    kf = dict(key_fields or {})

    def wrap(env):
        env = FlatObsWrapper(env)
        return AgentPositionInfo(env, **kf)

    if reseed:  # 1 context: every reset uses the same layout
        vec = make_vec_env(lambda: ReseedWrapper(gym.make(env_id), seeds=reseed), n_envs=8, seed=seed,
                           wrapper_class=wrap)
    else:
        vec = make_vec_env(env_id, n_envs=8, seed=seed, wrapper_class=wrap)
    obs_shape = vec.observation_space.shape
    bonus, coef, key_info, normalize = make_bonus(variant.split("@")[0], obs_shape, int(vec.action_space.n), seed)
    model = PPO("MlpPolicy", vec, n_steps=128, batch_size=256, n_epochs=4, ent_coef=0.01, seed=seed, verbose=0)

    curve: list[dict[str, Any]] = []
    timing = {"bonus": 0.0}
    g = BonusShareGuard(num_envs=8, warn=False, history=10**7 if keep_episodes else 1000) if guard else None

    class Timed(IntrinsicRewardCallback):
        def _on_step(self):
            t0 = time.perf_counter()
            r = super()._on_step()
            timing["bonus"] += time.perf_counter() - t0
            return r

        def _on_rollout_end(self):
            t0 = time.perf_counter()
            super()._on_rollout_end()
            timing["bonus"] += time.perf_counter() - t0
            if g is not None and self.last_rollout:
                feed_guard(g, self.last_rollout)

    class Curve(BaseCallback):
        def _on_rollout_end(self):
            curve.append(curve_row(list(self.model.ep_info_buffer), int(self.num_timesteps),
                                   time.perf_counter() - t_start, bonus_cb, g))

        def _on_step(self):
            return True

    bonus_cb = Timed(bonus, coef=coef, key_info=key_info, normalize=normalize) if bonus is not None else None
    cbs = [c for c in (bonus_cb, Curve()) if c is not None]
    t_start, c_start = time.perf_counter(), time.process_time()
    model.learn(steps, callback=CallbackList(cbs))
    wall = time.perf_counter() - t_start
    cpu = time.process_time() - c_start  # all threads of this process; 1 torch thread
    res = {"bench": bench, "env": env_id, "variant": variant, "seed": seed, "steps": steps,
           "contexts": "1" if reseed else "inf", "wall": wall, "cpu": cpu, "bonus_time": timing["bonus"],
           "sps": steps / wall, "curve": curve,
           "guard": (g.report() if g is not None else None)}
    if keep_episodes and g is not None:  # every episode the guard saw, for offline replays
        from dataclasses import asdict
        res["episodes"] = [asdict(e) for e in g.episodes]
    if res["guard"] is not None:
        res["guard"].pop("last_episodes", None)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(res, f)
    vec.close()
    return res


def run_path(bench: str, env_id: str, variant: str, seed: int, steps: int, reseed: list[int] | None = None,
             tag_extra: str = "") -> str:
    """Where :func:`run_sb3` caches a run."""
    tag = f"{env_id}__{variant}__ctx{'1' if reseed else 'inf'}__s{seed}__{steps}{tag_extra}"
    return os.path.join(RESULTS, bench, tag + ".json")


def run_or_cached(bench: str, env_id: str, variant: str, seed: int, steps: int, report_only: bool,
                  **kwargs: Any) -> dict[str, Any] | None:
    """The cached result of a run, training it first unless ``report_only`` (then None if it never finished).

    A crashed run comes back as ``{"error": ...}`` instead of stopping the benchmark.
    """
    cached = os.path.exists(run_path(bench, env_id, variant, seed, steps, kwargs.get("reseed"),
                                     kwargs.get("tag_extra", "")))
    if report_only and not cached:
        return None
    if not cached:
        log(f"{bench}: {env_id} {variant} seed {seed} {steps:,} steps ...")
    r = guarded(lambda: run_sb3(bench, env_id, variant, seed, steps, **kwargs))
    if not cached:
        done = r["error"] if "error" in r else f"{r['wall']:.0f} s"
        log(f"{bench}: {env_id} {variant} seed {seed} done: {done}")
    return r


def first_step_at(curve: list[dict], key: str, value: float) -> int | None:
    """First logged step where ``key >= value`` over a full window of 100 episodes."""
    for row in curve:
        if row.get("episodes", 0) >= 100 and row.get(key, 0.0) >= value:
            return int(row["step"])
    return None


def final(curve: list[dict], key: str) -> float:
    return float(curve[-1][key]) if curve else float("nan")


def log(msg: str) -> None:
    print(msg, flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "progress.log"), "a") as f:
        f.write(time.strftime("%H:%M:%S ") + msg + "\n")


def guarded(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as e:  # a crashed run must not stop the whole benchmark
        return {"error": f"{type(e).__name__}: {e}"}
