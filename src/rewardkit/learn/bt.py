"""Bradley-Terry reward-model training: the loss family and two trainers.

The Bradley-Terry (1952) preference model, as used for reward learning by
Christiano et al. (2017, "Deep reinforcement learning from human preferences",
NeurIPS) and Ouyang et al. (2022, "Training language models to follow instructions
with human feedback", NeurIPS, eq. 1):

.. math:: P_\\theta(a \\succ b) = \\sigma(\\Delta),\\quad \\Delta = R_\\theta(a) - R_\\theta(b),
          \\quad R_\\theta(\\xi) = \\textstyle\\sum_t r_\\theta(x_t)

Losses (``y`` = probability that ``a`` is preferred, all averaged over pairs):

* ``"bt"``      :math:`\\ell = -y\\log\\sigma(\\Delta) - (1-y)\\log\\sigma(-\\Delta)` (soft labels allowed).
* ``"margin"``  :math:`\\ell = -y\\log\\sigma(\\Delta - m) - (1-y)\\log\\sigma(-\\Delta - m)` - Touvron et al.
  (2023, "Llama 2: Open foundation and fine-tuned chat models", eq. 2), ``m`` = pair margin.
* ``"scaled"``  :math:`\\ell = m\\,\\ell_{bt}` - scaled BT of Wang et al. (2024, "HelpSteer2-Preference:
  complementing ratings with preferences", arXiv 2410.01257).
* ``"smooth"``  conservative BT / label smoothing: :math:`\\ell_{bt}` with target
  :math:`(1-\\varepsilon)y + \\varepsilon/2` (Mitchell, 2023, "A note on DPO with noisy preferences"
  - cDPO; Wang et al., 2024, "Secrets of RLHF in large language models part II: reward modeling", §3).
* ``"noisy"``   noise-aware likelihood :math:`p = \\varepsilon/2 + (1-\\varepsilon)\\sigma(\\Delta)`,
  :math:`\\ell = -y\\log p - (1-y)\\log(1-p)` (Christiano et al. 2017, §2.2.3: "a 10% chance
  that the human responds uniformly at random").

Plus the reward-centring penalty :math:`c\\,\\mathbb{E}[(r_a + r_b)^2]` of Eisenstein et al.
(2023, "Helping or herding? Reward model ensembles mitigate but do not eliminate reward
hacking", eq. 2).

:func:`fit_bt` trains an MLP with torch (one intra-op thread); :func:`fit_linear_bt`
fits a *linear* reward by Newton's method in NumPy (MAP with a Gaussian prior).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import ConfigError
from ..core.seeding import seeded
from .models import MLPReward
from .preferences import PreferencePairs, sigmoid

__all__ = ["LOSSES", "bt_loss", "fit_bt", "fit_linear_bt"]

LOSSES = ("bt", "margin", "scaled", "smooth", "noisy")


def bt_loss(diff: Any, label: Any, kind: str = "bt", margin: Any = None, epsilon: float = 0.1,
            weight: Any = None) -> Any:
    """Mean BT-family loss of return differences ``diff`` (torch tensors or NumPy arrays).

    Example:
        >>> import numpy as np
        >>> round(float(bt_loss(np.array([0.0]), np.array([1.0]))), 4)        # log 2
        0.6931
        >>> round(float(bt_loss(np.array([0.0]), np.array([1.0]), "margin", margin=np.array([1.0]))), 4)
        1.3133
        >>> round(float(bt_loss(np.array([50.0]), np.array([0.0]), "noisy", epsilon=0.2)), 3)   # bounded: -log(0.1)
        2.303
    """
    if kind not in LOSSES:
        raise ConfigError("loss", f"got {kind!r}", f"one of {LOSSES}")
    is_np = isinstance(diff, np.ndarray)
    if is_np:
        import torch
        diff = torch.as_tensor(diff, dtype=torch.float64)
        label = torch.as_tensor(label, dtype=torch.float64)
        margin = None if margin is None else torch.as_tensor(margin, dtype=torch.float64)
        weight = None if weight is None else torch.as_tensor(weight, dtype=torch.float64)
    import torch.nn.functional as F
    y = label
    if kind in ("margin", "scaled") and margin is None:
        raise ConfigError("margin", f"loss {kind!r} needs a margin/strength per pair", "PreferencePairs(margin=...)")
    if kind == "margin":
        per = y * F.softplus(margin - diff) + (1 - y) * F.softplus(margin + diff)
    elif kind == "smooth":
        t = (1 - epsilon) * y + epsilon / 2
        per = t * F.softplus(-diff) + (1 - t) * F.softplus(diff)
    elif kind == "noisy":
        import math
        import torch
        if not 0 < epsilon < 1:
            raise ConfigError("epsilon", f"got {epsilon!r}", "a noise rate in (0, 1)")
        le, l1e = math.log(epsilon / 2), math.log(1 - epsilon)
        log_p = torch.logaddexp(torch.full_like(diff, le), l1e + F.logsigmoid(diff))
        log_q = torch.logaddexp(torch.full_like(diff, le), l1e + F.logsigmoid(-diff))
        per = -(y * log_p + (1 - y) * log_q)
    else:
        per = y * F.softplus(-diff) + (1 - y) * F.softplus(diff)
        if kind == "scaled":
            per = per * margin
    if weight is not None:
        per = per * weight
    out = per.mean()
    return float(out) if is_np else out


def _build_net(d: int, hidden: Sequence[int], activation: str, seed: int) -> Any:
    from torch import nn
    layers: list[Any] = []
    prev = d
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}[activation]
    with seeded(seed, torch=True):  # local: the caller's global torch RNG is left alone
        for h in hidden:
            layers += [nn.Linear(prev, int(h)), act()]
            prev = int(h)
        layers.append(nn.Linear(prev, 1))
    return nn.Sequential(*layers).double()


def _export(net: Any, activation: str, meta: dict) -> MLPReward:
    from torch import nn
    lin = [m for m in net if isinstance(m, nn.Linear)]
    return MLPReward([m.weight.detach().numpy().T.copy() for m in lin],
                     [m.bias.detach().numpy().copy() for m in lin],
                     activation if len(lin) > 1 else "identity", meta)


def fit_bt(pairs: PreferencePairs, *, hidden: Sequence[int] = (32,), activation: str = "tanh",
             loss: str = "bt", epsilon: float = 0.1, epochs: int = 50, batch_size: int | None = 64,
             lr: float = 1e-2, weight_decay: float = 0.0, center_coef: float = 0.0,
             sample_weight: Any = None, seed: int = 0) -> MLPReward:
    """Train a reward MLP on preference pairs with a BT-family loss (see module docstring).

    Args:
        pairs: the labelled comparisons (segments are summed over time).
        hidden: hidden-layer sizes (``()`` = linear reward).
        loss: one of :data:`LOSSES`; ``"margin"``/``"scaled"`` read ``pairs.margin``.
        epsilon: noise rate for ``"smooth"`` / ``"noisy"``.
        batch_size: minibatch size (``None`` = full batch); AdamW with ``lr`` and ``weight_decay``.
        center_coef: coefficient of the reward-centring penalty (TRL recommends 1e-2).
        sample_weight: optional ``(N,)`` per-pair weights.

    Returns:
        the trained model as a NumPy :class:`MLPReward` (``meta["train_loss"]`` = last epoch's loss).

    Example:
        >>> from rewardkit.learn.preferences import linear_preference_task, pair_accuracy
        >>> train, w, _ = linear_preference_task(300, dim=4, seed=0)
        >>> test, _, diff = linear_preference_task(500, dim=4, seed=1, w=w)
        >>> model = fit_bt(train, hidden=(), epochs=30, seed=0)
        >>> pair_accuracy(model, test.a, test.b, diff) > 0.95
        True
    """
    import torch
    if loss not in LOSSES:
        raise ConfigError("loss", f"got {loss!r}", f"one of {LOSSES}")
    if activation not in ("tanh", "relu", "identity"):
        raise ConfigError("activation", f"got {activation!r}", "'tanh', 'relu' or 'identity'")
    if len(pairs) == 0:
        raise ConfigError("pairs", "is empty", "at least one labelled pair")
    if loss in ("margin", "scaled") and pairs.margin is None:
        raise ConfigError("pairs.margin", f"missing for loss {loss!r}", "a margin/strength per pair")
    if loss == "scaled" and (np.any(pairs.margin < 0) or not np.all(np.isfinite(pairs.margin))):
        raise ConfigError("pairs.margin", "has negative or non-finite strengths", "strengths m >= 0 for scaled BT")
    torch.set_num_threads(1)
    net = _build_net(pairs.dim, hidden, activation, seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    a = torch.as_tensor(pairs.a)
    b = torch.as_tensor(pairs.b)
    y = torch.as_tensor(pairs.label)
    m = None if pairs.margin is None else torch.as_tensor(pairs.margin)
    sw = None if sample_weight is None else torch.as_tensor(np.asarray(sample_weight, dtype=np.float64))
    n = len(pairs)
    bs = n if batch_size is None else max(1, min(int(batch_size), n))
    gen = torch.Generator().manual_seed(seed)
    last = float("nan")
    for _ in range(int(epochs)):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            ra = net(a[idx]).squeeze(-1)
            rb = net(b[idx]).squeeze(-1)
            diff = ra.sum(-1) - rb.sum(-1)
            lo = bt_loss(diff, y[idx], loss, None if m is None else m[idx], epsilon,
                         None if sw is None else sw[idx])
            if center_coef:
                lo = lo + center_coef * ((ra.sum(-1) + rb.sum(-1)) ** 2).mean()
            opt.zero_grad()
            lo.backward()
            opt.step()
            tot += float(lo.detach()) * len(idx)
        last = tot / n
    return _export(net, activation, {"train_loss": last, "loss": loss})


def fit_linear_bt(pairs: PreferencePairs, l2: float = 1e-2, epsilon: float = 0.0, sample_weight: Any = None,
                  iters: int = 50, tol: float = 1e-10) -> MLPReward:
    """MAP linear reward :math:`r(x) = w^\\top x` by Newton's method (logistic regression on
    feature-sum differences :math:`z = \\sum_t a_t - \\sum_t b_t`):

    .. math:: \\min_w\\; \\sum_i \\omega_i\\,\\ell_{bt}(w^\\top z_i, \\tilde y_i) + \\tfrac{\\lambda}{2}\\|w\\|^2,
              \\quad \\tilde y = (1-\\varepsilon) y + \\varepsilon / 2

    (``epsilon > 0`` is the conservative/label-smoothed BT).  Convex, so the result
    does not depend on a seed.

    Example:
        >>> from rewardkit.learn.preferences import linear_preference_task
        >>> pairs, w, _ = linear_preference_task(400, dim=3, temperature=0.1, seed=2)
        >>> m = fit_linear_bt(pairs)
        >>> w_hat = m.weights[0][:, 0]
        >>> float(np.dot(w_hat, w) / np.linalg.norm(w_hat) / np.linalg.norm(w)) > 0.98
        True
    """
    if len(pairs) == 0:
        raise ConfigError("pairs", "is empty", "at least one labelled pair")
    if l2 <= 0:
        raise ConfigError("l2", f"got {l2!r}", "a positive prior precision")
    z = pairs.a.sum(axis=1) - pairs.b.sum(axis=1)
    y = (1 - epsilon) * pairs.label + epsilon / 2
    om = np.ones(len(pairs)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = np.zeros(z.shape[1])
    eye = np.eye(z.shape[1])
    for _ in range(iters):
        p = sigmoid(z @ w)
        g = z.T @ (om * (p - y)) + l2 * w
        H = (z * (om * p * (1 - p))[:, None]).T @ z + l2 * eye
        step = np.linalg.solve(H, g)
        w -= step
        if float(np.max(np.abs(step))) < tol:
            break
    return MLPReward.linear(w)
