"""Log any fitted hyperparameter search to MLflow: a parent run and one child run per candidate.

MLflow's sklearn autolog covers only GridSearchCV and RandomizedSearchCV, and only while they fit.
This works after the fact on anything with a scikit-learn ``cv_results_`` (BayesSearchCV,
HalvingGridSearchCV, :class:`skhyper.StagedHalvingSearchCV`, ...). It talks to the store through an
explicit ``MlflowClient``, so it neither reads nor changes MLflow's global tracking URI, active
experiment or active run.
"""

import math
import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..analysis import results_frame

# Limits of MLflow's stores (mlflow.utils.validation); longer values are truncated, not refused.
_MAX_PARAM_LENGTH = 6000
_MAX_TAG_LENGTH = 8000
# Keys of a ``history_`` record that say where it belongs rather than what was measured.
_HISTORY_POSITION_KEYS = ("candidate", "stage", "rung", "fold", "epoch")
MODEL_ARTIFACT_PATH = "best_estimator"


def _import_mlflow():
    try:
        import mlflow
    except ImportError as exc:
        raise ImportError(
            'log_search_to_mlflow needs MLflow; install it with pip install "skhyper[mlflow]".'
        ) from exc
    return mlflow


@dataclass(frozen=True)
class MLflowSearchRuns:
    """Where :func:`log_search_to_mlflow` put a search.

    Attributes
    ----------
    experiment_id : str
    parent_run_id : str
    child_run_ids : list of str
        One per row of the search's ``cv_results_``, in row order.
    model_uri : str or None
        ``runs:/<parent_run_id>/best_estimator`` when the best estimator was logged; load it with
        ``mlflow.sklearn.load_model`` (with the tracking URI set to the same store).
    """

    experiment_id: str
    parent_run_id: str
    child_run_ids: list = field(default_factory=list)
    model_uri: str = None


