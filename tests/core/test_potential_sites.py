"""Every potential-shaping site in rewardkit obeys the one terminal convention of
:func:`rewardkit.core.potential_difference`: Phi = 0 at termination, kept at truncation.

Part A runs each transition-level site on the same random episodes (terminated ones end
anywhere, including an "absorbing" state; truncated ones end anywhere else) and checks the
telescoping identity of Ng et al. (1999):

* terminated: sum_t gamma^t (r_t + F_t) = R - Phi(s_0);
* truncated:  sum_t gamma^t (r_t + F_t) = R + gamma^T Phi(s_T) - Phi(s_0).

Every potential is non-zero everywhere, so a site that keeps Phi(s_T) at termination, or
zeroes it at truncation, fails.  Part B checks the tabular sites exactly: the shaped optimal
Q-values are Q* - Phi on non-terminal states and the optimal actions are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from rewardkit.core import ConfigError, TransitionBatch, potential_difference

S = 6              # states 0..S-2 are ordinary; S-1 only ever ends a terminated episode ("absorbing")
A = 3
GAMMA = 0.9


@dataclass
class Episode:
    states: np.ndarray      # s_0 .. s_T
    actions: np.ndarray     # a_0 .. a_T (a_T: the action the agent would take next, for action potentials)
    rewards: np.ndarray     # r_0 .. r_{T-1}
    terminated: bool

    @property
    def T(self) -> int:
        return len(self.rewards)

    def flags(self) -> tuple[np.ndarray, np.ndarray]:
        term = np.zeros(self.T, dtype=bool)
        trunc = np.zeros(self.T, dtype=bool)
        (term if self.terminated else trunc)[-1] = True
        return term, trunc


def random_episodes(seed: int, n: int = 40, terminated_only: bool | None = None) -> list[Episode]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        T = int(rng.integers(1, 8))
        terminated = bool(i % 2 == 0) if terminated_only is None else terminated_only
        states = rng.integers(0, S - 1, size=T + 1)
        if terminated and rng.random() < 0.5:
            states[-1] = S - 1
        out.append(Episode(states, rng.integers(0, A, size=T + 1), rng.normal(size=T), terminated))
    return out


def check_telescoping(site: Callable[[Episode], np.ndarray], potential: Callable[[Episode, int], float],
                      episodes: list[Episode]) -> None:
    """``site(ep)`` -> the shaping F_t of each step; ``potential(ep, t)`` -> Phi at step t of ep."""
    for ep in episodes:
        F = np.asarray(site(ep), dtype=np.float64).reshape(-1)
        assert F.shape == (ep.T,)
        disc = GAMMA ** np.arange(ep.T)
        R = float(disc @ ep.rewards)
        end = 0.0 if ep.terminated else GAMMA ** ep.T * potential(ep, ep.T)
        expected = R + end - potential(ep, 0)
        assert float(disc @ (ep.rewards + F)) == pytest.approx(expected, abs=1e-9), (ep, F)


def _phi_table(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1.0 + np.abs(rng.normal(size=shape)) * 3.0     # >= 1 everywhere, also on the absorbing state


def _batch(ep: Episode, obs: Any = None, next_obs: Any = None, info: Any = None) -> TransitionBatch:
    term, trunc = ep.flags()
    return TransitionBatch.from_arrays(ep.states[:-1] if obs is None else obs, ep.actions[:-1],
                                       ep.states[1:] if next_obs is None else next_obs, ep.rewards,
                                       terminated=term, truncated=trunc, info=info)


def state_potential(phi: np.ndarray) -> Callable[[Episode, int], float]:
    return lambda ep, t: float(phi[ep.states[t]])


# ----------------------------------------------------------------------------- Part A: telescoping
def test_the_primitive_itself():
    phi = _phi_table(0, (S,))

    def site(ep: Episode) -> np.ndarray:
        term, _ = ep.flags()
        return potential_difference(phi[ep.states[:-1]], phi[ep.states[1:]], GAMMA, term)

    check_telescoping(site, state_potential(phi), random_episodes(1))


def test_primitive_rejects_a_bad_gamma_naming_the_field():
    with pytest.raises(ConfigError, match="gamma"):
        potential_difference([0.0], [1.0], 1.5)


def test_primitive_keeps_torch_gradients():
    torch = pytest.importorskip("torch")
    phi = torch.tensor([1.0, 2.0], requires_grad=True)
    F = potential_difference(phi[:1], phi[1:], 0.5, torch.tensor([False]))
    F.sum().backward()
    assert phi.grad.tolist() == [-1.0, 0.5]
    assert potential_difference(phi[:1], phi[1:], 0.5, np.array([True])).tolist() == [-1.0]


def test_shaping_PotentialShaping():
    from rewardkit.shaping import PotentialShaping
    phi = _phi_table(2, (S,))
    term = PotentialShaping(phi, gamma=GAMMA)
    check_telescoping(lambda ep: term(_batch(ep)), state_potential(phi), random_episodes(3))


def test_shaping_potential_shaping_config_term():
    from rewardkit.core import build_reward
    phi = _phi_table(4, (S,))
    reward = build_reward({"terms": [{"type": "potential_shaping", "name": "F",
                                      "params": {"potential": phi.tolist(), "gamma": GAMMA}}]})
    check_telescoping(lambda ep: reward.compute(_batch(ep)), state_potential(phi), random_episodes(5))


def test_shaping_DynamicPotentialShaping_step_by_step():
    from rewardkit.shaping import DynamicPotentialShaping
    phi = _phi_table(6, (S,))

    def pot(obs: Any, t: np.ndarray) -> np.ndarray:          # a time-dependent potential Phi(s, t)
        return phi[np.asarray(obs)] + 0.3 * np.asarray(t)

    term = DynamicPotentialShaping(pot, gamma=GAMMA)         # one term across all episodes: its cache resets

    def site(ep: Episode) -> np.ndarray:                     # one transition per call, as a wrapper does
        tf, tr = ep.flags()
        return np.array([float(term(TransitionBatch.from_arrays(
            ep.states[t:t + 1], ep.actions[t:t + 1], ep.states[t + 1:t + 2], ep.rewards[t:t + 1],
            terminated=tf[t:t + 1], truncated=tr[t:t + 1]))[0]) for t in range(ep.T)])

    check_telescoping(site, lambda ep, t: float(phi[ep.states[t]] + 0.3 * t), random_episodes(7))


def test_shaping_look_ahead_advice():
    from rewardkit.shaping import look_ahead_advice
    phi = _phi_table(8, (S, A))

    def site(ep: Episode) -> np.ndarray:
        term, _ = ep.flags()
        return look_ahead_advice(phi, ep.states[:-1], ep.actions[:-1], ep.states[1:], ep.actions[1:], GAMMA, term)

    check_telescoping(site, lambda ep, t: float(phi[ep.states[t], ep.actions[t]]), random_episodes(9))


def test_spec_RMShaping():
    from rewardkit.spec import RewardMachine, RMShaping
    text = "0\n[5]\n" + "\n".join(f"({u},{u + 1},'a',0)" for u in range(5))
    rm = RewardMachine.from_text(text)
    assert (rm.n_states, rm.terminal) == (S - 1, S - 1)      # RM states = our states, the last one terminal
    term = RMShaping(rm, gamma=GAMMA)
    phi = _phi_table(10, (S,))
    term.phi = phi                                           # any potential over RM states (terminal included)

    def site(ep: Episode) -> np.ndarray:
        info = [{"rm_state": int(u), "rm_next_state": int(u2)}
                for u, u2 in zip(ep.states[:-1], ep.states[1:], strict=True)]
        return term(_batch(ep, np.zeros(ep.T), np.zeros(ep.T), info))

    check_telescoping(site, state_potential(phi), random_episodes(11))


def test_integrations_DoorKeyShaping_on_real_minigrid_states():
    pytest.importorskip("minigrid")
    from rewardkit.integrations.minigrid import DoorKeyShaping, MiniGridStateInfo, doorkey_potential
    env = MiniGridStateInfo(gym.make("MiniGrid-DoorKey-5x5-v0"))
    rng = np.random.default_rng(12)
    seen: dict[bytes, np.ndarray] = {}
    _, info = env.reset(seed=0)
    while len(seen) < S:                                     # S distinct real states from a random walk
        seen.setdefault(info["minigrid/state"].tobytes(), info["minigrid/state"])
        _, _, te, tr, info = env.step(int(rng.integers(0, 6)))
        if te or tr:
            _, info = env.reset(seed=int(rng.integers(1000)))
    states = np.stack(list(seen.values())[:S])
    offset = 0.5
    term = DoorKeyShaping(gamma=GAMMA, offset=offset)
    phi = offset + doorkey_potential(states, term.subgoal_cost)
    assert np.all(phi != 0.0)

    def site(ep: Episode) -> np.ndarray:
        info = [{"minigrid/prev_state": states[u], "minigrid/state": states[u2]}
                for u, u2 in zip(ep.states[:-1], ep.states[1:], strict=True)]
        return term(_batch(ep, info=info))

    check_telescoping(site, state_potential(phi), random_episodes(13))


def test_learn_AIRL_f_shaping_part():
    from rewardkit.learn import AdversarialReward, MLPReward
    phi = _phi_table(14, (S,))
    airl = AdversarialReward("airl", gamma=GAMMA, g=MLPReward.linear(np.zeros(S)), h=MLPReward.linear(phi))
    eye = np.eye(S)

    def site(ep: Episode) -> np.ndarray:                     # g = 0, so f is exactly the shaping by h
        term, _ = ep.flags()
        return airl.f(eye[ep.states[:-1]], None, eye[ep.states[1:]], term)

    check_telescoping(site, state_potential(phi), random_episodes(15))


class _RecordingWalk(gym.Env):
    """A real Gymnasium env: a random walk that terminates in S-1 or, with probability 0.2, anywhere."""

    def __init__(self, seed: int):
        self.observation_space = gym.spaces.Discrete(S)
        self.action_space = gym.spaces.Discrete(A)
        self.rng = np.random.default_rng(seed)
        self.log: list[Episode] = []

    def reset(self, *, seed: int | None = None, options: Any = None):
        super().reset(seed=seed)
        self.s = int(self.rng.integers(0, S - 1))
        self.log.append(Episode(np.array([self.s]), np.zeros(1, int), np.zeros(0), False))
        return self.s, {}

    def step(self, action: Any):
        ep = self.log[-1]
        self.s = int(self.rng.integers(0, S))
        terminated = self.s == S - 1 or bool(self.rng.random() < 0.2)
        r = float(self.rng.normal())
        self.log[-1] = Episode(np.append(ep.states, self.s), np.append(ep.actions, 0), np.append(ep.rewards, r),
                               terminated)
        return self.s, r, terminated, False, {}


def test_shaping_BARFI_collect_episodes_in_a_real_env():
    pytest.importorskip("torch")
    from rewardkit.shaping.barfi import LinearSoftmaxPolicy, collect_episodes, one_hot_features
    phi = _phi_table(16, (S,))
    env = _RecordingWalk(17)
    batch = collect_episodes(env, LinearSoftmaxPolicy(S, A), one_hot_features(S), lambda *a: 0.0, 40,
                             np.random.default_rng(18), GAMMA, potential=lambda s: float(phi[int(s)]), max_steps=5)
    shaping = batch.shaping.numpy()
    assert len(env.log) == 40 and {ep.terminated for ep in env.log} == {True, False}   # both kinds occurred
    for b, ep in enumerate(env.log):                         # an unterminated episode was cut at max_steps
        check_telescoping(lambda _ep, b=b: shaping[b, :_ep.T], state_potential(phi), [ep])


def test_audit_add_potential_shaping_truncated_only():
    """The audit's rewards are R(s, a, s') tables with no terminal states: only truncation applies."""
    from rewardkit.audit import add_potential_shaping
    phi = _phi_table(19, (S,))
    R = np.random.default_rng(20).normal(size=(S, A, S))
    F = add_potential_shaping(R, phi, GAMMA) - R
    check_telescoping(lambda ep: F[ep.states[:-1], ep.actions[:-1], ep.states[1:]], state_potential(phi),
                      random_episodes(21, terminated_only=False))


# ----------------------------------------------------------------------------- Part B: tabular sites
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shaping_pbrs_reward_keeps_optimal_policy_and_gives_Q_minus_Phi(seed):
    from rewardkit.shaping import pbrs_reward
    from rewardkit.tabular import TabularMDP
    mdp = TabularMDP.random(S, A, gamma=GAMMA, seed=seed, n_terminal=2)
    phi = _phi_table(seed + 30, (S,))                        # non-zero on the terminal states too
    _, Q, _ = mdp.value_iteration()
    _, Q2, _ = mdp.value_iteration(R=pbrs_reward(mdp, phi))
    live = ~mdp.terminal
    np.testing.assert_allclose(Q2[live], (Q - phi[:, None])[live], atol=1e-8)
    assert np.array_equal(mdp.optimal_actions(), mdp.optimal_actions(R=pbrs_reward(mdp, phi)))


def test_spec_product_value_iteration_shaped_is_Q_minus_Phi():
    from rewardkit.spec import RewardMachine
    from rewardkit.spec.office import OFFICE_T3, office_tables
    from rewardkit.spec.rm_optimal import product_value_iteration
    nxt, ev = office_tables()
    rm = RewardMachine.from_text(OFFICE_T3)
    k = rm.n_states + 1
    phi = _phi_table(40, (k,))                               # Phi(terminal) != 0: it must not be paid
    q = product_value_iteration(nxt, ev, rm, GAMMA)
    q2 = product_value_iteration(nxt, ev, rm, GAMMA, potential=phi)
    rows = (np.arange(nxt.shape[0])[:, None] * k + np.arange(rm.n_states)[None, :]).reshape(-1)
    np.testing.assert_allclose(q2[rows], (q - np.tile(phi, nxt.shape[0])[:, None])[rows], atol=1e-7)
    best = lambda x: x >= x.max(axis=1, keepdims=True) - 1e-8    # noqa: E731  (the co-optimal actions)
    assert np.array_equal(best(q2[rows]), best(q[rows]))
