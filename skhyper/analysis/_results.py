"""Turn the ``cv_results_`` of any scikit-learn-style search into one tidy DataFrame.

Works for GridSearchCV, RandomizedSearchCV, skopt's BayesSearchCV, HalvingGridSearchCV /
HalvingRandomSearchCV (keeping each candidate's last iteration) and skhyper's
StagedHalvingSearchCV (whose extra columns ``stage``, ``rung``, ``epochs``, ``status`` and
``error`` are kept), single- or multi-metric.
"""

import math
import numbers
import re

import numpy as np
import pandas as pd

from ..model_size import SIZE_METRICS, quality_metric

# Columns describing how far a candidate got; kept in front of the parameters when present.
BUDGET_COLUMNS = ("stage", "rung", "epochs", "iter", "n_resources")
STATUSES = ("ok", "failed", "pruned")
# Candidates with a score: "pruned" ones were stopped early by the search and scored at the
# smaller budget they reached.
SCORED = ("ok", "pruned")
TIME_COLUMNS = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")
# What we can say about a failure when the search itself kept no message.
UNRECORDED_ERROR = ("not recorded: this search only warns about failed fits (FitFailedWarning); "
                    "rerun the candidate with error_score='raise' to see it")

_METRIC_KEY = re.compile(r"^mean_test_(.+)$")
_MISSING = object()


def _is_frame(obj):
    return isinstance(obj, pd.DataFrame) and {"candidate", "status"} <= set(obj.columns)


def _cv_results_of(obj):
    """The cv_results_ dict of a fitted search, or ``obj`` itself when it is such a dict."""
    if hasattr(obj, "cv_results_"):
        return obj.cv_results_
    if isinstance(obj, dict) and "params" in obj:
        return obj
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        raise ValueError(f"{type(obj).__name__} has no cv_results_: fit the search first.")
    raise TypeError(
        f"Expected a fitted search (with cv_results_), a cv_results_ dict or a results_frame "
        f"DataFrame; got {type(obj).__name__}."
    )


def metric_names(cv_results):
    """Names of the scored metrics: ``["score"]`` for a single metric, else the scoring keys."""
    return [m.group(1) for key in cv_results if (m := _METRIC_KEY.match(key))]


def _scoring_label(search, metric):
    """A plain string naming how candidates were scored (contract: best_config.yaml's scoring)."""
    scoring = getattr(search, "scoring", None)
    if isinstance(scoring, str):
        return scoring
    if isinstance(scoring, dict) and isinstance(scoring.get(metric), str):
        return scoring[metric]  # multi-metric: the scorer behind the ranking metric
    if scoring is None and hasattr(search, "estimator"):
        return f"{type(search.estimator).__name__}.score"
    if callable(scoring):
        return getattr(scoring, "__name__", None) or repr(scoring)
    return metric


def _param_column(values):
    """One parameter's values as a column: numeric dtype when every given value is a number,
    object otherwise; masked (not applicable to that candidate) is NaN."""
    given = [v for v in values if v is not _MISSING]
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in given)
    if numeric:
        return pd.Series([np.nan if v is _MISSING else v for v in values])
    return pd.Series([np.nan if v is _MISSING else v for v in values], dtype=object)


def _derive_status(frame, metrics):
    finite = np.isfinite(frame[[f"mean_test_{m}" for m in metrics]].to_numpy(float)).all(axis=1)
    return np.where(finite, "ok", "failed")


def _last_iteration_only(frame):
    """Halving searches list a candidate once per iteration: keep each one's last.

    A resource that is a parameter (``resource="max_epochs"``) takes each iteration's budget
    in ``params``; it does not tell candidates apart.
    """
    resources = frame["n_resources"] if "n_resources" in frame else None
    budget = {name for name in frame["params"].iloc[0]
              if resources is not None and all(
                  p.get(name) == r for p, r in zip(frame["params"], resources))}
    key = frame["params"].map(lambda p: repr(sorted(
        (kv for kv in p.items() if kv[0] not in budget), key=lambda kv: kv[0])))
    last = frame.groupby(key, sort=False)["iter"].transform("max")
    return frame[frame["iter"] == last]


