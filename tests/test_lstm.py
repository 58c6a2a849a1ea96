"""The lstm family under scikit-learn's and skopt's searches with its default spaces."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from skopt import BayesSearchCV

import skhyper
from skhyper.models.lstm import LSTMRegressor


def test_family_is_registered_with_three_spaces():
    family = skhyper.get_model("lstm")
    assert family.estimator is LSTMRegressor and family.task == "regression"
    assert set(family.search_spaces) == {"grid", "random", "bayes"}


def test_defaults_follow_seed_002():
    params = skhyper.make_estimator("lstm").get_params(deep=False)
    expected = dict(hidden_size=128, num_layers=2, dropout=0.2, batch_size=64, lr=1e-3,
                    weight_decay=1e-5, patience=15, grad_clip=1.0, lr_scheduler="plateau",
                    lr_scheduler__factor=0.5, lr_scheduler__patience=5)
    assert {k: params[k] for k in expected} == expected


def test_grid_search_with_default_space(tiny_sine, tiny_lstm):
    grid = skhyper.get_model("lstm").search_space("grid")
    search = GridSearchCV(tiny_lstm(max_epochs=1), grid, cv=KFold(2),
                          scoring="neg_mean_squared_error").fit(tiny_sine.X, tiny_sine.y)
    assert len(search.cv_results_["params"]) == 8
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.n_epochs_ == 1


def test_randomized_search_with_default_space(tiny_sine, tiny_lstm):
    space = skhyper.get_model("lstm").search_space("random")
    search = RandomizedSearchCV(tiny_lstm(max_epochs=1), space, n_iter=3, cv=KFold(2),
                                random_state=0).fit(tiny_sine.X, tiny_sine.y)
    sampled = search.cv_results_["params"]
    assert len(sampled) == 3 and all(p["optimizer"] in ("adam", "adamw", "sgd") for p in sampled)


def test_bayes_search_with_default_space(tiny_sine, tiny_lstm):
    space = skhyper.get_model("lstm").search_space("bayes")
    search = BayesSearchCV(tiny_lstm(max_epochs=1), space, n_iter=3, cv=KFold(2),
                           random_state=0).fit(tiny_sine.X, tiny_sine.y)
    assert len(search.cv_results_["params"]) == 3
    assert 32 <= search.best_params_["hidden_size"] <= 256


def test_bidirectional_and_sequence_output(tiny_sine, tiny_lstm):
    seq = skhyper.load_dataset("sine-mixture", duration=0.5, sampling_rate=200, seq_len=10,
                               stride=5, target="sequence")
    net = tiny_lstm(output="sequence", bidirectional=True, num_layers=2).fit(seq.X, seq.y)
    assert net.predict(seq.X_test).shape == seq.y_test.shape == (len(seq.X_test), 10)
    last = tiny_lstm().fit(tiny_sine.X, tiny_sine.y)
    assert last.predict(tiny_sine.X_test).shape == (len(tiny_sine.X_test),)


def test_learns_on_the_sine_mixture(tiny_sine, tiny_lstm):
    # Ten epochs are enough to beat predicting the mean on the independently noised test part.
    net = tiny_lstm(hidden_size=16, max_epochs=10, lr=1e-2).fit(tiny_sine.X, tiny_sine.y)
    assert net.score(tiny_sine.X_test, tiny_sine.y_test) > 0.2


def test_same_seed_same_predictions_and_round_trips(tiny_sine, tiny_lstm):
    a = tiny_lstm(dropout=0.3, num_layers=2).fit(tiny_sine.X, tiny_sine.y)
    b = clone(a).fit(tiny_sine.X, tiny_sine.y)
    np.testing.assert_array_equal(a.predict(tiny_sine.X_test), b.predict(tiny_sine.X_test))
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict(tiny_sine.X_test), restored.predict(tiny_sine.X_test))
    assert restored.get_params(deep=False).keys() == a.get_params(deep=False).keys()


@pytest.mark.parametrize("params,message", [
    ({"hidden_size": 0}, r"Invalid hidden_size=0: must be >= 1"),
    ({"dropout": 1.0}, r"Invalid dropout=1\.0: must be >= 0 and < 1"),
    ({"output": "all"}, r"Invalid output='all'\. Allowed: last, sequence"),
    ({"bidirectional": "yes"}, r"Invalid bidirectional='yes'\. Allowed: True, False"),
])
def test_bad_module_params(tiny_sine, tiny_lstm, params, message):
    with pytest.raises(ValueError, match=message):
        tiny_lstm(**params).fit(tiny_sine.X, tiny_sine.y)


def test_wrong_rank_is_a_clear_error(tiny_sine, tiny_lstm):
    with pytest.raises(ValueError, match=r"LSTMRegressor expects X of shape \(n_samples, n_steps, "
                                         r"n_features\) \(3-D\); got a 2-D array"):
        tiny_lstm().fit(tiny_sine.X[:, :, 0], tiny_sine.y)


def test_numpy_integers_from_a_grid_train_as_python_ints(tiny_sine, tiny_lstm):
    # np.arange grids and skopt/scipy draws give np.int64, which torch's LSTM, the DataLoader and
    # torch.manual_seed refuse; the net hands torch plain ints and trains the same net.
    drawn = {name: np.int64(value) for name, value in
             dict(hidden_size=4, num_layers=1, batch_size=16, random_state=3, max_epochs=2).items()}
    from_numpy = tiny_lstm(**drawn).fit(tiny_sine.X, tiny_sine.y)
    plain = tiny_lstm(**{name: int(value) for name, value in drawn.items()})
    plain.fit(tiny_sine.X, tiny_sine.y)
    np.testing.assert_array_equal(from_numpy.predict(tiny_sine.X), plain.predict(tiny_sine.X))
    search = GridSearchCV(tiny_lstm(max_epochs=1), {"hidden_size": np.arange(4, 9, 4)},
                          cv=KFold(2), error_score="raise").fit(tiny_sine.X, tiny_sine.y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_seq_len_reads_the_last_steps_of_each_window(tiny_sine, tiny_lstm):
    # The same net as one trained on windows cut to their last 8 steps, in fit and predict.
    cut = tiny_lstm(seq_len=np.int64(8)).fit(tiny_sine.X, tiny_sine.y)
    short = tiny_lstm().fit(tiny_sine.X[:, -8:], tiny_sine.y)
    np.testing.assert_array_equal(cut.predict(tiny_sine.X_test),
                                  short.predict(tiny_sine.X_test[:, -8:]))
    assert cut.score(tiny_sine.X_test, tiny_sine.y_test) == \
        short.score(tiny_sine.X_test[:, -8:], tiny_sine.y_test)
    restored = pickle.loads(pickle.dumps(clone(cut).fit(tiny_sine.X, tiny_sine.y)))
    np.testing.assert_array_equal(restored.predict(tiny_sine.X_test), cut.predict(tiny_sine.X_test))


def test_seq_len_applies_to_skorch_datasets_too(tiny_sine, tiny_lstm):
    # a validation set given as a Dataset is scored on the steps the net trains on
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = tiny_sine.X_test, tiny_sine.y_test
    valid = Dataset(X, y.reshape(-1, 1))  # 2-D, as the net makes a 1-D y it is given
    net = tiny_lstm(seq_len=8, max_epochs=1, train_split=predefined_split(valid))
    net.fit(tiny_sine.X, tiny_sine.y)
    predicted = net.predict(X)
    np.testing.assert_array_equal(net.predict(valid), predicted)
    assert net.history[-1, "valid_loss"] == pytest.approx(np.mean((predicted - y) ** 2),
                                                          rel=1e-5)


def test_a_validation_dataset_with_a_1d_target_is_scored_per_window(tiny_sine, tiny_lstm):
    # torch broadcasts a (N,) target against (N, 1) predictions into an N x N loss
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = tiny_sine.X_test, tiny_sine.y_test
    net = tiny_lstm(max_epochs=1, train_split=predefined_split(Dataset(X, y)))
    net.fit(tiny_sine.X, tiny_sine.y)
    assert net.history[-1, "valid_loss"] == pytest.approx(np.mean((net.predict(X) - y) ** 2),
                                                          rel=1e-5)


def test_seq_len_is_searched_like_any_parameter(tiny_sine, tiny_lstm):
    # One dataset, one set of folds: every window length predicts the same targets; a length
    # longer than the windows fails with its reason and the rest go on.
    search = skhyper.StagedHalvingSearchCV(
        tiny_lstm(), {"seq_len": [4, 20, 40]}, min_epochs=1, max_epochs=2, factor=2, top_k=0,
        cv=KFold(2), scoring="neg_mean_squared_error", random_state=0,
    ).fit(tiny_sine.X, tiny_sine.y)
    results = search.cv_results_
    assert list(results["param_seq_len"]) == [4, 20, 40]
    assert results["status"][2] == "failed" and "failed" not in results["status"][:2]
    assert "Invalid seq_len=40: X has windows of 20 steps" in results["error"][2]
    assert np.isfinite(results["mean_test_score"][:2]).all()
    assert search.best_estimator_.seq_len == results["params"][search.best_index_]["seq_len"]


@pytest.mark.parametrize("params,message", [
    ({"seq_len": 0}, r"Invalid seq_len=0: must be >= 1"),
    ({"seq_len": 5, "output": "sequence"},
     r"Invalid seq_len=5 with output='sequence': y holds a target for every step"),
])
def test_bad_seq_len(tiny_lstm, params, message):
    with pytest.raises(ValueError, match=message):
        tiny_lstm(**params).check_params()
