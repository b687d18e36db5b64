"""Action potentials and expert advice (tabular).

**Look-ahead and look-back advice** (Wiewiora, Cottrell & Elkan 2003, "Principled
Methods for Advising Reinforcement Learning Agents", ICML).  A potential over
state-action pairs :math:`\\Phi(s,a)` can encode advice about *actions*:

* look-ahead: :math:`F_t = \\gamma\\,\\Phi(s_{t+1}, a_{t+1}) - \\Phi(s_t, a_t)`.  The learned
  values become :math:`\\hat Q = Q^* - \\Phi`, so the agent must act greedily on
  :math:`\\hat Q(s,\\cdot) + \\Phi(s,\\cdot)` ("biased action selection") to follow :math:`\\pi^*`;
  this is equivalent to initialising the Q-table with :math:`\\Phi`.
* look-back: :math:`F_t = \\Phi(s_t, a_t) - \\gamma^{-1}\\Phi(s_{t-1}, a_{t-1})` (with
  :math:`\\Phi(s_{-1}, a_{-1}) = 0`).  It needs no future action and no biased policy;
  the shaping telescopes with a one-step delay.

**Expert advice as a dynamic potential** (Harutyunyan, Devlin, Vrancx & Nowé 2015,
"Expressing Arbitrary Reward Functions as Potential-Based Advice", AAAI).  Any advice
reward :math:`R^\\dagger(s,a)` becomes a potential :math:`\\Phi = -Q^\\dagger`, learned on-policy
alongside the agent by TD on :math:`-R^\\dagger`:

.. math::
    \\delta^\\Phi_t = -R^\\dagger(s_t,a_t) + \\gamma\\,\\Phi_t(s_{t+1},a_{t+1}) - \\Phi_t(s_t,a_t),\\qquad
    \\Phi_{t+1}(s_t,a_t) = \\Phi_t(s_t,a_t) + \\beta\\,\\delta^\\Phi_t

and the agent receives :math:`F_t = \\gamma\\,\\Phi_{t+1}(s_{t+1},a_{t+1}) - \\Phi_t(s_t,a_t)`.  At the
fixed point :math:`\\Phi = -Q^\\dagger_\\pi`, so :math:`\\mathbb E[F] = R^\\dagger`: the agent is paid the
advice in expectation, while the shaping stays potential-based (the optimal policy of
the task is kept).  :func:`advice_potential` gives that fixed point exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.batch import TransitionBatch
from ..core.errors import BatchError, ConfigError
from ..core.potential import potential_difference
from ..core.registry import register_term
from ..core.term import RewardTerm
from ..tabular.mdp import TabularMDP, as_policy
from ..tabular.qlearning import QLearning
from .potential import _check_gamma

__all__ = ["AdviceQLearning", "LookBackAdvice", "advice_potential", "look_ahead_advice", "look_back_advice"]


def look_ahead_advice(phi: np.ndarray, s: Any, a: Any, s2: Any, a2: Any, gamma: float,
                      terminated: Any = False) -> np.ndarray:
    """:math:`F = \\gamma\\,\\Phi(s',a')[1-\\text{terminated}] - \\Phi(s,a)` (vectorised over arrays of indices).

    Example:
        >>> phi = np.array([[0.0, 1.0], [2.0, 3.0]])
        >>> look_ahead_advice(phi, 0, 1, 1, 0, 0.5).item()    # 0.5*2 - 1
        0.0
    """
    phi = np.asarray(phi, dtype=np.float64)
    return np.asarray(potential_difference(phi[s, a], phi[s2, a2], gamma, terminated), dtype=np.float64)


def look_back_advice(phi: np.ndarray, s_prev: Any, a_prev: Any, s: Any, a: Any, gamma: float,
                     first: Any = False) -> np.ndarray:
    """:math:`F = \\Phi(s,a) - \\gamma^{-1}\\Phi(s_{-1},a_{-1})`, with the second term 0 where ``first``.

    Example:
        >>> phi = np.array([[0.0, 1.0], [2.0, 3.0]])
        >>> look_back_advice(phi, 0, 1, 1, 0, 0.5).item()     # 2 - 1/0.5
        0.0
    """
    phi = np.asarray(phi, dtype=np.float64)
    prev = np.where(np.asarray(first, dtype=bool), 0.0, phi[s_prev, a_prev])
    return np.asarray(phi[s, a] - prev / gamma, dtype=np.float64)


@register_term("look_back_advice", batch_kind="transition", example={"phi": [[0.0, 0.5, 1.0]] * 6})
class LookBackAdvice(RewardTerm):
    """Look-back advice as a reward term on Discrete transitions (stateful per sub-env).

    At transition :math:`t` it pays :math:`\\Phi(s_t,a_t) - \\gamma^{-1}\\Phi(s_{t-1},a_{t-1})`.

    Args:
        phi: table ``(S, A)`` of state-action potentials.
        gamma: the agent's discount factor.

    Example:
        >>> from rewardkit.core import TransitionBatch
        >>> term = LookBackAdvice(np.array([[0.0, 1.0], [2.0, 3.0]]), gamma=0.5)
        >>> term(TransitionBatch.from_arrays([0], [1], [1], [0.0])).tolist()   # first step: Phi(0,1)
        [1.0]
        >>> term(TransitionBatch.from_arrays([1], [1], [0], [0.0])).tolist()   # 3 - 1/0.5
        [1.0]
    """

    batch_kind = "transition"

    def __init__(self, phi: Any, gamma: float = 0.99, name: str = "look_back_advice"):
        super().__init__(name)
        self.phi = np.asarray(phi, dtype=np.float64)
        if self.phi.ndim != 2 or not np.all(np.isfinite(self.phi)):
            raise ConfigError("phi", f"has shape {self.phi.shape}", "a finite table (S, A)")
        self.gamma = _check_gamma(gamma)
        self._prev: dict[int, float] = {}

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        s = np.asarray(batch.obs).reshape(-1)
        a = np.asarray(batch.action).reshape(-1)
        if s.shape[0] != len(batch) or a.shape[0] != len(batch):
            raise BatchError("obs", "is not one integer state per transition", "Discrete observations and actions")
        cur = self.phi[s.astype(np.int64), a.astype(np.int64)]
        envs = batch.env_index.tolist()
        prev = np.array([self._prev.get(e, 0.0) for e in envs])
        out = cur - prev / self.gamma
        for i, e in enumerate(envs):
            if batch.done[i]:
                self._prev.pop(e, None)
            else:
                self._prev[e] = float(cur[i])
        return out

    def reset(self, mask: np.ndarray | None = None) -> None:
        if mask is None:
            self._prev.clear()
        else:
            for e in np.flatnonzero(np.asarray(mask, dtype=bool)).tolist():
                self._prev.pop(e, None)

    def state_dict(self) -> dict[str, Any]:
        """The previous step's advice value per sub-env (what the next step looks back at)."""
        return {"prev": {str(e): v for e, v in self._prev.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._prev = {int(e): float(v) for e, v in state.get("prev", {}).items()}


class AdviceQLearning(QLearning):
    """Q-learning with state-action advice (look-ahead, look-back or learned expert advice).

    ``look_ahead`` uses the off-policy form: the shaping and the bootstrap use
    :math:`a' = \\arg\\max_{a'} \\hat Q(s',a') + \\Phi(s',a')`, whose fixed point is exactly
    :math:`\\hat Q = Q^* - \\Phi`.  ``advice`` is on-policy like Harutyunyan et al.: the next
    action is drawn when the transition is learned (for the potential's TD update and
    :math:`F`) and then executed by :meth:`act`.

    Args:
        phi: static potential table ``(S, A)`` for ``mode="look_ahead"`` / ``"look_back"``.
        mode: ``"look_ahead"`` (Wiewiora et al. 2003), ``"look_back"``, or ``"advice"``
            (Harutyunyan et al. 2015: ``Φ = -Q^†`` learned from ``advice`` with step ``beta``).
        bias_policy: act greedily on :math:`\\hat Q + \\Phi` (Wiewiora's biased action
            selection, needed to recover :math:`\\pi^*` from look-ahead values).  Default:
            True for ``look_ahead``, False otherwise.  For ``advice`` an unbiased agent acts on
            :math:`\\hat Q \\to Q^* - \\Phi = Q^* + Q^\\dagger`, i.e. it *follows the advice*
            (that is where the speed-up comes from); with ``bias_policy=True`` the advice only
            acts through the transient before ``Φ`` converges.
        advice: advice reward :math:`R^\\dagger` ``(S, A)`` for ``mode="advice"``.
        beta: step size of the potential's TD update.
        Other arguments as :class:`~rewardkit.tabular.QLearning` (``tie_break`` is required).

    Example:
        >>> from rewardkit.tabular import four_rooms, run_q_learning, episodes_to_fraction
        >>> mdp, _ = four_rooms()
        >>> _, Q, _ = mdp.value_iteration()
        >>> agent = AdviceQLearning(50, 4, 0.5, mdp.gamma, 0.1, tie_break="first", seed=0, phi=Q,
        ...                         mode="look_ahead")
        >>> out = run_q_learning(mdp, 32, agent=agent, tie_break="first", seed=0, eval_every=8)
        >>> episodes_to_fraction(out)       # perfect advice: optimal from the first episode
        0
    """

    def __init__(self, n_states: int, n_actions: int, alpha: float, gamma: float, epsilon: float,
                 tie_break: str, seed: int | None = None, q_init: float = 0.0, *, phi: Any = None,
                 mode: str = "look_ahead", advice: Any = None, beta: float = 0.1,
                 bias_policy: bool | None = None):
        super().__init__(n_states, n_actions, alpha, gamma, epsilon, tie_break, seed, q_init)
        if mode not in ("look_ahead", "look_back", "advice"):
            raise ConfigError("mode", f"got {mode!r}", "'look_ahead', 'look_back' or 'advice'")
        self.mode = mode
        self.bias_policy = (mode == "look_ahead") if bias_policy is None else bool(bias_policy)
        shape = (self.n_states, self.n_actions)
        if mode == "advice":
            if advice is None:
                raise ConfigError("advice", "missing", f"an advice reward table {shape} for mode='advice'")
            self.advice = np.asarray(advice, dtype=np.float64)
            if self.advice.shape != shape:
                raise ConfigError("advice", f"has shape {self.advice.shape}", f"a table {shape}")
            self.phi = np.zeros(shape)
            self.beta = float(beta)
        else:
            if phi is None:
                raise ConfigError("phi", "missing", f"a potential table {shape}")
            self.phi = np.asarray(phi, dtype=np.float64).copy()
            if self.phi.shape != shape:
                raise ConfigError("phi", f"has shape {self.phi.shape}", f"a table {shape}")
        self._next: tuple[int, int] | None = None
        self._prev_phi: float | None = None
        self.shaping_paid = 0.0

    def _biased(self) -> bool:
        return self.bias_policy

    def greedy_action(self, s: int) -> int:
        q = self.Q[s] + self.phi[s] if self._biased() else self.Q[s]
        if self.tie_break == "first":
            return int(np.argmax(q))
        best = np.flatnonzero(q == q.max())
        return int(best[0]) if best.size == 1 else int(self.rng.choice(best))

    def start_episode(self) -> None:
        """Forget the pending next action and the look-back memory (call at every reset)."""
        self._next = None
        self._prev_phi = None

    def act(self, s: int) -> int:
        if self._next is not None and self._next[0] == s:
            a = self._next[1]
            self._next = None
            return a
        return super().act(s)

    def update(self, s: int, a: int, r: float, s2: int, terminated: bool) -> float:
        g = self.gamma
        if self.mode == "look_back":
            cur = float(self.phi[s, a])
            F = cur - (0.0 if self._prev_phi is None else self._prev_phi / g)
            self._prev_phi = None if terminated else cur
            self.shaping_paid += F
            return super().update(s, a, r + F, s2, terminated)
        phi_sa = float(self.phi[s, a])
        if self.mode == "look_ahead":
            # off-policy form: a' = argmax_a' Q(s',a') + Phi(s',a'), so the fixed point is Q* - Phi
            if terminated:
                F, boot = float(potential_difference(phi_sa, 0.0, g, True)), 0.0
            else:
                qb = self.Q[s2] + self.phi[s2]
                a2 = int(np.argmax(qb))
                F, boot = float(potential_difference(phi_sa, self.phi[s2, a2], g)), g * float(self.Q[s2, a2])
        else:
            # Harutyunyan et al.: on-policy next action, TD on -R† for Phi, then F with the updated Phi
            a2 = None if terminated else super().act(s2)
            self._next = None if a2 is None else (s2, a2)
            nxt = np.nan if terminated else self.phi[s2, a2]   # ignored where terminated
            td_phi = -self.advice[s, a] + potential_difference(self.phi[s, a], nxt, g, terminated)
            self.phi[s, a] += self.beta * td_phi
            phi_next = np.nan if terminated else float(self.phi[s2, a2])
            F = float(potential_difference(phi_sa, phi_next, g, terminated))
            boot = 0.0 if terminated else g * float(self.Q[s2].max())
        self.shaping_paid += F
        td = r + F + boot - self.Q[s, a]
        self.Q[s, a] += self.alpha * td
        return float(td)

    def greedy_policy(self) -> np.ndarray:
        from ..tabular.mdp import greedy_policy
        return greedy_policy(self.Q + self.phi if self._biased() else self.Q, self.tie_break)


def advice_potential(mdp: TabularMDP, advice: Any, pi: Any) -> np.ndarray:
    """The fixed point :math:`\\Phi = -Q^\\dagger_\\pi` of the advice potential, shape ``(S, A)``.

    :math:`Q^\\dagger_\\pi = (I - \\gamma P^\\pi)^{-1} R^\\dagger` at the state-action level (for a
    stochastic ``pi``, :math:`P^\\pi[(s,a),(s',a')] = T(s'|s,a)\\pi(a'|s')`), so that
    :math:`R^\\dagger(s,a) = \\mathbb E[\\gamma\\Phi(s',a') - \\Phi(s,a)]`.

    Example:
        >>> from rewardkit.tabular import TabularMDP
        >>> mdp = TabularMDP.random(4, 2, seed=0)
        >>> Rd = np.arange(8.0).reshape(4, 2); pi = np.full((4, 2), 0.5)
        >>> phi = advice_potential(mdp, Rd, pi)
        >>> from rewardkit.core import potential_difference
        >>> F = potential_difference(phi, np.einsum("sat,tb,tb->sa", mdp.T, pi, phi), mdp.gamma)
        >>> bool(np.allclose(F, Rd))
        True
    """
    S, A = mdp.n_states, mdp.n_actions
    Rd = TabularMDP._check_reward(advice, S, A, "advice").copy()
    Rd[mdp.terminal] = 0.0
    p = as_policy(pi, S, A, "pi")
    P = (mdp.transitions.reshape(S * A, S)[:, :, None] * p[None, :, :]).reshape(S * A, S * A)
    Qd = np.linalg.solve(np.eye(S * A) - mdp.gamma * P, Rd.ravel())
    return -Qd.reshape(S, A)

