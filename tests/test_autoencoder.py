"""The ``autoencoder`` family: hidden-layer codes, masked loss, transformer API, searches."""

import json
import pickle
import runpy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skopt import BayesSearchCV

import skhyper
from conftest import requires_cuda
from skhyper.models.autoencoder import (
    Autoencoder,
    MaskedMSELoss,
    hidden_layer_configs,
    parse_hidden_layers,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "autoencoder_hidden_dims.py"


@pytest.fixture(scope="module")
def tiny_tabular():
    """160 training rows x 10 features, 20% missing."""
    return skhyper.load_dataset("sparse-tabular", n_samples=200, n_features=10)


@pytest.fixture
def tiny_autoencoder():
    defaults = dict(latent_dim=2, hidden_layers="8", max_epochs=2, random_state=0)

    def make(**params):
        return skhyper.make_estimator("autoencoder", **{**defaults, **params})

    return make


# --- hidden-layer codes -----------------------------------------------------------------------

def test_hidden_layer_configs_lists_every_non_increasing_config_by_depth():
    assert hidden_layer_configs((32, 16), max_layers=2) == ["16", "32", "16-16", "32-16", "32-32"]
    configs = hidden_layer_configs((16, 32, 64), max_layers=3)
    assert len(configs) == 3 + 6 + 10 == len(set(configs))
    for code in configs:
        sizes = parse_hidden_layers(code)
        assert list(sizes) == sorted(sizes, reverse=True)


@pytest.mark.parametrize("sizes, max_layers, match", [
    ((16, 0), 2, r"sizes \(each\)=0"),
    ((), 2, "at least one"),
    ((16,), 0, "max_layers=0"),
    ("abc", 2, "sizes"),
])
def test_hidden_layer_configs_rejects_bad_input(sizes, max_layers, match):
    with pytest.raises(ValueError, match=match):
        hidden_layer_configs(sizes, max_layers)


def test_parse_hidden_layers():
    assert parse_hidden_layers("64-32") == (64, 32)
    assert parse_hidden_layers("") == ()
    for bad in ("64-x", "64--32", "0", [64, 32]):
        with pytest.raises(ValueError, match="Invalid hidden_layers="):
            parse_hidden_layers(bad)


# --- module and loss --------------------------------------------------------------------------

def test_module_follows_the_code_with_layer_norm_dropout_and_xavier():
    net = Autoencoder(latent_dim=3, hidden_layers="16-8", dropout=0.2, random_state=0)
    net.n_features_in_ = 10
    net.initialize()
    linears = [m for m in net.module_.modules() if isinstance(m, torch.nn.Linear)]
    shapes = [(m.in_features, m.out_features) for m in linears]
    assert shapes == [(10, 16), (16, 8), (8, 3), (3, 8), (8, 16), (16, 10)]
    norms = [m.normalized_shape for m in net.module_.modules()
             if isinstance(m, torch.nn.LayerNorm)]
    assert norms == [(16,), (8,), (8,), (16,)]
    dropouts = [m.p for m in net.module_.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropouts == [0.2] * 4
    first = linears[0]
    # Xavier-uniform bound sqrt(6 / (fan_in + fan_out)) exceeds torch's default 1/sqrt(fan_in).
    assert first.weight.abs().max() > 1 / np.sqrt(10)
    assert first.weight.abs().max() <= np.sqrt(6 / 26)
    assert all((m.bias == 0).all() for m in linears)

    plain = Autoencoder(hidden_layers="16", layer_norm=False)
    plain.n_features_in_ = 10
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in plain.initialize().module_.modules())


def test_masked_loss_ignores_missing_targets():
    y_pred = torch.tensor([[1.0, 5.0], [2.0, 0.0]], requires_grad=True)
    y_true = torch.tensor([[0.0, float("nan")], [4.0, float("nan")]])
    loss = MaskedMSELoss()(y_pred, y_true)
    assert loss.item() == pytest.approx((1 + 4) / 2)
    loss.backward()
    assert torch.isfinite(y_pred.grad).all()
    assert (y_pred.grad[:, 1] == 0).all()  # missing entries receive no gradient
    assert MaskedMSELoss()(y_pred, torch.full((2, 2), float("nan"))).item() == 0


def test_training_with_missing_values_is_finite_and_uses_adamw_cosine(tiny_tabular,
                                                                      tiny_autoencoder):
    assert np.isnan(tiny_tabular.X).any()
    net = tiny_autoencoder().fit(tiny_tabular.X)
    losses = net.history[:, ("train_loss", "valid_loss")]
    assert np.isfinite(losses).all()
    assert isinstance(net.optimizer_, torch.optim.AdamW)
    # Cosine annealing over max_epochs ends at eta_min.
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-6)
    net.partial_fit(tiny_tabular.X, epochs=1)
    assert net.n_epochs_ == 3


