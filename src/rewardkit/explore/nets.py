"""Small torch building blocks shared by the learned bonuses (CPU-sized).

* :func:`make_encoder` – an MLP for vector observations, a small CNN for images
  (``(C, H, W)`` or MiniGrid's channel-last ``(H, W, C)``, detected from the shape);
* :class:`ObsNormalizer` – per-feature running mean/std, whitening clipped to
  ``[-5, 5]`` (Burda et al. 2019), initialised from data by ``warmup``;
* :func:`forward_filtered_returns` and :class:`IntrinsicReturnScaler` – RND's
  reward normalisation: divide by the running std of the *non-episodic* discounted
  intrinsic return accumulated along **time** per env (the axis CleanRL #360 got wrong);
* :class:`LearnedBonus` – the base class of the torch bonuses: seeded network
  construction, batched scoring of rollouts, minibatch training with an
  ``update_proportion`` mask.
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

from ..core.errors import BatchError, ConfigError
from ..core.normalize import RewardNormalizer, RunningMeanStd
from ..core.seeding import seeded
from .base import IntrinsicBonus, as_float_obs, rollout_arrays

__all__ = [
    "IntrinsicReturnScaler",
    "LearnedBonus",
    "ObsNormalizer",
    "ReturnScaledBonus",
    "action_info",
    "forward_filtered_returns",
    "freeze",
    "make_encoder",
    "one_hot_actions",
    "seeded",
    "space_shape",
]


def space_shape(obs_shape: Sequence[int] | None, observation_space: Any, field: str = "obs_shape") -> tuple[int, ...]:
    """Observation shape from ``obs_shape`` or a gymnasium space (Box, or Dict with ``image``)."""
    if obs_shape is not None:
        return tuple(int(s) for s in obs_shape)
    if observation_space is None:
        raise ConfigError(field, "missing", "obs_shape=(…) or observation_space=<gymnasium Box>")
    sp = observation_space
    if hasattr(sp, "spaces") and isinstance(sp.spaces, Mapping):
        for k in ("image", "obs", "observation"):
            if k in sp.spaces:
                sp = sp.spaces[k]
                break
        else:
            raise ConfigError("observation_space", f"is a Dict with keys {sorted(sp.spaces)}",
                              "a Box, or a Dict with an 'image' Box")
    if getattr(sp, "shape", None) is None:
        raise ConfigError("observation_space", f"is {sp!r}", "a Box space")
    return tuple(int(s) for s in sp.shape)


def action_info(n_actions: int | None, action_dim: int | None, action_space: Any) -> tuple[bool, int]:
    """``(discrete, size)``: number of discrete actions or continuous action dimension."""
    if n_actions is not None:
        return True, int(n_actions)
    if action_dim is not None:
        return False, int(action_dim)
    if action_space is None:
        raise ConfigError("n_actions", "missing", "n_actions=<int>, action_dim=<int> or action_space=<gymnasium space>")
    if hasattr(action_space, "n"):
        return True, int(action_space.n)
    if getattr(action_space, "shape", None):
        return False, int(np.prod(action_space.shape))
    raise ConfigError("action_space", f"is {action_space!r}", "a Discrete or Box space")


def one_hot_actions(actions: Any, discrete: bool, size: int) -> torch.Tensor:
    """Actions as float features: one-hot for discrete, the raw vector for continuous."""
    a = np.asarray(actions)
    if discrete:
        idx = torch.as_tensor(a.reshape(-1).astype(np.int64))
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= size):
            raise BatchError("actions", f"has values outside [0, {size})", f"discrete actions in [0, {size})")
        return nn.functional.one_hot(idx, size).float()
    return torch.as_tensor(a.reshape(a.shape[0], -1), dtype=torch.float32)


def _is_image(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3


def _channels_last(shape: tuple[int, ...]) -> bool:
    return shape[-1] in (1, 3, 4) and shape[0] not in (1, 3, 4)


class _Image(nn.Module):
    def __init__(self, shape: tuple[int, ...], latent_dim: int, channels: int):
        super().__init__()
        self.cl = _channels_last(shape)
        c, h, w = (shape[2], shape[0], shape[1]) if self.cl else shape
        k = 3 if min(h, w) >= 12 else 2
        self.conv = nn.Sequential(nn.Conv2d(c, channels, k, stride=2 if min(h, w) >= 12 else 1), nn.LeakyReLU(),
                                  nn.Conv2d(channels, channels, k, stride=2 if min(h, w) >= 24 else 1), nn.LeakyReLU(),
                                  nn.Flatten())
        with torch.no_grad():
            n = self.conv(torch.zeros(1, c, h, w)).shape[1]
        self.head = nn.Linear(n, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cl:
            x = x.permute(0, 3, 1, 2)
        return self.head(self.conv(x))


def freeze(module: nn.Module) -> nn.Module:
    """Stop gradients through ``module`` (random targets, frozen encoders); returns it.

    Example:
        >>> any(p.requires_grad for p in freeze(nn.Linear(2, 2)).parameters())
        False
    """
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def used_columns(*xs: torch.Tensor) -> torch.Tensor:
    """Indices of the columns that are non-zero in at least one row of the 2-D tensors ``xs``.

    (NumPy's ``any`` along rows is much faster than torch's on CPU.)

    Example:
        >>> used_columns(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, -2.0]])).tolist()
        [1, 2]
    """
    used = np.zeros(xs[0].shape[1], dtype=bool)
    for x in xs:
        used |= (x.detach().numpy() != 0).any(axis=0)
    return torch.from_numpy(np.flatnonzero(used))


class ZeroColumnSkippingLinear(nn.Linear):
    """``nn.Linear`` that skips input features which are zero in every row of the batch.

    :math:`y = xW^\\top + b = x_{:,J} W_{:,J}^\\top + b` with :math:`J` the columns of the
    batch that are not all zero – the same function and the same gradients (a column
    that is zero everywhere contributes nothing to :math:`y` and gets a zero weight
    gradient either way).  One-hot-heavy observations are mostly such columns: in
    MiniGrid's ``FlatObsWrapper`` (2 835 numbers: the 7x7x3 view plus a one-hot
    mission string) a rollout of 1 024 rows uses about 190 columns, so the first layer –
    most of an MLP encoder's work – costs ~15x fewer multiply-adds.  Dense batches
    (more than ``max_fraction`` of the columns used) and small batches take the plain path.

    Example:
        >>> lin = ZeroColumnSkippingLinear(300, 4)
        >>> x = torch.zeros(64, 300); x[:, :10] = torch.randn(64, 10)
        >>> bool(torch.allclose(lin(x), nn.functional.linear(x, lin.weight, lin.bias), atol=1e-6))
        True
    """

    min_rows: int = 16
    max_fraction: float = 0.5
    #: set by :meth:`LearnedBonus.update` while it feeds inputs already reduced to these columns
    input_columns: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_columns is not None:
            return torch.addmm(self.bias, x, self.weight.index_select(1, self.input_columns).t())
        if x.dim() == 2 and x.shape[0] >= self.min_rows and self.in_features >= 256:
            cols = used_columns(x)
            if cols.numel() <= self.max_fraction * self.in_features:
                return torch.addmm(self.bias, x.index_select(1, cols), self.weight.index_select(1, cols).t())
        return super().forward(x)


def make_encoder(obs_shape: Sequence[int], latent_dim: int = 64, hidden: int = 128,
                 orthogonal: bool = True, cnn_min_size: int = 12) -> nn.Module:
    """An encoder ``(n, *obs_shape) -> (n, latent_dim)``: MLP for vectors, CNN for images.

    Images smaller than ``cnn_min_size`` on a side (MiniGrid's 7x7x3 symbolic view: 147
    numbers) go through the MLP on the flattened input – as informative for such tiny
    grids and several times cheaper to train on a CPU; pass ``cnn_min_size=0`` to force
    the CNN.

    Example:
        >>> make_encoder((7, 7, 3), 16)(torch.zeros(4, 7, 7, 3)).shape
        torch.Size([4, 16])
        >>> isinstance(make_encoder((3, 64, 64), 16), nn.Sequential)   # a CNN for real images
        False
    """
    shape = tuple(int(s) for s in obs_shape)
    spatial = (shape[0], shape[1]) if _is_image(shape) and _channels_last(shape) else shape[1:]
    if _is_image(shape) and min(spatial) >= cnn_min_size:
        net: nn.Module = _Image(shape, latent_dim, channels=min(32, hidden))
    else:
        d = int(np.prod(shape))
        net = nn.Sequential(nn.Flatten(), ZeroColumnSkippingLinear(d, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden),
                            nn.LeakyReLU(), nn.Linear(hidden, latent_dim))
    if orthogonal:
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.orthogonal_(m.weight, gain=np.sqrt(2))
                nn.init.zeros_(m.bias)
    return net


def mlp(inp: int, out: int, hidden: int = 128, layers: int = 2) -> nn.Sequential:
    """A plain ReLU MLP."""
    mods: list[nn.Module] = []
    d = inp
    for _ in range(layers - 1):
        mods += [nn.Linear(d, hidden), nn.ReLU()]
        d = hidden
    mods.append(nn.Linear(d, out))
    return nn.Sequential(*mods)


class ObsNormalizer:
    """Per-feature observation whitening :math:`\\mathrm{clip}((x-\\mu)/\\sigma, -c, c)`, ``c = 5``.

    Statistics are updated explicitly (:meth:`update`) – typically once per rollout
    and from :meth:`warmup` data – never by stepping an environment.

    Example:
        >>> on = ObsNormalizer((2,))
        >>> on.update(np.array([[0.0, 10.0], [2.0, 10.0]]))
        >>> on(np.array([[2.0, 10.0]])).round(3).tolist()
        [[1.0, 0.0]]
    """

    def __init__(self, shape: Sequence[int], clip: float = 5.0, epsilon: float = 1e-8):
        self.rms = RunningMeanStd(tuple(shape), epsilon=epsilon)
        self.clip = float(clip)

    @property
    def initialised(self) -> bool:
        return self.rms.count > 0

    def update(self, obs: Any) -> None:
        x = as_float_obs(obs)
        if x.size == 0:
            return
        x = x.reshape((-1, *tuple(np.shape(self.rms.mean))))
        finite = np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)
        if not finite.all():  # a corrupt observation must not poison the statistics for good
            x = x[finite]
        n = float(x.shape[0])
        if n == 0:
            return
        b_mean = x.mean(axis=0, dtype=np.float64)  # float64 accumulation without a float64 copy
        b_var = np.square(x - b_mean.astype(np.float32)).mean(axis=0, dtype=np.float64)
        self.rms.update_from_moments(b_mean, b_var, n)  # Chan et al.'s merge, core.normalize

    def __call__(self, obs: Any) -> np.ndarray:
        x = as_float_obs(obs)
        out = (x - self.rms.mean.astype(np.float32)) / self.rms.std.astype(np.float32)
        return np.clip(out, -self.clip, self.clip, out=out)

    def state_dict(self) -> dict[str, Any]:
        return {"rms": self.rms.state_dict(), "clip": self.clip}

    def load_state_dict(self, s: Mapping[str, Any]) -> None:
        self.rms.load_state_dict(s["rms"])
        self.clip = float(s["clip"])


def forward_filtered_returns(rewards: np.ndarray, gamma: float,
                             init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Non-episodic discounted return along time, per env (RND's reward forward filter).

    :math:`R_t = \\gamma R_{t-1} + r_t` for a ``(T, n)`` array (axis 0 is time).
    Returns ``(R (T, n), R_T (n,))``.  The filter runs over *time* for each env –
    CleanRL #360 ran it over envs by iterating the transposed array.

    Example:
        >>> R, last = forward_filtered_returns(np.array([[1.0, 0.0], [1.0, 2.0]]), 0.5)
        >>> R.tolist(), last.tolist()
        ([[1.0, 0.0], [1.5, 2.0]], [1.5, 2.0])
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 2:
        raise BatchError("rewards", f"has shape {r.shape}", "(T, n_envs)")
    acc = np.zeros(r.shape[1]) if init is None else np.asarray(init, dtype=np.float64).copy()
    out = np.empty_like(r)
    for t in range(r.shape[0]):
        acc = acc * gamma + r[t]
        out[t] = acc
    return out, acc


class IntrinsicReturnScaler:
    """Divide intrinsic rewards by the running std of their forward-filtered return.

    :math:`\\hat r_t = r_t / \\sigma(R)`, :math:`R_t = \\gamma R_{t-1} + r_t` per env
    along time, never reset (the intrinsic stream is non-episodic; Burda et al. 2019).
    No centring: a centred bonus would turn novelty into a penalty.  The statistic is
    core's :class:`~rewardkit.core.normalize.RewardNormalizer` with ``statistic="return"``
    (no ``done`` is ever passed, so it never restarts); this class adds the ``(T, n)``
    rollout layout and keeps non-finite rewards out of the statistics.

    Example:
        >>> s = IntrinsicReturnScaler(gamma=0.0)
        >>> s.scale(np.array([[1.0, 3.0]])).round(3).tolist()   # std of {1, 3} is 1
        [[1.0, 3.0]]
    """

    def __init__(self, gamma: float = 0.99):
        self.norm = RewardNormalizer("return", gamma=float(gamma))

    @property
    def gamma(self) -> float:
        return self.norm.gamma

    @property
    def rms(self) -> RunningMeanStd:
        """The running moments of the filtered return."""
        return self.norm.rms

    @property
    def ret(self) -> np.ndarray | None:
        """The per-env return accumulator :math:`R`."""
        return self.norm.running_returns

    def scale(self, rewards: np.ndarray, env_index: np.ndarray | None = None, update: bool = True) -> np.ndarray:
        """Scale a ``(T, n)`` rollout (or ``(n,)`` step with ``env_index``)."""
        r = np.asarray(rewards, dtype=np.float64)
        if r.ndim not in (1, 2):
            raise BatchError("rewards", f"has shape {r.shape}", "(n_envs,) or (T, n_envs)")
        rs = np.where(np.isfinite(r), r, 0.0)  # non-finite values never enter the statistics
        if update:
            if r.ndim == 2:  # time-major flat batch: the normaliser keeps time order per env
                env_index = np.tile(np.arange(r.shape[1]), r.shape[0])
            self.norm(rs.reshape(-1), env_index=env_index)
        return r / self.norm.rms.std

    def state_dict(self) -> dict[str, Any]:
        ret = self.norm.running_returns
        return {"rms": self.norm.rms.state_dict(), "ret": None if ret is None else ret.copy(), "gamma": self.gamma}

    def load_state_dict(self, s: Mapping[str, Any]) -> None:
        self.norm.load_state_dict({"rms": s["rms"], "ret": s["ret"]})
        self.norm.gamma = float(s["gamma"])


class LearnedBonus(IntrinsicBonus):
    """Base of the torch bonuses: seeded nets, batched scoring, minibatch training.

    Subclasses build their networks in ``__init__`` inside ``with seeded(seed):``,
    set ``self.optimizer`` and implement :meth:`_score` (no grad, rows of a batch)
    and :meth:`_loss` (a minibatch -> scalar loss).
    """

    learned = True
    #: scored observations that also update the observation statistics until this many were seen
    #: (after that only :meth:`update` and :meth:`warmup` do); call :meth:`warmup` to start better
    auto_warmup_obs: int = 1024

    def __init__(self, obs_shape: Sequence[int] | None = None, observation_space: Any = None,
                 lr: float = 1e-3, batch_size: int = 256, update_epochs: int = 1,
                 update_proportion: float = 1.0, obs_norm: bool = False, num_envs: int | None = None,
                 seed: int = 0, name: str | None = None):
        super().__init__(num_envs=num_envs, seed=seed, name=name)
        self.obs_shape = space_shape(obs_shape, observation_space)
        if not 0.0 < update_proportion <= 1.0:
            raise ConfigError("update_proportion", f"got {update_proportion!r}", "a number in (0, 1]")
        if batch_size < 1:
            raise ConfigError("batch_size", f"got {batch_size!r}", "a positive int")
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.update_epochs = int(update_epochs)
        self.update_proportion = float(update_proportion)
        self.obs_norm = ObsNormalizer(self.obs_shape) if obs_norm else None
        self.torch_gen = torch.Generator().manual_seed(self.seed)
        self._nosave_params: list[torch.nn.Parameter] = []
        self._nosave_in_update = False
        self._optimizer: torch.optim.Optimizer | None = None

    # optimiser (built lazily: torch's first Adam construction imports torch._dynamo, ~2-4 s) --------
    def set_trainable(self, params: Any) -> None:
        """Declare the parameters :meth:`update` trains (Adam with ``lr``)."""
        self._nosave_params = list(params)
        self._optimizer = None

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            params = self._nosave_params or [torch.nn.Parameter(torch.zeros(1))]
            try:  # the fused CPU kernel (torch >= 2.4) skips most per-tensor overhead
                self._optimizer = torch.optim.Adam(params, lr=self.lr, fused=True)
            except (RuntimeError, TypeError, ValueError):  # pragma: no cover - older torch
                self._optimizer = torch.optim.Adam(params, lr=self.lr)
        return self._optimizer

    def state_dict(self) -> dict[str, Any]:
        _ = self.optimizer  # materialise so the optimiser state is saved
        return super().state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        _ = self.optimizer
        super().load_state_dict(state)

    # obs ------------------------------------------------------------------
    def _obs_tensor(self, obs: Any) -> torch.Tensor:
        x = as_float_obs(obs)
        if x.shape[1:] != self.obs_shape:
            raise BatchError("obs", f"has shape {x.shape[1:]} per row", f"{self.obs_shape} (obs_shape)")
        if self.obs_norm is not None:
            if not self.obs_norm.initialised or (not self._nosave_in_update
                                                 and self.obs_norm.rms.count < self.auto_warmup_obs):
                self.obs_norm.update(x)  # auto warm-up from the first scored observations
            x = self.obs_norm(x)
        return torch.from_numpy(np.ascontiguousarray(x))

    def warmup(self, obs: Any) -> None:
        """Initialise observation normalisation from observations ``(N, *obs_shape)`` or ``(T, n, *obs_shape)``."""
        if self.obs_norm is not None:
            x = as_float_obs(obs)
            self.obs_norm.update(x.reshape((-1, *self.obs_shape)))

    # scoring ----------------------------------------------------------------
    def _score(self, obs: torch.Tensor, next_obs: torch.Tensor, actions: Any) -> np.ndarray:
        raise NotImplementedError

    def _loss(self, obs: torch.Tensor, next_obs: torch.Tensor, actions: Any,
              mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def _post(self, raw: np.ndarray, env_index: np.ndarray | None, rollout: bool) -> np.ndarray:
        """Turn raw scores into the returned bonus (e.g. reward scaling)."""
        return raw

    def _needs_obs(self) -> bool:
        return True

    def _observe(self, obs: Any, action: Any, next_obs: Any, env_index: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            o = self._obs_tensor(obs) if self._needs_obs() else None
            raw = self._score(o, self._obs_tensor(next_obs), action)
        return self._post(raw, env_index, rollout=False)

    def compute(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Score a ``(T, n, ...)`` rollout in one batched forward pass -> ``(T, n)``."""
        if self.episodic:
            return super().compute(batch)
        obs, acts, nxt, _term, _trunc, T, n = rollout_arrays(batch)
        if T * n == 0:
            return np.zeros((T, n))
        flat = lambda x: as_float_obs(x).reshape((T * n, *self.obs_shape))  # noqa: E731
        with torch.no_grad():
            o = self._obs_tensor(flat(obs)) if self._needs_obs() else None
            raw = self._score(o, self._obs_tensor(flat(nxt)), np.asarray(acts).reshape((T * n, *np.shape(acts)[2:])))
        self.global_step += T * n
        return self._post(np.asarray(raw).reshape(T, n), None, rollout=True)

    def _embed_consecutive(self, obs: Any, next_obs: Any, done: np.ndarray,
                           encode: Any) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of ``obs`` and ``next_obs`` of a ``(T, n)`` rollout, encoding each state once.

        In a rollout :math:`s_{t+1}` of one step is :math:`s_t` of the next unless the
        episode ended, so ``obs[t]`` reuses the embedding of ``next_obs[t-1]`` where the
        two rows are bit-identical (checked, so an arbitrary batch stays exact) and only
        the other rows – episode starts – are encoded: about half the encoder work.
        """
        x_obs, x_nxt = as_float_obs(obs), as_float_obs(next_obs)
        T, n = x_nxt.shape[:2]
        e_nxt = encode(x_nxt.reshape((T * n, *x_nxt.shape[2:]))).reshape(T, n, -1)
        reuse = np.zeros((T, n), dtype=bool)
        if T > 1:
            reuse[1:] = ~done[:-1] & (x_obs[1:] == x_nxt[:-1]).reshape(T - 1, n, -1).all(axis=2)
        e_obs = np.empty_like(e_nxt)
        e_obs[1:][reuse[1:]] = e_nxt[:-1][reuse[1:]]
        if (~reuse).any():
            e_obs[~reuse] = encode(x_obs[~reuse])
        return e_obs, e_nxt

    def _scan_episodic_rollout(self, batch: Mapping[str, Any], scan: Any) -> np.ndarray:
        """Score a ``(T, n)`` rollout for an episodic memory, exactly as step-by-step ``observe`` would.

        One batched encoder pass over ``next_obs`` and over the episode-start observations,
        then ``scan(emb, emb0, starts, done) -> (T, n)`` bonuses: ``emb[t]`` embeds
        ``next_obs[t]``; ``starts[t]`` marks envs whose ``obs[t]`` is the :math:`s_0` of an
        episode to register first (a fresh env at ``t = 0``, or an episode end at ``t - 1``),
        embedded in ``emb0[t]``; ``done = terminated | truncated``.  ``scan`` updates the
        memory and resets the envs whose episode ended.
        """
        obs, _, nxt, term, trunc, T, n = rollout_arrays(batch)
        if T * n == 0:
            return np.zeros((T, n))
        emb = self.embed(as_float_obs(nxt).reshape((T * n, *self.obs_shape))).reshape(T, n, -1)
        self.slots.ensure(np.arange(n))
        self._ensure_envs(self.slots.fresh.shape[0])
        done = term | trunc
        starts = np.zeros((T, n), dtype=bool)
        starts[0] = self.slots.fresh[:n]
        starts[1:] = done[:-1]
        emb0 = np.zeros_like(emb)
        if starts.any():
            rows = np.argwhere(starts)
            emb0[rows[:, 0], rows[:, 1]] = self.embed(as_float_obs(obs)[rows[:, 0], rows[:, 1]])
        out = scan(emb, emb0, starts, done)
        self.slots.fresh[:n] = done[-1]
        self.global_step += T * n
        return out

    def update(self, batch: Mapping[str, Any]) -> dict[str, float]:
        """Train on a rollout ``(T, n, ...)`` or flat ``(N, ...)`` batch: ``update_epochs`` passes of minibatches.

        Each sample enters the loss with probability ``update_proportion`` (Burda et al. 2019).
        """
        obs, nxt = batch.get("obs"), batch.get("next_obs")
        if nxt is None:
            raise BatchError("batch.next_obs", "missing", "an array (T, n_envs, ...) or (N, ...)")
        nx = as_float_obs(nxt)
        lead = nx.ndim - len(self.obs_shape)
        if lead not in (1, 2) or nx.shape[lead:] != self.obs_shape:
            raise BatchError("batch.next_obs", f"has shape {nx.shape}", f"(T, n, *{self.obs_shape}) or (N, *{self.obs_shape})")
        N = int(np.prod(nx.shape[:lead]))
        nx = nx.reshape((N, *self.obs_shape))
        ob = as_float_obs(obs).reshape((N, *self.obs_shape)) if obs is not None else nx
        acts = batch.get("actions", batch.get("action"))
        acts = np.zeros(N, dtype=np.int64) if acts is None else np.asarray(acts)
        acts = acts.reshape((N, *acts.shape[lead:]))
        ints = all(isinstance(x, np.ndarray) and x.dtype.kind in "biu" for x in (nxt, obs if obs is not None else nxt))
        ok = None if ints else (np.isfinite(nx.reshape(N, -1)).all(axis=1) & np.isfinite(ob.reshape(N, -1)).all(axis=1))
        if ok is not None and not ok.all():  # corrupt rows must not reach the networks (integer obs are finite)
            nx, ob, acts = nx[ok], ob[ok], acts[ok]
            N = int(ok.sum())
            if N == 0:
                return {}
        if self.obs_norm is not None:
            self.obs_norm.update(nx)
        self._nosave_in_update = True
        try:
            n_t = self._obs_tensor(nx)
            o_t = self._obs_tensor(ob) if self._needs_obs() and obs is not None else n_t
        finally:
            self._nosave_in_update = False
        # one-hot-heavy flat observations: drop the columns that are zero in the whole batch once,
        # instead of in every minibatch (ZeroColumnSkippingLinear; same function and gradients)
        layers = [m for v in vars(self).values() if isinstance(v, nn.Module)
                  for m in v.modules() if isinstance(m, ZeroColumnSkippingLinear)]
        if layers and len(self.obs_shape) == 1 and N >= ZeroColumnSkippingLinear.min_rows:
            cols = used_columns(n_t) if o_t is n_t else used_columns(n_t, o_t)
            if cols.numel() <= ZeroColumnSkippingLinear.max_fraction * self.obs_shape[0]:
                n_t, o_t = n_t.index_select(1, cols), (o_t.index_select(1, cols) if o_t is not n_t else None)
                o_t = n_t if o_t is None else o_t
                for m in layers:
                    m.input_columns = cols
        try:
            return self._train_epochs(o_t, n_t, acts, N)
        finally:
            for m in layers:
                m.input_columns = None

    def _train_epochs(self, o_t: torch.Tensor, n_t: torch.Tensor, acts: np.ndarray, N: int) -> dict[str, float]:
        logs: dict[str, float] = {}
        total = 0
        for _ in range(self.update_epochs):
            perm = torch.randperm(N, generator=self.torch_gen)
            for s in range(0, N, self.batch_size):
                idx = perm[s: s + self.batch_size]
                mask = (torch.rand(idx.shape[0], generator=self.torch_gen) < self.update_proportion).float()
                if mask.sum() == 0:
                    continue
                loss, parts = self._loss(o_t[idx], n_t[idx], acts[idx.numpy()], mask)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                for k, v in parts.items():
                    logs[k] = logs.get(k, 0.0) + v
                total += 1
        return {k: v / max(total, 1) for k, v in logs.items()}


def masked_mean(per_sample: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``per_sample`` over the rows where ``mask`` is 1."""
    return (per_sample * mask).sum() / mask.sum().clamp_min(1.0)


class ReturnScaledBonus(LearnedBonus):
    """A learned bonus on :math:`s_{t+1}` scaled by the running std of its intrinsic return (RND, RDD).

    With ``reward_norm`` the raw bonus is divided by the std of
    :math:`R_t = \\gamma_{int} R_{t-1} + b_t`, accumulated along time per env and never
    reset (:class:`IntrinsicReturnScaler`, Burda et al. 2019).
    """

    def _init_return_scaling(self, reward_norm: bool, gamma_int: float) -> None:
        if not 0.0 <= gamma_int <= 1.0:
            raise ConfigError("gamma_int", f"got {gamma_int!r}", "a number in [0, 1]")
        self.reward_norm = bool(reward_norm)
        self.scaler = IntrinsicReturnScaler(gamma_int)

    def _needs_obs(self) -> bool:
        return False

    def _post(self, raw: np.ndarray, env_index: np.ndarray | None, rollout: bool) -> np.ndarray:
        return self.scaler.scale(raw, env_index=env_index) if self.reward_norm else raw
