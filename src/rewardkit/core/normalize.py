"""Running normalisation of reward terms.

Two statistics are offered, and the choice is explicit because it changes learning:

* ``statistic="reward"`` - the running mean/variance of the per-step reward
  values themselves: :math:`\\hat r = (r - \\mu_r) / \\sigma_r` (``center=True``) or
  :math:`r / \\sigma_r` (``center=False``).
* ``statistic="return"`` - the running variance of the per-env discounted return
  :math:`G_t = \\gamma G_{t-1} (1 - d_{t-1}) + r_t`, as in SB3's ``VecNormalize`` and
  RND's reward forward filter (Burda et al. 2019): :math:`\\hat r = r / \\sigma_G`.
  The accumulator runs along *time* for each sub-env separately (the axis bug of
  CleanRL #360 cannot happen) and restarts after ``terminated`` or ``truncated``.
  ``center`` is ignored (a return-scaled reward is never centred, which would change
  the sign of a sparse reward).

``frozen=True`` stops updating the statistics - use it for evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import finite

__all__ = ["RewardNormalizer", "RunningMeanStd", "update_from_moments"]


def update_from_moments(mean: np.ndarray, var: np.ndarray, count: float, batch_mean: np.ndarray,
                        batch_var: np.ndarray, batch_count: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Merge running moments with a batch's: the parallel variance update of Chan, Golub & LeVeque (1979).

    With :math:`\\delta = \\mu_b - \\mu` and :math:`n' = n + n_b`:

    .. math:: \\mu' = \\mu + \\delta \\frac{n_b}{n'}, \\qquad
              \\sigma'^2 = \\frac{n\\sigma^2 + n_b\\sigma_b^2 + \\delta^2 n n_b / n'}{n'}

    (population variances).  ``count = 0`` returns the batch's moments; ``batch_count = 0``
    returns the running ones unchanged.  Pure: nothing is modified in place.

    Example:
        >>> import numpy as np
        >>> m, v, n = update_from_moments(np.array(2.0), np.array(2 / 3), 3.0, np.array(4.0), np.array(0.0), 1.0)
        >>> float(m), round(float(v), 6), n                # moments of [1, 2, 3, 4]
        (2.5, 1.25, 4.0)
    """
    n_b = float(batch_count)
    if n_b == 0:
        return mean, var, float(count)
    n = float(count)
    tot = n + n_b
    delta = np.asarray(batch_mean, dtype=np.float64) - mean
    m2 = var * n + np.asarray(batch_var, dtype=np.float64) * n_b + delta ** 2 * n * n_b / tot
    return mean + delta * n_b / tot, m2 / tot, tot


