"""Invariance certificate: does a designed reward keep the target policy optimal, with a margin?

A designed or shaped reward :math:`\\hat R` is *invariant* for a target policy set
:math:`\\Pi^T` (every combination of the target actions - by default all actions
optimal under the original reward :math:`\\bar R`) if every :math:`\\pi \\in \\Pi^T`
stays optimal under :math:`\\hat R` and beats every non-target action by a margin
:math:`\\delta_s` (Devidze, Radanovic, Kamalaruban & Singla 2021, EXPRD, constraint
"invariance"; Ng, Harada & Russell 1999 for the potential-based case):

.. math:: Q^\\pi_{\\hat R}(s, \\pi(s)) - Q^\\pi_{\\hat R}(s, a) \\ge \\delta_s
          \\quad \\forall \\pi \\in \\Pi^T,\\; s,\\; a \\notin \\pi^T(s)

and :math:`\\ge 0` for the other target actions.

Checking all combinations does not need enumerating them: all of them are optimal
under :math:`\\hat R` iff every target action is optimal under :math:`\\hat R`
(:math:`\\hat Q^*(s,a) = \\hat V^*(s)`), and then :math:`Q^\\pi_{\\hat R} = \\hat Q^*`, so the
margin condition reads :math:`\\hat V^*(s) - \\hat Q^*(s,a) \\ge \\delta_s`.  This is what
:func:`invariance_slack` computes (``method="exact"``); ``method="enumerate"`` checks
each combination by exact policy evaluation (small MDPs; used to test the shortcut).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import ConfigError, RewardkitError
from ..tabular.mdp import TabularMDP, as_policy
from .informativeness import action_gap, target_action_mask, target_policies

__all__ = ["InvarianceReport", "PolicyInvarianceError", "assert_policy_invariant", "invariance_slack"]


class PolicyInvarianceError(RewardkitError, AssertionError):
    """A designed reward does not keep the target policy optimal with the required margin."""

    def __init__(self, report: InvarianceReport):
        self.report = report
        super().__init__(report.describe())


@dataclass
class InvarianceReport:
    """Result of an invariance check.

    Attributes:
        slack: the smallest ``(advantage of the target action) - margin`` over all checked
            ``(state, action)`` pairs; ``>= -tol`` means invariant.
        state, action: where the minimum is attained.
        kind: ``"margin"`` (a non-target action is too close / better) or ``"tie"`` (a
            target action is no longer optimal, so some combination of target actions fails).
        margin: the margin ``(S,)`` that was required.
        policy: for ``method="enumerate"``, the failing deterministic target policy.
    """

    slack: float
    state: int
    action: int
    kind: str
    margin: np.ndarray
    policy: np.ndarray | None = None

    def describe(self) -> str:
        margin = float(self.margin[self.state])
        if self.kind == "tie":
            what = f"target action {self.action} is no longer optimal (a combination of co-optimal target actions loses)"
        else:
            what = (f"non-target action {self.action} comes within {self.slack + margin:.6g} of the target "
                    f"(required margin {margin:.6g})")
        return f"designed reward is not policy-invariant: at state {self.state}, {what}; slack {self.slack:.6g}"


def _margin(margin: Any, mdp: TabularMDP, mask: np.ndarray, margin_scale: float) -> np.ndarray:
    S = mdp.n_states
    if isinstance(margin, str):
        if margin != "gap":
            raise ConfigError("margin", f"got {margin!r}", "a number, an array (S,), or 'gap'")
        return action_gap(mdp, mask=mask) * float(margin_scale)
    m = np.asarray(margin, dtype=np.float64)
    try:
        return np.broadcast_to(m, (S,)).copy()
    except ValueError:
        raise ConfigError("margin", f"has shape {m.shape}", f"a number, an array ({S},), or 'gap'") from None


def invariance_slack(designed_R: Any, original_mdp: TabularMDP, target_policy: Any = None, margin: Any = 0.0,
                     method: str = "exact", margin_scale: float = 1.0 / (1.0 + 1e-5),
                     all_combinations: bool = True, max_policies: int = 4096) -> InvarianceReport:
    """Compute the invariance slack without raising (see :func:`assert_policy_invariant`).

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> invariance_slack(mdp.R, mdp, margin="gap").slack >= -1e-9
        True
    """
    if not isinstance(original_mdp, TabularMDP):
        raise ConfigError("original_mdp", f"got {type(original_mdp).__name__}", "a rewardkit.tabular.TabularMDP")
    if method not in ("exact", "enumerate"):
        raise ConfigError("method", f"got {method!r}", "'exact' or 'enumerate'")
    S, A = original_mdp.n_states, original_mdp.n_actions
    R = TabularMDP._check_reward(designed_R, S, A, "designed_R")
    mask = target_action_mask(original_mdp, target_policy)
    delta = _margin(margin, original_mdp, mask, margin_scale)
    live = ~original_mdp.terminal
    designed = original_mdp.with_reward(R)
    if method == "exact" and all_combinations:
        V, Q, _ = designed.value_iteration()
        gap = V[:, None] - Q                                   # >= 0 everywhere
        scale = 1e-9 * (1.0 + float(np.abs(V).max()))
        lost = np.where(mask & live[:, None], gap, -np.inf)    # every target action must stay optimal
        s_t, a_t = np.unravel_index(np.argmax(lost), lost.shape)
        if lost[s_t, a_t] > scale:
            return InvarianceReport(-float(lost[s_t, a_t]), int(s_t), int(a_t), "tie", delta)
        marg = np.where(~mask & live[:, None], gap - delta[:, None], np.inf)
        s_m, a_m = np.unravel_index(np.argmin(marg), marg.shape)
        m_val = float(marg[s_m, a_m]) if np.isfinite(marg[s_m, a_m]) else np.inf
        if (mask.sum(axis=1)[live] > 1).any() and m_val > 0.0:
            # co-optimal target actions tie with each other: slack 0 (as when enumerating policies)
            s_c = int(np.flatnonzero(live & (mask.sum(axis=1) > 1))[0])
            return InvarianceReport(0.0, s_c, int(np.flatnonzero(mask[s_c])[1]), "tie", delta)
        return InvarianceReport(m_val if np.isfinite(m_val) else 0.0, int(s_m), int(a_m), "margin", delta)
    if target_policy is not None and not all_combinations and np.asarray(target_policy).dtype != bool:
        first = np.argmax(as_policy(target_policy, S, A, "target_policy"), axis=1)
        policies = [first]
    else:
        policies = target_policies(mask, all_combinations=all_combinations, max_policies=max_policies)
    worst: InvarianceReport | None = None
    for pi in policies:
        Q = designed.q_pi(pi)
        adv = Q[np.arange(S), pi][:, None] - Q
        req = np.where(mask, 0.0, delta[:, None])
        ex = np.where(live[:, None], adv - req, np.inf)
        ex[np.arange(S), pi] = np.inf
        s, a = np.unravel_index(np.argmin(ex), ex.shape)
        val = float(ex[s, a]) if np.isfinite(ex[s, a]) else 0.0
        if worst is None or val < worst.slack:
            worst = InvarianceReport(val, int(s), int(a), "tie" if mask[s, a] else "margin", delta, pi)
    assert worst is not None
    return worst


def assert_policy_invariant(designed_R: Any, original_mdp: TabularMDP, target_policy: Any = None,
                            margin: Any = 0.0, tol: float = 1e-6, method: str = "exact",
                            margin_scale: float = 1.0 / (1.0 + 1e-5), all_combinations: bool = True) -> float:
    """Certify that ``designed_R`` keeps the target policy optimal with a margin; return the slack.

    Args:
        designed_R: the designed / shaped reward ``(S, A)`` or ``(S,)`` on ``original_mdp``'s dynamics.
        original_mdp: the task; its reward defines the default target (all optimal actions).
        target_policy: ``None`` (all optimal actions of ``original_mdp``, every combination
            checked), an int policy ``(S,)``, a policy ``(S, A)`` (its support is the target
            set), or a boolean ``(S, A)`` mask.
        margin: required advantage over non-target actions: a number, an array ``(S,)``, or
            ``"gap"`` = the original action gap :math:`\\Delta_s` times ``margin_scale`` (EXPRD
            shrinks it by ``1/(1+1e-5)``).
        tol: accepted negative slack (numerical).
        method: ``"exact"`` (optimal-action-set criterion) or ``"enumerate"`` (every combination).
        all_combinations: ``True`` - every combination of target actions must stay optimal;
            ``False`` - only one deterministic target policy (``target_policy``'s argmax, or
            the lowest-index target action), the other target actions need only not beat it.
            This is EXPRD's guarantee with its default single target policy.

    Returns:
        the slack (``>= -tol``).

    Raises:
        PolicyInvarianceError: naming the failing state and action.

    Example:
        >>> import numpy as np
        >>> from rewardkit.tabular import four_rooms
        >>> from rewardkit.shaping.potential import pbrs_reward
        >>> mdp, _ = four_rooms()
        >>> shaped = pbrs_reward(mdp, np.random.default_rng(0).normal(size=50))
        >>> assert_policy_invariant(shaped, mdp, margin="gap") > -1e-6
        True
        >>> bad = mdp.R.copy(); bad[8, 1] = 5.0      # pay for walking left at the start
        >>> assert_policy_invariant(bad, mdp)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rewardkit.shaping.invariance.PolicyInvarianceError: designed reward is not policy-invariant: at state ...
    """
    rep = invariance_slack(designed_R, original_mdp, target_policy, margin, method, margin_scale,
                           all_combinations)
    if rep.slack < -tol:
        raise PolicyInvarianceError(rep)
    return rep.slack
