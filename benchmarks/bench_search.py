"""Side by side: GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV, BayesSearchCV, Optuna
(TPE + HyperbandPruner) and StagedHalvingSearchCV on the LSTM signal-extraction workload.

Workload (issue 4): ``lstm`` on ``sine-mixture`` (window 50, stride 10: about 4k training
windows; the test part is an independently noised signal), grid hidden_size {16, 32, 64, 128} x
num_layers {1, 2} x lr {1e-3, 3e-3, 1e-2}, unshuffled 3-fold KFold, 20 epochs, n_jobs=2.

Reported per method: wall time of the search (no refit), epochs trained (counted by a skorch
callback in every process), best CV score (neg MSE), and the test MSE of the selected config
refit on all training data with 3 seeds.

    python benchmarks/bench_search.py            # the full workload (long: run on a quiet machine)
    python benchmarks/bench_search.py --quick    # tiny data and grid, a smoke check
    python benchmarks/bench_search.py --only grid,staged --out results.json
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import (GridSearchCV, HalvingGridSearchCV, KFold,
                                     RandomizedSearchCV)

import skhyper

METHODS = ("grid", "halving", "random", "bayes", "optuna", "staged")
SCORING = "neg_mean_squared_error"


class EpochLog(Callback):
    """Append one line per trained epoch to ``path``: counts epochs across worker processes."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, net, **kwargs):
        with open(self.path, "a") as f:  # one short O_APPEND write per epoch: process-safe
            f.write("1\n")


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for _ in f)


def workload(quick):
    if quick:
        data = skhyper.load_dataset("sine-mixture", duration=1.0, sampling_rate=200,
                                    seq_len=20, stride=4)
        grid = {"hidden_size": [4, 8], "num_layers": [1], "lr": [3e-3, 1e-2]}
        return data, grid, dict(epochs=4, n_iter=2, n_trials=4)
    data = skhyper.load_dataset("sine-mixture", seq_len=50, stride=10)
    grid = {"hidden_size": [16, 32, 64, 128], "num_layers": [1, 2], "lr": [1e-3, 3e-3, 1e-2]}
    return data, grid, dict(epochs=20, n_iter=8, n_trials=24)


def base_estimator(epochs, log_path):
    # A fixed number of epochs and no LR schedule, so every method trains the same model the
    # same way and only the search strategy differs.
    return skhyper.make_estimator(
        "lstm", max_epochs=epochs, patience=None, lr_scheduler=None, random_state=0,
        callbacks=[("epoch_log", EpochLog(log_path))],
    )


def run_sklearn_search(name, estimator, grid, X, y, cv, settings, n_jobs):
    if name == "grid":
        search = GridSearchCV(estimator, grid, cv=cv, scoring=SCORING, n_jobs=n_jobs,
                              refit=False)
    elif name == "halving":
        search = HalvingGridSearchCV(estimator, grid, resource="max_epochs", factor=3,
                                     max_resources=settings["epochs"], cv=cv, scoring=SCORING,
                                     n_jobs=n_jobs, refit=False, random_state=0)
    elif name == "random":
        search = RandomizedSearchCV(estimator, grid, n_iter=settings["n_iter"], cv=cv,
                                    scoring=SCORING, n_jobs=n_jobs, refit=False, random_state=0)
    elif name == "bayes":
        from skopt import BayesSearchCV
        from skopt.space import Categorical

        space = {k: Categorical(v) for k, v in grid.items() if len(v) > 1}
        fixed = {k: v[0] for k, v in grid.items() if len(v) == 1}
        search = BayesSearchCV(clone(estimator).set_params(**fixed), space,
                               n_iter=settings["n_iter"], cv=cv, scoring=SCORING,
                               n_jobs=n_jobs, refit=False, random_state=0)
    search.fit(X, y)
    results = search.cv_results_
    best = int(np.argmin(results["rank_test_score"]))
    params = dict(results["params"][best])
    if name == "bayes":
        params.update(fixed)
    return params, float(results["mean_test_score"][best]), leaderboard(results)


def leaderboard(results, n=5):
    """The ``n`` best rows of ``cv_results_`` as ``[params, mean test score]`` (for the JSON)."""
    order = np.argsort(results["rank_test_score"], kind="stable")[:n]
    return [[dict(results["params"][i]), float(results["mean_test_score"][i])] for i in order]


def run_staged(estimator, grid, X, y, cv, settings, n_jobs, verbose=0):
    epochs = settings["epochs"]
    # factor 4 from 1 epoch: rungs at 1, 5, 20 epochs with 24 -> 6 -> 1 candidates. The
    # extended stage is off (extended_epochs == max_epochs) so the budget stays 20 epochs.
    search = skhyper.StagedHalvingSearchCV(
        estimator, grid, min_epochs=1, max_epochs=epochs, factor=4, cv=cv, scoring=SCORING,
        top_k=1, extended_epochs=epochs, n_jobs=n_jobs, random_state=0, refit=False,
        verbose=verbose,  # per rung: wall time and the units' summed fit and score times
    )
    search.fit(X, y)
    return dict(search.best_params_), float(search.best_score_), leaderboard(search.cv_results_)


