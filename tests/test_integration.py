"""Pieces built separately, used together: the staged search analysed and reported, a plugin
family reported like a built-in."""

import numpy as np
import pandas as pd
import yaml
from sklearn.model_selection import GridSearchCV, KFold

import skhyper
from skhyper.analysis import plots, results_frame, write_report
from skhyper.cli import main


def test_staged_search_report_names_best_lists_failures_and_draws_curves(tiny_sine, tiny_lstm,
                                                                         tmp_path):
    # hidden_size=0 cannot build its module: a real failure the report must list.
    space = {"hidden_size": [0, 4, 8], "lr": [3e-3, 1e-2]}
    search = skhyper.StagedHalvingSearchCV(
        tiny_lstm(), space, min_epochs=1, max_epochs=3, factor=3, cv=KFold(2), top_k=1,
        extended_epochs=4, extended_eval_every=1, scoring="neg_mean_squared_error",
        random_state=0,
    ).fit(tiny_sine.X, tiny_sine.y)

    frame = results_frame(search)
    assert set(frame["status"]) == {"ok", "pruned", "failed"}
    assert (frame.loc[frame["status"] == "failed", "param_hidden_size"] == 0).all()
    ax = plots.plot_learning_curves(search)
    assert ax.get_lines(), "the staged history_ gives learning curves"

    written = write_report(search, tmp_path, model="lstm", dataset="sine-mixture")
    markdown = (tmp_path / "summary_report.md").read_text()
    best = search.best_params_
    assert f"hidden_size" in markdown and str(best["hidden_size"]) in markdown
    assert "Invalid hidden_size=0" in markdown  # the failure and its reason
    assert (tmp_path / "figures").is_dir() and written["figures"]

    config = yaml.safe_load((tmp_path / "best_config.yaml").read_text())
    assert config["model"] == "lstm" and best.items() <= config["params"].items()
    # The configuration rebuilds the refit winner: fixed settings and the staged epochs included.
    net = skhyper.make_estimator(config["model"], **config["params"])
    winner = search.best_estimator_.get_params(deep=False)
    assert net.max_epochs == search.cv_results_["epochs"][search.best_index_]
    for name in ("hidden_size", "lr", "num_layers", "batch_size", "patience", "lr_scheduler"):
        assert getattr(net, name) == winner[name], name
    csv = pd.read_csv(tmp_path / "cv_results.csv")
    assert len(csv) == 6


def test_plugin_family_is_searched_and_reported_like_a_built_in(tmp_path):
    data = skhyper.load_dataset("ar-process")
    family = skhyper.get_model("gru")
    net = family.make_estimator(hidden_size=4, max_epochs=1, random_state=0)
    grid = {"lr": [3e-3, 1e-2]}
    search = GridSearchCV(net, grid, cv=KFold(2)).fit(data.X[:120], data.y[:120])

    write_report(search, tmp_path, model="gru", dataset="ar-process")
    config = yaml.safe_load((tmp_path / "best_config.yaml").read_text())
    assert config["model"] == "gru" and config["dataset"] == "ar-process"
    refit = skhyper.make_estimator("gru", **config["params"])
    assert (refit.hidden_size, refit.max_epochs) == (4, 1)  # fixed outside the grid, carried
    assert np.isfinite(refit.fit(data.X[:60], data.y[:60]).predict(data.X[:5])).all()
    assert "lr" in (tmp_path / "summary_report.md").read_text()


def test_skhyper_list_shows_the_plugin_families_with_their_package(capsys):
    assert main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()
             if line.startswith("  ")}
    assert "skhyper-gru 0.1.0" in lines["gru"] and "regression" in lines["gru"]
    assert "skhyper-gru 0.1.0" in lines["ar-process"]
