"""The ``market`` dataset family: shapes, targets, time split, determinism, errors."""

import numpy as np
import pytest

import skhyper
from skhyper.datasets.market import FEATURE_NAMES, load_market

SMALL = dict(n_assets=2, n_steps=300, seq_len=10)


@pytest.fixture(scope="module")
def market():
    return load_market(**SMALL)


def test_registered_bunch(market):
    data = skhyper.load_dataset("market", **SMALL)
    assert "market" in skhyper.list_datasets()
    assert data.task == "multitask" and skhyper.get_dataset("market").task == "multitask"
    assert data.X.shape[1:] == (10, 11) and data.X_test.shape[1:] == (10, 11)
    assert data.y.shape == (len(data.X), 2) and data.y_test.shape == (len(data.X_test), 2)
    assert data.X.dtype == np.float32 and data.y.dtype == np.float32
    assert data.feature_names == FEATURE_NAMES and len(FEATURE_NAMES) == 11
    assert data.target_names == ["direction", "next_return"]
    assert "2 assets" in data.description
    assert np.isfinite(data.X).all() and np.isfinite(data.X_test).all()
    assert np.isfinite(data.y).all() and np.isfinite(data.y_test).all()


def test_deterministic_by_seed(market):
    again = load_market(**SMALL)
    np.testing.assert_array_equal(market.X, again.X)
    np.testing.assert_array_equal(market.y_test, again.y_test)
    other = load_market(**SMALL, random_state=1)
    assert not np.allclose(market.X, other.X)


def test_test_part_is_a_later_time_span(market):
    # Every training target (at end + horizon) precedes every test window's end.
    assert market.time.max() + 1 < market.time_test.min()
    assert np.all(np.diff(market.time) >= 0)  # ordered by time, then asset
    assert set(market.asset) == {0, 1}


def test_targets_are_the_next_return_and_its_direction(market):
    direction, future = market.y[:, 0], market.y[:, 1]
    np.testing.assert_array_equal(direction, (future > 0).astype(np.float32))
    # The next window of the same asset (stride 1) ends one step later; its last "return"
    # feature is exactly this window's regression target, which the window itself never sees.
    for i in range(0, len(market.X) - 2 * SMALL["n_assets"], 37):
        j = i + SMALL["n_assets"]
        assert market.asset[j] == market.asset[i] and market.time[j] == market.time[i] + 1
        assert market.X[j, -1, 0] == pytest.approx(future[i], abs=1e-4)
        assert market.X[i, -1, 0] != pytest.approx(future[i], abs=1e-4)


def test_three_classes_with_a_flat_band():
    data = load_market(**SMALL, flat_band=0.5)
    direction, future = data.y[:, 0], data.y[:, 1]
    assert data.class_names == ["down", "flat", "up"]
    assert set(np.unique(direction)) == {0.0, 1.0, 2.0}
    np.testing.assert_array_equal(direction == 2, future > 0.5)
    np.testing.assert_array_equal(direction == 0, future < -0.5)


def test_bounded_features_and_regimes(market):
    columns = {name: market.X[..., k] for k, name in enumerate(FEATURE_NAMES)}
    for name in ("close_position", "rsi14"):
        assert columns[name].min() >= -0.5 and columns[name].max() <= 0.5
    assert columns["range"].min() >= 0 and columns["volatility10"].min() >= 0
    assert market.regimes.shape == (300,)
    assert set(np.unique(market.regimes)) <= set(range(len(market.regime_names)))


def test_horizon_and_stride_shape_the_windows():
    data = load_market(**SMALL, horizon=3, stride=2)
    assert np.all(np.diff(np.unique(data.time)) == 2)
    assert data.time.max() + 3 < data.time_test.min()


@pytest.mark.parametrize("params, match", [
    (dict(n_steps=30), "n_steps=30: too short"),
    (dict(flat_band=-1.0), "flat_band=-1.0"),
    (dict(test_size=1.0), r"Invalid test_size=1\.0: must be > 0 and < 1"),
    (dict(autocorrelation=1.0), "autocorrelation=1.0"),
    (dict(seq_len=0), "seq_len=0"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        load_market(**{**SMALL, **params})
