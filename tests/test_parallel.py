"""Searches give the sequential results under loky, threading and a Dask cluster; each worker's
torch uses the thread count it was given."""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, cross_validate
from skopt import BayesSearchCV
from skopt.space import Integer, Real

from skhyper import StagedHalvingSearchCV
from skhyper.parallel import parallel_backend, thread_share, torch_seed

BACKENDS = ("loky", "threading", "dask")


@pytest.fixture(scope="module")
def dask_scheduler():
    """Address of a LocalCluster of 2 single-threaded worker processes, as the CLI's --scheduler."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _backend(name, dask_scheduler):
    if name == "dask":
        return parallel_backend("dask", scheduler=dask_scheduler)
    return parallel_backend(name, n_jobs=2)


def _searches(estimator):
    cv = KFold(2)
    return {
        "grid": GridSearchCV(estimator, {"hidden_size": [4, 8], "lr": [1e-3, 1e-2]}, cv=cv,
                             refit=False),
        "random": RandomizedSearchCV(estimator, {"hidden_size": [4, 8, 16], "lr": [1e-3, 1e-2]},
                                     n_iter=3, cv=cv, refit=False, random_state=0),
        "bayes": BayesSearchCV(estimator, {"hidden_size": Integer(4, 16), "lr": Real(1e-3, 1e-2)},
                               n_iter=3, cv=cv, refit=False, random_state=0),
        # rungs at 1 and 3 epochs: 4 candidates, then the best one continued
        "staged": StagedHalvingSearchCV(estimator, {"hidden_size": [4, 8], "lr": [1e-3, 1e-2]},
                                        min_epochs=1, max_epochs=3, factor=3, cv=cv,
                                        refit=False, random_state=0),
    }


def _estimator(tiny_lstm, backend):
    # Threads of one process share torch's global RNG, which dropout draws from: under the
    # threading backend only dropout-free nets are reproducible (see docs/parallel.md).
    dropout = 0.0 if backend == "threading" else 0.2
    return tiny_lstm(dropout=dropout, iterator_train__shuffle=True)


def _scores(search):
    results = search.cv_results_
    return np.array([results[f"split{k}_test_score"] for k in range(2)])


# Sequential reference scores, computed once per search kind and dropout setting.
_SEQUENTIAL = {}


def _sequential_scores(kind, backend, tiny_lstm, data):
    key = kind, backend == "threading"
    if key not in _SEQUENTIAL:
        search = _searches(_estimator(tiny_lstm, backend))[kind]
        with parallel_backend("sequential"):
            _SEQUENTIAL[key] = _scores(search.fit(data.X, data.y))
    return _SEQUENTIAL[key]


@pytest.mark.parametrize("backend, kind", [
    (backend, kind) for backend in BACKENDS for kind in ("grid", "random", "bayes", "staged")
])
def test_search_matches_the_sequential_run(backend, kind, tiny_lstm, tiny_sine, request):
    scheduler = request.getfixturevalue("dask_scheduler") if backend == "dask" else None
    search = _searches(_estimator(tiny_lstm, backend))[kind]
    with _backend(backend, scheduler):
        search.fit(tiny_sine.X, tiny_sine.y)
    expected = _sequential_scores(kind, backend, tiny_lstm, tiny_sine)
    np.testing.assert_array_equal(_scores(search), expected)
    # A degenerate reference (every candidate alike) would make the equality vacuous.
    assert np.isfinite(expected).all() and len(np.unique(expected)) == expected.size


def test_a_units_seed_reaches_its_net_whatever_other_threads_seed(tiny_lstm, tiny_sine):
    X, y = tiny_sine.X[:64], tiny_sine.y[:64]

    def predictions(other_thread_seeds):
        net = tiny_lstm(random_state=None, max_epochs=1)
        with torch_seed(5):
            if other_thread_seeds:
                torch.manual_seed(123)  # as a thread starting its own unit in between would
            net.fit(X, y)
        return net.predict(X)

    np.testing.assert_array_equal(predictions(True), predictions(False))


def test_num_threads_parameter_is_applied_inside_loky_workers(tiny_lstm, tiny_sine):
    threads = thread_share(2) + 1  # not the workers' own share, whatever the core count
    with parallel_backend("loky", n_jobs=2):
        fitted = cross_validate(tiny_lstm(num_threads=threads), tiny_sine.X, tiny_sine.y, cv=2,
                                return_estimator=True)["estimator"]
        worker_pids = joblib.Parallel()(joblib.delayed(os.getpid)() for _ in range(2))
        # the workers (reused by later searches) are back at their share of the cores
        worker_threads = joblib.Parallel()(joblib.delayed(torch.get_num_threads)()
                                           for _ in range(4))
    assert [net.num_threads_ for net in fitted] == [threads, threads]
    assert os.getpid() not in worker_pids and torch.get_num_threads() == 1
    assert worker_threads == [thread_share(2)] * 4


def test_threading_workers_get_their_thread_share(tiny_lstm, tiny_sine):
    parent_threads = torch.get_num_threads()
    with parallel_backend("threading", n_jobs=2, threads_per_worker=2):
        fitted = cross_validate(tiny_lstm(), tiny_sine.X, tiny_sine.y, cv=2,
                                return_estimator=True)["estimator"]
    assert [net.num_threads_ for net in fitted] == [2, 2]
    assert torch.get_num_threads() == parent_threads == 1  # the caller's setting is restored


def test_loky_workers_get_their_thread_share():
    # joblib exports OMP_NUM_THREADS (read by torch at import) from inner_max_num_threads to the
    # worker processes it starts; checking the setting avoids starting another set of workers.
    with parallel_backend("loky", n_jobs=2, threads_per_worker=3):
        backend, n_jobs = joblib.parallel.get_active_backend()
    assert (backend.inner_max_num_threads, n_jobs) == (3, 2)


def test_dask_workers_train_with_one_thread(tiny_lstm, tiny_sine, dask_scheduler):
    with parallel_backend("dask", scheduler=dask_scheduler) as client:
        fitted = cross_validate(tiny_lstm(), tiny_sine.X, tiny_sine.y, cv=2,
                                return_estimator=True)["estimator"]
        assert len(client.scheduler_info()["workers"]) == 2
    assert [net.num_threads_ for net in fitted] == [1, 1]


def test_thread_share(monkeypatch):
    monkeypatch.setattr(joblib, "cpu_count", lambda: 8)
    assert [thread_share(n) for n in (1, 2, 3, 8, 16, -1, None)] == [8, 4, 2, 1, 1, 1, 1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(backend="spark"), r"Invalid backend='spark'.* Allowed: sequential, loky, threading"),
    (dict(backend="loky", scheduler="tcp://h:8786"), r"scheduler address is only used with "
                                                     r"backend='dask'"),
    (dict(backend="loky", n_jobs=0), r"Invalid n_jobs=0"),
    (dict(backend="threading", threads_per_worker=0), r"Invalid threads_per_worker=0"),
])
def test_parallel_backend_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        with parallel_backend(**kwargs):
            pass


def test_num_threads_is_validated(tiny_lstm, tiny_sine):
    with pytest.raises(ValueError, match=r"Invalid num_threads=0: must be >= 1"):
        tiny_lstm(num_threads=0).fit(tiny_sine.X, tiny_sine.y)
