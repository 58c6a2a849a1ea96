"""Multi-objective selection (seed 001): score against fit time and model size.

Record model size in ``cv_results_`` by adding :func:`skhyper.model_size.n_parameters_scorer`
to a multi-metric ``scoring``; :func:`pareto_front` then finds the trade-offs, and
:class:`SmallestWithinOneSE` is a ``refit`` callable that picks one of them by a stated rule.
"""

import numpy as np

from ..model_size import SIZE_METRICS
from ..validation import check_choice
from ._results import best_row, metric_names, results_frame
from ._stats import _comparable

SIZE_METRIC = SIZE_METRICS[0]  # n_parameters_scorer's
DIRECTIONS = ("max", "min")
_ALIASES = {"fit_time": "mean_fit_time", "score_time": "mean_score_time"}


def _column(frame, name):
    if name in frame.columns:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    if name in frame.attrs["metrics"]:
        return f"mean_test_{name}"
    allowed = list(frame.attrs["metrics"]) + list(_ALIASES)
    raise ValueError(f"Invalid objective {name!r}; allowed: {', '.join(allowed)} or any column "
                     "of results_frame.")


def default_objectives(frame):
    """The ranking metric (max) and, when recorded, the mean fit time (min) and the size
    (min)."""
    objectives = {frame.attrs["metric"]: "max"}
    if np.isfinite(frame["mean_fit_time"].astype(float)).any():
        objectives["fit_time"] = "min"
    if SIZE_METRIC in frame.attrs["metrics"] and frame.attrs["metric"] != SIZE_METRIC:
        objectives[SIZE_METRIC] = "min"
    return objectives


def pareto_mask(values):
    """Boolean mask of the non-dominated rows of ``values`` (n, m), every column minimised."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = (values <= values[i]).all(axis=1)
        better = (values < values[i]).any(axis=1)
        mask[i] = not (no_worse & better).any()
    return mask


def pareto_front(search_or_cv_results, objectives=None, *, metric=None):
    """The completed candidates that no other candidate beats on every objective.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    objectives : dict, default=None
        Maps an objective to ``"max"`` or ``"min"``. An objective is a metric name (its
        ``mean_test_<metric>``), ``"fit_time"``, ``"score_time"`` or any column of
        :func:`results_frame`. Default: the ranking metric (max), ``fit_time`` (min) and
        ``n_parameters`` (min) when :func:`n_parameters_scorer` was one of the metrics.
    metric : str, default=None
        The ranking metric (see :func:`results_frame`).

    Returns
    -------
    pandas.DataFrame
        The front's rows of :func:`results_frame`, best first on the first objective;
        ``attrs["objectives"]`` maps each objective's column to its direction.
    """
    frame = results_frame(search_or_cv_results, metric=metric)
    objectives = dict(objectives or default_objectives(frame))
    if not objectives:
        raise ValueError("objectives is empty: give at least one objective.")
    columns = {}
    for name, direction in objectives.items():
        check_choice(f"direction of {name!r}", direction, DIRECTIONS)
        columns[_column(frame, name)] = direction
    ok = frame[frame["status"] == "ok"]
    values = ok[list(columns)].to_numpy(float)
    ok = ok[np.isfinite(values).all(axis=1)]
    values = ok[list(columns)].to_numpy(float)
    signs = np.array([-1.0 if d == "max" else 1.0 for d in columns.values()])
    front = ok[pareto_mask(values * signs)]
    first, direction = next(iter(columns.items()))
    front = front.sort_values(first, ascending=direction == "min")
    front.attrs = {**frame.attrs, "objectives": columns}
    return front


class SmallestWithinOneSE:
    """``refit`` callable: the smallest model whose score is within one standard error of the
    best (the "one standard error rule"), chosen from the Pareto front of score and size.

    Among completed candidates whose mean test score is at least ``best mean - best std /
    sqrt(n_splits)`` (``n_splits``: the folds the best was scored on), it returns the one with
    the smallest ``size`` (ties: the higher score). That candidate is always on the (score
    max, size min) Pareto front. Of a halving search only the last iteration's candidates
    compete, of a staged search those trained longest (the extended stage's, else the last
    rung's), as they rank first.

    Parameters
    ----------
    metric : str, default=None
        The score metric; by default the first metric other than ``size``.
    size : str, default="n_parameters"
        The size objective (minimised): a metric name such as ``"n_parameters"`` (recorded by
        :func:`n_parameters_scorer`), ``"fit_time"`` or a results column.

    Examples
    --------
    >>> search = GridSearchCV(net, grid, scoring={"score": "r2",
    ...                       "n_parameters": n_parameters_scorer},
    ...                       refit=SmallestWithinOneSE(metric="score"))  # doctest: +SKIP
    """

    def __init__(self, metric=None, size=SIZE_METRIC):
        self.metric = metric
        self.size = size

    def __call__(self, cv_results):
        metrics = metric_names(cv_results)
        metric = self.metric or next((m for m in metrics if m != self.size), None)
        if metric is None or metric not in metrics:
            raise ValueError(f"Invalid metric={metric!r}; this search scored: "
                             f"{', '.join(metrics)}.")
        frame = results_frame(cv_results, metric=metric)
        if "iter" in frame:  # a halving search: only its last iteration is comparable
            frame = frame[frame["iter"] == frame["iter"].max()]
        if "stage" in frame:  # a staged search: those scored like its rank 1 (trained longest)
            frame = _comparable(frame, best_row(frame))
        front = pareto_front(frame, {metric: "max", self.size: "min"})
        if front.empty:
            raise ValueError("No candidate completed: nothing to refit.")
        score, size = list(front.attrs["objectives"])
        best = front.loc[front[score].idxmax()]
        splits = [c for c in frame if c.startswith("split") and c.endswith(f"_test_{metric}")]
        # the best's own folds: a staged search's extended_cv rows may have fewer than others
        n_splits = int(np.isfinite(best[splits].to_numpy(float)).sum())
        threshold = best[score] - best[f"std_test_{metric}"] / np.sqrt(max(n_splits, 1))
        within = front[front[score] >= threshold]
        pick = within.sort_values([size, score], ascending=[True, False]).iloc[0]
        return int(pick["candidate"])

    def __repr__(self):
        return f"SmallestWithinOneSE(metric={self.metric!r}, size={self.size!r})"
