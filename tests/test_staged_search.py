"""StagedHalvingSearchCV: warm-started rungs, results format, failures, multi-metric refit,
reproducibility (sequential, parallel, dask, resumed from a store)."""

import math
import pickle
import re
import threading
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import loguniform, norm
from skorch.callbacks import Callback
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss, make_scorer
from sklearn.model_selection import KFold, ShuffleSplit
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skhyper import StagedHalvingSearchCV
from skhyper.analysis import SmallestWithinOneSE, n_parameters_scorer
from skhyper.search._candidates import BayesSampler
from skhyper.search._schedule import bracket_sizes, rung_epochs

TIMING = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")

# Epochs seen by EpochCounter; module level so the callback itself holds no state (the store
# fingerprint hashes the estimator's parameters, callbacks included).
EPOCHS = []


class EpochCounter(Callback):
    def on_epoch_end(self, net, **kwargs):
        EPOCHS.append(len(net.history))


@pytest.fixture
def counted_lstm(tiny_lstm):
    EPOCHS.clear()
    return tiny_lstm(callbacks=[("count", EpochCounter())])


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=120, n_features=6, n_informative=4, random_state=0)


def sgd():
    return SGDClassifier(loss="log_loss", random_state=0)


class MemoryStore:
    """An in-memory fit store (the protocol of skhyper.tracking.ExperimentStore).

    Pickles on save and unpickles on load, as a store on disk does: the search keeps training
    the object it saved.
    """

    def __init__(self, fail_after=None):
        self.fits, self.fail_after, self.loads = {}, fail_after, 0

    def load_fit(self, key):
        if key not in self.fits:
            return None
        self.loads += 1
        estimator, record = pickle.loads(self.fits[key])
        return estimator, record

    def save_fit(self, key, estimator, record):
        if self.fail_after is not None and len(self.fits) >= self.fail_after:
            raise KeyboardInterrupt("simulated crash")
        self.fits[key] = pickle.dumps((estimator, record))


def assert_same_results(a, b):
    assert list(a) == list(b)
    for key in a:
        if key in TIMING or key.startswith("split") and key.endswith("time"):
            continue
        left, right = np.asarray(a[key]), np.asarray(b[key])
        if left.dtype.kind == "f":
            np.testing.assert_array_equal(left, right, err_msg=key)
        else:
            assert list(left) == list(right), key


# --- schedule -------------------------------------------------------------------------------


def test_rung_schedule_grows_by_factor_to_max_epochs():
    assert rung_epochs(1, 9, 3) == [1, 3, 9]
    assert rung_epochs(2, 20, 3) == [2, 7, 20]
    assert rung_epochs(1, 4, 2) == [1, 2, 4]
    assert rung_epochs(5, 5, 3) == [5]
    # numpy integers too, and the schedule holds plain ints
    epochs = rung_epochs(np.int64(1), np.int64(9), np.int64(3))
    assert epochs == [1, 3, 9] and {type(e) for e in epochs} == {int}
    assert bracket_sizes(24, 3, 3, 3) == [12, 7, 5]
    assert bracket_sizes(1, 3, 3, 3) == [1, 0, 0]  # too few for every bracket: the first


# --- warm starting --------------------------------------------------------------------------


def test_survivors_continue_training_never_from_scratch(tiny_sine, counted_lstm):
    search = StagedHalvingSearchCV(
        counted_lstm, {"hidden_size": [4, 8], "lr": [1e-3, 3e-3, 1e-2]}, min_epochs=1,
        max_epochs=4, factor=2, cv=KFold(2), top_k=0, random_state=0,
        scoring="neg_mean_squared_error", refit=False,
    ).fit(tiny_sine.X, tiny_sine.y)
    # rungs at 1, 2, 4 epochs with 6 -> 3 -> 1 candidates; survivors only add the difference
    expected = 2 * (6 * 1 + 3 * (2 - 1) + 1 * (4 - 2))
    assert len(EPOCHS) == expected == search.n_epochs_total_
    results = search.cv_results_
    assert list(results["epochs"]).count(4) == 1 and list(results["epochs"]).count(2) == 2
    assert sorted(results["status"]) == ["ok"] + ["pruned"] * 5
    history = pd.DataFrame(search.history_)
    winner = int(np.flatnonzero(results["epochs"] == 4)[0])
    for fold in (0, 1):
        # one fold model per candidate, trained 1, 2, 3, 4 epochs: never restarted
        curve = history[(history.candidate == winner) & (history.fold == fold)]
        assert curve.epoch.tolist() == [1, 2, 3, 4]
        assert curve.rung.tolist() == [0, 1, 2, 2]
        assert curve.score.notna().tolist() == [True, True, False, True]
    assert not hasattr(search, "best_estimator_")


def test_extended_stage_continues_and_early_stops(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}, min_epochs=1, max_epochs=3, factor=2,
        cv=3, top_k=2, extended_epochs=30, extended_eval_every=1, extended_patience=2,
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    extended = np.flatnonzero(results["stage"] == "extended")
    assert len(extended) == 2
    history = pd.DataFrame(search.history_)
    for c in extended:
        evaluations = history[history.candidate == c].dropna(subset=["score"])
        entered = evaluations[evaluations.stage == "explore"].epoch.max()
        scores = evaluations.groupby("epoch").score.mean().loc[entered:]
        kept = results["epochs"][c]
        # the row keeps the best evaluation from the one it entered with on; training stopped
        # within patience after it
        assert scores.idxmax() == kept
        assert scores.index.max() <= kept + 2
        assert results["mean_test_score"][c] == pytest.approx(scores.max())
    assert results["rank_test_score"][search.best_index_] == 1
    assert search.best_index_ in extended
    assert search.best_estimator_.t_ > 0  # refit continued from nothing on all data


class PeaksAtEpoch(BaseEstimator):
    """Scores -|epochs trained - peak|: best after ``peak`` epochs, worse with each more."""

    def __init__(self, peak=3):
        self.peak = peak

    def fit(self, X, y=None):
        self.t_ = 0
        return self.partial_fit(X, y)

    def partial_fit(self, X, y=None):
        self.t_ = getattr(self, "t_", 0) + 1
        return self

    def score(self, X, y=None):
        return -abs(self.t_ - self.peak)


