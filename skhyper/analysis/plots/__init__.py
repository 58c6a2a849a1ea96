"""matplotlib plots of search results: one ``plot_*`` function per module.

Each takes a fitted search, a ``cv_results_`` dict or a :func:`~skhyper.analysis.results_frame`
and ``ax=None``, draws on ``ax`` (or a new figure) and returns the Axes, or the Figure when it
draws several Axes. None calls ``show``.
"""

from ._fit_time import plot_fit_time
from ._learning_curves import plot_learning_curves
from ._param_effects import plot_param_effects
from ._param_heatmap import plot_param_heatmap
from ._param_importance import plot_param_importance
from ._pareto_front import plot_pareto_front
from ._score_distribution import plot_score_distribution
from ._top_candidates import plot_top_candidates

__all__ = [
    "plot_fit_time",
    "plot_learning_curves",
    "plot_param_effects",
    "plot_param_heatmap",
    "plot_param_importance",
    "plot_pareto_front",
    "plot_score_distribution",
    "plot_top_candidates",
]
