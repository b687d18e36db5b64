"""Learners driven by the experiment runner: SB3 PPO and tabular Q-learning.

Both learners train on the *variant's* reward (a rewardkit reward applied by
:class:`~rewardkit.integrations.sb3.VecRewardWrapper` /
:class:`~rewardkit.integrations.gymnasium.RewardWrapper`) and are evaluated on the
*original* environment reward, on separate evaluation envs.

Common random numbers.  For a run with seed ``s`` (identical for every variant):

* the learner is seeded with ``s`` (PPO: ``PPO(seed=s)`` seeds torch, NumPy and the
  action space; Q-learning: ``QLearning(seed=s)``);
* training env ``i`` (``i = 0 .. n_envs-1``) is reset with seed ``1000*s + i`` once
  at the start and then keeps its own RNG (later layouts depend on how many
  episodes the agent finished, i.e. on the policy - unavoidable);
* evaluation episode ``k`` (``k = 0 .. episodes-1``) at *every* evaluation point is
  reset with seed ``1_000_000 + 1000*s + k`` on a fresh RNG stream, and stochastic
  evaluation actions are drawn from torch / NumPy generators seeded with that same
  number, so every variant is scored on the same layouts with the same noise, and
  successive points of one curve differ only through the policy.

Evaluation points are taken at step 0, then at the first rollout boundary at or
after each multiple of ``eval.every``, after the policy update on that rollout
(PPO collects ``n_steps * n_envs`` steps per rollout, so every run of an experiment
is evaluated at the same steps), and at the end of the run, which for PPO is the
first rollout boundary at or after the budget (:func:`planned_units`).
"""

from __future__ import annotations

import time
from typing import Any
from collections.abc import Callable, Mapping

import numpy as np

from rewardkit.core import ComposedReward, RewardTerm, build_reward
from rewardkit.core.registry import LEARNERS, load_plugins

from .envs import make_env

__all__ = ["EVAL_SEED_BASE", "LEARNERS", "eval_seed", "planned_units", "register_learner", "train", "train_seed"]

EVAL_SEED_BASE = 1_000_000

#: on_eval(step, values, term_returns); on_progress(step)
EvalCallback = Callable[[int, dict[str, Any], dict[str, float]], None]
ProgressCallback = Callable[[int], None]


def train_seed(seed: int, env_index: int) -> int:
    """Seed of training env ``env_index`` for run seed ``seed`` (``1000*seed + env_index``)."""
    return 1000 * int(seed) + int(env_index)


def eval_seed(seed: int, episode: int) -> int:
    """Seed of evaluation episode ``episode`` for run seed ``seed``.

    >>> eval_seed(2, 5)
    1002005
    """
    return EVAL_SEED_BASE + 1000 * int(seed) + int(episode)


class _EpisodeLog:
    """Training-episode statistics accumulated between two evaluation points."""

    def __init__(self, names: list[str]):
        self.names = names
        self.clear()

    def clear(self) -> None:
        self.env_returns: list[float] = []
        self.returns: list[float] = []
        self.terms: dict[str, list[float]] = {k: [] for k in self.names}

    def add(self, info: Mapping[str, Any]) -> None:
        if "rk/env_return" not in info:
            return
        self.env_returns.append(float(info["rk/env_return"]))
        self.returns.append(float(info.get("rk/return", np.nan)))
        for k in self.names:
            v = info.get(f"rk/return/{k}")
            if v is not None:
                self.terms[k].append(float(v))

    def summary(self) -> tuple[dict[str, Any], dict[str, float]]:
        vals = {"train_episodes": len(self.env_returns),
                "train_env_return": float(np.mean(self.env_returns)) if self.env_returns else None,
                "train_return": float(np.mean(self.returns)) if self.returns else None}
        terms = {k: float(np.mean(v)) for k, v in self.terms.items() if v}
        return vals, terms


def _term_names(reward: RewardTerm) -> list[str]:
    return list(reward.terms) if isinstance(reward, ComposedReward) else [reward.name]


