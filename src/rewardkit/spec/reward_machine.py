"""Reward machines: automaton reward specifications, product states, RM shaping and CRM.

A reward machine (Toro Icarte, Klassen, Valenzano & McIlraith, ICML 2018; JAIR 2022,
"Reward Machines: Exploiting Reward Function Structure in Reinforcement Learning")
is a finite automaton :math:`\\langle U, u_0, F, \\delta_u, \\delta_r\\rangle` whose edges fire
on propositional *events* :math:`L(s, a, s')` emitted by a labelling function:

.. math:: u_{t+1} = \\delta_u(u_t, L_t), \\qquad r_t = \\delta_r(u_t, u_{t+1}).

Pairing the env state with the RM state, :math:`(s, u)`, makes a non-Markovian task
Markovian (the *product* MDP).  Two ways of exploiting the structure are provided:

* **RM shaping** – potential-based shaping on RM states with
  :math:`\\Phi(u) = -V_{RM}(u)`, where :math:`V_{RM}` is value iteration on the machine
  alone with discount ``rs_gamma``, and :math:`\\Phi = 0` at terminal RM states.
* **CRM** (counterfactual reasoning) – every real transition ``(s, a, s')`` is
  replayed from *every* non-terminal RM state :math:`u`, giving one experience
  :math:`((s,u), a, \\delta_r(u,u'), (s',u'))` per :math:`u` for any off-policy learner.

Semantics kept from the reference: when no outgoing edge of :math:`u` holds, the machine
falls into the terminal state with reward 0.  One deliberate difference: a *truncated*
episode (time limit) is not terminal here, so the shaping potential of the next RM
state is kept on truncation (the reference used the terminal potential for any
``done``, which breaks policy invariance for time limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Mapping, Sequence

from rewardkit.core.extras import lazy_getattr
import numpy as np

from rewardkit.core import RewardTerm, TransitionBatch, potential_difference, register_term
from rewardkit.core.errors import ConfigError

from .dnf import DNF, as_events, parse_dnf

__all__ = ["Experience", "RMShaping", "RewardMachine"]

#: the Gymnasium wrapper lives in :mod:`.wrappers` (the 'env' extra); still importable from here
__getattr__ = lazy_getattr(__name__, {"RewardMachineWrapper": "rewardkit.spec.wrappers"})

_EDGE = re.compile(
    r"^\(\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(['\"])(.*?)\3\s*,\s*"
    r"(?:ConstantRewardFunction\s*\(\s*([-+0-9.eE]+)\s*\)|([-+0-9.eE]+))\s*\)\s*$")


@dataclass
class Experience:
    """One (counterfactual) RM experience for a given RM state."""

    u: int
    reward: float
    u_next: int
    done: bool


@dataclass
class RewardMachine:
    """A reward machine with states ``0..n_states-1`` plus one terminal state.

    Build it with :meth:`from_text` (the reference ``.txt`` format, parsed without
    ``eval``) or :meth:`from_mapping` (YAML/TOML/dict form).  Internally states are
    re-indexed ``0..K-1`` in order of appearance; ``terminal = K`` is the single
    absorbing state every terminal/failure transition goes to.

    Example:
        >>> rm = RewardMachine.from_mapping({"initial": 0, "terminal": [2], "transitions": [
        ...     {"from": 0, "to": 0, "when": "!a"}, {"from": 0, "to": 1, "when": "a"},
        ...     {"from": 1, "to": 1, "when": "!b"}, {"from": 1, "to": 2, "when": "b", "reward": 1}]})
        >>> u = rm.initial
        >>> u, r, done = rm.step(u, {"a"}); u, r, done = rm.step(u, {"b"})
        >>> r, done
        (1.0, True)
    """

    n_states: int
    initial: int
    edges: dict[int, list[tuple[int, DNF, float]]] = field(default_factory=dict)
    names: list[Any] = field(default_factory=list)

    @property
    def terminal(self) -> int:
        return self.n_states

    # ----------------------------------------------------------------- parsing
    @classmethod
    def from_text(cls, text: str, source: str = "reward machine") -> RewardMachine:
        """Parse the reference text format (``u0`` / ``[terminals]`` / edge lines)."""
        lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
        lines = [ln for ln in lines if ln]
        if len(lines) < 3:
            raise ConfigError(source, f"has {len(lines)} non-empty lines",
                              "an initial state, a [terminal list] and at least one edge line")
        try:
            u0 = int(lines[0])
        except ValueError:
            raise ConfigError(f"{source}:line 1", f"got {lines[0]!r}", "an integer initial state") from None
        m = re.fullmatch(r"\[\s*(-?\d+(?:\s*,\s*-?\d+)*)?\s*,?\s*\]", lines[1])
        if not m:
            raise ConfigError(f"{source}:line 2", f"got {lines[1]!r}", "a list of terminal states like [1, 3]")
        terminals = [int(x) for x in re.findall(r"-?\d+", lines[1])]
        transitions = []
        for i, ln in enumerate(lines[2:], start=3):
            em = _EDGE.match(ln)
            if not em:
                raise ConfigError(f"{source}:line {i}", f"cannot parse {ln!r}",
                                  "(u1, u2, 'dnf', ConstantRewardFunction(r)) or (u1, u2, 'dnf', r)")
            rew = em.group(5) if em.group(5) is not None else em.group(6)
            transitions.append({"from": int(em.group(1)), "to": int(em.group(2)), "when": em.group(4),
                                "reward": float(rew), "_field": f"{source}:line {i}"})
        return cls.from_mapping({"initial": u0, "terminal": terminals, "transitions": transitions}, source)

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any], source: str = "reward_machine") -> RewardMachine:
        """Build from ``{initial, terminal: [...], transitions: [{from, to, when, reward}]}``."""
        if not isinstance(spec, Mapping):
            raise ConfigError(source, f"is a {type(spec).__name__}", "a mapping with initial/terminal/transitions")
        for key in ("initial", "transitions"):
            if key not in spec:
                raise ConfigError(f"{source}.{key}", "missing", "see RewardMachine.from_mapping")
        terminals = set(spec.get("terminal", []) or [])
        trans = spec["transitions"]
        if not isinstance(trans, Sequence) or not trans:
            raise ConfigError(f"{source}.transitions", "empty or not a list", "a list of edges")
        names: list[Any] = []

        def idx(u: Any) -> int:
            if u not in names:
                names.append(u)
            return names.index(u)

        idx(spec["initial"])
        raw_edges = []
        for i, t in enumerate(trans):
            f = t.get("_field", f"{source}.transitions[{i}]") if isinstance(t, Mapping) else f"{source}.transitions[{i}]"
            if not isinstance(t, Mapping) or not {"from", "to", "when"} <= set(t):
                raise ConfigError(f, f"got {t!r}", "a mapping with from, to, when and optional reward")
            r = t.get("reward", 0.0)
            if isinstance(r, bool) or not isinstance(r, (int, float)):
                raise ConfigError(f"{f}.reward", f"got {r!r}", "a number")
            if t["from"] in terminals:
                continue  # edges out of terminal states are never taken
            raw_edges.append((t["from"], t["to"], parse_dnf(t["when"], f"{f}.when"), float(r)))
        for u1, u2, _, _ in raw_edges:
            idx(u1)
            if u2 not in terminals:
                idx(u2)
        k = len(names)
        edges: dict[int, list[tuple[int, DNF, float]]] = {i: [] for i in range(k)}
        for u1, u2, dnf, r in raw_edges:
            edges[names.index(u1)].append((k if u2 in terminals else names.index(u2), dnf, r))
        return cls(k, 0, edges, names)

    # ----------------------------------------------------------------- dynamics
    def step(self, u: int, events: Iterable[str] | str) -> tuple[int, float, bool]:
        """One RM transition: ``(u_next, reward, reached_terminal)``."""
        if u == self.terminal:
            raise ValueError("step: the reward machine is already in its terminal state; reset it")
        ev = as_events(events)
        for u2, dnf, r in self.edges.get(u, []):
            if dnf.holds(ev):
                return u2, r, u2 == self.terminal
        return self.terminal, 0.0, True  # no edge holds: fall off the machine

    def value_iteration(self, gamma: float = 0.9, tol: float = 1e-10) -> np.ndarray:
        """:math:`V(u) = \\max_{(u,u')} [\\delta_r(u,u') + \\gamma V(u')]`, :math:`V(terminal) = 0`.

        Example:
            >>> rm = RewardMachine.from_text("0\\n[1]\\n(0,0,'!a',0)\\n(0,1,'a',1)")
            >>> rm.value_iteration(0.9).tolist()
            [1.0, 0.0]
        """
        v = np.zeros(self.n_states + 1)
        for _ in range(100_000):
            new = v.copy()
            for u in range(self.n_states):
                qs = [r + gamma * v[u2] for u2, _, r in self.edges.get(u, [])]
                new[u] = max(qs) if qs else 0.0
            if np.max(np.abs(new - v)) < tol:
                return new
            v = new
        return v

    def potential(self, rs_gamma: float = 0.9) -> np.ndarray:
        """The RM shaping potential :math:`\\Phi(u) = -V_{RM}(u)` (0 at the terminal state)."""
        return -self.value_iteration(rs_gamma)

    def counterfactual(self, events: Iterable[str] | str) -> list[Experience]:
        """CRM: the RM transition of the same events from every non-terminal state."""
        out = []
        for u in range(self.n_states):
            u2, r, done = self.step(u, events)
            out.append(Experience(u, r, u2, done))
        return out


@register_term("rm_shaping", batch_kind="transition", uses_discount=True,
               example={"rm": "0\n[2]\n(0,0,'!a',0)\n(0,1,'a',0)\n(1,1,'!b',0)\n(1,2,'b',1)"})
class RMShaping(RewardTerm):
    """Potential-based shaping on reward-machine states (Toro Icarte et al. 2022).

    :math:`F = \\gamma\\,\\Phi(u') - \\Phi(u)` with :math:`\\Phi(u) = -V_{RM}(u)` computed at
    ``rs_gamma``; :math:`\\Phi(u') = 0` when the transition terminated (RM terminal or env
    termination) but not when it was truncated.  Reads ``rm_state`` and
    ``rm_next_state`` from each transition's info (written by
    :class:`RewardMachineWrapper`).  ``gamma`` must be the learner's discount.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> rm = RewardMachine.from_text("0\\n[2]\\n(0,0,'!a',0)\\n(0,1,'a',0)\\n(1,1,'!b',0)\\n(1,2,'b',1)")
        >>> term = RMShaping(rm, gamma=0.9, rs_gamma=0.9)
        >>> b = TransitionBatch.from_arrays(np.zeros(1), np.zeros(1), np.zeros(1), [0.0],
        ...                                 info=[{"rm_state": 0, "rm_next_state": 1}])
        >>> round(float(term(b)[0]), 4)  # 0.9 * (-1.0) - (-0.9)
        0.0
    """

    batch_kind = "transition"

    def __init__(self, rm: RewardMachine | str | Mapping[str, Any], gamma: float = 0.9, rs_gamma: float = 0.9,
                 name: str = "rm_shaping"):
        super().__init__(name)
        if isinstance(rm, str):
            rm = RewardMachine.from_text(rm)
        elif isinstance(rm, Mapping):
            rm = RewardMachine.from_mapping(rm)
        self.rm = rm
        self.gamma = float(gamma)
        self.phi = rm.potential(rs_gamma)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        u = np.array([int(i.get("rm_state", self.rm.initial)) for i in batch.info])
        u2 = np.array([int(i.get("rm_next_state", i.get("rm_state", self.rm.initial))) for i in batch.info])
        return potential_difference(self.phi[u], self.phi[u2], self.gamma, batch.terminated | (u2 == self.rm.terminal))
