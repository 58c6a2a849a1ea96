"""Significance, Pareto front, model size, the one-standard-error refit, importance and guide."""

import pickle
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhyper.analysis import (
    SmallestWithinOneSE,
    compare_to_best,
    corrected_ttest,
    count_parameters,
    n_parameters_scorer,
    parameter_guide,
    parameter_importance,
    pareto_front,
    significance_statement,
)


def make_cv_results(params, splits, fit_time=None, **metrics):
    """A scikit-learn-format cv_results_ dict from per-split scores (n_candidates, n_splits);
    ``metrics`` adds more metrics as name -> per-split array."""
    n = len(params)
    cv = {"params": params,
          "mean_fit_time": np.asarray(fit_time if fit_time is not None else np.ones(n), float),
          "std_fit_time": np.zeros(n), "mean_score_time": np.ones(n),
          "std_score_time": np.zeros(n)}
    for name in {k for p in params for k in p}:
        cv[f"param_{name}"] = np.ma.masked_array([p.get(name) for p in params], dtype=object)
    for metric, scores in {"score": splits, **metrics}.items():
        scores = np.asarray(scores, float)
        for k in range(scores.shape[1]):
            cv[f"split{k}_test_{metric}"] = scores[:, k]
        cv[f"mean_test_{metric}"] = scores.mean(axis=1)
        cv[f"std_test_{metric}"] = scores.std(axis=1)
        cv[f"rank_test_{metric}"] = stats.rankdata(-np.nan_to_num(scores.mean(axis=1),
                                                                   nan=-np.inf), "min")
    return cv


# --- corrected resampled t-test -------------------------------------------------------------

def test_corrected_ttest_matches_hand_computation():
    a = [0.90, 0.80, 0.85, 0.90, 0.95]
    b = [0.80, 0.60, 0.55, 0.70, 0.75]
    # d = [.1, .2, .3, .2, .2]: mean 0.2, var 0.005; k-fold ratio n_test/n_train = 1/4:
    # t = 0.2 / sqrt((1/5 + 1/4) * 0.005) = 4.21637, p = 2 * T_4.sf(t) = 0.0135169
    t, p = corrected_ttest(a, b)
    assert t == pytest.approx(4.216370, rel=1e-6)
    assert p == pytest.approx(0.0135169, rel=1e-5)
    # Explicit split sizes (90 train / 10 test): t = 0.2 / sqrt((1/5 + 1/9) * 0.005)
    t, p = corrected_ttest(a, b, n_train=90, n_test=10)
    assert t == pytest.approx(5.070926, rel=1e-6)
    assert p == pytest.approx(0.0071258, rel=1e-4)
    # The correction makes it more conservative than the plain paired t-test.
    assert corrected_ttest(a, b)[1] > stats.ttest_rel(a, b).pvalue
    assert corrected_ttest(b, a)[0] == pytest.approx(-4.216370, rel=1e-6)


def test_corrected_ttest_edge_cases():
    assert corrected_ttest([1, 2, 3], [1, 2, 3]) == (0.0, 1.0)
    t, p = corrected_ttest([2, 3, 4], [1, 2, 3])
    assert t == np.inf and p == 0.0
    assert np.isnan(corrected_ttest([1.0, np.nan], [0.5, 0.2])[1])
    with pytest.raises(ValueError, match="same length"):
        corrected_ttest([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="both n_train and n_test"):
        corrected_ttest([1, 2, 3], [0, 2, 1], n_train=10)


def test_compare_to_best_on_a_real_search():
    X, y = make_regression(150, 5, noise=20.0, random_state=0)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0, 1e4]}, cv=KFold(5)).fit(X, y)
    comparison = compare_to_best(search, top=3)
    assert comparison.attrs["best"] == search.best_index_
    assert len(comparison) == 2
    runner = comparison.iloc[0]
    splits = [f"split{k}_test_score" for k in range(5)]
    cv = search.cv_results_
    t, p = corrected_ttest([cv[s][search.best_index_] for s in splits],
                           [cv[s][int(runner["candidate"])] for s in splits])
    assert runner["t"] == pytest.approx(t) and runner["p_value"] == pytest.approx(p)
    text = significance_statement(comparison)
    assert f"#{search.best_index_}" in text and "Nadeau & Bengio" in text


