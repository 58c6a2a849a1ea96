"""The Pareto front of two objectives."""

from .._pareto import pareto_front
from .._results import resolve
from ._common import BEST_COLOR, MUTED_COLOR, get_axes, ok_rows, score_label

_LABELS = {"mean_fit_time": "mean fit time per split (s)",
           "mean_score_time": "mean score time per split (s)",
           "mean_test_n_parameters": "number of parameters"}


def _label(frame, column, metric):
    if column == f"mean_test_{metric}":
        return score_label(frame, metric)
    return _LABELS.get(column, column)


def plot_pareto_front(search_or_cv_results, objectives=None, *, metric=None, ax=None):
    """Every completed candidate (grey) and the Pareto front (blue, joined) of two objectives.

    The y axis is the first objective, the x axis the second; the search's selected candidate
    is a red star (with a ``refit`` callable such as
    :class:`~skhyper.analysis.SmallestWithinOneSE`, the one it picked).

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    objectives : dict, default=None
        Two objectives as in :func:`~skhyper.analysis.pareto_front`; default: the ranking
        metric (max) against ``n_parameters`` (min) when it was recorded, else ``fit_time``.
    metric : str, default=None
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame, metric = resolve(search_or_cv_results, metric)
    if objectives is None:
        size = "n_parameters" if "n_parameters" in frame.attrs["metrics"] and \
            metric != "n_parameters" else "fit_time"
        objectives = {metric: "max", size: "min"}
    if len(objectives) != 2:
        raise ValueError(f"plot_pareto_front draws two objectives; got {len(objectives)}: "
                         f"{list(objectives)}.")
    front = pareto_front(frame, objectives)
    (y_col, y_dir), (x_col, x_dir) = front.attrs["objectives"].items()
    ok = ok_rows(frame, metric)
    ax = get_axes(ax)
    ax.scatter(ok[x_col], ok[y_col], s=20, color=MUTED_COLOR, label="candidate")
    line = front.sort_values(x_col)
    ax.plot(line[x_col], line[y_col], "o-",
            color="tab:blue", ms=6, label=f"Pareto front ({len(front)})")
    for _, row in front.iterrows():
        ax.annotate(f"#{int(row['candidate'])}", (row[x_col], row[y_col]),
                    textcoords="offset points", xytext=(4, 4), fontsize=7)
    best = frame.attrs.get("best")
    if best is not None and best in set(ok["candidate"]):
        row = ok[ok["candidate"] == best].iloc[0]
        ax.scatter([row[x_col]], [row[y_col]], marker="*", s=200, color=BEST_COLOR, zorder=4,
                   label=f"selected #{best}")
    ax.set_xlabel(f"{_label(frame, x_col, metric)} ({'lower' if x_dir == 'min' else 'higher'}"
                  " is better)")
    ax.set_ylabel(f"{_label(frame, y_col, metric)} ({'lower' if y_dir == 'min' else 'higher'}"
                  " is better)")
    ax.set_title("Pareto front")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
