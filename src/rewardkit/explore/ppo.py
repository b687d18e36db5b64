"""PPO with two value heads (extrinsic and intrinsic), CleanRL style, one file, CPU.

Why two heads.  A single critic must predict :math:`\\sum_t \\gamma^t (r^{ext}_t + \\beta b_t)`
with one discount and one notion of "episode end".  Burda et al. (2019, "Exploration
by Random Network Distillation", ICLR) split the two streams:

* extrinsic: episodic, discount :math:`\\gamma_{ext}`; truncated episodes bootstrap
  from :math:`V_{ext}` of the true final observation;
* intrinsic: **non-episodic** (an episode end is just another transition, so the
  agent is not rewarded for ending an episode to reach a novel start state, nor
  punished for being reset), discount :math:`\\gamma_{int}`;

each with its own GAE (Schulman et al. 2016), combined as

.. math:: A_t = c_{ext} A^{ext}_t + c_{int} A^{int}_t

and two value losses.  Everything else is standard clipped PPO (Schulman et al. 2017,
"Proximal Policy Optimization Algorithms").  The intrinsic reward of the whole
rollout is computed after collection in one :meth:`IntrinsicBonus.compute` call
(before GAE, the order RLLTE 1.0.1's on-policy agent gets wrong), then the bonus model
is trained with :meth:`IntrinsicBonus.update`.

Environments are gymnasium vector envs in ``SAME_STEP`` autoreset mode, so each
step is one real transition and the final observation comes from
``info["final_obs"]``.  Observations are flattened to float vectors (use
``FlatObsWrapper`` for MiniGrid).  ``torch.set_num_threads(1)``.

Example (a few hundred steps on CartPole, with a global count bonus):
    >>> import gymnasium as gym
    >>> from rewardkit.explore.counts import CountBonus
    >>> from rewardkit.explore.ppo import PPOConfig, train
    >>> cfg = PPOConfig(num_envs=2, num_steps=32, total_timesteps=128, seed=0)
    >>> out = train(lambda: gym.make("CartPole-v1"), cfg, bonus=CountBonus(mode="global"))
    >>> len(out["history"]), out["history"][-1]["global_step"]
    (2, 128)
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from collections.abc import Callable

from rewardkit.core.extras import missing_extra

try:
    import gymnasium as gym
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None
import numpy as np
try:
    import torch
    import torch.nn as nn
except ModuleNotFoundError as _e:
    raise missing_extra(_e, "rl") from None

from ..core.errors import ConfigError
from ..core.gae import gae
from ..core.seeding import seeded
from .base import IntrinsicBonus
from .sb3 import bonus_share, score_rollout
from .coverage import CoverageTracker

__all__ = ["Agent", "PPOConfig", "train", "two_stream_gae"]


@dataclass
class PPOConfig:
    """Hyper-parameters (defaults: a CPU-size MiniGrid setting; CleanRL names)."""

    num_envs: int = 8
    num_steps: int = 128
    total_timesteps: int = 500_000
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True
    gamma: float = 0.99            # extrinsic discount
    gamma_int: float = 0.99        # intrinsic discount
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    ext_coef: float = 1.0          # weight of the extrinsic advantage
    int_coef: float = 1.0          # weight of the intrinsic advantage
    bonus_coef: float = 1.0        # multiplier of the bonus before the intrinsic GAE
    int_episodic: bool = False     # True: the intrinsic stream also stops at episode ends
    hidden: int = 64
    seed: int = 0

    def check(self) -> None:
        for f in ("num_envs", "num_steps", "total_timesteps", "num_minibatches", "update_epochs", "hidden"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(f, f"got {v!r}", "a positive int")
        for f in ("gamma", "gamma_int", "gae_lambda"):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f, f"got {v!r}", "a number in [0, 1]")
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ConfigError("num_minibatches", f"{self.num_minibatches} does not divide "
                              f"num_envs*num_steps={self.num_envs * self.num_steps}", "a divisor of the batch size")


def _layer(i: int, o: int, std: float = float(np.sqrt(2))) -> nn.Linear:
    lin = nn.Linear(i, o)
    nn.init.orthogonal_(lin.weight, std)
    nn.init.constant_(lin.bias, 0.0)
    return lin


class Agent(nn.Module):
    """Shared MLP trunk; a categorical actor and two critics (extrinsic, intrinsic)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.trunk = nn.Sequential(_layer(obs_dim, hidden), nn.Tanh(), _layer(hidden, hidden), nn.Tanh())
        self.actor = _layer(hidden, n_actions, std=0.01)
        self.critic_ext = _layer(hidden, 1, std=1.0)
        self.critic_int = _layer(hidden, 1, std=1.0)

    def values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.critic_ext(h).squeeze(-1), self.critic_int(h).squeeze(-1)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None):
        h = self.trunk(x)
        dist = torch.distributions.Categorical(logits=self.actor(h))
        if action is None:
            action = dist.sample()
        return (action, dist.log_prob(action), dist.entropy(),
                self.critic_ext(h).squeeze(-1), self.critic_int(h).squeeze(-1))