def test_statement_says_plainly_when_indistinguishable():
    splits = [[0.90, 0.80, 0.85, 0.90, 0.95], [0.89, 0.82, 0.84, 0.91, 0.93],
              [0.50, 0.40, 0.45, 0.50, 0.55]]
    comparison = compare_to_best(make_cv_results([{"c": 1}, {"c": 2}, {"c": 3}], splits))
    assert comparison.attrs["best"] == 0
    assert list(comparison["distinguishable"]) == [False, True]
    text = significance_statement(comparison)
    assert "statistically indistinguishable" in text and "#0 vs runner-up #1" in text


def test_compare_to_best_compares_a_staged_searchs_extended_rows_whatever_rung_they_kept():
    # early stopping keeps each extended row's best evaluation at its own rung; the rows are on
    # the same folds, so they compare; explored rows only with their rung
    splits = [[0.90, 0.80, 0.85], [0.89, 0.82, 0.84], [0.50, 0.40, 0.45], [0.95, 0.95, 0.95]]
    cv = staged_cv_results(splits, sizes=[1, 1, 1, 1],
                           stage=["extended", "extended", "extended", "explore"],
                           rung=[5, 3, 4, 1])
    comparison = compare_to_best(cv)
    assert comparison.attrs["best"] == 0 and sorted(comparison["candidate"]) == [1, 2]
    cv["stage"][:] = "explore"
    cv["rung"] = np.array([2, 2, 1, 1])
    assert list(compare_to_best(staged_ranks(cv))["candidate"]) == [1]


# --- Pareto front and model size ------------------------------------------------------------

def test_pareto_front_on_a_known_case():
    scores = [-1.0, -0.5, -0.5, -2.0, -1.0, -1.5, np.nan]
    times = [1.0, 2.0, 3.0, 0.5, 1.0, 1.5, 0.1]
    sizes = [100, 200, 300, 50, 100, 150, 10]
    cv = make_cv_results([{"c": i} for i in range(7)], np.c_[scores, scores], fit_time=times,
                         n_parameters=np.c_[sizes, sizes])
    # #2 is beaten by #1 (same score, faster, smaller), #5 by #0; #6 failed; #0 and #4 tie.
    front = pareto_front(cv)
    assert sorted(front["candidate"]) == [0, 1, 3, 4]
    assert front.attrs["objectives"] == {"mean_test_score": "max", "mean_fit_time": "min",
                                         "mean_test_n_parameters": "min"}
    assert list(front["candidate"])[0] == 1  # best first on the first objective
    only_score = pareto_front(cv, {"score": "max"})
    assert sorted(only_score["candidate"]) == [1, 2]
    assert sorted(pareto_front(cv, {"n_parameters": "min", "score": "max"})["candidate"]) == \
        [0, 1, 3, 4]
    with pytest.raises(ValueError, match="Invalid objective 'size'"):
        pareto_front(cv, {"size": "min"})
    with pytest.raises(ValueError, match="direction of 'score'.*max, min"):
        pareto_front(cv, {"score": "up"})


def test_count_parameters():
    X, y = make_regression(40, 5, random_state=0)
    assert count_parameters(Ridge().fit(X, y)) == 6
    assert count_parameters(make_pipeline(StandardScaler(), Ridge()).fit(X, y)) == 6
    assert n_parameters_scorer(Ridge().fit(X, y), X, y) == 6.0
    with pytest.raises(TypeError, match="KNeighborsRegressor"):
        count_parameters(KNeighborsRegressor().fit(X, y))


