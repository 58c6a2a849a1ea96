"""The skorch bases: searchable training settings, sklearn conventions, errors that name values."""

import os
import pickle
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping, LRScheduler
from skorch.dataset import Dataset

from skhyper.nets import (BatchDataset, NetClassifier, NetRegressor, NonFiniteLossError,
                          resolve_device)


class TinyMLP(torch.nn.Module):
    def __init__(self, n_in, n_out, hidden=8):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))

    def forward(self, X):
        return self.layers(X)


class MLPRegressor(NetRegressor):
    module_params = ("hidden",)

    def __init__(self, hidden=8, *, module=TinyMLP, **kwargs):
        super().__init__(module, **kwargs)
        self.hidden = hidden

    def module_size_params(self):
        return {"n_in": self.n_features_in_, "n_out": self.n_outputs_}


class MLPClassifier(NetClassifier):
    def __init__(self, *, module=TinyMLP, **kwargs):
        super().__init__(module, **kwargs)

    def module_size_params(self):
        return {"n_in": self.n_features_in_, "n_out": self.n_outputs_}


class NaNModule(TinyMLP):
    def forward(self, X):
        return super().forward(X) * float("nan")


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0], dtype=np.float32)
    return X, y


def test_training_settings_compile_into_callbacks(tabular):
    net = MLPRegressor(max_epochs=2, grad_clip=0.5, lr_scheduler="step", lr_scheduler__step_size=1,
                       patience=3, random_state=0).fit(*tabular)
    callbacks = dict(net.callbacks_)
    assert callbacks["grad_clip"].gradient_clip_value == 0.5
    assert isinstance(callbacks["lr_scheduler"], LRScheduler)
    assert callbacks["lr_scheduler"].kwargs["step_size"] == 1
    assert isinstance(callbacks["early_stopping"], EarlyStopping)
    # StepLR(step_size=1, gamma=0.1) divided the learning rate after each epoch.
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.01)
    off = MLPRegressor(max_epochs=1, random_state=0).fit(*tabular)
    assert not {"grad_clip", "lr_scheduler", "early_stopping"} & set(dict(off.callbacks_))
    assert isinstance(callbacks["grad_clip"], GradientNormClipping)


