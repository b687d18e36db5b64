"""Random Distribution Distillation (RDD) and Distributional RND (DRND).

RND (Burda et al. 2019) distils one fixed random target; its error decays with
training but carries no count semantics.  Two close variants make the decay
count-like by distilling a *distribution* of targets:

* **DRND** – Yang, Tao, Lyu & Li (2024), "Exploration and Anti-Exploration with
  Distributional Random Network Distillation", ICML.  :math:`N` frozen random targets
  :math:`c_1 … c_N`; the predictor regresses a uniformly drawn :math:`c_i(x)` per
  sample, so it tends to the mean :math:`\\mu(x)` at the rate of an empirical mean.
  With :math:`B_2(x) = \\tfrac1N\\sum_i c_i(x)^2`:

  .. math::
      b_1 = \\lVert f(x) - \\mu(x) \\rVert^2, \\quad
      b_2 = \\sqrt{\\frac{f(x)^2 - \\mu(x)^2}{B_2(x) - \\mu(x)^2}}, \\quad
      b = \\alpha b_1 + (1-\\alpha) b_2

  where :math:`(f^2-\\mu^2)/(B_2-\\mu^2)` estimates :math:`1/n(x)` (a pseudo-count).
* **RDD** – Fang, Yang, Tao, Lyu, Li, Shen & Li (2025), "Exploration by Random
  Distribution Distillation", arXiv:2505.11044.  The target's output for a state is a
  sample from :math:`\\mathcal N(c(x), \\sigma^2)`; the predictor-target gap is
  bounded by a pseudo-count term (decaying like :math:`1/\\sqrt n`) plus a
  discrepancy term (predictor convergence).  Here (``num_targets=1``):
  :math:`b_1 = \\lVert f - c \\rVert^2` and :math:`b_2 = \\sqrt{(f-c)^2/\\sigma^2}`
  (per dimension, averaged), since an empirical mean of :math:`n` noisy targets has
  squared error :math:`\\sigma^2/n`.  Only the paper's abstract was available when
  this was written: the read-out above follows its stated decomposition.

``alpha`` defaults to 0.9 (DRND's online setting, to verify against the paper).
Rewards are optionally scaled by the running std of the non-episodic intrinsic
return, as for RND.
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

from ..core.errors import ConfigError
from ..core.seeding import seeded
from .nets import ReturnScaledBonus, freeze, make_encoder, masked_mean

__all__ = ["RDD"]


class RDD(ReturnScaledBonus):
    """Distributional random distillation bonus (RDD for ``num_targets=1``, DRND for ``> 1``).

    Args:
        num_targets: 1 -> RDD (Gaussian target noise ``target_noise_std``); N > 1 -> DRND.
        target_noise_std: :math:`\\sigma` of RDD's target noise (1.0).
        alpha: weight of the discrepancy term :math:`b_1` (0.9); :math:`1-\\alpha` on :math:`b_2`.
        other args as :class:`~rewardkit.explore.rnd.RND`.

    Example:
        >>> rdd = RDD(obs_shape=(3,), num_targets=4, reward_norm=False, seed=0)
        >>> s = np.ones((16, 3), np.float32); rdd.warmup(np.random.default_rng(0).normal(size=(64, 3)))
        >>> b0 = rdd.raw_bonus(s[:1])[0]
        >>> for _ in range(200): _ = rdd.update({"obs": s, "next_obs": s})
        >>> bool(rdd.raw_bonus(s[:1])[0] < b0 / 2)
        True
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 num_targets: int = 1, target_noise_std: float = 1.0, alpha: float = 0.9,
                 latent_dim: int = 64, hidden: int = 128, lr: float = 1e-3, batch_size: int = 256,
                 update_epochs: int = 1, update_proportion: float = 1.0, obs_norm: bool = True,
                 reward_norm: bool = True, gamma_int: float = 0.99, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, lr=lr, batch_size=batch_size,
                         update_epochs=update_epochs, update_proportion=update_proportion,
                         obs_norm=obs_norm, num_envs=num_envs, seed=seed,
                         name=name or ("rdd" if num_targets == 1 else "drnd"))
        if num_targets < 1:
            raise ConfigError("num_targets", f"got {num_targets!r}", "an int >= 1")
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError("alpha", f"got {alpha!r}", "a number in [0, 1]")
        if num_targets == 1 and target_noise_std <= 0:
            raise ConfigError("target_noise_std", f"got {target_noise_std!r}", "a positive number")
        self._init_return_scaling(reward_norm, gamma_int)
        self.num_targets = int(num_targets)
        self.sigma = float(target_noise_std)
        self.alpha = float(alpha)
        with seeded(self.seed):
            self.targets = torch.nn.ModuleList(make_encoder(self.obs_shape, latent_dim, hidden)
                                               for _ in range(self.num_targets))
            self.predictor = make_encoder(self.obs_shape, latent_dim, hidden)
        freeze(self.targets)
        self.set_trainable(self.predictor.parameters())

    def _moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outs = torch.stack([t(x) for t in self.targets])  # (N, B, k)
        mu = outs.mean(0)
        if self.num_targets == 1:
            return mu, torch.full_like(mu, self.sigma ** 2)
        return mu, (outs.pow(2).mean(0) - mu.pow(2)).clamp_min(1e-8)

    def bonus_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(b1, b2)`` per row: discrepancy and pseudo-count term :math:`\\approx 1/\\sqrt{n}`."""
        f = self.predictor(x)
        mu, var = self._moments(x)
        b1 = (f - mu).pow(2).mean(1)
        if self.num_targets == 1:
            y = (f - mu).pow(2) / var
        else:
            y = (f.pow(2) - mu.pow(2)).clamp_min(0.0) / var
        return b1, y.clamp_min(0.0).sqrt().mean(1)

    def _score(self, obs, next_obs, actions) -> np.ndarray:
        b1, b2 = self.bonus_terms(next_obs)
        return (self.alpha * b1 + (1 - self.alpha) * b2).numpy().astype(np.float64)

    def raw_bonus(self, obs: Any) -> np.ndarray:
        """Unscaled bonus of a batch (no state change)."""
        with torch.no_grad():
            return self._score(None, self._obs_tensor(obs), None)

    def pseudo_count(self, obs: Any) -> np.ndarray:
        """:math:`\\hat n = 1/b_2^2` – the visit count the predictor implies."""
        with torch.no_grad():
            _, b2 = self.bonus_terms(self._obs_tensor(obs))
        return 1.0 / np.maximum(b2.numpy().astype(np.float64) ** 2, 1e-12)

    def _loss(self, obs, next_obs, actions, mask):
        with torch.no_grad():
            if self.num_targets == 1:
                t = self.targets[0](next_obs)
                target = t + self.sigma * torch.randn(t.shape, generator=self.torch_gen)
            else:
                outs = torch.stack([tn(next_obs) for tn in self.targets])
                pick = torch.randint(self.num_targets, (next_obs.shape[0],), generator=self.torch_gen)
                target = outs[pick, torch.arange(next_obs.shape[0])]
        err = (self.predictor(next_obs) - target).pow(2).mean(1)
        loss = masked_mean(err, mask)
        return loss, {"rdd_loss": float(loss.detach())}
