"""BARFI: behaviour alignment via reward function optimisation (bi-level learned reward blend).

Gupta, Chandak, Jordan, Thomas & da Silva (2023), "Behavior Alignment via Reward
Function Optimization", NeurIPS 2023 (reference code ``Dhawgupta/gupta2023behavior``).

A designer has a *primary* reward :math:`r_p` (what we want) and an *auxiliary*
heuristic :math:`r_{aux}` (which may help or mislead).  BARFI learns how to use
the heuristic.  The learner optimises a parameterised reward and discount

.. math::
    r_\\phi(s, a) = \\phi_1^\\top f(s) + r_p(s, a) + (\\phi_2^\\top f(s))\\, r_{aux}(s, a),
    \\qquad \\gamma_\\phi = \\sigma(\\phi_\\gamma)

(``f`` = state features; one-hot for a ``Discrete`` observation space), and
:math:`\\phi` is tuned so that the *learner's* resulting policy maximises the
primary return :math:`J_p` (discounted with the environment's :math:`\\gamma`):

.. math::
    \\max_\\phi J_p(\\theta^*(\\phi)) \\quad\\text{s.t.}\\quad
    \\theta^*(\\phi) = \\arg\\max_\\theta J_\\phi(\\theta)

Outer gradient by the implicit function theorem (at a stationary point
:math:`\\nabla_\\theta J_\\phi(\\theta^*) = 0`):

.. math::
    \\frac{dJ_p}{d\\phi} = \\nabla_\\theta J_p^\\top\\, (-\\nabla^2_\\theta J_\\phi)^{-1}\\,
    \\nabla_\\phi \\nabla_\\theta J_\\phi .

Two estimators are provided:

* :class:`BARFI` - the paper's estimator for a Gymnasium env and a softmax
  REINFORCE learner (torch).  All three terms are *sample* estimates on the latest
  batch of episodes (REINFORCE surrogates; the Hessian is the surrogate's Hessian,
  as in the reference code), and the inverse-Hessian-vector product is a truncated
  Neumann series (Lorraine, Vicol & Duvenaud 2020):
  :math:`(-H)^{-1} v \\approx \\alpha \\sum_{j=0}^{K} (I + \\alpha H)^j v`.
  **Approximations** (documented in ``docs/barfi.md``): the learner is a few SGD
  steps from a stationary point, not at one; the Neumann series is truncated at
  ``K`` terms and only converges when :math:`\\|I+\\alpha H\\| < 1`; with small ``K``
  and ``alpha`` it is close to a scaled identity, i.e. a one-step meta-gradient.
* :class:`TabularBARFI` - an *exact* variant for a :class:`~rewardkit.tabular.TabularMDP`:
  the inner problem is solved exactly (entropy-regularised soft value iteration,
  :math:`\\theta^* = Q^*_{soft}/\\tau`), :math:`J` is exact policy evaluation
  :math:`\\mu_0^\\top (I - \\gamma P^\\pi)^{-1}(r^\\pi + \\tau \\mathcal{H}^\\pi)`, and the
  implicit gradient uses the exact Hessian (autograd) and a pseudo-inverse.  It
  agrees with finite differences of :math:`J_p(\\theta^*(\\phi))` (tested).

The reward the learner optimises is a strategy object (:class:`BarfiReward`):
:class:`AlignedBlend` (BARFI's :math:`r_\\phi`), and the baselines with the same learner
:class:`PrimaryReward` (:math:`r_p`), :class:`NaiveSum` (:math:`r_p + r_{aux}`) and
:class:`PotentialShaped` (:math:`r_p + \\gamma\\Phi(s') - \\Phi(s)`, :math:`\\Phi = 0` after
termination but kept on truncation); :func:`reward_strategy` maps the names
``"barfi"``, ``"primary"``, ``"naive"``, ``"pbrs"`` to them.

The BARFI grid world is :func:`rewardkit.tabular.barfi_gridworld`; the learning-curve
benchmark is ``bench/design/barfi_grid.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    import torch
    from torch import nn
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "learn") from None

from ..core.errors import ConfigError
from ..core.seeding import seeded
from ..core.potential import potential_difference

__all__ = [
    "BARFI",
    "REWARD_STRATEGIES",
    "VARIANTS",
    "AlignedBlend",
    "AlignedGamma",
    "AlignedReward",
    "BarfiReward",
    "EpisodeBatch",
    "LinearSoftmaxPolicy",
    "NaiveSum",
    "PotentialShaped",
    "PrimaryReward",
    "TabularBARFI",
    "collect_episodes",
    "discounted_returns",
    "finite_horizon_return",
    "neumann_inverse_hvp",
    "reward_strategy",
]


# ----------------------------------------------------------------------------- pure helpers
def discounted_returns(rewards: torch.Tensor, mask: torch.Tensor, gamma: torch.Tensor | float) -> torch.Tensor:
    """:math:`G_t = r_t + \\gamma G_{t+1}` per row of a padded ``(B, H)`` batch (differentiable in r and gamma).

    ``mask`` is 1 on real steps and 0 on padding; padded rewards are ignored.

    Example:
        >>> import torch
        >>> discounted_returns(torch.tensor([[1.0, 1.0, 5.0]]), torch.tensor([[1.0, 1.0, 0.0]]), 0.5).tolist()
        [[1.5, 1.0, 0.0]]
    """
    r = rewards * mask
    H = r.shape[1]
    out = []
    g = torch.zeros_like(r[:, 0])
    for t in range(H - 1, -1, -1):
        g = r[:, t] + gamma * g * mask[:, t]
        out.append(g)
    return torch.stack(out[::-1], dim=1) * mask


def neumann_inverse_hvp(hvp: Callable[[list[torch.Tensor]], list[torch.Tensor]], v: Sequence[torch.Tensor],
                        alpha: float, steps: int) -> list[torch.Tensor]:
    """Approximate :math:`(-H)^{-1} v \\approx \\alpha \\sum_{j=0}^{K} (I + \\alpha H)^j v` (truncated Neumann series).

    ``hvp(p)`` must return :math:`H p` for the Hessian :math:`H` of the objective being
    *maximised* (negative definite near a maximum).  Converges as ``steps`` grows when
    the eigenvalues of :math:`\\alpha H` lie in :math:`(-2, 0)`.

    Example:
        >>> import torch
        >>> H = torch.tensor([[-2.0, 0.0], [0.0, -0.5]])
        >>> out = neumann_inverse_hvp(lambda p: [H @ p[0]], [torch.tensor([1.0, 1.0])], alpha=0.5, steps=200)
        >>> [round(x, 4) for x in out[0].tolist()]      # (-H)^{-1} v = [0.5, 2.0]
        [0.5, 2.0]
    """
    p = [x.detach().clone() for x in v]
    acc = [x.detach().clone() for x in v]
    for _ in range(int(steps)):
        hp = hvp(p)
        p = [pi + alpha * hi.detach() for pi, hi in zip(p, hp, strict=False)]
        acc = [a + pi for a, pi in zip(acc, p, strict=False)]
    return [alpha * a for a in acc]


def finite_horizon_return(mdp: Any, pi: np.ndarray, horizon: int, R: np.ndarray | None = None,
                          gamma: float | None = None) -> float:
    """Exact expected discounted return of ``pi`` over ``horizon`` steps of a TabularMDP.

    :math:`J_H = \\sum_{t<H} \\gamma^t \\mu_t^\\top r^\\pi` with :math:`\\mu_{t+1} = \\mu_t P^\\pi`
    (terminal states absorb with zero reward) - the quantity a Gymnasium episode with
    a time limit ``horizon`` estimates.

    Example:
        >>> from rewardkit.tabular import barfi_gridworld
        >>> w = barfi_gridworld(size=3, slip=0.0)
        >>> pi = np.zeros((w.mdp.n_states, 4)); pi[:, 3] = 0.5; pi[:, 0] = 0.5   # up or right
        >>> round(finite_horizon_return(w.mdp, pi, 2), 6), round(finite_horizon_return(w.mdp, pi, 10), 4) > 0.9
        (0.0, True)
    """
    R = mdp.reward if R is None else np.asarray(R, dtype=np.float64)
    g = mdp.gamma if gamma is None else float(gamma)
    P = np.einsum("sa,sat->st", pi, mdp.transitions)
    r_pi = (pi * R).sum(axis=1)
    r_pi = np.where(mdp.terminal, 0.0, r_pi)
    mu = mdp.mu0.copy()
    total, disc = 0.0, 1.0
    for _ in range(int(horizon)):
        total += disc * float(mu @ r_pi)
        mu = mu @ P
        disc *= g
    return total


# ----------------------------------------------------------------------------- modules
class LinearSoftmaxPolicy(nn.Module):
    """:math:`\\pi_\\theta(a|s) = \\mathrm{softmax}(f(s)^\\top \\theta)_a` (tabular when ``f`` is one-hot).

    Example:
        >>> import torch
        >>> pol = LinearSoftmaxPolicy(3, 2)
        >>> pol.log_probs(torch.eye(3, dtype=torch.float64)).exp().tolist()[0]    # zero init = uniform
        [0.5, 0.5]
    """

    def __init__(self, n_features: int, n_actions: int):
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(n_features, n_actions, dtype=torch.float64))

    def log_probs(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(feats @ self.theta, dim=-1)


class AlignedReward(nn.Module):
    """:math:`r_\\phi = \\phi_1^\\top f(s) + r_p + (\\phi_2^\\top f(s))\\,r_{aux}` (BARFI's reward head).

    ``aux_weight_init`` sets :math:`\\phi_2` so the blend starts at
    :math:`r_p + w_0 r_{aux}` (0 = start from the primary reward, 1 = from naive addition).

    Example:
        >>> import torch
        >>> head = AlignedReward(2, aux_weight_init=0.5)
        >>> head(torch.eye(2, dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64),
        ...      torch.tensor([2.0, 2.0], dtype=torch.float64)).tolist()
        [2.0, 1.0]
    """

    def __init__(self, n_features: int, aux_weight_init: float = 0.0):
        super().__init__()
        self.phi_bias = nn.Parameter(torch.zeros(n_features, dtype=torch.float64))
        self.phi_aux = nn.Parameter(torch.full((n_features,), float(aux_weight_init), dtype=torch.float64))
        self.register_buffer("phi_aux_init", self.phi_aux.detach().clone())

    def forward(self, feats: torch.Tensor, r_primary: torch.Tensor, r_aux: torch.Tensor) -> torch.Tensor:
        return feats @ self.phi_bias + r_primary + (feats @ self.phi_aux) * r_aux

    def l2(self) -> torch.Tensor:
        """:math:`\\|\\phi_1\\|^2 + \\|\\phi_2 - \\phi_2^{init}\\|^2` (the reward regulariser)."""
        return (self.phi_bias ** 2).sum() + ((self.phi_aux - self.phi_aux_init) ** 2).sum()


class AlignedGamma(nn.Module):
    """:math:`\\gamma_\\phi = \\sigma(\\phi_\\gamma)`, initialised at ``gamma_init``.

    Example:
        >>> round(AlignedGamma(0.99)().item(), 6)
        0.99
    """

    def __init__(self, gamma_init: float = 0.99):
        super().__init__()
        if not 0.0 < gamma_init < 1.0:
            raise ConfigError("gamma_init", f"got {gamma_init}", "a discount in (0, 1)")
        self.logit = nn.Parameter(torch.tensor(math.log(gamma_init / (1.0 - gamma_init)), dtype=torch.float64))

    def forward(self) -> torch.Tensor:
        return torch.sigmoid(self.logit)


# ----------------------------------------------------------------------------- rollouts
@dataclass
class EpisodeBatch:
    """``B`` episodes padded to length ``H``: features ``(B,H,d)``, actions ``(B,H)``, rewards,
    next-state potentials and ``mask`` (1 on real steps)."""

    feats: torch.Tensor
    actions: torch.Tensor
    r_primary: torch.Tensor
    r_aux: torch.Tensor
    shaping: torch.Tensor      # gamma*Phi(s') - Phi(s) with Phi(s') = 0 after termination (0 if no potential)
    mask: torch.Tensor
    primary_return: np.ndarray  # discounted primary return of each episode (env gamma)
    undiscounted_primary: np.ndarray


def one_hot_features(n: int) -> Callable[[Any], np.ndarray]:
    """Feature map of a ``Discrete(n)`` observation."""
    eye = np.eye(n)

    def f(obs: Any) -> np.ndarray:
        return eye[int(obs)]
    return f


def collect_episodes(env: Any, policy: LinearSoftmaxPolicy, features: Callable[[Any], np.ndarray],
                     aux_fn: Callable[..., float], n: int, rng: np.random.Generator, gamma: float,
                     potential: Callable[[Any], float] | None = None, max_steps: int = 1000,
                     env_seed: int | None = None) -> EpisodeBatch:
    """Run ``n`` episodes of ``policy`` in a Gymnasium ``env``.

    ``aux_fn(obs, action, next_obs, info) -> float`` is the auxiliary heuristic;
    ``potential(obs) -> float`` (optional) is used for the PBRS baseline column.
    Malformed aux values (NaN/inf) count as 0 so a long run never crashes on them.
    """
    eps: list[dict[str, list]] = []
    for i in range(n):
        obs, info = env.reset(seed=env_seed if (env_seed is not None and i == 0) else None)
        rec: dict[str, list] = {"f": [], "a": [], "rp": [], "ra": [], "F": []}
        for _ in range(max_steps):
            f = features(obs)
            with torch.no_grad():
                logits = torch.as_tensor(f, dtype=torch.float64) @ policy.theta
                p = torch.softmax(logits, -1).numpy()
            a = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"))
            a = min(a, len(p) - 1)
            obs2, r, terminated, truncated, info = env.step(a)
            ra = float(aux_fn(obs, a, obs2, info))
            if not math.isfinite(ra):
                ra = 0.0
            F = 0.0
            if potential is not None:
                F = float(potential_difference(float(potential(obs)), np.nan if terminated else float(potential(obs2)),
                                               gamma, terminated))
            rec["f"].append(f)
            rec["a"].append(a)
            rec["rp"].append(float(r))
            rec["ra"].append(ra)
            rec["F"].append(F)
            obs = obs2
            if terminated or truncated:
                break
        eps.append(rec)
    H = max(len(e["a"]) for e in eps)
    d = len(eps[0]["f"][0])
    B = len(eps)
    feats = np.zeros((B, H, d))
    acts = np.zeros((B, H), dtype=np.int64)
    rp, ra, F, mask = (np.zeros((B, H)) for _ in range(4))
    for b, e in enumerate(eps):
        L = len(e["a"])
        feats[b, :L] = np.asarray(e["f"])
        acts[b, :L] = e["a"]
        rp[b, :L] = e["rp"]
        ra[b, :L] = e["ra"]
        F[b, :L] = e["F"]
        mask[b, :L] = 1.0
    disc = gamma ** np.arange(H)
    return EpisodeBatch(torch.as_tensor(feats), torch.as_tensor(acts), torch.as_tensor(rp), torch.as_tensor(ra),
                        torch.as_tensor(F), torch.as_tensor(mask), (rp * mask * disc).sum(axis=1),
                        (rp * mask).sum(axis=1))


# ----------------------------------------------------------------------------- reward strategies
class BarfiReward:
    """How a :class:`BARFI` learner turns a batch into the rewards and discount it optimises.

    A strategy is chosen by the caller (``BARFI(..., variant=NaiveSum())``, or by name through
    :func:`reward_strategy` for configs).  ``learned`` strategies get BARFI's outer
    (implicit-gradient) step before the inner REINFORCE steps; the fixed ones are the
    baselines, run with the same learner.  ``__call__(agent, batch, learned)`` returns
    ``(rewards (B, H), gamma)``; ``learned=False`` must detach anything that depends on
    :math:`\\phi`.

    Example:
        >>> from rewardkit.tabular import TabularEnv, barfi_gridworld
        >>> w = barfi_gridworld(size=3)
        >>> agent = BARFI(TabularEnv(w.mdp, max_steps=5), w.aux_fn("good"), variant=NaiveSum(), seed=0)
        >>> batch = collect_episodes(agent.env, agent.policy, agent.features, agent.aux_fn, 2, agent.rng, 0.99)
        >>> r, g = agent.strategy(agent, batch, learned=False)
        >>> bool(torch.equal(r, batch.r_primary + batch.r_aux)), g
        (True, 0.99)
    """

    name: str = ""
    learned: bool = False
    needs_potential: bool = False

    def __call__(self, agent: BARFI, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, torch.Tensor | float]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PrimaryReward(BarfiReward):
    """Baseline :math:`r = r_p`, :math:`\\gamma` = the env's (the heuristic is ignored).

    Example:
        >>> PrimaryReward().learned
        False
    """

    name = "primary"

    def __call__(self, agent: BARFI, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, float]:
        return batch.r_primary, agent.gamma


class NaiveSum(BarfiReward):
    """Baseline :math:`r = r_p + r_{aux}` (naive addition of the heuristic).

    Example:
        >>> NaiveSum().name
        'naive'
    """

    name = "naive"

    def __call__(self, agent: BARFI, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, float]:
        return batch.r_primary + batch.r_aux, agent.gamma


class PotentialShaped(BarfiReward):
    """Baseline :math:`r = r_p + \\gamma\\Phi(s') - \\Phi(s)`, :math:`\\Phi(s') = 0` after termination
    (kept on truncation); needs ``BARFI(potential=...)``.

    Example:
        >>> PotentialShaped().needs_potential
        True
    """

    name = "pbrs"
    needs_potential = True

    def __call__(self, agent: BARFI, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, float]:
        return batch.r_primary + batch.shaping, agent.gamma


class AlignedBlend(BarfiReward):
    """BARFI's learned reward and discount:
    :math:`r_\\phi = \\phi_1^\\top f(s) + r_p + (\\phi_2^\\top f(s))\\,r_{aux}`, :math:`\\gamma_\\phi`.

    Example:
        >>> AlignedBlend().learned
        True
    """

    name = "barfi"
    learned = True

    def __call__(self, agent: BARFI, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, torch.Tensor]:
        r = agent.reward(batch.feats, batch.r_primary, batch.r_aux)
        g = agent.align_gamma() if agent.learn_gamma else torch.tensor(agent.align_gamma().item(),
                                                                       dtype=torch.float64)
        if not learned:
            r, g = r.detach(), g.detach()
        return r, g


#: name -> strategy class, for configs and the benchmark (``variant="naive"`` etc.)
REWARD_STRATEGIES: dict[str, type[BarfiReward]] = {
    c.name: c for c in (PrimaryReward, NaiveSum, PotentialShaped, AlignedBlend)}
VARIANTS = tuple(REWARD_STRATEGIES)


def reward_strategy(variant: str | BarfiReward) -> BarfiReward:
    """A :class:`BarfiReward` from a strategy object or one of the names in :data:`VARIANTS`.

    Example:
        >>> reward_strategy("pbrs"), reward_strategy(NaiveSum())
        (PotentialShaped(), NaiveSum())
    """
    if isinstance(variant, BarfiReward):
        return variant
    if isinstance(variant, str) and variant in REWARD_STRATEGIES:
        return REWARD_STRATEGIES[variant]()
    raise ConfigError("variant", f"got {variant!r}", f"a BarfiReward or one of {VARIANTS}")


# ----------------------------------------------------------------------------- sampled BARFI
class BARFI:
    """BARFI with a softmax REINFORCE learner on a Gymnasium env (the paper's implicit gradient).

    One iteration (:meth:`update`): collect ``episodes_per_update`` episodes with the
    current policy; if the reward strategy is learned (BARFI's), take an outer step on :math:`\\phi`
    (implicit gradient, Neumann series) from this batch; then take ``inner_steps``
    REINFORCE steps on :math:`\\theta` with the (updated) reward and discount.

    Args:
        env: a Gymnasium env (``Discrete`` observations get one-hot features by default).
        aux_fn: ``(obs, action, next_obs, info) -> float``, the auxiliary heuristic.
        variant: a :class:`BarfiReward` strategy (:class:`AlignedBlend` = BARFI; the baselines
            :class:`PrimaryReward`, :class:`NaiveSum`, :class:`PotentialShaped`) or its name
            ``"barfi"``, ``"primary"``, ``"naive"``, ``"pbrs"``.
        potential: ``obs -> float`` for ``"pbrs"``.
        features, n_features: state feature map (default one-hot of ``Discrete(n)``).
        gamma: the environment's discount (defines :math:`J_p` and the baselines' discount).
        policy_lr, entropy_coef: REINFORCE step size and entropy bonus.
        reward_lr, gamma_lr: Adam step sizes of :math:`\\phi` and :math:`\\phi_\\gamma`.
        neumann_steps, neumann_alpha: Neumann series length ``K`` and step ``alpha``.
        reward_l2, gamma_l2: regularisers :math:`-\\lambda_r\\|\\phi-\\phi_0\\|^2 - \\lambda_\\gamma\\gamma_\\phi`.
        aux_weight_init: initial :math:`\\phi_2` (0 = start from the primary reward).
        gamma_init: initial :math:`\\gamma_\\phi`; ``learn_gamma`` toggles learning it.
        learn_bias: learn :math:`\\phi_1` (``False``: only the heuristic's weight :math:`\\phi_2` and
            :math:`\\gamma_\\phi` are learned - an ablation isolating the re-weighting of the heuristic).
        baseline: subtract the batch-mean return at each time step (variance reduction).
        seed: seeds the policy's action sampling and the env (common random numbers across variants).

    Example:
        >>> from rewardkit.tabular import barfi_gridworld
        >>> from rewardkit.tabular import TabularEnv
        >>> w = barfi_gridworld(size=3)
        >>> env = TabularEnv(w.mdp, max_steps=10)
        >>> agent = BARFI(env, w.aux_fn("good"), variant="barfi", episodes_per_update=2, seed=0)
        >>> log = agent.fit(n_updates=3)
        >>> len(log["primary_return"]), agent.gamma_value() < 1.0
        (3, True)
    """

    def __init__(self, env: Any, aux_fn: Callable[..., float], *, variant: str | BarfiReward = "barfi",
                 potential: Callable[[Any], float] | None = None,
                 features: Callable[[Any], np.ndarray] | None = None, n_features: int | None = None,
                 gamma: float = 0.99, policy_lr: float = 0.5, entropy_coef: float = 0.01,
                 reward_lr: float = 0.05, gamma_lr: float = 0.05, neumann_steps: int = 5,
                 neumann_alpha: float = 0.1, reward_l2: float = 0.0, gamma_l2: float = 0.0,
                 aux_weight_init: float = 0.0, gamma_init: float = 0.99, learn_gamma: bool = True,
                 learn_bias: bool = True, episodes_per_update: int = 8, inner_steps: int = 1, baseline: bool = True,
                 max_steps: int = 1000, seed: int = 0):
        strategy = reward_strategy(variant)
        if strategy.needs_potential and potential is None:
            raise ConfigError("potential", f"is required for variant {strategy.name!r}", "a callable obs -> float")
        if not callable(aux_fn):
            raise ConfigError("aux_fn", f"got {type(aux_fn).__name__}", "a callable (obs, action, next_obs, info) -> float")
        if features is None:
            n = getattr(env.observation_space, "n", None)
            if n is None:
                raise ConfigError("features", "is required for a non-Discrete observation space",
                                  "a callable obs -> 1-D feature array, plus n_features")
            features, n_features = one_hot_features(int(n)), int(n)
        if n_features is None:
            raise ConfigError("n_features", "is required with a custom feature map", "a positive int")
        self.env, self.aux_fn, self.potential = env, aux_fn, potential
        self.strategy, self.variant = strategy, strategy.name
        self.features, self.n_features = features, int(n_features)
        self.gamma = float(gamma)
        self.n_actions = int(env.action_space.n)
        with seeded(seed, torch=True):  # local: the caller's global torch RNG is left alone
            self.policy = LinearSoftmaxPolicy(self.n_features, self.n_actions)
            self.reward = AlignedReward(self.n_features, aux_weight_init)
            self.align_gamma = AlignedGamma(gamma_init)
        self.learn_gamma = bool(learn_gamma)
        self.learn_bias = bool(learn_bias)
        self.policy_lr, self.entropy_coef = float(policy_lr), float(entropy_coef)
        self.neumann_steps, self.neumann_alpha = int(neumann_steps), float(neumann_alpha)
        self.reward_l2, self.gamma_l2 = float(reward_l2), float(gamma_l2)
        self.episodes_per_update, self.inner_steps = int(episodes_per_update), int(inner_steps)
        self.baseline, self.max_steps = bool(baseline), int(max_steps)
        self.reward_opt = torch.optim.Adam(self.reward.parameters(), lr=reward_lr, maximize=True)
        self.gamma_opt = torch.optim.Adam(self.align_gamma.parameters(), lr=gamma_lr, maximize=True)
        self.rng = np.random.default_rng(seed)
        self._env_seed: int | None = seed
        self.episodes_seen = 0

    # -- objectives --------------------------------------------------------------------------
    def gamma_value(self) -> float:
        with torch.no_grad():
            return float(self.align_gamma())

    def _rewards(self, batch: EpisodeBatch, learned: bool) -> tuple[torch.Tensor, torch.Tensor | float]:
        return self.strategy(self, batch, learned)

    def _surrogate(self, batch: EpisodeBatch, rewards: torch.Tensor, gamma: torch.Tensor | float,
                   entropy: bool) -> torch.Tensor:
        """REINFORCE surrogate :math:`\\frac1B\\sum_{b,t} \\log\\pi(a_t|s_t)(G_t - b_t) + c\\,\\mathcal{H}`."""
        G = discounted_returns(rewards, batch.mask, gamma)
        if self.baseline and G.shape[0] > 1:
            cnt = batch.mask.sum(0).clamp(min=1.0)
            b = (G * batch.mask).sum(0) / cnt
            G = (G - b) * batch.mask
        logp_all = self.policy.log_probs(batch.feats)
        logp = logp_all.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1)
        B = batch.mask.shape[0]
        obj = (logp * G * batch.mask).sum() / B
        if entropy and self.entropy_coef > 0:
            ent = -(logp_all.exp() * logp_all).sum(-1)
            obj = obj + self.entropy_coef * (ent * batch.mask).sum() / batch.mask.sum()
        return obj

    # -- the BARFI outer step -------------------------------------------------------------------
    def hypergradient(self, batch: EpisodeBatch) -> dict[str, Any]:
        """Implicit gradient :math:`dJ_p/d\\phi` (and :math:`d/d\\phi_\\gamma`) from one batch."""
        params = [self.policy.theta]
        Jp = self._surrogate(batch, batch.r_primary, self.gamma, entropy=False)
        v = list(torch.autograd.grad(Jp, params))
        r, g = self._rewards(batch, learned=True)
        Jphi = self._surrogate(batch, r, g, entropy=True)
        g_theta = torch.autograd.grad(Jphi, params, create_graph=True)

        def hvp(p: list[torch.Tensor]) -> list[torch.Tensor]:
            dot = sum((gi * pi).sum() for gi, pi in zip(g_theta, p, strict=False))
            return list(torch.autograd.grad(dot, params, retain_graph=True))

        u = neumann_inverse_hvp(hvp, v, self.neumann_alpha, self.neumann_steps)
        dot = sum((gi * ui).sum() for gi, ui in zip(g_theta, u, strict=False))
        meta_params = ([self.reward.phi_bias] if self.learn_bias else []) + [self.reward.phi_aux] + \
            ([self.align_gamma.logit] if self.learn_gamma else [])
        grads = torch.autograd.grad(dot, meta_params, allow_unused=True)
        grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(meta_params, grads, strict=False)]
        return {"params": meta_params, "grads": grads, "v_norm": float(torch.sqrt(sum((x ** 2).sum() for x in v)))}

    def outer_step(self, batch: EpisodeBatch) -> dict[str, float]:
        hg = self.hypergradient(batch)
        self.reward_opt.zero_grad()
        self.gamma_opt.zero_grad()
        for p, gr in zip(hg["params"], hg["grads"], strict=False):
            p.grad = gr.detach().clone()
        if self.reward_l2 > 0 or (self.gamma_l2 > 0 and self.learn_gamma):
            reg = -self.reward_l2 * self.reward.l2()
            if self.learn_gamma:
                reg = reg - self.gamma_l2 * self.align_gamma()
            regs = torch.autograd.grad(reg, hg["params"], allow_unused=True)
            for p, gr in zip(hg["params"], regs, strict=False):
                if gr is not None:
                    p.grad = p.grad + gr
        self.reward_opt.step()
        if self.learn_gamma:
            self.gamma_opt.step()
        return {"v_norm": hg["v_norm"]}

    def inner_step(self, batch: EpisodeBatch) -> None:
        for _ in range(self.inner_steps):
            r, g = self._rewards(batch, learned=False)
            J = self._surrogate(batch, r, g, entropy=True)
            (grad,) = torch.autograd.grad(J, [self.policy.theta])
            with torch.no_grad():
                self.policy.theta.add_(self.policy_lr * grad)

    def update(self) -> dict[str, float]:
        batch = collect_episodes(self.env, self.policy, self.features, self.aux_fn, self.episodes_per_update,
                                 self.rng, self.gamma, self.potential, self.max_steps, self._env_seed)
        self._env_seed = None
        self.episodes_seen += self.episodes_per_update
        info = {"primary_return": float(batch.primary_return.mean()),
                "undiscounted_primary": float(batch.undiscounted_primary.mean())}
        if self.strategy.learned:
            info.update(self.outer_step(batch))
        self.inner_step(batch)
        info["gamma_phi"] = self.gamma_value()
        return info

    def fit(self, n_updates: int, callback: Callable[[BARFI, int], None] | None = None) -> dict[str, np.ndarray]:
        """Run ``n_updates`` iterations; returns per-iteration logs as arrays."""
        logs: dict[str, list[float]] = {}
        for i in range(int(n_updates)):
            info = self.update()
            for k, val in info.items():
                logs.setdefault(k, []).append(val)
            if callback is not None:
                callback(self, i)
        out = {k: np.asarray(v) for k, v in logs.items()}
        out["episodes"] = np.arange(1, int(n_updates) + 1) * self.episodes_per_update
        return out

    def policy_table(self) -> np.ndarray:
        """The policy on one-hot features as an ``(n_features, A)`` probability table."""
        with torch.no_grad():
            return torch.softmax(self.policy.theta, -1).numpy().copy()

    def aux_weights(self) -> np.ndarray:
        """The learned :math:`\\phi_2` (weight of the auxiliary reward per feature)."""
        return self.reward.phi_aux.detach().numpy().copy()


# ----------------------------------------------------------------------------- exact tabular BARFI
class TabularBARFI:
    """Exact-gradient BARFI on a :class:`~rewardkit.tabular.TabularMDP`.

    Inner problem: the entropy-regularised optimal policy of :math:`(r_\\phi, \\gamma_\\phi)`,
    :math:`\\theta^*(\\phi) = Q^*_{soft}/\\tau` (soft value iteration, run to ``tol``), which
    is the unique maximiser of

    .. math:: J_\\phi(\\theta) = \\mu_0^\\top (I - \\gamma_\\phi P^{\\pi_\\theta})^{-1}
              \\big(r_\\phi^{\\pi_\\theta} + \\tau \\mathcal{H}(\\pi_\\theta)\\big).

    Outer objective: :math:`J_p(\\theta) = \\mu_0^\\top V^{\\pi_\\theta}_{r_p, \\gamma}` (exact).
    :meth:`hypergradient` returns :math:`dJ_p/d\\phi` from the implicit function theorem
    with the exact Hessian :math:`\\nabla^2_\\theta J_\\phi` (pseudo-inverse: softmax
    logits have one null direction per state; unreachable states have zero rows).

    Args:
        mdp: the MDP with the *primary* reward.
        R_aux: the auxiliary reward table ``(S, A)``.
        tau: entropy temperature of the inner learner.
        aux_weight_init: initial :math:`\\phi_2` per state; ``gamma_init``: initial :math:`\\gamma_\\phi`.
        learn_gamma: also learn :math:`\\gamma_\\phi`.
        lr: initial outer step size (halved by backtracking when :math:`J_p` would drop).

    Example:
        >>> from rewardkit.tabular import barfi_gridworld
        >>> w = barfi_gridworld(size=3)
        >>> tb = TabularBARFI(w.mdp, w.R_aux["bad"], tau=0.005, aux_weight_init=0.0, lr=5.0)
        >>> before = tb.primary_return()
        >>> after = tb.fit(3)
        >>> bool(after[-1] > before)
        True
    """

    def __init__(self, mdp: Any, R_aux: np.ndarray, *, tau: float = 0.05, aux_weight_init: float = 0.0,
                 gamma_init: float | None = None, learn_gamma: bool = False, lr: float = 0.05,
                 soft_vi_tol: float = 1e-10, reward_l2: float = 0.0):
        R_aux = np.asarray(R_aux, dtype=np.float64)
        if R_aux.shape != (mdp.n_states, mdp.n_actions):
            raise ConfigError("R_aux", f"has shape {R_aux.shape}", f"an array ({mdp.n_states}, {mdp.n_actions})")
        if tau <= 0:
            raise ConfigError("tau", f"got {tau}", "a positive temperature")
        self.mdp = mdp
        self.tau = float(tau)
        self.S, self.A = mdp.n_states, mdp.n_actions
        self.T = torch.as_tensor(mdp.transitions)
        self.Rp = torch.as_tensor(mdp.reward)
        Ra = R_aux.copy()
        Ra[mdp.terminal] = 0.0
        self.Ra = torch.as_tensor(Ra)
        self.mu0 = torch.as_tensor(mdp.mu0)
        self.live = torch.as_tensor(~mdp.terminal, dtype=torch.float64)
        self.env_gamma = float(mdp.gamma)
        g0 = self.env_gamma if gamma_init is None else float(gamma_init)
        self.phi_bias = torch.zeros(self.S, dtype=torch.float64, requires_grad=True)
        self.phi_aux = torch.full((self.S,), float(aux_weight_init), dtype=torch.float64, requires_grad=True)
        self.gamma_logit = torch.tensor(math.log(g0 / (1 - g0)), dtype=torch.float64, requires_grad=learn_gamma)
        self.learn_gamma = bool(learn_gamma)
        self.tol = float(soft_vi_tol)
        self.reward_l2 = float(reward_l2)
        self._init = (self.phi_bias.detach().clone(), self.phi_aux.detach().clone())
        self.lr = float(lr)
        self._theta: np.ndarray | None = None

    # -- pieces ----------------------------------------------------------------------------
    def shaped_reward(self) -> torch.Tensor:
        """:math:`r_\\phi(s,a) = \\phi_1(s) + r_p(s,a) + \\phi_2(s) r_{aux}(s,a)` (0 on terminal states)."""
        r = self.phi_bias[:, None] + self.Rp + self.phi_aux[:, None] * self.Ra
        return r * self.live[:, None]

    def gamma_phi(self) -> torch.Tensor:
        return torch.sigmoid(self.gamma_logit)

    def _value(self, theta: torch.Tensor, R: torch.Tensor, gamma: torch.Tensor | float, tau: float) -> torch.Tensor:
        """:math:`\\mu_0^\\top (I-\\gamma P^\\pi)^{-1}(r^\\pi + \\tau\\mathcal H^\\pi)`, terminal states valued 0."""
        logp = torch.log_softmax(theta, dim=-1)
        pi = logp.exp()
        r_pi = (pi * R).sum(-1) - tau * (pi * logp).sum(-1)
        r_pi = r_pi * self.live
        P = torch.einsum("sa,sat->st", pi, self.T) * self.live[:, None]
        v = torch.linalg.solve(torch.eye(self.S, dtype=torch.float64) - gamma * P, r_pi)
        return self.mu0 @ v

    def inner_solve(self) -> np.ndarray:
        """:math:`\\theta^* = Q^*_{soft}/\\tau` by soft value iteration (warm-started)."""
        with torch.no_grad():
            R = self.shaped_reward().numpy()
            g = float(self.gamma_phi())
        T = self.mdp.transitions
        live = ~self.mdp.terminal
        V = np.zeros(self.S) if self._theta is None else self._v_from_theta(self._theta)
        for _ in range(200_000):
            Q = R + g * (T @ (V * live))
            m = Q.max(axis=1, keepdims=True)
            V_new = (m[:, 0] + self.tau * np.log(np.exp((Q - m) / self.tau).sum(axis=1))) * live
            if np.max(np.abs(V_new - V)) < self.tol:
                V = V_new
                break
            V = V_new
        Q = R + g * (T @ (V * live))
        self._theta = Q / self.tau
        return self._theta

    def _v_from_theta(self, theta: np.ndarray) -> np.ndarray:
        m = theta.max(axis=1, keepdims=True)
        return (self.tau * (m[:, 0] + np.log(np.exp(theta - m).sum(axis=1)))) * (~self.mdp.terminal)

    def policy(self) -> np.ndarray:
        """The learner's (soft-optimal) policy for the current :math:`\\phi`."""
        theta = self.inner_solve()
        e = np.exp(theta - theta.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def primary_return(self, horizon: int | None = None) -> float:
        """:math:`J_p` of the learner's current policy (exact; finite-horizon if ``horizon`` given)."""
        pi = self.policy()
        if horizon is not None:
            return finite_horizon_return(self.mdp, pi, horizon)
        return float(self.mdp.expected_return(pi))

    def hypergradient(self) -> dict[str, torch.Tensor]:
        """Exact :math:`dJ_p/d\\phi` by the implicit function theorem at :math:`\\theta^*(\\phi)`."""
        theta = torch.as_tensor(self.inner_solve()).clone().requires_grad_(True)
        Jp = self._value(theta, self.Rp, self.env_gamma, 0.0)
        (v,) = torch.autograd.grad(Jp, [theta])
        f = lambda th: self._value(th, self.shaped_reward().detach(), self.gamma_phi().detach(), self.tau)  # noqa: E731
        H = torch.autograd.functional.hessian(f, theta.detach()).reshape(self.S * self.A, self.S * self.A)
        u = -torch.linalg.pinv(H, hermitian=True, rtol=1e-10) @ v.reshape(-1)   # (-H)^+ v
        Jphi = self._value(theta, self.shaped_reward(), self.gamma_phi(), self.tau)
        (g_theta,) = torch.autograd.grad(Jphi, [theta], create_graph=True)
        params = [self.phi_bias, self.phi_aux] + ([self.gamma_logit] if self.learn_gamma else [])
        grads = torch.autograd.grad((g_theta.reshape(-1) * u.detach()).sum(), params, allow_unused=True)
        out = {"phi_bias": grads[0], "phi_aux": grads[1]}
        if self.learn_gamma:
            out["gamma_logit"] = grads[2]
        return {k: (torch.zeros_like(getattr(self, k)) if g is None else g) for k, g in out.items()}

    def step(self) -> float:
        """One outer step of gradient ascent with backtracking; returns :math:`J_p` after it.

        The step is :math:`\\phi \\leftarrow \\phi + \\eta\\, dJ_p/d\\phi` (minus the L2 pull);
        ``eta`` starts at ``lr`` and is halved (up to 20 times) until :math:`J_p` does not
        decrease, so the outer loop is monotone (the objective is exact here).
        """
        hg = self.hypergradient()
        params = [self.phi_bias, self.phi_aux] + ([self.gamma_logit] if self.learn_gamma else [])
        grads = [hg["phi_bias"] - 2 * self.reward_l2 * (self.phi_bias.detach() - self._init[0]),
                 hg["phi_aux"] - 2 * self.reward_l2 * (self.phi_aux.detach() - self._init[1])]
        if self.learn_gamma:
            grads.append(hg["gamma_logit"])
        start = [p.detach().clone() for p in params]
        theta0 = self._theta.copy()
        j0 = float(self.mdp.expected_return(self.policy()))
        eta = self.lr
        for _ in range(20):
            with torch.no_grad():
                for p, p0, g in zip(params, start, grads, strict=False):
                    p.copy_(p0 + eta * g)
            self._theta = theta0.copy()
            j = float(self.mdp.expected_return(self.policy()))
            if j >= j0 - 1e-12:
                return j
            eta *= 0.5
        with torch.no_grad():
            for p, p0 in zip(params, start, strict=False):
                p.copy_(p0)
        self._theta = theta0
        return j0

    def fit(self, n_steps: int) -> np.ndarray:
        """``n_steps`` outer steps; returns :math:`J_p` after each."""
        out = []
        for _ in range(int(n_steps)):
            self.step()
            out.append(self.primary_return())
        return np.asarray(out)

    def primary_objective_at(self, phi_bias: np.ndarray, phi_aux: np.ndarray, gamma: float | None = None) -> float:
        """:math:`J_p(\\theta^*(\\phi))` for given parameters (for finite-difference checks); state is restored."""
        saved = (self.phi_bias.detach().clone(), self.phi_aux.detach().clone(), self.gamma_logit.detach().clone(),
                 None if self._theta is None else self._theta.copy())
        with torch.no_grad():
            self.phi_bias.copy_(torch.as_tensor(phi_bias))
            self.phi_aux.copy_(torch.as_tensor(phi_aux))
            if gamma is not None:
                self.gamma_logit.copy_(torch.tensor(math.log(gamma / (1 - gamma))))
        self._theta = None
        val = float(self.mdp.expected_return(self.policy()))
        with torch.no_grad():
            self.phi_bias.copy_(saved[0])
            self.phi_aux.copy_(saved[1])
            self.gamma_logit.copy_(saved[2])
        self._theta = saved[3]
        return val
