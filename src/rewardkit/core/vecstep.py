"""Turning env steps into scored transitions: the engine of every rewardkit env wrapper.

Vector envs reset a sub-env as soon as its episode ends, so the observation they
return for that row is the *reset* observation.  The true :math:`s_{t+1}` travels in
the info (SB3: ``infos[i]["terminal_observation"]``; Gymnasium ``SAME_STEP``:
``infos["final_obs"][i]``), and SB3 folds ``terminated`` and ``truncated`` into one
``dones`` flag with ``infos[i]["TimeLimit.truncated"]`` telling them apart.

**The final-observation policy (one for every wrapper).**  At an episode end the
reward terms see the true final observation as ``next_obs``, never the reset
observation.  Where the env layout says the final observation travels in the info
and it is missing, the step raises :class:`~rewardkit.core.errors.BatchError` naming
the info field: a silent fallback would hand the reset observation to terms such as
potential-based shaping or a count bonus and corrupt them without a trace.

:class:`StepScorer` is the framework-free engine the wrappers of
:mod:`rewardkit.core.wrappers` (Gymnasium) and :mod:`rewardkit.core.sb3_wrappers`
(Stable-Baselines3) are thin shells around: it keeps each sub-env's previous
observation, builds the :class:`~rewardkit.core.TransitionBatch` of the real rows,
evaluates the reward, sums each episode's returns (:class:`EpisodeStats`) and resets
stateful terms where an episode ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .batch import TransitionBatch
from .compose import ComposedReward, RewardResult
from .errors import BatchError
from .term import RewardTerm, as_term

#: sub-env row indices: a list of ints or an integer array (``np.flatnonzero(done)``)
Rows: TypeAlias = Sequence[int] | npt.NDArray[np.integer[Any]]
#: an episode-end info producer of :class:`StepScorer`: ``(stats, row) -> extra info keys``
EpisodeExtra: TypeAlias = "Callable[[EpisodeStats, int], Mapping[str, Any]]"

__all__ = [
    "ENV_RETURN",
    "ENV_REWARD",
    "LENGTH",
    "SHAPED_RETURN",
    "STEP_TERMS",
    "TERM_RETURN",
    "EpisodeExtra",
    "EpisodeStats",
    "Rows",
    "StepScore",
    "StepScorer",
    "as_reward",
    "copy_obs",
    "evaluate",
    "gym_final_obs",
    "monitor_keywords",
    "sb3_done_flags",
    "sb3_final_obs",
    "set_row",
    "stack_obs",
    "take_obs",
    "term_names",
    "vector_info_rows",
    "with_final_obs",
]

#: info keys written at the end of an episode
ENV_RETURN = "rk/env_return"
SHAPED_RETURN = "rk/return"
TERM_RETURN = "rk/return/{}"
LENGTH = "rk/length"
#: per-step info keys
ENV_REWARD = "rk/env_reward"
STEP_TERMS = "rk/terms"


# ------------------------------------------------------------------ observations
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


def take_obs(obs: Any, idx: Any) -> Any:
    """Rows ``idx`` of a batched observation (array or dict of arrays).

    Example:
        >>> take_obs({"a": np.arange(3)}, [2])["a"].tolist()
        [2]
    """
    if isinstance(obs, Mapping):
        return {k: np.asarray(v)[idx] for k, v in obs.items()}
    return np.asarray(obs)[idx]


def stack_obs(items: Sequence[Any]) -> Any:
    """Stack per-env observations (arrays or dicts of arrays) along a new axis 0.

    Example:
        >>> stack_obs([np.zeros(2), np.ones(2)]).shape
        (2, 2)
    """
    first = items[0]
    if isinstance(first, Mapping):
        return {k: np.stack([np.asarray(o[k]) for o in items]) for k in first}
    return np.stack([np.asarray(o) for o in items])


def with_final_obs(obs: Any, rows: Rows, finals: Sequence[Any], source: str = "final observation") -> Any:
    """:math:`s_{t+1}` of a vector step: ``obs`` with row ``rows[j]`` replaced by ``finals[j]``.

    Returns ``obs`` itself when there is nothing to replace, else a copy.  A missing
    (``None``) final observation raises :class:`BatchError` naming ``source`` - the
    final-observation policy of the module docstring.

    Example:
        >>> with_final_obs(np.array([[0], [0]]), [1], [np.array([7])]).tolist()
        [[0], [7]]
    """
    out = obs
    for i, last in zip(rows, finals, strict=True):
        if last is None:
            raise BatchError(source, f"missing for sub-env {int(i)} at an episode end",
                             "the true final observation of every ended episode (rewardkit never scores the reset "
                             "observation as s')")
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
    trunc = np.array([bool(x and inf.get("TimeLimit.truncated", False)) for x, inf in zip(d, infos, strict=True)],
                     dtype=bool)
    return d & ~trunc, trunc


def sb3_final_obs(obs: Any, dones: np.ndarray, infos: Sequence[Mapping[str, Any]]) -> Any:
    """:math:`s_{t+1}` of an SB3 ``VecEnv`` step: ``infos[i]["terminal_observation"]`` where done.

    Example:
        >>> sb3_final_obs(np.zeros((2, 1)), np.array([False, True]), [{}, {"terminal_observation": [5.0]}]).tolist()
        [[0.0], [5.0]]
    """
    ended = np.flatnonzero(dones)
    return with_final_obs(obs, ended, [infos[int(i)].get("terminal_observation") for i in ended],
                          "infos[i].terminal_observation")


def gym_final_obs(obs: Any, done: np.ndarray, info: Mapping[str, Any]) -> Any:
    """:math:`s_{t+1}` of a Gymnasium ``SAME_STEP`` vector step: ``info["final_obs"][i]`` where done.

    Gymnasium ≥ 1.0 writes ``final_obs`` (with a ``_final_obs`` mask); 0.26-0.29 wrote
    ``final_observation``, which is read when ``final_obs`` is absent.

    Example:
        >>> finals = np.array([None, np.array([3.0])], dtype=object)
        >>> gym_final_obs(np.zeros((2, 1)), np.array([False, True]),
        ...               {"final_obs": finals}).tolist()
        [[0.0], [3.0]]
    """
    ended = np.flatnonzero(done)
    if ended.size == 0:
        return obs
    key = "final_obs" if "final_obs" in info else "final_observation"
    col = info.get(key)
    mask = info.get("_" + key)
    finals = [None if col is None or (mask is not None and not mask[i]) else col[i] for i in ended]
    return with_final_obs(obs, ended, finals, 'infos["final_obs"]')


def vector_info_rows(info: Mapping[str, Any], n: int, rows: Rows) -> list[dict[str, Any]]:
    """Per-row info dicts from a Gymnasium vector info (arrays over envs with ``_key`` masks).

    A key whose mask is False for a row is left out of that row; nested dicts
    (``final_info``) are split the same way.

    Example:
        >>> info = {"x": np.array([1, 2]), "_x": np.array([False, True])}
        >>> [{k: int(v) for k, v in row.items()} for row in vector_info_rows(info, 2, [0, 1])]
        [{}, {'x': 2}]
    """
    out: list[dict[str, Any]] = [{} for _ in rows]
    for k, v in info.items():
        if k.startswith("_"):
            continue
        mask = info.get("_" + k)
        if isinstance(v, Mapping):
            sub = vector_info_rows(v, n, rows)
            for j, i in enumerate(rows):
                if mask is None or mask[i]:
                    out[j][k] = sub[j]
            continue
        if np.ndim(v) == 0 or len(v) != n:
            continue
        for j, i in enumerate(rows):
            if mask is None or mask[i]:
                out[j][k] = v[i]
    return out


# ------------------------------------------------------------------ rewards and episodes
def as_reward(reward: Any) -> RewardTerm:
    """Accept a RewardTerm, a ComposedReward or a callable."""
    return reward if isinstance(reward, RewardTerm) else as_term(reward)


def evaluate(reward: RewardTerm, batch: TransitionBatch) -> RewardResult:
    """Total and per-term values; a plain term is reported under its own name."""
    if isinstance(reward, ComposedReward):
        return reward.evaluate(batch)
    v = reward(batch)
    return RewardResult(v, {reward.name: v}, {reward.name: 1.0})


def term_names(reward: RewardTerm) -> list[str]:
    """The names of a reward's terms (a plain term: its own name)."""
    if isinstance(reward, ComposedReward):
        return list(reward.terms)
    return [reward.name]