class RunningMeanStd:
    """Streaming mean and variance of a (vector) quantity, merged batch by batch.

    Uses the parallel update of Chan et al. (1979), :func:`update_from_moments`:
    :math:`\\mu \\leftarrow \\mu + \\delta n_b/(n+n_b)`,
    :math:`M_2 \\leftarrow M_2 + M_{2,b} + \\delta^2 n n_b/(n+n_b)`.

    Example:
        >>> import numpy as np
        >>> rms = RunningMeanStd()
        >>> rms.update(np.array([1.0, 2.0, 3.0])); rms.update(np.array([4.0]))
        >>> round(float(rms.mean), 6), round(float(rms.var), 6)
        (2.5, 1.25)
    """

    def __init__(self, shape: tuple[int, ...] = (), epsilon: float = 1e-8):
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = 0.0
        self.epsilon = epsilon

    def update(self, x: np.ndarray) -> None:
        """Merge the batch ``x`` (rows along axis 0)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] == 0:
            return
        self.update_from_moments(x.mean(axis=0), x.var(axis=0), float(x.shape[0]))

    def update_from_moments(self, batch_mean: np.ndarray, batch_var: np.ndarray, batch_count: float) -> None:
        """Merge a batch given by its moments (see :func:`update_from_moments`)."""
        if batch_count == 0:
            return
        if self.count == 0:  # the first batch replaces the placeholder (mean 0, var 1)
            self.mean = np.asarray(batch_mean, dtype=np.float64)
            self.var = np.asarray(batch_var, dtype=np.float64)
            self.count = float(batch_count)
            return
        self.mean, self.var, self.count = update_from_moments(self.mean, self.var, self.count, batch_mean,
                                                              batch_var, batch_count)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var + self.epsilon)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": np.asarray(self.mean).tolist(), "var": np.asarray(self.var).tolist(),
                "count": self.count}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.mean = np.asarray(s["mean"], dtype=np.float64)
        self.var = np.asarray(s["var"], dtype=np.float64)
        self.count = float(s["count"])


class RewardNormalizer:
    """Normalise a stream of reward values with a documented statistic.

    Args:
        statistic: ``"reward"`` or ``"return"`` (see module docstring).
        gamma: discount of the return accumulator (``statistic="return"`` only).
        center: subtract the running mean (``statistic="reward"`` only).
        clip: clip the normalised value to ``[-clip, clip]`` (``None``: no clip).
        frozen: if True, statistics are not updated (evaluation mode).

    Example:
        >>> import numpy as np
        >>> norm = RewardNormalizer("reward", center=True)
        >>> out = norm(np.array([1.0, 3.0]))
        >>> np.allclose(out, [-1.0, 1.0], atol=1e-6)
        True
    """

    def __init__(self, statistic: str = "reward", gamma: float = 0.99, center: bool = False,
                 clip: float | None = None, frozen: bool = False, epsilon: float = 1e-8):
        if statistic not in ("reward", "return"):
            raise ValueError(f"statistic: got {statistic!r}; expected 'reward' or 'return'")
        self.statistic = statistic
        self.gamma = finite(gamma, "normalize.gamma", low=0.0, high=1.0)
        self.center = bool(center) and statistic == "reward"
        self.clip = None if clip is None else finite(clip, "normalize.clip", low=0.0)
        epsilon = finite(epsilon, "normalize.epsilon", low=0.0)
        self.frozen = frozen
        self.rms = RunningMeanStd(epsilon=epsilon)
        self._ret: np.ndarray | None = None  # per-env discounted return accumulator

    def __call__(self, values: np.ndarray, done: np.ndarray | None = None,
                 env_index: np.ndarray | None = None) -> np.ndarray:
        """Update the statistics with ``values`` (unless frozen) and return them normalised.

        ``done``/``env_index`` are only used by ``statistic="return"``; items are taken
        in order, so a batch flattened as ``(time, env)`` row-major keeps time order per env.
        """
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if self.statistic == "return":
            if not self.frozen:
                self.rms.update(self._returns(v, done, env_index))
            out = v / self.rms.std
        else:
            if not self.frozen:
                self.rms.update(v)
            out = (v - self.rms.mean) / self.rms.std if self.center else v / self.rms.std
        if self.clip is not None:
            out = np.clip(out, -self.clip, self.clip)
        result: np.ndarray = out
        return result

    def _returns(self, v: np.ndarray, done: np.ndarray | None, env_index: np.ndarray | None) -> np.ndarray:
        n = v.shape[0]
        idx = np.arange(n) if env_index is None else np.asarray(env_index, dtype=np.int64)
        d = np.zeros(n, dtype=bool) if done is None else np.asarray(done, dtype=bool).reshape(-1)
        size = int(idx.max()) + 1 if n else 0
        if self._ret is None or self._ret.shape[0] < size:
            grown = np.zeros(max(size, 1))
            if self._ret is not None:
                grown[: self._ret.shape[0]] = self._ret
            self._ret = grown
        out = np.empty(n)
        if np.unique(idx).size == n:  # the common case: one item per env -> vectorised
            self._ret[idx] = self._ret[idx] * self.gamma + v
            out[:] = self._ret[idx]
            self._ret[idx[d]] = 0.0
            return out
        # several steps of the same env in one batch: keep time order, one vectorised round per
        # occurrence (round k takes the k-th item of every env)
        order = np.argsort(idx, kind="stable")
        first = np.r_[0, np.flatnonzero(np.diff(idx[order])) + 1]
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
        for k in range(int(rank.max()) + 1):
            sel = np.flatnonzero(rank == k)
            e = idx[sel]
            self._ret[e] = self._ret[e] * self.gamma + v[sel]
            out[sel] = self._ret[e]
            self._ret[e[d[sel]]] = 0.0
        return out

    @property
    def running_returns(self) -> np.ndarray | None:
        """The per-env discounted-return accumulator of ``statistic="return"`` (``None`` before any call)."""
        return self._ret

    def state_dict(self) -> dict[str, Any]:
        return {"rms": self.rms.state_dict(),
                "ret": None if self._ret is None else self._ret.tolist()}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.rms.load_state_dict(s["rms"])
        self._ret = None if s.get("ret") is None else np.asarray(s["ret"], dtype=np.float64)
