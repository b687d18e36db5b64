"""ExploRS: exploration-guided reward shaping (a learned intrinsic reward plus a count bonus).

Devidze, Kamalaruban & Singla (2022), "Exploration-Guided Reward Shaping for
Reinforcement Learning under Sparse Rewards", NeurIPS 2022 (reference code
``machine-teaching-group/neurips2022_exploration-guided-reward-shaping``).

The agent learns from

.. math::
    \\hat r(s, a, s') = \\bar r(s, a) + R^{exploit}_\\phi(s, a) + R^{explore}(s')

* **Explore** (count bonus, "ExploB"):
  :math:`R^{explore}(s') = \\lambda / \\sqrt{(\\lambda/B_{max})^2 + N(s')}`, and 0 if
  :math:`s'` is terminal.  :math:`N(s)` counts every visit of the *current* state of
  every env step (never reset; the reference also counts evaluation rollouts).
* **Exploit** ("SelfRS"): a table :math:`\\phi(s,a)` updated every ``N_r`` episodes on
  a buffer :math:`\\mathcal D` by the meta-gradient of the *original* return of a
  softmax learner whose logits move with the reward:

  .. math::
      w_t = \\pi(a_t|s_t)\\,(\\bar G_t - V(s_t)),\\qquad
      \\phi(s_t, \\cdot) \\mathrel{+}= \\eta_\\phi\\, w_t\\,(e_{a_t} - \\pi(\\cdot|s_t)),\\qquad
      V(s) \\mathrel{+}= \\eta_c \\operatorname{mean}_t(\\bar G_t - V(s_t))

  with :math:`\\bar G_t` the discounted return of :math:`\\bar r`; for a Q-learner
  :math:`\\phi` is clipped to :math:`\\pm\\varepsilon_{clip}`.

Variants (``variant=``): ``"orig"`` (:math:`\\bar r`), ``"explob"`` (count bonus),
``"selfrs"`` (exploit only), ``"explors"`` (both), and the paper's baselines
``"sors"`` (SORS': :math:`\\phi` fitted by a Bradley-Terry loss on episode pairs
ranked by :math:`\\bar G`; Memarian et al. 2021) and ``"lirpg"`` (LIRPG' without the
meta-gradient: :math:`\\phi(s_i,a_i) \\mathrel{+}= \\eta\\,\\pi(a_i|s_i)(\\bar G - V(s_i))
(\\hat n_Q - \\hat n_V)` from Monte-Carlo visitation differences of a rollout that
starts with :math:`a_i` and one that starts with :math:`b\\sim\\pi`; Zheng et al. 2018).

:func:`run_explors` is the reference training protocol with the tabular Q-learner
(:class:`rewardkit.tabular.QLearning`, explicit ``tie_break``): replay of the last
5 episodes in reverse every 2 episodes, teacher update every 5 on a 10-episode
buffer, evaluation every 100 episodes by 5 rollouts (discounted :math:`\\bar r` return).
:class:`ExploRSReward` exposes the learned shaping as a registered reward term
(``"explors"``) on ``Discrete``-observation :class:`~rewardkit.core.TransitionBatch`\\ es.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from ..core.batch import TransitionBatch
from ..core.errors import BatchError, ConfigError
from ..core.registry import register_term
from ..core.term import RewardTerm

__all__ = [
    "TEACHER_VARIANTS",
    "Episode",
    "ExploRSReward",
    "ExploRSTeacher",
    "behaviour_policy",
    "critic_gradient",
    "discounted_return_to_go",
    "explors_count_bonus",
    "first_crossing",
    "lirpg_gradient",
    "run_explors",
    "selfrs_gradient",
    "sors_gradient",
]

TEACHER_VARIANTS = ("orig", "explob", "selfrs", "explors", "sors", "lirpg")
_COUNTED = ("explob", "explors")
_LEARNED = ("selfrs", "explors", "sors", "lirpg")


# ----------------------------------------------------------------------------- pure functions
def explors_count_bonus(counts: Any, lam: float = 1.0, b_max: float = 1.0) -> np.ndarray:
    """:math:`\\lambda / \\sqrt{(\\lambda/B_{max})^2 + N}` (ExploRS's exploration bonus).

    A pure formula on visit counts; the ``count_bonus`` *reward term* is :mod:`rewardkit.explore`'s.

    Example:
        >>> explors_count_bonus([0, 3, 8]).round(4).tolist()
        [1.0, 0.5, 0.3333]
    """
    n = np.asarray(counts, dtype=np.float64)
    return lam / np.sqrt((lam / b_max) ** 2 + n)


@dataclass
class Episode:
    """One episode: ``states``, ``actions``, original rewards ``r_bar``, learner rewards ``r_hat``,
    ``next_states`` (arrays of length ``L``) and the behaviour ``policy`` ``(S, A)`` it was run with."""

    states: np.ndarray
    actions: np.ndarray
    r_bar: np.ndarray
    r_hat: np.ndarray
    next_states: np.ndarray
    policy: np.ndarray

    def __len__(self) -> int:
        return int(self.states.shape[0])


def discounted_return_to_go(rewards: Any, gamma: float) -> np.ndarray:
    """:math:`G_t = \\sum_{k \\ge t} \\gamma^{k-t} r_k`.

    Example:
        >>> discounted_return_to_go([1.0, 0.0, 2.0], 0.5).tolist()
        [1.5, 1.0, 2.0]
    """
    r = np.asarray(rewards, dtype=np.float64)
    out = np.empty_like(r)
    g = 0.0
    for t in range(r.shape[0] - 1, -1, -1):
        g = r[t] + gamma * g
        out[t] = g
    return out


def selfrs_gradient(episodes: Sequence[Episode], V: np.ndarray, gamma: float, n_states: int,
                    n_actions: int) -> np.ndarray:
    """SelfRS meta-gradient direction for :math:`\\phi` (summed over the buffer).

    :math:`\\sum_{\\tau\\in\\mathcal D}\\sum_t \\pi(a_t|s_t)(\\bar G_t - V(s_t))\\,(e_{a_t} - \\pi(\\cdot|s_t))`
    placed in row :math:`s_t`: the softmax policy-gradient direction of the original
    return with respect to a per-(s, a) reward that moves the logits.

    Example:
        >>> ep = Episode(np.array([0]), np.array([1]), np.array([1.0]), np.array([1.0]), np.array([1]),
        ...              np.full((2, 2), 0.5))
        >>> selfrs_gradient([ep], np.zeros(2), 0.9, 2, 2).tolist()
        [[-0.25, 0.25], [0.0, 0.0]]
    """
    grad = np.zeros((n_states, n_actions))
    for ep in episodes:
        G = discounted_return_to_go(ep.r_bar, gamma)
        pi_s = ep.policy[ep.states]                              # (L, A)
        w = pi_s[np.arange(len(ep)), ep.actions] * (G - V[ep.states])
        np.add.at(grad, (ep.states, ep.actions), w)
        np.add.at(grad, ep.states, -pi_s * w[:, None])
    return grad


def critic_gradient(episodes: Sequence[Episode], V: np.ndarray, gamma: float) -> np.ndarray:
    """:math:`\\operatorname{mean}_{\\tau,t}(\\bar G_t - V(s_t))` placed at :math:`s_t` (the critic's step direction).

    Example:
        >>> ep = Episode(np.array([0, 1]), np.array([0, 0]), np.array([0.0, 1.0]), np.zeros(2), np.array([1, 1]),
        ...              np.full((2, 2), 0.5))
        >>> critic_gradient([ep], np.zeros(2), 0.5).tolist()
        [0.25, 0.5]
    """
    grad = np.zeros_like(V, dtype=np.float64)
    total = 0
    for ep in episodes:
        G = discounted_return_to_go(ep.r_bar, gamma)
        np.add.at(grad, ep.states, G - V[ep.states])
        total += len(ep)
    return grad / max(total, 1)


def _visitation(ep_states: np.ndarray, ep_actions: np.ndarray, gamma: float, n_states: int,
                n_actions: int) -> np.ndarray:
    psi = np.zeros((n_states, n_actions))
    np.add.at(psi, (ep_states, ep_actions), gamma ** np.arange(ep_states.shape[0]))
    return psi


def sors_gradient(episodes: Sequence[Episode], phi: np.ndarray, gamma: float, n_pairs: int,
                  rng: np.random.Generator) -> np.ndarray | None:
    """SORS' ascent direction: Bradley-Terry on episode pairs ranked by the original return.

    For pairs :math:`\\tau_i \\succ \\tau_j` (:math:`\\bar G(\\tau_i) > \\bar G(\\tau_j)`), with
    discounted visitation :math:`\\psi(\\tau)` and :math:`R_\\phi(\\tau) = \\langle\\phi, \\psi(\\tau)\\rangle`:
    :math:`\\frac1{|P|}\\sum (1 - \\sigma(R_\\phi(\\tau_i) - R_\\phi(\\tau_j)))(\\psi(\\tau_i) - \\psi(\\tau_j))`.
    At most ``n_pairs`` pairs are drawn (with replacement, as in the reference).
    Returns ``None`` when no episode beats another.

    Example:
        >>> pi = np.full((2, 2), 0.5)
        >>> good = Episode(np.array([0]), np.array([1]), np.array([1.0]), np.zeros(1), np.array([1]), pi)
        >>> bad = Episode(np.array([0]), np.array([0]), np.array([0.0]), np.zeros(1), np.array([1]), pi)
        >>> sors_gradient([good, bad], np.zeros((2, 2)), 0.9, 10, np.random.default_rng(0)).tolist()
        [[-0.5, 0.5], [0.0, 0.0]]
    """
    S, A = phi.shape
    G0 = np.array([discounted_return_to_go(ep.r_bar, gamma)[0] if len(ep) else 0.0 for ep in episodes])
    pairs = [(i, j) for i in range(len(episodes)) for j in range(len(episodes)) if G0[i] > G0[j]]
    if not pairs:
        return None
    if len(pairs) > n_pairs:
        idx = rng.choice(len(pairs), size=n_pairs)
        pairs = [pairs[k] for k in idx]
    grad = np.zeros((S, A))
    psis: dict[int, np.ndarray] = {}
    for i, j in pairs:
        for k in (i, j):
            if k not in psis:
                psis[k] = _visitation(episodes[k].states, episodes[k].actions, gamma, S, A)
        ri, rj = float((phi * psis[i]).sum()), float((phi * psis[j]).sum())
        p_ij = 1.0 / (1.0 + np.exp(-(ri - rj)))
        grad += (1.0 - p_ij) * (psis[i] - psis[j])
    return grad / len(pairs)


def lirpg_gradient(episodes: Sequence[Episode], V: np.ndarray, gamma: float, n_states: int, n_actions: int,
                   rollout: Callable[[int, int], tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
                   max_samples: int | None = None) -> np.ndarray:
    """LIRPG' direction (no meta-gradient): Monte-Carlo :math:`\\partial Q/\\partial\\phi - \\partial V/\\partial\\phi`.

    For each step :math:`(s_i, a_i)` with original return-to-go :math:`\\bar G`:
    :math:`\\phi(s_i,a_i) \\mathrel{+}= \\pi(a_i|s_i)(\\bar G - V(s_i))\\,(\\hat n_{a_i} - \\hat n_b)(s_i,a_i)`
    where :math:`\\hat n` is the discounted count of :math:`(s_i, a_i)` in a rollout started
    with :math:`a_i` (resp. :math:`b\\sim\\pi(\\cdot|s_i)`) then following :math:`\\pi`.
    ``rollout(s, a) -> (states, actions)`` samples such a rollout; ``max_samples``
    subsamples steps (``None`` = every step, as in the reference).  Divided by ``len(episodes)``.
    """
    grad = np.zeros((n_states, n_actions))
    items = []
    for e, ep in enumerate(episodes):
        G = discounted_return_to_go(ep.r_bar, gamma)
        items.extend((e, t, G[t]) for t in range(len(ep)))
    if max_samples is not None and len(items) > max_samples:
        items = [items[k] for k in rng.choice(len(items), size=max_samples, replace=False)]
    for e, t, G in items:
        ep = episodes[e]
        s, a = int(ep.states[t]), int(ep.actions[t])
        pi_s = ep.policy[s]
        b = int(rng.choice(n_actions, p=pi_s))
        st_q, ac_q = rollout(s, a)
        st_v, ac_v = rollout(s, b)
        disc_q = gamma ** np.arange(st_q.shape[0])
        disc_v = gamma ** np.arange(st_v.shape[0])
        n_q = float(disc_q[(st_q == s) & (ac_q == a)].sum())
        n_v = float(disc_v[(st_v == s) & (ac_v == a)].sum())
        grad[s, a] += pi_s[a] * (G - V[s]) * (n_q - n_v)
    return grad / max(len(episodes), 1)


def behaviour_policy(Q: np.ndarray, epsilon: float, tie_break: str) -> np.ndarray:
    """The epsilon-greedy action distribution of a Q-learner, ``(S, A)``.

    ``(1 - epsilon) * greedy + epsilon / A`` where ``greedy`` is uniform over tied
    maximisers (``"random"``) or one-hot on the first (``"first"``).

    Example:
        >>> behaviour_policy(np.array([[0.0, 0.0], [0.0, 1.0]]), 0.1, "random").round(6).tolist()
        [[0.5, 0.5], [0.05, 0.95]]
    """
    from ..tabular.mdp import greedy_policy

    A = Q.shape[1]
    return (1.0 - epsilon) * greedy_policy(Q, tie_break) + epsilon / A


def first_crossing(episodes: Any, values: Any, threshold: float, window: int = 5) -> int | None:
    """First evaluation episode at which the trailing ``window``-point moving mean is ``>= threshold``.

    Example:
        >>> first_crossing([0, 100, 200, 300], [0, 10, 10, 10], 9.0, window=2)
        200
    """
    v = np.asarray(values, dtype=np.float64)
    ep = np.asarray(episodes)
    for k in range(v.shape[0]):
        lo = max(0, k - window + 1)
        if k - lo + 1 == window and v[lo:k + 1].mean() >= threshold:
            return int(ep[k])
    return None


# ----------------------------------------------------------------------------- the teacher
class ExploRSTeacher:
    """The reward designer of ExploRS and its baselines (a per-(s, a) table plus counts).

    Args:
        n_states, n_actions: table size.
        gamma: discount of the original return :math:`\\bar G`.
        variant: one of ``orig, explob, selfrs, explors, sors, lirpg``.
        terminal: boolean mask of absorbing states (no bonus for entering them).
        lam, b_max: count-bonus :math:`\\lambda`, :math:`B_{max}`.
        eta_phi, eta_critic: step sizes of :math:`\\phi` and of the critic :math:`V`.
        clip: clip :math:`\\phi` of SelfRS/ExploRS to ``[-clip, clip]`` (the reference uses
            0.01 with a Q-learner and no clipping with REINFORCE); ``None`` = no clipping.
        sors_pairs: pairs per SORS' update.
        rollout: ``(s, a) -> (states, actions)`` sampler, required for ``"lirpg"``.
        lirpg_samples: subsample this many steps per LIRPG' update (``None`` = all).
        seed: seed of the teacher's own generator (pair / action sampling).

    Example:
        >>> t = ExploRSTeacher(3, 2, 0.9, "explors", terminal=[False, False, True])
        >>> t.shaped_reward(0, 1, 1, 0.0), t.shaped_reward(0, 1, 2, 0.0)   # bonus 1/sqrt(1+0); none into terminal
        (1.0, 0.0)
        >>> t.observe(1); round(t.explore(1), 4)
        0.7071
    """

    def __init__(self, n_states: int, n_actions: int, gamma: float, variant: str = "explors", *,
                 terminal: Any = None, lam: float = 1.0, b_max: float = 1.0, eta_phi: float = 0.01,
                 eta_critic: float = 0.01, clip: float | None = None, sors_pairs: int = 10,
                 rollout: Callable[[int, int], tuple[np.ndarray, np.ndarray]] | None = None,
                 lirpg_samples: int | None = None, seed: int | None = None):
        if variant not in TEACHER_VARIANTS:
            raise ConfigError("variant", f"got {variant!r}", f"one of {TEACHER_VARIANTS}")
        if lam <= 0 or b_max <= 0:
            raise ConfigError("lam", f"got lam={lam}, b_max={b_max}", "positive numbers")
        if variant == "lirpg" and rollout is None:
            raise ConfigError("rollout", "is required for variant 'lirpg'", "a callable (s, a) -> (states, actions)")
        self.n_states, self.n_actions = int(n_states), int(n_actions)
        self.gamma = float(gamma)
        self.variant = variant
        self.terminal = np.zeros(self.n_states, dtype=bool) if terminal is None else \
            np.asarray(terminal, dtype=bool).reshape(-1)
        if self.terminal.shape != (self.n_states,):
            raise ConfigError("terminal", f"has shape {self.terminal.shape}", f"a boolean mask ({self.n_states},)")
        self.lam, self.b_max = float(lam), float(b_max)
        self.eta_phi, self.eta_critic = float(eta_phi), float(eta_critic)
        self.clip = None if clip is None else float(clip)
        self.sors_pairs = int(sors_pairs)
        self.rollout = rollout
        self.lirpg_samples = lirpg_samples
        self.rng = np.random.default_rng(seed)
        self.phi = np.zeros((self.n_states, self.n_actions))
        self.V = np.zeros(self.n_states)
        self.counts = np.zeros(self.n_states)
        self._bonus_on = variant in _COUNTED
        self._phi_on = variant in _LEARNED

    # -- the reward -------------------------------------------------------------------------
    def explore(self, s2: int) -> float:
        """:math:`R^{explore}(s')` (0 into a terminal state)."""
        if self.terminal[s2]:
            return 0.0
        return self.lam / float(np.sqrt((self.lam / self.b_max) ** 2 + self.counts[s2]))

    def exploit(self, s: int, a: int) -> float:
        """:math:`R^{exploit}_\\phi(s, a) = \\phi(s, a)`."""
        return float(self.phi[s, a])

    def addition(self, s: int, a: int, s2: int) -> float:
        """The shaping added to :math:`\\bar r` by this variant."""
        out = 0.0
        if self._phi_on:
            out += float(self.phi[s, a])
        if self._bonus_on:
            out += self.explore(s2)
        return out

    def shaped_reward(self, s: int, a: int, s2: int, r_bar: float) -> float:
        """:math:`\\hat r = \\bar r + R^{exploit}_\\phi(s,a) + R^{explore}(s')` (per variant)."""
        return float(r_bar) + self.addition(s, a, s2)

    def observe(self, s: int) -> None:
        """Count a visit of the current state (every env step)."""
        self.counts[s] += 1.0

    # -- learning -----------------------------------------------------------------------------
    def update(self, episodes: Sequence[Episode]) -> None:
        """Teacher update on the buffer (no-op for ``orig``/``explob``)."""
        eps = list(episodes)
        if not eps or self.variant in ("orig", "explob"):
            return
        if self.variant == "sors":
            g = sors_gradient(eps, self.phi, self.gamma, self.sors_pairs, self.rng)
            if g is not None:
                self.phi += self.eta_phi * g
            return
        if self.variant == "lirpg":
            assert self.rollout is not None
            self.phi += self.eta_phi * lirpg_gradient(eps, self.V, self.gamma, self.n_states, self.n_actions,
                                                      self.rollout, self.rng, self.lirpg_samples)
        else:
            self.phi += self.eta_phi * selfrs_gradient(eps, self.V, self.gamma, self.n_states, self.n_actions)
            if self.clip is not None:
                np.clip(self.phi, -self.clip, self.clip, out=self.phi)
        self.V += self.eta_critic * critic_gradient(eps, self.V, self.gamma)

    def state_dict(self) -> dict[str, Any]:
        return {"phi": self.phi.copy(), "V": self.V.copy(), "counts": self.counts.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k in ("phi", "V", "counts"):
            if k in state:
                arr = np.asarray(state[k], dtype=np.float64)
                if arr.shape != getattr(self, k).shape:
                    raise ConfigError(f"state.{k}", f"has shape {arr.shape}", f"shape {getattr(self, k).shape}")
                setattr(self, k, arr.copy())


# ----------------------------------------------------------------------------- the reward term
@register_term("explors", batch_kind="transition", example={"n_states": 6, "n_actions": 3})
class ExploRSReward(RewardTerm):
    """ExploRS shaping: learned phi(s, a) plus the count bonus lam / sqrt((lam/B)^2 + N(s')).

    :math:`\\phi(s,a) + \\lambda/\\sqrt{(\\lambda/B)^2 + N(s')}` (Devidze et al. 2022).
    For ``Discrete`` observations (integer states).  The term returns only the
    shaping; compose it with ``env_reward`` for :math:`\\hat r`.  With
    ``count_on_call=True`` each call first computes the bonus and then counts the
    batch's current states ``obs`` (the reference's order).  Call :meth:`update` with
    finished :class:`Episode`\\ s every ``N_r`` episodes to learn :math:`\\phi` (SelfRS).

    Args:
        n_states, n_actions: sizes of the Discrete spaces.
        gamma: discount of the original return used by the SelfRS update.
        lam, b_max: count bonus parameters.
        eta_phi, eta_critic, clip: SelfRS step sizes and clipping.
        use_exploit, use_explore: switch the two parts (``use_exploit=False`` = ExploB).
        count_on_call: update :math:`N` from each batch.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch, build_reward
        >>> term = ExploRSReward(n_states=4, n_actions=2)
        >>> b = TransitionBatch.from_arrays(obs=np.array([0, 1]), action=np.array([1, 1]),
        ...                                 next_obs=np.array([1, 2]), reward=np.zeros(2))
        >>> term(b).tolist()
        [1.0, 1.0]
        >>> term(b).round(4).tolist()       # states 0 and 1 were counted by the first call
        [0.7071, 1.0]
        >>> r = build_reward({"terms": [{"type": "env_reward"},
        ...                   {"type": "explors", "params": {"n_states": 4, "n_actions": 2}}]})
        >>> r.evaluate(b).total.tolist()
        [1.0, 1.0]
    """

    batch_kind = "transition"

    def __init__(self, n_states: int, n_actions: int, gamma: float = 0.99, lam: float = 1.0, b_max: float = 1.0,
                 eta_phi: float = 0.01, eta_critic: float = 0.01, clip: float | None = None,
                 use_exploit: bool = True, use_explore: bool = True, count_on_call: bool = True,
                 name: str = "explors"):
        super().__init__(name)
        for fld, val in (("n_states", n_states), ("n_actions", n_actions)):
            if not isinstance(val, (int, np.integer)) or val < 1:
                raise ConfigError(fld, f"got {val!r}", "a positive int")
        variant = {(True, True): "explors", (True, False): "selfrs", (False, True): "explob",
                   (False, False): "orig"}[(bool(use_exploit), bool(use_explore))]
        self.teacher = ExploRSTeacher(int(n_states), int(n_actions), gamma, variant, lam=lam, b_max=b_max,
                                      eta_phi=eta_phi, eta_critic=eta_critic, clip=clip)
        self.count_on_call = bool(count_on_call)

    def _states(self, x: Any, fld: str) -> np.ndarray:
        arr = np.asarray(x)
        if arr.ndim > 1 and arr.shape[-1] == 1:
            arr = arr.reshape(arr.shape[0])
        if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)):
            raise BatchError(fld, f"has shape {arr.shape} / dtype {arr.dtype}", "integer Discrete states of shape (n,)")
        arr = arr.astype(np.int64)
        hi = self.teacher.n_states if fld != "action" else self.teacher.n_actions
        if arr.size and (arr.min() < 0 or arr.max() >= hi):
            raise BatchError(fld, f"has values outside [0, {hi})", f"ints in [0, {hi})")
        return arr

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        s = self._states(batch.obs, "obs")
        a = self._states(batch.action, "action")
        s2 = self._states(batch.next_obs, "next_obs")
        t = self.teacher
        out = np.zeros(len(batch))
        if t._phi_on:
            out += t.phi[s, a]
        if t._bonus_on:
            bonus = explors_count_bonus(t.counts[s2], t.lam, t.b_max)
            out += np.where(batch.terminated | t.terminal[s2], 0.0, bonus)
        if self.count_on_call:
            np.add.at(t.counts, s, 1.0)
        return out

    def update(self, episodes: Sequence[Episode]) -> None:
        """SelfRS update of :math:`\\phi` and the critic on finished episodes."""
        self.teacher.update(episodes)

    def state_dict(self) -> dict[str, Any]:
        return self.teacher.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.teacher.load_state_dict(state)


# ----------------------------------------------------------------------------- the training protocol
def _replay_backwards(agent: Any, episodes: Sequence[Episode], terminal: np.ndarray) -> None:
    """Q-learning updates on the learner rewards ``r_hat`` of each episode, last transition first."""
    for e in episodes:
        for t in range(len(e) - 1, -1, -1):
            s2 = int(e.next_states[t])
            agent.update(int(e.states[t]), int(e.actions[t]), float(e.r_hat[t]), s2, bool(terminal[s2]))


def run_explors(mdp: Any, variant: str, episodes: int, *, tie_break: str, horizon: int = 40, alpha: float = 0.1,
                epsilon: float = 0.05, seed: int = 0, teacher_every: int = 5, learner_every: int = 2,
                buffer_size: int = 10, replay_recent: int = 5, eval_every: int = 100, eval_rollouts: int = 5,
                count_eval_rollouts: bool = True, clip: float | None = 0.01,
                teacher_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train a tabular Q-learner on ExploRS-shaped rewards with the reference protocol.

    Args:
        mdp: a :class:`~rewardkit.tabular.TabularMDP` with the original reward :math:`\\bar r`.
        variant: teacher variant (``orig, explob, selfrs, explors, sors, lirpg``).
        episodes: training episodes.
        tie_break: the Q-learner's tie rule, ``"random"`` (the reference) or ``"first"``.
        horizon: episode time limit ``H``.
        alpha, epsilon: Q-learning step size and exploration.
        seed: seeds the agent (``seed``), the env sampling (``seed + 7919``) and the
            teacher (``seed + 104729``); the same seed across variants gives common
            random numbers.
        teacher_every, learner_every: ``N_r`` and ``N_p``.
        buffer_size, replay_recent: teacher buffer size and episodes replayed per learner update.
        eval_every, eval_rollouts: evaluation schedule; the score is the mean discounted
            :math:`\\bar r` return of ``eval_rollouts`` rollouts of the current behaviour policy.
        count_eval_rollouts: evaluation rollouts also update :math:`N` (the reference does).
        clip: clipping of SelfRS's :math:`\\phi` (0.01 for a Q-learner in the reference).

    Returns:
        dict with ``episode`` and ``eval_return`` arrays, the ``agent``, the ``teacher``
        and ``goal_visits`` (episodes that collected positive :math:`\\bar r`).

    Example:
        >>> from rewardkit.tabular import chain_with_distractor
        >>> mdp, _ = chain_with_distractor(n1=3, n2=3, distractor=0.0)
        >>> out = run_explors(mdp, "explors", 200, tie_break="random", horizon=10, eval_every=50, seed=0)
        >>> out["episode"].tolist(), out["goal_visits"] > 0, int(out["teacher"].counts.sum()) >= 200
        ([0, 50, 100, 150, 200], True, True)
    """
    from ..tabular.qlearning import QLearning

    if tie_break not in ("first", "random"):
        raise ConfigError("tie_break", f"got {tie_break!r}", "'first' or 'random'")
    S, A = mdp.n_states, mdp.n_actions
    gamma = mdp.gamma
    agent = QLearning(S, A, alpha, gamma, epsilon, tie_break, seed=seed)
    env_rng = np.random.default_rng(seed + 7919)
    R = mdp.R
    terminal = mdp.terminal
    pol = {"pi": behaviour_policy(agent.Q, epsilon, tie_break)}

    def rollout_from(s: int, a: int) -> tuple[np.ndarray, np.ndarray]:
        states, actions = [], []
        for t in range(horizon):
            act = a if t == 0 else int(np.searchsorted(np.cumsum(pol["pi"][s]), env_rng.random(), side="right"))
            act = min(act, A - 1)
            states.append(s)
            actions.append(act)
            s = mdp.sample_next(s, act, env_rng)
            if terminal[s]:
                break
        return np.asarray(states), np.asarray(actions)

    kw = dict(teacher_kwargs or {})
    teacher = ExploRSTeacher(S, A, gamma, variant, terminal=terminal, clip=clip,
                             rollout=rollout_from if variant == "lirpg" else None, seed=seed + 104729, **kw)

    def run_episode(count: bool) -> Episode:
        s = mdp.sample_initial(env_rng)
        st, ac, rb, rh, nx = [], [], [], [], []
        for _ in range(horizon):
            a = agent.act(s)
            s2 = mdp.sample_next(s, a, env_rng)
            r_bar = float(R[s, a])
            r_hat = r_bar + teacher.addition(s, a, s2)
            if count:
                teacher.observe(s)
            st.append(s)
            ac.append(a)
            rb.append(r_bar)
            rh.append(r_hat)
            nx.append(s2)
            s = s2
            if terminal[s2]:
                break
        return Episode(np.asarray(st), np.asarray(ac), np.asarray(rb), np.asarray(rh), np.asarray(nx), pol["pi"])

    buffer: deque[Episode] = deque(maxlen=buffer_size)
    eval_eps, eval_ret = [], []
    goal_visits = 0
    disc = gamma ** np.arange(horizon)
    for i in range(episodes + 1):
        if i % eval_every == 0:
            rets = []
            for _ in range(eval_rollouts):
                ep = run_episode(count_eval_rollouts)
                rets.append(float((ep.r_bar * disc[:len(ep)]).sum()))
            eval_eps.append(i)
            eval_ret.append(float(np.mean(rets)))
        if i == episodes:
            break
        ep = run_episode(True)
        goal_visits += int(ep.r_bar.max(initial=0.0) > 0)
        buffer.append(ep)
        if (i + 1) % teacher_every == 0:
            teacher.update(buffer)
        if (i + 1) % learner_every == 0:
            _replay_backwards(agent, list(buffer)[-replay_recent:], terminal)
            pol["pi"] = behaviour_policy(agent.Q, epsilon, tie_break)
    return {"episode": np.asarray(eval_eps), "eval_return": np.asarray(eval_ret), "agent": agent,
            "teacher": teacher, "goal_visits": goal_visits, "variant": variant, "tie_break": tie_break}