def monitor_keywords(reward: Any) -> tuple[str, ...]:
    """The info keys to pass to SB3 ``Monitor``/``VecMonitor(info_keywords=...)``.

    Example:
        >>> from rewardkit.core import Constant
        >>> monitor_keywords(Constant(1.0, name="alive"))
        ('rk/env_return', 'rk/return', 'rk/length', 'rk/return/alive')
    """
    return (ENV_RETURN, SHAPED_RETURN, LENGTH, *(TERM_RETURN.format(n) for n in term_names(as_reward(reward))))


class EpisodeStats:
    """Running per-env sums of the env reward, the total and each term (signed and absolute).

    Example:
        >>> from rewardkit.core import RewardResult
        >>> st = EpisodeStats(1, ["a"], abs_names=["a"])
        >>> st.add(np.array([0]), np.array([1.0]), RewardResult(np.array([0.5]), {"a": np.array([-0.5])}, {}))
        >>> st.episode_info(0)["rk/return/a"], float(st.abs_terms["a"][0])
        (-0.5, 0.5)
    """

    def __init__(self, n_envs: int, names: Sequence[str], abs_names: Sequence[str] = ()):
        self.names = list(names)
        self.env_ret = np.zeros(n_envs)
        self.total = np.zeros(n_envs)
        self.length = np.zeros(n_envs, dtype=np.int64)
        self.terms = {k: np.zeros(n_envs) for k in self.names}
        # absolute sums cost two more scatter-adds per term and step: kept only where an extra reads them
        self.abs_terms = {k: np.zeros(n_envs) for k in abs_names if k in self.terms}
        self.abs_env = np.zeros(n_envs) if self.abs_terms else None

    def add(self, idx: np.ndarray | slice, env_reward: np.ndarray, res: RewardResult) -> None:
        self.env_ret[idx] += env_reward
        self.total[idx] += res.total
        self.length[idx] += 1
        for k in self.names:
            if k in res.terms:
                self.terms[k][idx] += res.terms[k]
        if self.abs_env is not None:
            self.abs_env[idx] += np.abs(env_reward)
            for k, a in self.abs_terms.items():
                if k in res.terms:
                    a[idx] += np.abs(res.terms[k])

    def episode_info(self, i: int) -> dict[str, Any]:
        d: dict[str, Any] = {ENV_RETURN: float(self.env_ret[i]), SHAPED_RETURN: float(self.total[i]),
                             LENGTH: int(self.length[i])}
        d.update({TERM_RETURN.format(k): float(v[i]) for k, v in self.terms.items()})
        return d

    def clear(self, mask: np.ndarray) -> None:
        for a in (self.env_ret, self.total, self.length, *self.terms.values(), *self.abs_terms.values()):
            a[mask] = 0
        if self.abs_env is not None:
            self.abs_env[mask] = 0


