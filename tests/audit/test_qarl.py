"""QARL (#124): a protagonist trained against a quantal-response adversary keeps its return under attack."""

import numpy as np
import pytest

from rewardkit.audit.qarl import (cliff_game, greedy_protagonist, qarl_q_learning, quantal_response,
                                  worst_case_return)
from rewardkit.core.errors import ConfigError
from rewardkit.core.schedules import constant, linear


def test_qarl_protagonist_beats_the_nominal_one_under_attack():
    g = cliff_game(width=5, push=0.5)
    nominal = greedy_protagonist(qarl_q_learning(g, 1500, constant(1.0), adversary=False, seed=0), adversary=False)
    robust = greedy_protagonist(qarl_q_learning(g, 1500, linear(2.0, 0.0, 1200), seed=0))
    assert worst_case_return(g, robust) > worst_case_return(g, nominal) + 0.5
    assert worst_case_return(g, nominal, adversarial=False) >= worst_case_return(g, robust, adversarial=False)


def test_quantal_response_interpolates_between_uniform_and_best_response():
    Q = np.array([[0.0, 1.0, 2.0]])
    hot, cold = quantal_response(Q, 100.0), quantal_response(Q, 1e-3)
    assert np.allclose(hot, 1 / 3, atol=0.01) and cold[0, 0] > 0.999
    assert np.allclose(quantal_response(Q, 0.0), [[1.0, 0.0, 0.0]])


def test_cliff_game_is_a_valid_game_and_worst_case_is_no_better_than_clean():
    g = cliff_game(width=4, push=0.3)
    assert np.allclose(g.T.sum(axis=3), 1.0)
    pi = np.full(g.shape[0], 3)                  # always move right: along the cliff edge
    assert worst_case_return(g, pi) <= worst_case_return(g, pi, adversarial=False)
    with pytest.raises(ConfigError):
        qarl_q_learning(g, 0, constant(1.0))
