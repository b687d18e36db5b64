"""Random Network Distillation (RND).

Burda, Edwards, Storkey & Klimov (2019), "Exploration by Random Network
Distillation", ICLR.  A predictor :math:`\\hat f_\\theta` is trained to match a fixed,
randomly initialised target :math:`f` on visited states; its error is the bonus:

.. math:: b_t = \\lVert \\hat f_\\theta(\\bar s_{t+1}) - f(\\bar s_{t+1}) \\rVert_2^2 / k

with :math:`\\bar s = \\mathrm{clip}((s-\\mu_s)/\\sigma_s, -5, 5)` (observation
normalisation, warmed up from data with :meth:`RND.warmup` – never by stepping the
user's env) and :math:`k` the output size.  Rewards are divided by the running std
of the **non-episodic** intrinsic return :math:`R_t = \\gamma_{int} R_{t-1} + b_t`,
accumulated along time per env (``reward_norm=True``; see
:class:`~rewardkit.explore.nets.IntrinsicReturnScaler`).  Each sample enters the
predictor loss with probability ``update_proportion`` (0.25 in the paper's
large-batch setting; 1.0 here by default for small CPU batches).

The intrinsic stream is non-episodic: the bonus does not reset with episodes, and
the paper's agent uses a separate value head with :math:`\\gamma_{int}=0.99` that
ignores ``terminated`` for it – see ``rewardkit.explore.ppo`` for a two-head PPO.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    import torch
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "learn") from None

from ..core.registry import register_term
from .base import BonusTerm
from ..core.seeding import seeded
from .nets import ReturnScaledBonus, freeze, make_encoder, masked_mean

__all__ = ["RND", "rnd_bonus"]


class RND(ReturnScaledBonus):
    """Random Network Distillation bonus (see module docs).

    Args:
        obs_shape / observation_space: observation shape (images ``(C,H,W)`` or ``(H,W,C)``).
        latent_dim, hidden: network sizes (target and predictor share the architecture).
        lr, batch_size, update_epochs, update_proportion: predictor training.
        obs_norm: whiten observations (default True, as in the paper).
        reward_norm: divide by the running std of the intrinsic return (default True).
        gamma_int: discount of that return (0.99).

    Example:
        >>> import numpy as np, torch
        >>> rnd = RND(obs_shape=(4,), seed=0, reward_norm=False)
        >>> s = np.ones((8, 4), dtype=np.float32); rnd.warmup(np.random.default_rng(0).normal(size=(64, 4)))
        >>> before = rnd.raw_bonus(s[:1])[0]
        >>> for _ in range(30): _ = rnd.update({"obs": s, "next_obs": s})
        >>> bool(rnd.raw_bonus(s[:1])[0] < before / 10)
        True
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 latent_dim: int = 64, hidden: int = 128, lr: float = 1e-3, batch_size: int = 256,
                 update_epochs: int = 1, update_proportion: float = 1.0, obs_norm: bool = True,
                 reward_norm: bool = True, gamma_int: float = 0.99, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, lr=lr, batch_size=batch_size,
                         update_epochs=update_epochs, update_proportion=update_proportion,
                         obs_norm=obs_norm, num_envs=num_envs, seed=seed, name=name or "rnd")
        self._init_return_scaling(reward_norm, gamma_int)
        with seeded(self.seed):
            self.target = make_encoder(self.obs_shape, latent_dim, hidden)
            self.predictor = make_encoder(self.obs_shape, latent_dim, hidden)
        freeze(self.target)
        self.set_trainable(self.predictor.parameters())

    def prediction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Per-row squared error of the predictor on (normalised) inputs ``x``."""
        return (self.predictor(x) - self.target(x)).pow(2).mean(dim=1)

    def _score(self, obs: torch.Tensor | None, next_obs: torch.Tensor, actions: Any) -> np.ndarray:
        return self.prediction_error(next_obs).numpy().astype(np.float64)

    def raw_bonus(self, obs: Any) -> np.ndarray:
        """Unscaled prediction error of a batch of observations (no state change)."""
        with torch.no_grad():
            return self.prediction_error(self._obs_tensor(obs)).numpy().astype(np.float64)

    def _loss(self, obs, next_obs, actions, mask):
        err = self.prediction_error(next_obs)
        loss = masked_mean(err, mask)
        return loss, {"rnd_loss": float(loss.detach())}


@register_term("rnd_bonus", batch_kind="transition", example={"obs_shape": [4]})
def rnd_bonus(obs_shape: Sequence[int], coef: float = 1.0, latent_dim: int = 64, hidden: int = 128,
              obs_norm: bool = True, reward_norm: bool = True, seed: int = 0, name: str = "rnd") -> BonusTerm:
    """Random Network Distillation bonus (Burda et al. 2019) as a reward term.

    Note: the predictor is trained by ``term.bonus.update(batch)`` (the integration
    wrappers do this per rollout).

    Example:
        >>> term = rnd_bonus(obs_shape=[3], coef=0.5)
        >>> term.bonus.obs_shape
        (3,)
    """
    return BonusTerm(RND(obs_shape=obs_shape, latent_dim=latent_dim, hidden=hidden, obs_norm=obs_norm,
                         reward_norm=reward_norm, seed=seed, name=name), coef=float(coef), name=name)