def run_optuna(estimator, grid, X, y, cv, settings, n_jobs):
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    splits = list(cv.split(X, y))
    epochs = settings["epochs"]

    def objective(trial):
        params = {k: trial.suggest_categorical(k, v) for k, v in grid.items()}
        models = [clone(estimator).set_params(**params) for _ in splits]
        for epoch in range(1, epochs + 1):  # folds in lockstep so the pruner sees CV scores
            scores = []
            for model, (train, test) in zip(models, splits):
                model.partial_fit(X[train], y[train], epochs=1)
                scores.append(-mean_squared_error(y[test], model.predict(X[test])))
            value = float(np.mean(scores))
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs,
                                              reduction_factor=3),
    )
    study.optimize(objective, n_trials=settings["n_trials"], n_jobs=n_jobs)
    done = sorted((t for t in study.trials if t.value is not None and
                   t.state == optuna.trial.TrialState.COMPLETE), key=lambda t: -t.value)
    return (dict(study.best_params), float(study.best_value),
            [[dict(t.params), float(t.value)] for t in done[:5]])


def test_mse(params, data, epochs, seeds=(0, 1, 2)):
    """Test MSE of ``params`` refit on all training data, one value per seed."""
    values = []
    for seed in seeds:
        model = skhyper.make_estimator("lstm", max_epochs=epochs, patience=None,
                                       lr_scheduler=None, random_state=seed, **params)
        model.fit(data.X, data.y)
        values.append(mean_squared_error(data.y_test, model.predict(data.X_test)))
    return values


def _warm(X, y):
    skhyper.make_estimator("lstm", hidden_size=4, num_layers=1, patience=None,
                           lr_scheduler=None).partial_fit(X[:64], y[:64], epochs=1)


def warm_up(data, n_jobs):
    """Pay one-off costs before any timing: torch's lazy imports in this process and the start
    of joblib's worker processes (reused by every later search)."""
    from joblib import Parallel, delayed

    _warm(data.X, data.y)
    Parallel(n_jobs=n_jobs)(delayed(_warm)(data.X, data.y) for _ in range(2 * n_jobs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and grid (smoke check)")
    parser.add_argument("--only", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", help="also write the results as JSON here")
    parser.add_argument("--verbose", action="store_true",
                        help="the staged search prints each rung's times")
    args = parser.parse_args(argv)
    methods = [m for m in args.only.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown method(s) {unknown}; allowed: {', '.join(METHODS)}")

    import torch

    torch.set_num_threads(1)  # workers and Optuna's threads each train on one core
    data, grid, settings = workload(args.quick)
    cv = KFold(3)
    print(data.description)
    print(f"grid: {grid}; {settings}; n_jobs={args.n_jobs}\n", flush=True)
    warm_up(data, args.n_jobs)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in methods:
            log_path = os.path.join(tmp, f"{name}.epochs")
            estimator = base_estimator(settings["epochs"], log_path)
            start = time.perf_counter()
            if name == "staged":
                found = run_staged(estimator, grid, data.X, data.y, cv, settings, args.n_jobs,
                                   verbose=int(args.verbose))
            elif name == "optuna":
                found = run_optuna(estimator, grid, data.X, data.y, cv, settings, args.n_jobs)
                if found is None:
                    print("optuna is not installed: skipped (pip install \"skhyper[optuna]\")")
                    continue
            else:
                found = run_sklearn_search(name, estimator, grid, data.X, data.y, cv, settings,
                                           args.n_jobs)
            wall = time.perf_counter() - start
            params, cv_score, top = found
            # HalvingGridSearchCV reports its resource (max_epochs) too: every method's config
            # is compared at the workload's epochs
            params = {k: v for k, v in params.items() if k in grid}
            mse = test_mse(params, data, settings["epochs"])
            row = dict(method=name, wall_s=round(wall, 2), epochs=count_lines(log_path),
                       best_cv_score=cv_score, params=params,
                       test_mse_mean=float(np.mean(mse)), test_mse_std=float(np.std(mse)),
                       leaderboard=top)
            rows.append(row)
            print(json.dumps(row), flush=True)

    print("\n| method | wall time (s) | epochs trained | best CV score (neg MSE) | "
          "selected params | test MSE, 3 seeds |")
    print("|---|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['wall_s']:.1f} | {r['epochs']} | {r['best_cv_score']:.4f} "
              f"| {r['params']} | {r['test_mse_mean']:.4f} ± {r['test_mse_std']:.4f} |")
    by_name = {r["method"]: r for r in rows}
    if {"staged", "halving"} <= set(by_name):
        print(f"\nstaged / halving wall time: "
              f"{by_name['staged']['wall_s'] / by_name['halving']['wall_s']:.2f} (target <= 0.5)")
    if {"staged", "optuna"} <= set(by_name):
        print(f"staged / optuna wall time: "
              f"{by_name['staged']['wall_s'] / by_name['optuna']['wall_s']:.2f} (target <= 1)")
    if {"staged", "grid"} <= set(by_name):
        gap = by_name["staged"]["test_mse_mean"] - by_name["grid"]["test_mse_mean"]
        print(f"staged test MSE - grid's selection test MSE: {gap:+.4f} (target <= 0.02)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    sys.exit(main() and 0)
