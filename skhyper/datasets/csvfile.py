"""The ``csv`` dataset: any CSV file, as tabular rows or as windows of consecutive rows.

Rows are taken in file order (time order for series): windows are cut from consecutive rows and
the held-out test part is the last rows, so nothing from the future leaks into training. Tabular
rows that are not in time order (a file sorted by class, say) are shuffled with ``shuffle=True``.
"""

import difflib
import numbers
import os

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from .._warnings import warn
from ..validation import check_choice, check_number, is_fraction
from ..registry import DatasetFamily

CSV_TASKS = ("regression", "classification", "unsupervised")


def _as_list(columns):
    """Column names as a list of strings, the header's type: YAML (the command's
    --data-param) reads a header such as 2020 as a number. Booleans stay as they are."""
    if columns is None:
        return None
    if isinstance(columns, (str, numbers.Number)):
        columns = [columns]
    return [name if isinstance(name, (str, bool)) else str(name) for name in columns]


def _check_columns(role, names, frame, path):
    available = [str(c) for c in frame.columns]
    for name in names:
        if name not in frame.columns:
            close = difflib.get_close_matches(str(name), available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            if isinstance(name, bool):
                hint = (" YAML reads on/off, yes/no and true/false as booleans: quote the "
                        "column name, e.g. target='\"on\"'.")
            raise ValueError(
                f"{role} column {name!r} is not in {path}.{hint} "
                f"Columns: {', '.join(available)}."
            )


def _numeric(frame, columns, path):
    """The columns as float32; a non-numeric column is an error naming a bad cell."""
    for name in columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            continue
        parsed = pd.to_numeric(column, errors="coerce")
        bad_rows = np.flatnonzero(parsed.isna() & column.notna())
        where = f": value {column.iloc[bad_rows[0]]!r} in data row {bad_rows[0] + 1}" \
            if len(bad_rows) else ""
        raise ValueError(
            f"Column {name!r} of {path} is not numeric (dtype {column.dtype}){where}. "
            "Features and regression targets must be numbers (empty cells become NaN); "
            "encode categories as numbers first, or pass task='classification' for labels "
            "in the target."
        )
    return frame[columns].to_numpy(dtype=np.float32)


def _split_rows(n_rows, test_size):
    """Number of rows in the training part (the test part is the rest, at the end)."""
    if test_size is None:
        return n_rows
    if is_fraction(test_size):
        check_number("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
        n_test = int(round(n_rows * test_size))
    else:
        n_test = check_number("test_size", test_size, low=1, high=n_rows - 1, integer=True)
    if not 0 < n_test < n_rows:
        raise ValueError(
            f"Invalid test_size={test_size!r}: leaves {n_rows - n_test} training and {n_test} "
            f"test rows of {n_rows}; each part needs at least one."
        )
    return n_rows - n_test


def _warn_if_sorted(y, y_test, path):
    """Warn when the held-out last rows miss classes of the training part, or hold others."""
    train, test = set(np.unique(y)), set(np.unique(y_test))
    if train != test:
        warn(
            f"The held-out last rows of {path} have the classes {sorted(test, key=str)} and "
            f"the rest {sorted(train, key=str)}: is the file sorted by class? shuffle=True "
            "holds out a stratified random part instead.", UserWarning)


def _windows(X, y, seq_len, stride, part, path):
    """(n_windows, seq_len, n_features) windows; the target is the window's last row."""
    if len(X) < seq_len:
        raise ValueError(
            f"Invalid seq_len={seq_len}: the {part} part of {path} has only {len(X)} rows."
        )
    X_w = sliding_window_view(X, seq_len, axis=0)[::stride].transpose(0, 2, 1)
    last_rows = np.arange(seq_len - 1, len(X), stride)
    return np.ascontiguousarray(X_w), (None if y is None else y[last_rows])


def load_csv(path, target=None, features=None, task=None, seq_len=None, stride=1,
             test_size=None, sep=",", read_csv_kwargs=None, shuffle=False, random_state=0):
    """Load a CSV file as ``X`` (and ``y``), optionally as windows of consecutive rows.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file, read with :func:`pandas.read_csv`.
    target : str, list of str or None, default=None
        Target column(s): one gives ``y`` of shape (n,), several (n, n_targets). None loads
        unsupervised data (``y`` is None).
    features : list of str or None, default=None
        Feature columns; None takes every column that is not a target.
    task : {"regression", "classification", "unsupervised"} or None, default=None
        None means "regression" with a target and "unsupervised" without. Classification
        takes one target column whose labels may be any values (strings too); features and
        regression targets must be numeric.
    seq_len : int or None, default=None
        None gives tabular ``X`` (n, n_features). An int cuts windows of ``seq_len``
        consecutive rows, ``X`` (n_windows, seq_len, n_features), with the target taken at each
        window's last row.
    stride : int, default=1
        Rows between the starts of consecutive windows (with ``seq_len``).
    test_size : float, int or None, default=None
        Hold out the last rows (a fraction, or a number of rows) as ``X_test, y_test``; windows
        are cut within each part, so none spans both. None holds out nothing.
    sep : str, default=","
        Field delimiter.
    read_csv_kwargs : dict or None, default=None
        Further :func:`pandas.read_csv` arguments (``skiprows``, ``na_values``, ...).
    shuffle : bool, default=False
        Tabular rows only: shuffle them, and hold out a random ``test_size`` (stratified for
        classification) instead of the last rows, so that unshuffled K-fold splits and the
        test part mix the file's rows. For files whose row order means nothing, such as a
        table sorted by class. Windows (``seq_len``) keep their time order.
    random_state : int, default=0
        Seed of the shuffle.

    Returns
    -------
    Bunch
        ``X`` float32, ``y`` (None when unsupervised), ``X_test``, ``y_test`` (with
        ``test_size``), ``task``, ``description``, ``feature_names``, ``target_names``.
        Empty cells are NaN: impute them, or use a family that accepts missing values.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"CSV file {path!r} not found (resolved: "
                                f"{os.path.abspath(path)}).")
    try:
        frame = pd.read_csv(path, sep=sep, **(read_csv_kwargs or {}))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"Could not read {path!r} as CSV: {exc}") from exc
    frame.columns = [str(c) for c in frame.columns]
    if frame.empty:
        raise ValueError(f"CSV file {path!r} has no data rows (columns: "
                         f"{', '.join(frame.columns) or 'none'}).")

    targets = _as_list(target) or []
    task = task or ("regression" if targets else "unsupervised")
    check_choice("task", task, CSV_TASKS)
    if (task == "unsupervised") != (not targets):
        raise ValueError(
            f"Invalid task={task!r} with target={target!r}: unsupervised data has no target; "
            "regression and classification need one."
        )
    if task == "classification" and len(targets) != 1:
        raise ValueError(
            f"Invalid target={target!r}: classification takes exactly one target column."
        )
    _check_columns("Target", targets, frame, path)
    names = _as_list(features)
    if names is None:
        names = [c for c in frame.columns if c not in targets]
    _check_columns("Feature", names, frame, path)
    overlap = sorted(set(names) & set(targets))
    if overlap:
        raise ValueError(f"Column(s) {overlap} of {path} are both features and targets.")
    if not names:
        raise ValueError(f"{path!r} has no feature columns besides the target {targets}.")
    if seq_len is not None:
        check_number("seq_len", seq_len, low=1, integer=True)
        check_number("stride", stride, low=1, integer=True)
    check_choice("shuffle", shuffle, (False, True))
    if shuffle and seq_len is not None:
        raise ValueError(f"Invalid shuffle=True with seq_len={seq_len}: windows are cut from "
                         "consecutive rows, which a shuffle would mix; windows keep the "
                         "file's order.")
    check_number("random_state", random_state, low=0, integer=True)

    X = _numeric(frame, names, path)
    if task == "unsupervised":
        y = None
    elif task == "classification":
        y = frame[targets[0]].to_numpy()
    else:
        y = _numeric(frame, targets, path)
        y = y[:, 0] if len(targets) == 1 else y

    n_train = _split_rows(len(X), test_size)
    if shuffle:
        order = np.random.default_rng(random_state).permutation(len(X))
        if n_train < len(X):  # both parts in shuffled order
            try:
                order = np.concatenate(train_test_split(
                    np.arange(len(X)), test_size=len(X) - n_train, random_state=random_state,
                    stratify=y if task == "classification" else None))
            except ValueError as exc:  # a class too rare to be in both parts
                raise ValueError(f"shuffle=True holds out a part of {path} stratified by "
                                 f"class, which failed: {exc}") from exc
        X, y = X[order], None if y is None else y[order]
    parts = {"": (X[:n_train], None if y is None else y[:n_train])}
    if n_train < len(X):
        parts["_test"] = (X[n_train:], None if y is None else y[n_train:])
        if task == "classification" and not shuffle:
            _warn_if_sorted(parts[""][1], parts["_test"][1], path)
    data = {}
    for suffix, (X_part, y_part) in parts.items():
        if seq_len is not None:
            part = "test" if suffix else "training"
            X_part, y_part = _windows(X_part, y_part, seq_len, stride, part, path)
        data["X" + suffix], data["y" + suffix] = X_part, y_part

    shape = f"windows of {seq_len} rows (stride {stride})" if seq_len else "rows"
    held_out = ""
    if n_train < len(X):
        held_out = f", {len(X) - n_train} rows held out at random (random_state=" \
            f"{random_state})" if shuffle else f", the last {len(X) - n_train} rows held out"
    elif shuffle:
        held_out = f", rows shuffled (random_state={random_state})"
    return Bunch(
        **data, task=task, feature_names=names, target_names=targets,
        description=(
            f"CSV file {os.path.basename(path)}: {len(data['X'])} {shape} of {len(names)} "
            f"feature(s); target: {', '.join(targets) or 'none'} ({task}){held_out}."
        ),
    )


family = DatasetFamily(
    name="csv",
    loader=load_csv,
    task="regression",
    description="Any CSV file: target column(s) (regression; task=classification for labels) "
                "or none, optional windowing into sequences",
)
