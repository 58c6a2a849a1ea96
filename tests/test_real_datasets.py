"""The digits, diabetes and csv dataset families: contents, splits, errors, and searches."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler
from skopt import BayesSearchCV

import skhyper
from skhyper.models.lstm import LSTMModule, LSTMRegressor
from skhyper.nets import NetClassifier

FAST = dict(max_epochs=1, patience=None, lr_scheduler=None, random_state=0)


# --- digits ---------------------------------------------------------------------------------


def test_digits_flat_and_sequences_hold_the_same_pixels():
    flat = skhyper.load_dataset("digits")
    seq = skhyper.load_dataset("digits", as_sequences=True)
    assert flat.task == "classification"
    assert flat.X.shape[1:] == (64,) and seq.X.shape[1:] == (8, 8)
    assert flat.X.dtype == np.float32 and 0 <= flat.X.min() and flat.X.max() == 1.0
    np.testing.assert_array_equal(seq.X.reshape(len(seq.X), 64), flat.X)
    np.testing.assert_array_equal(seq.y, flat.y)
    assert len(flat.X) + len(flat.X_test) == 1797
    assert len(flat.X_test) == 450  # test_size=0.25 of 1797, rounded up as sklearn does


def test_digits_split_is_seeded_and_stratified():
    a = skhyper.load_dataset("digits", random_state=0)
    b = skhyper.load_dataset("digits", random_state=0)
    c = skhyper.load_dataset("digits", random_state=1)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(a.X_test, c.X_test)
    train_share = np.bincount(a.y) / len(a.y)
    test_share = np.bincount(a.y_test) / len(a.y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.01)


def test_digits_options():
    data = skhyper.load_dataset("digits", n_class=3, scaled=False, test_size=None)
    assert set(np.unique(data.y)) == {0, 1, 2}
    assert "X_test" not in data and data.X.max() == 16.0
    with pytest.raises(ValueError, match=r"n_class=11"):
        skhyper.load_dataset("digits", n_class=11)
    with pytest.raises(ValueError, match=r"test_size=1.5"):
        skhyper.load_dataset("digits", test_size=1.5)
    with pytest.raises(ValueError, match=r"Invalid as_sequences='yes'. Allowed: True, False"):
        skhyper.load_dataset("digits", as_sequences="yes")
    # a numpy float is a fraction too (an array's element, a search space's draw)
    assert len(skhyper.load_dataset("digits", test_size=np.float32(0.25)).X_test) == 450


# --- diabetes -------------------------------------------------------------------------------


def test_diabetes_is_tabular_regression_with_a_seeded_split():
    data = skhyper.load_dataset("diabetes")
    assert data.task == "regression"
    assert data.X.shape == (331, 10) and data.X_test.shape == (111, 10)
    assert data.feature_names[:3] == ["age", "sex", "bmi"]
    again = skhyper.load_dataset("diabetes")
    np.testing.assert_array_equal(data.y_test, again.y_test)
    whole = skhyper.load_dataset("diabetes", test_size=None, scaled=False)
    assert len(whole.X) == 442 and "X_test" not in whole
    assert whole.X[:, 0].max() > 1  # raw ages


# --- csv ------------------------------------------------------------------------------------


@pytest.fixture
def series_csv(tmp_path):
    """40 rows: time t, features a = t and b = 10 t, targets y = 100 t and z = -t."""
    t = np.arange(40)
    path = tmp_path / "series.csv"
    pd.DataFrame({"a": t, "b": 10 * t, "y": 100 * t, "z": -t}).to_csv(path, index=False)
    return path


def test_csv_tabular_default_features_are_the_other_columns(series_csv):
    data = skhyper.load_dataset("csv", path=series_csv, target="y")
    assert data.task == "regression" and data.feature_names == ["a", "b", "z"]
    assert data.X.shape == (40, 3) and data.y.shape == (40,)
    np.testing.assert_array_equal(data.y, 100 * data.X[:, 0])
    two = skhyper.load_dataset("csv", path=str(series_csv), target=["y", "z"], features=["b"])
    assert two.X.shape == (40, 1) and two.y.shape == (40, 2)
    unsup = skhyper.load_dataset("csv", path=series_csv)
    assert unsup.task == "unsupervised" and unsup.y is None and unsup.X.shape == (40, 4)


def test_csv_windows_take_the_target_at_the_last_row(series_csv):
    data = skhyper.load_dataset("csv", path=series_csv, target="y", features=["a", "b"],
                                seq_len=5, stride=3)
    assert data.X.shape == (12, 5, 2)  # starts 0, 3, ..., 33
    np.testing.assert_array_equal(data.X[1, :, 0], [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(data.X[1, :, 1], [30, 40, 50, 60, 70])
    np.testing.assert_array_equal(data.y, 100 * data.X[:, -1, 0])


def test_csv_test_part_is_the_last_rows_and_no_window_spans_both(series_csv):
    data = skhyper.load_dataset("csv", path=series_csv, target="y", features=["a"], seq_len=4,
                                test_size=0.25)
    assert data.X[:, :, 0].max() == 29 and data.X_test[:, :, 0].min() == 30
    assert data.X.shape == (27, 4, 1) and data.X_test.shape == (7, 4, 1)
    np.testing.assert_array_equal(data.y_test, 100 * data.X_test[:, -1, 0])
    rows = skhyper.load_dataset("csv", path=series_csv, target="y", test_size=5)
    np.testing.assert_array_equal(rows.X_test[:, 0], np.arange(35, 40))
    rows = skhyper.load_dataset("csv", path=series_csv, target="y", test_size=np.float32(0.125))
    np.testing.assert_array_equal(rows.X_test[:, 0], np.arange(35, 40))


def test_csv_classification_keeps_labels_and_missing_cells_become_nan(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("x1,x2,label\n1,,cat\n2,0.5,dog\n3,0.25,cat\n")
    data = skhyper.load_dataset("csv", path=path, target="label", task="classification")
    assert data.task == "classification" and list(data.y) == ["cat", "dog", "cat"]
    assert np.isnan(data.X[0, 1]) and data.X[1, 1] == 0.5
    with pytest.raises(ValueError, match=r"Column 'label'.*not numeric.*'cat' in data row 1"):
        skhyper.load_dataset("csv", path=path, target="label")


@pytest.fixture
def sorted_classes_csv(tmp_path):
    """30 rows sorted by class: 10 of a, then b, then c; x is the row number."""
    path = tmp_path / "sorted.csv"
    path.write_text("x,label\n" + "".join(f"{i},{'abc'[i // 10]}\n" for i in range(30)))
    return path


def test_csv_sorted_by_class_warns_and_shuffle_holds_out_a_stratified_part(sorted_classes_csv):
    settings = dict(path=sorted_classes_csv, target="label", task="classification")
    with pytest.warns(UserWarning, match=r"held-out last rows .* have the classes \['c'\] "
                                         r"and the rest \['a', 'b', 'c'\]: is the file sorted"
                      ) as caught:
        skhyper.load_dataset("csv", test_size=6, **settings)
    assert caught[0].filename == __file__  # the user's line, not skhyper's registry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = skhyper.load_dataset("csv", test_size=6, shuffle=True, **settings)
    assert sorted(data.y_test) == ["a", "a", "b", "b", "c", "c"]  # stratified
    rows = np.concatenate([data.X[:, 0], data.X_test[:, 0]])
    assert sorted(rows) == list(range(30)) and list(rows) != list(range(30))
    assert data.X.shape == (24, 1) and "held out at random (random_state=0)" in \
        data.description
    # the first training rows (an unshuffled K-fold's first fold) mix the classes too
    assert len(set(data.y[:8])) == 3
    again = skhyper.load_dataset("csv", test_size=6, shuffle=True, **settings)
    np.testing.assert_array_equal(again.X, data.X)
    other = skhyper.load_dataset("csv", test_size=6, shuffle=True, random_state=1, **settings)
    assert list(other.X[:, 0]) != list(data.X[:, 0])
    whole = skhyper.load_dataset("csv", shuffle=True, **settings)
    assert sorted(whole.X[:, 0]) == list(range(30)) and len(set(whole.y[:8])) > 1
    with pytest.raises(ValueError, match="shuffle=True with seq_len=3: windows"):
        skhyper.load_dataset("csv", shuffle=True, seq_len=3, **settings)
    with pytest.raises(ValueError, match="stratified by class, which failed: The test_size"):
        skhyper.load_dataset("csv", shuffle=True, test_size=2, **settings)


def test_csv_column_names_given_as_numbers_or_booleans(tmp_path):
    # The command reads --data-param target=2020 as YAML: the number 2020, and on as True.
    path = tmp_path / "years.csv"
    path.write_text("a,2020,on,7\n1,2,3,0\n2,4,6,0\n3,6,9,0\n4,8,12,0\n")
    data = skhyper.load_dataset("csv", path=path, target=2020, features=[7, "a"])
    assert list(data.y[:3]) == [2.0, 4.0, 6.0] and data.X.shape[1] == 2
    with pytest.raises(ValueError, match=r"Target column True is not in .*quote the column"):
        skhyper.load_dataset("csv", path=path, target=True)


def test_csv_errors_name_the_file_the_column_and_the_value(tmp_path, series_csv):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        skhyper.load_dataset("csv", path=missing)
    with pytest.raises(ValueError, match=r"Target column 'yy' is not in .*series.csv\. "
                                         r"Did you mean 'y'\? Columns: a, b, y, z"):
        skhyper.load_dataset("csv", path=series_csv, target="yy")
    with pytest.raises(ValueError, match=r"Feature column 'c'"):
        skhyper.load_dataset("csv", path=series_csv, target="y", features=["a", "c"])
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,n/a-ish\n")
    with pytest.raises(ValueError, match=r"Column 'b' of .*bad.csv is not numeric.*"
                                         r"'n/a-ish' in data row 2"):
        skhyper.load_dataset("csv", path=bad)
    with pytest.raises(ValueError, match=r"seq_len=50: the training part .* has only 40 rows"):
        skhyper.load_dataset("csv", path=series_csv, target="y", seq_len=50)
    with pytest.raises(ValueError, match=r"Invalid task='clasification'.*classification"):
        skhyper.load_dataset("csv", path=series_csv, target="y", task="clasification")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"Could not read .*empty.csv"):
        skhyper.load_dataset("csv", path=empty)
    empty.write_text("a,b\n")
    with pytest.raises(ValueError, match=r"empty.csv' has no data rows \(columns: a, b\)"):
        skhyper.load_dataset("csv", path=empty)


# --- searches with the default spaces -------------------------------------------------------


def _prefixed(space, prefix):
    return {prefix + name: values for name, values in space.items()}


def _search(kind, estimator, space, scoring):
    cv = KFold(2, shuffle=True, random_state=0)
    if kind == "grid":
        return GridSearchCV(estimator, space, cv=cv, scoring=scoring, error_score="raise")
    if kind == "random":
        return RandomizedSearchCV(estimator, space, n_iter=3, cv=cv, scoring=scoring,
                                  random_state=0, error_score="raise")
    return BayesSearchCV(estimator, space, n_iter=3, cv=cv, scoring=scoring, random_state=0,
                         error_score="raise")


class SequenceClassifier(NetClassifier):
    """The lstm family's module as a classifier, assembled from the public API."""

    X_ndim = 3

    def module_size_params(self):
        return {"input_size": self.n_features_in_, "output_size": self.n_outputs_}


