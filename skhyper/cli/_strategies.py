"""The search strategies of ``skhyper search``: each one a scikit-learn-compatible search object.

baseline
    The family's default configuration cross-validated: a one-candidate GridSearchCV (an empty
    grid), so it is written like every other search.
quick
    Seed 000's quick demo: a 2x2 grid (the family grid's first parameter x lr {1e-3, 5e-3}),
    5 epochs unless --epochs says otherwise.
grid, random, bayes
    GridSearchCV, RandomizedSearchCV and skopt's BayesSearchCV over --space or the family's
    declared space of that kind.
halving
    scikit-learn's HalvingGridSearchCV with epochs (``max_epochs``) as the resource.
staged
    :class:`skhyper.StagedHalvingSearchCV`: --n-iter candidates drawn from the family's random
    space or --space (by --sampler: random, or a chain such as seed 004's
    ``random:20,bayes:40,finetune:15``), warm-started successive halving up to --epochs (the
    last exploration rung), then an extended stage training the --top-k best up to twice
    --epochs; resumed through the search's own ``store=``. The net's own early stopping is off
    unless the space sets ``patience``.
"""

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401  (enables the import)
from sklearn.model_selection import (GridSearchCV, HalvingGridSearchCV, ParameterGrid,
                                     RandomizedSearchCV)
from skopt import BayesSearchCV

from .. import spaces
from ..search._candidates import make_sampler, parse_steps
from ..validation import check_choice
from ._inputs import UsageError

STRATEGIES = ("baseline", "quick", "grid", "random", "bayes", "halving", "staged")
#: Which declared family space (and which conversion of --space) each strategy uses.
SPACE_KIND = {"grid": "grid", "halving": "grid", "random": "random", "bayes": "bayes",
              "staged": "random"}
QUICK_EPOCHS = 5
QUICK_LRS = [1e-3, 5e-3]


class RecordFailures:
    """Adds the ``status`` ("ok" / "failed") and ``error`` columns of skhyper's results format
    to a scikit-learn search, from the fit errors scikit-learn collects but does not keep."""

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        results = super()._format_results(candidate_params, n_splits, out, more_results)
        errors = []
        for i in range(len(candidate_params)):
            fits = out[i * n_splits:(i + 1) * n_splits]
            failed = [o["fit_error"] for o in fits if o.get("fit_error")]
            # The traceback's last line names the exception and its message.
            errors.append(failed[0].strip().splitlines()[-1] if failed else
                          _scoring_error(fits))
        results["status"] = np.array(["failed" if e else "ok" for e in errors], dtype=object)
        results["error"] = np.array(errors, dtype=object)
        return results


def _scoring_error(fits):
    """The error of a candidate whose fits trained but whose scorer gave NaN on some fold (or
    raised, which scikit-learn reports in a 'Scoring failed' warning and scores NaN); "" when
    every score is a number."""
    for fold, result in enumerate(fits):
        scores = result["test_scores"]
        values = scores.values() if isinstance(scores, dict) else [scores]
        bad = [value for value in values if not np.isfinite(value)]
        if bad:
            return (f"scoring gave {bad[0]} on fold {fold} (a scorer that raised is reported "
                    "in scikit-learn's 'Scoring failed' warning)")
    return ""


class GridSearch(RecordFailures, GridSearchCV):
    """GridSearchCV with ``status`` and ``error`` columns."""


class RandomSearch(RecordFailures, RandomizedSearchCV):
    """RandomizedSearchCV with ``status`` and ``error`` columns."""


class BayesSearch(RecordFailures, BayesSearchCV):
    """skopt's BayesSearchCV with ``status`` and ``error`` columns."""


class HalvingGridSearch(RecordFailures, HalvingGridSearchCV):
    """HalvingGridSearchCV with ``status`` and ``error`` columns; a row of an iteration before
    the last is "pruned" (the candidate stopped there, or went on and has a later row), as
    :func:`skhyper.analysis.results_frame` reads any halving search."""

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        results = super()._format_results(candidate_params, n_splits, out, more_results)
        iteration = np.asarray(results["iter"])
        results["status"][(iteration < iteration.max()) & (results["status"] == "ok")] = "pruned"
        return results


def quick_grid(family):
    """Seed 000's 2x2 quick grid for ``family``."""
    grid = family.search_space("grid")
    first = next((name for name in grid if name != "lr"), None)
    quick = {"lr": QUICK_LRS}
    if first is not None:
        quick = {first: list(grid[first])[:2], **quick}
    return quick


def resolve_space(strategy, family, space):
    """The space the strategy searches: --space converted to its kind, else the family's.

    Raises UsageError for a space the strategy's search tool cannot take.
    """
    if strategy == "baseline":
        return {}
    if strategy == "quick":
        return quick_grid(family)
    kind = SPACE_KIND[strategy]
    if space is None:
        try:
            return family.search_space(kind)
        except KeyError as exc:
            raise UsageError(f"{exc.args[0]} Pass one with --space space.yaml.") from None
    if kind == "grid":
        return _grid_of(strategy, space)
    return {"random": spaces.to_distributions, "bayes": spaces.to_skopt}[kind](space)


