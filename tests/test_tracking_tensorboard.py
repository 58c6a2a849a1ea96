"""TensorBoardCurves: one run directory per fit, per-epoch scalars read back from event files."""

import gc
import os
import pickle
import sys
import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, EpochScoring

from skhyper.tracking import TensorBoardCurves

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData  # noqa: E402


def read_scalars(run_dir):
    """{tag: [(step, value), ...]} of every scalar in a run directory."""
    events = EventAccumulator(run_dir)
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def read_hparams(run_dir):
    events = EventAccumulator(run_dir)
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    return HParamsPluginData.FromString(content).session_start_info.hparams


def run_dirs(log_dir):
    return sorted(os.path.join(log_dir, name) for name in os.listdir(log_dir))


def test_net_with_callback_clones_and_pickles(tiny_lstm, tiny_sine, tmp_path):
    callback = TensorBoardCurves(str(tmp_path), run_name="h{hidden_size}")
    net = tiny_lstm(callbacks=[callback])

    cloned = clone(net)
    assert cloned.callbacks[0] is not callback
    assert cloned.callbacks[0].get_params() == callback.get_params()
    pickle.loads(pickle.dumps(net))

    net.fit(tiny_sine.X, tiny_sine.y)
    assert not hasattr(callback, "writer")  # closed and dropped at train end
    assert os.path.basename(callback.run_dir_).startswith("h8-")
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict(tiny_sine.X_test), net.predict(tiny_sine.X_test))
    # A clone of the fitted net starts a run of its own.
    clone(net).fit(tiny_sine.X, tiny_sine.y)
    assert len(run_dirs(tmp_path)) == 2


def test_grid_search_writes_the_curves_of_every_fit(tiny_lstm, tiny_sine, tmp_path):
    net = tiny_lstm(callbacks=[
        EpochScoring("r2", lower_is_better=False, name="valid_r2"),
        TensorBoardCurves(str(tmp_path), run_name="h{hidden_size}"),
    ])
    search = GridSearchCV(net, {"hidden_size": [4, 8]}, cv=2).fit(tiny_sine.X, tiny_sine.y)

    dirs = run_dirs(tmp_path)
    assert len(dirs) == 2 * 2 + 1  # every fold of both candidates, then the refit
    best = search.best_params_["hidden_size"]
    names = [os.path.basename(d).split("-")[0] for d in dirs]
    assert sorted(names) == sorted(["h4", "h4", "h8", "h8", f"h{best}"])
    for run_dir, name in zip(dirs, names):
        scalars = read_scalars(run_dir)
        for tag in ("Loss/train_loss", "Loss/valid_loss", "Score/valid_r2", "Optimizer/lr",
                    "dur"):
            assert [step for step, _ in scalars[tag]] == [1, 2], (run_dir, tag)
        assert [value for _, value in scalars["Optimizer/lr"]] == pytest.approx([1e-3, 1e-3])
        assert read_hparams(run_dir)["hidden_size"].number_value == int(name[1:])

    refit = dict(search.best_estimator_.callbacks_)["TensorBoardCurves"]
    scalars = read_scalars(refit.run_dir_)
    history = search.best_estimator_.history
    for column in ("train_loss", "valid_loss", "valid_r2"):
        tag = "Loss/" + column if column.endswith("loss") else "Score/" + column
        np.testing.assert_allclose([v for _, v in scalars[tag]], history[:, column], rtol=1e-6)


def test_partial_fit_continues_the_same_run(tiny_lstm, tiny_sine, tmp_path):
    net = tiny_lstm(callbacks=[TensorBoardCurves(str(tmp_path))])
    net.fit(tiny_sine.X, tiny_sine.y)
    net.partial_fit(tiny_sine.X, tiny_sine.y, epochs=1)

    (run_dir,) = run_dirs(tmp_path)
    assert os.path.basename(run_dir).startswith("LSTMRegressor-")
    train_loss = read_scalars(run_dir)["Loss/train_loss"]
    assert [step for step, _ in train_loss] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in train_loss], net.history[:, "train_loss"],
                               rtol=1e-6)
    net.fit(tiny_sine.X, tiny_sine.y)  # a new fit starts a new run
    assert len(run_dirs(tmp_path)) == 2


class FailAtEpoch(Callback):
    """Stands for a trial that dies mid-training (NaN loss, out of memory)."""

    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("trial failed")


def test_failed_fit_keeps_its_curves_and_releases_the_writer(tiny_lstm, tiny_sine, tmp_path):
    threads_before = set(threading.enumerate())

    def fit_and_fail():
        net = tiny_lstm(callbacks=[TensorBoardCurves(str(tmp_path)), FailAtEpoch()])
        with pytest.raises(RuntimeError, match="trial failed"):
            net.fit(tiny_sine.X, tiny_sine.y)
        pickle.dumps(net)  # the open writer is not part of the pickle
        (writer_thread,) = set(threading.enumerate()) - threads_before
        assert writer_thread.is_alive()  # open while the failed net lives
        return writer_thread

    writer_thread = fit_and_fail()
    gc.collect()  # the failed net is gone, so its writer is closed
    assert not writer_thread.is_alive()
    (run_dir,) = run_dirs(tmp_path)
    assert [step for step, _ in read_scalars(run_dir)["Loss/train_loss"]] == [1]


def test_bad_run_name_names_the_allowed_fields(tiny_lstm, tiny_sine, tmp_path):
    net = tiny_lstm(callbacks=[TensorBoardCurves(str(tmp_path), run_name="{hiden_size}")])
    with pytest.raises(ValueError, match=r"run_name='\{hiden_size\}'.*hidden_size"):
        net.fit(tiny_sine.X, tiny_sine.y)


def test_missing_tensorboard_names_the_extra(tiny_lstm, tiny_sine, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    net = tiny_lstm(callbacks=[TensorBoardCurves(str(tmp_path))])
    with pytest.raises(ImportError, match=r"skhyper\[tensorboard\]"):
        net.fit(tiny_sine.X, tiny_sine.y)
