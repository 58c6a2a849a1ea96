"""The execution of one staged search: candidates, rungs, units, store and learning curves.

:class:`StagedRun` holds everything that lives only for one ``fit`` call, so the estimator keeps
nothing but its parameters and fitted attributes.
"""

import math
import pickle
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from .._warnings import warn
from ._candidates import make_sampler
from ._schedule import assign_brackets, n_survivors
from ._units import params_hash, run_unit, unit_key, unit_seed

EXPLORE, EXTENDED = "explore", "extended"


def _point(params):
    """The identity of a parameter setting: its hash (its repr where a value, such as a
    lambda, cannot be pickled)."""
    try:
        return params_hash(params)
    except Exception:
        return repr(sorted(params.items(), key=lambda item: item[0]))


def _unpickles(model, key):
    """Whether a fold model a store gave back (pickled, as units return them) unpickles here;
    a RuntimeWarning says it is trained again where it does not (its classes moved, say)."""
    if not isinstance(model, bytes):
        return True  # a store written before units returned bytes unpickled it already
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a copy to throw away: e.g. no GPU to load it on
            pickle.loads(model)
    except Exception as exc:
        warn(f"The stored fit {key!r} cannot be unpickled ({type(exc).__name__}: "
             f"{exc}); it is trained again.", RuntimeWarning)
        return False
    return True


@dataclass
class Candidate:
    """The state of one candidate during the search (its latest evaluation per fold)."""

    index: int
    params: dict
    n_splits: int
    bracket: int = 0
    stage: str = EXPLORE
    rung: int = -1
    epochs: int = 0
    status: str = "ok"
    error: str = ""
    models: list = field(default=None)  # per fold: pickled (bytes) by the unit that trained it
    fold_epochs: list = field(default=None)  # epochs actually trained per fold
    scores: list = field(default=None)  # {metric: float} per fold
    train_scores: list = field(default=None)  # the same on the training part (when asked)
    fit_times: list = field(default=None)  # cumulative per fold
    score_times: list = field(default=None)
    checkpoint: dict = None  # extended stage: the evaluation early stopping keeps

    def __post_init__(self):
        self.start_over(self.n_splits)

    def start_over(self, n_splits):
        """No fold trained yet, on ``n_splits`` folds."""
        k = self.n_splits = n_splits
        self.epochs, self.checkpoint = 0, None
        self.models, self.fold_epochs = [None] * k, [0] * k
        self.scores, self.fit_times, self.score_times = [{}] * k, [0.0] * k, [0.0] * k
        self.train_scores = [{}] * k

    @property
    def alive(self):
        return self.status == "ok"

    def row(self):
        """The candidate's row of cv_results_: its checkpoint in the extended stage."""
        if self.checkpoint is not None and self.status == "ok":
            return dict(self.checkpoint)
        return dict(params=self.params, stage=self.stage, rung=self.rung, epochs=self.epochs,
                    status=self.status, error=self.error, scores=list(self.scores),
                    train_scores=list(self.train_scores), fit_times=list(self.fit_times),
                    score_times=list(self.score_times))