def two_stream_gae(r_ext: np.ndarray, r_int: np.ndarray, v_ext: np.ndarray, v_int: np.ndarray,
                   v_ext_next: np.ndarray, v_int_next: np.ndarray, terminated: np.ndarray, done: np.ndarray,
                   gamma: float, gamma_int: float, lam: float, int_episodic: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """GAE for both streams over a ``(T, n)`` rollout: two calls to :func:`rewardkit.core.gae`.

    Extrinsic (episodic): :math:`\\delta_t = r_t + \\gamma (1-\\text{term}_t) V_{ext}(s'_t) - V_{ext}(s_t)`,
    :math:`A_t = \\delta_t + \\gamma\\lambda (1-\\text{done}_t) A_{t+1}`, with ``v_ext_next[t]``
    the value of the true next state (the final observation at an episode end).

    Intrinsic (non-episodic, CleanRL's RND convention): the next state of step ``t`` is
    the next *stored* state ``v_int_next[t]`` (the reset state after an episode end)
    and nothing is masked; with ``int_episodic=True`` it uses the extrinsic masks.

    Example:
        >>> z = np.zeros((2, 1)); d = np.array([[True], [False]])
        >>> a_e, a_i = two_stream_gae(np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]]), z, z, z, z,
        ...                           d, d, gamma=0.5, gamma_int=0.5, lam=1.0)
        >>> a_e.ravel().tolist(), a_i.ravel().tolist()   # the intrinsic stream crosses the episode end
        ([1.0, 0.0], [0.5, 1.0])
    """
    term = np.asarray(terminated, dtype=bool)
    ends = np.asarray(done, dtype=bool)
    adv_e = gae(r_ext, v_ext, v_ext_next, gamma * (1.0 - term), lam, episode_ends=ends)
    if int_episodic:
        adv_i = gae(r_int, v_int, v_int_next, gamma_int * (1.0 - term), lam, episode_ends=ends)
    else:
        adv_i = gae(r_int, v_int, v_int_next, gamma_int, lam)
    return adv_e, adv_i


def _flat(obs: Any) -> np.ndarray:
    a = np.asarray(obs, dtype=np.float32)
    return a.reshape(a.shape[0], -1)


def train(make_env: Callable[[], gym.Env], config: PPOConfig | None = None, bonus: IntrinsicBonus | None = None,
          key_info: str | None = None, log: Callable[[dict[str, Any]], None] | None = None,
          tensorboard_dir: str | None = None) -> dict[str, Any]:
    """Train PPO (two heads if ``bonus`` is given) and return ``{"agent", "history", "coverage", "config"}``.

    Args:
        make_env: a thunk building one (flat-observation, discrete-action) env.
        config: :class:`PPOConfig`.
        bonus: an :class:`~rewardkit.explore.base.IntrinsicBonus` (``None``: plain PPO).
        key_info: read count keys / coverage cells from ``info[key_info]`` (e.g. ``"agent_pos"``).
        log: called with each iteration's metrics dict.
        tensorboard_dir: also write the metrics as TensorBoard scalars there.

    ``history`` has one dict per iteration: ``global_step``, ``sps``, ``return_mean``
    (extrinsic, last 100 episodes), ``success_rate`` (share of those with return > 0),
    ``episodes``, ``bonus_raw_mean``, ``bonus_share``, ``unique_cells`` and the losses.
    """
    cfg = config or PPOConfig()
    cfg.check()
    if bonus is not None and not isinstance(bonus, IntrinsicBonus):
        raise ConfigError("bonus", f"is a {type(bonus).__name__}", "an IntrinsicBonus or None")
    torch.set_num_threads(1)
    with seeded(cfg.seed, torch=True) as rng:  # local: the caller's global torch RNG is left alone
        return _train(make_env, cfg, bonus, key_info, log, tensorboard_dir, rng)


def _true_next_obs(obs: Any, done: np.ndarray, info: dict[str, Any]) -> np.ndarray:
    """The observation each env really reached: ``info["final_obs"]`` where an episode just ended (same-step reset)."""
    nxt = np.array(obs, dtype=np.float32, copy=True)
    for e in np.flatnonzero(done):
        nxt[e] = info["final_obs"][e]
    return nxt


def _step_keys(info: dict[str, Any], key_info: str, done: np.ndarray) -> list[tuple]:
    """One step's count key per env, read from ``info[key_info]`` (at an episode end: the final step's key)."""
    col = info.get(key_info)
    if col is None:
        raise ConfigError(f"info.{key_info}", "missing", "each step's info to carry the key")
    final = info.get("final_info", {}).get(key_info)
    return [tuple(np.asarray(final[e] if done[e] and final is not None else col[e]).reshape(-1).tolist())
            for e in range(len(done))]


def _ppo_update(agent: Agent, optimizer: torch.optim.Optimizer, cfg: PPOConfig, rng: np.random.Generator,
                batch: tuple[torch.Tensor, ...], minibatch: int, use_int: bool) -> dict[str, float]:
    """``cfg.update_epochs`` epochs of clipped-surrogate PPO minibatch steps on one rollout.

    ``batch`` is ``(obs, actions, old log-probs, advantages, extrinsic returns, intrinsic returns)``, flattened
    over time and envs; the intrinsic value head is fitted only when ``use_int``. Returns the last minibatch's
    losses and the mean clip fraction.
    """
    b_obs, b_act, b_logp, b_adv, b_ret_e, b_ret_i = batch
    batch_size = len(b_act)
    clipfracs = []
    for _ in range(cfg.update_epochs):
        perm = rng.permutation(batch_size)
        for s in range(0, batch_size, minibatch):
            mb = torch.from_numpy(perm[s: s + minibatch])
            _, new_logp, entropy, v_e, v_i = agent.act(b_obs[mb], b_act[mb])
            ratio = (new_logp - b_logp[mb]).exp()
            mb_adv = b_adv[mb]
            mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
            pg_loss = torch.max(-mb_adv * ratio,
                                -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
            v_loss = 0.5 * (v_e - b_ret_e[mb]).pow(2).mean()
            if use_int:
                v_loss = v_loss + 0.5 * (v_i - b_ret_i[mb]).pow(2).mean()
            loss = pg_loss - cfg.ent_coef * entropy.mean() + cfg.vf_coef * v_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
            optimizer.step()
            clipfracs.append(float(((ratio - 1.0).abs() > cfg.clip_coef).float().mean()))
    return {"pg_loss": float(pg_loss.detach()), "v_loss": float(v_loss.detach()),
            "entropy": float(entropy.mean().detach()), "clipfrac": float(np.mean(clipfracs))}


def _write_scalars(writer: Any, row: dict[str, Any], step: int) -> None:
    """The numeric entries of one history row as TensorBoard scalars ``rk/<name>``."""
    for k, v in row.items():
        if isinstance(v, (int, float)) and v is not None:
            writer.add_scalar(f"rk/{k}", v, step)


def _train(make_env: Callable[[], gym.Env], cfg: PPOConfig, bonus: IntrinsicBonus | None, key_info: str | None,
           log: Callable[[dict[str, Any]], None] | None, tensorboard_dir: str | None,
           rng: np.random.Generator) -> dict[str, Any]:
    writer = None
    if tensorboard_dir is not None:
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(tensorboard_dir)

    # ---- environments (one real transition per step; final obs in info) ----
    envs = gym.vector.SyncVectorEnv([make_env for _ in range(cfg.num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    if not isinstance(envs.single_action_space, gym.spaces.Discrete):
        raise ConfigError("make_env", f"action space is {envs.single_action_space}", "a Discrete action space")
    obs_shape = envs.single_observation_space.shape
    obs_dim = int(np.prod(obs_shape))
    agent = Agent(obs_dim, int(envs.single_action_space.n), cfg.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=cfg.learning_rate, eps=1e-5)
    use_int = bonus is not None

    T, n = cfg.num_steps, cfg.num_envs
    obs_buf = np.zeros((T, n, *tuple(obs_shape)), dtype=np.float32)
    next_buf = np.zeros_like(obs_buf)
    act_buf = np.zeros((T, n), dtype=np.int64)
    logp_buf = np.zeros((T, n), dtype=np.float32)
    rew_buf = np.zeros((T, n))
    term_buf = np.zeros((T, n), dtype=bool)
    trunc_buf = np.zeros((T, n), dtype=bool)
    v_ext_buf = np.zeros((T, n))
    v_int_buf = np.zeros((T, n))

    batch_size = T * n
    minibatch = batch_size // cfg.num_minibatches
    iterations = max(1, cfg.total_timesteps // batch_size)
    obs, _ = envs.reset(seed=[cfg.seed + i for i in range(n)])
    ep_ret = np.zeros(n)
    recent: deque[float] = deque(maxlen=100)
    episodes = 0
    coverage = CoverageTracker() if key_info else None
    history: list[dict[str, Any]] = []
    global_step = 0
    start = time.time()

    for it in range(1, iterations + 1):
        if cfg.anneal_lr:
            optimizer.param_groups[0]["lr"] = cfg.learning_rate * (1.0 - (it - 1.0) / iterations)
        keys: list[list] | None = [] if key_info else None

        # ---- 1. collect a rollout ----
        for t in range(T):
            obs_buf[t] = obs
            with torch.no_grad():
                a, logp, _, v_e, v_i = agent.act(torch.from_numpy(_flat(obs)))
            act_buf[t], logp_buf[t] = a.numpy(), logp.numpy()
            v_ext_buf[t], v_int_buf[t] = v_e.numpy(), v_i.numpy()
            obs, r, term, trunc, info = envs.step(a.numpy())
            global_step += n
            done = term | trunc
            nxt = _true_next_obs(obs, done, info)
            next_buf[t], rew_buf[t], term_buf[t], trunc_buf[t] = nxt, r, term, trunc
            ep_ret += r
            for e in np.flatnonzero(done):
                recent.append(float(ep_ret[e]))
                episodes += 1
                ep_ret[e] = 0.0
            if keys is not None:
                row = _step_keys(info, str(key_info), done)
                keys.append(row)
                if coverage is not None:
                    coverage.update(row)

        # ---- 2. intrinsic reward of the whole rollout, before GAE ----
        rollout = {"obs": obs_buf, "actions": act_buf, "next_obs": next_buf,
                   "terminated": term_buf, "truncated": trunc_buf}
        r_int = np.zeros((T, n))
        bonus_logs: dict[str, float] = {}
        if use_int:
            raw = score_rollout(bonus, rollout, keys)
            r_int = cfg.bonus_coef * raw
            bonus_logs = dict(bonus.update(rollout) or {}) if bonus.learned else {}

        # ---- 3. two-stream GAE ----
        with torch.no_grad():
            v_e_next, v_i_next_true = agent.values(torch.from_numpy(_flat(next_buf.reshape((T * n, *obs_shape)))))
            _, v_i_last = agent.values(torch.from_numpy(_flat(obs)))
        v_e_next = v_e_next.numpy().reshape(T, n)
        v_i_next = np.concatenate([v_int_buf[1:], v_i_last.numpy()[None]], axis=0)  # next *stored* state
        if cfg.int_episodic:
            v_i_next = v_i_next_true.numpy().reshape(T, n)
        adv_e, adv_i = two_stream_gae(rew_buf, r_int, v_ext_buf, v_int_buf, v_e_next, v_i_next, term_buf,
                                      term_buf | trunc_buf, cfg.gamma, cfg.gamma_int, cfg.gae_lambda,
                                      cfg.int_episodic)
        ret_e, ret_i = adv_e + v_ext_buf, adv_i + v_int_buf
        adv = cfg.ext_coef * adv_e + (cfg.int_coef * adv_i if use_int else 0.0)

        # ---- 4. PPO update ----
        b_obs = torch.from_numpy(_flat(obs_buf.reshape((T * n, *obs_shape))))
        b_act = torch.from_numpy(act_buf.reshape(-1))
        b_logp = torch.from_numpy(logp_buf.reshape(-1))
        b_adv = torch.from_numpy(adv.reshape(-1).astype(np.float32))
        b_ret_e = torch.from_numpy(ret_e.reshape(-1).astype(np.float32))
        b_ret_i = torch.from_numpy(ret_i.reshape(-1).astype(np.float32))
        losses = _ppo_update(agent, optimizer, cfg, rng, (b_obs, b_act, b_logp, b_adv, b_ret_e, b_ret_i),
                             minibatch, use_int)

        # ---- 5. log ----
        row: dict[str, Any] = {
            "iteration": it, "global_step": global_step, "sps": global_step / (time.time() - start),
            "return_mean": float(np.mean(recent)) if recent else 0.0,
            "success_rate": float(np.mean(np.asarray(recent) > 0)) if recent else 0.0,
            "episodes": episodes, **losses,
            "bonus_raw_mean": float(r_int.mean() / cfg.bonus_coef) if use_int and cfg.bonus_coef else 0.0,
            "bonus_scaled_mean": float(r_int.mean()),
            "bonus_share": bonus_share(r_int, rew_buf) if use_int else 0.0,
            "unique_cells": coverage.unique if coverage is not None else None,
        }
        row.update({f"bonus/{k}": v for k, v in bonus_logs.items()})
        history.append(row)
        if log is not None:
            log(row)
        if writer is not None:
            _write_scalars(writer, row, global_step)
    envs.close()
    if writer is not None:
        writer.close()
    return {"agent": agent, "history": history, "coverage": coverage, "config": asdict(cfg)}