class HoldsAMegabyte(PeaksAtEpoch):
    """Pickles to about 1 MB; records, at each epoch, the memory Python holds (tracemalloc)."""

    held = []

    def partial_fit(self, X, y=None):
        self.weights_ = getattr(self, "weights_", None)
        if self.weights_ is None:
            self.weights_ = np.ones(MEGABYTE // 8)
        HoldsAMegabyte.held.append(tracemalloc.get_traced_memory()[0])
        return super().partial_fit(X, y)


MEGABYTE = 2 ** 20


def test_fold_models_of_pruned_candidates_are_freed():
    HoldsAMegabyte.held.clear()
    tracemalloc.start()
    try:
        search = StagedHalvingSearchCV(
            HoldsAMegabyte(), {"peak": list(range(1, 10))}, min_epochs=1, max_epochs=3,
            factor=3, cv=2, top_k=0, random_state=0,
        ).fit(np.zeros((12, 2)))
    finally:
        tracemalloc.stop()
    held = np.array(HoldsAMegabyte.held) / MEGABYTE
    # rung 0 keeps 9 candidates x 2 folds; rung 1 trains on the 3 survivors' 6 fold models
    # (18 if the pruned ones were kept)
    assert held[17] > 16 and held[18:-3].max() < 10
    assert held[-3:].max() < 3  # the refit, 3 epochs, with no fold model left
    assert search.best_estimator_.t_ == 3


def test_the_searching_process_never_unpickles_a_fold_model():
    # Units return their fold models pickled and unpickle them where they train on: a
    # parent process that unpickled them would place every net on its device (a Dask client
    # may have no GPU at all).
    CountsUnpickling.in_this_process = 0
    search = StagedHalvingSearchCV(
        CountsUnpickling(), {"peak": [1, 2, 3, 4]}, min_epochs=1, max_epochs=4, factor=2,
        cv=2, top_k=1, extended_epochs=6, n_jobs=2, random_state=0,
    ).fit(np.zeros((12, 2)))
    assert search.n_epochs_total_ == 4 * 2 * 1 + 2 * 2 * 1 + 1 * 2 * 2 + 1 * 2 * 2
    assert CountsUnpickling.in_this_process == 0


class UnitClock:
    """Stands in for the time module of the units: epochs advance it by their cost."""

    now = 0.0

    @staticmethod
    def perf_counter():
        return UnitClock.now


class TakesItsTime(PeaksAtEpoch):
    """Each epoch takes ``cost`` seconds on the units' clock; the costs land in ``trained``."""

    trained = []

    def __init__(self, peak=3, cost=1.0):
        super().__init__(peak=peak)
        self.cost = cost

    def partial_fit(self, X, y=None):
        TakesItsTime.trained.append(self.cost)
        UnitClock.now += self.cost
        return super().partial_fit(X, y)


def test_units_known_to_take_longest_are_dispatched_first(monkeypatch):
    from skhyper.search import _units

    monkeypatch.setattr(_units, "time", UnitClock)
    TakesItsTime.trained.clear()
    # the survivors are the peak=1 candidates, cheap (index 0) and costly (index 2)
    StagedHalvingSearchCV(
        TakesItsTime(), {"peak": [1, 2], "cost": [1.0, 5.0]}, min_epochs=1, max_epochs=2,
        factor=2, cv=2, top_k=0, refit=False, random_state=0,
    ).fit(np.zeros((12, 2)))
    # rung 0: one fold of each candidate in order, no cost known yet, then the costly ones'
    # other folds; rung 1: the costly survivor's folds first
    assert TakesItsTime.trained == [1.0, 1.0, 5.0, 5.0] + [5.0, 5.0, 1.0, 1.0] * 2


@pytest.fixture
def unit_clock(monkeypatch):
    """The search's clock is UnitClock, which TakesItsTime's epochs advance."""
    from skhyper.search import _run, _staged

    UnitClock.now = 0.0
    TakesItsTime.trained.clear()
    monkeypatch.setattr(_run, "time", UnitClock)
    monkeypatch.setattr(_staged, "time", UnitClock)


def test_max_time_stops_the_search_between_steps(unit_clock):
    # rungs at 1, 2, 4 epochs and an extended stage; rung 0 alone takes 4 x 2 x 1 s
    settings = dict(min_epochs=1, max_epochs=4, factor=2, cv=2, top_k=1, random_state=0)
    search = StagedHalvingSearchCV(TakesItsTime(), {"peak": [1, 2, 3, 4]}, max_time=5,
                                   **settings).fit(np.zeros((12, 2)))
    results = search.cv_results_
    assert search.timed_out_ and search.n_epochs_total_ == 8
    assert list(results["epochs"]) == [1] * 4 and list(results["stage"]) == ["explore"] * 4
    assert list(results["status"]) == ["ok", "ok", "pruned", "pruned"]  # rung 0's survivors
    assert search.best_params_ == {"peak": 1} and search.best_estimator_.t_ == 1

    untimed = StagedHalvingSearchCV(TakesItsTime(), {"peak": [1, 2, 3, 4]},
                                    **settings).fit(np.zeros((12, 2)))
    ample = StagedHalvingSearchCV(TakesItsTime(), {"peak": [1, 2, 3, 4]}, max_time=1e6,
                                  **settings).fit(np.zeros((12, 2)))
    assert not ample.timed_out_ and not untimed.timed_out_
    assert_same_results(untimed.cv_results_, ample.cv_results_)
    assert ample.n_epochs_total_ == 8 + 2 * 2 * 1 + 1 * 2 * 2 + 1 * 2 * 4  # extended to 8


def test_max_time_stops_a_sequential_sampler_proposing(unit_clock):
    search = StagedHalvingSearchCV(
        TakesItsTime(), {"peak": [1, 2, 3, 4, 5, 6]}, sampler=[("random", 2), ("finetune", 4)],
        min_epochs=1, max_epochs=1, cv=2, top_k=0, max_time=3, random_state=0,
    ).fit(np.zeros((12, 2)))
    assert search.timed_out_ and len(search.cv_results_["params"]) == 2


def test_max_time_stops_between_sampler_steps(unit_clock):
    # finetune's proposal is not made, and the random step after it draws nothing
    search = StagedHalvingSearchCV(
        TakesItsTime(), {"peak": [1, 2, 3, 4, 5, 6]},
        sampler=[("random", 2), ("finetune", 1), ("random", 2)], min_epochs=1, max_epochs=1,
        cv=2, top_k=0, max_time=3, random_state=0,
    ).fit(np.zeros((12, 2)))
    assert search.timed_out_ and len(search.cv_results_["params"]) == 2


def test_max_time_stops_the_extended_stage_between_evaluations(unit_clock):
    # rungs at 1 and 2 epochs (4 + 2 s), then evaluations every 2 epochs (4 s each) up to 6
    search = StagedHalvingSearchCV(
        TakesItsTime(), {"peak": [9, 10]}, min_epochs=1, max_epochs=2, factor=2, cv=2, top_k=1,
        extended_epochs=6, extended_eval_every=2, max_time=8, random_state=0,
    ).fit(np.zeros((12, 2)))
    best = search.best_index_
    assert search.timed_out_ and search.n_epochs_total_ == 4 + 2 + 4
    assert search.cv_results_["stage"][best] == "extended"
    assert search.cv_results_["epochs"][best] == 4 and search.best_estimator_.t_ == 4


def test_max_time_changes_nothing_when_the_extended_stage_trains_nothing(unit_clock):
    # extended_epochs == max_epochs: the stage only ranks the top_k; spent time skips nothing
    settings = dict(min_epochs=1, max_epochs=2, factor=2, cv=2, top_k=2, extended_epochs=2,
                    random_state=0)
    timed = StagedHalvingSearchCV(TakesItsTime(), {"peak": [1, 2, 3, 4]}, max_time=11,
                                  **settings).fit(np.zeros((12, 2)))
    untimed = StagedHalvingSearchCV(TakesItsTime(), {"peak": [1, 2, 3, 4]},
                                    **settings).fit(np.zeros((12, 2)))
    assert not timed.timed_out_
    assert_same_results(untimed.cv_results_, timed.cv_results_)


def test_a_timed_out_search_resumed_matches_one_never_stopped(unit_clock):
    X, store = np.zeros((12, 2)), MemoryStore()
    settings = dict(sampler=[("random", 3), ("finetune", 2)], min_epochs=1, max_epochs=4,
                    factor=2, cv=2, top_k=1, random_state=0)
    space = {"peak": [1, 2, 3, 4, 5, 6]}
    stopped = StagedHalvingSearchCV(TakesItsTime(), space, max_time=7, store=store,
                                    **settings).fit(X)
    resumed = StagedHalvingSearchCV(TakesItsTime(), space, store=store, **settings).fit(X)
    never = StagedHalvingSearchCV(TakesItsTime(), space, **settings).fit(X)
    assert stopped.timed_out_ and len(stopped.cv_results_["params"]) < 5
    assert store.loads > 0 and not resumed.timed_out_
    assert_same_results(never.cv_results_, resumed.cv_results_)
    pd.testing.assert_frame_equal(pd.DataFrame(resumed.history_), pd.DataFrame(never.history_))


def test_max_time_is_checked():
    with pytest.raises(ValueError, match=r"max_time=0: must be > 0"):
        StagedHalvingSearchCV(PeaksAtEpoch(), {"peak": [1]}, max_time=0).fit(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"max_time=10 with brackets=2: the brackets"):
        StagedHalvingSearchCV(PeaksAtEpoch(), {"peak": [1, 2]}, max_epochs=3, brackets=2,
                              max_time=10).fit(np.zeros((4, 2)))


class CountsUnpickling(PeaksAtEpoch):
    in_this_process = 0

    def __setstate__(self, state):
        CountsUnpickling.in_this_process += 1
        self.__dict__.update(state)


def test_extended_stage_keeps_the_evaluation_it_entered_with_when_training_on_is_worse():
    X = np.zeros((12, 2))
    search = StagedHalvingSearchCV(
        PeaksAtEpoch(), {"peak": [3, 6]}, min_epochs=1, max_epochs=3, factor=3, cv=3,
        top_k=1, extended_epochs=9, extended_eval_every=1, extended_patience=2, random_state=0,
    ).fit(X)
    results = search.cv_results_
    assert search.best_index_ == 0 and results["stage"][0] == "extended"
    # trained on to 5 epochs, each worse than the 3 it entered with: the row keeps epoch 3
    assert pd.DataFrame(search.history_).query("candidate == 0").epoch.max() == 5
    assert results["epochs"][0] == 3 and results["mean_test_score"][0] == 0
    assert search.best_estimator_.t_ == 3  # the refit trains the kept evaluation's epochs


class DivergesAfterEpoch(PeaksAtEpoch):
    """As PeaksAtEpoch, but training past ``diverge_at`` epochs raises."""

    def __init__(self, peak=3, diverge_at=5):
        super().__init__(peak)
        self.diverge_at = diverge_at

    def partial_fit(self, X, y=None):
        if getattr(self, "t_", 0) >= self.diverge_at:
            raise FloatingPointError(f"loss diverged after epoch {self.t_}")
        return super().partial_fit(X, y)


def test_extended_cv_trains_new_fold_models_on_folds_of_its_own():
    # seed 004: explore on one hold-out split, extend the best under 3-fold CV
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = StagedHalvingSearchCV(
            PeaksAtEpoch(), {"peak": [2, 5, 9]}, min_epochs=1, max_epochs=3, factor=3,
            cv=ShuffleSplit(1, test_size=0.25, random_state=0), extended_cv=3, top_k=2,
            extended_epochs=6, extended_eval_every=1, random_state=0,
        ).fit(np.zeros((12, 2)))
    assert not [w for w in caught if "non-finite" in str(w.message)]
    results = search.cv_results_
    assert list(results["stage"]) == ["extended", "extended", "explore"]
    # from scratch on the new folds (the first continued to 3 epochs on the hold-out): each
    # keeps its peak, where continuing could not have gone back to 2 epochs
    assert list(results["epochs"]) == [2, 5, 1]
    assert list(results["mean_test_score"]) == [0, 0, -8]
    splits = np.array([results[f"split{k}_test_score"] for k in range(3)]).T
    assert np.isfinite(splits[:2]).all()
    assert splits[2, 0] == -8 and np.isnan(splits[2, 1:]).all()  # the hold-out's one fold
    assert results["std_test_score"][2] == 0 and np.isfinite(results["mean_fit_time"]).all()
    history = pd.DataFrame(search.history_)
    extended = history[history.stage == "extended"]
    assert sorted(extended.fold.unique()) == [0, 1, 2]
    assert extended.groupby(["candidate", "fold"]).epoch.agg(["min", "max"]).values.tolist() \
        == [[1, 6]] * 6
    # explored: 3 candidates x 1 epoch + 2 more for the survivor, on one fold; extended:
    # 2 candidates x 6 epochs x 3 folds
    assert search.n_epochs_total_ == 3 + 2 + 2 * 6 * 3
    assert search.best_index_ == 0 and search.best_estimator_.t_ == 2
    assert len(pd.DataFrame(results)) == 3


def test_extended_cv_resumes_from_a_store_and_keys_its_folds():
    X = np.random.default_rng(0).normal(size=(24, 2))
    settings = dict(min_epochs=1, max_epochs=3, factor=3, cv=2, top_k=2, extended_epochs=4,
                    extended_eval_every=2, random_state=0)
    space = {"alpha": [1e-4, 1e-2, 1.0]}
    y = (X[:, 0] > 0).astype(int)
    store = MemoryStore(fail_after=8)  # the exploration's 3 x 2 + 1 x 2 units, then a crash
    with pytest.raises(KeyboardInterrupt):
        StagedHalvingSearchCV(sgd(), space, extended_cv=3, store=store, **settings).fit(X, y)
    store.fail_after = None
    resumed = StagedHalvingSearchCV(sgd(), space, extended_cv=3, store=store,
                                    **settings).fit(X, y)
    never = StagedHalvingSearchCV(sgd(), space, extended_cv=3, **settings).fit(X, y)
    assert store.loads == 8
    assert_same_results(never.cv_results_, resumed.cv_results_)
    # a search with other extended folds (its folds 0 and 1 are not the 3-fold's) is another
    # search: it takes nothing from the store
    loads = store.loads
    other = StagedHalvingSearchCV(sgd(), space, extended_cv=KFold(2, shuffle=True,
                                  random_state=1), store=store, **settings).fit(X, y)
    alone = StagedHalvingSearchCV(sgd(), space, extended_cv=KFold(2, shuffle=True,
                                  random_state=1), **settings).fit(X, y)
    assert store.loads == loads
    assert_same_results(alone.cv_results_, other.cv_results_)


def test_extended_cv_stage_once_started_completes_its_first_evaluation(monkeypatch):
    # time runs out right after the stage started: on folds of its own, nothing else of its
    # candidates would stand, so its first evaluation completes (as a rung in progress does)
    from skhyper.search import _run

    extend = _run.StagedRun.extend

    def out_of_time_once_started(run, *args):
        answers = iter([True])
        run.may_go_on = lambda: next(answers, False)
        return extend(run, *args)

    monkeypatch.setattr(_run.StagedRun, "extend", out_of_time_once_started)
    search = StagedHalvingSearchCV(
        PeaksAtEpoch(), {"peak": [2, 5]}, min_epochs=1, max_epochs=1, cv=2, extended_cv=3,
        top_k=2, extended_epochs=4, extended_eval_every=2, random_state=0,
    ).fit(np.zeros((12, 2)))
    results = search.cv_results_
    assert list(results["stage"]) == ["extended"] * 2 and list(results["epochs"]) == [2, 2]
    assert np.isfinite(results["split2_test_score"]).all()


def test_extended_cv_equal_to_cv_continues_the_fold_models(clf_data):
    settings = dict(min_epochs=1, max_epochs=2, factor=2, top_k=2, extended_epochs=4,
                    random_state=0)
    same = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-2]}, cv=3, extended_cv=3,
                                 **settings).fit(*clf_data)
    default = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-2]}, cv=3,
                                    **settings).fit(*clf_data)
    assert_same_results(default.cv_results_, same.cv_results_)
    assert same.n_epochs_total_ == default.n_epochs_total_


