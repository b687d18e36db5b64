"""BARFI (Gupta et al. 2023): implicit gradients checked against exact / finite-difference values,
and the learning claims on a tiny grid with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import sys
from pathlib import Path

from rewardkit.core import ConfigError
from rewardkit.shaping.barfi import (
    BARFI, VARIANTS, AlignedBlend, BarfiReward, NaiveSum, PotentialShaped, PrimaryReward, TabularBARFI,
    discounted_returns, finite_horizon_return, neumann_inverse_hvp, reward_strategy,
)
from rewardkit.tabular import TabularEnv, barfi_gridworld

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "design"))
from barfi_grid import barfi_learning_curve  # the benchmark's learning curve

torch.set_num_threads(1)


def test_discounted_returns_mask_and_gamma_derivative():
    r = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]], dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    g = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    G = discounted_returns(r, mask, g)
    assert G.detach().tolist() == [[1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3.0], [4.0, 0.0, 0.0]]
    (dg,) = torch.autograd.grad(G[0, 0], [g])
    assert float(dg) == pytest.approx(2.0 + 2 * 0.5 * 3.0)          # d/dg (1 + 2g + 3g^2)


def test_neumann_series_converges_to_the_inverse_hessian_product():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    H = -(M @ M.T / 6 + 0.2 * np.eye(6))                             # negative definite
    Ht = torch.as_tensor(H)
    v = torch.as_tensor(rng.normal(size=6))
    alpha = 1.0 / np.abs(np.linalg.eigvalsh(H)).max()
    approx = neumann_inverse_hvp(lambda p: [Ht @ p[0]], [v], alpha, 2000)[0].numpy()
    assert np.allclose(approx, np.linalg.solve(-H, v.numpy()), atol=1e-6)
    few = neumann_inverse_hvp(lambda p: [Ht @ p[0]], [v], alpha, 2)[0].numpy()
    assert not np.allclose(few, np.linalg.solve(-H, v.numpy()), atol=1e-2)   # truncation is an approximation


def test_exact_hypergradient_matches_finite_differences():
    w = barfi_gridworld(size=3)
    tb = TabularBARFI(w.mdp, w.R_aux["bad"], tau=0.02, aux_weight_init=0.5, gamma_init=0.95, learn_gamma=True)
    hg = tb.hypergradient()
    pb, pa = tb.phi_bias.detach().numpy().copy(), tb.phi_aux.detach().numpy().copy()
    h = 1e-5
    for s in range(9):
        e = np.zeros_like(pa)
        e[s] = h
        fd_a = (tb.primary_objective_at(pb, pa + e, 0.95) - tb.primary_objective_at(pb, pa - e, 0.95)) / (2 * h)
        fd_b = (tb.primary_objective_at(pb + e, pa, 0.95) - tb.primary_objective_at(pb - e, pa, 0.95)) / (2 * h)
        assert float(hg["phi_aux"][s]) == pytest.approx(fd_a, abs=1e-6, rel=1e-4)
        assert float(hg["phi_bias"][s]) == pytest.approx(fd_b, abs=1e-6, rel=1e-4)
    # the discount's logit (central differences in logit space)
    logit, dl = np.log(0.95 / 0.05), 1e-3
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    fd_g = (tb.primary_objective_at(pb, pa, sig(logit + dl)) - tb.primary_objective_at(pb, pa, sig(logit - dl))) / (2 * dl)
    assert float(hg["gamma_logit"]) == pytest.approx(fd_g, rel=1e-3)


def test_exact_barfi_orders_primary_naive_pbrs_on_a_misleading_heuristic():
    w = barfi_gridworld(size=4)
    tau = 0.005
    primary = TabularBARFI(w.mdp, w.R_aux["bad"], tau=tau).primary_return()
    naive = TabularBARFI(w.mdp, w.R_aux["bad"], tau=tau, aux_weight_init=1.0).primary_return()
    pot = w.potential["bad"]
    F = w.mdp.gamma * np.einsum("sat,t->sa", w.mdp.transitions, pot) - pot[:, None]
    pbrs = TabularBARFI(w.mdp, F, tau=tau, aux_weight_init=1.0).primary_return()
    assert naive < 0.5 * primary                                      # naive addition follows the decoy
    assert pbrs == pytest.approx(primary, abs=1e-6)                   # PBRS keeps the soft-optimal policy
    tb = TabularBARFI(w.mdp, w.R_aux["bad"], tau=tau, lr=5.0)
    js = tb.fit(3)
    assert np.all(np.diff(js) >= -1e-12) and js[-1] > primary + 0.01
    opt = w.mdp.expected_return(w.mdp.value_iteration()[2])
    assert js[-1] <= opt + 1e-9


def test_finite_horizon_return_matches_monte_carlo():
    w = barfi_gridworld(size=3)
    pi = np.full((w.mdp.n_states, 4), 0.25)
    exact = finite_horizon_return(w.mdp, pi, 12)
    env = TabularEnv(w.mdp, max_steps=12)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    rets = []
    for _ in range(3000):
        env.reset()
        g, disc = 0.0, 1.0
        for _t in range(12):
            _, r, term, trunc, _ = env.step(int(rng.integers(4)))
            g += disc * r
            disc *= w.mdp.gamma
            if term or trunc:
                break
        rets.append(g)
    assert np.mean(rets) == pytest.approx(exact, abs=4 * np.std(rets) / np.sqrt(len(rets)))


def test_barfi_validates_its_inputs():
    w = barfi_gridworld(size=3)
    env = TabularEnv(w.mdp, max_steps=5)
    with pytest.raises(ConfigError, match="variant"):
        BARFI(env, w.aux_fn("good"), variant="magic")
    with pytest.raises(ConfigError, match="potential"):
        BARFI(env, w.aux_fn("good"), variant="pbrs")
    with pytest.raises(ConfigError, match="aux_fn"):
        BARFI(env, 3.0)
    with pytest.raises(ConfigError, match="kind"):
        w.aux_fn("ugly")
    agent = BARFI(env, lambda *a: float("nan"), variant="barfi", episodes_per_update=2, seed=0)
    agent.update()                                                   # NaN heuristic values do not crash
    assert np.isfinite(agent.aux_weights()).all()


def test_reward_strategies_by_name_and_by_object_are_the_same_learner():
    assert VARIANTS == ("primary", "naive", "pbrs", "barfi")
    assert [type(reward_strategy(v)) for v in VARIANTS] == [PrimaryReward, NaiveSum, PotentialShaped, AlignedBlend]
    w = barfi_gridworld(size=3)

    def run(variant):
        agent = BARFI(TabularEnv(w.mdp, max_steps=8), w.aux_fn("bad"), variant=variant,
                      potential=w.potential_fn("bad"), episodes_per_update=3, seed=4)
        agent.fit(4)
        return agent.policy_table()

    tables = {}
    for name, obj in zip(VARIANTS, (PrimaryReward(), NaiveSum(), PotentialShaped(), AlignedBlend()), strict=True):
        tables[name] = run(obj)
        np.testing.assert_array_equal(tables[name], run(name))
    # the four behaviours really differ (same seed, same episodes at the first update)
    assert len({t.round(12).tobytes() for t in tables.values()}) == 4

    class HeuristicOnly(BarfiReward):  # a caller-defined strategy plugs in without touching BARFI
        name = "aux-only"

        def __call__(self, agent, batch, learned):
            return batch.r_aux, agent.gamma

    agent = BARFI(TabularEnv(w.mdp, max_steps=8), w.aux_fn("bad"), variant=HeuristicOnly(), seed=0)
    assert agent.variant == "aux-only" and not agent.strategy.learned
    agent.fit(2)
    with pytest.raises(ConfigError, match="variant"):
        reward_strategy(3)


LEARN = dict(policy_lr=0.5, entropy_coef=0.01, episodes_per_update=8, reward_lr=0.05, gamma_lr=0.05,
             neumann_steps=5, neumann_alpha=0.1, aux_weight_init=0.0)


def test_sampled_barfi_recovers_from_a_misleading_heuristic_and_exploits_a_helpful_one():
    """Claims (5) on a 5x5 grid, 2 seeds x 100 updates x 8 episodes, REINFORCE learner pinned."""
    w = barfi_gridworld(size=5)
    run = lambda kind, v, s: barfi_learning_curve(w, kind, v, seed=s, n_updates=100, horizon=30,  # noqa: E731
                                                  eval_every=5, **LEARN)["primary_return"]
    seeds = (0, 1)
    prim = np.array([run("bad", "primary", s) for s in seeds])        # the heuristic is unused: same for "good"
    naive_bad = np.array([run("bad", "naive", s) for s in seeds])
    barfi_bad = np.array([run("bad", "barfi", s) for s in seeds])
    barfi_good = np.array([run("good", "barfi", s) for s in seeds])
    assert naive_bad[:, -1].max() < prim[:, -1].min()                 # naive addition of the bad heuristic hurts
    assert np.all(barfi_bad[:, -1] >= prim[:, -1] - 0.02)             # BARFI recovers the primary performance
    assert np.all(barfi_good.mean(1) > prim.mean(1))                  # and learns faster with the good one


def test_barfi_runs_on_cartpole_with_linear_features():
    """Non-tabular observations: a linear softmax policy on CartPole features, PD-controller heuristic."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    feats = lambda o: np.append(np.asarray(o, dtype=np.float64), 1.0)  # noqa: E731
    pd_action = lambda o: int(o[2] + 0.5 * o[3] > 0)                   # noqa: E731
    aux = lambda o, a, o2, info: 1.0 if a == pd_action(o) else 0.0     # noqa: E731
    agent = BARFI(env, aux, features=feats, n_features=5, gamma=0.99, episodes_per_update=2,
                  learn_gamma=True, max_steps=200, seed=0)
    theta0 = agent.policy.theta.detach().clone()
    log = agent.fit(3)
    assert log["primary_return"].shape == (3,) and np.all(log["undiscounted_primary"] >= 8)
    assert not torch.equal(theta0, agent.policy.theta.detach())
    assert agent.gamma_value() != pytest.approx(0.99, abs=1e-9)        # the discount is learned
    assert np.isfinite(agent.aux_weights()).all() and agent.aux_weights().shape == (5,)
    with pytest.raises(ConfigError, match="features"):
        BARFI(env, aux)


