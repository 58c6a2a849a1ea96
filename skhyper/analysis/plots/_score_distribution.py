"""Distribution of the candidates' mean test scores."""

import numpy as np
from matplotlib.ticker import MaxNLocator

from .._results import best_row, resolve, scored
from ._common import BEST_COLOR, POINT_COLOR, get_axes, score_label


def plot_score_distribution(search_or_cv_results, *, metric=None, bins="auto", ax=None):
    """Histogram of the scored candidates' mean test scores (completed and pruned), with the
    selected candidate's score and the median marked; the title counts pruned and failed ones.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    metric : str, default=None
    bins : int or str, default="auto"
        As in :func:`numpy.histogram_bin_edges`.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame, metric = resolve(search_or_cv_results, metric)
    rows = scored(frame, metric)
    scores = rows[f"mean_test_{metric}"].to_numpy(float)
    ax = get_axes(ax)
    if scores.size:
        ax.hist(scores, bins=np.histogram_bin_edges(scores, bins=bins), color=POINT_COLOR,
                alpha=0.75, edgecolor="white")
        ax.axvline(np.median(scores), color="0.3", ls="--",
                   label=f"median {np.median(scores):.4g}")
        best = best_row(frame)[f"mean_test_{metric}"]
        ax.axvline(best, color=BEST_COLOR, lw=2, label=f"selected {best:.4g}")
        ax.legend(fontsize=8)
    counts = frame["status"].value_counts()
    pruned = counts.get("pruned", 0)
    failed = counts.get("failed", 0)
    ax.set_title(f"Score distribution of {scores.size} scored candidates"
                 + (f"\n(incl. {pruned} pruned at a smaller budget)" if pruned else "")
                 + (f"\n({failed} failed, not shown)" if failed else ""))
    ax.set_xlabel(score_label(frame, metric))
    ax.set_ylabel("number of candidates")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return ax
