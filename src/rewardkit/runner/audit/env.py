"""``rewardkit audit reward.yaml --env ID``: check an environment reward before training on it.

A seeded uniformly random policy explores the environment through
:class:`~rewardkit.core.wrappers.RewardWrapper` for ``steps`` steps.  The *task reward* is the
environment's own reward (``info["rk/env_reward"]``); every other term is *auxiliary*.  When
states have a discrete key (a ``Discrete`` observation, MiniGrid's ``info["minigrid/state"]``
from the ``state_info`` wrapper, or ``state_key="info:<key>"``), the visited transitions form an
empirical tabular MDP :math:`\\hat T(s'|s,a) = N(s,a,s')/N(s,a)` (unvisited pairs: self-loops
with reward 0) on which the planning checks run exactly.

Checks (each green / yellow / red with its number):

* ``terms.dominance`` - the largest auxiliary share of the absolute weighted reward,
  :math:`s_i = \\overline{|w_i r_i|} / \\sum_j \\overline{|w_j r_j|}` (yellow ≥ 0.6, red ≥ 0.9; at most
  yellow for a potential-based term, which cannot change optimal policies);
  per-term scale (mean, std, min, max of :math:`w_i r_i`) in the details.
* ``shaping.potential`` - is each auxiliary term potential-based on the visited transitions?
  Least squares for :math:`\\Phi` in :math:`F(s,a,s') = \\gamma\\Phi(s') - \\Phi(s)` (with
  :math:`\\Phi = 0` after termination); relative residual below ``1e-6`` means potential-based,
  which leaves every optimal policy unchanged (Ng, Harada & Russell 1999).  On a
  :class:`~rewardkit.tabular.TabularEnv` the exact certificate of
  :func:`~rewardkit.shaping.invariance.invariance_slack` is computed on the true MDP instead.
* ``hacking.farming`` - the task return lost by the designed reward's optimal policy on the
  empirical MDP, :math:`1 - J_{task}(\\pi^*_{designed}) / J_{task}(\\pi^*_{task})` (yellow ≥ 0.05,
  red ≥ 0.2): a bonus or shaping term that can be collected in loops makes the optimum farm it.
* ``hacking.tampering`` - on an env that declares its reward sources (a ``reward_files``
  attribute, as :class:`~rewardkit.audit.tampering.RewardTamperingEnv` does), any change of their
  bytes during the run is red (:class:`~rewardkit.audit.tampering.TamperGuard`; Denison et al. 2024).
* ``hacking.length`` / ``hacking.time`` - Spearman correlation of the episode return with the
  episode length, and of the step reward (without its potential-based terms, which telescope) with
  the time step, in excess of the task reward's own (yellow ≥ 0.3, red ≥ 0.6).
* ``distance.epic`` - EPIC distance (Gleave et al. 2021) between the designed and the task reward
  on the empirical ``(s, a, s')`` table, weighted by the visit frequencies (STARC's in the
  details).  Unvisited triples take the fitted potential for potential-based terms and the
  ``(s, a)`` mean otherwise (yellow ≥ 0.2, red ≥ 0.5).
* ``stability.policy_cliff`` - :func:`rewardkit.audit.cliff.policy_cliff` on the empirical MDP with
  the designed reward: the share of states with tied optimal actions, where an ε change of the
  reward flips the argmax policy (yellow when the cliff exists on ≥ 25 % of the states and the
  designed reward ties more states than the task reward does: ties the environment makes, such
  as MiniGrid's no-op actions, are not the reward's fault).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from ...audit.checks import Check, grade
from ...audit.cliff import degenerate_states, policy_cliff
from ...audit.distances import epic_distance, starc_distance
from ...audit.evaluation import spearman
from ...audit.tampering import TamperGuard
from ...core.errors import ConfigError
from ...core.vecstep import ENV_REWARD, STEP_TERMS
from ...core.wrappers import RewardWrapper
from ...tabular import TabularEnv, TabularMDP
from ..envs import make_env

__all__ = ["Rollout", "audit_env", "collect_rollout"]

_MAX_STATES = 3000


@dataclass
class Rollout:
    """Transitions of the exploratory run (``keys`` are ``None`` without a discrete state key)."""

    terms: dict[str, np.ndarray]
    weights: dict[str, float]
    env_reward: np.ndarray
    total: np.ndarray
    t: np.ndarray
    actions: np.ndarray
    terminated: np.ndarray
    keys: list[Any] | None
    next_keys: list[Any] | None
    start_keys: list[Any]
    episodes: list[dict[str, float]] = field(default_factory=list)
    tamper_events: int | None = None


def _key_fn(env: gym.Env, state_key: str | None):
    if state_key is not None and state_key != "obs" and not state_key.startswith("info:"):
        raise ConfigError("state_key", f"got {state_key!r}", "'obs' or 'info:<key>'")
    if state_key and state_key.startswith("info:"):
        name = state_key[5:]
        return lambda obs, info: _hashable(info.get(name))
    if state_key == "obs" or isinstance(env.observation_space, gym.spaces.Discrete):
        return lambda obs, info: _hashable(obs)
    return lambda obs, info: _hashable(info["minigrid/state"]) if "minigrid/state" in info else None


def _hashable(x: Any) -> Any:
    if x is None:
        return None
    a = np.asarray(x)
    return a.item() if a.ndim == 0 else tuple(a.ravel().tolist())


def collect_rollout(reward: Any, env: gym.Env, steps: int, seed: int = 0, state_key: str | None = None) -> Rollout:
    """Run a seeded random policy for ``steps`` steps and record every term of every transition."""
    if steps < 1:
        raise ConfigError("steps", f"got {steps}", "a positive number of environment steps")
    guard = TamperGuard(env) if getattr(env.unwrapped, "reward_files", None) else None
    wrapped = RewardWrapper(guard if guard is not None else env, reward)
    key = _key_fn(env, state_key)
    env.action_space.seed(seed)
    obs, info = wrapped.reset(seed=seed)
    cur = key(obs, info)
    cols: dict[str, list[Any]] = {k: [] for k in ("env", "total", "t", "a", "term", "k", "k2")}
    terms: dict[str, list[float]] = {}
    starts, episodes, t = [cur], [], 0
    for _ in range(steps):
        a = env.action_space.sample()
        obs, r, term, trunc, info = wrapped.step(a)
        nxt = key(obs, info)
        for name, v in info[STEP_TERMS].items():
            terms.setdefault(name, []).append(v)
        for k, v in (("env", info[ENV_REWARD]), ("total", r), ("t", t), ("a", a), ("term", term), ("k", cur), ("k2", nxt)):
            cols[k].append(v)
        t += 1
        cur = nxt
        if term or trunc:
            episodes.append({"env_return": float(info["rk/env_return"]), "return": float(info["rk/return"]),
                             "length": float(info["rk/length"]), "terminated": float(term)})
            obs, info = wrapped.reset()
            cur, t = key(obs, info), 0
            starts.append(cur)
    has_keys = all(k is not None for k in cols["k"]) and all(k is not None for k in cols["k2"])
    return Rollout(terms={k: np.asarray(v, dtype=np.float64) for k, v in terms.items()},
                   weights=dict(getattr(reward, "weights", {}) or {}),
                   env_reward=np.asarray(cols["env"], dtype=np.float64), total=np.asarray(cols["total"], dtype=np.float64),
                   t=np.asarray(cols["t"]), actions=np.asarray(cols["a"]), terminated=np.asarray(cols["term"], dtype=bool),
                   keys=cols["k"] if has_keys else None, next_keys=cols["k2"] if has_keys else None,
                   start_keys=starts[:-1] if len(starts) > 1 else starts, episodes=episodes,
                   tamper_events=None if guard is None else guard.events)


# ------------------------------------------------------------------ the empirical MDP
@dataclass
class _Tabular:
    s: np.ndarray
    a: np.ndarray
    s2: np.ndarray
    mdp: TabularMDP
    counts: np.ndarray   # visits N(s, a, s')
    n_sa: np.ndarray     # visits N(s, a)


def _tabular(ro: Rollout, n_actions: int, gamma: float) -> _Tabular | None:
    if ro.keys is None or ro.next_keys is None:
        return None
    index: dict[Any, int] = {}
    for k in [*ro.start_keys, *ro.keys, *ro.next_keys]:
        index.setdefault(k, len(index))
    S = len(index)
    if S > _MAX_STATES:
        return None
    s = np.fromiter((index[k] for k in ro.keys), dtype=np.int64)
    s2 = np.fromiter((index[k] for k in ro.next_keys), dtype=np.int64)
    a = ro.actions.astype(np.int64)
    counts = np.zeros((S, n_actions, S))
    np.add.at(counts, (s, a, s2), 1.0)
    n_sa = counts.sum(axis=2)
    T = np.where(n_sa[..., None] > 0, counts / np.maximum(n_sa, 1)[..., None], 0.0)
    unseen = n_sa == 0
    T[unseen, :] = 0.0
    si, ai = np.nonzero(unseen)
    T[si, ai, si] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[s2[ro.terminated]] = True
    mu0 = np.bincount([index[k] for k in ro.start_keys], minlength=S).astype(np.float64)
    mdp = TabularMDP(T, np.zeros((S, n_actions)), gamma, mu0 / mu0.sum(), terminal=terminal)
    return _Tabular(s, a, s2, mdp, counts, n_sa)


def _fit_potential(tab: _Tabular, F: np.ndarray, terminated: np.ndarray, gamma: float) -> tuple[np.ndarray, float]:
    """Least-squares :math:`\\Phi` with :math:`F \\approx \\gamma\\Phi(s')[\\neg done] - \\Phi(s)`.

    Returns ``(Φ, relative residual)``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import lsqr

    n, S = len(F), tab.mdp.n_states
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([tab.s2, tab.s])
    vals = np.concatenate([np.where(terminated, 0.0, gamma), -np.ones(n)])
    A = coo_matrix((vals, (rows, cols)), shape=(n, S)).tocsr()
    phi = lsqr(A, F, atol=1e-12, btol=1e-12, iter_lim=20 * S + 100)[0]
    norm = float(np.linalg.norm(F))
    res = float(np.linalg.norm(A @ phi - F)) / norm if norm > 0 else 0.0
    return phi, res


