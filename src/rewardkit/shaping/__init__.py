"""rewardkit.shaping: reward shaping and teacher-driven reward design.

* :mod:`.potential` - potential-based shaping (Ng, Harada & Russell 1999), ``potential_shaping`` term.
* :mod:`.informativeness` - ``I_H`` (EXPRD) and ``I_L`` (ExpAdaRD) informativeness of a reward.
* :mod:`.invariance` - ``assert_policy_invariant``: the target policy stays optimal with a margin.
* :mod:`.exprd` - EXPRD's LP and greedy sparsity budget (Devidze et al. 2021).
"""

from .potential import (PotentialShaping, TablePotential, as_potential, available_potentials, pbrs_reward,
                        potential_shaping, register_potential)
from .informativeness import (DEFAULT_H, action_gap, informativeness_h, informativeness_l,
                              target_action_mask, target_policies)
from .invariance import InvarianceReport, PolicyInvarianceError, assert_policy_invariant, invariance_slack
from .exprd import DesignInfeasible, ExprdProblem, ExprdResult, GreedyResult, exprd_design, exprd_greedy