@dataclass
class StepScore:
    """What :meth:`StepScorer.step` returns: totals and term values over all ``n`` rows, episode infos."""

    total: np.ndarray
    terms: dict[str, np.ndarray]
    scored: np.ndarray
    episodes: dict[int, dict[str, Any]] = field(default_factory=dict)


class StepScorer:
    """Score one env step after another with a reward, per sub-env (see the module docstring).

    Args:
        reward: a :class:`~rewardkit.core.RewardTerm` or :class:`~rewardkit.core.ComposedReward`.
        n_envs: number of rows of a step.
        env_index: the ``env_index`` the reward sees for each row (default ``arange(n_envs)``;
            single-env copies that share one stateful reward give each copy its own index).
        extras: callables ``(stats, row) -> dict`` whose keys are added to each episode-end
            info (read :class:`EpisodeStats` before it is cleared).

    Example:
        >>> from rewardkit.core import Constant
        >>> sc = StepScorer(Constant(0.5, name="half"), 2)
        >>> sc.reset(np.zeros((2, 1)))
        >>> out = sc.step(np.zeros(2), np.ones((2, 1)), np.ones((2, 1)), np.ones(2),
        ...               np.array([True, False]), np.zeros(2, bool))
        >>> out.total.tolist(), out.episodes[0]["rk/return/half"]
        ([0.5, 0.5], 0.5)
    """

    def __init__(self, reward: Any, n_envs: int, env_index: Any = None,
                 extras: Sequence[EpisodeExtra] = ()):
        self.reward: RewardTerm = as_reward(reward)
        self.extras = list(extras)
        self.n = int(n_envs)
        self.env_index = np.arange(self.n) if env_index is None else np.asarray(env_index, np.int64).reshape(-1)
        wanted = [k for f in self.extras for k in getattr(f, "abs_terms", ())]  # absolute sums an extra reads
        self.stats = EpisodeStats(self.n, term_names(self.reward), abs_names=wanted)
        self.obs: Any = None

    def _reset_mask(self, rows: np.ndarray) -> np.ndarray:
        mask = np.zeros(int(self.env_index.max()) + 1, dtype=bool)
        mask[self.env_index[rows]] = True
        return mask

    def reset(self, obs: Any, rows: Any = None) -> None:
        """Start new episodes: all rows (``rows=None``) or only ``rows`` (their new observations in ``obs``)."""
        if rows is None or self.obs is None:
            self.obs = copy_obs(obs)
            rows = np.arange(self.n)
        else:
            rows = np.asarray(rows, dtype=np.int64).reshape(-1)
            for i in rows:
                set_row(self.obs, int(i), take_obs(obs, int(i)))
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        self.stats.clear(mask)
        self.reward.reset(self._reset_mask(rows))

    def step(self, actions: Any, next_obs: Any, obs_after: Any, env_reward: Any, terminated: Any, truncated: Any,
             infos: Sequence[Mapping[str, Any]] | None = None, rows: Any = None, original: Any = None,
             ) -> StepScore:
        """Score rows ``rows`` (default: all) of one step and move on to ``obs_after``.

        Args:
            actions: the actions of all rows.
            next_obs: the true :math:`s_{t+1}` of all rows (final observations where done).
            obs_after: what the env returned (reset observations where it auto-reset);
                the next step's :math:`s_t`.
            env_reward, terminated, truncated: arrays over all rows.
            infos: one info dict per scored row (default empty dicts).
            rows: the rows that are real transitions (Gymnasium ``NEXT_STEP`` masks its
                pseudo-transitions); the other rows score 0 and are not shown to the reward.
            original: the original env reward (``info["rk/env_reward"]`` of an inner
                rewardkit wrapper), default ``env_reward``.
        """
        if self.obs is None:
            raise RuntimeError("step called before reset(); call reset() first")
        env_r = np.asarray(env_reward, dtype=np.float64).reshape(-1)
        term = np.asarray(terminated, dtype=bool).reshape(-1)
        trunc = np.asarray(truncated, dtype=bool).reshape(-1)
        idx = np.arange(self.n) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        orig = env_r if original is None else np.asarray(original, dtype=np.float64).reshape(-1)
        out = StepScore(np.zeros(self.n), {k: np.zeros(self.n) for k in self.stats.names}, idx)
        if idx.size:
            infos = list(infos) if infos is not None else [{} for _ in idx]
            batch = TransitionBatch(take_obs(self.obs, idx), np.asarray(actions)[idx], take_obs(next_obs, idx),
                                    env_r[idx], term[idx], trunc[idx], infos, self.env_index[idx])
            res = evaluate(self.reward, batch)
            sel = slice(None) if rows is None else idx  # every row: plain slices, not scatter-adds (the hot path)
            out.total[sel] = res.total
            for k, v in res.terms.items():
                if k in out.terms:
                    out.terms[k][sel] = v
            self.stats.add(sel, orig[idx], res)
            ended = idx[term[idx] | trunc[idx]]
            if ended.size:
                out.episodes = {int(i): self.episode_info(int(i)) for i in ended}
                mask = np.zeros(self.n, dtype=bool)
                mask[ended] = True
                self.stats.clear(mask)
                self.reward.reset(self._reset_mask(ended))
        self.obs = copy_obs(obs_after)
        return out

    def episode_info(self, i: int) -> dict[str, Any]:
        """The episode-end info of row ``i``: :meth:`EpisodeStats.episode_info` plus ``extras``."""
        d = self.stats.episode_info(i)
        for f in self.extras:
            d.update(f(self.stats, i))
        return d