def _sa_mean(tab: _Tabular, values: np.ndarray) -> np.ndarray:
    tot = np.zeros(tab.n_sa.shape)
    np.add.at(tot, (tab.s, tab.a), values)
    return np.divide(tot, tab.n_sa, out=np.zeros_like(tot), where=tab.n_sa > 0)


def _sas_table(tab: _Tabular, values: np.ndarray, phi: np.ndarray | None, gamma: float) -> np.ndarray:
    """``R[s, a, s']``: visited triples their mean; the rest from Φ (potential-based) or the ``(s, a)`` mean."""
    S, A = tab.mdp.n_states, tab.mdp.n_actions
    if phi is not None:
        live = np.where(np.asarray(tab.mdp.terminal), 0.0, phi)
        R = np.broadcast_to(gamma * live[None, None, :] - phi[:, None, None], (S, A, S)).copy()
    else:
        R = np.broadcast_to(_sa_mean(tab, values)[:, :, None], (S, A, S)).copy()
    tot = np.zeros((S, A, S))
    np.add.at(tot, (tab.s, tab.a, tab.s2), values)
    seen = tab.counts > 0
    R[seen] = tot[seen] / tab.counts[seen]
    return R


# ------------------------------------------------------------------ the checks
def _task_term(ro: Rollout) -> str | None:
    for name, v in ro.terms.items():
        if v.shape == ro.env_reward.shape and np.allclose(v * ro.weights.get(name, 1.0), ro.env_reward):
            return name
    return None


