"""How parameter values are shown, grouped and encoded (shared by the guide, importance and
plots)."""

import numbers

import numpy as np
import pandas as pd

# A positive numeric parameter spanning this ratio or more is shown on a log axis.
LOG_RATIO = 10.0
# A numeric parameter with more distinct values than this is grouped into quantile bins.
MAX_LEVELS = 8


def format_value(value):
    """Short display text: 4 significant digits for floats, ``str`` otherwise."""
    if isinstance(value, float) and np.isnan(value):
        return "n/a"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return f"{value:.4g}"
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def is_numeric(series):
    """Whether a parameter column holds numbers (NaN where not applicable)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def is_log_spaced(series):
    """Positive numbers spanning a factor of ``LOG_RATIO`` or more (learning rates, decays)."""
    if not is_numeric(series):
        return False
    values = series.dropna().astype(float)
    return len(values.unique()) >= 2 and (values > 0).all() and \
        values.max() / values.min() >= LOG_RATIO


def as_labels(series):
    """Values as display strings, so None, tuples and mixed types group cleanly."""
    return series.map(format_value)


def levels(series, max_levels=MAX_LEVELS):
    """Group keys for a parameter: its values (as labels) or, for a numeric parameter with more
    than ``max_levels`` distinct values, quantile bins; returns (keys, ordered level names)."""
    if is_numeric(series) and series.nunique() > max_levels:
        values = series.astype(float)
        edges = np.unique(np.nanquantile(np.log(values) if is_log_spaced(series) else values,
                                         np.linspace(0, 1, 5)))
        if is_log_spaced(series):
            edges = np.exp(edges)
        edges[0], edges[-1] = values.min(), values.max()
        names = _bin_names(edges)
        keys = pd.cut(values, edges, labels=names, include_lowest=True).astype(object)
        return keys, names
    if is_numeric(series):
        order = sorted(series.dropna().unique())
        names = [format_value(v) for v in order]
        return as_labels(series), names
    keys = as_labels(series)
    return keys, list(dict.fromkeys(keys))


def _bin_names(edges):
    """"low–high" per bin, with as many significant digits as it takes to tell the bins apart
    (3 unless values agree further, e.g. Adam's beta2 in 0.999-0.9999)."""
    for digits in range(3, 18):
        names = [f"{lo:.{digits}g}–{hi:.{digits}g}" for lo, hi in zip(edges, edges[1:])]
        if len(set(names)) == len(names):
            return names
    return names


def encode(series):
    """A numeric column for a model of the results: numbers as they are, other values as
    integer codes (NaN where the parameter did not apply)."""
    if is_numeric(series):
        return series.astype(float)
    codes, _ = pd.factorize(series.map(format_value))
    return pd.Series(codes, index=series.index, dtype=float)