# --- transformer API --------------------------------------------------------------------------

def test_transform_inverse_transform_predict_and_score(tiny_tabular, tiny_autoencoder):
    X = tiny_tabular.X
    net = tiny_autoencoder()
    assert net.fit(X, y=np.arange(len(X))) is net  # y is ignored
    Z = net.transform(X)
    assert Z.shape == (len(X), 2) and np.isfinite(Z).all()
    reconstruction = net.inverse_transform(Z)
    assert reconstruction.shape == X.shape
    np.testing.assert_allclose(net.predict(X), reconstruction, rtol=1e-5, atol=1e-6)
    observed = ~np.isnan(X)
    expected = -np.mean((reconstruction[observed] - X[observed]) ** 2)
    assert net.score(X) == pytest.approx(expected, rel=1e-4)
    # A missing entry reads as 0 in the encoder.
    np.testing.assert_allclose(Z, net.transform(np.nan_to_num(X, nan=0.0)), atol=1e-6)
    np.testing.assert_allclose(net.fit_transform(X), net.transform(X), atol=1e-6)


def test_transformer_errors_name_the_problem(tiny_tabular, tiny_autoencoder):
    with pytest.raises(NotFittedError):
        tiny_autoencoder().transform(tiny_tabular.X)
    net = tiny_autoencoder(max_epochs=1).fit(tiny_tabular.X)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        net.inverse_transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="fitted with 10"):
        net.transform(tiny_tabular.X[:, :4])
    with pytest.raises(ValueError, match="no observed entries"):
        tiny_autoencoder().fit(np.full((20, 4), np.nan))
    with pytest.raises(ValueError, match="0 samples"):
        net.transform(np.empty((0, 10)))


@requires_cuda
def test_trains_and_transforms_on_cuda(tiny_tabular, tiny_autoencoder):
    net = tiny_autoencoder(device="cuda").fit(tiny_tabular.X)
    assert next(net.module_.parameters()).is_cuda
    Z = net.transform(tiny_tabular.X)
    assert isinstance(Z, np.ndarray) and np.isfinite(Z).all()
    assert net.inverse_transform(Z).shape == tiny_tabular.X.shape
    assert np.isfinite(net.score(tiny_tabular.X_test))


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layers="16-x"), "hidden_layers='16-x'"),
    (dict(latent_dim=0), "latent_dim=0"),
    (dict(activation="rellu"), "Did you mean 'relu'"),
    (dict(dropout=1.0), "dropout=1"),
])
def test_bad_parameters_raise_at_fit(tiny_tabular, tiny_autoencoder, params, match):
    with pytest.raises(ValueError, match=match):
        tiny_autoencoder(**params).fit(tiny_tabular.X)


