"""Cost against benefit: mean fit time against mean test score."""

import numpy as np

from .._results import best_row, resolve, scored
from ._common import BEST_COLOR, POINT_COLOR, get_axes, point_colors, pruned_legend, \
    score_label, set_log_scale


def plot_fit_time(search_or_cv_results, *, metric=None, ax=None):
    """Scatter of each scored candidate's mean fit time (x, per split) against its mean test
    score (y), with the score's spread over the splits as error bars; pruned candidates are
    grey, the selected one a red star. The time axis is logarithmic when the times span a
    factor of 10 or more.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    metric : str, default=None
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame, metric = resolve(search_or_cv_results, metric)
    ok = scored(frame, metric)
    time = ok["mean_fit_time"].to_numpy(float)
    if len(ok) and not np.isfinite(time).any():
        raise ValueError("No fit times recorded: the results have no mean_fit_time.")
    ax = get_axes(ax)
    ax.errorbar(time, ok[f"mean_test_{metric}"], yerr=ok[f"std_test_{metric}"], fmt="none",
                ecolor="0.85", zorder=1)
    ax.scatter(time, ok[f"mean_test_{metric}"], s=20, color=point_colors(ok), zorder=2)
    ax.scatter([], [], s=20, color=POINT_COLOR, label="candidate (± std over splits)")
    pruned_legend(ax, ok)
    if len(ok):
        best = best_row(frame)
        ax.scatter([best["mean_fit_time"]], [best[f"mean_test_{metric}"]], marker="*", s=180,
                   color=BEST_COLOR, zorder=4, label=f"selected #{int(best['candidate'])}")
        if time.min() > 0 and time.max() / time.min() >= 10:
            set_log_scale(ax, "x")
    ax.set_xlabel("mean fit time per split (s)")
    ax.set_ylabel(score_label(frame, metric))
    ax.set_title("Fit time against score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