def _dominance(ro: Rollout, aux: list[str], potential: set[str]) -> Check:
    contrib = {k: ro.terms[k] * ro.weights.get(k, 1.0) for k in ro.terms}
    mean_abs = {k: float(np.mean(np.abs(v))) for k, v in contrib.items()}
    total = sum(mean_abs.values())
    shares = {k: (v / total if total > 0 else 0.0) for k, v in mean_abs.items()}
    scale = {k: {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max()),
                 "share": shares[k]} for k, v in contrib.items()}
    if not aux:
        return Check("terms", "dominance", "green", 0.0, "one term only: nothing can dominate it", {"scale": scale})
    top = max(aux, key=lambda k: shares[k])
    status = grade(shares[top], 0.6, 0.9)
    msg = f"auxiliary term {top!r} is {shares[top]:.0%} of the mean |weighted reward| on a random policy"
    if top in potential and status == "red":   # it cannot change optimal policies, only add variance
        status, msg = "yellow", msg + " (policy-invariant: optimal policies are unchanged, but it dwarfs the task signal)"
    return Check("terms", "dominance", status, shares[top], msg, {"scale": scale})


def _potential_checks(ro: Rollout, tab: _Tabular | None, aux: list[str], gamma: float,
                      env: gym.Env, reward: Any) -> tuple[Check, dict[str, np.ndarray]]:
    phis: dict[str, np.ndarray] = {}
    certificate = _tabular_certificate(env, reward, ro, gamma)
    if certificate is not None:
        return certificate, phis
    if not aux:
        return Check("shaping", "potential", "green", 0.0, "no auxiliary terms"), phis
    if tab is None:
        return Check("shaping", "potential", "skipped", float("nan"),
                     "no discrete state key (use a Discrete env, MiniGrid's state_info wrapper or --state-key)"), phis
    residuals = {}
    for k in aux:
        phi, res = _fit_potential(tab, ro.terms[k] * ro.weights.get(k, 1.0), ro.terminated, gamma)
        residuals[k] = res
        if res < 1e-6:
            phis[k] = phi
    bad = [k for k, r in residuals.items() if r >= 1e-6]
    worst_res = max(residuals.values())
    msg = (f"every auxiliary term is potential-based on {len(ro.total)} transitions (gamma={gamma}): optimal "
           "policies are unchanged" if not bad else
           f"not potential-based on the visited transitions: {', '.join(bad)} (relative residual "
           f"{worst_res:.3g}); they can change which policies are optimal")
    return Check("shaping", "potential", "yellow" if bad else "green", worst_res, msg, {"residual": residuals}), phis


