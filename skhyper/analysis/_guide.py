"""Per-parameter observed effects, in the spirit of seed 002's hyperparameter guide."""

import math

import numpy as np
import pandas as pd
from scipy import stats

from ._results import best_row, param_names, resolve, scored
from ._values import format_value, is_numeric, levels

# |Spearman rho| from which a numeric parameter is said to have a direction.
TREND = 0.5


def _direction(values, scores, group_means, names):
    """A short phrase: which way the score moves as the parameter changes."""
    best_level = group_means.idxmax()
    if len(names) == 2:
        return "higher is better" if group_means.get(names[1], -np.inf) > \
            group_means.get(names[0], -np.inf) else "lower is better"
    rho = stats.spearmanr(values, scores).statistic if np.ptp(values) > 0 else np.nan
    if np.isfinite(rho) and rho >= TREND:
        return f"higher is better (Spearman rho {rho:+.2f})"
    if np.isfinite(rho) and rho <= -TREND:
        return f"lower is better (Spearman rho {rho:+.2f})"
    if best_level not in (names[0], names[-1]):
        return f"best in the middle, around {best_level}"
    return "no clear trend" + (f" (Spearman rho {rho:+.2f})" if np.isfinite(rho) else "")


def _edge_note(best_value, values, direction):
    """Seed 002's advice in one line: extend the range when the best sits on its edge."""
    lo, hi = np.nanmin(values), np.nanmax(values)
    if best_value == hi and direction.startswith("higher"):
        return f"best at the top of the range tried ({format_value(hi)}): try larger values"
    if best_value == lo and direction.startswith("lower"):
        return f"best at the bottom of the range tried ({format_value(lo)}): try smaller values"
    return ""


def parameter_guide(search_or_cv_results, *, metric=None):
    """What the search observed about each parameter.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    metric : str, default=None

    Returns
    -------
    pandas.DataFrame
        One row per searched parameter, most sensitive first: ``parameter``, ``best_value``
        (the best candidate's value), ``best_on_average`` (the value, or value range, whose
        candidates scored best on average), ``n_values`` (distinct values tried),
        ``sensitivity`` (spread between the best and worst average score over the values:
        how much getting it wrong costs, in score units), ``direction`` ("higher is better",
        "lower is better", "best in the middle, around ...", "no clear trend", or the best
        choice for a categorical parameter) and ``note`` (e.g. extend the range when the best
        is on its edge). Completed and pruned candidates count, each with the score
        at the budget it reached.
    """
    frame, metric = resolve(search_or_cv_results, metric)
    ok = scored(frame)
    best = best_row(frame)
    score = ok[f"mean_test_{metric}"].astype(float)
    rows = []
    for name in param_names(frame):
        column = ok[f"param_{name}"]
        # Candidates where the parameter did not apply (NaN; a None value does apply) say
        # nothing about its values.
        applies = ~column.map(lambda v: isinstance(v, float) and math.isnan(v)).astype(bool)
        column, score_here = column[applies], score[applies]
        keys, names = levels(column)
        group_means = score_here.groupby(keys).mean()
        names = [n for n in names if n in group_means.index]
        best_value = best[f"param_{name}"]
        row = dict(parameter=name, best_value=format_value(best_value),
                   best_on_average=group_means.idxmax() if len(group_means) else "n/a",
                   n_values=int(column.map(format_value).nunique()),
                   sensitivity=float(group_means.max() - group_means.min())
                   if len(group_means) else 0.0)
        if len(names) < 2:
            row.update(direction="not varied", note="")
        elif is_numeric(column):
            present = column.notna()
            values = column[present].astype(float).to_numpy()
            row["direction"] = _direction(values, score_here[present].to_numpy(), group_means,
                                          names)
            row["note"] = _edge_note(best_value, values, row["direction"])
        else:
            row.update(direction=f"best choice: {group_means.idxmax()}", note="")
        rows.append(row)
    columns = ["parameter", "best_value", "best_on_average", "n_values", "sensitivity",
               "direction", "note"]
    guide = pd.DataFrame(rows, columns=columns)
    return guide.sort_values("sensitivity", ascending=False, ignore_index=True)
