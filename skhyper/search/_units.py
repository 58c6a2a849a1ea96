"""One unit of work: train candidate c on fold k up to rung r, then score it on the test fold.

A unit is deterministic from its inputs wherever it runs: torch and numpy's global RNG are
seeded from ``(random_state, c, k, r)`` for its training (:func:`skhyper.parallel.seeded`),
and the estimator it continues is the one the previous rung returned (or that a store saved).

A unit returns its fitted estimator pickled, and the search holds and stores it so: the unit
that continues it unpickles it, wherever it runs. Between units the searching process holds no
net on a device (it may have no GPU, as a Dask client, or would hold every fold model on the
workers' GPUs).
"""

import numbers
import pickle
import time

import cloudpickle
import joblib
import numpy as np
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from ..parallel import seeded
from ._epochs import train_epochs


def unit_seed(random_state, candidate, fold, rung):
    """The seed of unit (c, k, r); None when ``random_state`` is None (not reproducible)."""
    if random_state is None:
        return None
    entropy = [int(random_state), int(candidate), int(fold), int(rung)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def refit_seed(random_state):
    """The seed of the final refit on all data."""
    if random_state is None:
        return None
    return int(np.random.SeedSequence([int(random_state)], spawn_key=(1,)).generate_state(1)[0])


def params_hash(params):
    return joblib.hash(sorted(params.items(), key=lambda kv: kv[0]))[:16]


def unit_key(fingerprint, candidate, params, fold, stage, rung, start, epochs):
    """Store key of a unit: readable coordinates, the epochs it starts from and trains up to
    (so a changed schedule, or a candidate entering at another rung, never reuses a unit
    trained otherwise) and a hash of the params."""
    return (f"{fingerprint[:16]}/{stage}/rung{rung}/epochs{start}-{epochs}/cand{candidate}/"
            f"fold{fold}/{params_hash(params)}")


def refit_key(fingerprint, candidate, params, epochs):
    """Store key of the final refit of ``candidate`` on all data for ``epochs`` epochs."""
    return f"{fingerprint[:16]}/refit/epochs{epochs}/cand{candidate}/{params_hash(params)}"


def _scores_of(raw):
    """Scorer output (float or dict) as ``{metric: float}``; a failed scorer raises."""
    if not isinstance(raw, dict):
        return {"score": float(raw)}
    scores = {}
    for name, value in raw.items():
        if not isinstance(value, numbers.Number):
            raise RuntimeError(f"scorer {name!r} failed: {value}")
        scores[name] = float(value)
    return scores


def _score(scorer, estimator, X, y):
    return _scores_of(scorer(estimator, X) if y is None else scorer(estimator, X, y))


def _pickled(estimator):
    try:
        return cloudpickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(f"The trained {type(estimator).__name__} cannot be pickled, which the "
                        "staged search needs to train it on later, in any worker, or to store "
                        f"it ({type(exc).__name__}: {exc}).") from exc


def run_unit(estimator, X, y, train, test, n_epochs, scorer, *, seed=None, classes=None,
             fit_params=None, error_score=np.nan, train_score=False, keep=True):
    """Train ``estimator`` for ``n_epochs`` more epochs on ``train``, score it on ``test``
    (and on ``train`` too when ``train_score``).

    ``estimator`` is an unfitted estimator, or the bytes an earlier unit returned.

    Returns
    -------
    pickled : bytes or None
        The trained estimator, pickled (with cloudpickle: classes of the user's script travel
        by value); None when the unit failed or ``keep`` is False (nothing trains it on).
    result : dict
        ``losses`` (per-epoch dicts), ``scores`` and ``train_scores`` ({metric: float}, empty
        when failed or not asked for), ``fit_time``, ``score_time`` (of the test part),
        ``status`` ("ok" or "failed") and ``error`` (message).
    """
    fit_params = _check_method_params(X, params=fit_params or {}, indices=train)
    result = dict(losses=[], scores={}, train_scores={}, fit_time=0.0, score_time=0.0,
                  status="ok", error="")
    start = time.perf_counter()
    try:
        if isinstance(estimator, bytes):
            estimator = pickle.loads(estimator)
        X_train, y_train = _safe_split(estimator, X, y, train)
        X_test, y_test = _safe_split(estimator, X, y, test, train)
        start = time.perf_counter()
        with seeded(seed):
            result["losses"] = train_epochs(estimator, X_train, y_train, n_epochs, classes,
                                            **fit_params)
        result["fit_time"] = time.perf_counter() - start
        start = time.perf_counter()
        result["scores"] = _score(scorer, estimator, X_test, y_test)
        result["score_time"] = time.perf_counter() - start
        if train_score:
            result["train_scores"] = _score(scorer, estimator, X_train, y_train)
        pickled = _pickled(estimator) if keep else None
    except Exception as exc:  # a failing candidate is recorded, the search goes on
        if error_score == "raise":
            raise
        result.update(status="failed", error=f"{type(exc).__name__}: {exc}", scores={},
                      train_scores={},
                      fit_time=time.perf_counter() - start if not result["fit_time"]
                      else result["fit_time"])
        pickled = None
    return pickled, result