def test_extended_cv_candidate_failing_before_its_first_evaluation_fails():
    # nothing complete on the stage's own folds to keep: the candidate fails
    search = StagedHalvingSearchCV(
        DivergesAfterEpoch(peak=4), {"diverge_at": [1, 20]}, min_epochs=1, max_epochs=1, cv=2,
        extended_cv=3, top_k=2, extended_epochs=4, extended_eval_every=2, random_state=0,
    )
    with pytest.warns(FitFailedWarning, match="1 of 2 candidates failed"):
        search.fit(np.zeros((12, 2)))
    results = search.cv_results_
    assert list(results["status"]) == ["failed", "ok"]
    assert "loss diverged after epoch 1" in results["error"][0]
    assert search.best_index_ == 1 and results["epochs"][1] == 4


def test_extended_training_that_fails_keeps_the_evaluation_it_had():
    search = StagedHalvingSearchCV(
        DivergesAfterEpoch(), {"peak": [5, 9]}, min_epochs=1, max_epochs=3, factor=3, cv=2,
        top_k=2, extended_epochs=9, extended_eval_every=1, random_state=0,
    )
    with pytest.warns(FitFailedWarning, match="2 of 2 candidates failed training on in the "
                                              "extended stage and keep their evaluation"):
        search.fit(np.zeros((12, 2)))
    results = search.cv_results_
    # both trained on to 5 epochs, then failed going to 6: each keeps its best (epoch 5)
    assert list(results["status"]) == ["ok", "ok"] and list(results["epochs"]) == [5, 5]
    assert list(results["mean_test_score"]) == [0, -4]
    assert results["error"][0] == ("training on to 6 epochs failed, the evaluation at 5 epochs "
                                   "is kept: FloatingPointError: loss diverged after epoch 5")
    assert search.best_index_ == 0 and search.best_estimator_.t_ == 5


def test_a_cosine_schedule_spans_the_searchs_epochs_in_every_fold_and_the_refit():
    from skhyper import make_estimator

    X = np.random.default_rng(0).normal(size=(60, 6)).astype("float32")
    store = MemoryStore()
    # the net's own max_epochs (20) is not what the search trains: rungs at 1, 2, 4 epochs
    search = StagedHalvingSearchCV(
        make_estimator("autoencoder", hidden_layers="8", lr_scheduler="cosine", max_epochs=20,
                       random_state=0),
        {"latent_dim": [2, 3]}, min_epochs=1, max_epochs=4, factor=2, cv=2, top_k=0,
        random_state=0, store=store,
    ).fit(X)
    assert search.cv_results_["epochs"][search.best_index_] == 4
    folds = [pickle.loads(est) for est, record in map(pickle.loads, store.fits.values())
             if record["candidate"] == search.best_index_ and record["epochs"] == 4
             and record["fold"] is not None]
    refit_lr = search.best_estimator_.history[:, "event_lr"]
    assert len(folds) == 2 and len(refit_lr) == 4
    for fold in folds:  # the folds and the refit follow one schedule, annealed over 4 epochs
        np.testing.assert_allclose(fold.history[:, "event_lr"], refit_lr)
    assert refit_lr[-1] < 0.2 * refit_lr[0]


def test_extended_stage_as_long_as_the_exploration_ranks_by_score():
    # The exploration's winner is already at extended_epochs: it trains no more, but competes
    # with the runner-up trained up to the same epochs (it ranked below it as "explore").
    X, y = make_classification(n_samples=90, n_features=6, n_informative=4, random_state=2)
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": [1e-4, 1e-3, 1e-2, 3e-2]}, min_epochs=1, max_epochs=4, factor=2,
        cv=3, top_k=2, extended_epochs=4, random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    extended = np.flatnonzero(results["stage"] == "extended")
    assert len(extended) == 2
    trained = pd.DataFrame(search.history_).query("candidate in @extended")
    assert (trained.groupby("candidate").epoch.max() == 4).all()
    assert search.best_index_ == extended[np.argmax(results["mean_test_score"][extended])]


def test_resume_with_a_changed_schedule_reuses_only_identical_units(clf_data):
    X, y = clf_data
    settings = dict(min_epochs=1, max_epochs=2, factor=2, cv=3, top_k=2, extended_eval_every=3,
                    random_state=0)
    store = MemoryStore()
    StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-3, 1e-2]}, extended_epochs=7,
                          store=store, **settings).fit(X, y)
    # The extended stage now evaluates at 5 and 8 epochs instead of 5 and 7: the unit that
    # trained to 7 must not stand in for one that trains to 8.
    resumed = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-3, 1e-2]}, extended_epochs=8,
                                    store=store, **settings).fit(X, y)
    fresh = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-3, 1e-2]}, extended_epochs=8,
                                  **settings).fit(X, y)
    assert_same_results(resumed.cv_results_, fresh.cv_results_)
    assert store.loads > 0  # the exploration units were reused


def test_resume_with_other_training_folds_trains_again(clf_data):
    from sklearn.model_selection import TimeSeriesSplit

    X, y = clf_data
    space = {"alpha": [1e-4, 1e-3, 1e-2]}
    store = MemoryStore()
    settings = dict(max_epochs=2, factor=2, top_k=0, random_state=0)
    StagedHalvingSearchCV(sgd(), space, cv=TimeSeriesSplit(2), store=store, **settings).fit(X, y)
    # the same test folds, shorter training parts: nothing stored applies
    changed = TimeSeriesSplit(2, max_train_size=20)
    store.loads = 0
    resumed = StagedHalvingSearchCV(sgd(), space, cv=changed, store=store, **settings).fit(X, y)
    assert store.loads == 0
    fresh = StagedHalvingSearchCV(sgd(), space, cv=changed, **settings).fit(X, y)
    assert_same_results(resumed.cv_results_, fresh.cv_results_)



