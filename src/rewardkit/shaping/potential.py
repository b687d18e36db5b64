"""Potential-based reward shaping (PBRS).

Ng, Harada & Russell (1999), "Policy invariance under reward transformations:
Theory and application to reward shaping", ICML.  Adding

.. math:: F(s, a, s') = \\gamma\\,\\Phi(s') - \\Phi(s)

to the reward of an MDP leaves its set of optimal policies unchanged, for any
potential :math:`\\Phi: S \\to \\mathbb{R}`; and (without further knowledge of the MDP)
only potential-based :math:`F` have this guarantee.  The shaped optimal values are
:math:`Q'^* = Q^* - \\Phi`.

Terminal vs. truncated transitions
----------------------------------
The telescoping argument needs :math:`\\Phi = 0` on absorbing states: an episode
that *terminates* in :math:`s_T` is the same as one that continues forever in a
zero-reward absorbing state, whose potential must then be a constant that
telescopes away - we take 0.  With a non-zero terminal potential the shaped
return of an episode of length :math:`T` gains :math:`\\gamma^T \\Phi(s_T)`, a
bonus that depends on *when* the episode ends, and on variable-length tasks this
changes the optimal policy (imitation PR #323; the negative control in
``tests/shaping/test_potential.py`` flips a policy this way).

A *truncated* transition (time limit) is different: :math:`s'` is not terminal,
the agent bootstraps from it, and its potential must be kept.  Zeroing
:math:`\\Phi(s')` there would inject a spurious :math:`-\\Phi(s)` at every time-out.
:class:`PotentialShaping` therefore uses ``batch.terminated`` (never ``done``).

``gamma`` must be the agent's discount factor: with a different :math:`\\gamma` the
shaping no longer telescopes in the agent's objective and invariance is lost.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping

import numpy as np

from ..core.batch import TransitionBatch
from ..core.errors import BatchError, ConfigError
from ..core.potential import potential_difference
from ..core.registry import POTENTIALS, register_term
from ..core.term import RewardTerm

__all__ = [
    "Potential",
    "PotentialShaping",
    "TablePotential",
    "as_potential",
    "available_potentials",
    "pbrs_reward",
    "potential_shaping",
    "register_potential",
]

Potential = Callable[[Any], np.ndarray]


def register_potential(name: str, factory: Callable[..., Potential] | None = None, *, override: bool = False):
    """Register a potential factory under ``name`` so configs can refer to it (decorator or call).

    The name goes into the shared :data:`rewardkit.core.registry.POTENTIALS`; a name already
    taken raises :class:`~rewardkit.core.errors.DuplicateNameError` unless ``override=True``.

    Example:
        >>> import numpy as np
        >>> _ = register_potential("doc_half_sum", lambda: (lambda obs: 0.5 * np.asarray(obs).sum(axis=-1)),
        ...                        override=True)
        >>> as_potential("doc_half_sum")(np.ones((2, 4))).tolist()
        [2.0, 2.0]
    """
    return POTENTIALS.register(name, factory, override=override)


def available_potentials() -> list[str]:
    """Names of the registered potentials."""
    return POTENTIALS.names()


class TablePotential:
    """:math:`\\Phi(s) =` ``values[s]`` for integer (Discrete) observations.

    Example:
        >>> TablePotential([0.0, 1.0, 2.0])(np.array([2, 0])).tolist()
        [2.0, 0.0]
    """

    def __init__(self, values: Any):
        self.values = np.asarray(values, dtype=np.float64).reshape(-1)
        if self.values.size == 0 or not np.all(np.isfinite(self.values)):
            raise ConfigError("potential", "table is empty or not finite", "a finite array with one value per state")

    def __call__(self, obs: Any) -> np.ndarray:
        idx = np.asarray(obs)
        if idx.ndim > 1:
            idx = idx.reshape(idx.shape[0], -1)
            if idx.shape[1] != 1:
                raise BatchError("obs", f"has shape {np.asarray(obs).shape}",
                                 "integer state indices (n,) for a table potential")
            idx = idx[:, 0]
        if not np.issubdtype(idx.dtype, np.integer):
            if not np.all(np.mod(idx, 1) == 0):
                raise BatchError("obs", "holds non-integer values", "integer state indices for a table potential")
            idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.values.size):
            raise BatchError("obs", f"has state indices outside [0, {self.values.size})",
                             f"indices into a table of {self.values.size} potentials")
        return self.values[idx]


@register_potential("table")
def _table(values: Any) -> Potential:
    """``Φ(s) = values[s]`` for Discrete observations."""
    return TablePotential(values)


def _zero_potential(obs: Any) -> np.ndarray:
    return np.zeros(len(obs) if not isinstance(obs, Mapping) else len(next(iter(obs.values()))))


@register_potential("zero")
def _zero() -> Potential:
    """``Φ = 0`` (no shaping; a control).  A module-level function, so the term pickles."""
    return _zero_potential


@register_potential("negative_distance")
def _negative_distance(goal: Any, scale: float = 1.0, ord: float = 2, key: str | None = None) -> Potential:
    """``Φ(s) = -scale * ||s - goal||_ord`` for vector observations (``key`` picks a dict entry)."""
    g = np.asarray(goal, dtype=np.float64)

    def phi(obs: Any) -> np.ndarray:
        x = obs[key] if key is not None else obs
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != g.size:
            raise BatchError("obs", f"has {x.shape[1]} features", f"{g.size} features to compare with 'goal'")
        return -float(scale) * np.linalg.norm(x - g.reshape(1, -1), ord=ord, axis=1)

    return phi


@register_potential("linear")
def _linear(weights: Any, bias: float = 0.0, key: str | None = None) -> Potential:
    """``Φ(s) = weights · s + bias`` for vector observations."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)

    def phi(obs: Any) -> np.ndarray:
        x = obs[key] if key is not None else obs
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != w.size:
            raise BatchError("obs", f"has {x.shape[1]} features", f"{w.size} features (one per weight)")
        return x @ w + float(bias)

    return phi