def _module_space(space):
    """The lstm family's space for :class:`SequenceClassifier` (module sizes are module__*)."""
    return {("module__" + k if k in LSTMRegressor.module_params else k): v
            for k, v in space.items()}


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_digits_sequences_are_searchable(kind):
    data = skhyper.load_dataset("digits", as_sequences=True, n_class=4)
    X, y = data.X[:120], data.y[:120]
    net = SequenceClassifier(LSTMModule, **FAST)
    space = _module_space(skhyper.get_model("lstm").search_space(kind))
    search = _search(kind, net, space, "accuracy").fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert set(search.best_estimator_.predict(data.X_test[:20])) <= {0, 1, 2, 3}


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_diabetes_is_searchable_with_a_standardized_target(kind):
    data = skhyper.load_dataset("diabetes")
    # Each patient as a one-step sequence for the lstm family; the target standardized, as the
    # loader's docstring advises.
    X, X_test = data.X[:, None, :], data.X_test[:, None, :]
    model = TransformedTargetRegressor(skhyper.make_estimator("lstm", **FAST),
                                       transformer=StandardScaler())
    space = _prefixed(skhyper.get_model("lstm").search_space(kind), "regressor__")
    search = _search(kind, model, space, "neg_mean_squared_error").fit(X[:120], data.y[:120])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(X_test).shape == data.y_test.shape


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_csv_windows_are_searchable(kind, tmp_path):
    t = np.arange(300) * 0.05
    path = tmp_path / "wave.csv"
    pd.DataFrame({"x": np.sin(t), "x_lag": np.cos(t), "y": np.sin(t + 0.3)}).to_csv(path,
                                                                                    index=False)
    data = skhyper.load_dataset("csv", path=path, target="y", seq_len=10, stride=2,
                                test_size=0.2)
    space = skhyper.get_model("lstm").search_space(kind)
    search = _search(kind, skhyper.make_estimator("lstm", **FAST), space, "r2")
    search.fit(data.X, data.y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.predict(data.X_test).shape == data.y_test.shape