def _grid_of(strategy, space):
    """--space as a grid, with an error that names the strategy (grid or halving)."""
    try:
        return spaces.to_grid(space)
    except spaces.SpaceError as exc:
        raise UsageError(f"--strategy {strategy}: {exc}") from None


def staged_defaults(estimator, space_names):
    """Switch off a net's own early stopping for the staged search, unless the space sets
    ``patience``: the search decides how long each candidate trains, and every warm-started
    continuation would restart the net's patience count (docs/search.md)."""
    if "patience" in estimator.get_params(deep=False) and "patience" not in space_names:
        estimator.set_params(patience=None)


#: The samplers --sampler offers: those that draw from a space of lists and ranges.
CLI_SAMPLERS = ("random", "bayes", "tpe", "finetune")


def parse_sampler(text, n_iter):
    """``--sampler`` as the staged search's ``sampler``: ``"bayes"`` or a chain
    ``"random:20,bayes:40,finetune:15"`` as ``[("random", 20), ...]`` (a step without a count
    draws ``n_iter``)."""
    steps = []
    for item in text.split(","):
        name, _, count = item.strip().partition(":")
        try:
            check_choice("--sampler", name, CLI_SAMPLERS)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if count and not (count.isdigit() and int(count) >= 1):
            raise UsageError(f"Invalid --sampler step {item!r}: the count after ':' must be a "
                             "positive integer, e.g. random:20.")
        steps.append((name, int(count) if count else n_iter))
    try:
        parse_steps(steps, None)  # what the search refuses, refused before anything loads
    except ValueError as exc:
        raise UsageError(str(exc).replace("sampler=", "--sampler=", 1)) from None
    return steps


def check_sampler_spaces(sampler, param_space):
    """Raise UsageError for a space a step of ``sampler`` (a :func:`parse_sampler` chain)
    cannot draw from, before the output directory exists: bayes, tpe and finetune convert it
    to skopt's or Optuna's form (a list as a choice is refused there)."""
    for name, _, _ in parse_steps(sampler, None):
        try:
            make_sampler(name, param_space, None).check()
        except (ValueError, ImportError) as exc:
            raise UsageError(f"--sampler {name}: {exc}") from None


def check_space_names(strategy, names):
    """Raise UsageError for a space parameter the strategy sets itself."""
    if strategy in ("halving", "staged") and "max_epochs" in names:
        what = "as its resource" if strategy == "halving" else "as the budget of its rungs"
        raise UsageError(f"--strategy {strategy} uses max_epochs {what}; remove "
                         "max_epochs from the space and set the budget with --epochs.")


def expected_fits(strategy, param_space, n_iter, n_splits):
    """The number of fits (including the refit) a strategy trains, or None when only the
    search knows it (halving and staged stop candidates along the way)."""
    if strategy in ("baseline", "quick", "grid"):
        return len(ParameterGrid(param_space)) * n_splits + 1
    if strategy == "random":
        lists_only = all(isinstance(v, (list, tuple)) for v in param_space.values())
        n = min(n_iter, len(ParameterGrid(param_space))) if lists_only else n_iter
        return n * n_splits + 1
    if strategy == "bayes":
        return n_iter * n_splits + 1
    return None


def build_search(strategy, estimator, param_space, *, cv, scoring, n_iter, epochs, seed,
                 n_jobs, store, sampler=None, top_k=1, max_time=None, extended_cv=None):
    """The search object of ``strategy`` (not fitted); ``sampler`` (a :func:`parse_sampler`
    chain), ``top_k``, ``max_time`` and ``extended_cv`` are the staged search's.

    ``store`` is the :class:`~skhyper.tracking.ExperimentStore`; the staged search uses it
    through its ``store=`` parameter, the scikit-learn searches through the estimator's
    :class:`~skhyper.tracking.StoreCheckpoint` callback.
    """
    # several metrics (a dict): the first ranks the candidates and picks the refit
    refit = next(iter(scoring)) if isinstance(scoring, dict) else True
    common = dict(cv=cv, scoring=scoring, n_jobs=n_jobs, error_score=np.nan, refit=refit)
    if strategy in ("baseline", "quick", "grid"):
        return GridSearch(estimator, param_space, **common)
    if strategy == "random":
        return RandomSearch(estimator, param_space, n_iter=n_iter, random_state=seed, **common)
    if strategy == "bayes":
        return BayesSearch(estimator, param_space, n_iter=n_iter, random_state=seed, **common)
    if strategy == "halving":
        return HalvingGridSearch(estimator, param_space, resource="max_epochs",
                                 max_resources=epochs or estimator.max_epochs,
                                 min_resources="exhaust", factor=3, random_state=seed,
                                 **common)
    from ..search import StagedHalvingSearchCV

    # Rungs grow by factor 3 up to --epochs; the best candidate then trains longer (extended
    # stage, up to twice --epochs) before the refit.
    return StagedHalvingSearchCV(estimator, param_space, sampler=sampler,
                                 max_epochs=epochs or estimator.max_epochs, top_k=top_k,
                                 extended_cv=extended_cv, max_time=max_time, random_state=seed,
                                 store=store, **common)
