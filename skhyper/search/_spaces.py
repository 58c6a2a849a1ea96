"""Search-space conversions between the forms scikit-learn and skopt take.

One ``param_space`` serves every sampler: a dict whose values are lists (categorical choices),
scipy.stats frozen distributions (``uniform``, ``loguniform``, ``randint``) or skopt dimensions
(``Real``, ``Integer``, ``Categorical``). A single-element list fixes a parameter.
"""

import copy
import numbers

import numpy as np


def python_value(value):
    """A numpy scalar as the matching Python scalar (params must be plain for YAML and stores)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_skopt_dimension(value):
    return type(value).__module__.startswith("skopt.")


def _is_distribution(value):
    return hasattr(value, "rvs") and hasattr(value, "dist") and hasattr(value, "support")


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _as_tuples(value):
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list) else value


def to_skopt_dimension(name, value):
    """Convert one space entry to a skopt dimension."""
    from skopt.space import Categorical, Integer, Real

    if _is_skopt_dimension(value):
        # A copy: skopt's Space sets transformers on its dimensions, and fit must not change
        # the user's param_space (later random draws from it would differ).
        return copy.deepcopy(value)
    if isinstance(value, (list, tuple)):
        unhashable = [choice for choice in value if not _hashable(choice)]
        if unhashable:  # skopt's and Optuna's encoders look the choices up
            raise ValueError(
                f"Invalid search-space entry {name}={value!r}: the bayes, tpe and finetune "
                f"samplers need hashable choices, and {unhashable[0]!r} is not; encode it as "
                f"a scalar the estimator parses (e.g. '64-32'), or write it as a tuple, e.g. "
                f"{_as_tuples(unhashable[0])!r}."
            )
        return Categorical(list(value), name=name)
    if _is_distribution(value):
        low, high = (python_value(v) for v in value.support())
        kind = value.dist.name
        if kind == "uniform":
            return Real(low, high, name=name)
        if kind in ("loguniform", "reciprocal"):
            return Real(low, high, prior="log-uniform", name=name)
        if kind == "randint":
            return Integer(low, high, name=name)
        raise ValueError(
            f"Invalid distribution for {name!r}: scipy.stats.{kind} has no skopt equivalent. "
            "Allowed for the bayes, tpe and finetune samplers: uniform, loguniform, randint, a "
            "list of choices, or a skopt Real / Integer / Categorical."
        )
    raise ValueError(
        f"Invalid search-space entry {name}={value!r}: expected a list of choices, a scipy.stats "
        "distribution or a skopt dimension."
    )


def split_fixed(param_space):
    """Split ``param_space`` into (fixed params, searched entries): one-element lists are fixed."""
    _check_space(param_space)
    fixed, searched = {}, {}
    for name, value in param_space.items():
        if isinstance(value, (list, tuple)) and len(value) == 1:
            fixed[name] = value[0]
        else:
            searched[name] = value
    return fixed, searched


def _split_searched(param_space):
    """(fixed, searched) for a sequential sampler, which needs something to search."""
    fixed, searched = split_fixed(param_space)
    if not searched:
        raise ValueError(
            f"Invalid param_space={param_space!r} for a sequential sampler (bayes, tpe, "
            "finetune): every entry is fixed (a one-element list); give at least one entry "
            "several values, a distribution or a skopt dimension."
        )
    return fixed, searched


def to_skopt_space(param_space):
    """(fixed params, names, skopt Space) for the searched entries of ``param_space``."""
    from skopt.space import Space

    fixed, searched = _split_searched(param_space)
    names = sorted(searched)
    space = Space([to_skopt_dimension(name, searched[name]) for name in names])
    return fixed, names, space


def index_encoded(space):
    """``space`` with each categorical dimension over its choices' indices, and the
    ``encode(point)`` / ``decode(point)`` that map a point of ``space`` to one of it and back.

    skopt makes arrays of a categorical's choices (in its encoders and in the Optimizer's
    distance checks), which choices such as tuples of different lengths break; indices are
    plain integers.
    """
    from skopt.space import Categorical, Space

    choices = {i: list(dim.categories) for i, dim in enumerate(space.dimensions)
               if isinstance(dim, Categorical)}
    encoded = Space([
        Categorical(list(range(len(choices[i]))), prior=dim.prior, name=dim.name)
        if i in choices else dim for i, dim in enumerate(space.dimensions)])

    def encode(point):
        return [choices[i].index(v) if i in choices else v for i, v in enumerate(point)]

    def decode(point):
        return [choices[i][int(v)] if i in choices else v for i, v in enumerate(point)]

    return encoded, encode, decode


def to_optuna_distributions(param_space):
    """(fixed params, ``{name: optuna distribution}``) for the searched entries of
    ``param_space``, through their skopt equivalents (so both samplers read a space alike)."""
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)
    from skopt.space import Categorical, Integer

    fixed, searched = _split_searched(param_space)
    distributions = {}
    for name in sorted(searched):
        dimension = to_skopt_dimension(name, searched[name])
        if isinstance(dimension, Categorical):
            distributions[name] = CategoricalDistribution(
                [python_value(c) for c in dimension.categories])
            continue
        log = dimension.prior == "log-uniform"
        kind = IntDistribution if isinstance(dimension, Integer) else FloatDistribution
        distributions[name] = kind(python_value(dimension.low), python_value(dimension.high),
                                   log=log)
    return fixed, distributions


class SkoptDistribution:
    """A skopt dimension with the scalar ``rvs`` that scikit-learn's ParameterSampler expects."""

    def __init__(self, dimension):
        self.dimension = dimension

    def rvs(self, random_state=None):
        return python_value(self.dimension.rvs(n_samples=1, random_state=random_state)[0])


def to_sampler_space(param_space):
    """``param_space`` in the form ParameterSampler takes (skopt dimensions wrapped); a list of
    dicts, as ParameterSampler takes, is converted dict by dict (each draw picks one)."""
    if isinstance(param_space, (list, tuple)) and param_space:
        return [to_sampler_space(space) for space in param_space]
    _check_space(param_space)
    return {name: SkoptDistribution(value) if _is_skopt_dimension(value) else value
            for name, value in param_space.items()}


def _check_space(param_space):
    if not isinstance(param_space, dict) or not param_space:
        raise ValueError(
            f"Invalid param_space={param_space!r}: expected a non-empty dict mapping parameter "
            "names to lists, scipy.stats distributions or skopt dimensions."
        )
    for name, value in param_space.items():
        if isinstance(value, (list, tuple)) and len(value) == 0:
            raise ValueError(f"Invalid search-space entry {name}=[]: give at least one value.")
        if isinstance(value, (str, numbers.Number)):
            raise ValueError(
                f"Invalid search-space entry {name}={value!r}: wrap a fixed value in a list, "
                f"e.g. {name}=[{value!r}]."
            )
