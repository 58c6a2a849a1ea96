"""The sine-mixture dataset of seed 002."""

import numpy as np
import pytest

import skhyper


def test_default_size_matches_seed_002():
    data = skhyper.load_dataset("sine-mixture")
    # 10 s at 1000 Hz, windows of 50 with stride 1, four selectors: (10000 - 50 + 1) * 4.
    assert data.X.shape == (39804, 50, 5) and data.y.shape == (39804,)
    assert data.X_test.shape == data.X.shape
    assert data.task == "regression" and "4 components" in data.description


def test_inputs_are_mixture_and_one_hot_selector_and_target_is_clean_component():
    data = skhyper.load_dataset("sine-mixture", duration=1.0, sampling_rate=100, seq_len=10,
                                stride=3)
    n_comp = 4
    # Windows are ordered by time, then selector: window w, selector c sits at row w * 4 + c.
    selectors = data.X[:, :, 1:]
    np.testing.assert_array_equal(selectors.argmax(-1)[:, 0],
                                  np.tile(np.arange(n_comp), len(data.X) // n_comp))
    assert (selectors.sum(-1) == 1).all()
    # Target: sin(2 pi f t + phi) of the selected component at the window's last step.
    t_last = (np.arange(len(data.X) // n_comp) * 3 + 9) / 100
    f, phi = np.array([1, 3, 5, 7.0]), np.array([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])
    expected = np.sin(2 * np.pi * f * t_last[:, None] + phi).ravel()
    np.testing.assert_allclose(data.y, expected, atol=1e-6)
    # The mixture is the same for all four selectors of a window.
    assert np.all(data.X[0::4, :, 0] == data.X[1::4, :, 0])


def test_deterministic_by_seed_and_test_noise_independent():
    a = skhyper.load_dataset("sine-mixture", duration=1.0, random_state=1)
    b = skhyper.load_dataset("sine-mixture", duration=1.0, random_state=1)
    c = skhyper.load_dataset("sine-mixture", duration=1.0, random_state=2)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    # Same clean targets, independently drawn noise on the test part.
    np.testing.assert_array_equal(a.y, a.y_test)
    noise, noise_test = a.X[0::4, -1, 0] - a.y.reshape(-1, 4).mean(1), \
        a.X_test[0::4, -1, 0] - a.y.reshape(-1, 4).mean(1)
    assert abs(np.corrcoef(noise, noise_test)[0, 1]) < 0.1
    assert noise.std() == pytest.approx(0.1, rel=0.1)


def test_sequence_target():
    data = skhyper.load_dataset("sine-mixture", duration=0.5, seq_len=20, stride=10,
                                target="sequence")
    assert data.y.shape == (len(data.X), 20)


@pytest.mark.parametrize("params,message", [
    ({"frequencies": (1.0, 600.0), "phases": (0, 0)}, r"below the Nyquist frequency 500\.0 Hz"),
    ({"phases": (0.0,)}, r"1 phase\(s\) for 4 frequencies"),
    ({"seq_len": 20000}, r"Invalid seq_len=20000: longer than the 10000 samples"),
    ({"stride": 0}, r"Invalid stride=0: must be >= 1"),
    ({"noise_std": -1}, r"Invalid noise_std=-1: must be >= 0"),
    ({"noise_std": float("inf")}, r"Invalid noise_std=inf: expected a finite number"),
    ({"frequencies": (float("nan"),), "phases": (0,)}, r"frequencies=\[nan\]: each must be"),
    ({"frequencies": (1.0,), "phases": (float("nan"),)}, r"Invalid phases=\[nan\]: each must"),
    ({"target": "first"}, r"Invalid target='first'.* Allowed: last, sequence"),
])
def test_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        skhyper.load_dataset("sine-mixture", **params)
