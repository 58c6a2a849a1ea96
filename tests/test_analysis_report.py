"""Every plot and the report, built from real small searches of each kind."""

import json
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.colors import to_rgba
from scipy.stats import loguniform
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_regression
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skopt import BayesSearchCV
from skopt.space import Categorical, Real

import skhyper
from skhyper.analysis import (
    learning_curves,
    n_parameters_scorer,
    pareto_front,
    plot_fit_time,
    plot_learning_curves,
    plot_param_effects,
    plot_param_heatmap,
    plot_param_importance,
    plot_pareto_front,
    plot_score_distribution,
    plot_top_candidates,
    results_frame,
    write_report,
)

TINY = dict(num_layers=1, max_epochs=2, batch_size=32, patience=None, lr_scheduler=None,
            random_state=0)


class StagedResults:
    """What StagedHalvingSearchCV exposes (contract item 1), from a real two-rung run below."""

    scoring = "neg_mean_squared_error"
    refit = True

    def __init__(self, cv_results, history, best_index):
        self.cv_results_, self.history_, self.best_index_ = cv_results, history, best_index


def run_two_rungs(X, y):
    """A real warm-started halving run of tiny LSTMs in the staged search's result format:
    4 candidates (one invalid, so it fails) on 2 folds; after rung 0 (1 epoch) the best 2
    train one more epoch with partial_fit, the other is pruned."""
    candidates = [dict(hidden_size=4, lr=1e-2), dict(hidden_size=8, lr=1e-2),
                  dict(hidden_size=4, lr=1e-4), dict(hidden_size=0, lr=1e-2)]
    folds = list(KFold(2).split(X))
    n = len(candidates)
    scores = np.full((n, 2), np.nan)
    fit_time, score_time = np.zeros((n, 2)), np.zeros((n, 2))
    status, error, rung, nets, history = ["ok"] * n, [""] * n, [0] * n, {}, []

    def train(c, k, r, epochs):
        train_idx, test_idx = folds[k]
        start = time.perf_counter()
        net = nets.get((c, k)) or skhyper.make_estimator("lstm", **{**TINY, **candidates[c]})
        seen = net.n_epochs_ if (c, k) in nets else 0
        net.partial_fit(X[train_idx], y[train_idx], epochs=epochs)
        nets[(c, k)] = net
        fit_time[c, k] += time.perf_counter() - start
        start = time.perf_counter()
        scores[c, k] = -mean_squared_error(y[test_idx], net.predict(X[test_idx]))
        score_time[c, k] = time.perf_counter() - start
        for entry in net.history[seen:]:
            history.append(dict(candidate=c, stage="explore", rung=r, fold=k,
                                epoch=entry["epoch"], train_loss=entry["train_loss"],
                                valid_loss=entry["valid_loss"],
                                score=scores[c, k] if entry["epoch"] == net.n_epochs_
                                else np.nan))

    for c in range(n):
        try:
            for k in range(2):
                train(c, k, 0, 1)
        except ValueError as exc:
            status[c], error[c], scores[c] = "failed", f"ValueError: {exc}", np.nan
    ranked = sorted((c for c in range(n) if status[c] == "ok"), key=lambda c: -scores[c].mean())
    for c in ranked[:2]:
        rung[c] = 1
        for k in range(2):
            train(c, k, 1, 1)
    for c in ranked[2:]:
        status[c] = "pruned"
    mean = scores.mean(axis=1)
    order = sorted(range(n), key=lambda c: (status[c] != "ok", status[c] == "failed",
                                            -np.nan_to_num(mean[c], nan=-np.inf)))
    rank = np.empty(n, int)
    rank[order] = np.arange(1, n + 1)
    cv = {"params": candidates,
          "param_hidden_size": np.ma.masked_array([p["hidden_size"] for p in candidates]),
          "param_lr": np.ma.masked_array([p["lr"] for p in candidates]),
          "split0_test_score": scores[:, 0], "split1_test_score": scores[:, 1],
          "mean_test_score": mean, "std_test_score": scores.std(axis=1),
          "rank_test_score": rank,
          "mean_fit_time": fit_time.mean(axis=1), "std_fit_time": fit_time.std(axis=1),
          "mean_score_time": score_time.mean(axis=1), "std_score_time": score_time.std(axis=1),
          "stage": np.array(["explore"] * n), "rung": np.array(rung),
          "epochs": np.array([r + 1 if s != "failed" else 0 for r, s in zip(rung, status)]),
          "status": np.array(status), "error": np.array(error)}
    return StagedResults(cv, history, order[0])


