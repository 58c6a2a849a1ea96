"""Top-N candidates as a bar chart with the fold-to-fold spread as error bars."""

import numpy as np

from .._results import resolve, scored
from ._common import BEST_COLOR, candidate_label, get_axes, point_colors, score_label, \
    varying_params


def plot_top_candidates(search_or_cv_results, n=10, *, metric=None, ax=None):
    """Horizontal bars of the ``n`` best candidates' mean test score, best on top.

    Candidates follow the search's ranking (pruned ones, scored at a smaller budget, in grey
    after the completed ones). Error bars are the standard deviation over the CV splits; each
    bar is labelled with the
    candidate's id and the parameters that vary in the search. Bars start at the left edge of
    the axis (not at zero) so that close scores stay distinguishable: read values off the axis.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    n : int, default=10
    metric : str, default=None
    ax : matplotlib Axes, default=None
        Drawn on a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame, metric = resolve(search_or_cv_results, metric)
    top = scored(frame, metric).sort_values(["rank", "candidate"]).head(n)
    ax = get_axes(ax, figsize=(8, 1.2 + 0.45 * max(len(top), 1)))
    if top.empty:
        ax.text(0.5, 0.5, "no completed candidate", ha="center", va="center",
                transform=ax.transAxes)
        return ax
    names = varying_params(frame)
    mean = top[f"mean_test_{metric}"].to_numpy(float)
    std = np.nan_to_num(top[f"std_test_{metric}"].to_numpy(float))
    span = max(np.ptp(np.r_[mean - std, mean + std]), np.abs(mean).max() * 1e-3, 1e-12)
    left = (mean - std).min() - 0.15 * span
    y = np.arange(len(top))[::-1]
    colors = [BEST_COLOR if c == frame.attrs.get("best") else color
              for c, color in zip(top["candidate"], point_colors(top))]
    ax.barh(y, mean - left, left=left, xerr=std, color=colors, alpha=0.8, capsize=3,
            error_kw={"ecolor": "0.2"})
    ax.set_yticks(y, [candidate_label(row, names) for _, row in top.iterrows()], fontsize=8)
    ax.set_xlim(left, (mean + std).max() + 0.25 * span)
    for yi, m, s in zip(y, mean, std):
        ax.text(m + s + 0.02 * span, yi, f"{m:.4g}", va="center", fontsize=8)
    ax.set_xlabel(f"{score_label(frame, metric)} (bars: ± std over splits)")
    pruned = "; grey: pruned" if (top["status"] == "pruned").any() else ""
    ax.set_title(f"Top {len(top)} candidates (red: selected{pruned})")
    return ax
