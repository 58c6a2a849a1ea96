"""Turning command-line options into data, estimators and spaces, with one-line errors."""

import difflib
import inspect

import numpy as np
import yaml

from .. import registry
from .._yaml import safe_load
from ..validation import check_choice

TASK_SCORING = {"regression": "neg_mean_squared_error", "classification": "accuracy"}
# The task a scikit-learn scorer's metric is for, by the module that defines it (a scorer
# outside these, such as a clustering metric, is not checked).
METRIC_TASKS = {"sklearn.metrics._classification": "classification",
                "sklearn.metrics._ranking": "classification",
                "sklearn.metrics._regression": "regression"}
#: Tasks whose y no scikit-learn scorer name can score: the estimator's own score() is used.
OWN_SCORE_TASKS = ("multitask", "unsupervised")


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
        if name in params:
            raise UsageError(f"--data-param {name} is given twice; give each name once.")
        try:
            params[name] = safe_load(text)
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
    required = [key for key, p in accepted.items() if p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and key not in params]
    if required:
        needed = " and ".join(f"--data-param {key}=<value>" for key in required)
        raise UsageError(f"--data {name} needs {needed} (required by its loader).")
    try:
        return family.load(**params)
    except (ValueError, TypeError, OSError) as exc:  # OSError: a file it cannot read
        raise UsageError(f"--data {name}: {exc}") from None


def check_out_dir(out, option="--out"):
    """Raise UsageError when ``out`` exists but is not a directory."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{option} {out} is a file; name a directory (new, or one that "
                         "skhyper wrote).")


def default_scoring(task):
    """The scorer a search uses when --scoring is not given (None: the estimator's score)."""
    return TASK_SCORING.get(task)


def is_unsupervised(family):
    """Whether the model family learns from X alone (it is fitted and scored without y)."""
    return family.task == "unsupervised"


def _model_summary(name, family, estimator):
    ndim = getattr(estimator, "X_ndim", None)
    shape = {2: " on 2-D X (samples, features)",
             3: " on 3-D sequences (samples, steps, features)"}.get(ndim, "")
    return f"model {name!r} is a{'n' if family.task[0] in 'aeiou' else ''} {family.task} " \
           f"model{shape}"


def _data_summary(name, data):
    return f"dataset {name!r} is {data.task} with {np.ndim(data.X)}-D X"


def check_compatible(model_name, family, estimator, data_name, data):
    """Raise UsageError when the model cannot learn the dataset: X of another number of
    dimensions, or another task (an unsupervised model takes any data's X, without y).

    Checked before anything trains: otherwise every fit fails, or every score does.
    """
    ndim = getattr(estimator, "X_ndim", None)
    wrong_shape = ndim is not None and np.ndim(data.X) != ndim
    wrong_task = not is_unsupervised(family) and family.task != data.task
    if wrong_shape or wrong_task:
        raise UsageError(f"{_model_summary(model_name, family, estimator)}; "
                         f"{_data_summary(data_name, data)}. Pick a matching pair "
                         "(skhyper list shows each family's task).")


def own_score(estimator, X, y=None):
    """The estimator's own ``score``, as a scorer (what a search uses without a scorer)."""
    return estimator.score(X) if y is None else estimator.score(X, y)


def family_scorers(family):
    """The metrics ``--scoring`` takes besides scikit-learn's names: the family's own, the
    estimator's ``score`` and the model size (``n_parameters``, which the report's Pareto
    front minimises)."""
    from ..model_size import n_parameters_scorer

    return {"score": own_score, **(family.scorers or {}), "n_parameters": n_parameters_scorer}


def scoring_for(scoring, family, data):
    """What the search scores with, from ``--scoring``: None (the estimator's own ``score``)
    or a scikit-learn scorer name as given, the task's default when not given; for several
    comma-separated names, or a family's own metric, a dict name -> scorer whose first entry
    ranks the candidates (refit)."""
    task = family.task if is_unsupervised(family) else data.task
    if scoring is None:
        return default_scoring(task)
    names = [name.strip() for name in scoring.split(",")]
    if "" in names or len(set(names)) < len(names):
        raise UsageError(f"--scoring {scoring}: name each metric once, separated by commas "
                         "(neg_mean_squared_error,r2).")
    own = family_scorers(family)
    if names[0] == "n_parameters":
        raise UsageError(f"--scoring {scoring}: n_parameters measures the model's size, not "
                         "how well it predicts; name the metric that ranks the candidates "
                         "first (its size is recorded after it).")
    resolved = {}
    for name in names:
        if name in own:
            resolved[name] = own[name]
            continue
        check_scoring_name(name, own)
        if task in OWN_SCORE_TASKS:
            # Scorer names compare predictions with a 1-D y; these tasks have no such y.
            given = ", ".join(name for name in own if name != "n_parameters")
            raise UsageError(f"--scoring {name} cannot score a {task} search: use the model's "
                             f"metrics ({given}; then n_parameters if you like), or leave "
                             "--scoring out for its score().")
        _check_metric_task(name, task)
        resolved[name] = name
    if len(resolved) == 1 and isinstance(resolved[names[0]], str):
        return names[0]
    return resolved


def _check_metric_task(name, task):
    """Raise UsageError for a scikit-learn scorer of the other task (accuracy on a regression
    target): every fit's scoring would fail, each with a traceback."""
    from sklearn.metrics import get_scorer

    function = getattr(get_scorer(name), "_score_func", None)
    metric_task = METRIC_TASKS.get(getattr(function, "__module__", None))
    if metric_task is not None and task in TASK_SCORING and metric_task != task:
        raise UsageError(f"--scoring {name} is a {metric_task} metric, and this search is "
                         f"{task}: use a {task} metric, such as {TASK_SCORING[task]}.")


def scoring_names(scoring):
    """``scoring_for``'s result as the names given (comma-separated), for the records."""
    return ",".join(scoring) if isinstance(scoring, dict) else scoring


def check_scoring_name(scoring, own=()):
    """A scikit-learn scorer name (or one of ``own``), with a suggestion when misspelt."""
    if scoring is None:
        return None
    from sklearn.metrics import get_scorer_names

    try:
        return check_choice("--scoring", scoring, tuple(own) + tuple(get_scorer_names()))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _signature_names(*callables):
    """The keyword arguments the callables take together; None when one takes ``**kwargs``."""
    names = set()
    for function in callables:
        parameters = inspect.signature(function).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in parameters):
            return None
        names.update(p.name for p in parameters if p.kind is not p.VAR_POSITIONAL)
    return names


