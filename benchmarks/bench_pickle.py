"""Cost of pickling a fitted net, per LSTM size: skhyper's one-archive format against skorch's.

    .venv/bin/python benchmarks/bench_pickle.py            # the measurement (a quiet machine)
    .venv/bin/python benchmarks/bench_pickle.py --quick    # seconds: proves the script works

The staged search pays a round trip per unit that continues a fold model in a worker (pickled
there, unpickled in the search's process, pickled again for the next rung, unpickled in a
worker), and the experiment store one pickle per stored fit. skhyper's nets write their tensors,
and the callbacks holding them, in one ``torch.save`` archive; skorch's own ``__getstate__``
writes one per tensor storage. Both formats are timed alternately in one process (best of
``--repeat`` round trips, one torch thread), on nets trained one epoch on issue 4's data with
the lstm family's defaults (plateau scheduler, early stopping).
"""

import argparse
import pickle
import time

import torch
from skorch import NeuralNet

import skhyper

SIZES = {"full": ([16, 32, 64, 128], [1, 2]), "quick": ([4], [1])}


def skhyper_round_trip(net):
    blob = pickle.dumps(net)
    pickle.loads(blob)
    return len(blob)


def skorch_round_trip(net):
    blob = pickle.dumps(NeuralNet.__getstate__(net))
    type(net).__new__(type(net)).__setstate__(pickle.loads(blob))  # skorch's format, loaded
    return len(blob)


FORMATS = {"one archive (skhyper)": skhyper_round_trip, "per storage (skorch)": skorch_round_trip}


def best_time(call, net, repeat):
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = call(net)
        times.append(time.perf_counter() - start)
    return min(times), size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and sizes")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.quick:
        data = skhyper.load_dataset("sine-mixture", duration=1.0, sampling_rate=200, seq_len=20,
                                    stride=4)
    else:
        data = skhyper.load_dataset("sine-mixture", seq_len=50, stride=10)
    hidden_sizes, layer_counts = SIZES["quick" if args.quick else "full"]
    print("| hidden_size x num_layers | " + " | ".join(
        f"round trip, {name} (ms) | size, {name} (kB)" for name in FORMATS) + " |")
    print("|---|" + "---:|" * (2 * len(FORMATS)))
    for hidden_size in hidden_sizes:
        for num_layers in layer_counts:
            net = skhyper.make_estimator("lstm", hidden_size=hidden_size, num_layers=num_layers,
                                         max_epochs=1, random_state=0).fit(data.X, data.y)
            cells = []
            for call in FORMATS.values():
                seconds, size = best_time(call, net, args.repeat)
                cells += [f"{seconds * 1000:.1f}", f"{size / 1000:.0f}"]
            print(f"| {hidden_size} x {num_layers} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