def test_smallest_within_one_se_on_a_known_case():
    splits = [[0.90, 0.92, 0.88, 0.90],    # best: mean .90, std .01414, se .00707
              [0.89, 0.90, 0.895, 0.895],  # mean .895 >= .8929: within, size 50
              [0.85, 0.85, 0.85, 0.85],    # too low, though smallest
              [0.90, 0.90, 0.90, 0.90]]    # as good as the best, bigger
    sizes = np.c_[[100, 50, 10, 200]].repeat(4, axis=1)
    cv = make_cv_results([{"c": i} for i in range(4)], splits, n_parameters=sizes)
    assert SmallestWithinOneSE()(cv) == 1
    assert SmallestWithinOneSE(metric="score", size="fit_time")(cv) in (0, 3)
    with pytest.raises(ValueError, match="metric='r2'"):
        SmallestWithinOneSE(metric="r2")(cv)


def staged_cv_results(splits, sizes, stage, rung):
    """make_cv_results for a staged search whose rows may have fewer folds (NaN splits)."""
    splits = np.asarray(splits, float)
    cv = make_cv_results([{"c": i} for i in range(len(splits))], splits,
                         n_parameters=np.c_[sizes].repeat(splits.shape[1], axis=1))
    cv["mean_test_score"] = np.nanmean(splits, axis=1)
    cv["std_test_score"] = np.nanstd(splits, axis=1)
    cv.update(stage=np.array(stage), rung=np.array(rung), status=np.array(["ok"] * len(stage)),
              epochs=np.array(rung) + 1)
    return staged_ranks(cv)


def staged_ranks(cv):
    """``cv`` ranked as the staged search ranks: stage, then rung reached, then score."""
    from skhyper import StagedHalvingSearchCV

    cv["rank_test_score"] = StagedHalvingSearchCV._rank(cv, "score")
    return cv


def test_smallest_within_one_se_in_a_staged_search_picks_from_what_trained_longest():
    nan = np.nan
    cv = staged_cv_results(
        [[0.88, 0.90, 0.92, nan, nan],    # extended, best: mean .90, std .01633 over 3 folds
         [0.891, 0.891, 0.891, nan, nan],  # extended: within one SE over 3 folds (.89057)
         [0.95, nan, nan, nan, nan],       # explored at a rung before, on a hold-out: higher
         [0.90, 0.90, 0.90, 0.90, 0.90]],  # explored only (an extended_cv search's cv folds)
        sizes=[100, 50, 10, 5], stage=["extended", "extended", "explore", "explore"],
        rung=[2, 3, 0, 1])
    # the explored rows, trained less or on other folds, do not compete; the standard error
    # is over the best's 3 folds, not the 5 split columns (which put .891 outside: .89270)
    assert SmallestWithinOneSE()(cv) == 1
    # without an extended stage, the last rung's rows compete
    cv["stage"][:], cv["rung"] = "explore", np.array([2, 2, 0, 1])
    assert SmallestWithinOneSE()(staged_ranks(cv)) == 1


def test_smallest_within_one_se_refits_a_real_lstm_search(tiny_sine, tiny_lstm):
    rule = SmallestWithinOneSE(metric="score")
    search = GridSearchCV(tiny_lstm(max_epochs=1), {"hidden_size": [4, 12], "lr": [1e-3, 1e-2]},
                          cv=KFold(2), refit=rule,
                          scoring={"score": "neg_mean_squared_error",
                                   "n_parameters": n_parameters_scorer})
    search.fit(tiny_sine.X, tiny_sine.y)
    cv = search.cv_results_
    # 1-layer LSTM, 5 inputs, hidden h, 1 output: 4 (h (5 + h) + 2 h) + h + 1 parameters.
    assert set(cv["mean_test_n_parameters"]) == {181.0, 925.0}
    assert count_parameters(search.best_estimator_) == \
        cv["mean_test_n_parameters"][search.best_index_]
    best = int(np.argmax(cv["mean_test_score"]))
    threshold = cv["mean_test_score"][best] - cv["std_test_score"][best] / np.sqrt(2)
    chosen = search.best_index_
    assert cv["mean_test_score"][chosen] >= threshold
    within = cv["mean_test_score"] >= threshold
    assert cv["mean_test_n_parameters"][chosen] == cv["mean_test_n_parameters"][within].min()
    assert chosen in set(pareto_front(search, {"score": "max", "n_parameters": "min"})
                         ["candidate"])
    clone(search)
    assert pickle.loads(pickle.dumps(search)).best_index_ == chosen


