"""rewardkit.advantage: turn rewards into advantages (GRPO family, RLOO, BNPO, SLIM; GAE is ``rewardkit.core.gae``)."""

from .group import (batch_std, bnpo, bnpo_params, dr_grpo, gdpo, group_stats, grpo, opo, passk, reinforce_pp, rloo,
                    weighted_reinforce)
from .multi_critic import multi_critic_advantage, per_term_gae
from .pass_at_k import mean_pass_at_k, pass_at_k

ESTIMATORS = {"grpo": grpo, "dr_grpo": dr_grpo, "batch_std": batch_std, "rloo": rloo, "reinforce_pp": reinforce_pp,
              "bnpo": bnpo, "passk": passk}

__all__ = [
                    "ESTIMATORS",
                    "batch_std",
                    "bnpo",
                    "bnpo_params",
                    "dr_grpo",
                    "gdpo",
                    "group_stats",
                    "grpo",
                    "mean_pass_at_k",
                    "multi_critic_advantage",
                    "opo",
                    "pass_at_k",
                    "passk",
                    "per_term_gae",
                    "reinforce_pp",
                    "rloo",
                    "weighted_reinforce",
]