def _unwrap_tabular(env: gym.Env) -> TabularEnv | None:
    e: Any = env
    while e is not None:
        if isinstance(e, TabularEnv):
            return e
        e = getattr(e, "env", None)
    return None


def _tabular_certificate(env: gym.Env, reward: Any, ro: Rollout, gamma: float) -> Check | None:
    """On a TabularEnv: the designed R(s, a) by enumerating every transition, then the exact invariance slack."""
    base = _unwrap_tabular(env)
    if base is None:
        return None
    from ...core.batch import TransitionBatch
    from ...shaping.invariance import invariance_slack

    mdp = base.mdp
    s, a, s2 = np.nonzero(mdp.T > 0)
    term = np.asarray(mdp.terminal)[s2]
    batch = TransitionBatch(obs=s, action=a, next_obs=s2, reward=mdp.R[s, a], terminated=term,
                            truncated=np.zeros_like(term), info=[{"state": int(x)} for x in s2])
    values = np.asarray(reward(batch), dtype=np.float64)
    designed = np.zeros(mdp.T.shape[:2])
    np.add.at(designed, (s, a), mdp.T[s, a, s2] * values)
    original = mdp if abs(mdp.gamma - gamma) < 1e-12 else TabularMDP(mdp.T, mdp.R, gamma, mdp.mu0, mdp.terminal)
    rep = invariance_slack(designed, original)
    ok = rep.slack >= -1e-9
    msg = ("exact certificate on the tabular MDP: every optimal policy of the task stays optimal" if ok
           else rep.describe())
    return Check("shaping", "potential", "green" if ok else "red", float(rep.slack), msg, {"certificate": True})