@pytest.mark.parametrize("name,cls", [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
                                      ("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop)])
def test_optimizer_by_name_with_weight_decay(tabular, name, cls):
    net = MLPRegressor(optimizer=name, weight_decay=1e-3, max_epochs=1).fit(*tabular)
    assert type(net.optimizer_) is cls
    assert net.optimizer_.param_groups[0]["weight_decay"] == 1e-3


@pytest.mark.parametrize("scheduler", ["cosine", "step", "exponential", "plateau"])
def test_every_scheduler_trains_and_ignores_settings_of_others(tabular, scheduler):
    # A search may vary the scheduler while fixing one scheduler's settings.
    net = MLPRegressor(max_epochs=3, lr_scheduler=scheduler, lr_scheduler__factor=0.3,
                       lr_scheduler__eta_min=1e-5, random_state=0).fit(*tabular)
    assert len(net.history) == 3


def test_cosine_anneals_to_eta_min_over_max_epochs(tabular):
    net = MLPRegressor(max_epochs=4, lr=1e-2, lr_scheduler="cosine", lr_scheduler__eta_min=1e-4,
                       validation_fraction=None).fit(*tabular)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_early_stopping_stops_before_max_epochs(tabular):
    # An improvement threshold no epoch can reach: stops after `patience` epochs without one.
    net = MLPRegressor(max_epochs=30, patience=2, min_delta=1e6, random_state=0).fit(*tabular)
    assert net.n_epochs_ == 3


def test_validation_fraction_none_monitors_training_loss(tabular):
    net = MLPRegressor(max_epochs=2, validation_fraction=None, patience=5).fit(*tabular)
    assert "valid_loss" not in net.history[-1]
    assert dict(net.callbacks_)["early_stopping"].monitor == "train_loss"


def test_clone_pickle_and_params_round_trip(tabular):
    net = MLPRegressor(hidden=5, optimizer="sgd", lr_scheduler="plateau", lr_scheduler__factor=0.2,
                       device="auto", random_state=3, max_epochs=2)
    params = net.get_params(deep=False)
    assert params["device"] == "auto" and params["lr_scheduler__factor"] == 0.2
    cloned = clone(net)
    assert cloned.get_params(deep=False).keys() == params.keys()
    assert cloned.set_params(hidden=7, lr=0.05) is cloned
    assert (cloned.hidden, cloned.lr, net.hidden) == (7, 0.05, 5)

    net.fit(*tabular)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(restored.predict(tabular[0]), net.predict(tabular[0]))
    assert restored.get_params(deep=False)["device"] == "auto"
    refit_clone = clone(net)
    assert not refit_clone.initialized_  # clone of a fitted net is unfitted


def test_same_random_state_same_predictions(tabular):
    X, y = tabular
    first = MLPRegressor(max_epochs=3, random_state=7).fit(X, y).predict(X)
    again = MLPRegressor(max_epochs=3, random_state=7).fit(X, y).predict(X)
    other = MLPRegressor(max_epochs=3, random_state=8).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_partial_fit_continues_training(tabular):
    X, y = tabular
    net = MLPRegressor(max_epochs=2, random_state=0).fit(X, y)
    weights = [p.detach().clone() for p in net.module_.parameters()]
    net.partial_fit(X, y, epochs=3)
    assert net.n_epochs_ == 5
    # Same module object, trained further: not re-initialized.
    moved = [not torch.equal(a, b) for a, b in zip(weights, net.module_.parameters())]
    assert any(moved)
    with pytest.raises(ValueError, match="y has 2 outputs, but MLPRegressor was fitted with 1"):
        net.partial_fit(X, np.column_stack([y, y]))
    net.fit(X, y)  # fit starts again from scratch
    assert net.n_epochs_ == 2


@pytest.mark.parametrize("make", [
    lambda X, y: (MLPRegressor, X, y),
    lambda X, y: (MLPRegressor, X, np.c_[y, -y]),
    lambda X, y: (MLPClassifier, X, np.where(y > 0, "up", "down")),
], ids=["regressor", "two-targets", "classifier"])
def test_whole_batches_train_and_predict_as_skorch_samples_do(tabular, make):
    # BatchDataset fetches a batch with one index; skorch's Dataset stacks the samples
    cls, X, y = make(*tabular)
    settings = dict(max_epochs=2, batch_size=16, validation_fraction=0.2, random_state=0)
    batched = cls(**settings).fit(X, y)
    by_sample = cls(dataset=Dataset, **settings).fit(X, y)
    assert isinstance(batched.get_dataset(X, y), BatchDataset)
    assert [row["train_loss"] for row in batched.history] == \
        [row["train_loss"] for row in by_sample.history]
    np.testing.assert_array_equal(batched.predict(X), by_sample.predict(X))


def test_a_dataset_that_transforms_samples_gets_them_one_by_one(tabular):
    class Negated(BatchDataset):
        def transform(self, X, y):
            return super().transform(-X, y)

    X, y = tabular
    settings = dict(max_epochs=1, validation_fraction=None, random_state=0)
    negated = MLPRegressor(dataset=Negated, **settings).fit(X, y)  # sees -X, also to predict
    plain = MLPRegressor(**settings).fit(-X, y)
    np.testing.assert_array_equal(negated.predict(X), plain.predict(-X))


def test_regressor_shapes(tabular):
    X, y = tabular
    net = MLPRegressor(max_epochs=1).fit(X, y)
    assert net.predict(X).shape == (len(X),) and net.n_features_in_ == 4
    two = MLPRegressor(max_epochs=1).fit(X, np.c_[y, -y])
    assert two.predict(X).shape == (len(X), 2)
    # float64 input is accepted and cast
    assert MLPRegressor(max_epochs=1).fit(X.astype(np.float64), y).predict(X).dtype == np.float32
    assert not hasattr(net, "feature_names_in_")


def test_dataframe_column_names_are_recorded(tabular):
    import pandas as pd

    X, y = tabular
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    net = MLPRegressor(max_epochs=1).fit(frame, y)
    assert list(net.feature_names_in_) == ["a", "b", "c", "d"]
    assert net.predict(frame).shape == (len(X),)
    # reordered or renamed columns would give wrong predictions: refused, as scikit-learn does
    for other in (frame[["d", "c", "b", "a"]], frame.rename(columns={"a": "z"})):
        with pytest.raises(ValueError, match="feature names should match .* fitted with"):
            net.predict(other)
    with pytest.raises(ValueError, match="feature names should match"):
        net.partial_fit(frame[["d", "c", "b", "a"]], y, epochs=1)
    # an array where names were fitted, or the reverse: scikit-learn's warnings
    with pytest.warns(UserWarning, match="^X does not have valid feature names, but "
                                         "MLPRegressor was fitted with feature names$"):
        net.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.partial_fit(frame, y, epochs=1)
        net.fit(X, y)  # refit on an array: the names go, as in scikit-learn
    assert not hasattr(net, "feature_names_in_")
    with pytest.warns(UserWarning, match="^X has feature names, but MLPRegressor was fitted "
                                         "without feature names$"):
        net.predict(frame)


class PickleAtTrainEnd(Callback):
    """Pickles the net inside fit, as the experiment store's checkpoint does, and lists its
    parameters, as a clone made there would."""

    def on_train_end(self, net, **kwargs):
        self.pickled = pickle.dumps(net)
        self.params = net.get_params(deep=False)


def test_a_net_pickled_during_fit_leaves_the_data_behind(tabular):
    X, y = tabular
    pickler = PickleAtTrainEnd()
    net = MLPRegressor(max_epochs=1, callbacks=[("pickle", pickler)]).fit(X, y)
    restored = pickle.loads(pickler.pickled)
    assert not any(isinstance(value, np.ndarray) for value in vars(restored).values())
    assert not any(isinstance(value, np.ndarray) for value in pickler.params.values())
    assert "checked_X_" not in vars(net)
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    with pytest.raises(ValueError, match="expects X of shape .* got a 0-D array"):
        net.predict(None)


def test_read_only_input_reaches_torch_writable(tabular):
    # joblib hands workers read-only memmaps; torch warns (once) when it wraps one
    X, y = (a.copy() for a in tabular)
    X.setflags(write=False)
    y.setflags(write=False)
    net = MLPRegressor(max_epochs=1).fit(X, y)
    assert net.get_dataset(X).X.flags.writeable
    assert net._prepare_y(y, reset=False).flags.writeable
    assert not X.flags.writeable  # the caller's array is left alone


def test_classifier_with_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3)).astype(np.float32)
    labels = np.array(["down", "flat", "up"])[(X[:, 0] > -0.4).astype(int) + (X[:, 0] > 0.4)]
    with pytest.raises(NotFittedError):  # not AttributeError for the labels it has not seen
        MLPClassifier().predict(X)
    clf = MLPClassifier(max_epochs=15, lr=1e-2, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["down", "flat", "up"]
    assert set(clf.predict(X)) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.score(X, labels) > 0.5


def test_partial_fit_declares_every_class_on_its_first_call():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.array(["a", "b", "c"])[np.arange(60) % 3]
    clf = MLPClassifier(max_epochs=1, validation_fraction=None, random_state=0)
    clf.partial_fit(X[y != "c"], y[y != "c"], classes=["a", "b", "c"])
    assert list(clf.classes_) == ["a", "b", "c"]
    assert clf.predict_proba(X).shape == (60, 3)
    clf.partial_fit(X, y)  # "c" was declared, so it trains on it
    with pytest.raises(ValueError, match=r"label\(s\) \['d'\].*classes \['a', 'b', 'c'\]"):
        clf.partial_fit(X[:2], np.array(["a", "d"]))
    with pytest.raises(ValueError, match=r"label\(s\) \['c'\].*classes \['a', 'b'\]"):
        clone(clf).partial_fit(X, y, classes=["a", "b"])


def test_pickled_tensors_and_their_holders_travel_together(tabular):
    X, y = tabular
    net = MLPRegressor(max_epochs=2, lr_scheduler="plateau", patience=5).fit(X, y)
    restored = pickle.loads(pickle.dumps(net))
    callbacks = dict(restored.callbacks_)
    # one object graph: the scheduler steps the net's own optimizer, not a copy of it
    assert callbacks["lr_scheduler"].lr_scheduler_.optimizer is restored.optimizer_
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))
    restored.partial_fit(X, y, epochs=1)
    net.partial_fit(X, y, epochs=1)
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))