def log_search_to_mlflow(search, *, experiment=None, tracking_uri=None, artifact_location=None,
                         run_name=None, tags=None, report_dir=None, log_model=True,
                         pip_requirements=None):
    """Record a fitted search in MLflow: one parent run, one nested child run per candidate.

    The parent run holds the search's settings as params (nested estimators by class name),
    ``best_<param>`` params, the metrics ``best_cv_score``, ``best_mean_test_<metric>`` /
    ``best_std_test_<metric>``, ``n_candidates``, ``n_ok`` / ``n_failed`` / ``n_pruned`` (the
    child runs' statuses, below), ``refit_time`` and ``n_epochs_total`` where the search has
    them, the refitted net's per-epoch curves as ``refit/<column>`` step metrics, and the
    artifacts ``cv_results.csv``, ``history.csv`` (when the search has ``history_``),
    ``report/`` (the files of ``report_dir``) and ``best_estimator/`` (an MLflow sklearn model).

    Each child run corresponds to one row of ``cv_results_`` (for HalvingGridSearchCV a row is a
    candidate at one iteration). It holds the candidate's params, every numeric column of its
    row as a metric (mean/std/split test scores per metric, train scores, fit and score times,
    rank, and extra numeric columns such as ``rung`` and ``epochs``), and text columns such as
    ``stage`` and ``error`` as tags. Its ``status`` tag is the one
    :func:`skhyper.analysis.results_frame` gives it, for any search: ``"failed"`` where a mean
    test score is NaN (a GridSearchCV fit that raised), ``"pruned"`` for a HalvingGridSearchCV row
    that did not reach the last iteration. A failed candidate's run is marked FAILED; its NaN
    scores are left out. When the search has a ``history_`` (see
    :class:`skhyper.StagedHalvingSearchCV`), each candidate's per-epoch ``train_loss``,
    ``valid_loss`` and rung ``score`` are logged as step metrics named
    ``<column>/<stage>/fold<k>`` with the epoch as the step.

    Parameters
    ----------
    search : fitted search estimator
        Anything with a scikit-learn format ``cv_results_``.
    experiment : str or None, default=None
        Experiment name, created when missing. None uses the ``MLFLOW_EXPERIMENT_NAME``
        environment variable when set, else MLflow's "Default" experiment.
    tracking_uri : str or None, default=None
        The MLflow store, e.g. ``"sqlite:///mlflow.db"`` or ``"http://host:5000"``. None uses
        MLflow's configured one (``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``).
    artifact_location : str or None, default=None
        Artifact root for the experiment when this call creates it; ignored otherwise.
    run_name : str or None, default=None
        Name of the parent run; None uses the search's class name.
    tags : dict or None, default=None
        Extra tags for the parent run.
    report_dir : str or path-like or None, default=None
        A directory (such as one written by :func:`skhyper.analysis.write_report`) whose files
        are logged under ``report/`` on the parent run.
    log_model : bool, default=True
        Log ``search.best_estimator_`` (when the search refitted one) with ``mlflow.sklearn``,
        pickled whole with cloudpickle so it predicts exactly as it did.
    pip_requirements : list of str or None, default=None
        The logged model's requirements. None lets MLflow infer them, which loads the model
        in a subprocess (seconds); a list such as ``["skhyper==0.1.0"]`` skips that.

    Returns
    -------
    MLflowSearchRuns
        The experiment id, the parent run id, the child run ids in ``cv_results_`` row order
        and the logged model's URI.
    """
    check_is_fitted(search, "cv_results_")
    if report_dir is not None and not os.path.isdir(report_dir):
        raise ValueError(f"Invalid report_dir={report_dir!r}: not an existing directory.")
    if tags is not None and not isinstance(tags, dict):
        raise ValueError(f"Invalid tags={tags!r}: expected a dict of tag name to value.")
    if experiment is not None and (not isinstance(experiment, str) or not experiment):
        raise ValueError(f"Invalid experiment={experiment!r}: expected a non-empty name or None.")
    mlflow = _import_mlflow()
    from mlflow.entities import Metric, Param

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    experiment_id = _experiment_id(client, experiment, artifact_location)
    cv_results = search.cv_results_
    # ok / failed / pruned for any search, as the analysis reads it (GridSearchCV has no such
    # column). The frame keeps a halving candidate's last row; its earlier rows are pruned, as
    # the command's halving search marks them: only the last iteration's rows are final.
    statuses = results_frame(search).set_index("candidate")["status"].reindex(
        range(len(cv_results["params"])), fill_value="pruned").tolist()
    history = getattr(search, "history_", None)
    curves = _curves_by_candidate(history)

    parent_tags = {"search_class": type(search).__name__}
    if hasattr(search, "estimator"):
        parent_tags["estimator_class"] = _describe(search.estimator)
    parent_tags.update({str(k): _text(v, _MAX_TAG_LENGTH) for k, v in (tags or {}).items()})
    parent = client.create_run(experiment_id, run_name=run_name or type(search).__name__,
                               tags=parent_tags)
    parent_id = parent.info.run_id
    try:
        params, metrics = _search_summary(search, statuses)
        client.log_batch(
            parent_id,
            params=[Param(k, _text(v, _MAX_PARAM_LENGTH)) for k, v in params.items()],
            metrics=[Metric(k, v, _now_ms(), 0) for k, v in metrics.items()]
            + [Metric(k, v, _now_ms(), step) for k, v, step in _refit_curves(search)],
        )
        child_ids = []
        for row in range(len(cv_results["params"])):
            child_ids.append(_log_candidate(client, experiment_id, parent_id, cv_results, row,
                                            statuses[row], curves.get(row, [])))
        model_uri = _log_artifacts(client, parent_id, search, history, report_dir,
                                   log_model, pip_requirements, mlflow)
    except BaseException:
        client.set_terminated(parent_id, status="FAILED")
        raise
    client.set_terminated(parent_id)
    return MLflowSearchRuns(experiment_id, parent_id, child_ids, model_uri)


def _experiment_id(client, name, artifact_location):
    if name is None:
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, artifact_location=artifact_location)
    if found.lifecycle_stage == "deleted":
        raise ValueError(
            f"Invalid experiment={name!r}: it is deleted in this MLflow store; restore it "
            "(MlflowClient().restore_experiment) or choose another name."
        )
    return found.experiment_id


def _search_summary(search, statuses):
    """Parent-run params (settings, ``best_*``) and metrics of a fitted search."""
    params = {name: _describe(value) for name, value in search.get_params(deep=True).items()}
    for name, value in (getattr(search, "best_params_", None) or {}).items():
        params[f"best_{name}"] = _describe(value)

    metrics = {"n_candidates": float(len(search.cv_results_["params"]))}
    if _finite(getattr(search, "best_score_", None)):
        metrics["best_cv_score"] = float(search.best_score_)
    best = getattr(search, "best_index_", None)
    if best is not None:
        for key, column in search.cv_results_.items():
            if key.startswith(("mean_test_", "std_test_")) and _finite(column[best]):
                metrics[f"best_{key}"] = float(column[best])
    for attribute in ("refit_time_", "n_epochs_total_", "n_splits_"):
        if _finite(getattr(search, attribute, None)):
            metrics[attribute.rstrip("_")] = float(getattr(search, attribute))
    for value, count in zip(*np.unique(np.asarray(statuses, dtype=str), return_counts=True)):
        metrics[f"n_{value}"] = float(count)
    return params, metrics


