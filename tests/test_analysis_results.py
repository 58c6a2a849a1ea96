"""results_frame and summary_statistics on the results of every kind of search."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import loguniform
from sklearn.datasets import make_regression
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV
from skopt import BayesSearchCV
from skopt.space import Categorical, Real

from skhyper.analysis import results_frame, summary_statistics


@pytest.fixture(scope="module")
def data():
    return make_regression(240, 5, noise=5.0, random_state=0)


@pytest.fixture(scope="module")
def random_with_failures(data):
    """A real search in which every candidate with penalty='bogus' fails to fit."""
    search = RandomizedSearchCV(
        SGDRegressor(random_state=0),
        {"alpha": loguniform(1e-6, 1e1), "penalty": ["l2", "l1", "bogus"]},
        n_iter=12, cv=3, random_state=0, error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's FitFailedWarning: the point of the test
        return search.fit(*data)


def test_grid_search_frame_matches_cv_results(data):
    search = GridSearchCV(Ridge(), {"alpha": [0.01, 1.0, 100.0], "fit_intercept": [True, False]},
                          cv=3).fit(*data)
    frame = results_frame(search)
    assert len(frame) == 6
    assert list(frame["candidate"]) == list(range(6))
    assert (frame["status"] == "ok").all() and (frame["error"] == "").all()
    np.testing.assert_allclose(frame["mean_test_score"], search.cv_results_["mean_test_score"])
    assert list(frame["param_alpha"]) == list(search.cv_results_["param_alpha"])
    assert frame.loc[frame["rank"] == 1, "candidate"].item() == search.best_index_
    assert frame.attrs["best"] == search.best_index_
    assert frame.attrs["metrics"] == ["score"]
    assert frame.attrs["scoring"] == "Ridge.score"


def test_failed_candidates_are_marked_with_a_reason(random_with_failures):
    frame = results_frame(random_with_failures)
    failed = frame[frame["status"] == "failed"]
    assert len(failed) > 0
    assert (failed["param_penalty"] == "bogus").all()
    assert failed["error"].str.contains("FitFailedWarning").all()
    assert failed["mean_test_score"].isna().all()
    # Failed candidates rank after every scored one.
    assert failed["rank"].min() > frame.loc[frame["status"] == "ok", "rank"].max()
    assert (frame.loc[frame["status"] == "ok", "param_penalty"] != "bogus").all()


def test_filters_top_and_query(random_with_failures):
    frame = results_frame(random_with_failures)
    top = results_frame(random_with_failures, top=3)
    assert list(top["rank"]) == sorted(frame["rank"])[:3]
    assert set(results_frame(frame, status="failed")["status"]) == {"failed"}
    small = results_frame(random_with_failures, query="param_alpha < 0.01", status="ok")
    assert len(small) > 0 and (small["param_alpha"] < 0.01).all()
    with pytest.raises(ValueError, match="Invalid status='done'.*ok, failed, pruned"):
        results_frame(frame, status="done")
    with pytest.raises(ValueError, match="top=0"):
        results_frame(frame, top=0)


def test_csv_export_round_trips(random_with_failures, tmp_path):
    frame = results_frame(random_with_failures)
    frame.to_csv(tmp_path / "results.csv", index=False)
    back = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert list(back["candidate"]) == list(frame["candidate"])
    assert list(back["status"]) == list(frame["status"])


def test_summary_statistics(random_with_failures):
    stats = summary_statistics(random_with_failures)
    scores = results_frame(random_with_failures, status="ok")["mean_test_score"]
    row = stats.loc["mean_test_score"]
    assert row["count"] == len(scores)
    np.testing.assert_allclose([row["mean"], row["std"], row["min"], row["max"], row["median"]],
                               [scores.mean(), scores.std(), scores.min(), scores.max(),
                                scores.median()])
    assert stats.attrs["counts"]["failed"] == 12 - len(scores)


def test_halving_keeps_each_candidates_last_iteration(data):
    search = HalvingGridSearchCV(SGDRegressor(random_state=0),
                                 {"alpha": [1e-5, 1e-3, 1e-1, 10.0], "penalty": ["l2", "l1"]},
                                 factor=2, min_resources=60, cv=3, random_state=0).fit(*data)
    frame = results_frame(search)
    assert len(frame) == 8  # one row per candidate, not per iteration
    assert frame["params"].map(repr).is_unique
    last = search.n_iterations_ - 1
    assert set(frame.loc[frame["iter"] == last, "status"]) == {"ok"}
    assert set(frame.loc[frame["iter"] < last, "status"]) == {"pruned"}
    # The search's choice is the rank-1 row; later iterations rank before earlier ones.
    assert frame.loc[frame["rank"] == 1, "candidate"].item() == search.best_index_
    ordered = frame.sort_values("rank")
    assert ordered["iter"].is_monotonic_decreasing


def test_halving_over_a_parameter_resource_keeps_one_row_per_candidate(data):
    # resource="max_iter": each iteration's params carry that iteration's max_iter
    search = HalvingGridSearchCV(SGDRegressor(random_state=0, tol=None),
                                 {"alpha": [1e-5, 1e-3, 1e-1, 10.0]}, resource="max_iter",
                                 min_resources=2, max_resources=8, factor=2, cv=3,
                                 random_state=0).fit(*data)
    frame = results_frame(search)
    assert sorted(p["alpha"] for p in frame["params"]) == [1e-5, 1e-3, 1e-1, 10.0]
    assert list(frame["status"]).count("ok") == search.n_candidates_[-1]
    assert frame.loc[frame["rank"] == 1, "candidate"].item() == search.best_index_


def test_bayes_search_frame(data):
    search = BayesSearchCV(Ridge(), {"alpha": Real(1e-3, 1e3, prior="log-uniform"),
                                     "fit_intercept": Categorical([True, False])},
                           n_iter=5, cv=3, random_state=0).fit(*data)
    frame = results_frame(search)
    assert len(frame) == 5
    assert frame.loc[frame["rank"] == 1, "candidate"].item() == search.best_index_
    assert frame["param_alpha"].dtype.kind == "f"


def test_multimetric_ranks_on_the_refit_metric(data):
    search = GridSearchCV(Ridge(), {"alpha": [0.01, 10.0, 1000.0]}, cv=3,
                          scoring={"r2": "r2", "mae": "neg_mean_absolute_error"},
                          refit="mae").fit(*data)
    frame = results_frame(search)
    assert frame.attrs["metrics"] == ["r2", "mae"]
    assert frame.attrs["metric"] == "mae" and frame.attrs["scoring"] == "neg_mean_absolute_error"
    assert frame.loc[frame["rank"] == 1, "candidate"].item() == search.best_index_
    by_r2 = results_frame(frame, metric="r2")
    best_r2 = int(np.argmax(search.cv_results_["mean_test_r2"]))
    assert by_r2.loc[by_r2["rank"] == 1, "candidate"].item() == best_r2
    with pytest.raises(ValueError, match="metric='mse'.*r2, mae"):
        results_frame(search, metric="mse")


def test_a_refit_callable_ranks_on_its_metric_and_its_pick_stands_for_that_one(data):
    from sklearn.neural_network import MLPRegressor

    from skhyper.analysis import SmallestWithinOneSE, n_parameters_scorer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLPs stopped at 30 iterations
        search = GridSearchCV(
            MLPRegressor(max_iter=30, random_state=0), {"hidden_layer_sizes": [(2,), (8,), (32,)]},
            cv=3, scoring={"n_parameters": n_parameters_scorer, "mse": "neg_mean_squared_error"},
            refit=SmallestWithinOneSE(metric="mse")).fit(*data)
    frame = results_frame(search)
    assert frame.attrs["metric"] == "mse" and frame.attrs["best"] == search.best_index_
    # the same answers from the search and from its frame, for either metric
    for metric in ("mse", "n_parameters"):
        assert results_frame(search, metric=metric).attrs["best"] == \
            results_frame(frame, metric=metric).attrs["best"]
    # size: smaller is better (scikit-learn ranks the largest model first)
    by_size = results_frame(search, metric="n_parameters").sort_values("rank")
    assert by_size["mean_test_n_parameters"].is_monotonic_increasing


def test_the_pick_of_a_search_refit_on_one_metric_is_not_claimed_for_another(data):
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 10, 100, 1000]}, cv=3,
                          scoring={"r2": "r2", "mae": "neg_mean_absolute_error"},
                          refit=lambda cv: 3).fit(*data)
    assert results_frame(search, metric="r2").attrs["best"] == 3  # r2: the first metric
    by_mae = results_frame(search, metric="mae")
    assert by_mae.attrs["best"] == by_mae.loc[by_mae["rank"] == 1, "candidate"].item()
    assert by_mae.attrs["best"] == results_frame(results_frame(search), metric="mae").attrs["best"]


def test_staged_contract_columns_are_kept():
    cv = {
        "params": [{"lr": 0.1}, {"lr": 0.01}, {"lr": 1.0}],
        "param_lr": np.ma.masked_array([0.1, 0.01, 1.0]),
        "split0_test_score": np.array([-0.2, -0.5, np.nan]),
        "split1_test_score": np.array([-0.3, -0.4, np.nan]),
        "mean_test_score": np.array([-0.25, -0.45, np.nan]),
        "std_test_score": np.array([0.05, 0.05, np.nan]),
        "rank_test_score": np.array([1, 2, 3]),
        "mean_fit_time": np.ones(3), "std_fit_time": np.zeros(3),
        "mean_score_time": np.ones(3), "std_score_time": np.zeros(3),
        "stage": np.array(["extended", "explore", "explore"]),
        "rung": np.array([1, 0, 0]), "epochs": np.array([8, 2, 1]),
        "status": np.array(["ok", "pruned", "failed"]),
        "error": np.array(["", "", "NonFiniteLossError: training loss became nan at epoch 1"]),
    }
    frame = results_frame(cv)
    assert list(frame["status"]) == ["ok", "pruned", "failed"]
    assert frame.loc[2, "error"].startswith("NonFiniteLossError")
    assert list(frame["stage"]) == ["extended", "explore", "explore"]
    assert list(frame["epochs"]) == [8, 2, 1]
    assert list(frame["rank"]) == [1, 2, 3]
    assert frame.attrs["search"] == "cv_results_"


def test_a_hand_made_dict_with_scores_only_is_analysed_and_reported(tmp_path):
    from skhyper.analysis import pareto_front, plots, write_report

    cv = {"params": [{"alpha": a} for a in (0.1, 1.0, 10.0)],
          "mean_test_score": np.array([0.5, 0.7, 0.6]),
          "split0_test_score": np.array([0.4, 0.6, 0.6]),
          "split1_test_score": np.array([0.6, 0.8, 0.6])}
    frame = results_frame(cv)
    np.testing.assert_allclose(frame["std_test_score"], [0.1, 0.1, 0.0])  # from the splits
    assert frame["mean_fit_time"].isna().all()
    assert list(pareto_front(cv)["candidate"]) == [1]  # the score alone: no times to weigh
    with pytest.raises(ValueError, match="No fit times recorded"):
        plots.plot_fit_time(cv)
    written = write_report(cv, tmp_path)
    assert "fit_time" in json.loads(written["json"].read_text())["figures_skipped"]


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="got list"):
        results_frame([1, 2])
    with pytest.raises(ValueError, match="fit the search first"):
        results_frame(GridSearchCV(Ridge(), {"alpha": [1.0]}))
