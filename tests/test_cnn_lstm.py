"""The ``cnn-lstm`` model family: the multi-task estimator, its loss, scorers and searches."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from skopt import BayesSearchCV

import skhyper
from conftest import requires_cuda
from skhyper.analysis import pareto_front
from skhyper.models.cnn_lstm import (
    FUSIONS,
    CNNLSTMModule,
    CNNLSTMMultiTask,
    combined_scorer,
    multitask_scoring,
    neg_mse_scorer,
    parse_kernel_sizes,
)

TINY = dict(n_filters=4, kernel_sizes="3-5", lstm_hidden_size=8, lstm_layers=1, fusion_dim=8,
            max_epochs=2, batch_size=64, patience=None, validation_fraction=None,
            random_state=0)


@pytest.fixture(scope="module")
def market():
    """About 200 training windows of 8 steps."""
    return skhyper.load_dataset("market", n_assets=2, n_steps=160, seq_len=8)


def tiny(**params):
    return skhyper.make_estimator("cnn-lstm", **{**TINY, **params})


@pytest.fixture(scope="module")
def fitted(market):
    return tiny().fit(market.X, market.y)


def test_family_is_registered_as_a_multitask_classifier():
    family = skhyper.get_model("cnn-lstm")
    assert family.estimator is CNNLSTMMultiTask and family.task == "multitask"
    assert set(family.search_spaces) == {"grid", "random", "bayes"}
    assert is_classifier(tiny())


def test_predictions_and_default_score(fitted, market):
    labels = fitted.predict(market.X_test)
    proba = fitted.predict_proba(market.X_test)
    value = fitted.predict_regression(market.X_test)
    assert labels.shape == value.shape == (len(market.X_test),)
    assert proba.shape == (len(market.X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fitted.classes_, [0, 1])  # integer-valued floats -> ints
    np.testing.assert_array_equal(labels, fitted.classes_[proba.argmax(axis=1)])
    assert fitted.score(market.X_test, market.y_test) == accuracy_score(
        market.y_test[:, 0].astype(int), labels)
    assert fitted.n_features_in_ == 11 and fitted.n_epochs_ == 2


def test_scorers_match_their_definitions(fitted, market):
    X, y = market.X_test, market.y_test
    labels, value = fitted.predict(X), fitted.predict_regression(X)
    assert multitask_scoring["accuracy"](fitted, X, y) == fitted.score(X, y)
    assert neg_mse_scorer(fitted, X, y) == pytest.approx(-mean_squared_error(y[:, 1], value))
    expected = 0.5 * (accuracy_score(y[:, 0], labels) + r2_score(y[:, 1], value))
    assert combined_scorer(fitted, X, y) == pytest.approx(expected)
    n_params = sum(p.numel() for p in fitted.module_.parameters())
    assert multitask_scoring["n_parameters"](fitted, X, y) == n_params


def test_dataframe_targets_with_string_labels(market):
    y = pd.DataFrame({"direction": np.where(market.y[:, 0] > 0, "up", "down"),
                      "next_return": market.y[:, 1]})
    net = tiny(max_epochs=1).fit(market.X, y)
    assert list(net.classes_) == ["down", "up"]
    assert set(net.predict(market.X_test)) <= {"down", "up"}
    assert 0.0 <= net.score(market.X, y) <= 1.0


def test_non_finite_targets_are_named_by_column(market):
    for column, message in [(0, r"The class labels \(column 0 of y\) contain NaN"),
                            (1, r"The regression target \(column 1 of y\) contains NaN")]:
        y = market.y.copy()
        y[3, column] = np.nan  # e.g. an empty cell of a csv
        with pytest.raises(ValueError, match=message):
            tiny(max_epochs=1).fit(market.X, y)


def test_same_seed_same_model_and_pickle_round_trip(fitted, market):
    again = clone(fitted).fit(market.X, market.y)
    np.testing.assert_array_equal(fitted.predict_proba(market.X_test),
                                  again.predict_proba(market.X_test))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_regression(market.X_test),
                                  fitted.predict_regression(market.X_test))
    assert clone(fitted).get_params()["kernel_sizes"] == "3-5"


def test_partial_fit_continues_training(market):
    net = tiny(max_epochs=1).fit(market.X, market.y)
    net.partial_fit(market.X, market.y, epochs=2)
    assert net.n_epochs_ == 3


@pytest.mark.parametrize("fusion", FUSIONS)
def test_every_fusion_with_attention_branches(fusion):
    module = CNNLSTMModule(input_size=11, n_classes=3, n_filters=4, kernel_sizes="3-5-7",
                           activation="swish", cnn_attention_heads=3, lstm_hidden_size=4,
                           bidirectional=True, lstm_attention_heads=2, fusion=fusion,
                           fusion_dim=8, fusion_heads=2)
    logits, value = module(torch.randn(5, 6, 11))
    assert logits.shape == (5, 3) and value.shape == (5,)
    assert module.cnn_attention is not None and module.lstm_attention is not None


def test_residual_and_attention_switches_change_the_network():
    plain = CNNLSTMModule(11, 2, n_filters=4, residual=False, lstm_hidden_size=4, fusion_dim=8)
    full = CNNLSTMModule(11, 2, n_filters=4, residual=True, cnn_attention_heads=2,
                         lstm_hidden_size=4, fusion_dim=8)
    assert plain.shortcut is None and plain.cnn_attention is None
    assert full.shortcut is not None and full.cnn_attention is not None


def test_fixed_weight_one_trains_only_the_class_head(market):
    net = tiny(classification_weight=1.0, weight_decay=0.0, max_epochs=0).fit(market.X, market.y)
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    net.partial_fit(market.X, market.y, epochs=1)
    after = net.module_.state_dict()
    assert torch.equal(before["regressor.weight"], after["regressor.weight"])
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])


def test_uncertainty_weighting_learns_log_variances(market):
    net = tiny(task_weighting="uncertainty").fit(market.X, market.y)
    log_vars = net.criterion_.log_vars
    assert any(log_vars is p for group in net.optimizer_.param_groups for p in group["params"])
    assert not torch.equal(log_vars.detach(), torch.zeros(2))


def test_set_params_on_a_fitted_net_rebuilds_the_loss(market):
    net = tiny(max_epochs=1).fit(market.X, market.y)
    net.set_params(task_weighting="uncertainty", classification_weight=0.9, label_smoothing=0.3)
    net.partial_fit(market.X, market.y, epochs=1)  # trained on with the old loss before
    assert net.criterion_.task_weighting == "uncertainty"
    log_vars = net.criterion_.log_vars
    assert any(log_vars is p for group in net.optimizer_.param_groups for p in group["params"])


def test_l1_and_label_smoothing_enter_the_loss(market):
    net = tiny(l1=1e-3, label_smoothing=0.1, max_epochs=0).fit(market.X, market.y)
    assert net.criterion_.cross_entropy.label_smoothing == 0.1
    X = torch.as_tensor(market.X[:16])
    y_pred = net.infer(X)
    penalty = sum(p.abs().sum() for p in net.module_.parameters()).item()
    trained = net.get_loss(y_pred, market.y[:16], training=True).item()
    evaluated = net.get_loss(y_pred, market.y[:16], training=False).item()
    assert trained - evaluated == pytest.approx(1e-3 * penalty, rel=1e-4)


@requires_cuda
def test_trains_on_cuda_with_learned_task_weights(market):
    net = tiny(task_weighting="uncertainty", device="cuda").fit(market.X, market.y)
    assert net.criterion_.log_vars.device.type == "cuda"
    assert net.predict_regression(market.X_test).shape == (len(market.X_test),)


@pytest.mark.parametrize("params, match", [
    (dict(cnn_attention_heads=3), r"cnn_attention_heads=3: it must divide .* = 8"),
    (dict(lstm_attention_heads=3, bidirectional=True), r"lstm_attention_heads=3.*= 16"),
    (dict(fusion="attention", fusion_heads=3), r"fusion_heads=3.*fusion_dim = 8"),
    (dict(fusion="sum"), r"fusion='sum'.*concat, attention, gated, bilinear"),
    (dict(activation="tanh"), r"activation='tanh'"),
    (dict(kernel_sizes="3,5"), r"kernel_sizes='3,5'"),
    (dict(classification_weight=1.5), r"classification_weight=1.5"),
])
def test_invalid_settings_fail_at_fit_with_a_clear_error(market, params, match):
    net = tiny(**params)  # constructing never fails: a search can still clone it
    with pytest.raises(ValueError, match=match):
        net.fit(market.X, market.y)


def test_bad_inputs_are_named(market):
    X = market.X.copy()
    X[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="does not accept missing values"):
        tiny().fit(X, market.y)
    with pytest.raises(ValueError, match=r"y of shape \(n_samples, 2\).*got shape"):
        tiny().fit(market.X, market.y[:, 0])
    assert parse_kernel_sizes("3-5-11") == (3, 5, 11) and parse_kernel_sizes(7) == (7,)
    with pytest.raises(NotFittedError):  # not AttributeError for the labels it has not seen
        tiny().predict(market.X)


def test_search_records_an_invalid_candidate_as_failed(market):
    search = GridSearchCV(tiny(max_epochs=1), {"cnn_attention_heads": [0, 3]}, cv=KFold(2),
                          scoring=multitask_scoring, refit="combined")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the failed fits
        search.fit(market.X, market.y)
    scores = search.cv_results_["mean_test_accuracy"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert search.best_params_ == {"cnn_attention_heads": 0}


# Fixed settings keep the default spaces' candidates tiny: one epoch on ~200 windows.
SEARCH_FIXED = {**TINY, "max_epochs": 1}


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_default_spaces_run_in_sklearn_and_skopt_searches(market, kind):
    family = skhyper.get_model("cnn-lstm")
    estimator = family.make_estimator(**SEARCH_FIXED)
    space = family.search_space(kind)
    common = dict(cv=KFold(2), scoring=multitask_scoring, refit="combined", error_score="raise")
    if kind == "grid":
        search = GridSearchCV(estimator, space, **common)
    elif kind == "random":
        search = RandomizedSearchCV(estimator, space, n_iter=2, random_state=0, **common)
    else:
        search = BayesSearchCV(estimator, space, n_iter=2, random_state=0, n_points=1, **common)
    search.fit(market.X, market.y)
    assert np.isfinite(search.cv_results_["mean_test_combined"]).all()
    assert search.best_estimator_.predict(market.X_test).shape == (len(market.X_test),)


def test_example_quick_mode_runs_the_seed_workflow(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "cnn_lstm_search.py"
    spec = importlib.util.spec_from_file_location("cnn_lstm_search", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    search, retrained = example.main(["--quick", "--top-k", "1"])
    assert len(search.cv_results_["params"]) == 2
    assert set(search.cv_results_) >= {f"mean_test_{name}" for name in multitask_scoring}
    # seed 001's three objectives, the size among them by default
    assert pareto_front(search, metric="combined").attrs["objectives"] == {
        "mean_test_combined": "max", "mean_fit_time": "min", "mean_test_n_parameters": "min"}
    assert len(retrained) == 1 and 0.0 <= retrained[0]["test_metrics"]["test_class_acc"] <= 1.0
    assert "retrained #1" in capsys.readouterr().out


def test_seq_len_reads_the_last_steps_of_each_window(market):
    cut = tiny(seq_len=5).fit(market.X, market.y)
    short = tiny().fit(market.X[:, -5:], market.y)
    np.testing.assert_array_equal(cut.predict_proba(market.X_test),
                                  short.predict_proba(market.X_test[:, -5:]))
    np.testing.assert_array_equal(cut.predict_regression(market.X_test),
                                  short.predict_regression(market.X_test[:, -5:]))