def results_frame(search_or_cv_results, *, status=None, top=None, query=None, metric=None):
    """A tidy DataFrame of a search's results: one row per candidate.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or DataFrame
        Any search with a scikit-learn-format ``cv_results_`` (GridSearchCV,
        RandomizedSearchCV, BayesSearchCV, HalvingGridSearchCV, StagedHalvingSearchCV, ...),
        the dict itself, or a frame this function returned (then only filtered).
    status : {"ok", "failed", "pruned"} or list of them, default=None
        Keep only candidates with this status (None keeps all).
    top : int, default=None
        Keep the ``top`` best candidates by ``rank`` (failed ones rank last).
    query : str, default=None
        A :meth:`pandas.DataFrame.query` filter, e.g. ``"param_lr < 0.01 and epochs >= 4"``.
    metric : str, default=None
        The metric that ``rank`` follows; by default the search's refit metric (or the first).

    Returns
    -------
    pandas.DataFrame
        Columns: ``candidate`` (row index in ``cv_results_``), ``rank``, ``status``, ``error``,
        the budget columns the search has (``stage``, ``rung``, ``epochs``, ``iter``,
        ``n_resources``), ``param_<name>`` per parameter, then scikit-learn's score and time
        columns unchanged (``mean_test_<metric>``, ``std_test_<metric>``,
        ``split<k>_test_<metric>``, ``mean_fit_time``, ...) and ``params``. ``frame.attrs``
        holds ``metrics``, ``metric`` (the one ranked on), ``scoring``, ``search`` (class name)
        and ``best`` (the ``candidate`` the search picked, when it says).
        Export with ``frame.to_csv(path)``.
    """
    if _is_frame(search_or_cv_results):
        frame = search_or_cv_results.copy()
        if metric is not None and metric != frame.attrs.get("metric"):
            frame = _rank(frame, metric)
    else:
        frame = _build(search_or_cv_results, metric)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        for s in wanted:
            if s not in STATUSES:
                raise ValueError(f"Invalid status={s!r}; allowed: {', '.join(STATUSES)}.")
        frame = frame[frame["status"].isin(wanted)]
    if query is not None:
        frame = frame.query(query)
    if top is not None:
        if not isinstance(top, numbers.Integral) or top < 1:
            raise ValueError(f"Invalid top={top!r}: expected a positive integer.")
        frame = frame.sort_values(["rank", "candidate"]).head(int(top))
    return frame


def _build(obj, metric):
    cv = _cv_results_of(obj)
    metrics = metric_names(cv)
    if not metrics:
        raise ValueError("cv_results_ has no mean_test_* column: not a scikit-learn search "
                         "result.")
    selected_on = quality_metric(getattr(obj, "refit", None), metrics)
    metric = metric or selected_on
    if metric not in metrics:
        raise ValueError(f"Invalid metric={metric!r}; this search scored: {', '.join(metrics)}.")
    n = len(cv["params"])
    params = [dict(p) for p in cv["params"]]
    names = list(dict.fromkeys(name for p in params for name in p))

    columns = {"candidate": np.arange(n)}
    for col in BUDGET_COLUMNS:
        if col in cv:
            columns[col] = np.asarray(cv[col])
    for name in names:
        columns[f"param_{name}"] = _param_column([p.get(name, _MISSING) for p in params])
    skip = {"params", "status", "error", *BUDGET_COLUMNS} | {f"param_{k}" for k in names}
    for key, values in cv.items():
        if key not in skip:
            columns[key] = np.ma.filled(values, np.nan) if np.ma.isMaskedArray(values) \
                else np.asarray(values)
    # A hand-made dict may lack scikit-learn's spreads and times: derived or NaN, so every
    # helper finds its columns (and says "not recorded" where it needs values).
    for name in metrics:
        if f"std_test_{name}" not in columns:
            splits = [np.ma.filled(values, np.nan).astype(float) for key, values in cv.items()
                      if re.fullmatch(rf"split\d+_test_{re.escape(name)}", key)]
            columns[f"std_test_{name}"] = np.std(splits, axis=0) if splits else np.full(n, np.nan)
    for key in TIME_COLUMNS:
        columns.setdefault(key, np.full(n, np.nan))
    frame = pd.DataFrame(columns)
    frame["params"] = params

    if "status" in cv:
        frame.insert(1, "status", np.asarray(cv["status"], dtype=object))
    else:
        frame.insert(1, "status", _derive_status(frame, metrics))
    if "error" in cv:
        errors = np.asarray(cv["error"], dtype=object)
    else:
        errors = np.where(frame["status"] == "failed", UNRECORDED_ERROR, "")
    frame.insert(2, "error", ["" if e is None or (isinstance(e, float) and math.isnan(e))
                              else str(e) for e in errors])
    if "iter" in frame.columns:
        frame = _last_iteration_only(frame)
        # halving: dropped before the last iteration means pruned (also where a subclass,
        # such as the command's, records ok / failed in a status column)
        early = (frame["iter"] < frame["iter"].max()) & (frame["status"] == "ok")
        frame.loc[early, "status"] = "pruned"

    frame.attrs.update(
        metrics=metrics, scoring=_scoring_label(obj, metric), search=type(obj).__name__
        if hasattr(obj, "cv_results_") else "cv_results_",
    )
    best = getattr(obj, "best_index_", None)
    if best is not None and int(best) in set(frame["candidate"]):
        # the search's pick stands for the metric it selected on, whichever one is ranked
        frame.attrs.update(search_best=int(best), search_metric=selected_on)
    return _rank(frame, metric, source_rank=f"rank_test_{metric}" in frame.columns)


