"""rewardkit.learn: learning reward functions from feedback.

* :mod:`~rewardkit.learn.data` - JSONL preference rows (prompt/chosen/rejected) -> pairs; ``.npz`` io.
* :mod:`~rewardkit.learn.models` - NumPy reward models (:class:`MLPReward`), ``.npz`` io.
* :mod:`~rewardkit.learn.preferences` - preference pairs, Boltzmann-rational labellers.
* :mod:`~rewardkit.learn.bt` - Bradley-Terry losses (plain, margin, scaled, smoothed,
  noise-aware) and trainers (torch MLP, NumPy linear).
* :mod:`~rewardkit.learn.ensemble` - ensembles, uncertainty, preference strength, label denoising.
* :mod:`~rewardkit.learn.active` - active query selection by ensemble disagreement.
* :mod:`~rewardkit.learn.pluralistic` - VPL-lite latent-conditioned BT for user groups.
* :mod:`~rewardkit.learn.irl` - tabular maximum-causal-entropy IRL on a TabularMDP.
* :mod:`~rewardkit.learn.adversarial` - GAIL / AIRL discriminator rewards.
* :mod:`~rewardkit.learn.text` - offline MiniLM sentence-embedding featuriser for LLM samples.
* :mod:`~rewardkit.learn.terms` - registered reward terms ``reward_model``, ``gail_reward``, ``airl_reward``.

torch is imported only inside the functions that train a network.
"""

from .models import MLPReward, load_reward_model, as_segments
from .preferences import PreferencePairs, boltzmann_labels, linear_preference_task, pair_accuracy, sigmoid
from .bt import LOSSES, bt_loss, fit_bt, fit_linear_bt
from .ensemble import RewardEnsemble, fit_ensemble, preference_strength, denoise_labels

__all__ = [
    "LOSSES",
    "MLPReward",
    "PreferencePairs",
    "RewardEnsemble",
    "as_segments",
    "boltzmann_labels",
    "bt_loss",
    "denoise_labels",
    "fit_bt",
    "fit_ensemble",
    "fit_linear_bt",
    "linear_preference_task",
    "load_reward_model",
    "pair_accuracy",
    "preference_strength",
    "sigmoid",
]

from .active import select_queries, active_learning_curve, queries_to_reach
from .pluralistic import LatentRewardModel, fit_vpl, user_groups_task
from .irl import soft_value_iteration, mce_irl, IRLResult, empirical_occupancy, feature_expectations
from .adversarial import AdversarialReward, fit_discriminator, transition_features
from .terms import RewardModelTerm, AdversarialRewardTerm
from .text import SentenceEmbedder
from .data import LoadReport, read_preference_jsonl, save_pairs, load_pairs

__all__ += [
    "AdversarialReward",
    "AdversarialRewardTerm",
    "IRLResult",
    "LatentRewardModel",
    "LoadReport",
    "RewardModelTerm",
    "SentenceEmbedder",
    "active_learning_curve",
    "empirical_occupancy",
    "feature_expectations",
    "fit_discriminator",
    "fit_vpl",
    "load_pairs",
    "mce_irl",
    "queries_to_reach",
    "read_preference_jsonl",
    "save_pairs",
    "select_queries",
    "soft_value_iteration",
    "transition_features",
    "user_groups_task",
]
