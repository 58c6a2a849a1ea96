"""Two parameters at once: a heatmap of the score, aggregated over the other parameters."""

import numpy as np

from .._guide import parameter_guide
from .._results import param_names, resolve, scored
from ...validation import check_choice
from .._values import levels
from ._common import get_axes, score_label

AGGREGATES = ("max", "mean", "median")
# More distinct values than this on an axis are grouped into ranges, so cells hold candidates.
HEATMAP_LEVELS = 5


def plot_param_heatmap(search_or_cv_results, x=None, y=None, *, agg="max", metric=None,
                       ax=None):
    """Heatmap of the mean test score over two parameters.

    Each cell aggregates the candidates with that pair of values over every other parameter
    (``agg="max"``: the best that pair reached; ``"mean"`` or ``"median"``: its typical score).
    Numeric parameters with more than 5 distinct values (random or Bayesian search) are
    grouped into quantile ranges. Cells no candidate reached are left blank; each cell shows
    its value and the number of candidates it aggregates.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    x, y : str, default=None
        The parameters on each axis; default: the two most sensitive (see
        :func:`~skhyper.analysis.parameter_guide`).
    agg : {"max", "mean", "median"}, default="max"
    metric : str, default=None
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame, metric = resolve(search_or_cv_results, metric)
    check_choice("agg", agg, AGGREGATES)
    if x is None or y is None:
        guide = parameter_guide(frame)
        varied = [p for p in guide.loc[guide["direction"] != "not varied", "parameter"]
                  if p not in (x, y)]
        if x is None:
            x = varied.pop(0) if varied else None
        if y is None:
            y = varied.pop(0) if varied else None
    for name in (x, y):
        if name not in param_names(frame):
            raise ValueError(f"Invalid parameter {name!r} for the heatmap; need two varying "
                             f"parameters among: {', '.join(param_names(frame))}.")
    ok = scored(frame, metric)
    x_keys, x_names = levels(ok[f"param_{x}"], HEATMAP_LEVELS)
    y_keys, y_names = levels(ok[f"param_{y}"], HEATMAP_LEVELS)
    score = ok[f"mean_test_{metric}"].astype(float)
    grouped = score.groupby([y_keys.rename("y"), x_keys.rename("x")])
    table = grouped.agg(agg).unstack("x").reindex(index=y_names, columns=x_names)
    counts = grouped.size().unstack("x").reindex(index=y_names, columns=x_names)

    ax = get_axes(ax, figsize=(1.6 + 1.1 * len(x_names), 1.4 + 0.6 * len(y_names)))
    values = table.to_numpy(float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto",
                      origin="lower")
    ax.figure.colorbar(image, ax=ax, label=f"{agg} of {score_label(frame, metric)}")
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.3g}\n(n={int(counts.iat[i, j])})", ha="center", va="center",
                    fontsize=7, color="black" if v > middle else "white")
    tilt = len(x_names) > 4 or max(len(n) for n in x_names) > 8  # long labels would overlap
    ax.set_xticks(range(len(x_names)), x_names, rotation=30 if tilt else 0,
                  ha="right" if tilt else "center")
    ax.set_yticks(range(len(y_names)), y_names)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{agg.capitalize()} score by {y} and {x}")
    return ax