def _refit_curves(search):
    """(key, value, epoch) of the refitted net's history, when it is a skorch net."""
    net = getattr(search, "best_estimator_", None)
    if isinstance(net, Pipeline):
        net = net[-1]
    history = getattr(net, "history", None)
    if not history or not isinstance(history[0], dict):
        return
    from skorch.callbacks.logging import filter_log_keys

    for row in history:
        for key in filter_log_keys(row, keys_ignored=("batches",)):
            if _finite(row[key]):
                yield f"refit/{key}", float(row[key]), int(row["epoch"])


def _log_candidate(client, experiment_id, parent_id, cv_results, row, status, curves):
    """Create, fill and close the child run of one cv_results_ row; return its id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    params = cv_results["params"][row]
    run = client.create_run(experiment_id, run_name=f"candidate-{row}",
                            tags={MLFLOW_PARENT_RUN_ID: parent_id, "candidate": str(row),
                                  "status": status})
    run_id = run.info.run_id
    now = _now_ms()
    metrics, tags = [], []
    for key, column in cv_results.items():
        if key in ("params", "status") or key.startswith("param_"):
            continue
        value = column[row]
        if isinstance(value, (str, np.str_)):
            if value:
                tags.append(RunTag(key, _text(value, _MAX_TAG_LENGTH)))
        elif _finite(value):
            metrics.append(Metric(key, float(value), now, 0))
    metrics += [Metric(key, value, now, step) for key, value, step in curves]
    try:
        client.log_batch(run_id, metrics=metrics, tags=tags,
                         params=[Param(k, _text(_describe(v), _MAX_PARAM_LENGTH))
                                 for k, v in params.items()])
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FAILED" if status == "failed" else "FINISHED")
    return run_id


def _curves_by_candidate(history):
    """{cv_results_ row: [(key, value, epoch), ...]} from a ``history_`` whose records say where
    they belong (candidate, stage, rung, fold, epoch) and what was measured (train_loss, ...)."""
    curves = {}
    for record in history or ():
        where = f"fold{record.get('fold', 0)}"
        if record.get("stage") is not None:
            where = f"{record['stage']}/{where}"
        points = curves.setdefault(int(record["candidate"]), [])
        for key, value in record.items():
            if key not in _HISTORY_POSITION_KEYS and _finite(value):
                points.append((f"{key}/{where}", float(value), int(record["epoch"])))
    return curves


def _log_artifacts(client, parent_id, search, history, report_dir, log_model, pip_requirements,
                   mlflow):
    """Log the result tables, the report and the best estimator; return the model's URI."""
    model_uri = None
    with tempfile.TemporaryDirectory() as staging:
        pd.DataFrame(search.cv_results_).to_csv(os.path.join(staging, "cv_results.csv"),
                                                index=False)
        if history is not None:
            pd.DataFrame(history).to_csv(os.path.join(staging, "history.csv"), index=False)
        best = getattr(search, "best_estimator_", None)
        if log_model and best is not None:
            # skops (MLflow's default) cannot hold torch modules; the whole estimator is kept.
            mlflow.sklearn.save_model(best, os.path.join(staging, MODEL_ARTIFACT_PATH),
                                      serialization_format="cloudpickle",
                                      pip_requirements=pip_requirements)
            model_uri = f"runs:/{parent_id}/{MODEL_ARTIFACT_PATH}"
        client.log_artifacts(parent_id, staging)
    if report_dir is not None:
        client.log_artifacts(parent_id, os.fspath(report_dir), "report")
    return model_uri


# --- value conversion -----------------------------------------------------------------------

def _describe(value):
    """A parameter value as text: estimators and classes by class name, the rest by str."""
    if isinstance(value, type):
        return value.__qualname__
    if hasattr(value, "get_params"):
        return type(value).__qualname__
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _text(value, limit):
    value = str(value)
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _finite(value):
    if isinstance(value, (bool, np.bool_)) or value is None or np.ma.is_masked(value):
        return False
    try:
        return math.isfinite(value)
    except TypeError:
        return False


def _now_ms():
    return int(time.time() * 1000)
