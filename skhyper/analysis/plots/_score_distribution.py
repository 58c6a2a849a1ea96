"""Distribution of the candidates' mean test scores."""

import numpy as np

from .._results import best_row, resolve
from ._common import BEST_COLOR, POINT_COLOR, get_axes, ok_rows, score_label


def plot_score_distribution(search_or_cv_results, *, metric=None, bins="auto", ax=None):
    """Histogram of the completed candidates' mean test scores, with the selected candidate's
    score and the median marked; the title counts failed and pruned candidates.

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
    scores = ok_rows(frame, metric)[f"mean_test_{metric}"].to_numpy(float)
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
    others = ", ".join(f"{counts[s]} {s}" for s in ("failed", "pruned") if s in counts)
    ax.set_title(f"Score distribution of {scores.size} completed candidates"
                 + (f" ({others} not shown)" if others else ""))
    ax.set_xlabel(score_label(frame, metric))
    ax.set_ylabel("number of candidates")
    return ax
