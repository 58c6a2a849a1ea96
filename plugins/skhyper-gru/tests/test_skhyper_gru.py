"""skhyper-gru's own behaviour: the ar-process windows and the GRU regressor."""

import numpy as np
import pytest
import torch

from skhyper_gru import GRURegressor, load_ar_process


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_windows_forecast_the_value_after_the_window():
    data = load_ar_process(n_steps=200, seq_len=5, stride=3, horizon=2, test_size=0.25)
    series = data.series
    assert data.X.shape[1:] == (5, 1) and data.X.dtype == np.float32
    np.testing.assert_allclose(data.X[2, :, 0], series[6:11], rtol=1e-6)
    assert data.y[2] == pytest.approx(series[12])
    # The test part comes from the last 50 steps only.
    np.testing.assert_allclose(data.X_test[0, :, 0], series[150:155], rtol=1e-6)


def test_same_seed_same_series_and_no_test_part_on_request():
    small = dict(n_steps=100, seq_len=5)
    a, b = load_ar_process(**small), load_ar_process(**small)
    np.testing.assert_array_equal(a.series, b.series)
    assert not np.array_equal(a.series, load_ar_process(**small, random_state=1).series)
    assert "X_test" not in load_ar_process(**small, test_size=0)


def test_invalid_parameters_name_the_value():
    with pytest.raises(ValueError, match=r"coefficients=\[1.2\].*not stationary"):
        load_ar_process(coefficients=[1.2])
    with pytest.raises(ValueError, match=r"coefficients=\[nan\]: expected a non-empty sequence "
                                         r"of finite numbers"):
        load_ar_process(coefficients=[float("nan")])
    with pytest.raises(ValueError, match=r"seq_len=0"):
        load_ar_process(seq_len=0)
    with pytest.raises(ValueError, match=r"too short for seq_len=50"):
        load_ar_process(n_steps=100, seq_len=50, test_size=0.5)


def test_gru_learns_the_autoregression():
    data = load_ar_process(n_steps=400, seq_len=10, noise_std=0.0)
    net = GRURegressor(hidden_size=8, max_epochs=5, lr=1e-2, random_state=0)
    net.fit(data.X, data.y)
    assert net.score(data.X_test, data.y_test) > 0.3  # AR(3) at noise 0: well predictable
    multi = GRURegressor(hidden_size=4, max_epochs=1, random_state=0)
    multi.fit(data.X, np.c_[data.y, -data.y])
    assert multi.predict(data.X_test).shape == (len(data.X_test), 2)


def test_bad_module_settings_are_reported_at_fit():
    data = load_ar_process(n_steps=100, seq_len=5)
    with pytest.raises(ValueError, match=r"hidden_size=0"):
        GRURegressor(hidden_size=0, max_epochs=1).fit(data.X, data.y)
    with pytest.raises(ValueError, match=r"Invalid bidirectional='yes'\. Allowed: True, False"):
        GRURegressor(bidirectional="yes", max_epochs=1).fit(data.X, data.y)


def test_seq_len_reads_the_last_steps():
    # Declared in the constructor, the window length is searchable as in skhyper's own nets.
    data = load_ar_process(n_steps=200, seq_len=10)
    cut = GRURegressor(hidden_size=4, max_epochs=1, seq_len=3, random_state=0)
    short = GRURegressor(hidden_size=4, max_epochs=1, random_state=0)
    np.testing.assert_array_equal(cut.fit(data.X, data.y).predict(data.X_test),
                                  short.fit(data.X[:, -3:], data.y).predict(data.X_test[:, -3:]))