@dataclass
class _Plan:
    """The task and designed rewards ``(S, A)`` on the empirical MDP and their optimal solutions, solved once."""

    task_R: np.ndarray
    designed_R: np.ndarray
    task_Q: np.ndarray
    pi_task: np.ndarray
    pi_designed: np.ndarray


def _plan(ro: Rollout, tab: _Tabular | None) -> _Plan | None:
    if tab is None:
        return None
    task_R, designed_R = _sa_mean(tab, ro.env_reward), _sa_mean(tab, ro.total)
    _, task_Q, pi_task = tab.mdp.value_iteration(R=task_R)
    _, _, pi_designed = tab.mdp.value_iteration(R=designed_R)
    return _Plan(task_R, designed_R, task_Q, pi_task, pi_designed)


def _farming(ro: Rollout, tab: _Tabular | None, plan: _Plan | None) -> Check:
    if tab is None or plan is None:
        return Check("hacking", "farming", "skipped", float("nan"), "needs a discrete state key")
    task_R = plan.task_R
    best = tab.mdp.expected_return(plan.pi_task, task_R)
    if best <= 1e-12:
        return Check("hacking", "farming", "skipped", float("nan"),
                     f"no task reward was reached in {len(ro.total)} random steps; raise --steps")
    got = tab.mdp.expected_return(plan.pi_designed, task_R)
    loss = max(0.0, 1.0 - got / best)
    return Check("hacking", "farming", grade(loss, 0.05, 0.2), loss,
                 f"the designed reward's optimal policy keeps {got / best:.0%} of the task return on the explored MDP",
                 {"task_return_optimal": best, "task_return_of_designed_optimum": got})


def _correlations(ro: Rollout, phis: Mapping[str, np.ndarray]) -> list[Check]:
    """Length/time correlations of the reward without its potential-based terms (those telescope)."""
    out = []
    eps = ro.episodes
    step = ro.total - sum((ro.terms[k] * ro.weights.get(k, 1.0) for k in phis), np.zeros_like(ro.total))
    if len(eps) >= 5:
        lengths = [e["length"] for e in eps]
        excess = abs(spearman([e["return"] for e in eps], lengths)) - abs(spearman([e["env_return"] for e in eps], lengths))
        excess = float(np.nan_to_num(excess))
        out.append(Check("hacking", "length", grade(excess, 0.3, 0.6), excess,
                         f"episode return vs length: |Spearman| exceeds the task reward's by {excess:.2f} "
                         f"({len(eps)} episodes)"))
    else:
        out.append(Check("hacking", "length", "skipped", float("nan"), f"only {len(eps)} episodes; raise --steps"))
    excess_t = abs(spearman(step, ro.t)) - abs(spearman(ro.env_reward, ro.t))
    excess_t = float(np.nan_to_num(excess_t))
    out.append(Check("hacking", "time", grade(excess_t, 0.3, 0.6), excess_t,
                     f"step reward vs time step: |Spearman| exceeds the task reward's by {excess_t:.2f}"))
    return out


def _tampering(ro: Rollout) -> Check:
    if ro.tamper_events is None:
        return Check("hacking", "tampering", "skipped", float("nan"),
                     "the env declares no reward sources to watch (a reward_files attribute)")
    n = ro.tamper_events
    return Check("hacking", "tampering", "red" if n else "green", float(n),
                 f"the reward sources changed on {n} of {len(ro.total)} steps of the exploratory run" if n else
                 f"no reward source changed in {len(ro.total)} steps")