def _eval_summary(returns: list[float], lengths: list[int], return_above: float) -> dict[str, Any]:
    r = np.asarray(returns, dtype=np.float64)
    return {"episodes": int(r.size), "return_mean": float(r.mean()), "return_std": float(r.std()),
            "success_rate": float(np.mean(r > return_above)), "length_mean": float(np.mean(lengths))}


def train(config: Mapping[str, Any], on_eval: EvalCallback, on_progress: ProgressCallback | None = None,
          reward: RewardTerm | None = None) -> int:
    """Run one training run described by a canonical run config; return the final step.

    ``config`` is :meth:`~rewardkit.runner.spec.ExperimentSpec.run_config`.
    """
    load_plugins(config.get("plugins"))  # a spawn worker registers the experiment's plugins itself
    if reward is None:
        reward = build_reward(config["reward"], field=f"variants.{config['variant']}.reward")
    loop = LEARNERS.get(config["learner"]["type"], "learner.type").factory
    return int(loop(config, reward, on_eval, on_progress))


def planned_units(config: Mapping[str, Any]) -> int:
    r"""Budget units a run of ``config`` really executes (what its progress bar counts to).

    PPO collects whole rollouts of :math:`R = n\_steps \cdot n\_envs` steps and stops at
    the first rollout boundary at or after the budget :math:`B`, so it runs
    :math:`\lceil B / R \rceil \, R` steps; every other learner runs exactly :math:`B`
    units (a registered learner that runs a different number reports it when it ends,
    see :class:`~rewardkit.runner.runner.Finished`).

    >>> ppo = {"learner": {"type": "ppo", "n_envs": 8, "params": {"n_steps": 128}}, "budget": {"steps": 3000}}
    >>> planned_units(ppo), planned_units({"learner": {"type": "q_learning"}, "budget": {"episodes": 50}})
    (3072, 50)
    """
    unit, budget = next(iter(config["budget"].items()))
    lcfg = config["learner"]
    if lcfg["type"] != "ppo" or unit != "steps":
        return int(budget)
    rollout = int(lcfg.get("n_envs", 8)) * int(lcfg.get("params", {}).get("n_steps", 2048))
    return -(-int(budget) // rollout) * rollout


def register_learner(name: str, loop: Callable[..., int] | None = None, *, override: bool = False):
    """Register a training loop ``loop(config, reward, on_eval, on_progress) -> final step`` as ``name``.

    The name goes into the shared :data:`rewardkit.core.registry.LEARNERS` (``learner.type``
    of an experiment); a name already taken raises
    :class:`~rewardkit.core.errors.DuplicateNameError` unless ``override=True``.

    >>> {'ppo', 'q_learning'} <= set(LEARNERS.names())
    True
    """
    return LEARNERS.register(name, loop, override=override)


# ----------------------------------------------------------------------------- PPO

def _evaluate_policy(predict: Callable[[np.ndarray, bool], np.ndarray], env_cfg: Mapping[str, Any], seed: int,
                     episodes: int, deterministic: bool, return_above: float, envs: list | None = None) -> dict:
    """Run ``episodes`` evaluation episodes in lock-step with one batched policy call per step."""
    import torch

    envs = envs if envs is not None else [make_env(env_cfg) for _ in range(episodes)]
    obs = [e.reset(seed=eval_seed(seed, k))[0] for k, e in enumerate(envs)]
    active = np.ones(episodes, dtype=bool)
    rets = np.zeros(episodes)
    lens = np.zeros(episodes, dtype=np.int64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(eval_seed(seed, 0))
        while active.any():
            idx = np.flatnonzero(active)
            actions = predict(np.stack([np.asarray(obs[k]) for k in idx]), deterministic)
            for j, k in enumerate(idx):
                a = actions[j]
                o, r, term, trunc, _ = envs[k].step(a.item() if np.ndim(a) == 0 else a)
                obs[k] = o
                rets[k] += float(r)
                lens[k] += 1
                if term or trunc:
                    active[k] = False
    return _eval_summary(rets.tolist(), lens.tolist(), return_above)


class _Coverage:
    """Visits per grid cell of the training envs, for envs that expose ``unwrapped.agent_pos`` (MiniGrid).

    Read after every vector step (an env that just ended its episode reports its reset
    cell); ``snapshot()`` is ``{"unique": cells visited, "cells": [[x, y, visits], ...]}``.
    """

    def __init__(self, envs: list[Any]):
        from rewardkit.explore.coverage import CoverageTracker

        self.units = [e.unwrapped for e in envs]
        self.tracker = CoverageTracker()

    @classmethod
    def of(cls, envs: list[Any]) -> _Coverage | None:
        return cls(envs) if envs and all(hasattr(e.unwrapped, "agent_pos") for e in envs) else None

    def record(self) -> None:
        self.tracker.update((int(u.agent_pos[0]), int(u.agent_pos[1])) for u in self.units if u.agent_pos is not None)

    def snapshot(self) -> dict[str, Any]:
        u = self.units[0]
        shape = [int(u.width), int(u.height)] if hasattr(u, "width") and hasattr(u, "height") else None
        return {"unique": self.tracker.unique,
                "cells": [[x, y, n] for (x, y), n in sorted(self.tracker.counts.items())], "shape": shape}


def _ppo_hook(every: int, evaluate: Callable[[int], None], log: _EpisodeLog, coverage: _Coverage | None,
              on_progress: ProgressCallback | None) -> Any:
    """An SB3 callback that logs episode terms, records coverage, reports progress and evaluates every ``every`` steps.

    ``hook.last_eval`` is the step of the last evaluation it ran.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class _Hook(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval = every
            self.last_eval = 0
            self.last_progress = 0.0

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", ()):
                if "rk/env_return" in info:
                    log.add(info)
            if coverage is not None:
                coverage.record()
            now = time.perf_counter()
            if on_progress is not None and now - self.last_progress > 0.25:
                self.last_progress = now
                on_progress(self.num_timesteps)
            return True

        def _on_rollout_start(self) -> None:
            # called after the previous rollout's policy update: the policy has
            # learned from every one of the num_timesteps steps collected so far
            if self.num_timesteps >= self.next_eval:
                evaluate(self.num_timesteps)
                self.last_eval = self.num_timesteps
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += every

    return _Hook()


@register_learner("ppo")
def _train_ppo(config: Mapping[str, Any], reward: RewardTerm, on_eval: EvalCallback,
               on_progress: ProgressCallback | None) -> int:
    """Stable-Baselines3 PPO on a DummyVecEnv of n_envs training envs (reward via VecRewardWrapper)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from rewardkit.integrations.sb3 import VecRewardWrapper

    env_cfg, lcfg, ev = config["env"], config["learner"], config["eval"]
    seed = int(config["seed"])
    budget = int(config["budget"]["steps"])
    n_envs = int(lcfg["n_envs"])
    base = DummyVecEnv([lambda: make_env(env_cfg) for _ in range(n_envs)])
    venv = VecRewardWrapper(base, reward)
    coverage = _Coverage.of(base.envs)
    model = PPO(lcfg.get("policy", "MlpPolicy"), venv, seed=seed, device="cpu", verbose=0, **lcfg["params"])
    # PPO(seed=s) seeds the envs with s + i, which overlaps between seeds s and s+1;
    # re-seed so env i's first reset (in learn()) uses train_seed(s, i) = 1000*s + i
    venv.seed(train_seed(seed, 0))
    eval_envs = [make_env(env_cfg) for _ in range(int(ev["episodes"]))]
    log = _EpisodeLog(_term_names(reward))
    t0 = time.perf_counter()

    def predict(obs: np.ndarray, deterministic: bool) -> np.ndarray:
        return model.predict(obs, deterministic=deterministic)[0]

    def evaluate(step: int) -> None:
        vals = _evaluate_policy(predict, env_cfg, seed, int(ev["episodes"]), bool(ev["deterministic"]),
                                float(ev["return_above"]), eval_envs)
        tv, terms = log.summary()
        vals.update(tv)
        vals["wall_s"] = time.perf_counter() - t0
        if coverage is not None:
            vals["coverage"] = coverage.snapshot()
        on_eval(step, vals, terms)
        log.clear()

    evaluate(0)
    hook = _ppo_hook(int(ev["every"]), evaluate, log, coverage, on_progress)
    model.learn(total_timesteps=budget, callback=hook, progress_bar=False)
    steps = int(model.num_timesteps)
    if hook.last_eval != steps:
        evaluate(steps)
    if on_progress is not None:
        on_progress(steps)
    venv.close()
    for e in eval_envs:
        e.close()
    return steps


# ---------------------------------------------------------------------- Q-learning

@register_learner("q_learning")
def _train_q(config: Mapping[str, Any], reward: RewardTerm, on_eval: EvalCallback,
             on_progress: ProgressCallback | None) -> int:
    """Tabular Q-learning with an explicit tie-break rule, on Discrete observation and action spaces."""
    from rewardkit.integrations.gymnasium import RewardWrapper
    from rewardkit.tabular.qlearning import QLearning

    env_cfg, p, ev = config["env"], config["learner"]["params"], config["eval"]
    seed = int(config["seed"])
    unit, budget = next(iter(config["budget"].items()))
    every = int(ev["every"])
    env = RewardWrapper(make_env(env_cfg), reward)
    n_s, n_a = int(env.observation_space.n), int(env.action_space.n)
    agent = QLearning(n_s, n_a, alpha=p["alpha"], gamma=p["gamma"], epsilon=p["epsilon"],
                      tie_break=p["tie_break"], seed=seed, q_init=p.get("q_init", 0.0))
    eval_envs = [make_env(env_cfg) for _ in range(int(ev["episodes"]))]
    log = _EpisodeLog(_term_names(reward))
    t0 = time.perf_counter()

    def evaluate(step: int) -> None:
        rets, lens = [], []
        for k, e in enumerate(eval_envs):
            rng = np.random.default_rng(eval_seed(seed, k))
            s, _ = e.reset(seed=eval_seed(seed, k))
            total, n = 0.0, 0
            while True:
                a = _q_action(agent.Q[int(s)], p["tie_break"], p["epsilon"], bool(ev["deterministic"]), rng)
                s, r, term, trunc, _ = e.step(a)
                total += float(r)
                n += 1
                if term or trunc:
                    break
            rets.append(total)
            lens.append(n)
        vals = _eval_summary(rets, lens, float(ev["return_above"]))
        tv, terms = log.summary()
        vals.update(tv)
        vals["wall_s"] = time.perf_counter() - t0
        on_eval(step, vals, terms)
        log.clear()

    steps = episodes = 0
    next_eval = every
    last_eval = 0
    evaluate(0)
    s, _ = env.reset(seed=train_seed(seed, 0))
    last_progress = 0.0
    while (steps if unit == "steps" else episodes) < budget:
        a = agent.act(int(s))
        s2, r, term, trunc, info = env.step(a)
        agent.update(int(s), a, float(r), int(s2), bool(term))
        steps += 1
        s = s2
        if term or trunc:
            episodes += 1
            log.add(info)
            s, _ = env.reset()
        done_units = steps if unit == "steps" else episodes
        if done_units >= next_eval and (unit == "steps" or term or trunc):
            evaluate(done_units)
            last_eval = done_units
            while next_eval <= done_units:
                next_eval += every
        now = time.perf_counter()
        if on_progress is not None and now - last_progress > 0.25:
            last_progress = now
            on_progress(done_units)
    final = steps if unit == "steps" else episodes
    if last_eval != final:
        evaluate(final)
    if on_progress is not None:
        on_progress(final)
    return final


def _q_action(q: np.ndarray, tie_break: str, epsilon: float, deterministic: bool, rng: np.random.Generator) -> int:
    """Greedy (or epsilon-greedy) action from one Q row, with the learner's tie-break rule,
    drawing randomness from the evaluation generator ``rng`` (never the learner's)."""
    if not deterministic and epsilon > 0 and rng.random() < epsilon:
        return int(rng.integers(q.shape[0]))
    if tie_break == "first":
        return int(np.argmax(q))
    best = np.flatnonzero(q == q.max())
    return int(best[0]) if best.size == 1 else int(rng.choice(best))
