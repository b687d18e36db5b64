"""Running normalisation of reward terms.

Two statistics are offered, and the choice is explicit because it changes learning:

* ``statistic="reward"`` – the running mean/variance of the per-step reward
  values themselves: :math:`\\hat r = (r - \\mu_r) / \\sigma_r` (``center=True``) or
  :math:`r / \\sigma_r` (``center=False``).
* ``statistic="return"`` – the running variance of the per-env discounted return
  :math:`G_t = \\gamma G_{t-1} (1 - d_{t-1}) + r_t`, as in SB3's ``VecNormalize`` and
  RND's reward forward filter (Burda et al. 2019): :math:`\\hat r = r / \\sigma_G`.
  The accumulator runs along *time* for each sub-env separately (the axis bug of
  CleanRL #360 cannot happen) and restarts after ``terminated`` or ``truncated``.
  ``center`` is ignored (a return-scaled reward is never centred, which would change
  the sign of a sparse reward).

``frozen=True`` stops updating the statistics – use it for evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import finite

__all__ = ["RunningMeanStd", "RewardNormalizer"]


class RunningMeanStd:
    """Streaming mean and variance of a (vector) quantity, merged batch by batch.

    Uses the parallel update of Chan et al. (1979):
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
        x = np.asarray(x, dtype=np.float64)
        if x.shape[0] == 0:
            return
        b_mean = x.mean(axis=0)
        b_var = x.var(axis=0)
        b_n = float(x.shape[0])
        if self.count == 0:
            self.mean, self.var, self.count = b_mean, b_var, b_n
            return
        delta = b_mean - self.mean
        tot = self.count + b_n
        m2 = self.var * self.count + b_var * b_n + delta**2 * self.count * b_n / tot
        self.mean = self.mean + delta * b_n / tot
        self.var = m2 / tot
        self.count = tot

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
        return out

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
        for i in range(n):  # several steps of the same env in one batch: keep time order
            e = idx[i]
            self._ret[e] = self._ret[e] * self.gamma + v[i]
            out[i] = self._ret[e]
            if d[i]:
                self._ret[e] = 0.0
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"rms": self.rms.state_dict(),
                "ret": None if self._ret is None else self._ret.tolist()}

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.rms.load_state_dict(s["rms"])
        self._ret = None if s.get("ret") is None else np.asarray(s["ret"], dtype=np.float64)
