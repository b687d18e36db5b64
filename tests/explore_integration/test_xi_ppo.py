"""The two-value-head PPO: stream semantics of GAE and a small learning check."""

import numpy as np
import pytest

from rewardkit.core.errors import ConfigError
from rewardkit.explore.counts import CountBonus
from rewardkit.explore.ppo import PPOConfig, train, two_stream_gae
from xi_corridor import Corridor


def test_two_stream_gae_is_monte_carlo_at_lambda_one():
    rng = np.random.default_rng(0)
    T, n, g, gi = 12, 3, 0.9, 0.8
    r_e, r_i = rng.normal(size=(T, n)), rng.random((T, n))
    v_e, v_i = rng.normal(size=(T, n)), rng.normal(size=(T, n))
    term = rng.random((T, n)) < 0.15
    trunc = (rng.random((T, n)) < 0.1) & ~term
    done = term | trunc
    v_e_next, last_i = rng.normal(size=(T, n)), rng.normal(size=n)
    # V(s'_t) is V(s_{t+1}) unless the episode ended at t (then: V of the true final obs)
    v_e_next[:-1][~done[:-1]] = v_e[1:][~done[:-1]]
    v_i_next = np.concatenate([v_i[1:], last_i[None]])
    a_e, a_i = two_stream_gae(r_e, r_i, v_e, v_i, v_e_next, v_i_next, term, done, g, gi, 1.0)
    for e in range(n):
        for t in range(T):
            # extrinsic: discounted sum to the episode end; bootstrap V(s') on truncation / rollout end
            G, k = 0.0, t
            while True:
                G += g ** (k - t) * r_e[k, e]
                if term[k, e]:
                    break
                if trunc[k, e] or k == T - 1:
                    G += g ** (k - t + 1) * v_e_next[k, e]
                    break
                k += 1
            assert abs(a_e[t, e] + v_e[t, e] - G) < 1e-9
            # intrinsic: non-episodic, runs through episode ends to the rollout end
            Gi = sum(gi ** (k - t) * r_i[k, e] for k in range(t, T)) + gi ** (T - t) * last_i[e]
            assert abs(a_i[t, e] + v_i[t, e] - Gi) < 1e-9


def test_two_head_ppo_with_count_bonus_solves_corridor_plain_ppo_does_not():
    cfg = PPOConfig(num_envs=4, num_steps=128, total_timesteps=20_000, seed=0)
    with_bonus = train(lambda: Corridor(60, 120), cfg, bonus=CountBonus(mode="product", key_fn="obs_hash"),
                       key_info="agent_pos")
    plain = train(lambda: Corridor(60, 120), cfg)
    h_b, h_p = with_bonus["history"], plain["history"]
    assert h_b[-1]["return_mean"] > 0.5 and h_b[-1]["success_rate"] > 0.5
    assert max(h["return_mean"] for h in h_p) < 0.1
    assert h_b[-1]["bonus_share"] > 0 and h_p[-1]["bonus_share"] == 0
    assert with_bonus["coverage"].unique == 60  # every cell of the corridor was visited


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="num_minibatches"):
        train(lambda: Corridor(5, 5), PPOConfig(num_envs=3, num_steps=5, num_minibatches=4))
    with pytest.raises(ConfigError, match="gamma_int"):
        train(lambda: Corridor(5, 5), PPOConfig(gamma_int=1.5))