def test_resume_with_a_candidate_entering_at_another_rung_trains_it_again(tiny_sine, tiny_lstm):
    # Hyperband brackets: with one candidate fewer, candidate 0 enters at rung 1 from scratch
    # instead of continuing from rung 0; the unit that continued to rung 1 must not stand in
    space = [{"lr": lr} for lr in (1e-5, 3e-2, 2e-2, 1e-2, 2.5e-2, 1.5e-2, 5e-3)]
    settings = dict(sampler="list", min_epochs=1, max_epochs=3, factor=3, brackets=2,
                    cv=KFold(2), top_k=0, random_state=0)
    X, y = tiny_sine.X, tiny_sine.y
    store = MemoryStore()
    first = StagedHalvingSearchCV(tiny_lstm(), space, store=store, **settings).fit(X, y)
    assert first.cv_results_["rung"][0] == 1  # it continued from rung 0 there
    resumed = StagedHalvingSearchCV(tiny_lstm(), space[:6], store=store, **settings).fit(X, y)
    fresh = StagedHalvingSearchCV(tiny_lstm(), space[:6], **settings).fit(X, y)
    assert_same_results(resumed.cv_results_, fresh.cv_results_)


def test_lambda_scorer_needs_no_hash_without_a_store(clf_data):
    X, y = clf_data
    scoring = lambda est, X, y: est.score(X, y)  # noqa: E731
    search = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-3]}, scoring=scoring,
                                   max_epochs=1, cv=2, top_k=0, random_state=0)
    assert np.isfinite(search.fit(X, y).cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="store= keys the units by a hash.*lambda"):
        clone(search).set_params(store=MemoryStore()).fit(X, y)


def test_resume_with_error_score_raise_raises_the_stored_failure(clf_data):
    X, y = clf_data
    store = MemoryStore()
    settings = dict(max_epochs=1, cv=2, top_k=0, random_state=0, store=store)
    space = {"alpha": [1e-3, 0.1]}
    with pytest.warns(FitFailedWarning):
        StagedHalvingSearchCV(FailsAboveAlpha(loss="log_loss"), space, **settings).fit(X, y)
    # loaded, the failed unit fell through to the results and _format_results choked on "raise"
    with pytest.raises(RuntimeError, match="alpha 0.1 too large"):
        StagedHalvingSearchCV(FailsAboveAlpha(loss="log_loss"), space, error_score="raise",
                              **settings).fit(X, y)


def test_a_stored_fold_model_that_no_longer_unpickles_is_trained_again():
    X, store = np.zeros((12, 2)), MemoryStore()
    settings = dict(min_epochs=1, max_epochs=3, factor=3, cv=2, top_k=0, random_state=0)
    reference = StagedHalvingSearchCV(PeaksAtEpoch(), {"peak": [1, 2, 3]}, store=store,
                                      **settings).fit(X)
    for key in [key for key in store.fits if "/rung0/" in key]:
        # e.g. pickled with classes that a later version of the user's code moved
        model, record = pickle.loads(store.fits[key])
        store.fits[key] = pickle.dumps((b"not a pickle", record))
    for key in [key for key in store.fits if "/rung0/" not in key]:
        del store.fits[key]  # the search stopped after rung 0
    with pytest.warns(RuntimeWarning, match="cannot be unpickled.*it is trained again") as caught:
        resumed = StagedHalvingSearchCV(PeaksAtEpoch(), {"peak": [1, 2, 3]}, store=store,
                                        **settings).fit(X)
    assert {w.filename for w in caught} == {__file__}
    assert_same_results(reference.cv_results_, resumed.cv_results_)  # status included


# --- results format -------------------------------------------------------------------------


def test_results_follow_scikit_learn_format(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": loguniform(1e-5, 1e-1), "penalty": ["l2", "l1"]}, sampler="random",
        n_candidates=6, min_epochs=1, max_epochs=4, factor=2, cv=3, top_k=1,
        extended_epochs=6, random_state=0,
    ).fit(X, y)
    frame = pd.DataFrame(search.cv_results_)
    assert len(frame) == 6
    for column in ("params", "param_alpha", "param_penalty", "split0_test_score",
                   "split2_test_score", "mean_test_score", "std_test_score", "rank_test_score",
                   "mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time",
                   "stage", "rung", "epochs", "status", "error"):
        assert column in frame, column
    assert isinstance(search.cv_results_["param_alpha"], np.ma.MaskedArray)
    assert set(frame.stage) == {"explore", "extended"}
    assert frame.loc[search.best_index_, "rank_test_score"] == 1
    assert search.best_params_ == frame.loc[search.best_index_, "params"]
    assert search.best_score_ == frame.loc[search.best_index_, "mean_test_score"]
    # rows trained longer rank first
    assert (frame.sort_values("rank_test_score").rung.diff().dropna() <= 0).all() or \
        frame.loc[search.best_index_, "stage"] == "extended"
    history = pd.DataFrame(search.history_)
    assert list(history.columns) == ["candidate", "stage", "rung", "fold", "epoch",
                                     "train_loss", "valid_loss", "score"]
    assert history.valid_loss.isna().all()  # SGD reports no losses
    assert search.n_epochs_total_ == len(history)
    assert search.predict(X).shape == y.shape
    assert 0 <= search.score(X, y) <= 1


@pytest.mark.filterwarnings("ignore:One or more of the .* scores are non-finite")
def test_train_scores_on_request_as_in_grid_search(marked_data):
    X, y = marked_data
    search = StagedHalvingSearchCV(
        FailsOnFirstFold(loss="log_loss", random_state=0),
        [{"alpha": 0.5}, {"alpha": 1e-3}, {"alpha": 1e-1}], sampler="list",
        scoring={"acc": "accuracy", "nll": "neg_log_loss"}, refit="acc", min_epochs=1,
        max_epochs=2, factor=2, cv=3, top_k=1, extended_epochs=3, return_train_score=True,
        random_state=0,
    ).fit(X, y)
    results = pd.DataFrame(search.cv_results_)
    for metric in ("acc", "nll"):
        train = results[[f"split{k}_train_{metric}" for k in range(3)]].to_numpy()
        assert np.isnan(train[0]).all() and np.isfinite(train[1:]).all()  # the failed one: NaN
        np.testing.assert_allclose(results[f"mean_train_{metric}"][1:], train[1:].mean(axis=1))
        assert f"std_train_{metric}" in results
    # the extended stage's row keeps the train scores of the evaluation early stopping kept
    best = search.best_index_
    assert results.stage[best] == "extended" and results.mean_train_acc[best] > 0.5
    assert "mean_train_score" not in clone(search).set_params(
        return_train_score=False, scoring=None, refit=True).fit(X, y).cv_results_


def test_lstm_history_has_losses_and_refit_uses_the_cv_epochs(tiny_sine, tiny_lstm):
    search = StagedHalvingSearchCV(
        tiny_lstm(), {"lr": [3e-3, 1e-2]}, min_epochs=1, max_epochs=2, factor=2, cv=KFold(2),
        top_k=1, extended_epochs=3, extended_eval_every=1, random_state=0,
        scoring="neg_mean_squared_error",
    ).fit(tiny_sine.X, tiny_sine.y)
    history = pd.DataFrame(search.history_)
    assert history.train_loss.notna().all() and history.valid_loss.notna().all()
    epochs = search.cv_results_["epochs"][search.best_index_]
    assert search.best_estimator_.n_epochs_ == epochs == search.best_estimator_.max_epochs
    assert search.predict(tiny_sine.X_test).shape == tiny_sine.y_test.shape


# --- failures -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_failing_candidates_are_recorded_and_dropped(tiny_sine, tiny_lstm):
    space = [{"hidden_size": 0},  # the module cannot be built
             {"optimizer": "sgd", "lr": 1e30, "grad_clip": None},  # the loss goes NaN
             {"lr": 3e-3}, {"lr": 1e-2}]
    search = StagedHalvingSearchCV(
        tiny_lstm(), space, sampler="list", min_epochs=1, max_epochs=2, factor=2,
        cv=KFold(2), top_k=0, random_state=0, scoring="neg_mean_squared_error",
    )
    with pytest.warns(FitFailedWarning, match=r"2 of 4 candidates failed(.|\n)*"
                                              r"1 candidate\(s\): NonFiniteLossError") as caught:
        search.fit(tiny_sine.X, tiny_sine.y)  # as scikit-learn's searches warn
    assert caught[0].filename == __file__  # the line that called fit
    results = search.cv_results_
    assert list(results["status"][:2]) == ["failed", "failed"]
    assert "hidden_size" in results["error"][0]
    assert results["error"][1].startswith("NonFiniteLossError: training loss became nan")
    assert np.isnan(results["mean_test_score"][:2]).all()
    assert np.isnan(results["split0_test_score"][:2]).all()
    assert list(results["error"][2:]) == ["", ""]
    assert search.best_index_ in (2, 3) and results["epochs"][search.best_index_] == 2
    assert results["rank_test_score"][:2].min() > results["rank_test_score"][2:].max()

    with pytest.raises(ValueError, match="hidden_size"):
        clone(search).set_params(error_score="raise").fit(tiny_sine.X, tiny_sine.y)