def as_potential(potential: Any, field: str = "potential") -> Potential:
    """Coerce a callable, a table (array-like), a registered name or ``{"type": name, **params}``.

    Example:
        >>> as_potential([0.0, 3.0])(np.array([1])).tolist()
        [3.0]
        >>> as_potential({"type": "negative_distance", "goal": [0, 0]})(np.array([[3.0, 4.0]])).tolist()
        [-5.0]
    """
    if isinstance(potential, str):
        factory = POTENTIALS.get(potential, field).factory
        try:
            return factory()
        except TypeError as e:
            raise ConfigError(field, f"potential {potential!r} needs parameters ({e})",
                              "a mapping {type: name, ...params}") from None
    if isinstance(potential, Mapping):
        params = dict(potential)
        name = params.pop("type", None)
        factory = POTENTIALS.get(name, f"{field}.type").factory
        try:
            return factory(**params)
        except TypeError as e:
            raise ConfigError(field, f"bad parameters for potential {name!r}: {e}", "the factory's keywords") from None
    if callable(potential):
        return potential
    if isinstance(potential, (list, tuple, np.ndarray)):
        return TablePotential(potential)
    raise ConfigError(field, f"got {type(potential).__name__}",
                      "a callable obs -> (n,), a table of per-state values, a registered name, or {type: name, ...}")


def _check_gamma(gamma: Any) -> float:
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ConfigError("gamma", f"got {gamma!r}", "the agent's discount factor in (0, 1]") from None
    if not 0.0 < g <= 1.0:
        raise ConfigError("gamma", f"got {gamma!r}", "the agent's discount factor in (0, 1]")
    return g


def _eval(phi: Potential, obs: Any, n: int, which: str) -> np.ndarray:
    v = np.asarray(phi(obs), dtype=np.float64).reshape(-1)
    if v.shape != (n,):
        raise BatchError(f"potential({which})", f"returned shape {v.shape} for a batch of {n}", f"an array ({n},)")
    if not np.all(np.isfinite(v)):
        raise BatchError(f"potential({which})", "returned NaN or inf", "finite potentials")
    return v


