"""Learned rewards as reward terms: ``reward_model``, ``gail_reward``, ``airl_reward``.

* :class:`RewardModelTerm` scores a batch with a learned reward model (an
  :class:`~rewardkit.learn.models.MLPReward` or a
  :class:`~rewardkit.learn.ensemble.RewardEnsemble`).  Transitions are featurised as
  ``[obs, action]`` (or ``obs`` / ``next_obs`` / ``[obs, action, next_obs]``), integer
  actions one-hot when ``n_actions`` is given; LLM samples need a featuriser
  ``fn(batch) -> (n, d)`` (e.g. a sentence embedding of prompt + completion).  For an
  ensemble the term returns :math:`\\bar r + \\alpha\\,s` (``alpha < 0`` = pessimistic;
  Coste et al. 2024, "Reward model ensembles help mitigate overoptimization", ICLR).
* :class:`AdversarialRewardTerm` turns a trained GAIL/AIRL discriminator into a
  transition reward (Ho & Ermon 2016; Fu, Luo & Levine 2018; see
  :mod:`rewardkit.learn.adversarial` for the equations).

Both load from ``.npz`` files in YAML configs::

    terms:
      - type: reward_model
        params: {path: rm.npz, features: obs_action, n_actions: 4, alpha: -1.0}
      - type: airl_reward
        params: {path: airl.npz, use: test, n_actions: 4}
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from ..core.batch import SampleBatch, TransitionBatch
from ..core.errors import BatchError, ConfigError
from ..core.registry import register_term
from ..core.term import RewardTerm
from .adversarial import AdversarialReward, transition_features
from .ensemble import RewardEnsemble
from .models import load_reward_model

__all__ = ["AdversarialRewardTerm", "RewardModelTerm", "resolve_callable"]

FEATURE_MODES = ("obs_action", "obs", "next_obs", "obs_action_next_obs")


def resolve_callable(spec: Any, field: str) -> Callable[..., Any]:
    """A callable, or a ``"package.module:function"`` string imported on demand."""
    if callable(spec):
        return spec
    if isinstance(spec, str) and ":" in spec:
        mod, _, attr = spec.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError(field, f"cannot import {spec!r} ({e})", "'package.module:function'") from None
        if callable(fn):
            return fn
    raise ConfigError(field, f"got {spec!r}", f"one of {FEATURE_MODES}, a callable, or 'package.module:function'")


def _obs2d(x: Any, field: str) -> np.ndarray:
    if isinstance(x, dict):
        raise BatchError(field, "is a dict observation", "an array observation, or pass a featuriser callable")
    a = np.asarray(x, dtype=np.float64)
    return a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(-1, 1)


def featurize_transitions(batch: TransitionBatch, mode: str, n_actions: int | None = None) -> np.ndarray:
    """Feature matrix ``(n, d)`` of a transition batch for ``mode`` in :data:`FEATURE_MODES`."""
    obs = _obs2d(batch.obs, "obs")
    if mode == "obs":
        return obs
    if mode == "next_obs":
        return _obs2d(batch.next_obs, "next_obs")
    sa = transition_features(obs, batch.action, n_actions)
    if mode == "obs_action":
        return sa
    if mode == "obs_action_next_obs":
        return np.concatenate([sa, _obs2d(batch.next_obs, "next_obs")], axis=1)
    raise ConfigError("features", f"got {mode!r}", f"one of {FEATURE_MODES} or a callable")


@register_term("reward_model", batch_kind="any")
class RewardModelTerm(RewardTerm):
    """A learned reward model as a reward term (transitions or LLM samples).

    Args:
        model: an ``MLPReward``/``RewardEnsemble`` (or any ``fn(features) -> (n,)``), or
            ``path`` to a ``.npz`` written by ``.save()``.
        features: a mode in :data:`FEATURE_MODES` (transitions) or ``fn(batch) -> (n, d)``
            (required for a :class:`~rewardkit.core.SampleBatch`), or ``"module:function"``.
        n_actions: one-hot encode integer actions to this many columns.
        alpha: for ensembles, the term is ``mean + alpha * std``.

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch, SampleBatch
        >>> from rewardkit.learn import MLPReward
        >>> term = RewardModelTerm(MLPReward.linear([1.0, 0.0, 2.0]), n_actions=2)
        >>> b = TransitionBatch.from_arrays(obs=[[1.0], [3.0]], action=[1, 0], next_obs=[[0.0], [0.0]], reward=[0, 0])
        >>> term(b).tolist()     # obs + 2 * [action == 1]
        [3.0, 3.0]
        >>> text = RewardModelTerm(MLPReward.linear([1.0]), features=lambda b: [[len(c)] for c in b.completion_texts()])
        >>> text(SampleBatch(["q", "q"], ["ab", "abcd"])).tolist()
        [2.0, 4.0]
    """

    batch_kind = "any"

    def __init__(self, model: Any = None, features: Any = "obs_action", n_actions: int | None = None,
                 alpha: float = 0.0, path: str | None = None, name: str = "reward_model"):
        super().__init__(name)
        if model is None:
            if path is None:
                raise ConfigError("params.path", "missing", "a .npz reward model (or pass model=...)")
            model = load_reward_model(Path(path))
        if not callable(model):
            raise ConfigError("model", f"got {type(model).__name__}", "a callable reward model")
        self.model = model
        self.features = features if features in FEATURE_MODES else resolve_callable(features, "params.features")
        self.n_actions = None if n_actions is None else int(n_actions)
        self.alpha = float(alpha)

    def featurize(self, batch: Any) -> np.ndarray:
        if callable(self.features):
            x = np.asarray(self.features(batch), dtype=np.float64)
        elif isinstance(batch, SampleBatch):
            raise BatchError(f"term '{self.name}'", "got a SampleBatch without a featuriser",
                             "features=fn(batch) -> (n, d) for LLM samples")
        else:
            x = featurize_transitions(batch, self.features, self.n_actions)
        if x.ndim != 2 or x.shape[0] != len(batch):
            raise BatchError(f"term '{self.name}' features", f"have shape {x.shape}", f"({len(batch)}, d)")
        return x

    def compute(self, batch: Any) -> np.ndarray:
        x = self.featurize(batch)
        if isinstance(self.model, RewardEnsemble) and self.alpha != 0.0:
            return self.model.lower_confidence(x, -self.alpha)
        return np.asarray(self.model(x), dtype=np.float64)


class AdversarialRewardTerm(RewardTerm):
    """A GAIL/AIRL discriminator reward on transitions.

    ``use="train"`` gives GAIL's :math:`-\\log(1-D)` or AIRL's :math:`f - \\log\\pi` (``log_pi``
    read from ``info["log_pi"]`` when present, else 0); ``use="test"`` gives AIRL's
    disentangled :math:`g`.  Episode ends use ``batch.terminated`` (truncation keeps
    the next-state potential).

    Example:
        >>> import numpy as np
        >>> from rewardkit.core import TransitionBatch
        >>> from rewardkit.learn import MLPReward
        >>> from rewardkit.learn.adversarial import AdversarialReward
        >>> airl = AdversarialReward("airl", 0.9, g=MLPReward.linear([1.0]), h=MLPReward.linear([1.0]))
        >>> b = TransitionBatch.from_arrays([[1.0], [1.0]], [0, 0], [[2.0], [2.0]], [0, 0], terminated=[False, True])
        >>> AdversarialRewardTerm(airl)(b).round(6).tolist()       # 1 + 0.9*2 - 1, and 1 - 1 at the end
        [1.8, 0.0]
    """

    batch_kind = "transition"

    def __init__(self, model: AdversarialReward | None = None, use: str = "train", n_actions: int | None = None,
                 path: str | None = None, name: str | None = None):
        if model is None:
            if path is None:
                raise ConfigError("params.path", "missing", "a .npz discriminator (or pass model=...)")
            model = AdversarialReward.load(path)
        if use not in ("train", "test"):
            raise ConfigError("params.use", f"got {use!r}", "'train' or 'test'")
        super().__init__(name or f"{model.kind}_reward")
        self.model = model
        self.use = use
        self.n_actions = None if n_actions is None else int(n_actions)

    def compute(self, batch: TransitionBatch) -> np.ndarray:
        s = _obs2d(batch.obs, "obs")
        act = transition_features(s, batch.action, self.n_actions)[:, s.shape[1]:]
        if self.model.kind == "gail":
            return self.model.reward(s, act)
        s2 = _obs2d(batch.next_obs, "next_obs")
        try:
            log_pi = np.array([float(i.get("log_pi", 0.0)) for i in batch.info])
        except (TypeError, ValueError):
            raise BatchError("info.log_pi", "is not a number in every transition",
                             "a float log pi(a|s) per transition (or no 'log_pi' key)") from None
        return self.model.reward(s, act, s2, batch.terminated, log_pi, use=self.use)


@register_term("gail_reward", batch_kind="transition")
def gail_reward(path: str, n_actions: int | None = None, name: str = "gail_reward") -> AdversarialRewardTerm:
    """GAIL reward :math:`-\\log(1 - D(s,a))` from a saved discriminator."""
    term = AdversarialRewardTerm(path=path, n_actions=n_actions, name=name)
    if term.model.kind != "gail":
        raise ConfigError("params.path", f"holds an {term.model.kind.upper()} model", "a GAIL discriminator")
    return term


@register_term("airl_reward", batch_kind="transition")
def airl_reward(path: str, use: str = "train", n_actions: int | None = None,
                name: str = "airl_reward") -> AdversarialRewardTerm:
    """AIRL reward :math:`f - \\log\\pi` (``use="train"``) or :math:`g` (``use="test"``) from a saved model."""
    term = AdversarialRewardTerm(path=path, use=use, n_actions=n_actions, name=name)
    if term.model.kind != "airl":
        raise ConfigError("params.path", f"holds a {term.model.kind.upper()} model", "an AIRL discriminator")
    return term