def test_sampled_hypergradient_plumbing_matches_finite_differences():
    """With K = 0 Neumann terms the estimator is d/dphi [alpha * grad_theta J_p . grad_theta J_phi] (a
    one-step meta-gradient); check every meta-parameter kind against central differences on one batch."""
    from rewardkit.shaping.barfi import collect_episodes

    w = barfi_gridworld(size=3)
    env = TabularEnv(w.mdp, max_steps=10)
    ag = BARFI(env, w.aux_fn("good"), neumann_steps=0, neumann_alpha=0.3, episodes_per_update=6, seed=1)
    for _ in range(3):
        ag.update()
    with torch.no_grad():
        ag.reward.phi_aux.add_(torch.linspace(-0.2, 0.3, 10, dtype=torch.float64))
    batch = collect_episodes(env, ag.policy, ag.features, ag.aux_fn, 6, np.random.default_rng(5), ag.gamma)
    hg = ag.hypergradient(batch)
    theta = ag.policy.theta
    (v,) = torch.autograd.grad(ag._surrogate(batch, batch.r_primary, ag.gamma, entropy=False), [theta])

    def objective() -> float:
        r, g = ag._rewards(batch, learned=True)
        (gt,) = torch.autograd.grad(ag._surrogate(batch, r, g, entropy=True), [theta])
        return 0.3 * float((gt * v).sum())

    for p, gr in zip(hg["params"], hg["grads"], strict=False):
        flat, gflat = p.data.view(-1), gr.view(-1)
        for i in range(min(flat.numel(), 4)):
            old = float(flat[i])
            flat[i] = old + 1e-6
            up = objective()
            flat[i] = old - 1e-6
            down = objective()
            flat[i] = old
            assert float(gflat[i]) == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)
