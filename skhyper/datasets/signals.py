"""The ``sine-mixture`` dataset (seed 002): pull one sinusoid out of a noisy mixture.

The signal is the mean of sinusoids ``sin(2 pi f_i t + phi_i)`` plus Gaussian noise. Each sample is
a window of ``seq_len`` steps whose per-step input is ``[mixed value, one-hot selector]``; the
target is the clean selected component at the window's last step (or at every step). Windows are
ordered by time, then by selector, so unshuffled K-fold splits are contiguous in time. The test
part uses the same clean components under independently drawn noise.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils import Bunch

from ..validation import check_choice, check_number
from ..registry import DatasetFamily

TARGETS = ("last", "sequence")


def _windows(mixed, components, seq_len, stride, target):
    """Vectorised windows: X (n_windows * n_components, seq_len, 1 + n_components), y."""
    n_comp = len(components)
    mixed_w = sliding_window_view(mixed, seq_len)[::stride]  # (W, L)
    comp_w = sliding_window_view(components, seq_len, axis=1)[:, ::stride]  # (C, W, L)
    n_win = mixed_w.shape[0]
    X = np.zeros((n_win, n_comp, seq_len, 1 + n_comp), dtype=np.float32)
    X[..., 0] = mixed_w[:, None, :]
    X[:, np.arange(n_comp), :, 1 + np.arange(n_comp)] = 1.0
    targets = comp_w.transpose(1, 0, 2)  # (W, C, L)
    y = targets[..., -1] if target == "last" else targets
    return X.reshape(n_win * n_comp, seq_len, 1 + n_comp), \
        y.reshape(n_win * n_comp, *y.shape[2:]).astype(np.float32)


def load_sine_mixture(frequencies=(1.0, 3.0, 5.0, 7.0),
                      phases=(0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4),
                      noise_std=0.1, duration=10.0, sampling_rate=1000, seq_len=50, stride=1,
                      target="last", random_state=0):
    """Generate the sine-mixture windows and a held-out part.

    Parameters
    ----------
    frequencies : sequence of float, default=(1, 3, 5, 7)
        Component frequencies in Hz; all below the Nyquist frequency ``sampling_rate / 2``.
    phases : sequence of float, default=(0, pi/4, pi/2, 3pi/4)
        Phase offsets in radians, one per frequency.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise added to the mixture.
    duration : float, default=10.0
        Seconds of signal.
    sampling_rate : int, default=1000
        Samples per second.
    seq_len : int, default=50
        Steps per window.
    stride : int, default=1
        Steps between consecutive windows.
    target : {"last", "sequence"}, default="last"
        The clean component at the last step, or at every step of the window.
    random_state : int, default=0
        Seeds the training noise; the test noise uses an independent stream of the same seed.

    Returns
    -------
    Bunch
        ``X`` (n, seq_len, 1 + n_components) float32, ``y``, ``X_test``, ``y_test``, ``task``,
        ``description``, ``feature_names``, ``frequencies``, ``time``.
    """
    frequencies = np.asarray(frequencies, dtype=float)
    phases = np.asarray(phases, dtype=float)
    if frequencies.ndim != 1 or len(frequencies) < 1:
        raise ValueError(f"Invalid frequencies={frequencies!r}: expected a non-empty sequence.")
    if phases.shape != frequencies.shape:
        raise ValueError(
            f"Invalid phases: {len(phases)} phase(s) for {len(frequencies)} frequencies; "
            "give one phase per frequency."
        )
    check_number("noise_std", noise_std, low=0)
    check_number("duration", duration, low=0, low_open=True)
    check_number("sampling_rate", sampling_rate, low=1, integer=True)
    check_number("seq_len", seq_len, low=1, integer=True)
    check_number("stride", stride, low=1, integer=True)
    check_choice("target", target, TARGETS)
    check_number("random_state", random_state, low=0, integer=True)
    nyquist = sampling_rate / 2
    if not np.isfinite(phases).all():
        raise ValueError(f"Invalid phases={phases.tolist()}: each must be a finite number.")
    if not ((frequencies > 0) & (frequencies < nyquist)).all():  # NaN included
        raise ValueError(
            f"Invalid frequencies={frequencies.tolist()}: each must be > 0 and below the "
            f"Nyquist frequency {nyquist} Hz (sampling_rate / 2)."
        )
    n_steps = int(round(duration * sampling_rate))
    if n_steps < seq_len:
        raise ValueError(
            f"Invalid seq_len={seq_len}: longer than the {n_steps} samples of the signal "
            "(duration * sampling_rate)."
        )

    time = np.arange(n_steps) / sampling_rate
    components = np.sin(2 * np.pi * frequencies[:, None] * time + phases[:, None])
    clean = components.mean(axis=0)
    train_rng, test_rng = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(random_state).spawn(2))
    mixed = clean + train_rng.normal(0.0, noise_std, n_steps)
    mixed_test = clean + test_rng.normal(0.0, noise_std, n_steps)

    X, y = _windows(mixed, components, seq_len, stride, target)
    X_test, y_test = _windows(mixed_test, components, seq_len, stride, target)
    names = ["mixed"] + [f"select_{f:g}hz" for f in frequencies]
    return Bunch(
        X=X, y=y, X_test=X_test, y_test=y_test, task="regression",
        feature_names=names, frequencies=frequencies, time=time,
        description=(
            f"Sine mixture of {len(frequencies)} components "
            f"({', '.join(f'{f:g}' for f in frequencies)} Hz), noise std {noise_std:g}, "
            f"{duration:g} s at {sampling_rate} Hz; "
            f"{len(X)} windows of {seq_len} steps, stride {stride}; target: the selected clean "
            f"component ({target})."
        ),
    )


family = DatasetFamily(
    name="sine-mixture",
    loader=load_sine_mixture,
    task="regression",
    description="Noisy mixture of sinusoids; extract the selected clean component (seed 002)",
)
