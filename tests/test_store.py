"""The experiment store: the fit-store protocol, resuming scikit-learn searches of nets through
StoreCheckpoint, and the tracker queries."""

import pickle
import sqlite3

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import Callback
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from skhyper.tracking import ExperimentStore, StoreCheckpoint


class CountEpochs(Callback):
    """Counts epochs actually trained, across clones (a class-level counter)."""

    trained = 0

    def on_epoch_end(self, net, **kwargs):
        type(self).trained += 1


class InterruptAt(Callback):
    """Simulates Ctrl-C at the end of the given epoch, or in its first batch (skorch stops
    training quietly on it)."""

    def __init__(self, epoch=1, in_batch=False):
        self.epoch, self.in_batch = epoch, in_batch

    def on_batch_end(self, net, training=False, **kwargs):
        if self.in_batch and training and len(net.history) == self.epoch:
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_protocol_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    model = Ridge().fit(X, y)
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run({"strategy": "test"})
    assert store.load_fit("k") is None
    record = {"params": {"alpha": np.float64(1.0)}, "fold": 1, "stage": "explore", "rung": 0,
              "epochs": 3, "scores": {"score": 0.5, "mse": float("nan")}, "fit_time": 0.1,
              "score_time": 0.01, "status": "ok", "error": "",
              "history": [{"epoch": 1, "train_loss": 0.3}]}
    store.save_fit("k", model, record)

    # A fresh object on the same file, as a resumed process opens it.
    reopened = ExperimentStore(tmp_path / "s.sqlite")
    reopened.start_run({})
    fitted, loaded = reopened.load_fit("k")
    np.testing.assert_array_equal(fitted.predict(X), model.predict(X))
    assert loaded["params"] == {"alpha": 1.0} and loaded["fold"] == 1
    assert loaded["stage"] == "explore" and loaded["epochs"] == 3
    assert loaded["scores"]["score"] == 0.5 and np.isnan(loaded["scores"]["mse"])
    assert loaded["history"] == record["history"]
    assert reopened.count_fits() == (0, 1)  # restored by run 2, trained by run 1
    assert store.count_fits(run=1) == (1, 0)
    fits = reopened.fits()
    assert fits.loc[0, "score_score"] == 0.5 and fits.loc[0, "status"] == "ok"


def test_store_pickles_without_its_connection(tmp_path):
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run()
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path and copy.run == store.run
    assert copy.count_fits() == (0, 0)


def test_relative_paths_and_missing_folders(tmp_path, monkeypatch):
    # joblib workers may run elsewhere (a reused loky worker keeps the directory it started in)
    monkeypatch.chdir(tmp_path)
    store = ExperimentStore("s.sqlite")
    store.start_run()
    assert store.path == str(tmp_path / "s.sqlite")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert len(ExperimentStore(store.path).runs()) == 1
    made = ExperimentStore("runs/a/store.sqlite")
    assert made.path == str(tmp_path / "elsewhere" / "runs" / "a" / "store.sqlite")
    assert ExperimentStore(":memory:").path == ":memory:"  # sqlite's in-memory database
    assert not (tmp_path / "elsewhere" / ":memory:").exists()

    # a worker in another directory would open a store of its own: refused at fit time
    with pytest.raises(ValueError, match="Invalid path='s.sqlite'.*absolute"):
        StoreCheckpoint("s.sqlite").initialize()


def test_resumed_grid_search_trains_nothing_and_matches(tmp_path, tiny_sine, tiny_lstm):
    path = str(tmp_path / "s.sqlite")
    grid = {"hidden_size": [4, 6]}

    def search(run):
        net = tiny_lstm(max_epochs=2, callbacks=[("count", CountEpochs()),
                                                 ("store", StoreCheckpoint(path, run))])
        return GridSearchCV(net, grid, cv=KFold(2), scoring="neg_mean_squared_error")

    store = ExperimentStore(path)
    CountEpochs.trained = 0
    first = search(store.start_run()).fit(tiny_sine.X, tiny_sine.y)
    assert CountEpochs.trained == 5 * 2  # 2 candidates x 2 folds + the refit, 2 epochs each

    CountEpochs.trained = 0
    second = search(store.start_run()).fit(tiny_sine.X, tiny_sine.y)
    assert CountEpochs.trained == 0
    assert store.count_fits() == (0, 5)
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        np.testing.assert_array_equal(first.cv_results_[key], second.cv_results_[key])
    # The restored refit predicts exactly as the trained one.
    np.testing.assert_array_equal(first.predict(tiny_sine.X_test),
                                  second.predict(tiny_sine.X_test))
    assert len(second.best_estimator_.history) == 2


# In its last epoch, skorch had added the epoch's row to the history: it counted as trained.
@pytest.mark.parametrize("max_epochs, interrupt", [(3, InterruptAt(1)),
                                                   (2, InterruptAt(2, in_batch=True))])
def test_interrupted_fit_is_not_stored(tmp_path, tiny_sine, tiny_lstm, max_epochs, interrupt):
    path = str(tmp_path / "s.sqlite")
    store = ExperimentStore(path)
    run = store.start_run()
    net = tiny_lstm(max_epochs=max_epochs, callbacks=[("stop", interrupt),
                                                      ("store", StoreCheckpoint(path, run))])
    net.fit(tiny_sine.X, tiny_sine.y)
    assert len(net.history) == interrupt.epoch
    assert store.count_fits() == (0, 0)


