"""The skhyper command run as a user runs it: every strategy on a tiny budget, a search killed
with SIGKILL and resumed, bad input, train then reload, report."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import joblib
import numpy as np
import pytest
import yaml
from sklearn.metrics import get_scorer
from sklearn.utils import Bunch

import skhyper
from skhyper.cli import main
from skhyper.models.cnn_lstm import combined_scorer
from skhyper.tracking import ExperimentStore

CLI = [sys.executable, "-m", "skhyper.cli"]
DATA_PARAMS = {"duration": 1, "sampling_rate": 200, "seq_len": 10, "stride": 2}
DATA = ["--data", "sine-mixture"] + [a for k, v in DATA_PARAMS.items()
                                     for a in ("--data-param", f"{k}={v}")]
# A tiny LSTM: one layer, no early stopping or scheduler, so every fit trains --epochs epochs.
FIXED = "num_layers: 1\nbatch_size: 32\npatience: null\nlr_scheduler: null\n"
GRID = "hidden_size: [4, 6]\nlr: [0.01, 0.02]\n" + FIXED
EPOCHS = 3
CV = 3
N_FITS = 4 * CV + 1  # candidates x folds + the refit


# One torch thread, as in conftest: tiny models train fastest so on a busy 2-core machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_cli(*args, check=True):
    proc = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True,
                          timeout=300, env=ENV)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def grid_args(out, space):
    return ["--quiet", "search", "--model", "lstm", *DATA, "--strategy", "grid", "--space",
            space, "--epochs", EPOCHS, "--cv", CV, "--out", out]


def strip_times(cv_results):
    return {k: v for k, v in cv_results.items() if "time" not in k}


def assert_same_results(a, b):
    a, b = strip_times(a), strip_times(b)
    assert a.keys() == b.keys()
    for key in a:
        if key == "params":
            assert a[key] == b[key]
        else:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


@pytest.fixture(scope="module")
def space_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("space") / "space.yaml"
    path.write_text(GRID)
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, space_file):
    """A grid search run to completion by the command."""
    out = tmp_path_factory.mktemp("uninterrupted") / "search"
    run_cli(*grid_args(out, space_file))
    return out


def test_grid_search_writes_results(uninterrupted):
    for name in ("cv_results.csv", "best_config.yaml", "run.yaml", "search.joblib",
                 "store.sqlite", "summary_report.md", "report.html", "results.json"):
        assert (uninterrupted / name).exists(), name
    assert list((uninterrupted / "figures").glob("*.png"))
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    # searched, fixed in the space, and set by --epochs / --seed: all that rebuilds the winner
    assert set(best["params"]) == {"hidden_size", "lr", "num_layers", "batch_size", "patience",
                                   "lr_scheduler", "max_epochs", "random_state"}
    assert best["scoring"] == "neg_mean_squared_error" and best["model"] == "lstm"
    search = joblib.load(uninterrupted / "search.joblib")
    assert best["best_score"] == pytest.approx(search.best_score_)
    assert list(search.cv_results_["status"]) == ["ok"] * 4
    run = yaml.safe_load((uninterrupted / "run.yaml").read_text())
    assert run["fits_trained"] == N_FITS and run["fits_restored"] == 0
    # Every fit is in the store with its trained epochs.
    fits = ExperimentStore(uninterrupted / "store.sqlite").fits()
    assert len(fits) == N_FITS and (fits["epochs"] == EPOCHS).all()


def count_stored_fits(path):
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM fits").fetchone()[0]
    except sqlite3.OperationalError:  # the file or its tables are not created yet
        return 0


def test_killed_search_resumes_without_retraining(tmp_path, space_file, uninterrupted):
    out = tmp_path / "search"
    proc = subprocess.Popen(CLI + [str(a) for a in grid_args(out, space_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        while count_stored_fits(out / "store.sqlite") < 1:
            try:  # waits for the next poll, or ends the loop if the process finished
                proc.wait(timeout=0.05)
                pytest.fail("the search finished before it could be killed")
            except subprocess.TimeoutExpired:
                pass
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    done = count_stored_fits(out / "store.sqlite")
    assert 1 <= done < N_FITS

    resumed = run_cli(*grid_args(out, space_file), "--resume")
    assert resumed.returncode == 0
    store = ExperimentStore(out / "store.sqlite")
    runs = store.runs()
    assert list(runs["status"]) == ["running", "finished"]  # the killed run never finished
    assert store.count_fits(run=2) == (N_FITS - done, done)  # (trained, restored)
    # Epochs trained after the resume: exactly those of the fits that had not completed.
    assert store.fits(run=2)["epochs"].sum() == (N_FITS - done) * EPOCHS
    assert_same_results(joblib.load(out / "search.joblib").cv_results_,
                        joblib.load(uninterrupted / "search.joblib").cv_results_)


def test_ctrl_c_ends_the_search_with_nothing_cut_short_stored(tmp_path, space_file):
    out = tmp_path / "search"
    epochs = 40  # long fits: the interrupt lands in one, where skorch would swallow it
    args = grid_args(out, space_file) + ["--epochs", epochs]
    # Ctrl-C as in a terminal, also when the tests run as a background job (SIGINT ignored)
    proc = subprocess.Popen(CLI + [str(a) for a in args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        while count_stored_fits(out / "store.sqlite") < 1:
            try:
                proc.wait(timeout=0.05)
                pytest.fail("the search finished before it could be interrupted")
            except subprocess.TimeoutExpired:
                pass
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    store = ExperimentStore(out / "store.sqlite")
    assert list(store.runs()["status"]) == ["interrupted"]
    assert (store.fits()["epochs"] == epochs).all()  # a fit cut short by Ctrl-C is not kept
    assert not (out / "search.joblib").exists()


def test_resume_refuses_changed_options(uninterrupted, space_file, capsys):
    args = grid_args(uninterrupted, space_file)
    args[args.index("--epochs") + 1] = EPOCHS + 1
    assert main([str(a) for a in args] + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "changes epochs" in err and err.count("\n") == 1


def test_resume_takes_another_n_iter_where_it_changes_nothing(tmp_path, uninterrupted,
                                                              space_file):
    out = tmp_path / "search"
    shutil.copytree(uninterrupted, out)
    args = ["--quiet"] + [str(a) for a in grid_args(out, space_file)] + ["--resume"]
    assert main(args + ["--n-iter", "7"]) == 0  # a grid search draws no candidates
    assert yaml.safe_load((out / "run.yaml").read_text())["fits_restored"] == N_FITS


def test_resume_says_when_no_stored_fit_matched(tmp_path, uninterrupted, space_file, capsys):
    out = tmp_path / "search"
    shutil.copytree(uninterrupted, out)
    with sqlite3.connect(out / "store.sqlite") as db:  # keys another skhyper version made
        db.execute("UPDATE fits SET key = key || '-other-version'")
    assert main(["--quiet"] + [str(a) for a in grid_args(out, space_file)] + ["--resume"]) == 0
    assert f"none of the {N_FITS} fits stored in {out} matched" in capsys.readouterr().err
    assert yaml.safe_load((out / "run.yaml").read_text())["fits_restored"] == 0

    assert main(["--quiet"] + [str(a) for a in grid_args(out, space_file)] + ["--resume"]) == 0
    assert capsys.readouterr().err == ""  # this time every fit was restored


def test_existing_search_needs_resume(uninterrupted, space_file, capsys):
    assert main([str(a) for a in grid_args(uninterrupted, space_file)]) == 2
    assert "pass --resume" in capsys.readouterr().err


def test_train_then_reload(tmp_path, uninterrupted):
    out = tmp_path / "model"
    proc = run_cli("--quiet", "train", "--config", uninterrupted / "best_config.yaml", *DATA,
                   "--epochs", 2, "--out", out)
    assert proc.stderr == ""
    config = yaml.safe_load((out / "config.yaml").read_text())
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    assert config["params"] == {**best["params"], "random_state": 0, "max_epochs": 2}
    assert config["epochs_trained"] == 2
    data = skhyper.load_dataset("sine-mixture", **DATA_PARAMS)
    model = joblib.load(out / "model.joblib")
    # The reloaded model scores exactly as the trained one did in the train process.
    assert config["scoring"] == "neg_mean_squared_error"
    assert get_scorer(config["scoring"])(model, data.X_test, data.y_test) == config["test_score"]
    # The torch weights load into a net of the same configuration and predict the same.
    twin = joblib.load(out / "model.joblib")
    twin.initialize()
    twin.load_params(f_params=out / "weights.pt", f_history=out / "history.json")
    np.testing.assert_array_equal(twin.predict(data.X_test), model.predict(data.X_test))
    assert len(twin.history) == 2


def test_train_keeps_the_searchs_seed_unless_told(tmp_path, uninterrupted):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    best["params"]["random_state"] = 3  # as a search run with --seed 3 writes it
    path = tmp_path / "best_config.yaml"
    path.write_text(yaml.safe_dump(best))
    for seed, expected in ((None, 3), (5, 5)):
        out = tmp_path / f"model-{seed}"
        given = [] if seed is None else ["--seed", str(seed)]
        args = ["--quiet", "train", "--config", str(path), *DATA, "--epochs", "1", *given]
        assert main(args + ["--out", str(out)]) == 0
        config = yaml.safe_load((out / "config.yaml").read_text())
        assert config["params"]["random_state"] == expected


def test_train_checks_the_configs_seq_len_against_the_data(tmp_path, uninterrupted, capsys):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    best["params"]["seq_len"] = 8  # a window length searched on windows of 10 steps
    path = tmp_path / "best_config.yaml"
    path.write_text(yaml.safe_dump(best))
    args = ["--quiet", "train", "--config", str(path), "--epochs", "1"]
    assert main(args + ["--data-param", "seq_len=6", "--out", str(tmp_path / "m1")]) == 2
    assert capsys.readouterr().err.endswith(
        "seq_len=8 is longer than the dataset's windows of 6 steps. Use at most 6, or load "
        "longer windows (--data-param seq_len=8).\n")
    assert main(args + ["--out", str(tmp_path / "m2")]) == 0
    assert joblib.load(tmp_path / "m2" / "model.joblib").seq_len == 8


@pytest.mark.parametrize("entry, message", [
    (dict(dataset=["sine-mixture"]), "dataset must be a name; got ['sine-mixture']."),
    (dict(scoring=["r2"]), "scoring must be a name; got ['r2']."),
    (dict(data_params=[1, 2]), "data_params must be a mapping of the dataset loader's"),
    (dict(scoring="accuracy"), "scoring: --scoring accuracy is a classification metric"),
])
def test_train_refuses_a_config_entry_of_the_wrong_kind_before_training(
        tmp_path, uninterrupted, capsys, entry, message):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    path = tmp_path / "best_config.yaml"
    path.write_text(yaml.safe_dump({**best, **entry}))
    out = tmp_path / "model"
    assert main(["--quiet", "train", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: {message}" in err, err
    assert not out.exists()  # nothing trained, nothing half-written


def test_train_scores_with_the_models_own_score_where_the_config_names_no_scorer(
        tmp_path, uninterrupted, capsys):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    # what write_report records for a search scored by a callable: its repr
    best["scoring"] = "make_scorer(mean_absolute_error, greater_is_better=False)"
    path = tmp_path / "best_config.yaml"
    path.write_text(yaml.safe_dump(best))
    out = tmp_path / "model"
    assert main(["--quiet", "train", "--config", str(path), "--epochs", "1",
                 "--out", str(out)]) == 0
    assert "names no scorer; the held-out score is the model's own score() " \
           "(LSTMRegressor.score)" in capsys.readouterr().err
    assert yaml.safe_load((out / "config.yaml").read_text())["scoring"] == "LSTMRegressor.score"


def test_train_refuses_callbacks_that_are_not_a_list(tmp_path, uninterrupted, capsys):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    best["params"]["callbacks"] = "abc"
    path = tmp_path / "best_config.yaml"
    path.write_text(yaml.safe_dump(best))
    assert main(["--quiet", "train", "--config", str(path), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: Invalid callbacks='abc': expected a list" in err


def test_report_rebuilds_the_bundle(tmp_path, uninterrupted):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    for name in ("best_config.yaml", "cv_results.csv", "summary_report.md"):
        (out / name).unlink()
    shutil.rmtree(out / "figures")
    assert main(["--quiet", "report", str(out)]) == 0
    assert (out / "summary_report.md").exists() and list((out / "figures").glob("*.png"))
    assert yaml.safe_load((out / "best_config.yaml").read_text()) == \
        yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    assert (out / "cv_results.csv").read_text() == \
        (uninterrupted / "cv_results.csv").read_text()


def test_report_of_a_damaged_directory_names_the_file(tmp_path, uninterrupted, capsys):
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    run = yaml.safe_load((out / "run.yaml").read_text())
    (out / "run.yaml").write_text(yaml.safe_dump({k: v for k, v in run.items()
                                                  if k != "config"}))
    assert main(["--quiet", "report", str(out)]) == 2
    assert f"{out / 'run.yaml'} has no 'config' mapping" in capsys.readouterr().err
    (out / "search.joblib").write_bytes(b"garbage")
    assert main(["--quiet", "report", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out / 'search.joblib'} cannot be loaded" in err


def test_report_names_the_module_a_search_needs(tmp_path, uninterrupted, monkeypatch, capsys):
    # an intact search.joblib whose estimator comes from a plugin not installed here: running
    # the search again would not help, installing the module does
    out = tmp_path / "copy"
    shutil.copytree(uninterrupted, out)
    (tmp_path / "gone_plugin.py").write_text("class Estimator:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import gone_plugin

    joblib.dump(gone_plugin.Estimator(), out / "search.joblib")
    monkeypatch.delitem(sys.modules, "gone_plugin")
    (tmp_path / "gone_plugin.py").unlink()
    assert main(["--quiet", "report", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{out / 'search.joblib'} needs the module 'gone_plugin', which is not installed " \
           "here" in err


def test_list_shows_broken_plugins(monkeypatch, capsys):
    from skhyper import registry

    broken = registry.PluginInfo(
        name="tcn", group=registry.MODEL_GROUP, value="skhyper_tcn:family",
        distribution="skhyper-tcn", version="0.3",
        error="ImportError: No module named 'skhyper_tcn'")
    infos = registry.plugin_infos()
    monkeypatch.setattr(registry, "plugin_infos", lambda: infos + [broken])
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert ("Broken plugins:\n  tcn (skhyper.models, from skhyper-tcn 0.3): ImportError: "
            "No module named 'skhyper_tcn'") in out


def test_list_shows_families_and_their_source(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Model families:" in out and "Dataset families:" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert f"skhyper {skhyper.__version__}" in lines["lstm"]
    assert "regression" in lines["sine-mixture"]


def test_unknown_name_exits_with_one_line(tmp_path):
    proc = run_cli("search", "--model", "lstmm", "--data", "sine-mixture", "--strategy", "grid",
                   "--out", tmp_path / "o", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("skhyper search: error: Unknown model family 'lstmm'. "
                                  "Did you mean 'lstm'? Known model families: ")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("space, extra, message", [
    ("hidden_size: [4, -6]\n", [], "Invalid hidden_size=-6: must be >= 1."),
    ("hiden_size: [4]\n", [], "Unknown parameter 'hiden_size'"),
    ("learning_rate: [0.01]\n", [], "Its parameters: batch_size, bidirectional, callbacks, "),
    ("optimizer: [adam, adamm]\n", [], "Did you mean 'adam'?"),
    ("lr: {log-uniform: [0.001, 0.1]}\n", [], "--strategy grid: a grid needs a list"),
    ("lr: {log-uniform: [0.001, 0.1]}\n", ["--strategy", "halving"],
     "--strategy halving: a grid needs a list of values for every parameter; lr is a range."),
    ("lr: [0.01]\n", ["--scoring", "neg_mse"], "Invalid --scoring='neg_mse'"),
    ("lr: [0.01]\n", ["--scoring", "r2,accuracy"], "--scoring accuracy is a classification "
     "metric, and this search is regression: use a regression metric, such as "
     "neg_mean_squared_error."),
    ("lr: [0.01]\n", ["--scoring", "r2,max_error,r2"], "--scoring r2,max_error,r2: name each "
                                                       "metric once, separated by commas"),
    ("lr: [0.01]\n", ["--scoring", "n_parameters,r2"],
     "n_parameters measures the model's size, not how well it predicts; name the metric"),
    ("lr: [0.01]\n", ["--strategy", "halving", "--scoring", "r2,n_parameters"],
     "--scoring r2,n_parameters: --strategy halving takes one scikit-learn scorer name only"),
    ("lr: [0.01]\n", ["--data-param", "seqlen=5"], "Did you mean 'seq_len'?"),
    ("lr: [0.01]\n", ["--data-param", "seq_len=0"], "Invalid seq_len=0: must be >= 1."),
    ("lr: [0.01]\n", ["--cv", "1"], "cross-validation needs >= 2 folds"),
    ("lr: [0.01]\n", ["--strategy", "staged", "--timeout", "0"],
     "argument --timeout: invalid value '0': must be > 0"),
    ("lr: [0.01]\n", ["--cv", "0"], "invalid value 0: cross-validation needs >= 2 folds"),
    ("lr: [0.01]\n", ["--data", "csv"],
     "--data csv needs --data-param path=<value> (required by its loader)."),
    ("lr: [0.01]\n", ["--data", "csv", "--data-param", "path=nope.csv"],
     "--data csv: CSV file 'nope.csv' not found"),
    ("lr: [0.01]\n", ["--strategy", "gird"], "Invalid --strategy='gird'. Did you mean 'grid'?"),
    ("lr: [0.01]\n", ["--top-k", "2"],
     "--top-k: options of the staged search; --strategy grid does not take them"),
    ("lr: [0.01]\n", ["--strategy", "random", "--timeout", "60"],
     "--timeout: options of the staged search; --strategy random does not take them"),
    ("lr: [0.01]\n", ["--cv", "1000000"], "--cv 1000000: more folds than the data's "),
    ("lr: [0.01]\n", ["--strategy", "staged", "--extended-cv", "1000000"],
     "--extended-cv 1000000: more folds than the data's "),
    ("lr: [0.01]\n", ["--extended-cv", "3"],
     "--extended-cv: options of the staged search; --strategy grid does not take them"),
    ("lr: [0.01]\n", ["--strategy", "staged", "--extended-cv", "1"],
     "argument --extended-cv: invalid value 1: cross-validation needs >= 2 folds"),
    ("lr: [0.01]\n", ["--strategy", "staged", "--sampler", "randm:4"],
     "Invalid --sampler='randm'. Did you mean 'random'?"),
    ("lr: [0.01]\n", ["--strategy", "staged", "--sampler", "random:4,bayes:x"],
     "Invalid --sampler step 'bayes:x': the count after ':' must be a positive integer"),
    ("lr: [0.01]\n", ["--strategy", "staged", "--sampler", "finetune:4"],
     "chain it after another sampler"),
    ("optimizer__betas: [[0.9, 0.99], [0.8, 0.9]]\nlr: [0.01, 0.1]\n",
     ["--strategy", "staged", "--sampler", "random:2,bayes:2"],
     "--sampler bayes: Invalid search-space entry optimizer__betas=[[0.9, 0.99], [0.8, 0.9]]: "
     "the bayes, tpe and finetune samplers need hashable choices"),
    ("lr: [0.01]\n", ["--data", "sine"], "Unknown dataset family 'sine'."),
    ("hidden_size: [4]\nlr: [0.1]\nhidden_size: [8]\n", [],
     "Duplicate key 'hidden_size' at line 3, column 1 (first at line 1, column 1) in "),
    ("lr: {uniform: [0.1, 0.2], uniform: [0.2, 0.3]}\n", ["--strategy", "random"],
     "Duplicate key 'uniform' at line 1, column 27 (first at line 1, column 6)"),
    ("lr: [0.01]\n", ["--data-param", "seq_len=5", "--data-param", "seq_len=6"],
     "--data-param seq_len is given twice"),
    ("hidden_size: [4, 6\nlr: 0.01\n", [], "Malformed YAML in"),
    ("hidden_size: [4, 6\nlr: 0.01\n", [], "at line 2, column 3"),
])
def test_bad_values_exit_with_one_line(tmp_path, capsys, space, extra, message):
    path = tmp_path / "space.yaml"
    path.write_text(space)
    args = ["search", "--model", "lstm", "--data", "sine-mixture", "--strategy", "grid",
            "--space", str(path), "--out", str(tmp_path / "o"), *extra]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


RANGES = "hidden_size: {int: [4, 8]}\nlr: {log-uniform: [0.001, 0.1]}\n" + FIXED


def forget_latest_fits(store_path, n):
    """Delete the ``n`` fits stored last, as if the search had been killed before them."""
    with sqlite3.connect(store_path) as db:
        db.execute("DELETE FROM fits WHERE key IN "
                   "(SELECT key FROM fits ORDER BY created DESC LIMIT ?)", (n,))


@pytest.mark.parametrize("strategy, space, n_candidates", [
    ("baseline", None, 1),
    ("quick", None, 4),
    ("random", RANGES, 2),
    ("bayes", RANGES, 2),
    ("halving", GRID, 4 + 2),  # 4 candidates at 1 epoch, the best 2 at 3 epochs
    ("staged", RANGES, 2),
])
def test_each_strategy_runs_and_resumes(tmp_path, capsys, strategy, space, n_candidates):
    out = tmp_path / strategy
    # baseline runs without --quiet: the progress bar and the summary show.
    quiet = [] if strategy == "baseline" else ["--quiet"]
    args = [*quiet, "search", "--model", "lstm", *DATA, "--strategy", strategy,
            "--n-iter", "2", "--cv", "2", "--epochs", "1" if space is None else "3",
            "--out", str(out)]
    if space is not None:
        (tmp_path / "space.yaml").write_text(space)
        args += ["--space", str(tmp_path / "space.yaml")]
    assert main(args) == 0
    shown = capsys.readouterr()
    if quiet:
        assert shown.out == ""
    else:
        assert "fits: 100%|" in shown.err and "3/3" in shown.err  # 2 folds + the refit
        assert "fits: 3 trained, 0 restored from the store" in shown.out
    search = joblib.load(out / "search.joblib")
    assert len(search.cv_results_["params"]) == n_candidates
    assert set(search.cv_results_["status"]) <= {"ok", "pruned"}
    best = yaml.safe_load((out / "best_config.yaml").read_text())
    fixed = {} if space is None else {"num_layers": 1, "batch_size": 32, "patience": None,
                                      "lr_scheduler": None}
    assert {**fixed, **search.best_params_}.items() <= best["params"].items()
    estimator = skhyper.make_estimator("lstm", **best["params"])  # the contract's promise
    winner = search.best_estimator_.get_params(deep=False)
    assert all(estimator.get_params()[k] == winner[k] for k in ("max_epochs", "random_state"))
    assert estimator.get_params()["lr"] == best["params"].get("lr", 1e-3)
    store = ExperimentStore(out / "store.sqlite")
    assert len(store.results()) == n_candidates
    if strategy == "halving":  # the first iteration's rows; the store ranks the last one's
        assert list(search.cv_results_["status"]) == ["pruned"] * 4 + ["ok"] * 2
        assert store.statistics()["pruned"] == 4 and len(store.top()) == 2
        run = yaml.safe_load((out / "run.yaml").read_text())
        assert (run["n_candidates"], run["n_pruned"]) == (4, 2)
    if strategy == "random":  # ranges are sampled inside their bounds
        assert all(4 <= p["hidden_size"] <= 8 for p in search.cv_results_["params"])

    # Resume after losing the latest half of the fits: only those are trained again.
    n_fits = len(store.fits())
    lost = n_fits // 2
    forget_latest_fits(out / "store.sqlite", lost)
    assert main(args + ["--resume"]) == 0
    assert store.count_fits(run=2) == (lost, n_fits - lost)  # (trained, restored)
    assert_same_results(joblib.load(out / "search.joblib").cv_results_, search.cv_results_)


def test_staged_timeout_stops_after_the_first_rung_and_resume_goes_on(tmp_path, capsys):
    (tmp_path / "space.yaml").write_text(RANGES)
    args = ["search", "--model", "lstm", *DATA, "--strategy", "staged", "--n-iter", "3",
            "--cv", "2", "--epochs", "3", "--space", str(tmp_path / "space.yaml"),
            "--out", str(tmp_path / "out")]
    assert main(args + ["--timeout", "1e-9"]) == 0  # spent before the first rung ends
    assert "--timeout 1e-09 s ran out" in capsys.readouterr().out
    run = yaml.safe_load((tmp_path / "out" / "run.yaml").read_text())
    search = joblib.load(tmp_path / "out" / "search.joblib")
    assert run["timed_out"] and run["config"]["timeout"] == 1e-9
    assert list(search.cv_results_["epochs"]) == [1, 1, 1]  # rungs at 1 and 3 epochs

    assert main(["--quiet"] + args + ["--resume"]) == 0  # no timeout: the search goes on
    run = yaml.safe_load((tmp_path / "out" / "run.yaml").read_text())
    assert not run["timed_out"] and run["fits_restored"] == 3 * 2
    assert max(joblib.load(tmp_path / "out" / "search.joblib").cv_results_["epochs"]) > 1


@pytest.mark.parametrize("pair, message", [
    (["--model", "lstm", "--data", "digits"],
     "model 'lstm' is a regression model on 3-D sequences (samples, steps, features); "
     "dataset 'digits' is classification with 2-D X."),
    (["--model", "lstm", "--data", "digits", "--data-param", "as_sequences=true"],
     "dataset 'digits' is classification with 3-D X."),
    (["--model", "autoencoder", "--data", "market", "--data-param", "n_steps=200"],
     "model 'autoencoder' is an unsupervised model on 2-D X (samples, features); "
     "dataset 'market' is multitask with 3-D X."),
    (["--model", "cnn-lstm", "--data", "market", "--data-param", "n_steps=200",
      "--scoring", "r2"],
     "--scoring r2 cannot score a multitask search: use the model's metrics (score, accuracy, "
     "neg_mse, combined; then n_parameters if you like), or leave --scoring out for its "
     "score()."),
    (["--model", "cnn-lstm", *DATA], "model 'cnn-lstm' is a multitask model"),
])
def test_mismatched_model_and_data_exit_before_training(tmp_path, capsys, pair, message):
    assert main(["search", *pair, "--strategy", "quick", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_several_metrics_rank_on_the_first_and_resume(tmp_path, space_file):
    out = tmp_path / "o"
    args = ["--quiet", "search", "--model", "lstm", *DATA, "--strategy", "staged", "--space",
            str(space_file), "--n-iter", "3", "--epochs", "2", "--cv", "2", "--scoring",
            "r2,neg_mean_squared_error,n_parameters", "--out", str(out)]
    assert main(args) == 0
    search = joblib.load(out / "search.joblib")
    results = search.cv_results_
    assert search.refit == "r2" and {"mean_test_neg_mean_squared_error",
                                     "mean_test_n_parameters"} <= set(results)
    assert search.best_score_ == results["mean_test_r2"][search.best_index_]
    assert yaml.safe_load((out / "run.yaml").read_text())["config"]["scoring"] == \
        "r2,neg_mean_squared_error,n_parameters"
    assert yaml.safe_load((out / "best_config.yaml").read_text())["scoring"] == "r2"
    assert main(args + ["--resume"]) == 0  # the same options: nothing trains again
    assert ExperimentStore(out / "store.sqlite").count_fits(run=2)[0] == 0


def test_a_models_own_metrics_score_the_search_and_the_final_model(tmp_path):
    market = ["--model", "cnn-lstm", "--data", "market", "--data-param", "n_assets=2",
              "--data-param", "n_steps=160", "--data-param", "seq_len=8"]
    space = tmp_path / "space.yaml"
    space.write_text("n_filters: [4, 8]\nlstm_hidden_size: 8\nfusion_dim: 8\nlstm_layers: 1\n")
    out = tmp_path / "o"
    assert main(["--quiet", "search", *market, "--strategy", "grid", "--space", str(space),
                 "--epochs", "1", "--cv", "2", "--scoring", "combined,accuracy",
                 "--out", str(out)]) == 0
    search = joblib.load(out / "search.joblib")
    assert search.refit == "combined" and "mean_test_accuracy" in search.cv_results_
    assert yaml.safe_load((out / "best_config.yaml").read_text())["scoring"] == "combined"
    model_dir = tmp_path / "model"
    assert main(["--quiet", "train", "--config", str(out / "best_config.yaml"),
                 "--out", str(model_dir)]) == 0
    config = yaml.safe_load((model_dir / "config.yaml").read_text())
    data = skhyper.load_dataset("market", n_assets=2, n_steps=160, seq_len=8)
    model = joblib.load(model_dir / "model.joblib")
    assert config["scoring"] == "combined"
    assert config["test_score"] == combined_scorer(model, data.X_test, data.y_test)


def test_unsupervised_model_searches_any_tabular_data_without_y(tmp_path):
    out = tmp_path / "ae"
    assert main(["--quiet", "search", "--model", "autoencoder", "--data", "diabetes",
                 "--strategy", "baseline", "--epochs", "1", "--cv", "2", "--out",
                 str(out)]) == 0
    # the autoencoder's own score (negative reconstruction error), not a regression scorer
    assert yaml.safe_load((out / "best_config.yaml").read_text())["scoring"] == \
        "Autoencoder.score"
    assert yaml.safe_load((out / "run.yaml").read_text())["test_score"] < 0
    assert main(["--quiet", "train", "--config", str(out / "best_config.yaml"), "--epochs", "1",
                 "--out", str(tmp_path / "model")]) == 0
    assert yaml.safe_load((tmp_path / "model" / "config.yaml").read_text())["test_score"] < 0
    # its score by name, with the model's size recorded after it
    sized = tmp_path / "sized"
    assert main(["--quiet", "search", "--model", "autoencoder", "--data", "diabetes",
                 "--strategy", "baseline", "--epochs", "1", "--cv", "2", "--scoring",
                 "score,n_parameters", "--out", str(sized)]) == 0
    search = joblib.load(sized / "search.joblib")
    assert search.cv_results_["mean_test_score"][0] == \
        joblib.load(out / "search.joblib").cv_results_["mean_test_score"][0]
    assert search.cv_results_["mean_test_n_parameters"][0] > 0


def tiny_search(out, space, *extra):
    """Arguments of a one-candidate grid search on tiny data (2 folds, 1 epoch)."""
    return ["--quiet", "search", "--model", "lstm", *DATA, "--strategy", "grid", "--space",
            str(space), "--epochs", "1", "--cv", "2", "--out", str(out), *extra]


@pytest.mark.parametrize("strategy, space, message", [
    ("halving", "hidden_size: [4]\nmax_epochs: [1, 2]\n",
     "--strategy halving uses max_epochs as its resource"),
    ("staged", "hidden_size: [4]\nmax_epochs: [1, 2]\n",
     "--strategy staged uses max_epochs as the budget of its rungs"),
    ("grid", "hidden_size: [4]\nlr_scheduler: step\nlr_scheduler__gama: [0.5]\n",
     "Unknown setting 'lr_scheduler__gama' in "),
    ("grid", "hidden_size: [4]\nlr_scheduler: step\nlr_scheduler__gama: [0.5]\n",
     "Did you mean 'lr_scheduler__gamma'? Allowed: lr_scheduler__gamma, "),
    ("grid", "hidden_size: [4]\nlr_schedular__gamma: [0.5]\n",
     "Unknown parameter prefix 'lr_schedular' of 'lr_schedular__gamma'"),
    ("grid", "hidden_size: [4]\noptimizer__momentum: [0.5]\n",
     "Unknown setting 'optimizer__momentum'"),  # the default optimizer is Adam
    ("random", "hidden_size: [4]\nseq_len: {int: [5, 12]}\n",
     "seq_len=12 is longer than the dataset's windows of 10 steps. Use at most 10, or load "
     "longer windows (--data-param seq_len=12)."),
])
def test_space_errors_exit_before_the_store_exists(tmp_path, capsys, strategy, space, message):
    path = tmp_path / "space.yaml"
    path.write_text(space)
    args = tiny_search(tmp_path / "o", path)
    args[args.index("grid")] = strategy
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_failed_candidates_are_summarised_without_tracebacks(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4]\noptimizer: [sgd]\noptimizer__momentum: [0.5, -0.5]\n")
    proc = run_cli(*tiny_search(tmp_path / "o", space)[1:])  # not --quiet: the summary prints
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    assert "2 candidates (1 failed, 0 pruned)" in proc.stdout
    assert "failed (1 candidate): ValueError: Invalid momentum value: -0.5" in proc.stdout
    run = yaml.safe_load((tmp_path / "o" / "run.yaml").read_text())
    assert run["errors"] == {"ValueError: Invalid momentum value: -0.5": 1}


def test_failed_search_is_recorded_and_does_not_block_a_corrected_one(tmp_path, capsys):
    out = tmp_path / "o"
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden_size: [4]\noptimizer: sgd\noptimizer__momentum: -0.5\n")  # torch: < 0
    assert main(tiny_search(out, bad)) == 1
    err = capsys.readouterr().err
    assert err == "skhyper search: failed: ValueError: All the 2 fits failed: ValueError: " \
                  "Invalid momentum value: -0.5\n"
    assert list(ExperimentStore(out / "store.sqlite").runs()["status"]) == ["failed"]
    good = tmp_path / "good.yaml"
    good.write_text("hidden_size: [4]\noptimizer: sgd\noptimizer__momentum: 0.5\n")
    assert main(tiny_search(out, good)) == 0  # nothing completed: no --resume needed
    runs = ExperimentStore(out / "store.sqlite").runs()
    assert list(runs["status"]) == ["finished"] and runs["fits_trained"].sum() == 3


def test_ctrl_c_marks_the_run_interrupted(tmp_path, capsys, monkeypatch):
    from skhyper.cli import _search

    class Interrupted:
        def fit(self, X, y):
            raise KeyboardInterrupt

    monkeypatch.setattr(_search, "build_search", lambda *args, **kwargs: Interrupted())
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4]\n")
    assert main(tiny_search(tmp_path / "o", space)) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(ExperimentStore(tmp_path / "o" / "store.sqlite").runs()["status"]) == \
        ["interrupted"]


def test_out_naming_a_file_exits_with_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["search", "--model", "lstm", *DATA, "--strategy", "quick", "--out",
                 str(tmp_path / "taken")]) == 2
    assert capsys.readouterr().err == (f"skhyper search: error: --out {tmp_path / 'taken'} is a "
                                       "file; name a directory (new, or one that skhyper "
                                       "wrote).\n")


def test_train_loads_the_data_of_the_search_and_keeps_an_existing_model(tmp_path, capsys,
                                                                        uninterrupted):
    best = yaml.safe_load((uninterrupted / "best_config.yaml").read_text())
    assert best["data_params"] == DATA_PARAMS
    out = tmp_path / "model"
    args = ["train", "--config", str(uninterrupted / "best_config.yaml"), "--epochs", "1",
            "--data-param", "stride=4", "--out", str(out)]
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert "using the search's data parameters from " in shown
    assert "duration=1, sampling_rate=200, seq_len=10 (--data-param overrides)" in shown
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["data_params"] == {**DATA_PARAMS, "stride": 4}
    n_samples = len(skhyper.load_dataset("sine-mixture", **{**DATA_PARAMS, "stride": 4}).X)
    assert f"on all of sine-mixture ({n_samples} samples)" in shown
    # as search does, train refuses to overwrite what an earlier run wrote
    (out / "config.yaml").write_text("kept")
    assert main(args) == 2
    assert capsys.readouterr().err == (f"skhyper train: error: {out} already holds a trained "
                                       "model (model.joblib); choose another --out, or delete "
                                       "it first.\n")
    assert (out / "config.yaml").read_text() == "kept"


def test_best_config_keeps_fixed_values_equal_to_the_defaults(tmp_path):
    space = tmp_path / "space.yaml"
    # 64 and 1e-3 are the LSTM's defaults: write_report alone would leave them out.
    space.write_text("hidden_size: [4, 6]\nbatch_size: 64\nlr: 0.001\npatience: null\n")
    args = tiny_search(tmp_path / "o", space, "--n-iter", "1")
    args[args.index("grid")] = "random"
    assert main(args) == 0
    params = yaml.safe_load((tmp_path / "o" / "best_config.yaml").read_text())["params"]
    assert {"batch_size": 64, "lr": 0.001, "patience": None}.items() <= params.items()


def test_staged_epochs_bound_exploration_and_early_stopping_is_off(tmp_path):
    space = tmp_path / "space.yaml"
    # the LSTM's patience is 15; its cosine schedule would span its own max_epochs (50)
    space.write_text("hidden_size: [4, 6]\nnum_layers: 1\nlr_scheduler: cosine\n")
    out = tmp_path / "staged"
    args = tiny_search(out, space, "--n-iter", "2")
    args[args.index("grid")] = "staged"
    args[args.index("--epochs") + 1] = "2"
    assert main(args) == 0
    search = joblib.load(out / "search.joblib")
    assert search.rung_epochs_[-1] == 2  # --epochs: the last exploration rung
    assert max(search.cv_results_["epochs"]) <= 4  # the extended stage: up to twice as many
    assert search.best_estimator_.patience is None
    params = yaml.safe_load((out / "best_config.yaml").read_text())["params"]
    assert params["patience"] is None
    assert params["max_epochs"] == search.cv_results_["epochs"][search.best_index_]
    assert params["lr_scheduler__T_max"] == 4  # the schedule spans the search's epochs
    # train rebuilds the refit from best_config.yaml: the same schedule, epoch by epoch
    assert main(["--quiet", "train", "--config", str(out / "best_config.yaml"), *DATA,
                 "--out", str(tmp_path / "model")]) == 0
    trained = joblib.load(tmp_path / "model" / "model.joblib")
    np.testing.assert_allclose(trained.history[:, "event_lr"],
                               search.best_estimator_.history[:, "event_lr"])
    # --epochs: the schedule spans them (a recorded span would restart the cosine past it)
    assert main(["--quiet", "train", "--config", str(out / "best_config.yaml"), *DATA,
                 "--epochs", "6", "--out", str(tmp_path / "longer")]) == 0
    lr = joblib.load(tmp_path / "longer" / "model.joblib").history[:, "event_lr"]
    assert len(lr) == 6 and np.all(np.diff(lr) < 0)


def test_staged_sampler_chain_and_top_k(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4, 6]\nlr: {log-uniform: [0.001, 0.1]}\nnum_layers: 1\n")
    out = tmp_path / "chain"
    args = tiny_search(out, space, "--sampler", "random:2,bayes:1,finetune:1", "--top-k", "2")
    args[args.index("grid")] = "staged"
    assert main(args) == 0
    search = joblib.load(out / "search.joblib")
    assert search.sampler == [("random", 2), ("bayes", 1), ("finetune", 1)]
    assert len(search.cv_results_["params"]) == 4  # seed 004's three phases, from the command
    assert (search.cv_results_["stage"] == "extended").sum() == 2
    run = yaml.safe_load((out / "run.yaml").read_text())["config"]
    assert run["sampler"] == "random:2,bayes:1,finetune:1" and run["top_k"] == 2


def test_staged_extended_cv_gives_the_extended_stage_its_folds(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4, 6]\nlr: [0.001, 0.01]\nnum_layers: 1\n")
    out = tmp_path / "ext"
    args = tiny_search(out, space, "--cv", "2", "--extended-cv", "3", "--top-k", "2")
    args[args.index("grid")] = "staged"
    assert main(args[1:]) == 0  # not --quiet: the summary names both fold counts
    assert "2-fold CV (3-fold in the extended stage)" in capsys.readouterr().out
    search = joblib.load(out / "search.joblib")
    results = search.cv_results_
    extended = results["stage"] == "extended"
    assert extended.sum() == 2 and search.extended_cv.get_n_splits() == 3
    assert np.isfinite(results["split2_test_score"][extended]).all()
    assert np.isnan(results["split2_test_score"][~extended]).all()  # the 2 explored folds
    assert yaml.safe_load((out / "run.yaml").read_text())["config"]["extended_cv"] == 3
    # a resume must repeat it
    assert main(args[:-4] + ["--top-k", "2", "--resume"]) == 2
    assert "this run changes extended_cv" in capsys.readouterr().err


def test_a_store_with_fits_outside_any_run_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    store = ExperimentStore(out / "store.sqlite")  # as a search through the Python API left it
    store.save_fit("unit", None, {"status": "ok", "scores": {"score": 0.5}})
    store.close()
    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4]\n")
    assert main(tiny_search(out, space)) == 2  # it counted only fits attached to runs
    assert "already holds a search (store.sqlite); pass --resume" in capsys.readouterr().err
    assert not ExperimentStore(out / "store.sqlite").fits().empty


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"skhyper {version('skhyper')}\n"


def test_list_columns_fit_long_distribution_names(monkeypatch, capsys):
    from skhyper import registry

    infos = registry.plugin_infos()
    lstm = next(i for i in infos if i.name == "lstm")
    long = registry.PluginInfo(name="tcn", group=registry.MODEL_GROUP, value="x:family",
                               distribution="skhyper-temporal-convolutions", version="10.2.3",
                               family=lstm.family)
    monkeypatch.setattr(registry, "plugin_infos", lambda: infos + [long])
    assert main(["list"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    descriptions = {i.name: i.family.description for i in infos + [long] if i.error is None}
    # every description starts in the same column, after the longest source and two spaces
    starts = {len(row) - len(descriptions[row.split()[0]]) for row in rows}
    assert len(starts) == 1
    assert "skhyper-temporal-convolutions 10.2.3  LSTM regressor" in "\n".join(rows)


def test_data_params_read_exponents_as_numbers():
    from skhyper.cli._inputs import parse_data_params

    assert parse_data_params(["noise_std=1e-3", "frequencies=[1, 3e0]", "name=on-off"]) == \
        {"noise_std": 1e-3, "frequencies": [1, 3.0], "name": "on-off"}


@pytest.mark.filterwarnings("ignore:Scoring failed")
@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_a_candidate_whose_scoring_failed_is_recorded_as_failed(capsys):
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge
    from skhyper.cli._search import _test_score
    from skhyper.cli._strategies import GridSearch

    def fails_for_large_alpha(estimator, X, y):
        if estimator.alpha > 0.5:
            raise ValueError("cannot score this one")
        return estimator.score(X, y)

    X, y = make_regression(40, 3, random_state=0)
    search = GridSearch(Ridge(), {"alpha": [0.1, 1.0]}, cv=2, scoring=fails_for_large_alpha,
                        error_score=np.nan).fit(X, y)
    assert list(search.cv_results_["status"]) == ["ok", "failed"]
    assert search.cv_results_["error"][1].startswith("scoring gave nan on fold 0 (a scorer "
                                                     "that raised is reported in scikit-learn")
    # the held-out score fails as the search's did: no score, a note, and run.yaml is written
    search.best_estimator_.set_params(alpha=1.0)
    assert _test_score(search, Bunch(X_test=X, y_test=y), unsupervised=False) is None
    assert "the held-out score failed (ValueError: cannot score this one)" in \
        capsys.readouterr().err


def test_a_search_whose_outputs_fail_is_not_recorded_as_finished(tmp_path, monkeypatch,
                                                                 space_file):
    import skhyper.cli._search as search_command

    def fails(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(search_command, "write_bundle", fails)
    out = tmp_path / "search"
    assert main(["--quiet"] + [str(a) for a in grid_args(out, space_file)]) == 1
    assert list(ExperimentStore(out / "store.sqlite").runs()["status"]) == ["failed"]
