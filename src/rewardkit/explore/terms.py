"""One config entry point for every exploration bonus: the ``exploration_bonus`` term type.

YAML::

    reward:
      terms:
        - {type: env_reward, name: task}
        - type: exploration_bonus
          name: explore
          params:
            method: e3b                       # see METHODS
            coef: {schedule: linear, start: 0.01, end: 0.0, steps: 1000000}
            options: {obs_shape: [7, 7, 3], n_actions: 7, latent_dim: 32}

``coef`` (default 1) is a number or a schedule mapping (``schedule``: constant | linear |
exponential | cosine | piecewise, with that function's arguments; see :mod:`rewardkit.core.schedules`).
``options`` are the keyword arguments of the method's class.  Learned bonuses are
trained by calling ``term.bonus.update(rollout)`` (the integration wrappers do it).
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any
from collections.abc import Mapping

from ..core.errors import ConfigError
from ..core.registry import register_term
from .base import BonusTerm
from ..core import schedules

__all__ = ["METHODS", "exploration_bonus", "make_bonus", "make_coef"]

#: method name -> (module, class)
METHODS: dict[str, tuple[str, str]] = {
    "count": ("counts", "CountBonus"),
    "simhash": ("simhash", "SimHashBonus"),
    "rnd": ("rnd", "RND"),
    "rdd": ("rdd", "RDD"),
    "icm": ("icm", "ICM"),
    "disagreement": ("disagreement", "Disagreement"),
    "e3b": ("e3b", "E3B"),
    "ride": ("ride", "RIDE"),
    "noveld": ("noveld", "NovelD"),
    "re3": ("re3", "RE3"),
    "episodic_knn": ("ngu", "EpisodicKNN"),
    "novelty_search": ("novelty_search", "NoveltySearchBonus"),
}


def make_bonus(method: str, options: Mapping[str, Any] | None = None, field: str = "params") -> Any:
    """Build a bonus by method name; unknown names/options raise a one-line :class:`ConfigError`.

    Example:
        >>> make_bonus("count", {"mode": "global", "key_fn": "explicit"}).mode
        'global'
    """
    if method not in METHODS:
        raise ConfigError(f"{field}.method", f"got {method!r}", f"one of {sorted(METHODS)}")
    mod, cls_name = METHODS[method]
    cls = getattr(importlib.import_module(f"rewardkit.explore.{mod}"), cls_name)
    opts = dict(options or {})
    sig = inspect.signature(cls.__init__)
    accepts_kwargs = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [k for k in opts if k not in sig.parameters or k == "self"]
    if unknown and not accepts_kwargs:
        known = [k for k in sig.parameters if k != "self"]
        raise ConfigError(f"{field}.options.{unknown[0]}", f"is not an option of {method}", f"one of {known}")
    try:
        return cls(**opts)
    except ConfigError as e:
        raise ConfigError(f"{field}.options.{e.field}", e.problem, e.expected) from None
    except TypeError as e:
        raise ConfigError(f"{field}.options", " ".join(str(e).split()), f"the arguments of {cls_name}") from None


def make_coef(coef: Any, field: str = "params.coef") -> Any:
    """A float, or a schedule built from ``{schedule: <kind>, ...}`` (see :mod:`rewardkit.core.schedules`).

    Example:
        >>> make_coef({"schedule": "linear", "start": 1.0, "end": 0.0, "steps": 10})(5)
        0.5
    """
    if isinstance(coef, Mapping):
        return schedules.from_config(coef, field)
    try:
        return float(coef)
    except (TypeError, ValueError):
        raise ConfigError(field, f"got {coef!r}", "a number or a schedule mapping") from None


@register_term("exploration_bonus", batch_kind="transition", example={"method": "count"})
def exploration_bonus(method: str, coef: Any = None, options: Mapping[str, Any] | None = None,
                      name: str = "exploration_bonus") -> BonusTerm:
    """Any rewardkit.explore bonus by ``method`` (count, simhash, rnd, rdd, icm, disagreement, e3b, ride, noveld, re3,
    episodic_knn, novelty_search).

    Example:
        >>> from rewardkit.core import build_reward
        >>> r = build_reward({"terms": [{"type": "exploration_bonus", "name": "x",
        ...     "params": {"method": "e3b", "options": {"obs_shape": [4], "n_actions": 2}}}]})
        >>> type(r.terms["x"].bonus).__name__
        'E3B'
    """
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError("params.options", f"is a {type(options).__name__}", "a mapping of keyword arguments")
    return BonusTerm(make_bonus(method, options), coef=make_coef(1.0 if coef is None else coef), name=name)