def test_a_fit_that_cannot_be_unpickled_is_trained_again(tmp_path):
    path = tmp_path / "s.sqlite"
    store = ExperimentStore(path)
    store.save_fit("unit", {"weights": [1.0]}, {"status": "ok"})
    with sqlite3.connect(path) as db:  # e.g. pickled with a class another script defined
        db.execute("UPDATE fits SET estimator = ?", (b"not a pickle",))
    with pytest.warns(RuntimeWarning, match="stored fit 'unit' cannot be unpickled"):
        assert store.load_fit("unit") is None  # a search trains it, instead of failing on it




def fake_results():
    return {
        "params": [{"hidden_size": 16, "lr": 0.01}, {"hidden_size": 32, "lr": 0.01},
                   {"hidden_size": 32, "lr": 0.1}],
        "param_hidden_size": np.ma.masked_array([16, 32, 32]),
        "param_lr": np.ma.masked_array([0.01, 0.01, 0.1]),
        "mean_test_score": np.array([-0.3, -0.1, np.nan]),
        "std_test_score": np.array([0.01, 0.02, np.nan]),
        "rank_test_score": np.array([2, 1, 3]),
        "mean_fit_time": np.array([1.0, 2.0, 0.5]),
        "status": np.array(["ok", "ok", "failed"], dtype=object),
        "error": np.array(["", "", "NonFiniteLossError: training loss became nan"],
                          dtype=object),
    }


def test_tracker_queries(tmp_path):
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run()
    for query in (store.results, store.filter, store.top, store.statistics):
        with pytest.raises(LookupError, match="holds no search results yet"):
            query()
    with pytest.raises(LookupError, match="holds no search results for run 7"):
        store.filter(run=7)
    store.save_results(fake_results())

    results = store.results()
    assert list(results["param_hidden_size"]) == [16, 32, 32]
    assert results.loc[2, "error"].startswith("NonFiniteLossError")

    assert list(store.filter(hidden_size=32).index) == [1, 2]
    assert list(store.filter(status="ok", lr=lambda v: v < 0.05).index) == [0, 1]
    with pytest.raises(KeyError, match="Unknown criterion 'hiden_size'"):
        store.filter(hiden_size=32)

    assert list(store.top(5).index) == [1, 0]  # the failed candidate is left out
    stats = store.statistics()
    assert stats["count"] == 2 and stats["failed"] == 1
    assert stats["max"] == pytest.approx(-0.1) and stats["mean"] == pytest.approx(-0.2)
    with pytest.raises(KeyError, match="Unknown metric 'mse'"):
        store.statistics("mse")

    csv = pd.read_csv(store.to_csv(tmp_path / "results.csv"))
    assert list(csv["mean_test_score"].iloc[:2]) == [-0.3, -0.1]
    assert len(csv) == 3


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    path = tmp_path / "store.sqlite"
    path.write_text("garbage\n" * 200)
    with pytest.raises(ValueError, match=r"store.sqlite is not an experiment store \(file is "
                                         r"not a database\): move it away"):
        ExperimentStore(path)


def test_a_store_that_cannot_be_written_is_not_called_garbage(tmp_path, monkeypatch):
    ExperimentStore(tmp_path / "store.sqlite").close()

    def read_only(*args, **kwargs):  # what SQLite says of a read-only mount (root ignores chmod)
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(ValueError, match=r"Cannot open the experiment store .*store.sqlite for "
                                         r"writing \(unable to open database file\): it needs "
                                         r"write access"):
        ExperimentStore(tmp_path / "store.sqlite")


def test_pruned_candidates_are_neither_successful_nor_failed(tmp_path):
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run()
    results = fake_results()
    # the best score, but at a smaller budget: a staged or halving search stopped it there
    results["mean_test_score"][0] = 0.0
    results["status"][0] = "pruned"
    store.save_results(results)
    stats = store.statistics()
    assert (stats["count"], stats["failed"], stats["pruned"]) == (1, 1, 1)
    assert stats["max"] == pytest.approx(-0.1)
    assert list(store.top(5).index) == [1]


def test_queries_of_a_multi_metric_search_rank_on_its_metric_and_sizes_smallest_first(tmp_path):
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run()
    results = fake_results()
    score = results.pop("mean_test_score")
    # the command's order: the ranking metric first, the size after it
    # named so that sorting them would put another metric first
    results.update(mean_test_r2=score, mean_test_n_parameters=np.array([500.0, 90.0, np.nan]),
                   mean_test_neg_mean_absolute_error=np.array([-0.1, -0.3, np.nan]))
    store.save_results(results)
    assert list(store.top(5).index) == [1, 0]  # by r2, not a KeyError for "score"
    assert store.statistics().name == "mean_test_r2"
    assert list(store.top(5, metric="n_parameters")["mean_test_n_parameters"]) == [90.0, 500.0]


def test_results_of_a_later_run_are_the_default(tmp_path):
    store = ExperimentStore(tmp_path / "s.sqlite")
    store.start_run()
    store.save_results(fake_results())
    store.start_run()
    later = fake_results()
    later["mean_test_score"] = np.array([-0.5, -0.4, -0.3])
    store.save_results(later)
    assert list(store.results()["mean_test_score"]) == [-0.5, -0.4, -0.3]
    assert list(store.results(run=1)["mean_test_score"])[:2] == [-0.3, -0.1]
