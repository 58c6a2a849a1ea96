"""StagedHalvingSearchCV: warm-started successive halving under k-fold CV, then an extended
stage for the best candidates, then a refit on all data."""

import math
import numbers
import time
import warnings
from collections import Counter

import joblib
import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import indexable
from sklearn.utils.validation import _check_method_params

from .._warnings import warn
from ..model_size import quality_metric
from ..parallel import seeded
from ..validation import check_choice, check_number
from ._candidates import is_sequential, make_sampler, parse_steps
from ._epochs import (check_trainable, is_skorch_net, train_epochs, trained_step,
                      trains_by_warm_start)
from ._run import EXTENDED, StagedRun
from ._schedule import rung_epochs
from ._units import refit_key, refit_seed

_STAGE_LEVEL = {EXTENDED: 1}


class StagedHalvingSearchCV(BaseSearchCV):
    """Warm-started successive halving under k-fold CV, an extended stage, and a refit.

    Every candidate is trained on every CV fold for a few epochs (the first *rung*); after each
    rung the best ``1/factor`` of the candidates *continue training* the fold models they already
    have (``partial_fit`` / ``warm_start``; never from scratch) until ``max_epochs``. The
    ``top_k`` best then train on up to ``extended_epochs`` on the same folds (or, with
    ``extended_cv``, from scratch on folds of their own), evaluated every
    ``extended_eval_every`` epochs with early stopping on the mean CV score. The best candidate
    is refit on all data for the number of epochs its CV evaluation used.

    Parameters
    ----------
    estimator : estimator object
        A skorch net (skhyper's nets included), an estimator with ``partial_fit`` (SGDClassifier,
        MLPClassifier, ...) or one with ``warm_start`` and ``max_iter``, or a Pipeline ending in
        one (its other steps are fitted once per candidate and fold, when training starts). Its
        own epoch setting (``max_epochs`` / ``max_iter``) is ignored: the search decides how
        long each fit trains. A skhyper net's LR schedule is laid out over the search's epochs
        (:meth:`~skhyper.nets.NetMixin.schedule_params`: a cosine spans ``extended_epochs``,
        or ``max_epochs`` when ``top_k=0``), in every fold and in the refit.
    param_space : dict, or list of dict
        For ``grid``: lists (a list of such dicts is a union of grids, as in GridSearchCV).
        For ``random``, ``bayes``, ``tpe`` and ``finetune``: lists, scipy.stats distributions
        (``uniform``, ``loguniform``, ``randint``) or skopt dimensions. For ``list``: the
        explicit candidates, a list of parameter dicts.
    sampler : {"grid", "random", "bayes", "tpe", "finetune", "list"} or list, default="grid"
        How candidates are drawn. A list of ``(name, n_candidates)`` (or ``(name, n, batch)``)
        steps chains samplers, e.g. ``[("random", 20), ("bayes", 40), ("finetune", 15)]`` as in
        seed 004. ``bayes`` asks skopt's Optimizer and ``tpe`` Optuna's TPESampler (needs
        ``skhyper[optuna]``), both told the first-rung scores of all earlier candidates;
        ``finetune`` perturbs the best so far. These three propose ``batch`` (default 1)
        candidates at a time and evaluate them at the first rung before the next proposal.
    n_candidates : int or None, default=None
        Candidates drawn by a single ``random``, ``bayes``, ``tpe`` or ``finetune`` sampler (10
        when None). Must be None for ``grid``, ``list`` and chained samplers.
    min_epochs : int, default=1
        About the epochs per fold of the first rung.
    max_epochs : int, default=9
        Epochs per fold of the last exploration rung. Rungs grow by ``factor`` backwards from
        it: ``min_epochs=1, max_epochs=9, factor=3`` gives rungs at 1, 3 and 9 epochs.
    factor : float, default=3
        After each rung the best ``n // factor`` candidates (at least one) continue.
    brackets : int, default=1
        Hyperband brackets: bracket ``j`` enters at rung ``j``; candidates are shared between
        brackets in Hyperband's proportions. Not combinable with ``bayes``, ``tpe`` or
        ``finetune``.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV (5-fold when None). The same folds serve every stage unless
        ``extended_cv`` is given.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV, multi-metric included.
    refit : bool, str or callable, default=True
        As in GridSearchCV. With multi-metric scoring, a metric name or a callable
        (``refit(cv_results) -> best index``) that also chooses the survivors of every rung:
        it is applied repeatedly to pick the best, the next best, and so on. The samplers
        and ``history_`` then read the callable's ``metric`` where it names one (as
        :class:`~skhyper.analysis.SmallestWithinOneSE` does), else the first metric that is
        not a size.
    top_k : int, default=1
        Candidates of the extended stage; 0 skips it.
    extended_epochs : int or None, default=None
        Total epochs per fold the extended stage trains up to; ``2 * max_epochs`` when None.
    extended_eval_every : int or None, default=None
        Epochs between evaluations in the extended stage (each one a rung);
        ``max(1, round(max_epochs / factor))`` when None.
    extended_patience : int or None, default=None
        Stop a candidate of the extended stage once its mean CV score has not improved for this
        many epochs; its row keeps the best evaluation (the one it entered the stage with
        included). None trains to ``extended_epochs``.
    extended_cv : int, cross-validation generator, iterable or None, default=None
        Folds of the extended stage, as ``cv`` takes them. None: ``cv``'s, on which the
        candidates continue their fold models. Given (seed 004 explores on one hold-out split,
        ``cv=ShuffleSplit(1, test_size=0.2)``, and extends under ``extended_cv=3``), the
        ``top_k`` candidates train new fold models on these folds from scratch (the explored
        ones have learned from their test parts; folds equal to ``cv``'s are ``cv``'s, on
        which they train on) up to ``extended_epochs``, and their rows
        hold the evaluations on these folds only: ``split{k}_*`` columns a row's folds do not
        reach are NaN, and its means and spreads are over its own folds.
    max_time : float or None, default=None
        A time budget in seconds, as Optuna's ``timeout``: once it is spent, no new step of the
        search starts (a sequential sampler's next proposal, the next rung, the extended stage
        or its next evaluation); the step in progress completes, every drawn candidate's first
        rung included, and the best of what was evaluated is selected (and refit: the refit
        is not counted). ``timed_out_`` says whether the budget stopped the search. Not
        combinable with ``brackets > 1`` (later brackets would never be evaluated).
    n_jobs : int or None, default=None
        Units (candidate x fold) run in parallel with joblib, also under
        ``joblib.parallel_backend("dask")``. Torch threads per worker follow
        :func:`skhyper.parallel.parallel_backend` (joblib's loky workers get ``cpu_count() //
        n_jobs``).
    random_state : int or None, default=None
        Seeds the samplers and, per unit of work (candidate c, fold k, rung r), torch's and
        numpy's global RNGs from ``(random_state, c, k, r)``: sequential, parallel and resumed
        runs give the same ``cv_results_`` on CPU (with the same torch thread count). A
        scikit-learn estimator without a ``random_state`` of its own draws from numpy's global
        RNG, which threads share: under a thread backend, give it one. Under threads, dropout
        also draws from torch's shared RNG while training, so nets with dropout differ from
        run to run there (processes, as loky's and Dask's, do not). None is not reproducible.
    error_score : "raise" or float, default=np.nan
        Score of a candidate whose training or scoring raised (NaN loss included); it is
        recorded as failed with its message and dropped, except in the extended stage, where it
        keeps the complete evaluation it had (its ``error`` says what failed after); with
        ``extended_cv``, one failing before its first evaluation on those folds has none
        there, and fails. "raise" re-raises.
    return_train_score : bool, default=False
        Also score each evaluation on its fold's training part (``split{k}_train_score``,
        ``mean_train_score``, ... as in GridSearchCV), at the cost of predicting it.
    verbose : int, default=0
        Print a line per rung: the units it trains, then its wall time and the fitting and
        scoring time summed over its units (their ratio is how busy the workers were).
    store : object or None, default=None
        Resume support: an object with ``load_fit(key) -> (estimator, record) | None`` and
        ``save_fit(key, estimator, record)`` (e.g. ``skhyper.tracking.ExperimentStore``).
        Each finished unit, and the final refit, is saved at once; what the store already has
        is not trained again. A unit's estimator is saved pickled (bytes), unpickled by the
        unit that trains it on (and, on a resume, once here to check it); the refit is saved
        as the estimator itself.
        The store must copy (serialise) what it is given, and hand back a fresh copy.

    Attributes
    ----------
    cv_results_ : dict of numpy arrays
        One row per candidate, its latest evaluation (in the extended stage: the evaluation
        early stopping kept), in GridSearchCV's format plus ``stage`` ("explore" or
        "extended"), ``rung``, ``epochs`` (per fold), ``status`` ("ok", "failed", "pruned") and
        ``error`` (also on an "ok" row whose extended training failed after the evaluation it
        keeps). ``rank_test_*`` ranks by stage, then rung reached, then score: rows trained
        longer rank first, and rank 1 is the best candidate.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, multimetric_,
    refit_time_, n_splits_
        As in GridSearchCV. ``best_estimator_`` is trained on all data for
        ``cv_results_["epochs"][best_index_]`` epochs (a skorch net's ``max_epochs`` is set to
        that number). ``best_params_`` holds the searched parameters only, not the epochs.
        ``n_splits_`` counts ``cv``'s folds (``extended_cv``'s may differ).
    n_epochs_total_ : int
        Epochs trained in cross-validation, summed over candidates and folds (the refit is not
        counted; units loaded from a store count as when they were trained).
    history_ : list of dict
        Learning curves, one record per (candidate, fold, epoch): ``candidate``, ``stage``,
        ``rung``, ``fold``, ``epoch``, ``train_loss``, ``valid_loss`` (NaN where the estimator
        does not report it) and ``score`` (the test-fold score at the epoch a rung was
        evaluated, NaN otherwise). ``fold`` indexes the stage's folds (``extended_cv``'s in
        the extended stage where given). ``pandas.DataFrame(search.history_)`` reads it.
    rung_epochs_ : list of int
        Cumulative epochs per fold of the exploration rungs.
    timed_out_ : bool
        Whether ``max_time`` ran out before the search's schedule did.
    """

    def __init__(self, estimator, param_space, *, sampler="grid", n_candidates=None,
                 min_epochs=1, max_epochs=9, factor=3, brackets=1, cv=None, scoring=None,
                 refit=True, top_k=1, extended_epochs=None, extended_eval_every=None,
                 extended_patience=None, extended_cv=None, max_time=None, n_jobs=None,
                 random_state=None, error_score=np.nan, return_train_score=False, verbose=0,
                 store=None):
        super().__init__(estimator, scoring=scoring, n_jobs=n_jobs, refit=refit, cv=cv,
                         verbose=verbose, error_score=error_score,
                         return_train_score=return_train_score)
        self.param_space = param_space
        self.sampler = sampler
        self.n_candidates = n_candidates
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.factor = factor
        self.brackets = brackets
        self.top_k = top_k
        self.extended_epochs = extended_epochs
        self.extended_eval_every = extended_eval_every
        self.extended_patience = extended_patience
        self.extended_cv = extended_cv
        self.max_time = max_time
        self.random_state = random_state
        self.store = store

    # --- settings -------------------------------------------------------------------------

    def _check_settings(self):
        check_number("min_epochs", self.min_epochs, low=1, integer=True)
        check_number("max_epochs", self.max_epochs, low=1, integer=True)
        _check_at_least("max_epochs", self.max_epochs, "min_epochs", self.min_epochs)
        check_number("factor", self.factor, low=1, low_open=True)
        steps = parse_steps(self.sampler, self.n_candidates)
        for name, _, _ in steps:  # every step's space, before the first step trains
            make_sampler(name, self.param_space, None).check()
        schedule = rung_epochs(self.min_epochs, self.max_epochs, self.factor)
        check_number("brackets", self.brackets, low=1, high=len(schedule), integer=True)
        sequential = [name for name, _, _ in steps if is_sequential(name)]
        if self.brackets > 1 and sequential:
            raise ValueError(
                f"Invalid brackets={self.brackets} with sampler {sequential[0]!r}: sequential "
                "samplers compare first-rung scores, which brackets entering at later rungs do "
                "not have. Use brackets=1, or a grid / random / list sampler."
            )
        check_number("top_k", self.top_k, low=0, integer=True)
        check_number("extended_epochs", self.extended_epochs, low=1, integer=True,
                     allow_none=True)
        if self.extended_epochs is not None:
            _check_at_least("extended_epochs", self.extended_epochs, "max_epochs",
                            self.max_epochs)
        check_number("extended_eval_every", self.extended_eval_every, low=1, integer=True,
                     allow_none=True)
        check_number("extended_patience", self.extended_patience, low=1, integer=True,
                     allow_none=True)
        if isinstance(self.extended_cv, numbers.Integral):
            check_number("extended_cv", self.extended_cv, low=2, integer=True)
        check_number("max_time", self.max_time, low=0, low_open=True, allow_none=True)
        if self.max_time is not None and self.brackets > 1:
            raise ValueError(f"Invalid max_time={self.max_time!r} with brackets="
                             f"{self.brackets}: the brackets entering at later rungs would "
                             "never be evaluated once the time is spent. Use brackets=1.")
        check_number("random_state", self.random_state, low=0, integer=True, allow_none=True)
        if isinstance(self.scoring, (list, tuple, set, dict)):
            # multi-metric: refit must say which metric promotes candidates, before any training
            self._selection_metric(list(self.scoring))
        check_choice("return_train_score", self.return_train_score, (True, False))
        if not (self.error_score == "raise" or isinstance(self.error_score, numbers.Real)):
            raise ValueError(
                f"Invalid error_score={self.error_score!r}: expected 'raise' or a number."
            )
        if self.store is not None and not all(
                callable(getattr(self.store, name, None)) for name in ("load_fit", "save_fit")):
            raise ValueError(
                f"Invalid store={self.store!r}: expected an object with load_fit(key) and "
                "save_fit(key, estimator, record) methods, or None."
            )
        return steps, schedule

    def _fingerprint(self, base_estimator, X, y, splits, fit_params, schedule,
                     extended_splits=None):
        """Hash of everything a unit's result depends on besides its own coordinates (only
        with a store: it keys the units)."""
        if self.store is None:
            return ""
        # the extended stage's own folds only where given: stores of other searches keep
        # their keys
        own_folds = () if extended_splits is None else (extended_splits,)
        try:
            return joblib.hash((
                type(base_estimator).__module__, type(base_estimator).__qualname__,
                base_estimator.get_params(deep=False), X, y, splits, fit_params, self.scoring,
                schedule, self.brackets, self.extended_eval_every, self.random_state,
                self.return_train_score, *own_folds,
            ))
        except Exception as exc:  # a lambda scorer or parameter cannot be pickled
            raise ValueError(
                "store= keys the units by a hash of the estimator's parameters, the scoring "
                f"and the data, which failed ({type(exc).__name__}: {exc}). Give functions a "
                "module-level name instead of a lambda, or use store=None."
            ) from exc

    # --- metrics and selection ------------------------------------------------------------

    def _metrics(self, rows):
        """Metric names, from the first successful evaluation (None when every row failed)."""
        for row in rows:
            if row["status"] == "failed":
                continue  # a candidate failing on some folds keeps the others' scores
            for scores in row["scores"]:
                if scores:
                    return list(scores)
        return None

    def _is_multimetric(self, metrics):
        return isinstance(self.scoring, (list, tuple, dict)) or metrics != ["score"]

    def _selection_metric(self, metrics):
        """The metric that promotes candidates (None: the refit callable decides)."""
        if not self._is_multimetric(metrics):
            return "score"
        if isinstance(self.refit, str) and self.refit not in metrics:
            raise ValueError(f"Invalid refit={self.refit!r}: with multi-metric scoring, name one "
                             f"of the metrics {', '.join(map(repr, metrics))}, or a callable.")
        if isinstance(self.refit, str):
            return self.refit
        if callable(self.refit):
            return None
        raise ValueError(
            "With multi-metric scoring the staged search needs refit set to a metric name or "
            f"a callable to choose which candidates continue; got refit={self.refit!r}."
        )

    @staticmethod
    def _mean(row, metric):
        values = [scores.get(metric, math.nan) for scores in row["scores"]]
        return float(np.mean(values)) if values else math.nan

    def _order(self, rows, n):
        """Indices of the ``n`` best of ``rows`` (same stage and rung), best first."""
        metrics = self._metrics(rows)
        if metrics is None:
            return []
        metric = self._selection_metric(metrics)
        if metric is not None:
            means = [self._mean(row, metric) for row in rows]
            ok = [i for i in range(len(rows)) if not math.isnan(means[i])]
            return sorted(ok, key=lambda i: (-means[i], i))[:n]
        # rows of one rung compete as equals: those an earlier ranking pruned (the extended
        # stage fills top_k from earlier rungs) are shown to the callable as completed
        rows = [dict(row, status="ok") if row["status"] == "pruned" else row for row in rows]
        remaining, picked = list(range(len(rows))), []
        while remaining and len(picked) < n:
            results = self._results([rows[i] for i in remaining], metrics)
            picked.append(remaining.pop(int(self.refit(results))))
        return picked

    def _ranking_metric(self, metrics):
        """The metric of the samplers' observations and the history's ``score``: the one that
        promotes candidates, or with a refit callable the one it selects on."""
        return self._selection_metric(metrics) or quality_metric(self.refit, metrics)

    def _score_of(self, row):
        metrics = self._metrics([row])
        if metrics is None:
            return math.nan
        return self._mean(row, self._ranking_metric(metrics))

    # --- results --------------------------------------------------------------------------

    def _results(self, rows, metrics):
        """cv_results_ of ``rows`` in GridSearchCV's format, plus the staged columns."""
        multimetric = self._is_multimetric(metrics)
        # rows of an extended stage with folds of its own (extended_cv) may have more or fewer
        n_splits = max(len(row["scores"]) for row in rows)
        out = []

        def per_metric(scores):
            scores = {m: scores.get(m, self.error_score) for m in metrics}
            return scores if multimetric else scores["score"]

        nan_scores = per_metric({m: math.nan for m in metrics})
        for row in rows:
            failed = row["status"] == "failed"
            for fold in range(n_splits):
                if fold >= len(row["scores"]):  # a fold of the other stage's folds
                    out.append(dict(fit_time=math.nan, score_time=math.nan,
                                    test_scores=nan_scores, train_scores=nan_scores))
                    continue
                out.append(dict(fit_time=row["fit_times"][fold],
                                score_time=row["score_times"][fold],
                                test_scores=per_metric({} if failed else row["scores"][fold]),
                                train_scores=per_metric(
                                    {} if failed else row["train_scores"][fold])))
        more = {key: [row[key] for row in rows]
                for key in ("stage", "rung", "epochs", "status", "error")}
        short = [i for i, row in enumerate(rows) if len(row["scores"]) < n_splits]
        with warnings.catch_warnings():
            if short:  # their NaN folds are another stage's, not failures: see below
                warnings.filterwarnings("ignore", message="One or more of the .* scores are "
                                        "non-finite", category=UserWarning)
            results = self._format_results([row["params"] for row in rows], n_splits, out,
                                           more)
        for index in short:
            _summarise_own_folds(results, index, rows[index])
        for key in [k for k in results if k.startswith(("mean_test_", "mean_train_"))]:
            if short and not np.isfinite(results[key]).all():  # as scikit-learn warns
                warn(f"One or more of the {key.split('_')[1]} scores are non-finite: "
                     f"{results[key]}", UserWarning)
        for metric in metrics:
            results[f"rank_test_{metric}"] = self._rank(results, metric)
        return results

    @staticmethod
    def _rank(results, metric):
        """Rank by (stage, rung reached, score): rows trained longer come first; failed last."""
        keys = []
        for stage, rung, status, mean in zip(results["stage"], results["rung"],
                                             results["status"], results[f"mean_test_{metric}"]):
            if status == "failed" or math.isnan(mean):
                keys.append((-1, -1, -math.inf))
            else:
                level = _STAGE_LEVEL.get(stage, 0)
                keys.append((level, 0 if level else int(rung), float(mean)))
        return np.array([1 + sum(other > key for other in keys) for key in keys],
                        dtype=np.int32)

    def _history(self, records, metric_of):
        history = []
        for record in records:
            last = len(record["history"]) - 1
            score = record["scores"].get(metric_of, math.nan) if record["scores"] else math.nan
            for i, epoch in enumerate(record["history"]):
                history.append(dict(
                    candidate=record["candidate"], stage=record["stage"], rung=record["rung"],
                    fold=record["fold"], epoch=epoch["epoch"], train_loss=epoch["train_loss"],
                    valid_loss=epoch["valid_loss"], score=score if i == last else math.nan,
                ))
        return history

    # --- fit ------------------------------------------------------------------------------

    def fit(self, X, y=None, groups=None, **fit_params):
        """Run the staged search.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv``.
        **fit_params : dict
            Passed to every training call (sliced to the training fold where per-sample).

        Returns
        -------
        self
        """
        steps, schedule = self._check_settings()
        deadline = None if self.max_time is None else time.perf_counter() + self.max_time
        scorer, _ = self._get_scorers()
        X, y, groups = indexable(X, y, groups)
        fit_params = _check_method_params(X, params=fit_params)
        base_estimator = clone(self.estimator)
        check_trainable(base_estimator, fit_params)
        cv = check_cv(self.cv, y, classifier=is_classifier(base_estimator))
        splits = list(cv.split(X, y, groups))
        if not splits:
            raise ValueError(f"Invalid cv={self.cv!r}: it gave no train/test splits (an "
                             "iterator that was already used up?).")
        self.n_splits_ = len(splits)
        # a label set for 1-D class labels (multi-task targets such as cnn-lstm's have none)
        classes = np.unique(y) if is_classifier(base_estimator) and y is not None \
            and np.ndim(y) == 1 else None
        self.rung_epochs_ = schedule
        extended_splits = None
        if self.extended_cv is not None:
            try:  # checked also when top_k=0 skips the stage: a typo would go unnoticed
                extended = check_cv(self.extended_cv, y, classifier=is_classifier(
                    base_estimator))
                if self.top_k:
                    extended_splits = list(extended.split(X, y, groups))
            except ValueError as exc:  # scikit-learn's message names it cv
                raise ValueError(f"Invalid extended_cv={self.extended_cv!r}: {exc}") from exc
            if self.top_k and not extended_splits:
                raise ValueError(f"Invalid extended_cv={self.extended_cv!r}: it gave no "
                                 "train/test splits (an iterator that was already used up?).")
            if extended_splits is not None and _same_splits(extended_splits, splits):
                extended_splits = None  # cv's folds after all: the fold models train on

        total = self.extended_epochs or 2 * self.max_epochs
        final_epochs = total if self.top_k else schedule[-1]  # no fold model trains past them
        net = trained_step(base_estimator)
        if hasattr(net, "schedule_params"):
            # an LR schedule over the search's epochs, not the estimator's own max_epochs: a
            # cosine would restart past it, and the refit follow another one than its folds
            net.set_params(**net.schedule_params(final_epochs))
        fingerprint = self._fingerprint(base_estimator, X, y, splits, fit_params, schedule,
                                        extended_splits)
        run = StagedRun(
            self, base_estimator, X, y, splits, fit_params, classes, scorer, schedule,
            final_epochs, fingerprint, order=self._order, score_of=self._score_of,
            deadline=deadline, extended_splits=extended_splits,
        )
        run.draw(steps, self.param_space)
        run.explore()
        every = self.extended_eval_every or max(1, round(self.max_epochs / self.factor))
        if self.top_k:
            run.extend(self.top_k, total, every, self.extended_patience)
        self.timed_out_ = run.timed_out

        rows = [cand.row() for cand in run.candidates]
        metrics = self._metrics(rows)
        if metrics is None:
            errors = sorted({row["error"] for row in rows})
            raise ValueError(
                f"All {len(rows)} candidates failed. Errors: " + "; ".join(errors[:3])
            )
        _warn_failures(rows)
        self.multimetric_ = self._is_multimetric(metrics)
        selection = self._selection_metric(metrics)
        results = self._results(rows, metrics)
        self.cv_results_ = results
        self.history_ = self._history(run.records, self._ranking_metric(metrics))
        self.n_epochs_total_ = int(sum(len(r["history"]) for r in run.records))
        del run  # its fold models: not held through the refit

        refit_metric = selection if self.multimetric_ else "score"
        if self.refit or not self.multimetric_:
            self.best_index_ = int(self._select_best_index(self.refit, refit_metric, results))
            if not callable(self.refit):
                self.best_score_ = float(results[f"mean_test_{refit_metric}"][self.best_index_])
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self._refit(base_estimator, X, y, classes, fit_params, fingerprint)
        self.scorer_ = scorer._scorers if hasattr(scorer, "_scorers") else scorer
        return self

    def _refit(self, base_estimator, X, y, classes, fit_params, fingerprint):
        """Train the best candidate on all data for as many epochs as its CV evaluation (or
        load that refit from the store, where an earlier run of the same search saved it)."""
        epochs = int(self.cv_results_["epochs"][self.best_index_])
        key, loaded = None, None
        if self.store is not None:
            key = refit_key(fingerprint, self.best_index_, self.best_params_, epochs)
            loaded = self.store.load_fit(key)
        if loaded is not None:
            estimator, record = loaded
            self.refit_time_ = record["fit_time"]
        else:
            estimator = clone(base_estimator).set_params(**clone(self.best_params_, safe=False))
            net = trained_step(estimator)
            if is_skorch_net(net):
                # get_params() of the refit net then tells how long it was trained
                net.set_params(max_epochs=epochs)
            warm_start = net.get_params().get("warm_start")
            start = time.perf_counter()
            with seeded(refit_seed(self.random_state)):
                losses = train_epochs(estimator, X, y, epochs, classes, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            if trains_by_warm_start(net):
                # the search's own settings out: a later fit() trains from scratch, as long
                net.set_params(warm_start=warm_start, max_iter=epochs)
            if self.store is not None:
                self.store.save_fit(key, estimator, dict(
                    params=dict(self.best_params_), candidate=self.best_index_, fold=None,
                    stage="refit", rung=None, epochs=epochs, scores={},
                    fit_time=self.refit_time_, score_time=0.0, status="ok", error="",
                    history=[{"epoch": i + 1, **loss} for i, loss in enumerate(losses)]))
        self.best_estimator_ = estimator
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_


def _warn_failures(rows):
    """FitFailedWarning for the candidates that failed, as scikit-learn's searches warn."""
    errors = Counter(row["error"] for row in rows if row["status"] == "failed")
    if errors:
        listed = "\n".join(f"{n} candidate(s): {error}" for error, n in errors.most_common())
        warn(
            f"{sum(errors.values())} of {len(rows)} candidates failed; cv_results_['status'] "
            f"says which and cv_results_['error'] why. The errors:\n{listed}",
            FitFailedWarning)
    kept = [row["error"] for row in rows if row["status"] == "ok" and row["error"]]
    if kept:
        warn(
            f"{len(kept)} of {len(rows)} candidates failed training on in the extended stage "
            "and keep their evaluation before it:\n" + "\n".join(kept),
            FitFailedWarning)


def _summarise_own_folds(results, index, row):
    """Means and spreads of row ``index`` over the folds it was evaluated on, the first ones
    (its other ``split{k}_*`` columns are another stage's folds, NaN)."""
    n_folds = len(row["scores"])
    for key in [k for k in results if k.startswith("split0_")]:
        name = key[len("split0_"):]
        values = [results[f"split{k}_{name}"][index] for k in range(n_folds)]
        results[f"mean_{name}"][index] = np.mean(values)
        results[f"std_{name}"][index] = np.std(values)
    for name, values in (("fit_time", row["fit_times"]), ("score_time", row["score_times"])):
        results[f"mean_{name}"][index] = np.mean(values)
        results[f"std_{name}"][index] = np.std(values)


def _same_splits(a, b):
    return len(a) == len(b) and all(
        np.array_equal(train_a, train_b) and np.array_equal(test_a, test_b)
        for (train_a, test_a), (train_b, test_b) in zip(a, b))


def _check_at_least(name, value, other_name, other):
    if value < other:
        raise ValueError(f"Invalid {name}={value!r}: must be >= {other_name}={other!r}.")