def test_classes_of_the_users_script_travel_by_value(tabular):
    # joblib's workers lack the script's __main__: a search that ships a fitted net there
    # (the staged search continues fold models in workers) needs its classes by value
    X, y = tabular
    ScriptCallback = type("ScriptCallback", (Callback,), {"__module__": "__main__"})
    net = MLPRegressor(max_epochs=1, callbacks=[("mine", ScriptCallback())]).fit(X, y)
    restored = pickle.loads(pickle.dumps(net))
    assert type(dict(restored.callbacks_)["mine"]).__name__ == "ScriptCallback"
    np.testing.assert_array_equal(restored.predict(X), net.predict(X))


def test_net_pickled_in_skorchs_format_loads(tabular):
    # as an experiment store written before the nets pickled their tensors in one archive
    X, y = tabular
    net = MLPRegressor(max_epochs=1).fit(X, y)
    state = NeuralNet.__getstate__(net)
    old = MLPRegressor.__new__(MLPRegressor)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), net.predict(X))


def test_net_pickled_before_the_split_seed_existed_continues_training(tabular):
    X, y = tabular
    net = MLPRegressor(max_epochs=1, validation_fraction=0.2).fit(X, y)
    del net.__dict__["valid_split_seed_"]  # as unpickled from an older skhyper's store
    net = pickle.loads(pickle.dumps(net))
    net.partial_fit(X, y, epochs=1)
    assert net.n_epochs_ == 2