def test_all_candidates_failing_raises_with_the_reasons(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(sgd(), {"alpha": [-1.0, -2.0]}, max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="All 2 candidates failed.*alpha"):
        search.fit(X, y)


class HoldsALockOnceTrained(PeaksAtEpoch):
    def partial_fit(self, X, y=None):
        self.lock_ = threading.Lock()  # no pickle takes it
        return super().partial_fit(X, y)


def test_a_model_that_cannot_be_pickled_fails_where_it_would_train_on():
    settings = dict(min_epochs=1, max_epochs=3, factor=3, cv=2, top_k=0, random_state=0)
    with pytest.raises(ValueError, match="All 2 candidates failed.*The trained "
                                         "HoldsALockOnceTrained cannot be pickled, which the "
                                         "staged search needs"):
        StagedHalvingSearchCV(HoldsALockOnceTrained(), {"peak": [1, 2]}, **settings) \
            .fit(np.zeros((12, 2)))
    # where no later rung or store needs it (one rung), it is never pickled
    search = StagedHalvingSearchCV(HoldsALockOnceTrained(), {"peak": [1, 2]},
                                   **dict(settings, max_epochs=1)).fit(np.zeros((12, 2)))
    assert list(search.cv_results_["status"]) == ["ok", "ok"]


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_a_candidate_scored_nan_fails_instead_of_being_pruned(clf_data):
    X, y = clf_data

    def nan_above_alpha(estimator, X, y):  # a scorer that cannot judge some candidates
        return math.nan if estimator.alpha > 0.05 else estimator.score(X, y)

    settings = dict(min_epochs=1, max_epochs=4, factor=2, cv=KFold(2), top_k=0, random_state=0)
    with pytest.warns(FitFailedWarning, match="1 of 3 candidates failed"):
        search = StagedHalvingSearchCV(sgd(), {"alpha": [1e-3, 1e-2, 1e-1]},
                                       scoring=nan_above_alpha, **settings).fit(X, y)
    results = search.cv_results_
    assert results["status"][2] == "failed"
    assert results["error"][2] == ("the scorer returned NaN on fold(s) 0, 1, so the candidate "
                                   "cannot be ranked")
    assert search.best_index_ != 2 and results["epochs"][search.best_index_] == 4
    # and a search none of whose candidates can be ranked says so, not "pruned" them all
    with pytest.raises(ValueError, match="All 3 candidates failed.*scorer returned NaN"):
        StagedHalvingSearchCV(sgd(), {"alpha": [1e-3, 1e-2, 1e-1]},
                              scoring=lambda estimator, X, y: math.nan, **settings).fit(X, y)


class FailsOnFirstFold(SGDClassifier):
    """With alpha=0.5, fails to train on fold 0 of an unshuffled 3-fold split (its training
    part lacks the first sample, marked by X[0, 0] == -1e3); trains on the other folds."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        if self.alpha == 0.5 and not (X[:, 0] == -1e3).any():
            raise RuntimeError("first sample missing")
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


@pytest.fixture
def marked_data(clf_data):
    X, y = clf_data
    X = X.copy()
    X[0, 0] = -1e3
    return X, y


def test_candidate_failing_on_some_folds_fails_whole(marked_data):
    X, y = marked_data
    search = StagedHalvingSearchCV(FailsOnFirstFold(loss="log_loss"), [{"alpha": 0.5}],
                                   sampler="list", max_epochs=2, cv=3, top_k=0)
    with pytest.raises(ValueError, match="All 1 candidates failed.*first sample missing"):
        search.fit(X, y)


@pytest.mark.filterwarnings("ignore:One or more of the .* scores are non-finite")
def test_folds_after_a_failing_fold_still_train(marked_data):
    X, y = marked_data
    search = StagedHalvingSearchCV(
        FailsOnFirstFold(loss="log_loss", random_state=0), [{"alpha": 0.5}, {"alpha": 1e-3}],
        sampler="list", min_epochs=2, max_epochs=2, cv=3, top_k=0, random_state=0, n_jobs=1,
    ).fit(X, y)
    assert list(search.cv_results_["status"]) == ["failed", "ok"]
    assert search.best_index_ == 1
    history = pd.DataFrame(search.history_)
    trained = history[history.candidate == 0].groupby("fold").epoch.apply(list).to_dict()
    assert trained == {1: [1, 2], 2: [1, 2]}  # fold 0 failed, the others trained their epochs


# --- multi-metric ---------------------------------------------------------------------------


def test_multimetric_refit_by_name_and_callable(clf_data):
    X, y = clf_data
    scoring = {"acc": "accuracy", "nll": "neg_log_loss"}
    params = dict(min_epochs=1, max_epochs=2, factor=2, cv=3, top_k=1, extended_epochs=3,
                  random_state=0, scoring=scoring)
    space = {"alpha": [1e-4, 1e-2, 1e-1, 1.0]}
    search = StagedHalvingSearchCV(sgd(), space, refit="nll", **params).fit(X, y)
    results = search.cv_results_
    assert search.multimetric_ and set(search.scorer_) == {"acc", "nll"}
    for metric in scoring:
        for key in (f"split0_test_{metric}", f"mean_test_{metric}", f"std_test_{metric}",
                    f"rank_test_{metric}"):
            assert key in results
    assert "mean_test_score" not in results
    assert results["rank_test_nll"][search.best_index_] == 1
    assert search.best_score_ == results["mean_test_nll"][search.best_index_]
    assert search.best_estimator_.predict_proba(X).shape == (len(X), 2)

    calls = []

    def most_accurate(cv_results):
        calls.append(len(cv_results["params"]))
        return int(np.argmax(cv_results["mean_test_acc"]))

    by_callable = StagedHalvingSearchCV(sgd(), space, refit=most_accurate, **params).fit(X, y)
    assert len(calls) > 1  # it also chose the survivors of the rungs
    assert by_callable.best_index_ == most_accurate(by_callable.cv_results_)
    assert not hasattr(by_callable, "best_score_")
    assert hasattr(by_callable, "best_estimator_")

    for refit in (True, False):  # not scikit-learn's advice to set refit=False
        with pytest.raises(ValueError, match=rf"needs refit set to a metric name or a callable "
                                             rf".*got refit={refit}"):
            StagedHalvingSearchCV(sgd(), space, refit=refit, **params).fit(X, y)


def test_smallest_within_one_se_refit_ranks_on_its_metric_and_fills_the_extended_stage(
        clf_data, monkeypatch):
    X, y = clf_data
    told, propose = [], BayesSampler.propose

    def spy(self, n, observations):
        told.extend(score for _, score in observations)
        return propose(self, n, observations)

    monkeypatch.setattr(BayesSampler, "propose", spy)
    scoring = {"n_parameters": n_parameters_scorer, "acc": "accuracy"}  # size listed first
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}, sampler=[("random", 2), ("bayes", 2)],
        scoring=scoring, refit=SmallestWithinOneSE(metric="acc"), min_epochs=1, max_epochs=4,
        factor=2, top_k=2, extended_epochs=5, cv=3, random_state=0,
    ).fit(X, y)
    # the last rung keeps one candidate, the second of top_k comes from the rung before (its
    # rows "pruned", which the callable skipped: "No candidate completed")
    assert list(search.cv_results_["stage"]).count("extended") == 2
    # the samplers and the history read accuracy, not the parameter count (7, the first key)
    scores = pd.DataFrame(search.history_)["score"].dropna()
    assert len(scores) and scores.between(0, 1).all()
    assert told and all(0 <= score <= 1 for score in told)


# --- samplers -------------------------------------------------------------------------------


class DivergesAboveAlpha(SGDClassifier):
    """SGD that raises when alpha > 0.01: a region of the space where every fit fails."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        if self.alpha > 0.01:
            raise RuntimeError("diverged")
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


@pytest.mark.filterwarnings("ignore:One or more of the .* scores are non-finite")
@pytest.mark.filterwarnings("ignore:The objective has been evaluated at point")
def test_bayes_sampler_learns_from_failed_candidates(clf_data):
    # Untold, failures left skopt proposing the same failing point again and again.
    X, y = clf_data
    search = StagedHalvingSearchCV(
        DivergesAboveAlpha(random_state=0), {"alpha": loguniform(1e-5, 1.0)}, sampler="bayes",
        n_candidates=14, max_epochs=1, cv=3, top_k=0, random_state=0,
    ).fit(X, y)
    failed = [p["alpha"] for p, status in zip(search.cv_results_["params"],
                                              search.cv_results_["status"]) if status == "failed"]
    assert failed and len(set(failed)) == len(failed)
    assert search.cv_results_["status"][-4:].tolist().count("failed") < 4


def test_random_sampler_draws_from_a_list_of_spaces(clf_data):
    # as ParameterSampler / RandomizedSearchCV do: each draw picks one of the dicts
    X, y = clf_data
    space = [{"penalty": ["l2"], "alpha": loguniform(1e-5, 1e-1)},
             {"penalty": ["elasticnet"], "l1_ratio": [0.2, 0.8]}]
    search = StagedHalvingSearchCV(sgd(), space, sampler="random", n_candidates=6,
                                   max_epochs=2, factor=2, cv=2, top_k=0, random_state=0)
    params = search.fit(X, y).cv_results_["params"]
    assert {p["penalty"] for p in params} == {"l2", "elasticnet"}
    assert all(("alpha" in p) == (p["penalty"] == "l2") for p in params)


def test_chained_random_bayes_finetune_sampler(clf_data):
    X, y = clf_data
    space = {"alpha": loguniform(1e-5, 1e-1), "penalty": ["l2", "l1"]}
    search = StagedHalvingSearchCV(
        sgd(), space, sampler=[("random", 5), ("bayes", 1), ("finetune", 2)],
        min_epochs=1, max_epochs=2, factor=3, cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 8
    assert all(1e-5 <= p["alpha"] <= 1e-1 and p["penalty"] in ("l2", "l1") for p in params)
    assert all(type(p["alpha"]) is float for p in params)
    assert len({p["alpha"] for p in params}) == 8
    # every candidate was evaluated at the first rung before the next proposals
    assert (search.cv_results_["rung"] >= 0).all()


def test_finetune_proposes_only_points_not_evaluated_yet():
    from skhyper.search._candidates import make_sampler

    space = {"a": [1, 2, 3, 4, 5], "b": ["x", "y"]}  # ten points
    evaluated = [({"a": 1, "b": "x"}, 0.9), ({"a": 3, "b": "y"}, 0.5),
                 ({"a": 5, "b": "x"}, 0.1), ({"a": 2, "b": "y"}, 0.3)]
    proposed = make_sampler("finetune", space, 0).propose(5, evaluated)
    # small noise on categories rounds back to the centre: without redraws most are repeats
    points = [tuple(sorted(p.items())) for p in proposed]
    assert len(points) == 5 and len(set(points)) == 5
    assert not set(points) & {tuple(sorted(p.items())) for p, _ in evaluated}
    # a space with nothing left proposes nothing rather than a point evaluated already
    exhausted = [({"a": a}, float(a)) for a in (1, 2)]
    assert make_sampler("finetune", {"a": [1, 2]}, 0).propose(3, exhausted) == []


def test_finetune_perturbs_tuple_choices():
    # skopt's normalising encoder made an array of the choices, which tuples of different
    # lengths break: the finetune sampler works on their indices
    from skhyper.search._candidates import make_sampler

    space = {"hidden_layer_sizes": [(4,), (8, 4), (16, 8, 4)], "alpha": [1e-4, 1e-3, 1e-2]}
    evaluated = [({"hidden_layer_sizes": (8, 4), "alpha": 1e-3}, 0.9),
                 ({"hidden_layer_sizes": (4,), "alpha": 1e-2}, 0.5)]
    proposed = make_sampler("finetune", space, 0).propose(4, evaluated)
    assert len(proposed) == 4
    assert all(p["hidden_layer_sizes"] in space["hidden_layer_sizes"] for p in proposed)
    assert all(p["alpha"] in space["alpha"] for p in proposed)


def test_bayes_proposes_from_tuple_choices():
    # skopt's Optimizer compared its proposals with the choices as arrays once past its random
    # start, which tuples of different lengths break: the bayes sampler works on their indices
    from skhyper.search._candidates import make_sampler

    space = {"hidden_layer_sizes": [(4,), (8, 4), (16, 8, 4)], "alpha": [1e-4, 1e-3, 1e-2]}
    sampler = make_sampler("bayes", space, 0)
    sampler.n_initial_points = 2
    observations = []
    for _ in range(5):
        (params,) = sampler.propose(1, observations)
        assert params["hidden_layer_sizes"] in space["hidden_layer_sizes"]
        assert params["alpha"] in space["alpha"]
        observations.append((params, -len(params["hidden_layer_sizes"]) * params["alpha"]))
    # a failed candidate (NaN) and one another sampler drew are told in the same encoding
    observations.append(({"hidden_layer_sizes": (16, 8, 4), "alpha": 1e-2}, float("nan")))
    assert len(sampler.propose(2, observations)) == 2


def test_bayes_sampler_keeps_skopts_repeated_point_warning_to_itself():
    # skopt warns when it proposes an evaluated point again, naming the choices' indices it
    # works on; the search drops such points anyway
    from skhyper.search._candidates import make_sampler

    sampler = make_sampler("bayes", {"loss": ["log_loss", "hinge"], "penalty": ["l2", "l1"]},
                           0)
    sampler.n_initial_points = 2
    observations = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(8):
            (params,) = sampler.propose(1, observations)
            observations.append((params, float(params["loss"] == "hinge")))
    assert not [w for w in caught if "has been evaluated" in str(w.message)]


def test_finetune_cannot_come_first(clf_data):
    search = StagedHalvingSearchCV(sgd(), {"alpha": loguniform(1e-5, 1e-1)},
                                   sampler=[("finetune", 2), ("random", 2)], max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="finetune perturbs the best candidates so far"):
        search.fit(*clf_data)


def test_a_point_proposed_again_is_not_evaluated_again(clf_data):
    X, y = clf_data
    space = {"alpha": [1e-4, 1e-3, 1e-2], "penalty": ["l2", "l1"]}  # six points
    search = StagedHalvingSearchCV(
        sgd(), space, sampler=[("random", 4), ("bayes", 4), ("finetune", 6)], max_epochs=1,
        cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    points = [tuple(sorted(p.items())) for p in search.cv_results_["params"]]
    assert len(points) == len(set(points)) == 6  # skopt asks for evaluated points again


class FailsAboveAlpha(SGDClassifier):
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        if self.alpha > 0.05:
            raise RuntimeError(f"alpha {self.alpha} too large")
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


@pytest.mark.filterwarnings("ignore:One or more of the .* scores are non-finite")
def test_optuna_tpe_sampler_after_random_steps(clf_data):
    pytest.importorskip("optuna")
    X, y = clf_data
    space = {"alpha": loguniform(1e-5, 1e-1), "penalty": ["l2", "l1"], "eta0": [0.1]}
    search = StagedHalvingSearchCV(
        FailsAboveAlpha(loss="log_loss", random_state=0), space,
        sampler=[("random", 4), ("tpe", 4, 2)], min_epochs=1, max_epochs=2, factor=3, cv=2,
        top_k=0, random_state=0,
    ).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 8 and all(p["eta0"] == 0.1 for p in params)
    assert all(1e-5 <= p["alpha"] <= 1e-1 and p["penalty"] in ("l2", "l1") for p in params)
    assert all(type(p["alpha"]) is float for p in params)
    # failing proposals are recorded and the search goes on
    failed = search.cv_results_["status"] == "failed"
    assert all((p["alpha"] > 0.05) == f for p, f in zip(params, failed))
    assert search.cv_results_["status"][search.best_index_] != "failed"
    again = clone(search).fit(X, y).cv_results_["params"]
    assert again == params


def test_tpe_sampler_learns_from_every_earlier_candidate():
    optuna = pytest.importorskip("optuna")
    from skhyper.search._candidates import make_sampler

    sampler = make_sampler("tpe", {"alpha": loguniform(1e-5, 1e-1), "fit_intercept": [True]}, 0)
    first = sampler.propose(2, [])
    # the first proposal scored, the second failed (absent); a random candidate scored too
    observed = [(first[0], 0.5), ({"alpha": 1e-3, "fit_intercept": True}, 0.7)]
    sampler.propose(1, observed)
    states = [t.state for t in sampler._study.trials]
    values = [t.value for t in sampler._study.trials]
    TrialState = optuna.trial.TrialState
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE,
                      TrialState.RUNNING]
    assert values[0] == 0.5 and values[2] == 0.7


def test_fit_leaves_the_param_space_unchanged(clf_data):
    from skopt.space import Real

    X, y = clf_data
    alpha = Real(1e-5, 1e-1, prior="log-uniform")
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": alpha, "penalty": ["l2"]}, sampler=[("random", 3), ("finetune", 2)],
        max_epochs=1, cv=2, top_k=0, random_state=0,
    )
    first = search.fit(X, y).cv_results_["params"]
    assert alpha.transform_ == "identity"  # skopt sets "normalize" on the dimensions it uses
    assert search.fit(X, y).cv_results_["params"] == first  # bit for bit


def test_hyperband_brackets_enter_at_later_rungs(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(
        sgd(), {"alpha": loguniform(1e-5, 1e-1)}, sampler="random", n_candidates=8,
        min_epochs=1, max_epochs=4, factor=2, brackets=2, cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    history = pd.DataFrame(search.history_)
    first = history.groupby("candidate").rung.min()
    assert set(first) == {0, 1}
    late = first[first == 1].index
    # a late entrant trains from scratch straight to rung 1's two epochs
    assert (history[history.candidate.isin(late)].groupby("candidate").epoch.min() == 1).all()
    assert search.n_epochs_total_ == len(history)


def test_warm_start_estimator_without_partial_fit(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(
        LogisticRegression(), {"C": [0.01, 1.0]}, max_epochs=2, min_epochs=1, factor=2, cv=2,
        top_k=0,
    ).fit(X, y)
    best = search.best_estimator_
    # trained by warm starts, handed back with the user's warm_start and the epochs it trained,
    # so that fitting it again trains from scratch as long as the refit did
    assert not best.warm_start and best.max_iter == 2 and best.n_iter_ == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # two iterations, on purpose
        np.testing.assert_array_equal(clone(best).fit(X, y).coef_, best.coef_)


def test_warm_start_estimator_whose_max_iter_counts_the_total(clf_data):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = clf_data
    store = MemoryStore()
    search = StagedHalvingSearchCV(
        HistGradientBoostingClassifier(early_stopping=False), {"learning_rate": [0.05, 0.3]},
        min_epochs=2, max_epochs=6, factor=3, cv=2, top_k=0, store=store, random_state=0,
    ).fit(X, y)
    # rungs at 2 and 6 boosting iterations: every stored fold model has its rung's count
    for key in store.fits:
        model, record = store.load_fit(key)
        if record["stage"] != "refit":
            model = pickle.loads(model)  # a unit's model is stored as the bytes it returned
        assert model.n_iter_ == record["epochs"] == record["history"][-1]["epoch"]
    assert search.best_estimator_.n_iter_ == 6


def test_plain_skorch_net_continues_training(clf_data):
    torch = pytest.importorskip("torch")
    from skorch import NeuralNetClassifier

    X, y = clf_data
    net = NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)),
        criterion=torch.nn.CrossEntropyLoss, max_epochs=50, train_split=None, verbose=0,
        callbacks=[("count", EpochCounter())],
    )
    EPOCHS.clear()
    search = StagedHalvingSearchCV(
        net, {"lr": [1e-3, 1e-2, 1e-1, 3e-1]}, min_epochs=1, max_epochs=4, factor=2, cv=2,
        top_k=0, random_state=0,
    ).fit(X.astype(np.float32), y)
    # rungs at 1, 2, 4 epochs with 4 -> 2 -> 1 candidates, then the refit's 4 epochs. EPOCHS
    # holds each net's own history length: a fold net restarted (or run for its max_epochs=50)
    # would never reach 4 or would pass it.
    cv_epochs = 2 * (4 * 1 + 2 * 1 + 1 * 2)
    assert search.n_epochs_total_ == cv_epochs and len(EPOCHS) == cv_epochs + 4
    assert EPOCHS[:cv_epochs].count(4) == 2 and max(EPOCHS) == 4  # the winner's two folds
    assert len(search.best_estimator_.history) == 4  # the refit trains the CV epochs
    assert search.score(X.astype(np.float32), y) > 0.5


def test_net_classifiers_of_every_fold_know_every_class(clf_data):
    torch = pytest.importorskip("torch")
    from skhyper.nets import NetClassifier

    class Linear(NetClassifier):
        def __init__(self, *, module=torch.nn.Linear, **kwargs):
            super().__init__(module, **kwargs)

        def module_size_params(self):
            return {"in_features": self.n_features_in_, "out_features": self.n_outputs_}

    X, y = clf_data
    y = np.where(np.arange(len(y)) < 20, 2, y)  # class 2 only in fold 0's test part
    scoring = make_scorer(log_loss, response_method="predict_proba", labels=[0, 1, 2],
                          greater_is_better=False)
    search = StagedHalvingSearchCV(
        Linear(validation_fraction=None, random_state=0), {"lr": [1e-2, 1e-1]},
        scoring=scoring, max_epochs=2, cv=KFold(3), top_k=0, random_state=0,
    ).fit(X.astype(np.float32), y)
    # fold 0's net never saw class 2 in training, yet gives it a probability column
    assert list(search.cv_results_["status"]) == ["ok", "ok"]
    assert np.isfinite(search.cv_results_["split0_test_score"]).all()


SCALER_FITS = []


class CountedScaler(StandardScaler):
    def fit(self, X, y=None, sample_weight=None):
        SCALER_FITS.append(len(X))
        return super().fit(X, y, sample_weight)


def test_pipeline_fits_its_transformers_once_and_trains_its_last_step(clf_data):
    X, y = clf_data
    SCALER_FITS.clear()
    weights = np.linspace(0.5, 1.5, len(y))
    search = StagedHalvingSearchCV(
        make_pipeline(CountedScaler(), sgd()), {"sgdclassifier__alpha": [1e-4, 1e-3, 1e-2, 1e-1]},
        min_epochs=1, max_epochs=4, factor=2, cv=2, top_k=0, random_state=0,
    ).fit(X, y, sgdclassifier__sample_weight=weights)
    # the scaler is fitted with each candidate's first epoch on each fold (4 x 2), then by
    # the refit, never again when survivors continue
    assert SCALER_FITS == [60] * 8 + [120]
    assert search.n_epochs_total_ == 2 * (4 * 1 + 2 * 1 + 1 * 2)
    final = search.best_estimator_[-1]
    assert final.t_ == 4 * 120 + 1  # four partial_fit epochs over all 120 samples
    assert search.score(X, y) > 0.5

    with pytest.raises(ValueError, match="'sample_weight'.*<step>__<param>"):
        clone(search).fit(X, y, sample_weight=weights)
    assert len(SCALER_FITS) == 9  # refused before any training


def test_estimators_in_the_space_are_cloned_for_each_fold(clf_data):
    # scikit-learn's pattern {"step": [est_a, est_b]}: each fold trains its own copy; shared,
    # the second fold's pipeline took the classifier as trained and skipped fitting its scaler
    X, y = clf_data
    choices = [SGDClassifier(alpha=1e-4, random_state=0), SGDClassifier(alpha=1e-2, random_state=0)]
    search = StagedHalvingSearchCV(
        make_pipeline(StandardScaler(), sgd()), {"sgdclassifier": choices}, max_epochs=2,
        factor=2, cv=2, top_k=0, random_state=0, error_score="raise",
    ).fit(X, y)
    assert set(search.cv_results_["status"]) == {"ok", "pruned"}
    assert not any(hasattr(choice, "coef_") for choice in choices)  # the user's objects


def to_float32(X):
    return np.asarray(X, dtype=np.float32)


def test_pipeline_ending_in_a_skorch_net(clf_data):
    torch = pytest.importorskip("torch")
    from skorch import NeuralNetClassifier

    X, y = clf_data
    net = NeuralNetClassifier(torch.nn.Sequential(torch.nn.Linear(6, 2)), max_epochs=50,
                              criterion=torch.nn.CrossEntropyLoss, train_split=None, verbose=0,
                              callbacks=[("count", EpochCounter())])
    EPOCHS.clear()
    search = StagedHalvingSearchCV(
        make_pipeline(StandardScaler(), FunctionTransformer(to_float32), net),
        {"neuralnetclassifier__lr": [1e-2, 1e-1, 3e-1, 1.0]}, min_epochs=1, max_epochs=4,
        factor=2, cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    # rungs at 1, 2, 4 epochs, 4 -> 2 -> 1 candidates: each fold net continues its own history
    cv_epochs = 2 * (4 * 1 + 2 * 1 + 1 * 2)
    assert len(EPOCHS) == cv_epochs + 4 and EPOCHS[:cv_epochs].count(4) == 2
    refit = search.best_estimator_[-1]
    assert len(refit.history) == refit.max_epochs == 4  # the refit trains the CV epochs
    assert search.score(X, y) > 0.5


class FitThenTransform(BaseEstimator):
    """A transformer with fit and transform only, no fit_transform (valid in a Pipeline)."""

    def fit(self, X, y=None):
        self.mean_ = np.mean(X, axis=0)
        return self

    def transform(self, X):
        return X - self.mean_



def test_pipeline_steps_without_fit_transform_and_nested_pipelines(clf_data):
    X, y = clf_data
    inner = make_pipeline(FitThenTransform(), "passthrough", sgd())
    search = StagedHalvingSearchCV(
        make_pipeline(StandardScaler(), inner), {"pipeline__sgdclassifier__alpha": [1e-4, 1e-2]},
        min_epochs=1, max_epochs=2, factor=2, cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    assert (search.cv_results_["status"] != "failed").all()
    assert search.best_estimator_[-1][-1].t_ == 2 * len(y) + 1

    not_a_transformer = make_pipeline(LogisticRegression(), sgd())
    with pytest.raises(TypeError, match="step 'logisticregression'.*needs fit and transform"):
        StagedHalvingSearchCV(not_a_transformer, {"sgdclassifier__alpha": [1e-4]}).fit(X, y)


def test_mlp_partial_fit_reports_train_loss(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(
        MLPClassifier(hidden_layer_sizes=(8,), random_state=0), {"alpha": [1e-4, 1e-2]},
        max_epochs=2, min_epochs=1, factor=2, cv=2, top_k=0, random_state=0,
    ).fit(X, y)
    assert pd.DataFrame(search.history_).train_loss.notna().all()
    assert len(search.best_estimator_.loss_curve_) == 2  # two partial_fit epochs


# --- reproducibility, parallel and resume ---------------------------------------------------


def _lstm_search(estimator, **params):
    return StagedHalvingSearchCV(
        estimator, {"hidden_size": [4, 8], "lr": [3e-3, 1e-2]}, min_epochs=1, max_epochs=2,
        factor=2, cv=KFold(2), top_k=1, extended_epochs=3, extended_eval_every=1,
        random_state=0, scoring="neg_mean_squared_error", refit=False, **params)


@pytest.mark.slow  # starts two worker processes that import torch
def test_parallel_and_resumed_runs_match_a_sequential_one(tiny_sine, counted_lstm):
    X, y = tiny_sine.X, tiny_sine.y
    reference = _lstm_search(counted_lstm).fit(X, y)
    trained = len(EPOCHS)
    assert trained == reference.n_epochs_total_

    parallel = _lstm_search(counted_lstm, n_jobs=2).fit(X, y)
    assert_same_results(reference.cv_results_, parallel.cv_results_)
    pd.testing.assert_frame_equal(pd.DataFrame(parallel.history_),
                                  pd.DataFrame(reference.history_))

    store = MemoryStore(fail_after=7)
    with pytest.raises(KeyboardInterrupt):
        _lstm_search(counted_lstm, store=store).fit(X, y)
    store.fail_after = None
    EPOCHS.clear()
    resumed = _lstm_search(counted_lstm, store=store).fit(X, y)
    assert 0 < len(EPOCHS) < trained  # the 7 saved units were not trained again
    assert_same_results(reference.cv_results_, resumed.cv_results_)
    pd.testing.assert_frame_equal(pd.DataFrame(resumed.history_),
                                  pd.DataFrame(reference.history_))

    EPOCHS.clear()
    again = _lstm_search(counted_lstm, store=store).fit(X, y)
    assert EPOCHS == []
    assert_same_results(reference.cv_results_, again.cv_results_)
    key = next(iter(store.fits))
    estimator, record = store.load_fit(key)
    assert set(record) >= {"params", "fold", "stage", "rung", "epochs", "scores", "fit_time",
                           "score_time", "status", "error", "history"}
    assert isinstance(key, str) and record["status"] == "ok"


def test_random_state_alone_reproduces_a_search_of_unseeded_nets(tiny_sine, tiny_lstm):
    # Nets without random_state, holding out their default validation fraction: the search's
    # random_state must fix their weights and validation splits too (numpy's global RNG,
    # disturbed here between the runs, must play no part).
    search = StagedHalvingSearchCV(
        tiny_lstm(random_state=None, validation_fraction=0.2), {"lr": [1e-3, 1e-2, 3e-2]},
        min_epochs=1, max_epochs=2, factor=2, cv=KFold(2), random_state=0,
    )
    first = search.fit(tiny_sine.X, tiny_sine.y).cv_results_
    np.random.seed(1)
    second = clone(search).fit(tiny_sine.X, tiny_sine.y).cv_results_
    assert_same_results(first, second)


def test_random_state_alone_reproduces_a_search_of_unseeded_scikit_learn_estimators(clf_data):
    # SGDClassifier without random_state shuffles with numpy's global RNG: seeded per unit
    X, y = clf_data
    search = StagedHalvingSearchCV(
        SGDClassifier(loss="log_loss"), {"alpha": loguniform(1e-5, 1e-1)}, sampler="random",
        n_candidates=6, min_epochs=1, max_epochs=4, factor=2, cv=3, random_state=0)
    first = search.fit(X, y).cv_results_
    state = np.random.get_state()
    second = clone(search).fit(X, y).cv_results_
    assert_same_results(first, second)
    # and the user's own draws from it are not disturbed
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert_same_results(first, clone(search).set_params(n_jobs=2).fit(X, y).cv_results_)


def test_units_in_threads_leave_numpy_global_rng_alone():
    # threads share it: a unit would restore a state another unit had seeded
    from skhyper.parallel import seeded

    seen = []

    def unit():
        with seeded(7):
            seen.append(np.random.get_state()[1].copy())

    np.random.seed(123)
    thread = threading.Thread(target=unit)
    thread.start()
    thread.join()
    np.random.seed(7)
    assert not np.array_equal(seen[0], np.random.get_state()[1])  # not seeded in the thread


def test_verbose_prints_each_rung_and_its_times(clf_data, capsys):
    X, y = clf_data
    StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}, min_epochs=1,
                          max_epochs=2, factor=2, cv=2, top_k=0, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "[StagedHalvingSearchCV] explore rung 0: 4 candidate(s), 8 unit(s) to train"
    assert re.fullmatch(r"\[StagedHalvingSearchCV\] explore rung 0: [\d.]+s wall, [\d.]+s of "
                        r"fitting and scoring summed over units", lines[1])
    assert lines[2].startswith("[StagedHalvingSearchCV] explore rung 1: 2 candidate(s)")


def test_refit_is_stored_and_restored(clf_data):
    X, y = clf_data
    params = dict(min_epochs=1, max_epochs=2, factor=2, cv=2, top_k=0, random_state=0)
    store = MemoryStore()
    first = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-2]}, store=store, **params).fit(X, y)
    refits = [key for key in store.fits if "/refit/" in key]
    assert len(refits) == 1 and f"/epochs2/cand{first.best_index_}/" in refits[0]
    _, record = store.load_fit(refits[0])
    assert record["stage"] == "refit" and len(record["history"]) == 2

    store.loads = 0
    again = StagedHalvingSearchCV(sgd(), {"alpha": [1e-4, 1e-2]}, store=store, **params).fit(X, y)
    assert store.loads == len(store.fits)  # every unit and the refit: nothing trained again
    np.testing.assert_array_equal(again.best_estimator_.coef_, first.best_estimator_.coef_)
    assert again.refit_time_ == first.refit_time_


