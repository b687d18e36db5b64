"""Turning one vector-env step into transitions: copies, true next observations, done flags.

Vector envs reset a sub-env as soon as its episode ends, so the observation they
return for that row is the *reset* observation.  The true :math:`s_{t+1}` travels in
the info (SB3: ``infos[i]["terminal_observation"]``; Gymnasium SAME_STEP:
``infos["final_obs"][i]``), and SB3 folds ``terminated`` and ``truncated`` into one
``dones`` flag with ``infos[i]["TimeLimit.truncated"]`` telling them apart.  Every
wrapper that scores transitions (reward terms, exploration bonuses, replay relabelling)
needs the same three operations; they live here, framework-free.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["copy_obs", "set_row", "with_final_obs", "sb3_done_flags"]


def copy_obs(obs: Any) -> Any:
    """A copy of a batched observation (array or dict of arrays) that later steps cannot overwrite.

    Example:
        >>> o = np.zeros(2); c = copy_obs(o); o[0] = 1.0; c.tolist()
        [0.0, 0.0]
    """
    if isinstance(obs, Mapping):
        return {k: np.array(v, copy=True) for k, v in obs.items()}
    return np.array(obs, copy=True)


def set_row(obs: Any, i: int, value: Any) -> None:
    """Write one sub-env's observation ``value`` into row ``i`` of a batched observation, in place."""
    if isinstance(obs, Mapping):
        for k in obs:
            obs[k][i] = value[k]
    else:
        obs[i] = value


def with_final_obs(obs: Any, rows: Sequence[int], finals: Sequence[Any]) -> Any:
    """:math:`s_{t+1}` of a vector step: ``obs`` with row ``rows[j]`` replaced by ``finals[j]``.

    Returns ``obs`` itself when there is nothing to replace, else a copy; a ``None``
    final observation leaves its row as it is.

    Example:
        >>> with_final_obs(np.array([[0], [0]]), [1], [np.array([7])]).tolist()
        [[0], [7]]
    """
    out = obs
    for i, last in zip(rows, finals):
        if last is None:
            continue
        if out is obs:
            out = copy_obs(obs)
        set_row(out, int(i), last)
    return out


def sb3_done_flags(dones: Any, infos: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """``(terminated, truncated)`` from an SB3 step's ``dones`` and ``infos`` (``TimeLimit.truncated``).

    Example:
        >>> term, trunc = sb3_done_flags([True, True, False], [{}, {"TimeLimit.truncated": True}, {}])
        >>> term.tolist(), trunc.tolist()
        ([True, False, False], [False, True, False])
    """
    d = np.asarray(dones, dtype=bool).reshape(-1)
    trunc = np.array([bool(x and inf.get("TimeLimit.truncated", False)) for x, inf in zip(d, infos)], dtype=bool)
    return d & ~trunc, trunc
