"""Shared plumbing of the plot_* functions: axes creation and labels."""

import textwrap

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

from .._results import param_names
from .._values import format_value

BEST_COLOR = "tab:red"
POINT_COLOR = "tab:blue"
MUTED_COLOR = "0.7"


def set_log_scale(ax, which):
    """Log scale on the ``which`` ("x" or "y") axis of ``ax``, labelled at powers of ten only
    (matplotlib labels minor ticks too where the data span a decade or two, and in a small
    panel they run into each other)."""
    getattr(ax, f"set_{which}scale")("log")
    getattr(ax, f"{which}axis").set_minor_formatter(NullFormatter())


def get_axes(ax, figsize=(6.4, 4.8)):
    """``ax`` itself, or the Axes of a new Figure (never shown: the caller saves or shows it)."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def score_label(frame, metric):
    """Axis label of the mean test score, naming the scoring."""
    scoring = frame.attrs.get("scoring", metric) if metric == frame.attrs.get("metric") \
        else metric
    if metric == "score" or scoring == metric:
        return f"mean CV {scoring}"
    return f"mean CV {metric} ({scoring})"


def varying_params(frame):
    """Parameters that take more than one value among the candidates."""
    return [name for name in param_names(frame)
            if frame[f"param_{name}"].map(format_value).nunique() > 1]


def candidate_label(row, names, width=40):
    """``#id: name=value, ...`` over the varying parameters, wrapped to ``width``."""
    text = ", ".join(f"{name}={format_value(row[f'param_{name}'])}" for name in names)
    return "\n".join(textwrap.wrap(f"#{int(row['candidate'])}: {text}", width)) or \
        f"#{int(row['candidate'])}"


def ok_rows(frame, metric):
    """Completed candidates with a finite score."""
    ok = frame[frame["status"] == "ok"]
    return ok[ok[f"mean_test_{metric}"].astype(float).notna()]


def point_colors(rows):
    """Completed candidates in colour, pruned ones (scored at a smaller budget) in grey."""
    return [POINT_COLOR if s == "ok" else MUTED_COLOR for s in rows["status"]]


def pruned_legend(ax, rows):
    """A legend entry for the grey points when there are pruned candidates."""
    if (rows["status"] == "pruned").any():
        ax.scatter([], [], s=18, color=MUTED_COLOR, label="pruned (smaller budget)")
