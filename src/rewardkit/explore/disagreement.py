"""Exploration by ensemble disagreement.

Pathak, Gandhi & Gupta (2019), "Self-Supervised Exploration via Disagreement",
ICML.  An ensemble of :math:`K` forward models :math:`f_1 … f_K` predicts the next
state's features :math:`\\phi(s_{t+1})` from :math:`(\\phi(s_t), a_t)`; the bonus is
their disagreement (variance across the ensemble, averaged over feature dims):

.. math:: b_t = \\frac{1}{k}\\sum_{j=1}^{k} \\operatorname{Var}_{i}\\big[f_i(\\phi(s_t), a_t)_j\\big]

The features are a frozen random encoder (one of the paper's settings).  Each
model sees its own random half of every minibatch (bootstrap-style), so the models
stay diverse where data is scarce and agree where it is plentiful – stochastic
transitions do not keep the bonus high, unlike a prediction error.
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

from ..core.seeding import seeded
from .nets import LearnedBonus, action_info, freeze, make_encoder, masked_mean, mlp, one_hot_actions

__all__ = ["Disagreement"]


class Disagreement(LearnedBonus):
    """Ensemble-disagreement bonus (see module docs).

    Args:
        ensemble_size: number of forward models :math:`K` (4).
        latent_dim, hidden: sizes; other args as in :class:`~rewardkit.explore.icm.ICM`.

    Example:
        >>> d = Disagreement(obs_shape=(3,), n_actions=2, seed=0)
        >>> o = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
        >>> a = np.zeros(64, int); b0 = d.observe(o[:4], a[:4], o[:4], [False]*4, [False]*4).mean()
        >>> for _ in range(100): _ = d.update({"obs": o, "next_obs": o, "actions": a})
        >>> bool(d.observe(o[:4], a[:4], o[:4], [False]*4, [False]*4).mean() < b0)
        True
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 n_actions: int | None = None, action_dim: int | None = None, action_space: Any = None,
                 ensemble_size: int = 4, latent_dim: int = 32, hidden: int = 64, lr: float = 1e-3,
                 batch_size: int = 256, update_epochs: int = 1, update_proportion: float = 1.0,
                 obs_norm: bool = False, num_envs: int | None = None, seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, lr=lr, batch_size=batch_size,
                         update_epochs=update_epochs, update_proportion=update_proportion,
                         obs_norm=obs_norm, num_envs=num_envs, seed=seed, name=name or "disagreement")
        self.discrete, self.action_size = action_info(n_actions, action_dim, action_space)
        with seeded(self.seed):
            self.features = make_encoder(self.obs_shape, latent_dim, hidden)
            self.models = torch.nn.ModuleList(mlp(latent_dim + self.action_size, latent_dim, hidden)
                                              for _ in range(int(ensemble_size)))
        freeze(self.features)
        self.set_trainable(self.models.parameters())

    def _predict(self, obs: torch.Tensor, actions: Any) -> tuple[torch.Tensor, torch.Tensor]:
        a = one_hot_actions(actions, self.discrete, self.action_size)
        x = torch.cat([self.features(obs), a], dim=1)
        return torch.stack([m(x) for m in self.models]), x

    def _score(self, obs, next_obs, actions) -> np.ndarray:
        preds, _ = self._predict(obs, actions)
        return preds.var(dim=0, unbiased=False).mean(dim=1).numpy().astype(np.float64)

    def _loss(self, obs, next_obs, actions, mask):
        preds, _ = self._predict(obs, actions)
        target = self.features(next_obs)
        err = (preds - target.unsqueeze(0)).pow(2).mean(dim=2)  # (K, B)
        boot = (torch.rand(err.shape, generator=self.torch_gen) < 0.5).float() * mask.unsqueeze(0)
        boot[:, 0] = mask[0]  # never an all-empty model
        loss = sum(masked_mean(err[i], boot[i]) for i in range(err.shape[0]))
        return loss, {"disagreement_loss": float(loss.detach()) / err.shape[0]}