@pytest.fixture(scope="module")
def searches(tiny_sine):
    """One real small search of each kind."""
    X, y = make_regression(240, 5, noise=5.0, random_state=0)
    lstm = skhyper.make_estimator("lstm", hidden_size=4, **TINY)
    out = {
        "grid_multimetric_lstm": GridSearchCV(
            lstm, {"hidden_size": [4, 8], "lr": [1e-3, 1e-2]}, cv=KFold(2), refit="score",
            scoring={"score": "neg_mean_squared_error", "n_parameters": n_parameters_scorer},
        ).fit(tiny_sine.X, tiny_sine.y),
        "bayes": BayesSearchCV(
            Ridge(), {"alpha": Real(1e-3, 1e3, prior="log-uniform"),
                      "fit_intercept": Categorical([True, False])},
            n_iter=6, cv=3, random_state=0).fit(X, y),
        "halving": HalvingGridSearchCV(
            SGDRegressor(random_state=0), {"alpha": [1e-5, 1e-3, 1e-1, 10.0],
                                           "penalty": ["l2", "l1"]},
            factor=2, min_resources=60, cv=3, random_state=0).fit(X, y),
        "staged": run_two_rungs(tiny_sine.X, tiny_sine.y),
    }
    random = RandomizedSearchCV(
        SGDRegressor(random_state=0),
        {"alpha": loguniform(1e-6, 1e1), "penalty": ["l2", "l1", "bogus"]},
        n_iter=12, cv=3, random_state=0, error_score=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 'bogus' candidates fail: that is the point
        out["random_with_failures"] = random.fit(X, y)
    return out


KINDS = ["grid_multimetric_lstm", "random_with_failures", "bayes", "halving", "staged"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_staged_stand_in_follows_the_contract(searches):
    staged = searches["staged"]
    frame = results_frame(staged)
    assert sorted(frame["status"]) == ["failed", "ok", "ok", "pruned"]
    assert frame.loc[3, "status"] == "failed"
    assert "Invalid hidden_size=0" in frame.loc[3, "error"]
    curves = learning_curves(staged)
    # Survivors trained 2 epochs per fold (the second by partial_fit), the pruned one 1.
    last_epoch = curves.groupby(["candidate", "fold"])["epoch"].max()
    for candidate, status in zip(frame["candidate"], frame["status"]):
        if status != "failed":
            assert list(last_epoch[candidate]) == [2, 2] if status == "ok" else [1, 1]
    assert curves["score"].notna().sum() == 3 * 2 + 2 * 2  # one per evaluated rung and fold


@pytest.mark.parametrize("kind", KINDS)
def test_top_candidates_plot(searches, kind):
    frame = results_frame(searches[kind])
    ax = plot_top_candidates(searches[kind], n=3)
    assert len(ax.patches) == min(3, frame["status"].isin(["ok", "pruned"]).sum())
    assert "Top" in ax.get_title() and "mean CV" in ax.get_xlabel()
    red = [p for p in ax.patches if p.get_facecolor()[:3] == to_rgba("tab:red")[:3]]
    assert len(red) == 1
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith(f"#{frame.attrs['best']}:")  # rank 1 first, drawn on top


@pytest.mark.parametrize("kind", KINDS)
def test_param_effects_plot(searches, kind):
    fig = plot_param_effects(searches[kind])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    frame = results_frame(searches[kind])
    varying = [c for c in frame if c.startswith("param_") and
               frame[c].astype(str).nunique() > 1]
    assert len(visible) == len(varying)
    assert {ax.get_xlabel() for ax in visible} == {c[len("param_"):] for c in varying}
    if kind in ("random_with_failures", "bayes", "halving"):
        alpha = next(ax for ax in visible if ax.get_xlabel() == "alpha")
        assert alpha.get_xscale() == "log"


def test_log_axes_label_powers_of_ten_only():
    lr = np.geomspace(1.2e-3, 2.9e-2, 6)  # a decade and a half: matplotlib labels minor ticks
    scores = -np.abs(np.log10(lr) + 2)
    results = {"params": [{"lr": v} for v in lr], "param_lr": lr, "mean_test_score": scores,
               "split0_test_score": scores, "rank_test_score": np.argsort(np.argsort(-scores)) + 1}
    _, ax = plt.subplots(figsize=(3, 3))
    plot_param_effects(results, ["lr"], ax=ax)
    ax.figure.canvas.draw()
    assert ax.get_xscale() == "log" and any(t.get_text() for t in ax.get_xticklabels())
    # minor tick labels (2x10^-3, 3x10^-3, ...) ran into each other in a small panel
    assert not [t for t in ax.get_xticklabels(minor=True) if t.get_text()]


def test_param_effects_on_a_given_axes(searches):
    _, ax = plt.subplots()
    assert plot_param_effects(searches["bayes"], ["alpha"], ax=ax) is ax
    with pytest.raises(ValueError, match="Unknown parameter"):
        plot_param_effects(searches["bayes"], ["beta"])


@pytest.mark.parametrize("kind", KINDS)
def test_param_heatmap_plot(searches, kind):
    ax = plot_param_heatmap(searches[kind])
    image = ax.get_images()[0].get_array()
    assert image.shape == (len(ax.get_yticks()), len(ax.get_xticks()))
    cells = [t for t in ax.texts if "(n=" in t.get_text()]
    assert len(cells) == np.isfinite(image.filled(np.nan)).sum()
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


@pytest.mark.parametrize("kind", KINDS)
def test_score_distribution_plot(searches, kind):
    search = searches[kind]
    ax = plot_score_distribution(search)
    frame = results_frame(search)
    best = frame.loc[frame["candidate"] == frame.attrs["best"], "mean_test_score"].item()
    assert any(np.allclose(line.get_xdata(), best) for line in ax.get_lines())
    if kind == "random_with_failures":
        assert "failed, not shown" in ax.get_title()


@pytest.mark.parametrize("kind", KINDS)
def test_fit_time_plot(searches, kind):
    ax = plot_fit_time(searches[kind])
    assert ax.get_xlabel() == "mean fit time per split (s)"
    assert any("selected" in t.get_text() for t in ax.get_legend().get_texts())


@pytest.mark.parametrize("kind", ["random_with_failures", "bayes", "grid_multimetric_lstm"])
def test_param_importance_plot(searches, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few results: tested elsewhere
        ax = plot_param_importance(searches[kind], n_repeats=3)
    assert len(ax.patches) == 2
    assert {t.get_text() for t in ax.get_yticklabels()} <= {"alpha", "penalty",
                                                           "fit_intercept", "hidden_size", "lr"}


@pytest.mark.parametrize("kind", KINDS)
def test_pareto_front_plot(searches, kind):
    ax = plot_pareto_front(searches[kind])
    if kind == "grid_multimetric_lstm":
        assert ax.get_xlabel().startswith("number of parameters")
        front = pareto_front(searches[kind], {"score": "max", "n_parameters": "min"})
    else:
        assert ax.get_xlabel().startswith("mean fit time")
        front = pareto_front(searches[kind], {"score": "max", "fit_time": "min"})
    line = next(line for line in ax.get_lines() if line.get_label().startswith("Pareto"))
    assert len(line.get_xdata()) == len(front)


def test_learning_curves_from_history_records(searches):
    ax = plot_learning_curves(searches["staged"], n=2)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    frame = results_frame(searches["staged"])
    best_two = frame.sort_values("rank")["candidate"].head(2).tolist()
    assert labels[:2] == [f"#{c} (explore)" for c in best_two]
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert {len(line.get_xdata()) for line in solid} == {2}  # 2 epochs, mean over folds
    assert ax.get_ylabel() == "loss (mean over folds)"


def test_learning_curves_from_a_fitted_net_and_a_search(searches, tiny_sine, tiny_lstm):
    net = tiny_lstm(max_epochs=3).fit(tiny_sine.X, tiny_sine.y)
    curves = learning_curves(net)
    assert list(curves["epoch"]) == [1, 2, 3]
    np.testing.assert_allclose(curves["valid_loss"], net.history[:, "valid_loss"])
    grid = searches["grid_multimetric_lstm"]
    refit = learning_curves(grid)
    assert set(refit["candidate"]) == {grid.best_index_} and set(refit["stage"]) == {"refit"}
    ax = plot_learning_curves(grid)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"  # one refit net, no folds
    with pytest.raises(ValueError, match="No learning curves"):
        plot_learning_curves(searches["bayes"])


@pytest.mark.parametrize("kind", KINDS)
def test_write_report(searches, kind, tmp_path):
    search = searches[kind]
    model = "lstm" if kind in ("grid_multimetric_lstm", "staged") else None
    paths = write_report(search, tmp_path / "report", model=model, dataset="sine-mixture")
    out = tmp_path / "report"
    for name in ("summary_report.md", "report.html", "cv_results.csv", "results.json",
                 "best_config.yaml"):
        assert (out / name).is_file()
    frame = results_frame(search)
    best = frame.loc[frame["candidate"] == frame.attrs["best"]].iloc[0]

    config = yaml.safe_load((out / "best_config.yaml").read_text())
    searched = {k: (v.item() if hasattr(v, "item") else v) for k, v in best["params"].items()}
    # The searched values, plus settings fixed outside the space (e.g. random_state=0).
    assert searched.items() <= config["params"].items()
    assert config["best_score"] == pytest.approx(best["mean_test_score"])
    assert config["dataset"] == "sine-mixture"
    if model:
        assert config["model"] == "lstm"
        estimator = skhyper.make_estimator(config["model"], **config["params"])
        assert {k: estimator.get_params()[k] for k in config["params"]} == config["params"]
        skhyper.make_estimator("lstm").set_params(**config["params"])
    if kind == "grid_multimetric_lstm":
        assert config["scoring"] == "neg_mean_squared_error"

    markdown = (out / "summary_report.md").read_text()
    for name, value in best["params"].items():
        assert f"| {name} | {value:.4g} |" in markdown if isinstance(value, float) \
            else f"| {name} | {value} |" in markdown
    assert "Nadeau & Bengio" in markdown and "## Hyperparameter guide" in markdown
    for figure in paths["figures"]:
        assert f"](figures/{figure}.png)" in markdown

    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(paths["figures"]) >= 6
    assert 'src="figures/' not in page and "http" not in page  # self-contained
    for name in best["params"]:
        assert f"<td>{name}</td>" in page

    def no_nan(text):
        raise ValueError(f"{text} in results.json")
    results = json.loads((out / "results.json").read_text(), parse_constant=no_nan)
    assert results["best"]["candidate"] == frame.attrs["best"]
    assert len(results["candidates"]) == len(frame)
    csv = pd.read_csv(out / "cv_results.csv")
    assert len(csv) == len(frame)
    assert json.loads(csv.loc[csv["candidate"] == best["candidate"], "params"].item()).items() \
        <= config["params"].items()

    if kind in ("random_with_failures", "staged"):
        failed = frame[frame["status"] == "failed"]
        assert f"{len(failed)} candidate(s) failed." in markdown
        assert failed.iloc[0]["error"][:40] in markdown
        assert len(results["failures"]) == len(failed)
    if kind in ("staged", "grid_multimetric_lstm"):
        assert "learning_curves" in paths["figures"]
    if kind == "grid_multimetric_lstm":
        assert "mean_test_n_parameters (min)" in markdown  # size is a Pareto objective


def test_report_of_a_single_candidate_says_what_it_could_not_draw(tmp_path):
    X, y = make_regression(120, 3, random_state=0)
    search = GridSearchCV(Ridge(), {"alpha": [1.0]}, cv=3).fit(X, y)
    paths = write_report(search, tmp_path)
    assert set(paths["figures"]) == {"top_candidates", "score_distribution", "fit_time",
                                     "pareto_front"}
    markdown = (tmp_path / "summary_report.md").read_text()
    assert "param_effects: not drawn (No parameter varies" in markdown
    assert "learning_curves: not drawn (the search kept no per-epoch history)" in markdown
    assert "there is no runner-up to compare with" in markdown


def test_report_refuses_a_search_where_everything_failed(tmp_path):
    cv = {"params": [{"alpha": -1.0}], "mean_test_score": np.array([np.nan]),
          "std_test_score": np.array([np.nan]), "split0_test_score": np.array([np.nan]),
          "mean_fit_time": np.zeros(1), "std_fit_time": np.zeros(1),
          "mean_score_time": np.zeros(1), "std_score_time": np.zeros(1)}
    with pytest.raises(ValueError, match="No candidate completed"):
        write_report(cv, tmp_path / "report")
    assert not (tmp_path / "report").exists()


def test_best_config_of_a_pipeline_carries_its_steps_fixed_settings(tmp_path):
    X, y = make_regression(60, 3, random_state=0)
    pipeline = make_pipeline(StandardScaler(with_mean=False),
                             TransformedTargetRegressor(Ridge(solver="svd")))
    search = GridSearchCV(pipeline, {"transformedtargetregressor__regressor__alpha": [0.1, 1.0]},
                          cv=3).fit(X, y)
    write_report(search, tmp_path)
    params = yaml.safe_load((tmp_path / "best_config.yaml").read_text())["params"]
    assert params == {"standardscaler__with_mean": False,
                      "transformedtargetregressor__regressor__solver": "svd",
                      "transformedtargetregressor__regressor__alpha": search.best_params_[
                          "transformedtargetregressor__regressor__alpha"]}
    rebuilt = make_pipeline(StandardScaler(), TransformedTargetRegressor(Ridge()))
    assert rebuilt.set_params(**params).get_params().items() >= params.items()
