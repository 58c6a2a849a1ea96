"""The ``ar-process`` dataset family: forecast a noisy autoregressive series.

A latent AR(p) process ``x_t = a_1 x_{t-1} + ... + a_p x_{t-p} + e_t`` is observed with
measurement noise. Each sample is a window of ``seq_len`` observations; the target is the
observation ``horizon`` steps after the window's last step. The test part is a later stretch of the
same series, so a model is judged on the future of what it was trained on.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import lfilter
from sklearn.utils import Bunch

from skhyper import DatasetFamily
from skhyper.validation import check_number

BURN_IN = 200  # steps dropped so the series forgets its zero start


def _forecast_windows(series, seq_len, stride, horizon):
    """X (n, seq_len, 1) windows and y, the value ``horizon`` steps after each window."""
    n_windows = len(series) - seq_len - horizon + 1
    if n_windows < 1:
        raise ValueError(
            f"A part of {len(series)} steps is too short for seq_len={seq_len} and "
            f"horizon={horizon}; use a larger n_steps or a smaller test_size."
        )
    X = sliding_window_view(series[:n_windows + seq_len - 1], seq_len)[::stride]
    y = series[seq_len - 1 + horizon:][:n_windows][::stride]
    return X[..., None].astype(np.float32), y.astype(np.float32)


def load_ar_process(coefficients=(0.6, -0.2, 0.3), innovation_std=1.0, noise_std=0.3,
                    n_steps=2000, seq_len=20, stride=1, horizon=1, test_size=0.2,
                    random_state=0):
    """Generate the series and cut it into forecasting windows.

    Parameters
    ----------
    coefficients : sequence of float, default=(0.6, -0.2, 0.3)
        AR coefficients ``a_1 .. a_p``; the process must be stationary (every root of
        ``z^p - a_1 z^(p-1) - ... - a_p`` inside the unit circle).
    innovation_std : float, default=1.0
        Standard deviation of the AR innovations ``e_t``.
    noise_std : float, default=0.3
        Standard deviation of the measurement noise added to the observations.
    n_steps : int, default=2000
        Length of the observed series (training and test parts together).
    seq_len : int, default=20
        Observations per window.
    stride : int, default=1
        Steps between consecutive windows.
    horizon : int, default=1
        How many steps ahead of the window the target lies.
    test_size : float, default=0.2
        Fraction of the series, at its end, cut into the test windows; 0 holds out nothing.
    random_state : int, default=0
        Seeds the innovations and the noise.

    Returns
    -------
    Bunch
        ``X`` (n, seq_len, 1) float32, ``y`` (n,), ``X_test``, ``y_test`` (when test_size > 0),
        ``series`` (the observations), ``task``, ``description``, ``feature_names``.
    """
    coefficients = np.asarray(coefficients, dtype=float)
    if coefficients.ndim != 1 or len(coefficients) == 0 or not np.isfinite(coefficients).all():
        raise ValueError(f"Invalid coefficients={coefficients.tolist()}: expected a non-empty "
                         "sequence of finite numbers.")
    roots = np.abs(np.roots(np.r_[1.0, -coefficients]))
    if (roots >= 1).any():
        raise ValueError(
            f"Invalid coefficients={coefficients.tolist()}: the AR process is not stationary "
            f"(largest characteristic root modulus {roots.max():.3g}, must be < 1)."
        )
    for name, value, low in (("n_steps", n_steps, 2), ("seq_len", seq_len, 1),
                             ("stride", stride, 1), ("horizon", horizon, 1),
                             ("random_state", random_state, 0)):
        check_number(name, value, low=low, integer=True)
    check_number("innovation_std", innovation_std, low=0)
    check_number("noise_std", noise_std, low=0)
    check_number("test_size", test_size, low=0, high=1, high_open=True)

    rng = np.random.default_rng(random_state)
    innovations = rng.normal(0.0, innovation_std, BURN_IN + n_steps)
    latent = lfilter([1.0], np.r_[1.0, -coefficients], innovations)[BURN_IN:]
    series = latent + rng.normal(0.0, noise_std, n_steps)

    n_test = int(round(n_steps * test_size))
    X, y = _forecast_windows(series[:n_steps - n_test], seq_len, stride, horizon)
    data = dict(X=X, y=y)
    if n_test:
        data["X_test"], data["y_test"] = _forecast_windows(series[n_steps - n_test:], seq_len,
                                                           stride, horizon)
    return Bunch(
        **data, series=series, task="regression", feature_names=["observed"],
        description=(
            f"AR({len(coefficients)}) process, coefficients {coefficients.tolist()}, "
            f"measurement noise std {noise_std:g}; {len(X)} windows of {seq_len} steps, "
            f"forecast {horizon} step(s) ahead; the last {n_test} steps are the test part."
        ),
    )


family = DatasetFamily(
    name="ar-process",
    loader=load_ar_process,
    task="regression",
    description="Noisy autoregressive series; forecast the next value (plugin skhyper-gru)",
)
