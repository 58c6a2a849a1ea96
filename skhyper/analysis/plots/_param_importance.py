"""Parameter importance with its uncertainty."""

from .._importance import parameter_importance
from ._common import POINT_COLOR, get_axes


def plot_param_importance(search_or_cv_results, *, metric=None, n_repeats=10, random_state=0,
                          ax=None):
    """Horizontal bars of :func:`~skhyper.analysis.parameter_importance` (permutation
    importance of a random forest fitted to the results), most important on top, with the
    standard deviation over the permutation repeats as error bars.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    metric : str, default=None
    n_repeats : int, default=10
    random_state : int, default=0
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes

    Warns
    -----
    UserWarning
        With fewer than 10 completed candidates.
    """
    table = parameter_importance(search_or_cv_results, metric=metric, n_repeats=n_repeats,
                                 random_state=random_state)
    return draw_importance(table, ax)


def draw_importance(table, ax=None):
    """Draw a :func:`~skhyper.analysis.parameter_importance` table."""
    ax = get_axes(ax, figsize=(6.4, 1.5 + 0.45 * len(table)))
    y = range(len(table))[::-1]
    ax.barh(list(y), table["importance"], xerr=table["importance_std"], color=POINT_COLOR,
            alpha=0.8, capsize=3)
    ax.set_yticks(list(y), table["parameter"])
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("drop in R² of a forest fitted to the results\nwhen the parameter is "
                  "shuffled (± std over repeats)")
    ax.set_title("Parameter importance")
    return ax
