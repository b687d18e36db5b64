"""The alignment tipping process: deviation rewards erode a constraint and spread by imitation (toy population).

*Alignment Tipping Process* (catalog #156, 2025): agents trained to respect a constraint drift
away from it when deviations keep paying, and in a population the drift spreads because agents imitate
successful peers.  The toy model here has ``n`` agents; agent :math:`i` violates the constraint with
probability :math:`p_i`.  Each round:

* an agent that violates earns :math:`1 + b` (the deviation bonus :math:`b`) but is caught with
  probability :math:`c` and then earns :math:`-k`; complying earns 1;
* **self-evolution:** a REINFORCE step on its own Bernoulli policy,
  :math:`\\ell_i \\mathrel{+}= \\eta\\,(R_i - \\bar R)(x_i - p_i)` on the logit :math:`\\ell_i`;
* **imitation:** with probability ``imitation`` an agent compares itself with a random peer :math:`j` and
  copies its logit with the Fermi probability :math:`\\sigma((R_j - R_i)/\\kappa)`.

Returns the violating fraction :math:`\\bar p` over rounds.  With :math:`(1+b)(1-c) - kc > 1` deviation
pays in expectation and the population tips; imitation makes a few deviant seeds spread faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded
from ..learn.preferences import sigmoid

__all__ = ["TippingConfig", "simulate_tipping"]


@dataclass(frozen=True)
class TippingConfig:
    """Parameters of :func:`simulate_tipping` (see the module doc for the symbols).

    Attributes:
        n_agents: population size.
        rounds: number of rounds.
        bonus: deviation bonus :math:`b`.
        catch_prob: probability :math:`c` that a violation is caught.
        penalty: payoff :math:`-k` of a caught violation is ``-penalty``.
        lr: REINFORCE step :math:`\\eta` on the logit.
        imitation: per-round probability that an agent compares itself with a peer.
        kappa: Fermi temperature :math:`\\kappa`.
        init_violation: initial :math:`p_i` of the aligned agents.
        seeds_deviant: agents that start deviant (:math:`p_i = 0.9`).
    """

    n_agents: int = 100
    rounds: int = 300
    bonus: float = 0.5
    catch_prob: float = 0.2
    penalty: float = 1.0
    lr: float = 0.2
    imitation: float = 0.2
    kappa: float = 0.5
    init_violation: float = 0.02
    seeds_deviant: int = 5


def simulate_tipping(cfg: TippingConfig, seed: int = 0) -> np.ndarray:
    """Mean violation probability of the population after every round, shape ``(rounds,)``.

    Example:
        >>> low = simulate_tipping(TippingConfig(bonus=0.0, rounds=100), seed=0)[-1]
        >>> high = simulate_tipping(TippingConfig(bonus=1.5, rounds=100), seed=0)[-1]
        >>> bool(high > 0.5 > low)
        True
    """
    if cfg.n_agents < 2 or cfg.rounds < 1:
        raise ConfigError("n_agents/rounds", f"got {cfg.n_agents}, {cfg.rounds}", "at least 2 agents and 1 round")
    if not 0.0 <= cfg.catch_prob <= 1.0 or not 0.0 <= cfg.imitation <= 1.0:
        raise ConfigError("catch_prob/imitation", f"got {cfg.catch_prob}, {cfg.imitation}", "probabilities in [0, 1]")
    p0 = np.full(cfg.n_agents, cfg.init_violation)
    p0[: cfg.seeds_deviant] = 0.9
    logit = np.log(p0 / (1 - p0))
    out = np.empty(cfg.rounds)
    with seeded(seed, torch=False) as rng:
        for t in range(cfg.rounds):
            p = sigmoid(logit)
            x = rng.random(cfg.n_agents) < p
            caught = x & (rng.random(cfg.n_agents) < cfg.catch_prob)
            payoff = np.where(x, np.where(caught, -cfg.penalty, 1.0 + cfg.bonus), 1.0)
            logit += cfg.lr * (payoff - payoff.mean()) * (x - p)
            look = rng.random(cfg.n_agents) < cfg.imitation
            peer = rng.integers(cfg.n_agents, size=cfg.n_agents)
            copy = look & (rng.random(cfg.n_agents) < sigmoid((payoff[peer] - payoff) / cfg.kappa))
            logit = np.where(copy, logit[peer], logit)
            logit = np.clip(logit, -10.0, 10.0)
            out[t] = float(sigmoid(logit).mean())
    return out