def test_pipeline_and_pandas_output(tiny_tabular, tiny_autoencoder):
    pipe = make_pipeline(StandardScaler(), tiny_autoencoder()).set_output(transform="pandas")
    frame = pd.DataFrame(tiny_tabular.X, columns=tiny_tabular.feature_names)
    latent = pipe.fit_transform(frame)
    assert isinstance(latent, pd.DataFrame)
    assert list(latent.columns) == ["autoencoder0", "autoencoder1"]
    assert latent.index.equals(frame.index)
    assert np.isfinite(latent.to_numpy()).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fitted on the scaler's named columns, scored on them
        assert pipe.score(frame) < 0
    net = pipe[-1]
    with pytest.warns(UserWarning, match="X does not have valid feature names") as caught:
        net.score(np.asarray(pipe[0].transform(frame)))
    assert len(caught) == 1
    # set_output is state that clone keeps, not a constructor parameter.
    net = tiny_autoencoder().set_output(transform="pandas")
    assert "_sklearn_output_config" not in net.get_params()
    assert isinstance(clone(net).fit(tiny_tabular.X).transform(tiny_tabular.X), pd.DataFrame)


def test_clone_and_pickle(tiny_tabular, tiny_autoencoder):
    net = tiny_autoencoder(hidden_layers="16-8", dropout=0.0)
    assert clone(net).get_params()["hidden_layers"] == "16-8"
    net.fit(tiny_tabular.X)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.transform(tiny_tabular.X),
                                  net.transform(tiny_tabular.X))


def test_same_seed_same_model(tiny_tabular, tiny_autoencoder):
    a = tiny_autoencoder().fit(tiny_tabular.X).transform(tiny_tabular.X_test)
    b = tiny_autoencoder().fit(tiny_tabular.X).transform(tiny_tabular.X_test)
    np.testing.assert_array_equal(a, b)


# --- registry and searches with the declared default spaces -----------------------------------

def test_registered_as_unsupervised_family():
    family = skhyper.get_model("autoencoder")
    assert "autoencoder" in skhyper.list_models()
    assert family.task == "unsupervised"
    assert family.search_space("grid")["hidden_layers"] == hidden_layer_configs((16, 32, 64), 2)
    assert isinstance(skhyper.make_estimator("autoencoder"), Autoencoder)


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_default_space_searches_with_no_scoring(tiny_tabular, tiny_autoencoder, kind):
    space = skhyper.get_model("autoencoder").search_space(kind)
    estimator = tiny_autoencoder(max_epochs=1)
    cv = KFold(2)
    if kind == "grid":
        search = GridSearchCV(estimator, space, cv=cv)
    elif kind == "random":
        search = RandomizedSearchCV(estimator, space, n_iter=3, cv=cv, random_state=0)
    else:
        search = BayesSearchCV(estimator, space, n_iter=3, cv=cv, random_state=0)
    search.fit(tiny_tabular.X)  # NaN entries included; the score is the masked reconstruction
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == (9 if kind == "grid" else 3)
    assert np.isfinite(scores).all() and (scores < 0).all()
    assert search.best_score_ == np.max(scores)
    assert search.best_estimator_.hidden_layers == search.best_params_["hidden_layers"]
    assert np.isfinite(search.score(tiny_tabular.X_test))


# --- example ----------------------------------------------------------------------------------

def test_example_quick_run_writes_the_seed_outputs(tmp_path):
    main = runpy.run_path(str(EXAMPLE))["main"]
    report = main(["--quick", "--out", str(tmp_path), "--save_models"])
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"hyperparam_search_latent2.png", "config_performance_latent2.png",
                     "latent_space_2d_best_config.png", "hyperparam_results_latent2.json",
                     "best_model_latent2.pt"}
    saved = json.loads((tmp_path / "hyperparam_results_latent2.json").read_text())
    assert saved["total_configurations"] == len(hidden_layer_configs((8, 16), 2)) == 5
    best = saved["best_configuration"]
    assert best["cv_loss"] == min(r["cv_loss"] for r in saved["all_results"])
    assert best["model_params"] > 0 and np.isfinite(best["final_test_loss"])
    assert best["config"] == list(parse_hidden_layers(best["hidden_layers"]))
    assert report["best_configuration"]["hidden_layers"] == best["hidden_layers"]