def _rank(frame, metric, source_rank=False):
    """Add ``rank`` (1 = best) on ``metric``: completed candidates first, then pruned ones,
    then failed ones.

    Within each group the search's own ranking is kept where it has one (a halving search
    ranks later iterations first), renumbered over the rows kept; otherwise the mean score,
    highest first (lowest for a size such as ``n_parameters``)."""
    frame = frame.copy()
    score = frame[f"mean_test_{metric}"].astype(float)
    group = frame["status"].map({"ok": 0, "pruned": 1}).fillna(2)
    group = group.where(np.isfinite(score), 2)
    if metric in SIZE_METRICS:  # smaller is better, whatever scikit-learn's rank says
        value = score
    else:
        value = frame[f"rank_test_{metric}"].astype(float) if source_rank else -score
    value = value.where(group < 2, 0.0).rank(method="dense")
    rank = (group * (len(frame) + 1) + value).rank(method="min").astype(int)
    if "rank" in frame:
        frame["rank"] = rank
    else:
        frame.insert(1, "rank", rank)
    frame.attrs["metric"] = metric
    # The search's own pick (best_index_) stands for the metric it selected on; otherwise rank 1.
    if frame.attrs.get("search_metric") == metric:
        frame.attrs["best"] = frame.attrs["search_best"]
    else:
        best = frame.loc[group == 0].sort_values(["rank", "candidate"])["candidate"]
        frame.attrs["best"] = int(best.iloc[0]) if len(best) else None
    return frame


def scored(frame, metric=None):
    """The candidates with a finite score on ``metric``: completed and pruned ones."""
    metric = metric or frame.attrs["metric"]
    rows = frame[frame["status"].isin(SCORED)]
    return rows[np.isfinite(rows[f"mean_test_{metric}"].astype(float))]


def param_names(frame):
    """The searched parameter names (without the ``param_`` prefix)."""
    return [c[len("param_"):] for c in frame.columns if c.startswith("param_")]


def best_row(frame):
    """The row of the best candidate: the one the search picked when known, else rank 1."""
    best = frame.attrs.get("best")
    rows = frame[frame["candidate"] == best] if best is not None else frame.iloc[:0]
    if rows.empty:
        ok = frame[frame["status"] == "ok"]
        if ok.empty:
            raise ValueError("No candidate completed: every one failed or was pruned.")
        rows = ok.sort_values(["rank", "candidate"])
    return rows.iloc[0]


def summary_statistics(search_or_cv_results, *, metric=None):
    """Mean, std, min, max and median over the scored candidates (completed and pruned) of
    each metric's mean test score and of the mean fit and score times, plus the candidate
    counts per status.

    Returns
    -------
    pandas.DataFrame
        One row per quantity (``mean_test_<metric>``, ``mean_fit_time``, ...), columns
        ``count``, ``mean``, ``std``, ``min``, ``max``, ``median``; ``attrs["counts"]`` maps
        status to the number of candidates.
    """
    frame = results_frame(search_or_cv_results, metric=metric)
    ok = scored(frame)
    columns = [f"mean_test_{m}" for m in frame.attrs["metrics"]]
    columns += [c for c in ("mean_fit_time", "mean_score_time") if c in frame]
    stats = ok[columns].astype(float).agg(["count", "mean", "std", "min", "max", "median"]).T
    stats["count"] = stats["count"].astype(int)
    stats.attrs["counts"] = {s: int((frame["status"] == s).sum()) for s in STATUSES}
    return stats


def resolve(search_or_cv_results, metric=None):
    """(frame, metric): the results frame of anything :func:`results_frame` takes."""
    frame = results_frame(search_or_cv_results, metric=metric)
    return frame, frame.attrs["metric"]
