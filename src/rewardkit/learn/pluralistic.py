"""VPL-lite: a latent-conditioned Bradley-Terry reward for users who disagree.

Poddar, Wan, Ivison, Gupta & Jaques (2024, "Personalizing reinforcement learning from
human feedback with variational preference learning", NeurIPS) model each user by a
latent :math:`z`.  An amortised encoder reads a small *context* set of the user's
labelled pairs :math:`C_u = \\{(a_j, b_j, y_j)\\}_{j=1}^K` and outputs a Gaussian
posterior; the decoder is a reward :math:`r_\\theta(x, z)`; training maximises the ELBO

.. math:: \\mathcal{L} = \\mathbb{E}_{q_\\phi(z|C_u)}\\Big[\\sum_{i \\in Q_u}
          \\log \\sigma\\big(\\pm(R_\\theta(a_i, z) - R_\\theta(b_i, z))\\big)\\Big]
          - \\beta\\, \\mathrm{KL}\\big(q_\\phi(z|C_u)\\,\\|\\,\\mathcal{N}(0, I)\\big)

over target pairs :math:`Q_u` of the same user.  Here ("lite"): the encoder is a
mean-pooled MLP over :math:`[\\sum_t a_j, \\sum_t b_j, y_j]` (a Deep-Sets encoder;
VPL concatenates the pairs instead), and the decoder is the low-rank form
:math:`r(x, z) = f(x)^\\top (A z) + g(x)` with MLP features ``f``, ``g`` - a
user-independent reward plus a user-specific direction.  A new user needs no
retraining: encode a few of their labelled pairs and score with the posterior mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded
from .preferences import PreferencePairs

__all__ = ["LatentRewardModel", "fit_vpl", "user_groups_task"]


def _mlp_np(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i < len(layers) - 1:
            x = np.tanh(x)
    return x


@dataclass
class LatentRewardModel:
    """NumPy inference for a trained VPL-lite model (see :func:`fit_vpl`)."""

    encoder: list[tuple[np.ndarray, np.ndarray]]   # [sum a, sum b, y] -> hidden (pooled)
    head: list[tuple[np.ndarray, np.ndarray]]      # pooled -> (mu, logvar)
    features: list[tuple[np.ndarray, np.ndarray]]  # x -> f(x) (k) + g(x) (1)
    A: np.ndarray                                  # (latent, k)
    latent_dim: int

    def encode(self, context: PreferencePairs) -> np.ndarray:
        """Posterior mean :math:`\\mu_\\phi(C_u)` of the latent, shape ``(latent_dim,)``."""
        if len(context) == 0:
            return np.zeros(self.latent_dim)
        inp = np.concatenate([context.a.sum(1), context.b.sum(1), context.label[:, None]], axis=1)
        pooled = np.tanh(_mlp_np(self.encoder, inp)).mean(axis=0)
        return _mlp_np(self.head, pooled)[: self.latent_dim]

    def reward(self, x: Any, z: Any) -> np.ndarray:
        """:math:`r(x, z) = f(x)^\\top A z + g(x)` for features ``(..., d)``."""
        h = _mlp_np(self.features, np.asarray(x, dtype=np.float64))
        return h[..., :-1] @ (np.asarray(z) @ self.A) + h[..., -1]

    def for_user(self, context: PreferencePairs):
        """The reward function ``x -> r(x, mu(C_u))`` of the user described by ``context``."""
        z = self.encode(context)
        return lambda x: self.reward(x, z)


def user_groups_task(n_users: int, pairs_per_user: int, dim: int = 6, shared: float = 0.3, seed: int = 0,
                     w_opposed: Any = None, w_shared: Any = None, first_user: int = 0
                     ) -> tuple[PreferencePairs, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Two user groups whose utilities disagree: :math:`w_g = c\\,w_s + (-1)^g w_o`.

    Users alternate between group 0 and 1; each labels ``pairs_per_user`` random pairs
    noiselessly by its group's linear utility.  Returns ``(pairs, group_of_user,
    true_diff, (w_opposed, w_shared))`` with ``pairs.user`` set.

    Example:
        >>> pairs, group, diff, _ = user_groups_task(4, 3, seed=0)
        >>> len(pairs), group.tolist(), pairs.user.tolist()[:4]
        (12, [0, 1, 0, 1], [0, 0, 0, 1])
    """
    rng = np.random.default_rng(seed)
    wo = rng.normal(size=dim) / np.sqrt(dim) if w_opposed is None else np.asarray(w_opposed, float)
    ws = rng.normal(size=dim) / np.sqrt(dim) if w_shared is None else np.asarray(w_shared, float)
    group = np.arange(n_users) % 2
    a = rng.normal(size=(n_users * pairs_per_user, 1, dim))
    b = rng.normal(size=(n_users * pairs_per_user, 1, dim))
    user = np.repeat(np.arange(n_users), pairs_per_user)
    w_user = shared * ws[None, :] + np.where(group[:, None] == 0, 1.0, -1.0) * wo[None, :]
    diff = ((a[:, 0] - b[:, 0]) * w_user[user]).sum(-1)
    y = (diff > 0).astype(np.float64)
    return PreferencePairs(a, b, y, user=user + first_user), group, diff, (wo, ws)


