"""Mean test score against each parameter."""

import math

import matplotlib.pyplot as plt
import numpy as np

from .._results import best_row, param_names, resolve, scored
from .._values import MAX_LEVELS, format_value, is_log_spaced, is_numeric, levels
from ._common import BEST_COLOR, POINT_COLOR, point_colors, pruned_legend, score_label, \
    set_log_scale, varying_params


def _numeric(ax, values, scores, series, colors):
    ax.scatter(values, scores, s=18, color=colors, alpha=0.7)
    if series.nunique() <= MAX_LEVELS:
        means = scores.groupby(values).mean().sort_index()
        ax.plot(means.index, means.to_numpy(), color="0.3", lw=1, marker="_", ms=12,
                label="mean per value")
    if is_log_spaced(series):
        set_log_scale(ax, "x")


def _categorical(ax, keys, scores, names, colors):
    groups = [scores[keys == name].to_numpy() for name in names]
    ax.boxplot(groups, positions=range(len(names)), widths=0.5, showfliers=False,
               medianprops={"color": "0.3"})
    rng = np.random.default_rng(0)  # fixed jitter: the same figure every time
    for i, name in enumerate(names):
        member = (keys == name).to_numpy()
        ax.scatter(i + rng.uniform(-0.12, 0.12, member.sum()), scores[member], s=18,
                   color=np.asarray(colors, dtype=object)[member].tolist(), alpha=0.7, zorder=3)
    ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 4 else 0,
                  ha="right" if len(names) > 4 else "center")


def plot_param_effects(search_or_cv_results, params=None, *, metric=None, ax=None):
    """One panel per parameter: each candidate's mean test score against its value.

    Numeric parameters are scattered (log axis when positive values span a factor of 10 or more,
    with the mean per value joined when there are few values); categorical ones (strings,
    None, booleans) are box plots with the candidates as jittered points. Pruned candidates
    (scored at a smaller budget) are grey. The selected candidate is a red star.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    params : list of str, default=None
        Parameters to show; default: every parameter that varies.
    metric : str, default=None
    ax : Axes or sequence of Axes, default=None
        One Axes per parameter; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The Axes when one parameter is drawn on a given Axes, else the Figure.
    """
    frame, metric = resolve(search_or_cv_results, metric)
    names = list(params) if params is not None else varying_params(frame)
    unknown = [p for p in names if p not in param_names(frame)]
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; searched: "
                         f"{', '.join(param_names(frame))}.")
    if not names:
        raise ValueError("No parameter varies in this search: nothing to plot.")
    if ax is None:
        cols = min(3, len(names))
        rows = math.ceil(len(names) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False,
                                 layout="constrained")
        axes = axes.ravel()
        for extra in axes[len(names):]:
            extra.set_visible(False)
    else:
        axes = np.atleast_1d(ax).ravel()
        if len(axes) != len(names):
            raise ValueError(f"ax holds {len(axes)} Axes for {len(names)} parameter(s).")
        fig = axes[0].figure
    ok = scored(frame, metric)
    colors = point_colors(ok)
    scores = ok[f"mean_test_{metric}"].astype(float)
    best = best_row(frame)
    for name, axis in zip(names, axes):
        series = ok[f"param_{name}"]
        present = series.notna() if is_numeric(series) else series.index == series.index
        if is_numeric(series):
            _numeric(axis, series[present].astype(float), scores[present], series[present],
                     [c for c, keep in zip(colors, present) if keep])
            best_x = best[f"param_{name}"]
        else:
            keys, level_names = levels(series)
            _categorical(axis, keys, scores, level_names, colors)
            label = format_value(best[f"param_{name}"])
            best_x = level_names.index(label) if label in level_names else None
        if best_x is not None and best["status"] == "ok":
            axis.scatter([best_x], [best[f"mean_test_{metric}"]], marker="*", s=160,
                         color=BEST_COLOR, zorder=4, label="selected")
        axis.set_xlabel(name)
        axis.grid(alpha=0.3)
    for axis in axes[:len(names)]:
        if ax is not None or axis.get_subplotspec().is_first_col():
            axis.set_ylabel(score_label(frame, metric))
    axes[0].scatter([], [], s=18, color=POINT_COLOR, label="completed")
    pruned_legend(axes[0], ok)
    axes[0].legend(fontsize=8, loc="best")
    if ax is None:
        fig.suptitle("Mean test score against each parameter")
    if ax is not None and len(names) == 1:
        return axes[0]
    return fig