def _routed_names(estimator, prefix, choices):
    """The arguments a skhyper net passes on as ``prefix__name`` to its module, or to the
    optimizers or learning-rate schedulers among ``choices`` (the values ``prefix`` takes);
    None where they are not known."""
    from ..nets import OPTIMIZERS, SCHEDULERS, NetMixin

    if not isinstance(estimator, NetMixin):
        return None
    if prefix == "module":
        names = _signature_names(estimator.module) if inspect.isclass(estimator.module) \
            else None
    elif prefix in ("optimizer", "lr_scheduler"):
        table = OPTIMIZERS if prefix == "optimizer" else \
            {name: cls for name, (cls, _) in SCHEDULERS.items()}
        chosen = [table[c] for c in choices if isinstance(c, str) and c in table]
        names = _signature_names(*(chosen or table.values()))
    else:
        return None
    return None if names is None else names - {"self", "params", "optimizer"}


def _check_routed_name(estimator, name, source, values_by_name):
    """Raise UsageError for a ``prefix__name`` parameter the estimator cannot route, naming
    what it can (every fit would fail otherwise)."""
    if name in estimator.get_params(deep=True):  # e.g. a Pipeline step's parameter
        return
    prefix, _, rest = name.partition("__")
    prefixes = getattr(estimator, "prefixes_", None)
    if prefixes is not None:  # a skorch net; it registers these three when it initializes
        prefixes = list(dict.fromkeys([*prefixes, "module", "criterion", "optimizer"]))
        if prefix not in prefixes:
            raise UsageError(f"Unknown parameter prefix {prefix!r} of {name!r} in {source} for "
                             f"{type(estimator).__name__}.{_suggest(prefix, prefixes)} Allowed "
                             f"prefixes: {', '.join(prefixes)}.")
    choices = values_by_name.get(prefix, [getattr(estimator, prefix, None)])
    allowed = _routed_names(estimator, prefix, choices)
    if allowed is not None and rest not in allowed:
        full_names = sorted(f"{prefix}__{a}" for a in allowed)
        raise UsageError(f"Unknown setting {name!r} in {source}.{_suggest(name, full_names)} "
                         f"Allowed: {', '.join(full_names)}.")


def check_param_values(estimator, values_by_name, source, X=None):
    """Raise UsageError for a parameter the estimator does not have, or a value it rejects.

    ``values_by_name`` maps a parameter to the values to try (every choice, or a range's ends).
    Values are checked by the estimator's own validation (skhyper nets'
    ``check_params``) where it has one, and a sequence net's ``seq_len`` against the windows
    of ``X``: every fit of a longer one would fail.
    """
    known = estimator.get_params(deep=False)
    for name in values_by_name:
        if "__" in name:
            _check_routed_name(estimator, name, source, values_by_name)
        elif name not in known:
            # no close match (learning_rate for lr): the list shows what the names look like
            public = sorted(k for k in known if not k.startswith("_"))
            hint = _suggest(name, known) or f" Its parameters: {', '.join(public)}."
            raise UsageError(
                f"Unknown parameter {name!r} in {source} for {type(estimator).__name__}.{hint}"
            )
    _check_seq_len(values_by_name.get("seq_len", ()), X, source)
    if not hasattr(estimator, "check_params"):
        return
    # On an unfitted copy (the estimator keeps its values), which keeps each parameter's last
    # value as the next is tried: a config's values are checked together.
    from ..nets import unfitted_like

    probe = unfitted_like(estimator)
    for name, values in values_by_name.items():
        for value in values:
            try:
                probe.set_params(**{name: value}).check_params()
            except ValueError as exc:
                raise UsageError(f"{source}: {exc}") from None


def _check_seq_len(values, X, source):
    if X is None or np.ndim(X) != 3:
        return
    steps = np.shape(X)[1]
    too_long = [value for value in values if isinstance(value, (int, np.integer))
                and value > steps]
    if too_long:
        raise UsageError(
            f"{source}: seq_len={max(too_long)} is longer than the dataset's windows of {steps} "
            f"steps. Use at most {steps}, or load longer windows (--data-param "
            f"seq_len={max(too_long)})."
        )
