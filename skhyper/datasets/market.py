"""The ``market`` dataset (seed 001): synthetic multi-asset prices with market regimes.

A shared market factor switches between regimes (bull, bear, sideways, volatile), each with its
own drift and volatility, and follows an AR(1) process within them; every asset loads on the
factor with its own beta and adds idiosyncratic noise. From each asset's open/high/low/close and
volume come 11 features per step; a sample is a window of ``seq_len`` steps, and its targets are
the direction of the next period's return and that return itself. As in real markets the
direction is only weakly predictable: the signal is the regime's drift and the factor's
momentum, so a good model beats the majority class by a few points, not by tens.

Everything is vectorised numpy (no Python loop over time steps) and deterministic by
``random_state``. The test part is the last ``test_size`` of the time span: no test target
lies before, and no training target after, the split. Real prices come through the ``csv``
dataset family.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils import Bunch

from ..validation import check_number
from ..registry import DatasetFamily

FEATURE_NAMES = [
    "return",            # log return close-to-close, percent
    "intraday_return",   # log(close / open), percent
    "range",             # log(high / low), percent
    "close_position",    # where the close lies in the day's range, -0.5 (low) .. 0.5 (high)
    "volume_change",     # log(volume_t / volume_{t-1})
    "relative_volume",   # log(volume / 20-step mean volume)
    "sma5_gap",          # close / 5-step moving average - 1, percent
    "sma20_gap",         # close / 20-step moving average - 1, percent
    "rsi14",             # 14-step RSI (simple averages) / 100 - 0.5
    "volatility10",      # 10-step standard deviation of returns, percent
    "momentum10",        # log(close_t / close_{t-10}), percent
]
REGIMES = ("bull", "bear", "sideways", "volatile")
# Per-step drift and volatility of the market factor in each regime (log-return units).
_REGIME_DRIFT = np.array([0.002, -0.002, 0.0, 0.0])
_REGIME_VOL = np.array([0.008, 0.012, 0.005, 0.02])
_WARMUP = 20  # steps of history the longest rolling feature needs


def _regime_path(rng, n_steps, mean_duration):
    """Regime index per step: geometric durations, each switch to a different regime."""
    n_spells = n_steps // max(int(mean_duration), 1) * 4 + 2  # ample: trimmed to n_steps below
    durations = rng.geometric(1.0 / mean_duration, size=n_spells)
    shifts = rng.integers(1, len(REGIMES), size=n_spells)  # never "switch" to the same regime
    labels = (rng.integers(len(REGIMES)) + np.cumsum(shifts)) % len(REGIMES)
    path = np.repeat(labels, durations)
    while len(path) < n_steps:  # rare: the spells were short; add more of the same kind
        path = np.concatenate([path, _regime_path(rng, n_steps - len(path), mean_duration)])
    return path[:n_steps]


def _ar1(drive, phi):
    """``x_t = phi * x_{t-1} + drive_t`` as a convolution with the kernel ``phi ** k``.

    The kernel is cut where ``|phi| ** k`` falls below float64 resolution, so the result equals
    the recursion to rounding. (scipy.signal.lfilter would do the same but takes seconds to
    import, and every ``skhyper list`` imports this module.)
    """
    n_terms = 1 if phi == 0 else int(np.log(1e-17) / np.log(abs(phi))) + 1
    kernel = phi ** np.arange(min(n_terms, len(drive)))
    return np.convolve(drive, kernel)[: len(drive)]


def _prices(rng, regimes, n_assets, autocorrelation):
    """Open, high, low, close, volume arrays of shape (n_assets, n_steps)."""
    n_steps = len(regimes)
    drive = _REGIME_DRIFT[regimes] + _REGIME_VOL[regimes] * rng.standard_normal(n_steps)
    market = _ar1(drive, autocorrelation)
    beta = rng.uniform(0.6, 1.4, size=(n_assets, 1))
    idio_vol = rng.uniform(0.003, 0.008, size=(n_assets, 1))
    returns = beta * market + idio_vol * rng.standard_normal((n_assets, n_steps))
    close = 100.0 * np.exp(np.cumsum(returns, axis=1))
    step_vol = np.abs(beta) * _REGIME_VOL[regimes] + idio_vol
    previous = np.concatenate([close[:, :1], close[:, :-1]], axis=1)
    open_ = previous * np.exp(0.2 * step_vol * rng.standard_normal((n_assets, n_steps)))
    wick = np.abs(0.5 * step_vol * rng.standard_normal((2, n_assets, n_steps)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    # Volume rises with the size of the move and in volatile regimes.
    volume = 1e6 * np.exp(0.4 * rng.standard_normal((n_assets, n_steps))
                          + 30.0 * np.abs(returns) + 0.3 * (regimes == REGIMES.index("volatile")))
    return open_, high, low, close, volume


def _rolling_mean(a, window):
    """Trailing mean over ``window`` steps along the last axis; NaN where history is short."""
    out = np.full(a.shape, np.nan)
    out[..., window - 1:] = sliding_window_view(a, window, axis=-1).mean(axis=-1)
    return out


def _rolling_std(a, window):
    out = np.full(a.shape, np.nan)
    out[..., window - 1:] = sliding_window_view(a, window, axis=-1).std(axis=-1)
    return out


def _features(open_, high, low, close, volume):
    """The 11 features per step, shape (n_assets, n_steps, 11); NaN in the warm-up steps."""
    log_close = np.log(close)
    ret = np.diff(log_close, axis=1, prepend=np.nan)
    gains, losses = np.clip(ret, 0, None), np.clip(-ret, 0, None)
    avg_gain, avg_loss = _rolling_mean(gains, 14), _rolling_mean(losses, 14)
    with np.errstate(invalid="ignore", divide="ignore"):
        rsi = np.where(avg_gain + avg_loss > 0, avg_gain / (avg_gain + avg_loss), 0.5)
    rsi[np.isnan(avg_gain)] = np.nan
    log_volume = np.log(volume)
    momentum = np.full(close.shape, np.nan)
    momentum[:, 10:] = log_close[:, 10:] - log_close[:, :-10]
    features = [
        100 * ret,
        100 * np.log(close / open_),
        100 * np.log(high / low),
        (close - low) / (high - low) - 0.5,
        np.diff(log_volume, axis=1, prepend=np.nan),
        log_volume - np.log(_rolling_mean(volume, 20)),
        100 * (close / _rolling_mean(close, 5) - 1),
        100 * (close / _rolling_mean(close, 20) - 1),
        rsi - 0.5,
        100 * _rolling_std(ret, 10),
        100 * momentum,
    ]
    return np.stack(features, axis=-1)


def _targets(close, horizon, flat_band):
    """Next-period log return in percent and its direction class, shape (n_assets, n_steps)."""
    future = np.full(close.shape, np.nan)
    future[:, :-horizon] = 100 * (np.log(close[:, horizon:]) - np.log(close[:, :-horizon]))
    if flat_band is None:
        direction = (future > 0).astype(np.float64)  # 0 down, 1 up
    else:
        direction = np.where(future > flat_band, 2.0, np.where(future < -flat_band, 0.0, 1.0))
    return direction, future


def _windows(features, direction, future, ends, seq_len):
    """Windows ending at the steps ``ends``, ordered by time, then by asset."""
    n_assets = features.shape[0]
    windows = sliding_window_view(features, seq_len, axis=1)  # (A, S - L + 1, F, L)
    starts = ends - seq_len + 1
    X = windows[:, starts].transpose(1, 0, 3, 2)  # (T, A, L, F)
    y = np.stack([direction[:, ends].T, future[:, ends].T], axis=-1)  # (T, A, 2)
    asset = np.broadcast_to(np.arange(n_assets), (len(ends), n_assets))
    time = np.broadcast_to(ends[:, None], (len(ends), n_assets))
    return (X.reshape(-1, seq_len, features.shape[-1]).astype(np.float32),
            y.reshape(-1, 2).astype(np.float32), asset.ravel(), time.ravel())


def load_market(n_assets=4, n_steps=2000, seq_len=30, horizon=1, flat_band=None,
                test_size=0.2, stride=1, mean_regime_duration=60, autocorrelation=0.3,
                random_state=0):
    """Generate the synthetic market windows and a later held-out time span.

    Parameters
    ----------
    n_assets : int, default=4
        Number of assets sharing the market factor.
    n_steps : int, default=2000
        Time steps (trading periods) per asset.
    seq_len : int, default=30
        Steps per window.
    horizon : int, default=1
        Periods ahead of the window's last step that the targets look.
    flat_band : float or None, default=None
        None: two direction classes, 0 (down) and 1 (up). A value in percent: three classes,
        0 (return below ``-flat_band``), 1 (flat) and 2 (above ``flat_band``).
    test_size : float, default=0.2
        Fraction of the time span, at its end, held out as the test part.
    stride : int, default=1
        Steps between the ends of consecutive windows.
    mean_regime_duration : float, default=60
        Mean number of steps a regime lasts.
    autocorrelation : float, default=0.3
        AR(1) coefficient of the market factor, in (-1, 1).
    random_state : int, default=0

    Returns
    -------
    Bunch
        ``X`` (n, seq_len, 11) float32 and ``y`` (n, 2) float32, whose column 0 is the
        direction class and column 1 the next-period log return in percent; ``X_test``,
        ``y_test`` the same for the later time span. Samples are ordered by time, then by
        asset, so unshuffled K-fold splits are contiguous in time. Also ``task``
        ("multitask"), ``description``, ``feature_names``, ``target_names``, ``class_names``,
        ``asset``/``asset_test`` and ``time``/``time_test`` (asset index and window end step
        per sample), ``regimes`` (regime index per step) and ``regime_names``.
    """
    check_number("n_assets", n_assets, low=1, integer=True)
    check_number("seq_len", seq_len, low=1, integer=True)
    check_number("horizon", horizon, low=1, integer=True)
    check_number("flat_band", flat_band, low=0, low_open=True, allow_none=True)
    check_number("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    check_number("stride", stride, low=1, integer=True)
    check_number("mean_regime_duration", mean_regime_duration, low=1)
    check_number("autocorrelation", autocorrelation, low=-1, high=1, low_open=True,
                 high_open=True)
    check_number("random_state", random_state, low=0, integer=True)
    first_end = _WARMUP + seq_len - 1  # the first window whose features are all defined
    check_number("n_steps", n_steps, low=1, integer=True)
    split = int(round(n_steps * (1 - test_size)))
    if split - horizon <= first_end or n_steps - horizon <= max(split, first_end):
        raise ValueError(
            f"Invalid n_steps={n_steps}: too short for seq_len={seq_len}, horizon={horizon} "
            f"and test_size={test_size} (the features need {_WARMUP} warm-up steps); "
            f"use at least {int(np.ceil((first_end + 2 * horizon + 2) / (1 - test_size)))}"
            " steps or a shorter seq_len."
        )

    rng = np.random.default_rng(random_state)
    regimes = _regime_path(rng, n_steps, mean_regime_duration)
    open_, high, low, close, volume = _prices(rng, regimes, n_assets, autocorrelation)
    features = _features(open_, high, low, close, volume)
    direction, future = _targets(close, horizon, flat_band)

    # A training window's target (at end + horizon) lies before the split; test windows end at
    # or after it, so the two parts share no target.
    train_ends = np.arange(first_end, split - horizon, stride)
    test_ends = np.arange(max(split, first_end), n_steps - horizon, stride)
    X, y, asset, time = _windows(features, direction, future, train_ends, seq_len)
    X_test, y_test, asset_test, time_test = _windows(features, direction, future, test_ends,
                                                     seq_len)
    class_names = ["down", "up"] if flat_band is None else ["down", "flat", "up"]
    return Bunch(
        X=X, y=y, X_test=X_test, y_test=y_test, task="multitask",
        feature_names=list(FEATURE_NAMES), target_names=["direction", "next_return"],
        class_names=class_names, asset=asset, time=time, asset_test=asset_test,
        time_test=time_test, regimes=regimes, regime_names=list(REGIMES),
        description=(
            f"Synthetic market: {n_assets} assets x {n_steps} steps, regimes "
            f"{'/'.join(REGIMES)} (mean {mean_regime_duration:g} steps); {len(X)} training and "
            f"{len(X_test)} test windows of {seq_len} steps x {len(FEATURE_NAMES)} features; "
            f"targets: direction ({'/'.join(class_names)}) and next {horizon}-step log return "
            "in percent."
        ),
    )


family = DatasetFamily(
    name="market",
    loader=load_market,
    task="multitask",
    description="Synthetic multi-asset prices with regimes; windows of 11 features, direction "
                "and next-return targets (seed 001)",
)