def test_non_finite_loss_raises_with_epoch():
    X = np.ones((20, 2), dtype=np.float32)
    net = MLPRegressor(module=NaNModule, max_epochs=3)
    with pytest.raises(NonFiniteLossError, match="training loss became nan at epoch 1"):
        net.fit(X, np.ones(20))


@pytest.mark.parametrize("params,message", [
    ({"optimizer": "adamx"}, r"Invalid optimizer='adamx'\. Did you mean 'adam'\? Allowed: adam"),
    ({"lr_scheduler": "cosin"}, r"Invalid lr_scheduler='cosin'\. Did you mean 'cosine'\?"),
    ({"lr": -0.1}, r"Invalid lr=-0\.1: must be > 0"),
    ({"lr": float("inf")}, r"Invalid lr=inf: expected a finite number"),
    ({"batch_size": 0}, r"Invalid batch_size=0: must be >= 1"),
    ({"patience": 2.5}, r"Invalid patience=2\.5: expected an integer or None"),
    ({"validation_fraction": 1.0}, r"Invalid validation_fraction=1\.0: must be > 0 and < 1"),
    ({"device": "tpu"}, r"Invalid device='tpu'\..* Allowed: cpu, cuda, auto"),
    ({"lr_scheduler": "step", "lr_scheduler__stepsize": 3},
     r"Invalid lr_scheduler setting\(s\) lr_scheduler__stepsize"),
    ({"lr_scheduler": "step", "lr_scheduler__step_size": 0},
     r"Invalid lr_scheduler__step_size=0: must be >= 1"),
    ({"lr_scheduler": "exponential", "lr_scheduler__gamma": -1.0},
     r"Invalid lr_scheduler__gamma=-1.0: must be > 0"),
    ({"lr_scheduler": "cosine", "lr_scheduler__T_max": 0},
     r"Invalid lr_scheduler__T_max=0: must be > 0"),
])
def test_bad_training_settings_name_the_value(tabular, params, message):
    with pytest.raises(ValueError, match=message):
        MLPRegressor(max_epochs=1, **params).fit(*tabular)


