"""rewardkit.audit: compare and audit reward functions (EPIC, STARC)."""

from .distances import (as_sas, epic_canonical, epic_distance, pearson_distance, add_potential_shaping, starc_distance,
                        val_canonical)

__all__ = ["as_sas", "epic_canonical", "epic_distance", "pearson_distance", "add_potential_shaping", "starc_distance",
           "val_canonical"]

# reward-model evaluation, over-optimisation, hacking diagnostics (+ the "par" term), judge probes
from .evaluation import (best_of_n_agreement, bootstrap_ci, bt_probability, calibration, fit_temperature,
                         kendall_tau, mcnemar_test, pairwise_accuracy, rank_agreement, spearman)
from .hacking import PARTerm, component_dominance, detect_proxy_gold_divergence, length_exploitation, par_transform
from .overoptimization import (bon_kl, fit_overoptimization, gaussian_proxy, kl_optimal_policy, misspecified_proxy,
                               simulate_best_of_n, simulate_kl_regularised)
from .probes import PAPER_MASTER_KEYS, attack_suite, probe_judge

__all__ += ["best_of_n_agreement", "bootstrap_ci", "bt_probability", "calibration", "fit_temperature", "kendall_tau",
            "mcnemar_test", "pairwise_accuracy", "rank_agreement", "spearman", "PARTerm", "component_dominance",
            "detect_proxy_gold_divergence", "length_exploitation", "par_transform", "bon_kl", "fit_overoptimization",
            "gaussian_proxy", "misspecified_proxy", "simulate_best_of_n", "kl_optimal_policy", "simulate_kl_regularised",
            "PAPER_MASTER_KEYS", "attack_suite",
            "probe_judge"]
