"""Search spaces written in YAML, turned into what each search tool takes.

The format (documented in docs/cli.md) maps each estimator parameter to one of:

``[v1, v2, ...]``
    A list: the grid values, and the choices random and Bayesian search pick from.
``{choice: [v1, v2, ...]}``
    The same as a list, spelled out.
``{uniform: [low, high]}``
    A float drawn uniformly from ``[low, high]``.
``{log-uniform: [low, high]}``
    A float whose logarithm is uniform (learning rates, weight decay); ``0 < low < high``.
``{int: [low, high]}``
    An integer from ``low`` to ``high``, both included.
a scalar
    A fixed value, the same in every candidate.

Example::

    hidden_size: [16, 32, 64]
    num_layers: {int: [1, 3]}
    dropout: {uniform: [0.0, 0.3]}
    lr: {log-uniform: [1e-4, 1e-2]}
    optimizer: [adam, sgd]

:func:`load_space` parses and checks a file, :func:`split_fixed` separates the fixed settings
(which BayesSearchCV cannot take as one-value dimensions), :func:`to_grid` gives a GridSearchCV
``param_grid``, :func:`to_distributions` gives RandomizedSearchCV ``param_distributions``
(scipy.stats), :func:`to_skopt` gives BayesSearchCV ``search_spaces`` (skopt dimensions).
"""

import difflib
import math
import numbers
from dataclasses import dataclass

import yaml

from ._yaml import SafeLoader

KINDS = ("choice", "uniform", "log-uniform", "int")


class SpaceError(ValueError):
    """A search-space file or entry that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class Dimension:
    """One parameter's values: ``kind`` is one of :data:`KINDS`; ``values`` are the choices
    (kind "choice") or ``(low, high)``."""

    name: str
    kind: str
    values: tuple

    @property
    def is_range(self):
        return self.kind != "choice"


class _UniqueKeyLoader(SafeLoader):
    """The safe loader (``1e-3`` a number), refusing a mapping key given twice (``safe_load``
    keeps the last one silently, so a search-space entry would be lost)."""

    def construct_mapping(self, node, deep=False):
        first_at = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            mark = key_node.start_mark
            at = f"line {mark.line + 1}, column {mark.column + 1}"
            try:
                if key in first_at:
                    raise SpaceError(f"Duplicate key {key!r} at {at} (first at {first_at[key]})")
                first_at[key] = at
            except TypeError:  # an unhashable key: the base constructor reports it
                pass
        return super().construct_mapping(node, deep=deep)


def load_space(path):
    """Read a YAML search-space file; returns ``{name: Dimension}``.

    Raises
    ------
    SpaceError
        Malformed YAML (with the line and column), a key given twice, or an entry not in the
        documented format.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise SpaceError(f"Cannot read the search space {path}: {exc.strerror}.") from exc
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except SpaceError as exc:
        raise SpaceError(f"{exc} in {path}: each key may appear once.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpaceError(f"Malformed YAML in {path}{where}: {problem}.") from exc
    if not isinstance(raw, dict) or not raw:
        raise SpaceError(
            f"The search space {path} must be a non-empty mapping of parameter names to values "
            "(lists, {uniform: [low, high]}, {log-uniform: [low, high]}, {int: [low, high]})."
        )
    return parse_space(raw, source=str(path))


def parse_space(raw, source="the search space"):
    """Check a mapping in the YAML format; returns ``{name: Dimension}``."""
    return {str(name): _parse_entry(str(name), value, source) for name, value in raw.items()}


def _parse_entry(name, value, source):
    where = f"{source}, parameter {name!r}"
    if isinstance(value, list):
        value = {"choice": value}
    if not isinstance(value, dict):  # a scalar: one fixed value
        return Dimension(name, "choice", (value,))
    if len(value) != 1 or next(iter(value)) not in KINDS:
        keys = ", ".join(map(str, value)) or "nothing"
        close = difflib.get_close_matches(keys, KINDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpaceError(
            f"Invalid entry in {where}: {{{keys}: ...}}.{hint} Expected a list or one of "
            f"{', '.join('{' + k + ': [...]}' for k in KINDS)}."
        )
    kind, args = next(iter(value.items()))
    if not isinstance(args, list) or not args:
        raise SpaceError(f"Invalid {kind} in {where}: expected a non-empty list, got {args!r}.")
    if kind == "choice":
        return Dimension(name, kind, tuple(args))
    if len(args) != 2 or not all(_is_number(a) and math.isfinite(a) for a in args):
        raise SpaceError(f"Invalid {kind} in {where}: expected [low, high] finite numbers, got "
                         f"{args}.")
    low, high = args
    if kind == "int" and not all(isinstance(a, numbers.Integral) for a in args):
        raise SpaceError(f"Invalid int in {where}: expected [low, high] integers, got {args}.")
    if not low < high:
        raise SpaceError(f"Invalid {kind} in {where}: low {low} must be below high {high}.")
    if kind == "log-uniform" and low <= 0:
        raise SpaceError(f"Invalid log-uniform in {where}: low {low} must be > 0.")
    return Dimension(name, kind, (low, high))


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def split_fixed(space):
    """``(fixed, searched)``: single-valued entries as ``{name: value}`` (settings for the
    estimator itself), and the entries that vary."""
    fixed = {n: d.values[0] for n, d in space.items() if d.kind == "choice" and len(d.values) == 1}
    return fixed, {n: d for n, d in space.items() if n not in fixed}


def to_grid(space):
    """GridSearchCV ``param_grid``: every entry must be a list (a grid has no ranges)."""
    ranges = [dim.name for dim in space.values() if dim.is_range]
    if ranges:
        raise SpaceError(
            f"a grid needs a list of values for every parameter; "
            f"{', '.join(ranges)} {'is a range' if len(ranges) == 1 else 'are ranges'}. "
            "Write them as lists, or sample them (random, bayes or staged search)."
        )
    return {dim.name: list(dim.values) for dim in space.values()}


def to_distributions(space):
    """RandomizedSearchCV ``param_distributions``: lists and scipy.stats distributions."""
    from scipy.stats import loguniform, randint, uniform

    def convert(dim):
        low, high = dim.values if dim.is_range else (None, None)
        if dim.kind == "uniform":
            return uniform(low, high - low)
        if dim.kind == "log-uniform":
            return loguniform(low, high)
        if dim.kind == "int":
            return randint(low, high + 1)  # scipy's high is exclusive
        return list(dim.values)

    return {dim.name: convert(dim) for dim in space.values()}


def to_skopt(space):
    """BayesSearchCV ``search_spaces``: skopt ``Real``, ``Integer`` and ``Categorical``."""
    from skopt.space import Categorical, Integer, Real

    def convert(dim):
        if dim.kind == "uniform":
            return Real(*dim.values, name=dim.name)
        if dim.kind == "log-uniform":
            return Real(*dim.values, prior="log-uniform", name=dim.name)
        if dim.kind == "int":
            return Integer(*dim.values, name=dim.name)
        # skopt cannot encode None or lists/tuples as categories (see DESIGN.md).
        bad = [v for v in dim.values if v is None or isinstance(v, (list, tuple, dict))]
        if bad:
            raise SpaceError(
                f"Bayesian search cannot use {bad[0]!r} as a choice of {dim.name!r}: skopt "
                "categories must be numbers, strings or booleans. Encode it as a string, or use "
                "--strategy grid or random."
            )
        return Categorical(list(dim.values), name=dim.name)

    return {dim.name: convert(dim) for dim in space.values()}
