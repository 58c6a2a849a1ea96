"""Plain Python values for YAML, JSON and the store: one conversion for every writer."""

import math
import numbers

import numpy as np


def to_plain(value, *, nan_as_none=False):
    """``value`` as plain Python: numpy scalars and arrays unwrapped, tuples and sets as lists,
    classes and functions by their dotted name, anything else by its repr.

    Non-finite floats stay floats (JSON's NaN) unless ``nan_as_none``, which makes them None
    for strict JSON readers.
    """
    if isinstance(value, dict):
        return {str(k): to_plain(v, nan_as_none=nan_as_none) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_plain(v, nan_as_none=nan_as_none) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(to_plain(v, nan_as_none=nan_as_none) for v in value)
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return None if nan_as_none and not math.isfinite(value) else value
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)
