"""Intrinsic Curiosity Module (ICM).

Pathak, Agrawal, Efros & Darrell (2017), "Curiosity-driven Exploration by
Self-supervised Prediction", ICML.  Features :math:`\\phi` are learned with an
*inverse-dynamics* model :math:`\\hat a = g(\\phi(s_t), \\phi(s_{t+1}))`; a forward model
predicts the next features, and its error is the bonus:

.. math:: b_t = \\tfrac{\\eta}{2}\\, \\lVert f(\\phi(s_t), a_t) - \\phi(s_{t+1}) \\rVert_2^2 / k

trained with :math:`(1-\\beta) L_I + \\beta L_F`, :math:`\\beta = 0.2` (cross-entropy
:math:`L_I` for discrete actions, MSE for continuous ones; the forward target
:math:`\\phi(s_{t+1})` is detached).  Because features only encode what the agent
can influence, ICM ignores uncontrollable noise better than raw-pixel prediction
(but is still attracted by a "noisy TV" the agent controls).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
from rewardkit.core.extras import missing_extra

try:
    import torch
    from torch import nn
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "learn") from None

from ..core.errors import ConfigError
from ..core.seeding import seeded
from .nets import LearnedBonus, action_info, freeze, make_encoder, masked_mean, mlp, one_hot_actions

__all__ = ["ICM", "InverseDynamicsEncoder", "InverseDynamicsFeatureBonus"]


class InverseDynamicsEncoder(nn.Module):
    """An encoder :math:`\\phi` with an inverse-dynamics head ``g(φ(s), φ(s')) -> a``.

    Shared by ICM, E3B and RIDE.  ``inverse_loss`` is cross-entropy (discrete) or MSE.

    Example:
        >>> enc = InverseDynamicsEncoder((5,), discrete=True, action_size=3, latent_dim=8)
        >>> x, a = torch.zeros(4, 5), torch.zeros(4, 3).index_fill_(1, torch.tensor([0]), 1.0)
        >>> float(enc.inverse_loss(x, x, a).mean().detach()) > 0
        True
    """

    def __init__(self, obs_shape: Sequence[int], discrete: bool, action_size: int,
                 latent_dim: int = 64, hidden: int = 128):
        super().__init__()
        self.discrete = discrete
        self.encoder = make_encoder(obs_shape, latent_dim, hidden)
        self.inverse = mlp(2 * latent_dim, action_size, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def inverse_loss(self, obs: torch.Tensor, next_obs: torch.Tensor, a_feat: torch.Tensor,
                     phi: torch.Tensor | None = None, phi_next: torch.Tensor | None = None) -> torch.Tensor:
        """Per-row inverse-dynamics loss."""
        if phi is None or phi_next is None:  # one encoder pass over both halves
            both = self.encoder(torch.cat([obs, next_obs], dim=0))
            phi, phi_next = both[: obs.shape[0]], both[obs.shape[0]:]
        pred = self.inverse(torch.cat([phi, phi_next], dim=1))
        if self.discrete:
            return nn.functional.cross_entropy(pred, a_feat.argmax(dim=1), reduction="none")
        return (pred - a_feat).pow(2).mean(dim=1)


class InverseDynamicsFeatureBonus(LearnedBonus):
    """Base of the episodic bonuses on inverse-dynamics features :math:`\\phi` (E3B, NGU's kNN).

    :meth:`_build_features` makes ``self.idm``; ``encoder="idm"`` trains it with the
    inverse-dynamics loss in :meth:`update` (Pathak et al. 2017), ``"random"`` freezes it
    (the papers' random-feature ablation) and :meth:`update` is a no-op.
    """

    #: key of the training loss in :meth:`update`'s logs
    inverse_loss_key = "inverse_loss"

    def _build_features(self, n_actions: int | None, action_dim: int | None, action_space: Any,
                        encoder: str, latent_dim: int, hidden: int) -> None:
        if encoder not in ("idm", "random"):
            raise ConfigError("encoder", f"got {encoder!r}", "'idm' or 'random'")
        self.discrete, self.action_size = action_info(n_actions, action_dim, action_space) \
            if encoder == "idm" else (True, int(n_actions or 1))
        self.encoder_kind = encoder
        with seeded(self.seed):
            self.idm = InverseDynamicsEncoder(self.obs_shape, self.discrete, self.action_size, latent_dim, hidden)
        if encoder == "random":
            freeze(self.idm)
            self.learned = False
        self.set_trainable(p for p in self.idm.parameters() if p.requires_grad)

    def features(self, obs: Any) -> np.ndarray:
        """:math:`\\phi(s)` of a batch of observations, float32 ``(m, d)`` (no gradient)."""
        with torch.no_grad():
            return self.idm(self._obs_tensor(obs)).numpy()

    def _loss(self, obs, next_obs, actions, mask):
        a = one_hot_actions(actions, self.discrete, self.action_size)
        loss = masked_mean(self.idm.inverse_loss(obs, next_obs, a), mask)
        return loss, {self.inverse_loss_key: float(loss.detach())}

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        """Train the inverse-dynamics encoder (no-op with ``encoder="random"``)."""
        if self.encoder_kind == "random":
            return {}
        return super().update(batch)


class ICM(LearnedBonus):
    """Intrinsic Curiosity Module bonus (see module docs).

    Args:
        obs_shape / observation_space; n_actions / action_dim / action_space.
        latent_dim, hidden: sizes; beta: forward-loss weight (0.2); eta: bonus scale.
        lr, batch_size, update_epochs, update_proportion, obs_norm (default off).

    Example:
        >>> icm = ICM(obs_shape=(3,), n_actions=2, seed=0)
        >>> o = np.zeros((4, 3), dtype=np.float32)
        >>> icm.observe(o, np.zeros(4, int), o + 1, [False] * 4, [False] * 4).shape
        (4,)
    """

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 n_actions: int | None = None, action_dim: int | None = None, action_space: Any = None,
                 latent_dim: int = 64, hidden: int = 128, beta: float = 0.2, eta: float = 1.0,
                 lr: float = 1e-3, batch_size: int = 256, update_epochs: int = 1,
                 update_proportion: float = 1.0, obs_norm: bool = False, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(obs_shape, observation_space, lr=lr, batch_size=batch_size,
                         update_epochs=update_epochs, update_proportion=update_proportion,
                         obs_norm=obs_norm, num_envs=num_envs, seed=seed, name=name or "icm")
        self.discrete, self.action_size = action_info(n_actions, action_dim, action_space)
        self.beta, self.eta = float(beta), float(eta)
        with seeded(self.seed):
            self.idm = InverseDynamicsEncoder(self.obs_shape, self.discrete, self.action_size, latent_dim, hidden)
            self.forward_model = mlp(latent_dim + self.action_size, latent_dim, hidden)
        self.set_trainable(list(self.idm.parameters()) + list(self.forward_model.parameters()))

    def _forward_error(self, phi: torch.Tensor, phi_next: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        pred = self.forward_model(torch.cat([phi, a], dim=1))
        return 0.5 * (pred - phi_next).pow(2).mean(dim=1)

    def _score(self, obs, next_obs, actions) -> np.ndarray:
        a = one_hot_actions(actions, self.discrete, self.action_size)
        both = self.idm(torch.cat([obs, next_obs], dim=0))
        phi, phi_next = both[: obs.shape[0]], both[obs.shape[0]:]
        return self.eta * self._forward_error(phi, phi_next, a).numpy().astype(np.float64)

    def _loss(self, obs, next_obs, actions, mask):
        a = one_hot_actions(actions, self.discrete, self.action_size)
        both = self.idm(torch.cat([obs, next_obs], dim=0))
        phi, phi_next = both[: obs.shape[0]], both[obs.shape[0]:]
        inv = masked_mean(self.idm.inverse_loss(obs, next_obs, a, phi, phi_next), mask)
        fwd = masked_mean(self._forward_error(phi, phi_next.detach(), a), mask)
        loss = (1 - self.beta) * inv + self.beta * fwd
        return loss, {"icm_inverse_loss": float(inv.detach()), "icm_forward_loss": float(fwd.detach())}
