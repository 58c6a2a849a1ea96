"""Seed 000/002 workflow: grid search of the LSTM signal extractor on the sine mixture.

A real GridSearchCV over the ``lstm`` family on the ``sine-mixture`` dataset, scored on the
held-out test part with an independently noised signal.

    python examples/lstm_signal_grid_search.py            # about a minute on 2 cores
    python examples/lstm_signal_grid_search.py --quick    # a few seconds (used by the tests)
"""

import argparse

from sklearn.model_selection import GridSearchCV, KFold

import skhyper


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and budget")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per fit")
    args = parser.parse_args(argv)

    if args.quick:
        data = skhyper.load_dataset("sine-mixture", duration=1.0, sampling_rate=200,
                                    seq_len=20, stride=4)
        grid = {"hidden_size": [8, 16], "lr": [3e-3, 1e-2]}
        epochs = args.epochs or 2
    else:
        data = skhyper.load_dataset("sine-mixture", duration=4.0, seq_len=50, stride=20)
        grid = skhyper.get_model("lstm").search_space("grid")
        epochs = args.epochs or 8
    print(data.description)

    estimator = skhyper.make_estimator("lstm", max_epochs=epochs, random_state=0)
    search = GridSearchCV(estimator, grid, cv=KFold(3), scoring="neg_mean_squared_error",
                          n_jobs=1)
    search.fit(data.X, data.y)

    print(f"{len(search.cv_results_['params'])} candidates x 3 folds, {epochs} epochs each")
    print("best parameters:", search.best_params_)
    print(f"best CV score (neg MSE): {search.best_score_:.4f}")
    test_r2 = search.best_estimator_.score(data.X_test, data.y_test)
    print(f"test R^2 of the refit best model: {test_r2:.4f}")
    return search


if __name__ == "__main__":
    main()
