"""log_search_to_mlflow against a real local MLflow store (sqlite backend, no server)."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.datasets import make_regression
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, cross_validate
from skopt import BayesSearchCV
from skopt.space import Integer, Real

from skhyper.tracking import log_search_to_mlflow

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One sqlite store per module: creating its tables costs seconds."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri)
    client.search_experiments()  # creates the tables now, once

    def log(search, name, **kwargs):
        """Log ``search`` into a fresh experiment whose artifacts stay under tmp."""
        return log_search_to_mlflow(search, experiment=name, tracking_uri=uri,
                                    artifact_location=str(root / name), **kwargs)

    return uri, client, log


def children_of(client, runs):
    found = client.search_runs(
        [runs.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{runs.parent_run_id}'")
    return {run.info.run_id: run for run in found}


def test_grid_search_parent_children_report_and_model(store, tiny_lstm, tiny_sine, tmp_path):
    uri, client, log = store
    search = GridSearchCV(tiny_lstm(), {"hidden_size": [4, 8]}, cv=2,
                          scoring={"r2": "r2", "mse": "neg_mean_squared_error"}, refit="r2")
    search.fit(tiny_sine.X, tiny_sine.y)
    report = tmp_path / "report"
    report.mkdir()
    (report / "best_config.yaml").write_text(yaml.safe_dump(
        {"params": search.best_params_, "best_score": float(search.best_score_),
         "scoring": "r2", "model": "lstm", "dataset": "sine-mixture"}))

    # Explicit requirements skip MLflow's inference subprocess (tens of seconds on busy CI).
    runs = log(search, "grid", report_dir=report, tags={"purpose": "test"},
               pip_requirements=["skhyper", "skorch", "torch"])

    parent = client.get_run(runs.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["search_class"] == "GridSearchCV"
    assert parent.data.tags["estimator_class"] == "LSTMRegressor"
    assert parent.data.tags["purpose"] == "test"
    assert parent.data.params["best_hidden_size"] == str(search.best_params_["hidden_size"])
    assert parent.data.params["estimator__max_epochs"] == "2"
    assert parent.data.params["cv"] == "2"
    metrics = parent.data.metrics
    assert metrics["best_cv_score"] == pytest.approx(search.best_score_)
    best = search.best_index_
    for name in ("r2", "mse"):
        assert metrics[f"best_mean_test_{name}"] == pytest.approx(
            search.cv_results_[f"mean_test_{name}"][best])
    assert metrics["n_candidates"] == 2
    refit_curve = client.get_metric_history(runs.parent_run_id, "refit/train_loss")
    assert [m.step for m in refit_curve] == [1, 2]
    np.testing.assert_allclose([m.value for m in refit_curve],
                               search.best_estimator_.history[:, "train_loss"])

    children = children_of(client, runs)
    assert set(children) == set(runs.child_run_ids)
    for row, run_id in enumerate(runs.child_run_ids):
        child = children[run_id]
        assert child.info.status == "FINISHED"
        assert child.data.params == {
            "hidden_size": str(search.cv_results_["params"][row]["hidden_size"])}
        for key in ("mean_test_r2", "std_test_mse", "split1_test_r2", "rank_test_r2",
                    "mean_fit_time", "mean_score_time"):
            assert child.data.metrics[key] == pytest.approx(search.cv_results_[key][row])

    artifacts = {a.path for a in client.list_artifacts(runs.parent_run_id)}
    assert artifacts == {"best_estimator", "cv_results.csv", "report"}
    assert [a.path for a in client.list_artifacts(runs.parent_run_id, "report")] == \
        ["report/best_config.yaml"]
    cv_csv = mlflow.artifacts.download_artifacts(
        run_id=runs.parent_run_id, artifact_path="cv_results.csv", tracking_uri=uri,
        dst_path=str(tmp_path / "download"))
    np.testing.assert_allclose(pd.read_csv(cv_csv)["mean_test_r2"],
                               search.cv_results_["mean_test_r2"])

    assert runs.model_uri == f"runs:/{runs.parent_run_id}/best_estimator"
    model_dir = mlflow.artifacts.download_artifacts(
        run_id=runs.parent_run_id, artifact_path="best_estimator", tracking_uri=uri,
        dst_path=str(tmp_path / "download"))
    loaded = mlflow.sklearn.load_model(model_dir)
    np.testing.assert_array_equal(loaded.predict(tiny_sine.X_test),
                                  search.best_estimator_.predict(tiny_sine.X_test))


def test_bayes_search(store, tiny_lstm, tiny_sine, tmp_path, monkeypatch):
    uri, client, _ = store
    search = BayesSearchCV(
        tiny_lstm(), {"hidden_size": Integer(4, 8), "lr": Real(1e-3, 1e-2, prior="log-uniform")},
        n_iter=3, cv=2, random_state=0,
    ).fit(tiny_sine.X, tiny_sine.y)

    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "bayes-from-env")
    runs = log_search_to_mlflow(search, tracking_uri=uri, artifact_location=str(tmp_path),
                                run_name="bayes-lstm", log_model=False)

    assert client.get_experiment(runs.experiment_id).name == "bayes-from-env"
    parent = client.get_run(runs.parent_run_id)
    assert parent.info.run_name == "bayes-lstm"
    assert parent.data.params["n_iter"] == "3"
    assert "Integer(low=4, high=8" in parent.data.params["search_spaces"]
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert runs.model_uri is None
    assert "best_estimator" not in {a.path for a in client.list_artifacts(runs.parent_run_id)}

    children = children_of(client, runs)
    assert len(children) == len(runs.child_run_ids) == 3
    for row, run_id in enumerate(runs.child_run_ids):
        params = search.cv_results_["params"][row]
        logged = children[run_id].data
        assert int(logged.params["hidden_size"]) == params["hidden_size"]
        assert float(logged.params["lr"]) == pytest.approx(params["lr"])
        assert logged.metrics["mean_test_score"] == pytest.approx(
            search.cv_results_["mean_test_score"][row])


def test_halving_search_logs_one_child_per_row(store):
    _, client, log = store
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    search = HalvingGridSearchCV(Ridge(), {"alpha": [0.01, 0.1, 1.0, 10.0]}, cv=2, factor=2,
                                 random_state=0).fit(X, y)

    runs = log(search, "halving", log_model=False)

    n_rows = len(search.cv_results_["params"])
    assert n_rows > 4  # candidates appear once per iteration they reached
    children = children_of(client, runs)
    assert len(children) == n_rows
    iterations = [children[run_id].data.metrics["iter"] for run_id in runs.child_run_ids]
    assert iterations == list(search.cv_results_["iter"])
    # only the last iteration's rows are final; earlier ones are pruned (the candidate stopped
    # there, or went on to a later row), as the command's halving search marks them
    statuses = [children[run_id].data.tags["status"] for run_id in runs.child_run_ids]
    expected = ["ok" if it == max(iterations) else "pruned" for it in iterations]
    assert statuses == expected and "pruned" in statuses
    parent = client.get_run(runs.parent_run_id).data.metrics
    assert parent["n_pruned"] == expected.count("pruned")


def test_a_grid_search_fit_that_raised_is_a_failed_run(store):
    # GridSearchCV has no status column: a candidate whose fits raised has NaN scores
    _, client, log = store
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about the failed fits
        search = GridSearchCV(Ridge(), {"alpha": [1.0, -1.0]}, cv=2).fit(X, y)

    runs = log(search, "grid-failure", log_model=False)

    ok, failed = (client.get_run(run_id) for run_id in runs.child_run_ids)
    assert (ok.info.status, ok.data.tags["status"]) == ("FINISHED", "ok")
    assert (failed.info.status, failed.data.tags["status"]) == ("FAILED", "failed")
    parent = client.get_run(runs.parent_run_id).data.metrics
    assert (parent["n_ok"], parent["n_failed"]) == (1, 1)


def staged_format(search, tiny_lstm, X, y, failure):
    """Give a fitted GridSearchCV the extra columns and ``history_`` of StagedHalvingSearchCV
    (contract item 1), from real fold fits, so the staged format is logged as it will be."""
    results = dict(search.cv_results_)
    failed = np.isnan(results["mean_test_score"])
    results.update(stage=np.array(["explore"] * len(failed), dtype=object),
                   rung=np.zeros(len(failed), dtype=int),
                   epochs=np.where(failed, 0, 2),
                   status=np.where(failed, "failed", "ok").astype(object),
                   error=np.where(failed, failure, "").astype(object))
    history = []
    for candidate, params in enumerate(results["params"]):
        if failed[candidate]:
            continue
        folds = cross_validate(tiny_lstm(**params), X, y, cv=2, return_estimator=True)
        for fold, net in enumerate(folds["estimator"]):
            for row in net.history:
                last = row["epoch"] == len(net.history)
                history.append(dict(
                    candidate=candidate, stage="explore", rung=0, fold=fold,
                    epoch=row["epoch"], train_loss=row["train_loss"],
                    valid_loss=row["valid_loss"],
                    score=folds["test_score"][fold] if last else float("nan")))
    search.cv_results_, search.history_ = results, history
    return search


def test_staged_results_failures_and_learning_curves(store, tiny_lstm, tiny_sine):
    _, client, log = store
    with pytest.raises(ValueError) as failure:
        tiny_lstm(hidden_size=0).fit(tiny_sine.X, tiny_sine.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        warnings.filterwarnings("ignore", "One or more of the test scores are non-finite")
        search = GridSearchCV(tiny_lstm(), {"hidden_size": [8, 0]}, cv=2, error_score=np.nan)
        search.fit(tiny_sine.X, tiny_sine.y)
    search = staged_format(search, tiny_lstm, tiny_sine.X, tiny_sine.y, str(failure.value))

    runs = log(search, "staged", log_model=False)

    parent = client.get_run(runs.parent_run_id)
    assert parent.data.metrics["n_ok"] == 1 and parent.data.metrics["n_failed"] == 1
    assert "history.csv" in {a.path for a in client.list_artifacts(runs.parent_run_id)}

    ok, failed = (client.get_run(run_id) for run_id in runs.child_run_ids)
    assert ok.info.status == "FINISHED"
    assert ok.data.tags["stage"] == "explore" and ok.data.tags["status"] == "ok"
    assert "error" not in ok.data.tags
    assert ok.data.metrics["epochs"] == 2 and ok.data.metrics["rung"] == 0
    assert failed.info.status == "FAILED"
    assert failed.data.tags["status"] == "failed"
    assert "hidden_size=0" in failed.data.tags["error"]
    assert "mean_test_score" not in failed.data.metrics  # NaN scores are left out
    assert failed.data.params == {"hidden_size": "0"}

    records = pd.DataFrame(search.history_)
    for fold in (0, 1):
        mine = records[records.fold == fold]
        curve = client.get_metric_history(ok.info.run_id, f"train_loss/explore/fold{fold}")
        assert [m.step for m in curve] == [1, 2]
        np.testing.assert_allclose([m.value for m in curve], mine.train_loss)
        (score,) = client.get_metric_history(ok.info.run_id, f"score/explore/fold{fold}")
        assert score.step == 2
        assert score.value == pytest.approx(search.cv_results_[f"split{fold}_test_score"][0])
    assert client.get_metric_history(failed.info.run_id, "train_loss/explore/fold0") == []


@pytest.fixture
def fitted_dummy_search():
    return GridSearchCV(DummyRegressor(), {"strategy": ["mean", "median"]}, cv=2).fit(
        np.zeros((8, 1)), np.arange(8.0))


def test_bad_input_names_the_value(fitted_dummy_search, tmp_path):
    with pytest.raises(NotFittedError):
        log_search_to_mlflow(GridSearchCV(DummyRegressor(), {"strategy": ["mean"]}))
    with pytest.raises(ValueError, match="report_dir=.*nowhere.*not an existing directory"):
        log_search_to_mlflow(fitted_dummy_search, report_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="experiment=''"):
        log_search_to_mlflow(fitted_dummy_search, experiment="")


def test_missing_mlflow_names_the_extra(fitted_dummy_search, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ImportError, match=r"skhyper\[mlflow\]"):
        log_search_to_mlflow(fitted_dummy_search)
