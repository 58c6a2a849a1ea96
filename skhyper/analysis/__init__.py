"""Analysis of any scikit-learn-style search: tidy results, statistics, plots and a report.

Everything here reads ``cv_results_`` (GridSearchCV, RandomizedSearchCV, skopt's BayesSearchCV,
HalvingGridSearchCV, skhyper's StagedHalvingSearchCV), so no Optuna study is needed.
"""

from ._curves import learning_curves
from ._guide import parameter_guide
from ._importance import parameter_importance
from ..model_size import count_parameters, n_parameters_scorer
from ._pareto import SmallestWithinOneSE, pareto_front
from ._report import write_report
from ._results import results_frame, summary_statistics
from ._stats import compare_to_best, corrected_ttest, significance_statement
from .plots import (
    plot_fit_time,
    plot_learning_curves,
    plot_param_effects,
    plot_param_heatmap,
    plot_param_importance,
    plot_pareto_front,
    plot_score_distribution,
    plot_top_candidates,
)

__all__ = [
    "SmallestWithinOneSE",
    "compare_to_best",
    "corrected_ttest",
    "count_parameters",
    "learning_curves",
    "n_parameters_scorer",
    "parameter_guide",
    "parameter_importance",
    "pareto_front",
    "plot_fit_time",
    "plot_learning_curves",
    "plot_param_effects",
    "plot_param_heatmap",
    "plot_param_importance",
    "plot_pareto_front",
    "plot_score_distribution",
    "plot_top_candidates",
    "results_frame",
    "significance_statement",
    "summary_statistics",
    "write_report",
]
