"""Cost of one training epoch and one scoring pass per LSTM size, on one fold of issue 4's workload.

    .venv/bin/python benchmarks/bench_epoch.py            # the measurement (a quiet machine)
    .venv/bin/python benchmarks/bench_epoch.py --quick    # seconds: proves the script works

These are the unit costs the staged search's rungs are made of (benchmarks/RESULTS.md). Each
size is timed with batches fetched whole (skhyper's ``BatchDataset``, the default) and sample by
sample (skorch's ``Dataset``), alternating in one process so that drifts of the machine's speed
hit both; each figure is the best of ``--repeat`` continued epochs (``partial_fit``, as a
surviving candidate trains) or scoring passes over the test fold. One torch thread, as each of a
2-core search's two workers has.
"""

import argparse
import time

import torch
import skorch.dataset
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold

import skhyper
from skhyper.nets import BatchDataset

FETCHES = {"whole batch": BatchDataset, "per sample": skorch.dataset.Dataset}
SIZES = {"full": ([16, 32, 64, 128], [1, 2]), "quick": ([4, 8], [1])}


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and sizes")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    data = skhyper.load_dataset("sine-mixture", seq_len=20 if args.quick else 50,
                                stride=50 if args.quick else 10)
    train, test = next(KFold(3).split(data.X))
    X, y, X_test, y_test = data.X[train], data.y[train], data.X[test], data.y[test]
    scorer = get_scorer("neg_mean_squared_error")
    print(f"{len(train)} training windows of {X.shape[1]} steps, {len(test)} to score; "
          f"best of {args.repeat}; one torch thread\n")
    print("| hidden_size x num_layers | epoch, whole batch (s) | epoch, per sample (s) "
          "| scoring, whole batch (s) | scoring, per sample (s) |\n|---|---:|---:|---:|---:|")
    hidden_sizes, layers = SIZES["quick" if args.quick else "full"]
    for hidden_size in hidden_sizes:
        for num_layers in layers:
            nets = {name: skhyper.make_estimator(
                "lstm", hidden_size=hidden_size, num_layers=num_layers, lr=3e-3, patience=None,
                lr_scheduler=None, random_state=0, dataset=dataset)
                for name, dataset in FETCHES.items()}
            for net in nets.values():
                net.partial_fit(X, y, epochs=1)  # the first epoch includes initialization
            epoch, scoring = ({name: [] for name in nets} for _ in range(2))
            for _ in range(args.repeat):
                for name, net in nets.items():
                    epoch[name].append(_seconds(lambda: net.partial_fit(X, y, epochs=1)))
                    scoring[name].append(_seconds(lambda: scorer(net, X_test, y_test)))
            cells = [f"{min(times[name]):.2f}" for times in (epoch, scoring) for name in nets]
            print(f"| {hidden_size} x {num_layers} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
