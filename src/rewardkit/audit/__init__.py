"""rewardkit.audit: compare and audit reward functions (EPIC, STARC)."""

from .distances import (as_sas, epic_canonical, epic_distance, pearson_distance, add_potential_shaping, starc_distance,
                        val_canonical)

__all__ = [
                        "add_potential_shaping",
                        "as_sas",
                        "epic_canonical",
                        "epic_distance",
                        "pearson_distance",
                        "starc_distance",
                        "val_canonical",
]

# reward-model evaluation, over-optimisation, hacking diagnostics (+ the "par" term), judge probes
from .evaluation import (best_of_n_agreement, bootstrap_ci, bt_probability, calibration, fit_temperature,
                         kendall_tau, mcnemar_test, pairwise_accuracy, rank_agreement, spearman)
from .hacking import PARTerm, component_dominance, detect_proxy_gold_divergence, length_exploitation, par_transform
from .overoptimization import (bon_kl, fit_overoptimization, gaussian_proxy, kl_optimal_policy, misspecified_proxy,
                               simulate_best_of_n, simulate_kl_regularised)
from .probes import PAPER_MASTER_KEYS, attack_suite, probe_judge

__all__ += [
                        "PAPER_MASTER_KEYS",
                        "PARTerm",
                        "attack_suite",
                        "best_of_n_agreement",
                        "bon_kl",
                        "bootstrap_ci",
                        "bt_probability",
                        "calibration",
                        "component_dominance",
                        "detect_proxy_gold_divergence",
                        "fit_overoptimization",
                        "fit_temperature",
                        "gaussian_proxy",
                        "kendall_tau",
                        "kl_optimal_policy",
                        "length_exploitation",
                        "mcnemar_test",
                        "misspecified_proxy",
                        "pairwise_accuracy",
                        "par_transform",
                        "probe_judge",
                        "rank_agreement",
                        "simulate_best_of_n",
                        "simulate_kl_regularised",
                        "spearman",
]