def fit_vpl(pairs: PreferencePairs, *, latent_dim: int = 4, rank: int = 4, hidden: Sequence[int] = (),
              enc_hidden: int = 32, context_size: int = 8, query_size: int = 8, users_per_batch: int = 16,
              steps: int = 400, lr: float = 1e-2, kl_weight: float = 1e-3, seed: int = 0) -> LatentRewardModel:
    """Train VPL-lite on pairs labelled by many users (``pairs.user`` required).

    Each step samples ``users_per_batch`` users, splits ``context_size`` context and
    ``query_size`` target pairs from each, encodes the context, samples
    :math:`z = \\mu + \\sigma\\epsilon` and minimises the negative ELBO (module docstring).

    Example:
        >>> pairs, group, diff, w = user_groups_task(40, 24, dim=4, seed=0)
        >>> model = fit_vpl(pairs, steps=150, seed=0)
        >>> test, g, tdiff, _ = user_groups_task(2, 40, dim=4, seed=9, w_opposed=w[0], w_shared=w[1])
        >>> from rewardkit.learn.preferences import pair_accuracy
        >>> u0 = test.subset(np.flatnonzero(test.user == 0))
        >>> r0 = model.for_user(u0.subset(range(8)))
        >>> pair_accuracy(r0, u0.a[8:], u0.b[8:], tdiff[test.user == 0][8:]) > 0.85
        True
    """
    import torch
    from torch import nn
    if pairs.user is None:
        raise ConfigError("pairs.user", "missing", "a user id per pair (PreferencePairs(user=...))")
    users, counts = np.unique(pairs.user, return_counts=True)
    need = context_size + query_size
    if np.any(counts < need):
        raise ConfigError("pairs.user", f"some users have fewer than {need} pairs",
                          f">= context_size + query_size = {need} pairs per user")
    torch.set_num_threads(1)
    with seeded(seed, torch=True) as rng:  # local: the caller's global torch RNG is left alone
        d = pairs.dim
        by_user = [np.flatnonzero(pairs.user == u) for u in users]

        def mlp(sizes: list[int]) -> nn.Sequential:
            layers: list[nn.Module] = []
            for i in range(len(sizes) - 1):
                layers.append(nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    layers.append(nn.Tanh())
            return nn.Sequential(*layers).double()

        enc = mlp([2 * d + 1, enc_hidden, enc_hidden])
        head = mlp([enc_hidden, 2 * latent_dim])
        feat = mlp([d, *hidden, rank + 1])
        A = nn.Parameter(torch.randn(latent_dim, rank, dtype=torch.float64) / np.sqrt(latent_dim))
        params = [*enc.parameters(), *head.parameters(), *feat.parameters(), A]
        opt = torch.optim.Adam(params, lr=lr)
        sa = torch.as_tensor(pairs.a.sum(1))
        sb = torch.as_tensor(pairs.b.sum(1))
        ta = torch.as_tensor(pairs.a)
        tb = torch.as_tensor(pairs.b)
        y = torch.as_tensor(pairs.label)
        ub = min(users_per_batch, len(users))
        for _ in range(int(steps)):
            chosen = rng.choice(len(users), size=ub, replace=False)
            ctx, qry = [], []
            for u in chosen:
                perm = rng.permutation(by_user[u])
                ctx.append(perm[:context_size])
                qry.append(perm[context_size:need])
            ci = torch.as_tensor(np.stack(ctx))
            qi = torch.as_tensor(np.stack(qry))
            inp = torch.cat([sa[ci], sb[ci], y[ci].unsqueeze(-1)], dim=-1)          # (U, K, 2d+1)
            pooled = torch.tanh(enc(inp)).mean(1)
            stats = head(pooled)
            mu, logvar = stats[:, :latent_dim], stats[:, latent_dim:].clamp(-8, 8)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            w_user = z @ A                                                           # (U, rank)
            ha, hb = feat(ta[qi]), feat(tb[qi])                                      # (U, Q, T, rank+1)
            ra = (ha[..., :-1] * w_user[:, None, None, :]).sum(-1) + ha[..., -1]
            rb = (hb[..., :-1] * w_user[:, None, None, :]).sum(-1) + hb[..., -1]
            diff = ra.sum(-1) - rb.sum(-1)
            yq = y[qi]
            nll = (yq * nn.functional.softplus(-diff) + (1 - yq) * nn.functional.softplus(diff)).mean()
            kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1).mean()
            loss = nll + kl_weight * kl
            opt.zero_grad()
            loss.backward()
            opt.step()

    def export(seq: nn.Sequential) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
                for m in seq if isinstance(m, nn.Linear)]

    return LatentRewardModel(export(enc), export(head), export(feat), A.detach().numpy().copy(), latent_dim)