class PotentialShaping(RewardTerm):
    """The PBRS term :math:`F = \\gamma\\,\\Phi(s')\\,[1 - \\text{terminated}] - \\Phi(s)`.

    Ng, Harada & Russell (1999).  Add it to the task reward (``ComposedReward``)
    and the optimal policies do not change.  See the module docs for why
    :math:`\\Phi(s') = 0` on *terminated* but not on *truncated* transitions.

    Args:
        potential: a callable ``obs_batch -> (n,)``, a table of per-state values
            (Discrete observations), a registered potential name, or
            ``{"type": name, **params}`` (see :func:`available_potentials`).
        gamma: **the agent's** discount factor.  The default 0.99 is only right if
            your agent also uses 0.99 - a mismatch silently breaks invariance.
        name: term name.
        zero_terminal: keep True.  ``False`` reproduces the non-zero-terminal bug
            (useful only as a negative control).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> b = TransitionBatch.from_arrays(obs=np.array([0, 1, 1]), action=np.zeros(3), next_obs=np.array([1, 2, 2]),
        ...                                 reward=np.zeros(3), terminated=[False, True, False],
        ...                                 truncated=[False, False, True])
        >>> PotentialShaping([0.0, 1.0, 2.0], gamma=0.5)(b).tolist()   # 0.5*1-0, 0-1 (terminated), 0.5*2-1
        [0.5, -1.0, 0.0]
    """

    batch_kind = "transition"

    def __init__(self, potential: Any, gamma: float = 0.99, name: str = "pbrs", zero_terminal: bool = True):
        super().__init__(name)
        self.potential = as_potential(potential)
        self.gamma = _check_gamma(gamma)
        self.zero_terminal = bool(zero_terminal)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        n = len(batch)
        phi_s = _eval(self.potential, batch.obs, n, "obs")
        phi_next = _eval(self.potential, batch.next_obs, n, "next_obs")
        return potential_difference(phi_s, phi_next, self.gamma, batch.terminated if self.zero_terminal else False)


@register_term("potential_shaping", batch_kind="transition", uses_discount=True,
               example={"potential": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "gamma": 0.9})
def potential_shaping(potential: Any, gamma: float = 0.99, name: str = "pbrs") -> PotentialShaping:
    """Potential-based shaping F = gamma*Phi(s') - Phi(s) (Ng et al. 1999); Phi(s')=0 when terminated.

    Example:
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "env_reward"},
        ...     {"type": "potential_shaping", "params": {"potential": [0.0, 1.0], "gamma": 0.9}}]})
        >>> sorted(r.weights)
        ['env_reward', 'potential_shaping']
    """
    return PotentialShaping(potential, gamma=gamma, name=name)


def pbrs_reward(mdp: Any, phi: Any, gamma: float | None = None) -> np.ndarray:
    """The expected shaped reward of a tabular MDP,
    :math:`R'(s,a) = R(s,a) + \\gamma \\sum_{s'} T(s'|s,a)\\Phi(s') - \\Phi(s)`.

    ``Φ`` is taken as 0 on terminal states (see the module docs), so ``R'`` has the
    same optimal policies as ``R``.  With ``Φ = V*`` this is the optimal advantage
    :math:`A^*(s,a)` (EXPRD's "PBRS" baseline).

    Example:
        >>> from rewardkit.tabular import four_rooms
        >>> mdp, _ = four_rooms()
        >>> V, _, _ = mdp.value_iteration()
        >>> R2 = pbrs_reward(mdp, V)
        >>> bool((mdp.with_reward(R2).optimal_actions() == mdp.optimal_actions()).all())
        True
    """
    g = mdp.gamma if gamma is None else _check_gamma(gamma)
    phi = np.asarray(phi, dtype=np.float64).reshape(-1).copy()
    if phi.shape != (mdp.n_states,):
        raise ConfigError("phi", f"has shape {phi.shape}", f"one potential per state ({mdp.n_states},)")
    phi[mdp.terminal] = 0.0   # Phi(s') = 0 where s' terminates; expected over s' ~ T(.|s,a)
    return mdp.R + potential_difference(phi[:, None], np.einsum("sat,t->sa", mdp.T, phi), g)
