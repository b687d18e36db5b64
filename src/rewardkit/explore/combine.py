"""Combining exploration bonuses: sums, products, NGU's multiplier, and presets.

* :class:`Sum` – :math:`b = \\sum_i w_i\\, \\tilde b_i`;
* :class:`Product` – :math:`b = \\prod_i \\tilde b_i` (the *global x episodic*
  combination of Henaff, Jiang & Raileanu 2023, "A Study of Global and Episodic
  Bonuses for Exploration in Contextual MDPs", ICML – more robust than either term
  alone across contextual MDPs with more or less shared structure);
* :class:`NGUMultiplier` – Badia et al. (2020), "Never Give Up", ICLR:
  :math:`r = r^{ep}\\cdot \\min(\\max(\\alpha, 1), L)` with the life-long novelty
  :math:`\\alpha = 1 + (x - \\mu_x)/\\sigma_x` (running mean/std of the life-long raw
  bonus :math:`x`, e.g. RND error) and :math:`L = 5`.

:math:`\\tilde b_i` is member *i*'s bonus, optionally divided by the running std of
its own values (``normalize=True``; never centred, so a bonus stays non-negative).
Every member keeps its own state; a composite forwards ``observe`` / ``compute`` /
``update`` / ``reset`` / ``warmup`` / ``state_dict`` to all members and keeps the
members' last values in ``last_terms`` for logging.

Presets: :func:`e3b_x_rnd`, :func:`e3b_x_noveld` (Henaff et al. 2023),
:func:`count_x_count` (first visit x global count), :func:`ngu`.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..core.errors import ConfigError
from ..core.normalize import RunningMeanStd
from ..core.registry import register_term
from .base import BonusTerm, IntrinsicBonus

__all__ = ["NGUMultiplier", "Product", "Sum", "count_x_count", "e3b_x_noveld", "e3b_x_rnd", "ngu", "ngu_preset"]


class _Composite(IntrinsicBonus):
    def __init__(self, bonuses: Sequence[IntrinsicBonus] | Mapping[str, IntrinsicBonus],
                 normalize: bool | Sequence[bool] = False, name: str | None = None):
        super().__init__(name=name)
        if isinstance(bonuses, Mapping):
            items = list(bonuses.items())
        else:
            items = [(b.name, b) for b in bonuses]
        if not items:
            raise ConfigError("bonuses", "is empty", "at least one IntrinsicBonus")
        for k, b in items:
            if not isinstance(b, IntrinsicBonus):
                raise ConfigError(f"bonuses.{k}", f"is a {type(b).__name__}", "an IntrinsicBonus")
        names = [k for k, _ in items]
        if len(set(names)) != len(names):
            raise ConfigError("bonuses", f"has duplicate names {names}", "unique member names")
        self.members: dict[str, IntrinsicBonus] = dict(items)
        flags = [normalize] * len(items) if isinstance(normalize, bool) else list(normalize)
        if len(flags) != len(items):
            raise ConfigError("normalize", f"has {len(flags)} flags for {len(items)} members", "one bool per member")
        self.norms: dict[str, RunningMeanStd | None] = {k: (RunningMeanStd() if f else None)
                                                        for (k, _), f in zip(items, flags, strict=False)}
        self.last_terms: dict[str, np.ndarray] = {}
        self.learned = any(b.learned for b in self.members.values())
        self.takes_keys = any(b.takes_keys for b in self.members.values())

    def _scaled(self, k: str, v: np.ndarray) -> np.ndarray:
        rms = self.norms[k]
        if rms is None:
            return v
        x = np.asarray(v, dtype=np.float64).reshape(-1)
        rms.update(x[np.isfinite(x)])
        return v / rms.std

    def _combine(self, values: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def observe(self, obs, action, next_obs, terminated, truncated, env_index=None, keys=None) -> np.ndarray:
        """As :meth:`IntrinsicBonus.observe`; explicit count ``keys`` go to every member that takes them."""
        vals = {}
        for k, b in self.members.items():
            if keys is not None and b.takes_keys:
                raw = b.observe(obs, action, next_obs, terminated, truncated, env_index, keys=keys)  # type: ignore[call-arg]
            else:
                raw = b.observe(obs, action, next_obs, terminated, truncated, env_index)
            vals[k] = self._scaled(k, raw)
        self.last_terms = vals
        out = self._combine(vals)
        self.global_step += out.shape[0]
        return out

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        vals = {k: self._scaled(k, b.compute(batch)) for k, b in self.members.items()}
        self.last_terms = vals
        out = self._combine(vals)
        self.global_step += out.size
        return out

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        logs: dict[str, float] = {}
        for k, b in self.members.items():
            for lk, v in b.update(batch).items():
                logs[f"{k}/{lk}"] = v
        return logs

    def reset(self, mask: Any = None) -> None:
        for b in self.members.values():
            b.reset(mask)

    def warmup(self, obs: Any) -> None:
        for b in self.members.values():
            b.warmup(obs)

    def state_dict(self) -> dict[str, Any]:
        return {"class": type(self).__name__,
                "members": {k: b.state_dict() for k, b in self.members.items()},
                "norms": {k: (r.state_dict() if r is not None else None) for k, r in self.norms.items()},
                "global_step": self.global_step}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for k, b in self.members.items():
            b.load_state_dict(state["members"][k])
        for k, r in self.norms.items():
            if r is not None and state["norms"].get(k) is not None:
                r.load_state_dict(state["norms"][k])
        self.global_step = int(state.get("global_step", 0))


class Sum(_Composite):
    """Weighted sum of bonuses :math:`\\sum_i w_i \\tilde b_i`.

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> s = Sum({"g": CountBonus("global", "explicit"), "fv": CountBonus("first_visit", "explicit")},
        ...         weights={"fv": 0.5})
        >>> f = [False]
        >>> [round(float(s.observe([[0]], [0], [[1]], f, f)[0]), 3) for _ in range(2)]
        [1.5, 0.707]
    """

    def __init__(self, bonuses: Sequence[IntrinsicBonus] | Mapping[str, IntrinsicBonus],
                 weights: Mapping[str, float] | Sequence[float] | None = None,
                 normalize: bool | Sequence[bool] = False, name: str = "sum"):
        super().__init__(bonuses, normalize, name)
        keys = list(self.members)
        if weights is None:
            self.weights = {k: 1.0 for k in keys}
        elif isinstance(weights, Mapping):
            unknown = set(weights) - set(keys)
            if unknown:
                raise ConfigError("weights", f"names unknown members {sorted(unknown)}", f"names among {keys}")
            self.weights = {k: float(weights.get(k, 1.0)) for k in keys}
        else:
            ws = list(weights)
            if len(ws) != len(keys):
                raise ConfigError("weights", f"has {len(ws)} entries for {len(keys)} members", "one weight per member")
            self.weights = dict(zip(keys, map(float, ws), strict=False))

    def _combine(self, values):
        return sum(self.weights[k] * v for k, v in values.items())


class Product(_Composite):
    """Product of bonuses :math:`\\prod_i \\tilde b_i` (global x episodic; Henaff et al. 2023).

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> p = Product([CountBonus("global", "explicit", name="g"), CountBonus("first_visit", "explicit", name="fv")])
        >>> f = [False]
        >>> [round(float(p.observe([[0]], [0], [[1]], f, f)[0]), 3) for _ in range(2)]
        [1.0, 0.0]
    """

    def __init__(self, bonuses: Sequence[IntrinsicBonus] | Mapping[str, IntrinsicBonus],
                 normalize: bool | Sequence[bool] = False, name: str = "product"):
        super().__init__(bonuses, normalize, name)

    def _combine(self, values):
        out = None
        for v in values.values():
            out = v.copy() if out is None else out * v
        return out


class NGUMultiplier(_Composite):
    """NGU: episodic reward times the clipped life-long novelty multiplier.

    :math:`r = r^{ep}\\,\\min(\\max(1 + (x-\\mu_x)/\\sigma_x,\\ 1),\\ L)`.

    Args:
        episodic: the episodic bonus (e.g. :class:`~rewardkit.explore.ngu.EpisodicKNN`).
        lifelong: the life-long bonus giving raw :math:`x` (e.g. RND with ``reward_norm=False``).
        max_multiplier: :math:`L` (5).

    Example:
        >>> from rewardkit.explore.counts import CountBonus
        >>> m = NGUMultiplier(CountBonus("episodic", "explicit", name="ep"), CountBonus("global", "explicit", name="ll"))
        >>> f = [False, False]
        >>> m.observe([[0], [0]], [0, 0], [[1], [2]], f, f).round(3).tolist()   # alpha = 1 for both
        [1.0, 1.0]
    """

    def __init__(self, episodic: IntrinsicBonus, lifelong: IntrinsicBonus, max_multiplier: float = 5.0,
                 name: str = "ngu"):
        if episodic.name == lifelong.name:
            raise ConfigError("lifelong.name", f"equals the episodic bonus' name {episodic.name!r}", "distinct names")
        super().__init__({episodic.name: episodic, lifelong.name: lifelong}, False, name)
        if max_multiplier < 1:
            raise ConfigError("max_multiplier", f"got {max_multiplier!r}", "a number >= 1")
        self.episodic_key, self.lifelong_key = episodic.name, lifelong.name
        self.max_multiplier = float(max_multiplier)
        self.lifelong_stats = RunningMeanStd()

    def multiplier(self, x: np.ndarray) -> np.ndarray:
        """:math:`\\min(\\max(1 + (x-\\mu)/\\sigma, 1), L)` with the current statistics."""
        alpha = 1.0 + (x - self.lifelong_stats.mean) / self.lifelong_stats.std
        return np.clip(alpha, 1.0, self.max_multiplier)

    def _combine(self, values):
        x = np.asarray(values[self.lifelong_key], dtype=np.float64)
        flat = x.reshape(-1)
        self.lifelong_stats.update(flat[np.isfinite(flat)])
        return values[self.episodic_key] * self.multiplier(x)

    def state_dict(self) -> dict[str, Any]:
        s = super().state_dict()
        s["lifelong_stats"] = self.lifelong_stats.state_dict()
        return s

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.lifelong_stats.load_state_dict(state["lifelong_stats"])


# ----------------------------------------------------------------------------- presets
def e3b_x_rnd(obs_shape: Sequence[int], n_actions: int, seed: int = 0, normalize: bool = True,
              e3b_kwargs: Mapping[str, Any] | None = None, rnd_kwargs: Mapping[str, Any] | None = None) -> Product:
    """E3B (episodic) x RND (global): :math:`b = b^{E3B} \\cdot \\lVert \\hat f(s') - f(s') \\rVert^2` (Henaff et al. 2023).

    Example:
        >>> p = e3b_x_rnd(obs_shape=(4,), n_actions=2)
        >>> sorted(p.members)
        ['e3b', 'rnd']
    """
    from .e3b import E3B
    from .rnd import RND

    e3b = E3B(obs_shape=obs_shape, n_actions=n_actions, seed=seed, **dict(e3b_kwargs or {}))
    rnd = RND(obs_shape=obs_shape, seed=seed + 1, **{"reward_norm": False, **dict(rnd_kwargs or {})})
    return Product([e3b, rnd], normalize=normalize, name="e3b_x_rnd")


def e3b_x_noveld(obs_shape: Sequence[int], n_actions: int, alpha: float = 0.1, seed: int = 0,
                 normalize: bool = True, e3b_kwargs: Mapping[str, Any] | None = None,
                 rnd_kwargs: Mapping[str, Any] | None = None) -> Product:
    """E3B x NovelD difference (Henaff et al. 2023): :math:`b^{E3B}\\cdot\\max(N(s') - \\alpha N(s), 0)`,
    :math:`\\alpha = 0.1`.

    Example:
        >>> e3b_x_noveld(obs_shape=(4,), n_actions=2).members["noveld"].alpha
        0.1
    """
    from .e3b import E3B
    from .noveld import NovelD

    e3b = E3B(obs_shape=obs_shape, n_actions=n_actions, seed=seed, **dict(e3b_kwargs or {}))
    nov = NovelD(obs_shape=obs_shape, alpha=alpha, first_visit=False, seed=seed + 1, **dict(rnd_kwargs or {}))
    return Product([e3b, nov], normalize=normalize, name="e3b_x_noveld")


def count_x_count(key_fn: str | Callable[[Any], Any] = "obs_hash", **kwargs: Any) -> IntrinsicBonus:
    """First visit in the episode x global count: :math:`\\mathbb{1}[N_{ep}=1]/\\sqrt{N}` (Henaff et al. 2023).

    Example:
        >>> count_x_count("explicit").mode
        'product'
    """
    from .counts import CountBonus

    return CountBonus(mode="product", key_fn=key_fn, **kwargs)


def ngu(obs_shape: Sequence[int], n_actions: int, max_multiplier: float = 5.0, seed: int = 0,
        knn_kwargs: Mapping[str, Any] | None = None, rnd_kwargs: Mapping[str, Any] | None = None) -> NGUMultiplier:
    """NGU's intrinsic reward: episodic kNN novelty x clipped RND multiplier (Badia et al. 2020).

    Example:
        >>> ngu(obs_shape=(4,), n_actions=2).max_multiplier
        5.0
    """
    from .ngu import EpisodicKNN
    from .rnd import RND

    knn = EpisodicKNN(obs_shape=obs_shape, n_actions=n_actions, seed=seed, **dict(knn_kwargs or {}))
    rnd = RND(obs_shape=obs_shape, seed=seed + 1, **{"reward_norm": False, **dict(rnd_kwargs or {})})
    return NGUMultiplier(knn, rnd, max_multiplier=max_multiplier)


#: alias of :func:`ngu` (exported as ``rewardkit.explore.ngu_preset``; ``rewardkit.explore.ngu`` is the kNN module)
ngu_preset = ngu


@register_term("global_x_episodic_bonus", batch_kind="transition", example={"preset": "count_x_count"})
def global_x_episodic_bonus(preset: str, obs_shape: Sequence[int] | None = None, n_actions: int | None = None,
                            key: str = "obs_hash", coef: float = 1.0, seed: int = 0,
                            name: str = "global_x_episodic") -> BonusTerm:
    """A global x episodic preset as a reward term: ``preset`` = e3b_x_rnd | e3b_x_noveld | count_x_count | ngu.

    Example:
        >>> global_x_episodic_bonus("count_x_count", key="explicit").bonus.mode
        'product'
    """
    if preset == "count_x_count":
        bonus: IntrinsicBonus = count_x_count(key)
    elif preset in ("e3b_x_rnd", "e3b_x_noveld", "ngu"):
        if obs_shape is None or n_actions is None:
            raise ConfigError("params.obs_shape", "missing", f"obs_shape and n_actions for preset {preset!r}")
        bonus = {"e3b_x_rnd": e3b_x_rnd, "e3b_x_noveld": e3b_x_noveld, "ngu": ngu}[preset](
            obs_shape=obs_shape, n_actions=n_actions, seed=seed)
    else:
        raise ConfigError("params.preset", f"got {preset!r}", "one of e3b_x_rnd, e3b_x_noveld, count_x_count, ngu")
    return BonusTerm(bonus, coef=float(coef), name=name)
