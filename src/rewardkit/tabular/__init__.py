"""rewardkit.tabular: the finite-MDP substrate shared by the reward-design methods.

* :class:`TabularMDP` - ``T (S, A, S)``, ``R (S, A)``, ``gamma``, ``mu0``, ``terminal``;
  exact policy evaluation, value iteration, Q-values, advantages, occupancy measures.
* :mod:`~rewardkit.tabular.worlds` - EXPRD's four-room grid, ExploRS's chain, BARFI's grid.
* :class:`TabularEnv` and registered Gymnasium ids ``rewardkit/FourRooms-v0``,
  ``rewardkit/ChainDistractor-v0``, ``rewardkit/Chain-v0``.
* :func:`soft_value_iteration` - the soft-optimal ``(V, Q, pi)`` at temperature ``tau``.
* :class:`QLearning` / :func:`run_q_learning` - the reference learner (explicit tie-breaking).
"""

from .mdp import TabularMDP, as_policy, greedy_policy
from .soft import logsumexp, soft_value_iteration
from .worlds import World, GridLayout, ChainLayout, four_rooms, chain_with_distractor, BarfiWorld, barfi_gridworld
from .qlearning import QLearning, run_q_learning, episodes_to_fraction
from . import worlds, qlearning  # noqa: F401
from rewardkit.core.extras import MissingExtraError, lazy_getattr

try:  # the Gymnasium envs need the 'env' extra; the MDPs and Q-learning do not
    from .envs import TabularEnv, FourRoomsEnv, ChainDistractorEnv, register_envs
except MissingExtraError:  # accessing them raises the one-line error naming the extra
    __getattr__ = lazy_getattr(__name__, dict.fromkeys(["TabularEnv", "FourRoomsEnv", "ChainDistractorEnv", "register_envs"],
                                                       ".envs"))
else:
    register_envs()

__all__ = [
    "BarfiWorld",
    "ChainDistractorEnv",
    "ChainLayout",
    "FourRoomsEnv",
    "GridLayout",
    "QLearning",
    "TabularEnv",
    "TabularMDP",
    "World",
    "as_policy",
    "barfi_gridworld",
    "chain_with_distractor",
    "episodes_to_fraction",
    "four_rooms",
    "greedy_policy",
    "logsumexp",
    "register_envs",
    "run_q_learning",
    "soft_value_iteration",
]