def test_dask_backend_gives_the_same_results(clf_data):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, y = clf_data
    params = dict(sampler="random", n_candidates=4, min_epochs=1, max_epochs=2, factor=2,
                  cv=2, top_k=1, extended_epochs=3, random_state=0)
    space = {"alpha": loguniform(1e-5, 1e-1)}
    reference = StagedHalvingSearchCV(sgd(), space, **params).fit(X, y)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with parallel_backend("dask"):
            on_dask = StagedHalvingSearchCV(sgd(), space, n_jobs=2, **params).fit(X, y)
    assert_same_results(reference.cv_results_, on_dask.cv_results_)


# --- estimator API --------------------------------------------------------------------------


def test_clone_and_pickle(clf_data):
    X, y = clf_data
    search = StagedHalvingSearchCV(sgd(), {"alpha": [1e-3, 1e-2]}, max_epochs=2, cv=2,
                                   top_k=0, random_state=0)
    assert clone(search).get_params()["param_space"] == {"alpha": [1e-3, 1e-2]}
    search.fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))


@pytest.mark.parametrize("params, message", [
    (dict(sampler="grdi"), "Did you mean 'grid'"),
    (dict(n_candidates=3), "n_candidates=3 for sampler='grid'"),
    (dict(sampler="bayes", brackets=2, max_epochs=4), "brackets=2 with sampler 'bayes'"),
    (dict(factor=1), "factor=1"),
    (dict(max_epochs=0), "max_epochs=0"),
    (dict(store=object()), "load_fit"),
    (dict(error_score="ignore"), "error_score='ignore'"),
    (dict(sampler="random", param_space={"alpha": 0.1}), r"alpha=\[0.1\]"),
    (dict(sampler=("random", 3)), r"step 3 is not a sampler name.*sampler=\[\('random', 8\)\]"),
    (dict(sampler="bayes", param_space={"alpha": [0.1]}), "every entry is fixed"),
    # a later step's space is checked before the first step trains
    (dict(sampler=[("random", 2), ("bayes", 2)], param_space={"alpha": norm(1e-3, 1e-4)}),
     r"scipy.stats.norm has no skopt equivalent"),
    (dict(sampler=[("random", 2), ("finetune", 2)], param_space={"alpha": [[1], [2, 3]]}),
     r"alpha=\[\[1\], \[2, 3\]\]: the bayes, tpe and finetune samplers need hashable "
     r"choices, and \[1\] is not; encode it as a scalar .* or write it as "
     r"a tuple, e.g. \(1,\)"),
    (dict(min_epochs=5, max_epochs=3), "max_epochs=3: must be >= min_epochs=5"),
    (dict(max_epochs=3, extended_epochs=2), "extended_epochs=2: must be >= max_epochs=3"),
    (dict(extended_cv=1), "extended_cv=1"),
    (dict(sampler=[("random", 0)], param_space={"alpha": [0.1, 0.2]}),
     r"Invalid sampler step \('random', 0\): n_candidates=0: must be >= 1"),
    (dict(extended_cv=2.5), r"extended_cv=2.5: Expected `cv` as an integer, a cross-validation"),
    (dict(extended_cv="bogus", top_k=0), r"extended_cv='bogus': Expected `cv` as an integer"),
    (dict(cv=iter([])), "gave no train/test splits"),
    (dict(scoring=["accuracy", "neg_log_loss"], refit=False), "refit set to a metric name"),
    (dict(scoring=["accuracy", "neg_log_loss"], refit="auc"),
     "refit='auc': with multi-metric scoring, name one of the metrics 'accuracy', "
     "'neg_log_loss', or a callable"),
])
def test_bad_settings_name_the_value(clf_data, params, message):
    X, y = clf_data
    space = params.pop("param_space", {"alpha": [1e-3, 1e-2]})
    with pytest.raises(ValueError, match=message):
        # error_score="raise": a unit that trained raises, not recorded as a failed candidate
        StagedHalvingSearchCV(NeverTrained(), space, **{"error_score": "raise", **params}) \
            .fit(X, y)


class NeverTrained(SGDClassifier):
    """Bad settings are refused before any training."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        raise AssertionError("trained before the settings were checked")


def test_estimator_that_cannot_continue_training_is_refused():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(TypeError, match="KNeighborsRegressor cannot be trained epoch by epoch"):
        StagedHalvingSearchCV(KNeighborsRegressor(), {"n_neighbors": [1, 2]}).fit(X, y)