class StagedRun:
    """Run the exploration rungs and the extended stage of one ``fit``.

    Parameters
    ----------
    search : StagedHalvingSearchCV
        Supplies the settings (read only).
    base_estimator, X, y, splits, fit_params, classes, scorer
        The prepared inputs of ``fit``.
    schedule : list of int
        Cumulative epochs per exploration rung.
    final_epochs : int
        The epochs no fold model trains past (the extended stage's, else the last rung's): a
        unit that reaches them returns no model, unless the store saves it.
    fingerprint : str
        Hash of the search configuration, the first part of every store key.
    order : callable
        ``order(rows, n)``: indices of the ``n`` best rows, best first.
    score_of : callable
        ``score_of(row)``: the row's mean selection score (what sequential samplers and the
        history's ``score`` use).
    deadline : float or None
        ``time.perf_counter()`` value after which no new step starts (``max_time``).
    extended_splits : list of (train, test) or None
        The extended stage's own folds (``extended_cv``); None: ``splits``.
    """

    def __init__(self, search, base_estimator, X, y, splits, fit_params, classes, scorer,
                 schedule, final_epochs, fingerprint, order, score_of, deadline=None,
                 extended_splits=None):
        self.search = search
        self.base_estimator = base_estimator
        self.X, self.y, self.splits = X, y, splits
        self.fit_params, self.classes, self.scorer = fit_params, classes, scorer
        self.schedule, self.final_epochs, self.fingerprint = schedule, final_epochs, fingerprint
        self.order, self.score_of = order, score_of
        self.deadline, self.timed_out = deadline, False
        self.extended_splits = extended_splits
        self.candidates = []
        self._records = []  # (evaluation, candidate, fold, record) per unit
        self._evaluation = 0

    # --- units ----------------------------------------------------------------------------

    def may_go_on(self):
        """Whether the time budget lets the next step start (remembers when it did not)."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            if not self.timed_out:
                self._log("max_time is spent: no further step starts")
            self.timed_out = True
        return not self.timed_out

    def _log(self, message):
        if self.search.verbose:
            print(f"[StagedHalvingSearchCV] {message}")

    def evaluate(self, targets, rung, stage):
        """Train each ``(candidate, target_epochs)`` on every fold up to rung ``rung``."""
        search, store = self.search, self.search.store
        self._evaluation += 1
        tasks, models = [], []
        for cand, target in targets:
            for fold, (train, test) in enumerate(self.splits):
                key, loaded = None, None
                if store is not None:
                    key = unit_key(self.fingerprint, cand.index, cand.params, fold, stage, rung,
                                   cand.epochs, target)
                    loaded = store.load_fit(key)
                if loaded is not None and loaded[1]["status"] == "failed" \
                        and search.error_score == "raise":
                    loaded = None  # trained again, to raise its error as asked
                if loaded is not None and not _unpickles(loaded[0], key):
                    loaded = None
                if loaded is not None:
                    self._apply(cand, fold, *loaded)
                    continue
                model = cand.models[fold]
                if model is None:
                    # cloned values too, as scikit-learn's searches do: an estimator in the
                    # space would otherwise be shared by the folds and fitted in the user's object
                    model = clone(self.base_estimator).set_params(
                        **clone(cand.params, safe=False))
                # counted now: a failing fold moves cand.epochs before a lazy Parallel (n_jobs=1)
                # builds the next fold's call
                tasks.append((cand, fold, key, target, target - cand.epochs, train, test))
                models.append(model)
        self._log(f"{stage} rung {rung}: {len(targets)} candidate(s), {len(tasks)} unit(s) "
                  f"to train")
        start, work = time.perf_counter(), 0.0
        pending, dispatched, started = list(range(len(tasks))), [], Counter()

        def longest_first(i):
            # a candidate of unknown pace first, one fold each (it tells its pace soonest),
            # then by expected time at its pace so far on any fold (read in joblib's thread as
            # units finish), so that short units fill the end of the rung instead of one long
            # unit running on alone; only the order changes, never a result
            cand, n_epochs = tasks[i][0], tasks[i][4]
            epochs = sum(cand.fold_epochs)
            expected = sum(cand.fit_times) / epochs * n_epochs if epochs else math.inf
            return -expected, started[cand.index], i

        def calls():
            while pending:
                i = min(pending, key=longest_first)
                pending.remove(i)
                started[tasks[i][0].index] += 1
                dispatched.append(i)  # results come back in dispatch order
                cand, fold, key, target, n_epochs, train, test = tasks[i]
                # handed over: the unit returns the model trained on, and the old one (a fold
                # model of each candidate per unit) should not stay in memory until the rung ends
                model, models[i], cand.models[fold] = models[i], None, None
                yield delayed(run_unit)(
                    model, self.X, self.y, train, test, n_epochs, self.scorer,
                    seed=unit_seed(search.random_state, cand.index, fold, rung),
                    classes=self.classes, fit_params=self.fit_params,
                    error_score=search.error_score, train_score=search.return_train_score,
                    keep=store is not None or target < self.final_epochs)

        results = Parallel(n_jobs=search.n_jobs, return_as="generator")(calls())
        for n_done, (pickled, result) in enumerate(results):
            # in dispatch order, which keeps a candidate's folds in order: the error of one
            # failing on several is its first fold's
            cand, fold, key, target = tasks[dispatched[n_done]][:4]
            work += result["fit_time"] + result["score_time"]
            history = [
                {"epoch": cand.fold_epochs[fold] + i + 1, **losses}
                for i, losses in enumerate(result["losses"])
            ]
            record = dict(
                params=dict(cand.params), candidate=cand.index, fold=fold, stage=stage,
                rung=rung, epochs=target, scores=result["scores"],
                train_scores=result["train_scores"],
                fit_time=result["fit_time"], score_time=result["score_time"],
                status=result["status"], error=result["error"], history=history,
            )
            if store is not None:
                store.save_fit(key, pickled, record)  # as each unit completes: nothing is lost
            self._apply(cand, fold, pickled, record)
        if tasks:
            # work / wall near n_jobs means the workers were busy; lower, that they waited
            self._log(f"{stage} rung {rung}: {time.perf_counter() - start:.1f}s wall, "
                      f"{work:.1f}s of fitting and scoring summed over units")
        for cand, target in targets:
            if cand.alive:
                cand.stage, cand.rung, cand.epochs = stage, rung, target
                if math.isnan(self.score_of(cand.row())):
                    self._fail_unranked(cand)

    def _fail_unranked(self, cand):
        """A candidate whose scorer gave NaN cannot be ranked against the others: it fails
        (as one that raised), where dropping it from the ranking would call it pruned."""
        folds = [fold for fold, scores in enumerate(cand.scores)
                 if any(math.isnan(value) for value in scores.values())]
        cand.status = "failed"
        cand.error = (f"the scorer returned NaN on fold(s) {', '.join(map(str, folds))}, so "
                      "the candidate cannot be ranked")
        cand.models = [None] * len(cand.models)
        self._log(f"candidate {cand.index} failed: {cand.error}")

    def _apply(self, cand, fold, model, record):
        """Take a finished (trained or loaded) unit into the candidate's state."""
        self._records.append((self._evaluation, cand.index, fold, record))
        cand.models[fold] = model
        cand.fold_epochs[fold] += len(record["history"])
        cand.scores[fold] = dict(record["scores"])
        cand.fit_times[fold] += record["fit_time"]
        cand.score_times[fold] = record["score_time"]
        cand.train_scores[fold] = dict(record.get("train_scores", {}))
        if record["status"] != "ok" and cand.status != "failed":
            # one failing fold fails the candidate: the rest of its folds are not comparable
            cand.stage, cand.rung, cand.epochs = record["stage"], record["rung"], record["epochs"]
            cand.status, cand.error = "failed", record["error"]
            self._log(f"candidate {cand.index} failed: {record['error']}")
        if cand.status == "failed":
            cand.models = [None] * len(cand.models)

    @property
    def records(self):
        """One plain dict per unit, ordered by evaluation, candidate and fold (the same order
        whether units were trained, run in parallel or loaded from a store)."""
        return [entry[-1] for entry in sorted(self._records, key=lambda e: e[:3])]

    # --- exploration ----------------------------------------------------------------------

    def _add(self, params_list, bracket=0):
        # every candidate is a point of its own: skopt and Optuna re-propose evaluated points
        # of small categorical spaces, and evaluating one again would only cost epochs
        drawn = {_point(c.params) for c in self.candidates}
        fresh = []
        for params in params_list:
            point = _point(params)
            if point not in drawn:
                drawn.add(point)
                fresh.append(params)
        new = [Candidate(len(self.candidates) + i, dict(p), len(self.splits), bracket)
               for i, p in enumerate(fresh)]
        self.candidates.extend(new)
        return new

    def _observations(self):
        """(params, first-rung mean score) of every candidate evaluated so far, in the order
        they were drawn; NaN for one that failed (samplers learn to avoid it)."""
        return [(c.params, self.score_of(c.row()) if c.alive else math.nan)
                for c in self.candidates if c.alive and c.rung >= 0 or c.status == "failed"]

    def draw(self, steps, param_space):
        """Draw the candidates of every sampler step; sequential ones are evaluated at rung 0
        as they are drawn so the next proposal can use their scores."""
        search = self.search
        for i, (name, n, batch) in enumerate(steps):
            if self.candidates and not self.may_go_on():
                break
            seed = None if search.random_state is None else \
                int(np.random.SeedSequence([int(search.random_state), i]).generate_state(1)[0])
            sampler = make_sampler(name, param_space, seed)
            if not sampler.sequential:
                self._add(sampler.propose(n, self._observations()))
                continue
            self.evaluate([(c, self.schedule[0]) for c in self.candidates if c.rung < 0],
                          0, EXPLORE)
            drawn = 0
            while drawn < n and (not self.candidates or self.may_go_on()):
                size = min(batch, n - drawn)
                new = self._add(sampler.propose(size, self._observations()))
                self.evaluate([(c, self.schedule[0]) for c in new], 0, EXPLORE)
                drawn += size
        if not self.candidates:
            raise ValueError("The samplers proposed no candidates: param_space is empty.")

    def explore(self):
        """Successive halving over the rungs, per Hyperband bracket."""
        search, schedule = self.search, self.schedule
        if search.brackets > 1:
            labels = assign_brackets(len(self.candidates), search.brackets, len(schedule),
                                     search.factor, search.random_state)
            for cand, label in zip(self.candidates, labels):
                cand.bracket = label
        for rung, target in enumerate(schedule):
            if rung > 0 and not self.may_go_on():
                break
            due = [c for c in self.candidates
                   if c.alive and c.bracket <= rung and c.rung == rung - 1
                   or c.alive and c.bracket == rung and c.rung < 0]
            self.evaluate([(c, target) for c in due], rung, EXPLORE)
            if rung == len(schedule) - 1:
                break
            for bracket in range(min(rung, search.brackets - 1) + 1):
                group = [c for c in self.candidates
                         if c.alive and c.bracket == bracket and c.rung == rung]
                keep = self.order([c.row() for c in group],
                                  n_survivors(len(group), search.factor))
                kept = {group[i].index for i in keep}
                for cand in group:
                    if cand.index not in kept:
                        cand.status = "pruned"
                        if not search.top_k:  # no extended stage will take it up again
                            cand.models = [None] * len(cand.models)

    # --- extended stage -------------------------------------------------------------------

    def extend(self, top_k, total_epochs, every, patience):
        """Train the ``top_k`` best explored candidates up to ``total_epochs`` under the same
        folds, evaluating every ``every`` epochs; stop a candidate when its mean score has not
        improved for ``patience`` epochs and keep its best evaluation (the one it entered with
        included). With folds of the stage's own, the candidates start new fold models on
        them and keep their best evaluation on them."""
        own_folds = self.extended_splits is not None
        ranked = [c for c in self.candidates if c.status in ("ok", "pruned")]
        by_rung = sorted({c.rung for c in ranked}, reverse=True)
        top = []
        for rung in by_rung:  # later rungs first: they were trained longer
            group = [c for c in ranked if c.rung == rung]
            top += [group[i] for i in self.order([c.row() for c in group], top_k - len(top))]
            if len(top) >= top_k:
                break
        if (own_folds or any(c.epochs < total_epochs for c in top)) and not self.may_go_on():
            return  # out of time for a stage that would train: the exploration's rows stand
        for cand in self.candidates:
            if cand not in top:
                cand.models = [None] * len(cand.models)  # free memory: never trained again
        for cand in top:
            cand.status, cand.stage = "ok", EXTENDED
            if own_folds:
                # new fold models from scratch: the explored ones learned from these folds'
                # test parts, and their evaluation, on other folds, is none to beat here
                cand.start_over(len(self.extended_splits))
            else:
                # all of them compete in this stage, those already trained total_epochs
                # included; the evaluation they enter with is the first to beat, as in
                # skorch's load_best
                cand.checkpoint = cand.row()
        if own_folds:
            self.splits = self.extended_splits
        active = [c for c in top if c.epochs < total_epochs]
        rung = len(self.schedule)
        # the first evaluation was allowed above (on the stage's own folds nothing else would
        # stand), the later ones need time left
        while active and (rung == len(self.schedule) or self.may_go_on()):
            self.evaluate([(c, min(c.epochs + every, total_epochs)) for c in active], rung,
                          EXTENDED)
            still = []
            for cand in active:
                if not cand.alive and cand.checkpoint is None:
                    continue  # failed before a complete evaluation on the stage's own folds
                if not cand.alive:
                    # training on failed; the evaluation it kept was complete and stands, as
                    # early stopping keeps the best epoch when later ones go wrong
                    cand.status = "ok"
                    cand.checkpoint = dict(cand.checkpoint, error=(
                        f"training on to {cand.epochs} epochs failed, the evaluation at "
                        f"{cand.checkpoint['epochs']} epochs is kept: {cand.error}"))
                    continue
                if cand.checkpoint is None:  # its first evaluation on the stage's own folds
                    cand.checkpoint = cand.row()
                    current = cand.checkpoint
                else:
                    current = dict(
                        cand.checkpoint, rung=rung, epochs=cand.epochs,
                        scores=list(cand.scores), train_scores=list(cand.train_scores),
                        fit_times=list(cand.fit_times), score_times=list(cand.score_times))
                if self.order([cand.checkpoint, current], 1) == [1]:
                    cand.checkpoint = current
                waited = cand.epochs - cand.checkpoint["epochs"]
                if cand.epochs < total_epochs and (patience is None or waited < patience):
                    still.append(cand)
                else:
                    cand.models = [None] * len(cand.models)
            active = still
            rung += 1
