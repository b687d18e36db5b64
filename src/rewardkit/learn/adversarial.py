"""Adversarial imitation rewards: GAIL and AIRL discriminators.

A discriminator :math:`D(s,a,s') = \\sigma(\\ell(s,a,s'))` is trained by logistic
regression to tell expert transitions (label 1) from the current policy's (label 0):

.. math:: \\min_D\\; -\\mathbb{E}_{E}[\\log D] - \\mathbb{E}_{\\pi}[\\log(1 - D)]

* **GAIL** (Ho & Ermon, 2016, "Generative adversarial imitation learning", NeurIPS):
  :math:`\\ell = D_\\omega(s, a)`, an MLP; the RL reward is
  :math:`r(s,a) = -\\log(1 - D(s,a)) = \\operatorname{softplus}(\\ell)` (the
  non-saturating, always-positive form used by imitation's ``RewardNetFromDiscriminatorLogit``).
* **AIRL** (Fu, Luo & Levine, 2018, "Learning robust rewards with adversarial inverse
  reinforcement learning", ICLR, eqs. 3-4): the logit is structured as

  .. math:: f(s,a,s') = g(s[,a]) + \\gamma\\,(1 - \\mathrm{done})\\,h(s') - h(s),\\qquad
            \\ell = f(s,a,s') - \\log\\pi(a|s)

  so :math:`D = e^{f} / (e^{f} + \\pi(a|s))`; the training reward is
  :math:`\\log D - \\log(1-D) = f - \\log\\pi`, and the disentangled reward for
  re-use ("reward_test") is :math:`g`.  The terminal potential is fixed to 0 so the
  shaping term cannot leak episode length.  When policy log-probabilities are not
  given, :math:`\\log\\pi` is taken as 0 (i.e. :math:`\\ell = f`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..core.errors import BatchError, ConfigError
from ..core.potential import potential_difference
from .bt import _build_net, _export
from .models import MLPReward, read_npz

__all__ = ["AdversarialReward", "fit_discriminator", "transition_features"]


def transition_features(obs: Any, action: Any = None, n_actions: int | None = None) -> np.ndarray:
    """Flatten observations (and actions) to float features ``(n, d)``.

    Integer actions become one-hot vectors when ``n_actions`` is given.

    Example:
        >>> transition_features([[0.5], [1.0]], [1, 0], n_actions=2).tolist()
        [[0.5, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    o = np.asarray(obs, dtype=np.float64)
    o = o.reshape(o.shape[0], -1) if o.ndim > 1 else o.reshape(-1, 1)
    if action is None:
        return o
    a = np.asarray(action)
    if n_actions is not None:
        ai = a.reshape(-1).astype(np.int64)
        if ai.shape[0] != o.shape[0]:
            raise BatchError("action", f"has {ai.shape[0]} entries for {o.shape[0]} observations", "one per row")
        if ai.min(initial=0) < 0 or ai.max(initial=0) >= n_actions:
            raise BatchError("action", "has actions outside the one-hot range", f"ints in [0, {n_actions})")
        a = np.eye(n_actions)[ai]
    else:
        a = a.astype(np.float64)
        a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(-1, 1)
    if a.shape[0] != o.shape[0]:
        raise BatchError("action", f"has {a.shape[0]} rows for {o.shape[0]} observations", "one per row")
    return np.concatenate([o, a], axis=1)


@dataclass
class AdversarialReward:
    """A trained GAIL or AIRL discriminator, evaluated in NumPy.

    ``kind="gail"``: ``disc`` maps ``[s, a]`` to the logit.  ``kind="airl"``: ``g`` maps
    ``[s]`` (``state_only``) or ``[s, a]`` to the reward part, ``h`` maps ``[s]`` to the
    potential.  Call :meth:`reward` with feature arrays.

    Example:
        >>> import numpy as np
        >>> g, h = MLPReward.linear([1.0]), MLPReward.linear([2.0])
        >>> airl = AdversarialReward("airl", gamma=0.5, g=g, h=h, state_only=True)
        >>> s, s2 = np.array([[1.0]]), np.array([[3.0]])
        >>> airl.f(s, None, s2, np.array([False])).tolist()    # 1 + 0.5*6 - 2
        [2.0]
        >>> airl.f(s, None, s2, np.array([True])).tolist()     # terminal potential is 0
        [-1.0]
        >>> gail = AdversarialReward("gail", disc=MLPReward.linear([0.0, 0.0]))
        >>> round(float(gail.reward(s, np.array([[0.0]]))[0]), 4)   # -log(1 - 1/2)
        0.6931
    """

    kind: str
    gamma: float = 0.99
    disc: MLPReward | None = None
    g: MLPReward | None = None
    h: MLPReward | None = None
    state_only: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("gail", "airl"):
            raise ConfigError("kind", f"got {self.kind!r}", "'gail' or 'airl'")
        if self.kind == "gail" and self.disc is None:
            raise ConfigError("disc", "missing for GAIL", "an MLPReward on [obs, action] features")
        if self.kind == "airl" and (self.g is None or self.h is None):
            raise ConfigError("g/h", "missing for AIRL", "MLPRewards g (reward) and h (potential)")

    def _g_input(self, s: np.ndarray, a: Any) -> np.ndarray:
        if self.state_only or a is None:
            return s
        return np.concatenate([s, np.asarray(a, dtype=np.float64).reshape(s.shape[0], -1)], axis=1)

    def f(self, s: Any, a: Any, s_next: Any, done: Any) -> np.ndarray:
        """AIRL's :math:`f = g + \\gamma (1-\\mathrm{done}) h(s') - h(s)`; ``done`` = terminated, not truncated.

        The shaping part is :func:`rewardkit.core.potential_difference` with potential ``h``.
        """
        if self.kind != "airl":
            raise ConfigError("kind", "f() is defined for AIRL only", "kind='airl'")
        s = np.asarray(s, dtype=np.float64)
        s2 = np.asarray(s_next, dtype=np.float64)
        d = np.asarray(done, dtype=bool).reshape(-1)
        return self.g(self._g_input(s, a)) + potential_difference(self.h(s), self.h(s2), self.gamma, d)

    def logit(self, s: Any, a: Any, s_next: Any = None, done: Any = None, log_pi: Any = None) -> np.ndarray:
        """Discriminator logit :math:`\\ell` (``log_pi`` only matters for AIRL)."""
        if self.kind == "gail":
            s = np.asarray(s, dtype=np.float64)
            return self.disc(np.concatenate([s, np.asarray(a, dtype=np.float64).reshape(s.shape[0], -1)], axis=1))
        if s_next is None:
            raise ConfigError("next_obs", "AIRL needs next observations", "an array like obs")
        done = np.zeros(np.asarray(s).shape[0], bool) if done is None else done
        out = self.f(s, a, s_next, done)
        return out if log_pi is None else out - np.asarray(log_pi, dtype=np.float64).reshape(-1)

    def reward(self, s: Any, a: Any, s_next: Any = None, done: Any = None, log_pi: Any = None,
               use: str = "train") -> np.ndarray:
        """The imitation reward: GAIL :math:`\\operatorname{softplus}(\\ell)`; AIRL ``use="train"``
        :math:`f - \\log\\pi`, ``use="test"`` :math:`g` (the disentangled reward)."""
        if self.kind == "gail":
            return np.logaddexp(0.0, self.logit(s, a))
        if use == "test":
            return self.g(self._g_input(np.asarray(s, dtype=np.float64), a))
        if use != "train":
            raise ConfigError("use", f"got {use!r}", "'train' (f - log pi) or 'test' (g)")
        return self.logit(s, a, s_next, done, log_pi)

    def save(self, path: str | Path) -> None:
        arrays: dict[str, Any] = {"kind": np.array(f"adversarial_{self.kind}"), "gamma": np.array(self.gamma),
                                  "state_only": np.array(self.state_only)}
        for name in ("disc", "g", "h"):
            m = getattr(self, name)
            if m is not None:
                arrays.update(m.to_arrays(f"{name}_"))
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> AdversarialReward:
        p = Path(path)
        arr = read_npz(p, "a .npz written by .save()", "discriminator file")
        kind = str(arr.get("kind", ""))
        if not kind.startswith("adversarial_"):
            raise ConfigError("path", f"{str(p)!r} is not a saved discriminator", "a file from AdversarialReward.save")
        parts = {n: MLPReward.from_arrays(arr, f"{n}_") for n in ("disc", "g", "h") if f"{n}_n_layers" in arr}
        return cls(kind[len("adversarial_"):], float(arr["gamma"]), state_only=bool(arr["state_only"]), **parts)


def _column(batch: dict[str, Any], key: str, who: str, required: bool = True) -> np.ndarray | None:
    """``batch[key]`` as float64: 2-D for ``obs``/``next_obs``/``action``, 1-D otherwise; None if absent."""
    if key not in batch:
        if required:
            raise BatchError(f"{who}.{key}", "missing", "an array with one row per transition")
        return None
    a = np.asarray(batch[key], dtype=np.float64)
    return a.reshape(a.shape[0], -1) if key in ("obs", "next_obs", "action") else a.reshape(-1)


def _transition_columns(batch: dict[str, Any], who: str, airl: bool) -> dict[str, np.ndarray]:
    """The discriminator's columns of ``batch`` (AIRL adds ``next_obs``, ``done`` and ``log_pi``), equal lengths."""
    out: dict[str, Any] = {"obs": _column(batch, "obs", who), "action": _column(batch, "action", who)}
    n = out["obs"].shape[0]
    if airl:
        out["next_obs"] = _column(batch, "next_obs", who)
        d = _column(batch, "done", who, False)
        out["done"] = np.zeros(n) if d is None else d.astype(np.float64)
        lp = _column(batch, "log_pi", who, False)
        out["log_pi"] = np.zeros(n) if lp is None else lp
    for k, v in out.items():
        if v.shape[0] != n:
            raise BatchError(f"{who}.{k}", f"has {v.shape[0]} rows for {n} transitions", "one row per transition")
    return out


def _net_from(m: MLPReward | None, d_in: int, hidden: Sequence[int], seed: int) -> Any:
    """A fresh tanh MLP, or one holding the weights of ``m`` (same architecture) to continue training."""
    import torch
    net = _build_net(d_in, hidden, "tanh", seed)
    if m is not None:
        lin = [x for x in net if isinstance(x, torch.nn.Linear)]
        if len(lin) != len(m.weights):
            raise ConfigError("init", "has a different architecture", f"hidden={tuple(hidden)}")
        with torch.no_grad():
            for layer, w, b in zip(lin, m.weights, m.biases, strict=False):
                layer.weight.copy_(torch.as_tensor(w.T))
                layer.bias.copy_(torch.as_tensor(b))
    return net


def fit_discriminator(kind: str, expert: dict[str, Any], policy: dict[str, Any], *, gamma: float = 0.99,
                        hidden: Sequence[int] = (32,), state_only: bool = True, steps: int = 500,
                        batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
                        init: AdversarialReward | None = None) -> AdversarialReward:
    """Train a GAIL/AIRL discriminator on expert vs policy transitions.

    Each batch is a dict of arrays: ``obs`` ``(n, ds)``, ``action`` ``(n, da)`` (features,
    e.g. one-hot - see :func:`transition_features`), and for AIRL ``next_obs`` and
    optionally ``done`` (true on *terminated* transitions only) and ``log_pi`` (the generator's
    :math:`\\log\\pi(a|s)`; expert transitions are scored under the *current* policy too, as in AIRL).  Balanced
    minibatches, Adam, binary cross-entropy on the logit.  Pass ``init`` to continue
    training between generator updates (the adversarial loop).

    Example:
        >>> import numpy as np
        >>> s = np.eye(2)[[0, 1] * 20]
        >>> expert = {"obs": s, "action": np.eye(2)[[1] * 40]}
        >>> policy = {"obs": s, "action": np.eye(2)[[0] * 40]}
        >>> gail = fit_discriminator("gail", expert, policy, steps=100)
        >>> bool(gail.reward(s[:1], np.eye(2)[[1]])[0] > gail.reward(s[:1], np.eye(2)[[0]])[0])
        True
    """
    import torch
    import torch.nn.functional as F
    if kind not in ("gail", "airl"):
        raise ConfigError("kind", f"got {kind!r}", "'gail' or 'airl'")
    torch.set_num_threads(1)
    E = {k: torch.as_tensor(v) for k, v in _transition_columns(expert, "expert", kind == "airl").items()}
    P = {k: torch.as_tensor(v) for k, v in _transition_columns(policy, "policy", kind == "airl").items()}
    ds, da = E["obs"].shape[1], E["action"].shape[1]
    if kind == "gail":
        nets = {"disc": _net_from(init.disc if init else None, ds + da, hidden, seed)}
    else:
        g_in = ds if state_only else ds + da
        nets = {"g": _net_from(init.g if init else None, g_in, hidden, seed),
                "h": _net_from(init.h if init else None, ds, hidden, seed + 1)}
    params = [p for n in nets.values() for p in n.parameters()]
    opt = torch.optim.Adam(params, lr=lr)

    def logits(B: dict, idx: Any) -> Any:
        s, a = B["obs"][idx], B["action"][idx]
        if kind == "gail":
            return nets["disc"](torch.cat([s, a], 1)).squeeze(-1)
        gi = s if state_only else torch.cat([s, a], 1)
        f = nets["g"](gi).squeeze(-1) + potential_difference(
            nets["h"](s).squeeze(-1), nets["h"](B["next_obs"][idx]).squeeze(-1), gamma, B["done"][idx] > 0.5)
        return f - B["log_pi"][idx]

    gen = torch.Generator().manual_seed(seed)
    nE, nP = E["obs"].shape[0], P["obs"].shape[0]
    half = max(1, batch_size // 2)
    for _ in range(int(steps)):
        ie = torch.randint(0, nE, (half,), generator=gen)
        ip = torch.randint(0, nP, (half,), generator=gen)
        le, lp = logits(E, ie), logits(P, ip)
        loss = F.softplus(-le).mean() + F.softplus(lp).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    exported = {k: _export(v, "tanh", {}) for k, v in nets.items()}
    return AdversarialReward(kind, gamma, state_only=state_only, **exported)
