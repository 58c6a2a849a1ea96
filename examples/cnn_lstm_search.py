"""Seed 001 workflow: multi-objective search of the multi-task CNN+LSTM on the market data.

A RandomizedSearchCV over the ``cnn-lstm`` family's default random space on the ``market``
dataset, with time-ordered folds and multi-metric scoring: direction accuracy, return MSE, a
combined score, training time and model size. The Pareto front of seed 001's three objectives
(the combined score, training time and size) marks the candidates no other one beats on all
three. The best candidates by combined score are then retrained with a longer budget on all
training data and evaluated on the later, held-out time span.

    python examples/cnn_lstm_search.py            # a few minutes on 2 cores
    python examples/cnn_lstm_search.py --quick    # a few seconds (used by the tests)
"""

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import RandomizedSearchCV, TimeSeriesSplit

import skhyper
from skhyper.analysis import pareto_front
from skhyper.model_size import count_parameters
from skhyper.models.cnn_lstm import multitask_scoring

MB_PER_PARAMETER = 4 / 1e6  # float32


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and budget")
    parser.add_argument("--n-iter", type=int, default=None, help="candidates to sample")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per search fit")
    parser.add_argument("--full-epochs", type=int, default=None,
                        help="epochs when retraining the best candidates")
    parser.add_argument("--top-k", type=int, default=2, help="candidates to retrain")
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel fits")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per process (nets this small train fastest on one)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args.quick:
        data = skhyper.load_dataset("market", n_assets=2, n_steps=160, seq_len=8)
        n_iter, epochs, full_epochs = args.n_iter or 2, args.epochs or 1, args.full_epochs or 2
    else:
        data = skhyper.load_dataset("market", n_assets=3, n_steps=1000, seq_len=20)
        n_iter, epochs, full_epochs = args.n_iter or 6, args.epochs or 4, args.full_epochs or 12
    print(data.description)

    family = skhyper.get_model("cnn-lstm")
    space = family.search_space("random")
    if args.quick:  # the default space with the network sizes cut down
        space = {**space, "n_filters": [4, 8], "lstm_hidden_size": [8, 16], "fusion_dim": [8, 16]}
    # A fixed epoch budget per search fit keeps training times comparable between candidates.
    estimator = family.make_estimator(max_epochs=epochs, patience=None, random_state=0)
    search = RandomizedSearchCV(
        estimator, space, n_iter=n_iter, random_state=0,
        cv=TimeSeriesSplit(3),  # train on the past, validate on the following span
        scoring=multitask_scoring, refit=False, n_jobs=args.n_jobs,
    )
    search.fit(data.X, data.y)

    results = pd.DataFrame({
        "accuracy": search.cv_results_["mean_test_accuracy"],
        "mse": -search.cv_results_["mean_test_neg_mse"],
        "combined": search.cv_results_["mean_test_combined"],
        "fit_time_s": search.cv_results_["mean_fit_time"],
        "size_mb": search.cv_results_["mean_test_n_parameters"] * MB_PER_PARAMETER,
        "rank": search.cv_results_["rank_test_combined"],
        "params": search.cv_results_["params"],
    })
    # combined (max), fit time (min) and n_parameters (min): the defaults for this scoring
    results["pareto"] = results.index.isin(pareto_front(search, metric="combined")["candidate"])
    results = results.sort_values("rank")
    print(f"\n{n_iter} candidates x 3 time-ordered folds, {epochs} epochs each "
          f"(failed candidates show NaN):")
    with pd.option_context("display.width", 120, "display.max_colwidth", 60):
        print(results.drop(columns="params").round(4).to_string())

    retrained = []
    for rank, params in enumerate(results["params"].head(args.top_k), start=1):
        model = clone(estimator).set_params(**params, max_epochs=full_epochs)
        start = time.perf_counter()
        model.fit(data.X, data.y)
        training_time = time.perf_counter() - start
        report = {
            "model_rank": rank,
            "config_params": params,
            "test_metrics": {
                "test_class_acc": accuracy_score(data.y_test[:, 0].astype(int),
                                                 model.predict(data.X_test)),
                "test_reg_mse": mean_squared_error(data.y_test[:, 1],
                                                   model.predict_regression(data.X_test)),
            },
            "training_time": training_time,
            "model_size_mb": count_parameters(model) * MB_PER_PARAMETER,
        }
        retrained.append(report)
        metrics = report["test_metrics"]
        print(f"\nretrained #{rank} ({full_epochs} epochs, {training_time:.1f} s, "
              f"{report['model_size_mb']:.3f} MB): test accuracy {metrics['test_class_acc']:.4f}"
              f", test return MSE {metrics['test_reg_mse']:.4f}")
    majority = np.bincount(data.y_test[:, 0].astype(int)).max() / len(data.y_test)
    print(f"\n(majority-class test accuracy, for reference: {majority:.4f})")
    return search, retrained


if __name__ == "__main__":
    main()
