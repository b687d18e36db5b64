"""RAT: targeted-behaviour attacks that steer a victim with bounded observation perturbations.

Bai et al. (2024, "RAT: Adversarial Attacks on Deep Reinforcement Agents for Targeted Behaviors",
catalog #23).  Instead of minimising the victim's reward, the attacker wants a *behaviour*: it learns
an *intention policy* :math:`\\pi_I` from preferences over trajectory segments, and perturbs the
victim's observations within an :math:`\\ell_\\infty` ball so that the victim acts like :math:`\\pi_I`:

.. math:: \\delta_t = \\arg\\min_{\\|\\delta\\|_\\infty \\le \\epsilon}\\;
          \\mathrm{KL}\\big(\\pi_I(\\cdot \\mid o_t)\\,\\|\\,\\pi_V(\\cdot \\mid o_t + \\delta)\\big).

The pieces here, on CartPole with a linear victim :math:`\\pi_V(a{=}1|o) = \\sigma(k\\,w^\\top o)`:

* :func:`fit_preference_reward` - a linear Bradley–Terry reward on segment features from preference labels;
* :func:`fit_intention_policy` - the intention policy, a linear controller maximising that reward
  (cross-entropy method over controller weights: the RL step, at CartPole scale);
* :func:`targeted_perturbation` - the exact solution of the attack for a linear victim: push the
  logit toward the intention's action by the whole budget, :math:`\\delta = \\pm\\epsilon\\,\\mathrm{sign}(w)`;
* :func:`reward_minimising_perturbation` - the classic baseline that pushes toward the action the
  victim would *not* take (to make it fail).

The paper trains an adversary network and re-weights replay by state occupancy; with a linear victim
the per-step optimum is available in closed form and is used instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded

__all__ = ["LinearVictim", "fit_intention_policy", "fit_preference_reward", "reward_minimising_perturbation",
           "rollout", "targeted_perturbation"]


class LinearVictim:
    """A linear stochastic policy :math:`\\pi(a{=}1|o) = \\sigma(k\\,(w^\\top o + b))` (greedy when ``k`` is inf).

    Example:
        >>> v = LinearVictim(np.array([0.0, 0.0, 1.0, 1.0]))      # the classic CartPole balancer
        >>> v.act(np.array([0.0, 0.0, 0.1, 0.0]))
        1
    """

    def __init__(self, w: np.ndarray, b: float = 0.0):
        self.w = np.asarray(w, dtype=np.float64)
        self.b = float(b)

    def logit(self, obs: np.ndarray) -> float:
        return float(self.w @ np.asarray(obs, dtype=np.float64) + self.b)

    def act(self, obs: np.ndarray) -> int:
        return int(self.logit(obs) > 0)


def targeted_perturbation(victim: LinearVictim, obs: np.ndarray, target_action: int, epsilon: float) -> np.ndarray:
    """The :math:`\\ell_\\infty`-bounded perturbation that moves the victim's logit furthest toward ``target_action``.

    Example:
        >>> v = LinearVictim(np.array([1.0, -2.0]))
        >>> targeted_perturbation(v, np.zeros(2), 1, 0.1).tolist()
        [0.1, -0.1]
    """
    if epsilon < 0:
        raise ConfigError("epsilon", f"got {epsilon!r}", "a non-negative perturbation budget")
    direction = 1.0 if target_action == 1 else -1.0
    return direction * epsilon * np.sign(victim.w)


def reward_minimising_perturbation(victim: LinearVictim, obs: np.ndarray, epsilon: float) -> np.ndarray:
    """The untargeted baseline: push toward the action the victim would not take."""
    return targeted_perturbation(victim, obs, 1 - victim.act(obs), epsilon)


def rollout(env_factory: Callable[[], object], policy: Callable[[np.ndarray], int], seed: int,
            perturb: Callable[[np.ndarray], np.ndarray] | None = None, max_steps: int = 500) -> np.ndarray:
    """One episode; the policy sees ``obs + perturb(obs)``; returns the true observations ``(T, d)``."""
    env = env_factory()
    obs, _ = env.reset(seed=seed)  # type: ignore[attr-defined]
    seen = [np.asarray(obs, dtype=np.float64)]
    for _ in range(max_steps):
        o = seen[-1]
        a = policy(o + (perturb(o) if perturb is not None else 0.0))
        obs, _, term, trunc, _ = env.step(a)  # type: ignore[attr-defined]
        seen.append(np.asarray(obs, dtype=np.float64))
        if term or trunc:
            break
    env.close()  # type: ignore[attr-defined]
    return np.asarray(seen)


def fit_preference_reward(seg_a: Sequence[np.ndarray], seg_b: Sequence[np.ndarray], labels: Sequence[float],
                          features: Callable[[np.ndarray], np.ndarray], l2: float = 1e-2, iters: int = 100) -> np.ndarray:
    """Linear Bradley–Terry reward :math:`r(o) = \\theta^\\top\\phi(o)` from segment preferences (Newton's method).

    :math:`P(a \\succ b) = \\sigma(\\sum_{o\\in a}\\theta^\\top\\phi(o) - \\sum_{o\\in b}\\theta^\\top\\phi(o))`:
    :func:`rewardkit.learn.bt.fit_linear_bt` on the segments' summed features (segments may differ in length).
    """
    from ..learn.bt import fit_linear_bt
    from ..learn.preferences import PreferencePairs

    za = np.array([features(a).sum(axis=0) for a in seg_a])
    zb = np.array([features(b).sum(axis=0) for b in seg_b])
    if len(za) != len(zb):
        raise ConfigError("seg_a/seg_b", f"got {len(za)} and {len(zb)} segments", "one b segment per a segment")
    model = fit_linear_bt(PreferencePairs(za, zb, np.asarray(labels, dtype=np.float64)), l2=l2, iters=iters)
    return model.weights[0][:, 0]


def fit_intention_policy(env_factory: Callable[[], object], reward: Callable[[np.ndarray], float], dim: int,
                         iterations: int = 20, population: int = 32, elite: int = 8, seed: int = 0) -> LinearVictim:
    """Cross-entropy method over linear controllers ``(w, b)`` maximising the summed learned ``reward``."""
    with seeded(seed, torch=False) as rng:
        mean, std = np.zeros(dim + 1), np.ones(dim + 1)
        for it in range(iterations):
            cands = mean + std * rng.normal(size=(population, dim + 1))
            scores = []
            for j, c in enumerate(cands):
                pol = LinearVictim(c[:dim], c[dim])
                traj = rollout(env_factory, pol.act, seed=1000 * it + j, max_steps=300)
                scores.append(float(sum(reward(o) for o in traj)))
            best = cands[np.argsort(scores)[-elite:]]
            mean, std = best.mean(axis=0), best.std(axis=0) + 0.05
    return LinearVictim(mean[:dim], mean[dim])
