"""rewardkit.shaping: reward shaping and teacher-driven reward design.

* :mod:`.potential` - potential-based shaping (Ng, Harada & Russell 1999), ``potential_shaping`` term
  (its F is :func:`rewardkit.core.potential_difference`, the one shaping primitive).
* :mod:`.informativeness` - ``I_H`` (EXPRD) and ``I_L`` (ExpAdaRD) informativeness of a reward.
* :mod:`.invariance` - ``assert_policy_invariant``: the target policy stays optimal with a margin.
* :mod:`.exprd` - EXPRD's LP and greedy sparsity budget (Devidze et al. 2021).
* :mod:`.expadard` - ExpAdaRD: adaptive teacher maximising ``I_L`` (Devidze et al. 2024).
* :mod:`.dynamic` - dynamic potentials Phi(s, t) (Devlin & Kudenko 2012).
* :mod:`.advice` - look-ahead / look-back action potentials (Wiewiora et al. 2003) and
  expert advice as a learned potential (Harutyunyan et al. 2015).
"""

from .potential import (PotentialShaping, TablePotential, as_potential, available_potentials, pbrs_reward,
                        potential_shaping, register_potential)
from .informativeness import (DEFAULT_H, action_gap, informativeness_h, informativeness_l,
                              target_action_mask, target_policies)
from .invariance import InvarianceReport, PolicyInvarianceError, assert_policy_invariant, invariance_slack
from .dynamic import DynamicPotentialShaping
from .advice import AdviceQLearning, LookBackAdvice, advice_potential, look_ahead_advice, look_back_advice
from rewardkit.core.extras import lazy_getattr
from .explors import ExploRSReward, ExploRSTeacher, explors_count_bonus, run_explors  # ExploRS, Devidze et al. 2022

__all__ = [
    "DEFAULT_H",
    "AdaptiveTeacher",
    "AdviceQLearning",
    "DesignInfeasible",
    "DynamicPotentialShaping",
    "ExpAdaRDProblem",
    "ExploRSReward",
    "ExploRSTeacher",
    "ExprdProblem",
    "ExprdResult",
    "GreedyResult",
    "InvarianceReport",
    "LookBackAdvice",
    "PolicyInvarianceError",
    "PotentialShaping",
    "SoftmaxReinforce",
    "TablePotential",
    "action_gap",
    "advice_potential",
    "as_potential",
    "assert_policy_invariant",
    "available_potentials",
    "expadard_design",
    "explors_count_bonus",
    "exprd_design",
    "exprd_greedy",
    "four_room_region_features",
    "informativeness_h",
    "informativeness_l",
    "invariance_slack",
    "look_ahead_advice",
    "look_back_advice",
    "pbrs_reward",
    "potential_shaping",
    "register_potential",
    "run_adaptive_teaching",
    "run_explors",
    "target_action_mask",
    "target_policies",
]

# EXPRD and ExpAdaRD solve LPs with SciPy (the 'lp' extra), BARFI (Gupta et al. 2023) trains with torch
# (the 'learn' extra): loaded on first use
__getattr__ = lazy_getattr(__name__, {
    **dict.fromkeys(["DesignInfeasible", "ExprdProblem", "ExprdResult", "GreedyResult", "exprd_design", "exprd_greedy"],
                    ".exprd"),
    **dict.fromkeys(["AdaptiveTeacher", "ExpAdaRDProblem", "SoftmaxReinforce", "expadard_design",
                     "four_room_region_features", "run_adaptive_teaching"], ".expadard"),
    "BARFI": ".barfi", "TabularBARFI": ".barfi",
})
__all__ += ["BARFI", "TabularBARFI"]
