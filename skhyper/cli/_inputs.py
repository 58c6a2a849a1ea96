"""Turning command-line options into data, estimators and spaces, with one-line errors."""

import difflib
import inspect

import yaml

from .. import registry
from ..validation import check_choice

TASK_SCORING = {"regression": "neg_mean_squared_error", "classification": "accuracy"}


class UsageError(ValueError):
    """Bad input on the command line; main() prints it as one line and exits with status 2."""


def _suggest(name, known):
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def parse_data_params(pairs):
    """``["k=v", ...]`` -> ``{k: v}`` with each value read as YAML (numbers, lists, strings)."""
    params = {}
    for pair in pairs or ():
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"Invalid --data-param {pair!r}: expected NAME=VALUE, "
                             "e.g. --data-param seq_len=20.")
        try:
            params[name] = yaml.safe_load(text)
        except yaml.YAMLError:
            params[name] = text
    return params


def load_data(name, params):
    """Load dataset family ``name`` with ``params``, naming unknown parameters."""
    family = registry.get_dataset(name)
    accepted = inspect.signature(family.loader).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    for key in params:
        if not takes_any and key not in accepted:
            raise UsageError(
                f"Unknown --data-param {key!r} for dataset {name!r}.{_suggest(key, accepted)} "
                f"Allowed: {', '.join(accepted)}."
            )
    try:
        return family.load(**params)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--data {name}: {exc}") from None


def default_scoring(task):
    """The scorer a search uses when --scoring is not given (None: the estimator's score)."""
    return TASK_SCORING.get(task)


def check_scoring_name(scoring):
    """A scikit-learn scorer name, with a suggestion when misspelt."""
    if scoring is None:
        return None
    from sklearn.metrics import get_scorer_names

    try:
        return check_choice("--scoring", scoring, tuple(get_scorer_names()))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_param_values(estimator, values_by_name, source):
    """Raise UsageError for a parameter the estimator does not have, or a value it rejects.

    ``values_by_name`` maps a parameter to the values to try (every choice, or a range's ends).
    Values are checked by the estimator's own validation (skhyper nets'
    ``check_params``) where it has one.
    """
    known = estimator.get_params(deep=False)
    for name in values_by_name:
        if name not in known and "__" not in name:
            raise UsageError(
                f"Unknown parameter {name!r} in {source} for {type(estimator).__name__}."
                f"{_suggest(name, known)}"
            )
    check = getattr(estimator, "check_params", None)
    if check is None:
        return
    original = {name: known[name] for name in values_by_name if name in known}
    try:
        for name, values in values_by_name.items():
            for value in values:
                estimator.set_params(**{name: value})
                try:
                    check()
                except ValueError as exc:
                    raise UsageError(f"{source}: {exc}") from None
    finally:
        estimator.set_params(**original)