def _distance(ro: Rollout, tab: _Tabular | None, aux: list[str], task: str | None, phis: Mapping[str, np.ndarray],
              gamma: float) -> Check:
    if tab is None:
        return Check("distance", "epic", "skipped", float("nan"), "needs a discrete state key")
    if np.ptp(ro.env_reward) == 0:
        return Check("distance", "epic", "skipped", float("nan"),
                     f"the task reward is constant on the {len(ro.total)} explored transitions; raise --steps")
    task_R = _sas_table(tab, ro.env_reward, None, gamma)
    designed = task_R.copy()
    for k in ro.terms:
        if k == task:
            continue
        designed += _sas_table(tab, ro.terms[k] * ro.weights.get(k, 1.0), phis.get(k), gamma)
    if task is None:   # no term reproduces the env reward: compare the total with it as it is
        designed = _sas_table(tab, ro.total, None, gamma)
    d = epic_distance(designed, task_R, gamma, coverage=tab.counts / tab.counts.sum())
    try:
        starc = starc_distance(designed, task_R, tab.mdp.transitions, gamma)
    except (ConfigError, np.linalg.LinAlgError):  # a constant reward has no STARC normalisation
        starc = float("nan")
    return Check("distance", "epic", grade(d, 0.2, 0.5), d,
                 f"EPIC distance to the task reward {d:.3f} (0: the same up to shaping and scale; 1: opposite)",
                 {"starc": starc, "states": tab.mdp.n_states})


def _cliff(tab: _Tabular | None, plan: _Plan | None) -> Check:
    if tab is None or plan is None:
        return Check("stability", "policy_cliff", "skipped", float("nan"), "needs a discrete state key")
    rep = policy_cliff(tab.mdp, plan.designed_R, epsilon=1e-5, temperature=0.1, n_random=2)
    _, task_degenerate = degenerate_states(plan.task_Q, tab.mdp.terminal)   # ties the task reward itself makes
    task_fraction = float(task_degenerate.sum() / max(int((~tab.mdp.terminal).sum()), 1))
    frac, added = rep.degenerate_fraction, rep.degenerate_fraction - task_fraction
    status = "yellow" if rep.cliff and frac >= 0.25 and added > 0.05 else "green"
    return Check("stability", "policy_cliff", status, frac,
                 f"{frac:.0%} of the explored states have tied optimal actions ({task_fraction:.0%} under the "
                 f"task reward): an epsilon=1e-5 reward change moves the argmax policy by TV {rep.argmax_tv:.2f}, "
                 f"the soft policy (tau=0.1) by {rep.soft_tv:.2g}",
                 {"argmax_tv": rep.argmax_tv, "soft_tv": rep.soft_tv, "soft_bound": rep.soft_bound,
                  "task_degenerate_fraction": task_fraction})


def audit_env(reward: Any, env_cfg: Mapping[str, Any], steps: int = 4000, seed: int = 0, gamma: float = 0.99,
              state_key: str | None = None) -> tuple[list[Check], Rollout]:
    """Run every environment check of the module docstring; returns the checks and the rollout.

    Example:
        >>> from rewardkit.core.config import build_reward
        >>> r = build_reward({"terms": [{"type": "env_reward", "name": "task"}]})
        >>> checks, _ = audit_env(r, {"id": "rewardkit/Chain-v0"}, steps=300)
        >>> {c.name: c.status for c in checks}["potential"]
        'green'
    """
    env = make_env(env_cfg)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ConfigError("env.id", f"{env_cfg['id']!r} has a {type(env.action_space).__name__} action space",
                          "an environment with a Discrete action space")
    ro = collect_rollout(reward, env, steps, seed, state_key)
    tab = _tabular(ro, int(env.action_space.n), gamma)
    task = _task_term(ro)
    aux = [k for k in ro.terms if k != task]
    potential, phis = _potential_checks(ro, tab, aux, gamma, env, reward)
    certified = set(aux) if potential.details.get("certificate") and potential.status == "green" else set(phis)
    plan = _plan(ro, tab)
    checks = [_dominance(ro, aux, certified), potential,
              _farming(ro, tab, plan), _tampering(ro), *_correlations(ro, phis),
              _distance(ro, tab, aux, task, phis, gamma), _cliff(tab, plan)]
    env.close()
    return checks, ro