def test_bad_data_names_the_problem(tabular):
    X, y = tabular
    with pytest.raises(ValueError, match=r"expects X of shape \(n_samples, n_features\) \(2-D\); "
                                         r"got a 3-D array of shape \(120, 4, 1\)"):
        MLPRegressor(max_epochs=1).fit(X[..., None], y)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[120, 119\]"):
        MLPRegressor(max_epochs=1).fit(X, y[:-1])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN; MLPRegressor does not accept missing"):
        MLPRegressor(max_epochs=1).fit(X_nan, y)
    fitted = MLPRegressor(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features per step, but MLPRegressor was fitted "
                                         "with 4"):
        fitted.predict(X[:, :3])


def test_device_auto_resolves_to_what_is_available():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_requested_without_cuda_is_a_clear_error(tabular):
    with pytest.raises(ValueError, match="CUDA is not available on this machine"):
        MLPRegressor(max_epochs=1, device="cuda").fit(*tabular)


class PressCtrlC(Callback):
    """Sends this process SIGINT at the end of the first epoch, as a user's Ctrl-C would."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_stops_the_fit_and_reaches_the_caller(tabular):
    # skorch ends its fit loop on KeyboardInterrupt and returns as if training had finished;
    # a search would score the cut-short net and go on to the next candidate.
    X, y = tabular
    # Python's own Ctrl-C handler, also where this process started with SIGINT ignored (a
    # background job: no Ctrl-C can arrive, and the nets leave the signal alone)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupted_fits(X, y)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def _interrupted_fits(X, y):
    net = MLPRegressor(max_epochs=5, callbacks=[PressCtrlC()], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y)
    assert net.n_epochs_ == 1  # the net keeps what it trained
    with pytest.raises(KeyboardInterrupt):
        GridSearchCV(net, {"lr": [1e-3, 1e-2]}, cv=2, error_score=np.nan).fit(X, y)
    # skorch's own stops, early stopping among them, still end the fit quietly
    stopped = MLPRegressor(max_epochs=50, patience=1, min_delta=1e9, random_state=0).fit(X, y)
    assert stopped.n_epochs_ < 50


def test_set_params_on_a_fitted_net_rebuilds_what_the_settings_compile_into(tabular):
    # skorch raised "Something went wrong" for lr_scheduler__* / optimizer, and kept the old
    # callbacks and module for grad_clip / patience / module params: partial_fit ignored them
    X, y = tabular
    net = MLPRegressor(max_epochs=2, lr_scheduler="step", random_state=0).fit(X, y)
    net.set_params(lr_scheduler__step_size=1, grad_clip=0.5, patience=3)
    callbacks = dict(net.callbacks_)
    assert callbacks["lr_scheduler"].kwargs["step_size"] == 1
    assert callbacks["grad_clip"].gradient_clip_value == 0.5
    assert callbacks["early_stopping"].patience == 3
    net.set_params(lr_scheduler="cosine", optimizer="sgd")
    assert isinstance(net.optimizer_, torch.optim.SGD)
    net.partial_fit(X, y, epochs=1)
    assert isinstance(dict(net.callbacks_)["lr_scheduler"].lr_scheduler_,
                      torch.optim.lr_scheduler.CosineAnnealingLR)
    net.set_params(hidden=16)
    assert net.module_.layers[0].out_features == 16
    net.partial_fit(X, y, epochs=1)
    assert net.n_epochs_ == 4
    # batch_size_ (the out-of-memory back-off's) kept the old batch size for continued training
    net.set_params(batch_size=30, validation_fraction=None)
    net.partial_fit(X, y, epochs=1)
    assert len(net.history[-1, "batches"]) == len(X) // 30


def test_a_net_that_learns_from_y_refuses_none_and_empty_input_is_named(tabular):
    with pytest.raises(ValueError, match="MLPRegressor requires y to be passed"):
        MLPRegressor(max_epochs=1).fit(tabular[0])
    with pytest.raises(ValueError, match=r"Input X has 0 samples \(shape \(0, 4\)\)"):
        MLPRegressor(max_epochs=1).fit(tabular[0][:0], tabular[1][:0])  # numpy's reshape error


def test_classifier_labels_and_small_stratified_validation_split(tabular):
    X, y = tabular
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier(max_epochs=1).fit(X, y)
    labels = np.tile(["a", "b", "c"], 7)[:20]
    # 10% of 20 samples is 2 validation samples for 3 classes; skorch's split named test_size
    with pytest.raises(ValueError, match=r"stratified validation split \(validation_fraction="
                                         r"0.1 of 20 samples\) failed, .*number of classes = 3"):
        MLPClassifier(max_epochs=1).fit(X[:20], labels)
    assert MLPClassifier(max_epochs=1, validation_fraction=None).fit(X[:20], labels).n_epochs_ == 1
    # a regressor's split, not stratified, is named the same way
    with pytest.raises(ValueError, match=r"The validation split \(validation_fraction=0.9 of 3 "
                                         r"samples\) failed, .*its test_size is validation_frac"):
        MLPRegressor(max_epochs=1, validation_fraction=0.9).fit(X[:3], y[:3])


def test_the_first_fit_in_a_process_imports_nothing_the_nets_could_have():
    # torch.optim imports torch._dynamo (about 2 s) at the first optimizer: in the fit, that
    # was charged to the first candidate's fit time in every worker
    code = (
        "import sys, numpy as np\n"
        "from skhyper import make_estimator\n"
        "net = make_estimator('lstm', max_epochs=1, hidden_size=2)\n"
        "before = set(sys.modules)\n"
        "net.fit(np.zeros((8, 4, 1), np.float32), np.zeros(8, np.float32))\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('torch._dynamo')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_set_params_on_a_fitted_net_checks_before_it_rebuilds(tabular):
    X, y = tabular
    net = MLPRegressor(max_epochs=1, random_state=0).fit(X, y)
    for bad, message in [(dict(lr=-1.0), r"Invalid lr=-1.0: must be > 0"),
                         (dict(optimizer="adamz"), r"Invalid optimizer='adamz'. Did you mean"),
                         (dict(lr_scheduler="cosin"), r"Invalid lr_scheduler='cosin'")]:
        with pytest.raises(ValueError, match=message):
            net.set_params(**bad)
    # nothing was changed: the net trains on with what it had
    assert (net.lr, net.optimizer, net.lr_scheduler) == (MLPRegressor().lr, "adam",
                                                         MLPRegressor().lr_scheduler)
    assert net.partial_fit(X, y, epochs=1).n_epochs_ == 2
    # the check copies nothing: a callback holding a file is fine
    with open(os.devnull, "w") as sink:
        logged = MLPRegressor(max_epochs=1, callbacks=[("log", WritesTo(sink))]).fit(X, y)
        assert logged.set_params(max_epochs=2).max_epochs == 2


class WritesTo(Callback):
    def __init__(self, sink):
        self.sink = sink  # an open file: cannot be deep-copied


def test_zero_epochs_size_the_module_so_saved_parameters_load(tabular, tmp_path):
    X, y = tabular
    net = MLPRegressor(max_epochs=2, random_state=0).fit(X, y)
    net.save_params(f_params=tmp_path / "weights.pt")
    new = MLPRegressor(max_epochs=2, patience=3, random_state=1)
    with pytest.raises(NotFittedError, match="sizes its module from the data.*max_epochs=0"):
        new.initialize()
    new.set_params(max_epochs=0).fit(X, y)  # early stopping had no best epoch to restore
    assert len(new.history) == 0
    new.load_params(f_params=tmp_path / "weights.pt")
    np.testing.assert_allclose(new.predict(X), net.predict(X))


def test_optimizers_without_weight_decay(tabular):
    X, y = tabular
    net = MLPRegressor(optimizer=torch.optim.Rprop, weight_decay=0.0, max_epochs=1).fit(X, y)
    assert "weight_decay" not in net.optimizer_.defaults
    with pytest.raises(ValueError, match=r"Invalid weight_decay=0.001: the optimizer Rprop "
                                         r"takes no weight_decay; use 0"):
        MLPRegressor(optimizer=torch.optim.Rprop, weight_decay=1e-3).fit(X, y)
    # a subclass that passes **kwargs on takes it
    net = MLPRegressor(optimizer=PassesKwargsOn, weight_decay=1e-3, max_epochs=1).fit(X, y)
    assert net.optimizer_.defaults["weight_decay"] == 1e-3


class PassesKwargsOn(torch.optim.Adam):
    def __init__(self, params, lr=1e-3, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
