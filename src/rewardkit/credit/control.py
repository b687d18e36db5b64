"""Dichotomy of Control: condition on what the actions control, not on luck (tabular, offline).

Yang, Schuurmans, Abbeel & Nachum (ICLR 2023, "Dichotomy of Control: Separating What You Can Control
from What You Cannot", catalog #192).  Return-conditioned supervised learning (Decision Transformer,
RvS) learns :math:`\\pi(a_t \\mid s_t, \\hat R_t)` from offline trajectories and, asked for a high return,
imitates the trajectories that *got* it - including the ones that got it by environment luck.  In a
stochastic environment the achieved return then misses the target.  DoC conditions the policy on a
latent :math:`z` of the future trained with a mutual-information constraint that removes the
environment's randomness,

.. math:: \\min\\ \\mathcal{L}_{\\text{BC}}(\\pi(\\cdot|s, z)) \\quad \\text{s.t.}\\quad
          I\\big(z;\\, (r_t, s_{t+1}) \\mid \\tau_{<t}, s_t, a_t\\big) = 0,

and learns a value :math:`V(z) = \\mathbb{E}[R \\mid z]`; at inference it picks the :math:`z` whose
:math:`V(z)` is highest without exceeding the target.  In a finite environment whose randomness is
independent of the agent's choices given its actions, the constraint is met exactly by latents that
are *functions of the action sequence only*; :func:`doc_plan` uses that exact solution, with
:math:`V(z)` estimated from the offline data.  :func:`dt_policy_rollout` is the return-conditioned
baseline (the empirical :math:`\\pi(a \\mid s, \\hat R)`, with the return-to-go decreased by each reward).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core.errors import ConfigError

__all__ = ["doc_plan", "dt_policy_rollout", "dt_table"]

Trajectory = Sequence[tuple[Any, int, float]]   # (state, action, reward) per step


def doc_plan(trajectories: Sequence[Trajectory], target: float) -> tuple[tuple[int, ...], float]:
    """DoC's choice for ``target``: the action sequence ``z`` with the highest ``V(z) <= target``
    (the lowest ``V(z)`` if none is below it), and ``V(z)``, estimated from the data.

    Example:
        >>> data = [[(0, 0, 0.5)], [(0, 1, 1.0)], [(0, 1, 0.0)], [(0, 0, 0.5)]]
        >>> doc_plan(data, target=1.0)          # the gamble's V is 0.5 too: ties go to the first sequence
        ((0,), 0.5)
    """
    if not trajectories:
        raise ConfigError("trajectories", "is empty", "offline trajectories of (state, action, reward)")
    returns: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for tr in trajectories:
        returns[tuple(int(a) for _, a, _ in tr)].append(float(sum(r for _, _, r in tr)))
    values = {z: float(np.mean(v)) for z, v in returns.items()}
    feasible = {z: v for z, v in values.items() if v <= target + 1e-12}
    pool = feasible or {min(values, key=values.__getitem__): min(values.values())}
    best = max(sorted(pool), key=pool.__getitem__)      # the first (lexicographic) of the best
    return best, pool[best]


def dt_table(trajectories: Sequence[Trajectory]) -> dict[tuple[int, Any], dict[float, Counter[int]]]:
    """The return-conditioned policy as an exact empirical table ``(t, s) -> return-to-go -> action counts``.

    Example:
        >>> table = dt_table([[(0, 1, 1.0)], [(0, 0, 0.0)]])
        >>> dict(table[(0, 0)][1.0])
        {1: 1}
    """
    table: dict[tuple[int, Any], dict[float, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))
    for tr in trajectories:
        rtg = float(sum(r for _, _, r in tr))
        for t, (s, a, r) in enumerate(tr):
            table[(t, s)][round(rtg, 9)][int(a)] += 1
            rtg -= r
    return table


def dt_policy_rollout(table: dict[tuple[int, Any], dict[float, Counter[int]]], target: float,
                      env_step: Callable[[Any, int, np.random.Generator], tuple[Any, float, bool]],
                      start: Any, rng: np.random.Generator, horizon: int) -> float:
    """One episode of the return-conditioned policy of :func:`dt_table`; returns the episode's return.

    At step ``t`` in state ``s`` it takes the action most often taken in the data at ``(t, s)`` with
    the observed return-to-go nearest to its own, then decreases its return-to-go by the reward
    received (Decision Transformer's conditioning, as an exact empirical table).
    """
    s, total, rtg = start, 0.0, float(target)
    for t in range(horizon):
        seen = table.get((t, s))
        if not seen:
            break
        nearest = min(seen, key=lambda g: abs(g - rtg))
        a = seen[nearest].most_common(1)[0][0]
        s, r, done = env_step(s, a, rng)
        total += r
        rtg -= r
        if done:
            break
    return total