# --- importance and the per-parameter guide -------------------------------------------------

def _synthetic_results(n):
    rng = np.random.default_rng(0)
    lr = 10 ** rng.uniform(-5, 0, n)
    noise = rng.uniform(0, 1, n)
    optimizer = rng.choice(["adam", "sgd"], n)
    score = -(np.log10(lr) + 2.5) ** 2
    splits = np.c_[score, score + 0.01, score - 0.01]
    params = [{"lr": a, "noise": b, "optimizer": c} for a, b, c in zip(lr, noise, optimizer)]
    return make_cv_results(params, splits)


def test_parameter_importance_finds_the_parameter_that_matters():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 40 results: no warning
        table = parameter_importance(_synthetic_results(40))
    assert list(table.columns) == ["parameter", "importance", "importance_std"]
    assert table.iloc[0]["parameter"] == "lr"
    lr, rest = table.iloc[0], table.iloc[1:]
    assert lr["importance"] > 10 * rest["importance"].max()
    assert (table["importance_std"] >= 0).all()


def test_parameter_importance_warns_with_few_results():
    with pytest.warns(UserWarning, match="Only 6 scored candidates"):
        parameter_importance(_synthetic_results(6))
    with pytest.raises(ValueError, match="at least 3 scored candidates"):
        parameter_importance(_synthetic_results(2))


def test_parameter_guide_reports_best_value_sensitivity_and_direction():
    params, splits = [], []
    for x in [1, 2, 3, 4]:
        for y in ["a", "b"]:
            for z in [0.1, 0.2, 0.3]:
                params.append({"x": x, "y": y, "z": z})
                s = x + 0.5 * (y == "b") - 10 * (z - 0.2) ** 2
                splits.append([s, s])
    guide = parameter_guide(make_cv_results(params, splits)).set_index("parameter")
    assert list(guide.index) == ["x", "y", "z"]  # most sensitive first
    assert guide.loc["x", "sensitivity"] == pytest.approx(3.0)
    assert guide.loc["x", "best_value"] == "4"
    assert guide.loc["x", "direction"].startswith("higher is better")
    assert "try larger values" in guide.loc["x", "note"]
    assert guide.loc["y", "direction"] == "best choice: b"
    assert guide.loc["y", "sensitivity"] == pytest.approx(0.5)
    assert guide.loc["z", "direction"] == "best in the middle, around 0.2"
    assert guide.loc["z", "best_on_average"] == "0.2"


def test_parameter_guide_leaves_out_candidates_where_a_parameter_did_not_apply():
    # gamma applies to the rbf kernel only: the linear candidates (NaN) are not a value of it
    from sklearn.datasets import make_regression
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVR

    X, y = make_regression(60, 3, noise=5, random_state=0)
    search = GridSearchCV(SVR(), [{"kernel": ["linear"], "C": [0.1, 10]},
                                  {"kernel": ["rbf"], "C": [0.1, 10], "gamma": [0.01, 0.1, 1]}],
                          cv=3).fit(X, y)
    gamma = parameter_guide(search).set_index("parameter").loc["gamma"]
    assert gamma["n_values"] == 3
    assert gamma["best_on_average"] in ("0.01", "0.1", "1")
    assert "n/a" not in gamma["direction"]


def test_parameter_guide_bins_values_that_agree_to_three_digits():
    # Adam's beta2 drawn from 0.999-0.9999: the bins' names need more than 3 digits to differ
    rng = np.random.default_rng(0)
    betas = rng.uniform(0.999, 0.9999, 20)
    params = [{"beta2": float(b)} for b in betas]
    guide = parameter_guide(make_cv_results(params, [[b, b] for b in betas]))
    assert guide.loc[0, "direction"].startswith("higher is better")
    assert guide.loc[0, "best_on_average"].endswith(f"{betas.max():.4g}")
