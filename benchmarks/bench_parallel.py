"""Speed-up of a parallel grid search: a 12-candidate LSTM grid on sine-mixture at n_jobs=1 and 2.

    .venv/bin/python benchmarks/bench_parallel.py             # the measurement (a quiet machine)
    .venv/bin/python benchmarks/bench_parallel.py --quick     # seconds: proves the script works
    .venv/bin/python benchmarks/bench_parallel.py --backend dask --n-jobs 1 4

Each run fits GridSearchCV (3-fold, no refit) under :func:`skhyper.parallel.parallel_backend`.
The workers are started and have imported torch before the clock starts, so the figure is the
steady-state speed-up of the search, not process start-up. The scores of every run must equal
the first run's (the nets are seeded), which the script checks. Prints a Markdown table for
benchmarks/RESULTS.md.
"""

import argparse
import platform
import time

import joblib
import numpy as np
import torch
from sklearn.model_selection import GridSearchCV, KFold

import skhyper
from skhyper.parallel import parallel_backend

# 3 x 2 x 2 = 12 candidates.
GRID = {"hidden_size": [16, 32, 64], "num_layers": [1, 2], "lr": [1e-3, 3e-3]}

# Full: about 1,000 windows of 50 steps, 10 epochs per fit (36 fits). Quick: a smoke test.
SIZES = {
    "full": dict(data=dict(duration=5.0, sampling_rate=200, seq_len=50, stride=4), epochs=10),
    "quick": dict(data=dict(duration=1.0, sampling_rate=100, seq_len=10, stride=5), epochs=1),
}


def _warm_up():
    """Imported in each worker before timing: torch and the model family."""
    import skhyper.models.lstm  # noqa: F401

    return torch.get_num_threads()


def run(backend, n_jobs, data, epochs, scheduler=None):
    estimator = skhyper.make_estimator("lstm", max_epochs=epochs, batch_size=64, patience=None,
                                       lr_scheduler=None, random_state=0)
    search = GridSearchCV(estimator, GRID, cv=KFold(3), refit=False)
    with parallel_backend(backend, n_jobs=n_jobs, scheduler=scheduler):
        worker_threads = joblib.Parallel()(joblib.delayed(_warm_up)() for _ in range(n_jobs))
        start = time.perf_counter()
        search.fit(data.X, data.y)
        seconds = time.perf_counter() - start
    return seconds, search.cv_results_["mean_test_score"], sorted(set(worker_threads))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 epoch: a smoke test")
    parser.add_argument("--backend", default="loky", choices=["loky", "threading", "dask"])
    parser.add_argument("--scheduler", help="dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    size = SIZES["quick" if args.quick else "full"]
    data = skhyper.load_dataset("sine-mixture", **size["data"])
    print(f"# {len(data.X)} windows of {data.X.shape[1]} steps, {len(GRID['hidden_size']) * 4} "
          f"candidates x 3 folds, {size['epochs']} epochs; backend={args.backend}; "
          f"{joblib.cpu_count()} cores; torch {torch.__version__}; {platform.processor()}")
    print("| backend | n_jobs | torch threads per worker | seconds | speed-up |")
    print("|---|---|---|---|---|")
    baseline = reference = None
    for n_jobs in args.n_jobs:
        # n_jobs=1 runs in this process with torch's default thread count.
        backend = "sequential" if n_jobs == 1 else args.backend
        scheduler = args.scheduler if backend == "dask" else None
        seconds, scores, threads = run(backend, n_jobs, data, size["epochs"], scheduler)
        if baseline is None:
            baseline, reference = seconds, scores
        # Different torch thread counts sum in a different order: equal to about 1e-4 after
        # ten epochs, not bit for bit (same thread counts are bit-identical, see
        # tests/test_parallel.py).
        elif not np.allclose(scores, reference, rtol=1e-3):
            raise SystemExit(f"n_jobs={n_jobs} gave different scores: {scores} vs {reference}")
        print(f"| {backend} | {n_jobs} | {', '.join(map(str, threads))} | {seconds:.1f} "
              f"| {baseline / seconds:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
