"""Parameter checks whose errors name the bad value and what is allowed."""

import difflib
import math
import numbers


def check_choice(name, value, allowed):
    """Raise ValueError unless ``value`` is one of ``allowed`` (a suggestion when close)."""
    if value in allowed:
        return value
    names = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(value), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Invalid {name}={value!r}.{hint} Allowed: {', '.join(names)}.")


def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False,
                 integer=False, allow_none=False):
    """Raise ValueError unless ``value`` is a number in the stated range."""
    if value is None and allow_none:
        return value
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a number"
        none = " or None" if allow_none else ""
        raise ValueError(f"Invalid {name}={value!r}: expected {what}{none}.")
    if math.isinf(value):
        raise ValueError(f"Invalid {name}={value!r}: expected a finite number.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or value != value:  # value != value catches NaN
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        rng = " and ".join(part for part in (lo, hi) if part)
        raise ValueError(f"Invalid {name}={value!r}: must be {rng}.")
    return value


def is_fraction(value):
    """Whether ``value`` is a float (numpy's included), which scikit-learn's ``test_size``
    reads as a fraction of the samples; an int is a count."""
    return isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
