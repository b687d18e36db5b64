"""Return decomposition: RUDDER-style prediction differences and randomized return decomposition.

Both learn a per-step reward :math:`\\hat r(x_t)` from episodes that only reveal their
return :math:`R`; features :math:`x_t = \\phi(s_t, a_t)` are supplied by the user (one-hot
state/action, observation vectors, embeddings).

**RUDDER** (Arjona-Medina, Gillhofer, Widrich, Unterthiner, Brandstetter & Hochreiter,
NeurIPS 2019).  A sequence model :math:`g` predicts the return from every prefix; the
redistributed reward is the difference of consecutive predictions,
:math:`\\hat r_t = g(x_{0:t}) - g(x_{0:t-1})`.  The loss is the main loss on the last
step plus an auxiliary loss (weight ``aux``; the tutorial's LSTM uses 0.5, the linear model
defaults to 0.1) predicting the return at every step:

.. math:: L = (g_T - R)^2 + \\frac{aux}{T}\\sum_t (g_t - R)^2 .

:class:`RudderLinear` uses :math:`g_t = w^\\top\\sum_{k\\le t} x_k + b` (exact for Markov
tasks whose return is a sum of per-step events, solved by ridge regression);
:class:`RudderLSTM` is the paper's LSTM (torch), for non-Markov features.
(The RUDDER tutorial squares the *mean* error, ``mean(pred - ret) ** 2``; here the
squared errors are averaged, and a test checks the loss against its definition.)

**RRD** (Ren, Guo, Zhou, Yang & Zhang, ICLR 2022, "Learning Long-Term Reward
Redistribution via Randomized Return Decomposition").  For each episode sample
:math:`K` steps :math:`I`; regress their mean prediction onto the average reward, with an
unbiased variance correction:

.. math:: L = \\Big(\\frac{1}{K}\\sum_{t \\in I}\\hat r(x_t) - \\frac{R}{T}\\Big)^2
          - \\Big(1 - \\frac{K}{T}\\Big)\\frac{\\widehat{\\mathrm{Var}}_{t\\in I}[\\hat r(x_t)]}{K}.

:class:`RRDLinear` fits a linear :math:`\\hat r` by minibatch SGD in NumPy, O(K) per episode
(``solver="sgd"``, the paper's estimator), or – because the unbiased loss has, in
expectation, the same minimiser as regressing the mean features of the whole episode on
:math:`R/T` – exactly by least squares (``solver="exact"``), which is faster and noiseless
for linear models.
Every model's :meth:`redistribute` applies the return-equivalence correction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.seeding import seeded
from .redistribute import _pad, return_equivalent

__all__ = ["RRDLinear", "RudderLSTM", "RudderLinear", "rrd_loss_and_grad", "rudder_loss"]


def rudder_loss(pred: np.ndarray, ret: np.ndarray, mask: np.ndarray, aux: float = 0.5) -> float:
    """RUDDER's loss on padded predictions ``(N, T)``: main last-step + auxiliary all-step MSE.

    Example:
        >>> rudder_loss(np.array([[0.0, 1.0]]), np.array([1.0]), np.ones((1, 2), bool), aux=0.5)
        0.25
    """
    pred = np.asarray(pred, dtype=np.float64)
    ret = np.asarray(ret, dtype=np.float64)
    last = mask.sum(1) - 1
    main = (pred[np.arange(len(ret)), last] - ret) ** 2
    err = np.where(mask, (pred - ret[:, None]) ** 2, 0.0)
    return float(np.mean(main + aux * err.sum(1) / mask.sum(1)))


class RudderLinear:
    """RUDDER with a linear return predictor on cumulative features (ridge regression).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> eps = [np.eye(3)[rng.integers(3, size=10)] for _ in range(200)]
        >>> rets = [float(e[:, 2].sum()) for e in eps]          # +1 each time feature 2 occurs
        >>> m = RudderLinear(aux=0.0).fit(eps, rets)
        >>> (m.redistribute(eps[0], rets[0]).round(3)[:4] + 0.0).tolist(), eps[0][:4].argmax(1).tolist()
        ([1.0, 0.0, 0.0, 0.0], [2, 1, 1, 0])
    """

    def __init__(self, aux: float = 0.1, ridge: float = 1e-6):
        self.aux = float(aux)
        self.ridge = float(ridge)
        self.w: np.ndarray | None = None
        self.b = 0.0

    def fit(self, episodes: Sequence[np.ndarray], returns: Sequence[float]) -> RudderLinear:
        x, m = _pad([np.asarray(e, dtype=np.float64).reshape(len(e), -1) for e in episodes])
        r = np.asarray(returns, dtype=np.float64)
        cum = np.cumsum(x * m[..., None], axis=1)
        last = m.sum(1) - 1
        n, t_max, d = cum.shape
        rows = [np.hstack([cum[np.arange(n), last], np.ones((n, 1))])]
        targets = [r]
        weights = [np.ones(n)]
        if self.aux > 0:
            flat = m.reshape(-1)
            rows.append(np.hstack([cum.reshape(-1, d)[flat], np.ones((flat.sum(), 1))]))
            targets.append(np.repeat(r, t_max)[flat])
            weights.append(np.repeat(self.aux / m.sum(1), t_max)[flat])
        A = np.vstack(rows)
        y = np.concatenate(targets)
        sw = np.sqrt(np.concatenate(weights))
        A, y = A * sw[:, None], y * sw
        theta = np.linalg.solve(A.T @ A + self.ridge * np.eye(d + 1), A.T @ y)
        self.w, self.b = theta[:-1], float(theta[-1])
        return self

    def predict_returns(self, episode: np.ndarray) -> np.ndarray:
        """:math:`g_t` for every prefix of one episode."""
        if self.w is None:
            raise RuntimeError("RudderLinear: call fit() first")
        x = np.asarray(episode, dtype=np.float64).reshape(len(episode), -1)
        return np.cumsum(x, axis=0) @ self.w + self.b

    def redistribute(self, episode: np.ndarray, episode_return: float | None = None) -> np.ndarray:
        """:math:`\\hat r_t = g_t - g_{t-1}` (with :math:`g_{-1} = b`), corrected to sum to the return."""
        g = self.predict_returns(episode)
        pred = np.diff(np.concatenate([[self.b], g]))
        return pred if episode_return is None else return_equivalent(pred, episode_return)


def rrd_loss_and_grad(x: np.ndarray, w: np.ndarray, b: float, episode_return: float, length: int,
                      unbiased: bool = True) -> tuple[float, np.ndarray, float]:
    """RRD loss of one episode's K sampled steps ``x`` (shape ``(K, d)``) for a linear model, and its gradient.

    :math:`L = (\\bar{\\hat r} - R/T)^2 - (1-K/T)\\,\\widehat{Var}(\\hat r)/K` (second term only if
    ``unbiased``); its expectation over random K-subsets is :math:`(\\frac1T\\sum_t \\hat r_t - R/T)^2`.

    Example:
        >>> loss, gw, gb = rrd_loss_and_grad(np.eye(2), np.array([1.0, 0.0]), 0.0, 1.0, 2)
        >>> loss, gw.tolist(), gb
        (0.0, [0.0, 0.0], 0.0)
    """
    k = x.shape[0]
    pred = x @ w + b
    resid = pred.mean() - episode_return / length
    loss = resid**2
    gw = 2 * resid * x.mean(0)
    gb = 2 * resid
    if unbiased and k > 1:
        c = (1 - k / length) / k
        centred = pred - pred.mean()
        loss -= c * float(centred @ centred) / (k - 1)
        gw = gw - c * 2 * (centred[:, None] * (x - x.mean(0))).sum(0) / (k - 1)
    return float(loss), gw, float(gb)


class RRDLinear:
    """Randomized return decomposition with a linear per-step reward (NumPy SGD).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> eps = [np.eye(4)[rng.integers(4, size=20)] for _ in range(300)]
        >>> rets = [float(e[:, 1].sum() * 2.0) for e in eps]
        >>> m = RRDLinear(k=8, epochs=30, seed=0).fit(eps, rets)
        >>> bool(np.abs(m.predict(np.eye(4)) - [0.0, 2.0, 0.0, 0.0]).max() < 0.3)  # one-hot 1 pays 2
        True
    """

    def __init__(self, k: int = 8, lr: float = 0.05, epochs: int = 50, batch: int = 32, unbiased: bool = True,
                 seed: int = 0, solver: str = "sgd", ridge: float = 1e-6):
        if solver not in ("sgd", "exact"):
            raise ValueError(f"solver: got {solver!r}; expected 'sgd' or 'exact'")
        self.solver, self.ridge = solver, float(ridge)
        self.k, self.lr, self.epochs, self.batch = int(k), float(lr), int(epochs), int(batch)
        self.unbiased = bool(unbiased)
        self.rng = np.random.default_rng(seed)
        self.w: np.ndarray | None = None
        self.b = 0.0

    def fit(self, episodes: Sequence[np.ndarray], returns: Sequence[float]) -> RRDLinear:
        eps = [np.asarray(e, dtype=np.float64).reshape(len(e), -1) for e in episodes]
        r = np.asarray(returns, dtype=np.float64)
        d = eps[0].shape[1]
        if self.solver == "exact":  # the minimiser of the expected RRD loss: regress mean features on R/T
            A = np.stack([np.append(e.mean(0), 1.0) for e in eps])
            y = r / np.array([len(e) for e in eps])
            theta = np.linalg.solve(A.T @ A + self.ridge * np.eye(d + 1), A.T @ y)
            self.w, self.b = theta[:-1], float(theta[-1])
            return self
        self.w = np.zeros(d)
        self.b = 0.0
        m_w, v_w, m_b, v_b, step = np.zeros(d), np.zeros(d), 0.0, 0.0, 0
        total_steps = self.epochs * -(-len(eps) // self.batch)
        for _ in range(self.epochs):
            order = self.rng.permutation(len(eps))
            for start in range(0, len(order), self.batch):
                gw, gb = np.zeros(d), 0.0
                idx = order[start:start + self.batch]
                for i in idx:
                    e = eps[i]
                    t = len(e)
                    sel = e[self.rng.choice(t, size=min(self.k, t), replace=False)]
                    _, dw, db = rrd_loss_and_grad(sel, self.w, self.b, r[i], t, self.unbiased)
                    gw += dw
                    gb += db
                gw /= len(idx)
                gb /= len(idx)
                step += 1  # Adam
                m_w = 0.9 * m_w + 0.1 * gw
                v_w = 0.999 * v_w + 0.001 * gw**2
                m_b = 0.9 * m_b + 0.1 * gb
                v_b = 0.999 * v_b + 0.001 * gb**2
                bc1, bc2 = 1 - 0.9**step, 1 - 0.999**step
                lr = self.lr * (1.0 - (step - 1) / total_steps)  # linear decay removes the SGD noise floor
                self.w -= lr * (m_w / bc1) / (np.sqrt(v_w / bc2) + 1e-8)
                self.b -= lr * (m_b / bc1) / (np.sqrt(v_b / bc2) + 1e-8)
        return self

    def predict(self, episode: np.ndarray) -> np.ndarray:
        if self.w is None:
            raise RuntimeError("RRDLinear: call fit() first")
        x = np.asarray(episode, dtype=np.float64).reshape(len(episode), -1)
        return x @ self.w + self.b

    def redistribute(self, episode: np.ndarray, episode_return: float | None = None) -> np.ndarray:
        pred = self.predict(episode)
        return pred if episode_return is None else return_equivalent(pred, episode_return)


class RudderLSTM:
    """RUDDER's LSTM return predictor (torch; for features whose contribution depends on history).

    A single-layer LSTM reads :math:`x_{0:t}`; a linear head gives :math:`g_t`; trained with
    :func:`rudder_loss`'s objective (Adam, weight decay as in the RUDDER tutorial).
    """

    def __init__(self, n_features: int, hidden: int = 16, lr: float = 1e-2, weight_decay: float = 1e-5,
                 aux: float = 0.5, epochs: int = 200, batch: int = 64, seed: int = 0):
        import torch

        self.torch = torch
        with seeded(seed, torch=True):  # local: the caller's global torch RNG is left alone
            self.lstm = torch.nn.LSTM(n_features, hidden, batch_first=True)
            self.head = torch.nn.Linear(hidden, 1)
        params = list(self.lstm.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        self.aux, self.epochs, self.batch = aux, epochs, batch
        self.rng = np.random.default_rng(seed)

    def _g(self, x):
        h, _ = self.lstm(x)
        return self.head(h).squeeze(-1)

    def fit(self, episodes: Sequence[np.ndarray], returns: Sequence[float]) -> RudderLSTM:
        torch = self.torch
        x, m = _pad([np.asarray(e, dtype=np.float32).reshape(len(e), -1) for e in episodes])
        xt = torch.as_tensor(x, dtype=torch.float32)
        mt = torch.as_tensor(m)
        rt = torch.as_tensor(np.asarray(returns, dtype=np.float32))
        last = mt.sum(1) - 1
        for _ in range(self.epochs):
            idx = torch.as_tensor(self.rng.choice(len(x), size=min(self.batch, len(x)), replace=False))
            g = self._g(xt[idx])
            main = (g[torch.arange(len(idx)), last[idx]] - rt[idx]) ** 2
            err = ((g - rt[idx, None]) ** 2 * mt[idx]).sum(1) / mt[idx].sum(1)
            loss = (main + self.aux * err).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return self

    def redistribute(self, episode: np.ndarray, episode_return: float | None = None) -> np.ndarray:
        torch = self.torch
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(episode, dtype=np.float32).reshape(1, len(episode), -1))
            g = self._g(x)[0].numpy().astype(np.float64)
        pred = np.diff(np.concatenate([[0.0], g]))
        return pred if episode_return is None else return_equivalent(pred, episode_return)
