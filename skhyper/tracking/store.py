"""An embedded experiment store: one SQLite file per search directory.

Each completed unit of work (one candidate trained on one fold, up to one rung) is written in its
own transaction as it completes, with the fitted estimator, so a search killed at any point (even
by SIGKILL, mid-write) leaves a consistent file and a re-run trains none of the stored units again.
The store implements the fit-store protocol of :class:`skhyper.StagedHalvingSearchCV`
(``load_fit`` / ``save_fit``) and, through :class:`skhyper.tracking.StoreCheckpoint`, resumes any
scikit-learn search of skorch nets. The tracker queries (``results``, ``filter``, ``top``,
``statistics``, ``to_csv``) answer seed 000's questions from the stored results.

Fitted estimators are stored pickled: open only stores you (or your own runs) wrote.
"""

import json
import os
import pickle
import platform
import sqlite3
import time
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

from .._plain import to_plain
from ..model_size import SIZE_METRICS, quality_metric
from .._warnings import warn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL DEFAULT 'running',
    config TEXT NOT NULL DEFAULT '{}',
    fits_restored INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fits (
    key TEXT PRIMARY KEY,
    run INTEGER,
    created REAL NOT NULL,
    params TEXT NOT NULL,
    fold INTEGER,
    stage TEXT,
    rung INTEGER,
    epochs INTEGER,
    scores TEXT NOT NULL,
    fit_time REAL,
    score_time REAL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    history TEXT NOT NULL,
    versions TEXT NOT NULL,
    record TEXT NOT NULL,
    estimator BLOB
);
CREATE TABLE IF NOT EXISTS results (
    run INTEGER NOT NULL,
    candidate INTEGER NOT NULL,
    params TEXT NOT NULL,
    columns TEXT NOT NULL,
    PRIMARY KEY (run, candidate)
);
"""

_VERSIONED = ("skhyper", "torch", "skorch", "scikit-learn", "numpy")


def package_versions():
    """Python and key package versions, recorded with every fit."""
    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def _dumps(value):
    return json.dumps(to_plain(value), sort_keys=True)


class ExperimentStore:
    """The SQLite experiment store of one search directory.

    Parameters
    ----------
    path : str or path-like
        The database file; created with its tables (and its folder) when missing. Kept as an
        absolute path (``path`` attribute), so joblib workers started in another directory open
        the same file. A file that is not an SQLite database raises ValueError naming it.

    Attributes
    ----------
    run : int or None
        The run that :meth:`start_run` opened in this process; fits saved through this object
        are attributed to it.

    Notes
    -----
    The file is opened in WAL mode with one transaction per write, so a process killed mid-write
    leaves the last committed state, and parallel workers (each opening its own connection) can
    write at the same time. The object pickles without its connection, so it can be handed to
    joblib workers.
    """

    def __init__(self, path):
        self.path = str(path)
        if self.path not in ("", ":memory:"):  # sqlite's in-memory and temporary databases
            self.path = os.path.abspath(self.path)
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.run = None
        self._connection = None
        try:
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:  # e.g. a read-only file or directory
            self.close()
            raise ValueError(f"Cannot open the experiment store {self.path} for writing "
                             f"({exc}): it needs write access to the file and its directory "
                             "(SQLite's WAL files); copy it to a writable place to read it.") \
                from exc
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ValueError(f"{self.path} is not an experiment store ({exc}): move it away "
                             "or choose another path.") from exc

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_connection"] = None
        return state

    def __repr__(self):
        return f"ExperimentStore({self.path!r})"

    def _connect(self):
        """The connection of this process, opened on first use; ``with`` makes a transaction."""
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.isolation_level = "DEFERRED"
        return self._connection

    def close(self):
        """Close this process's connection (it reopens on the next call)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- runs --------------------------------------------------------------------------------

    def start_run(self, config=None):
        """Record the start of a run (``config``: plain values, e.g. the command's options);
        returns its id and makes it :attr:`run`."""
        with self._connect() as db:
            cursor = db.execute("INSERT INTO runs (started, config) VALUES (?, ?)",
                                (time.time(), _dumps(config or {})))
        self.run = cursor.lastrowid
        return self.run

    def finish_run(self, status="finished"):
        """Mark :attr:`run` finished (or ``status``)."""
        with self._connect() as db:
            db.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                       (time.time(), status, self.run))

    def runs(self):
        """All runs as a DataFrame: id, started, finished, status, config, fits_restored,
        fits_trained."""
        frame = pd.read_sql_query(
            "SELECT runs.*, (SELECT COUNT(*) FROM fits WHERE fits.run = runs.id) AS fits_trained "
            "FROM runs ORDER BY id", self._connect())
        frame["config"] = frame["config"].map(json.loads)
        return frame

    def n_fits(self):
        """Number of fits the store holds: of every run, and those saved outside a run."""
        return self._connect().execute("SELECT COUNT(*) FROM fits").fetchone()[0]

    def count_fits(self, run=None):
        """``(trained, restored)``: fits trained by ``run`` (default :attr:`run`) and fits it
        found already in the store."""
        run = self.run if run is None else run
        db = self._connect()
        trained = db.execute("SELECT COUNT(*) FROM fits WHERE run = ?", (run,)).fetchone()[0]
        row = db.execute("SELECT fits_restored FROM runs WHERE id = ?", (run,)).fetchone()
        return trained, (row[0] if row else 0)

    # --- the fit-store protocol --------------------------------------------------------------

    def load_fit(self, key):
        """The stored ``(fitted_estimator, record)`` of ``key``, or None when it is not stored.

        Counts as a restored fit of :attr:`run`.
        """
        db = self._connect()
        row = db.execute("SELECT estimator, record FROM fits WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        blob, record = row
        record = json.loads(record)
        try:
            estimator = pickle.loads(blob) if blob is not None else None
        except Exception as exc:  # e.g. a class of another script's __main__ in the model
            warn(f"The stored fit {key!r} cannot be unpickled ({type(exc).__name__}: "
                 f"{exc}); it is trained again.", RuntimeWarning)
            return None
        if self.run is not None:
            with db:
                db.execute("UPDATE runs SET fits_restored = fits_restored + 1 WHERE id = ?",
                           (self.run,))
        return estimator, record

    def save_fit(self, key, estimator, record):
        """Store a completed unit: ``estimator`` (pickled; the staged search's units give it
        already pickled, as bytes) and ``record`` (plain values; params, fold, stage, rung,
        epochs, scores, fit_time, score_time, status, error and history are also kept as
        columns for the queries). :meth:`load_fit` returns both as they were given."""
        blob = pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL) \
            if estimator is not None else None
        values = (
            key, self.run, time.time(), _dumps(record.get("params", {})), record.get("fold"),
            record.get("stage"), record.get("rung"), record.get("epochs"),
            _dumps(record.get("scores", {})), record.get("fit_time"), record.get("score_time"),
            record.get("status", "ok"), record.get("error") or "",
            _dumps(record.get("history", [])), _dumps(package_versions()), _dumps(record), blob,
        )
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO fits VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)

    # --- results of a finished search --------------------------------------------------------

    def save_results(self, cv_results):
        """Store a finished search's ``cv_results_`` (one row per candidate) for :attr:`run`."""
        frame = pd.DataFrame(cv_results)
        scalar_columns = [c for c in frame.columns if c != "params" and not c.startswith("param_")]
        rows = [
            # the columns in the search's order, which top() reads its default metric from
            (self.run, i, _dumps(params),
             json.dumps(to_plain(frame.loc[i, scalar_columns].to_dict())))
            for i, params in enumerate(frame["params"])
        ]
        with self._connect() as db:
            db.execute("DELETE FROM results WHERE run = ?", (self.run,))
            db.executemany("INSERT INTO results VALUES (?, ?, ?, ?)", rows)

    def _latest_run_with_results(self):
        row = self._connect().execute("SELECT MAX(run) FROM results").fetchone()
        return row[0]

    # --- tracker queries (seed 000) ----------------------------------------------------------

    def results(self, run=None):
        """One row per candidate of ``run`` (default: the latest run with results):
        ``param_<name>`` columns, then the cv_results_ columns (mean_test_score, rank_test_score,
        status, error, ...). Every query below reads it.

        Raises
        ------
        LookupError
            When the store holds no results (for ``run``).
        """
        latest = self._latest_run_with_results() if run is None else run
        rows = self._connect().execute(
            "SELECT candidate, params, columns FROM results WHERE run = ? ORDER BY candidate",
            (latest,)).fetchall()
        if not rows:
            which = "yet" if run is None else f"for run {run}"
            raise LookupError(f"The store {self.path} holds no search results {which}.")
        records = []
        for candidate, params, columns in rows:
            params = json.loads(params)
            record = {"candidate": candidate, "params": params}
            record.update({f"param_{k}": v for k, v in params.items()})
            record.update(json.loads(columns))
            records.append(record)
        return pd.DataFrame.from_records(records).set_index("candidate")

    def fits(self, run=None):
        """One row per stored unit of work (all runs, or ``run``): params, fold, stage, rung,
        epochs, scores (``score_<metric>`` columns), times, status, error, run, created."""
        query = ("SELECT key, run, created, params, fold, stage, rung, epochs, scores, fit_time, "
                 "score_time, status, error FROM fits")
        args = ()
        if run is not None:
            query, args = query + " WHERE run = ?", (run,)
        frame = pd.read_sql_query(query + " ORDER BY created", self._connect(), params=args)
        frame["params"] = frame["params"].map(json.loads)
        scores = pd.DataFrame.from_records(frame.pop("scores").map(json.loads).tolist(),
                                           index=frame.index)
        return frame.join(scores.add_prefix("score_"))

    def filter(self, criteria=None, run=None, **more):
        """Candidates whose columns match every criterion.

        Criteria are ``column=value`` (``hidden_size=32`` matches ``param_hidden_size``;
        ``status="ok"``) or ``column=callable`` (``mean_test_score=lambda s: s > -0.1``).

        Raises
        ------
        LookupError
            When the store holds no results (for ``run``).
        KeyError
            When a criterion names no column.
        """
        frame = self.results(run)
        for name, wanted in {**(criteria or {}), **more}.items():
            column = name if name in frame.columns else f"param_{name}"
            if column not in frame.columns:
                raise KeyError(
                    f"Unknown criterion {name!r}; columns: {', '.join(map(str, frame.columns))}."
                )
            mask = frame[column].map(wanted) if callable(wanted) else frame[column] == wanted
            frame = frame[mask.astype(bool)]
        return frame

    def top(self, n=5, metric=None, run=None):
        """The ``n`` best successful candidates by ``mean_test_<metric>``: greater is better, as
        in scikit-learn's scorers, except for a size (``n_parameters``), smaller.

        ``metric`` defaults to the search's only metric (``score``), or to the first of
        several, in the order it scored them, that is not a size: the one the command ranks
        on (a search from Python with another ``refit`` metric names it here)."""
        frame = self.results(run)
        column = _metric_column(frame, metric)
        if "status" in frame.columns:
            frame = frame[frame["status"] == "ok"]
        smaller_is_better = column[len("mean_test_"):] in SIZE_METRICS
        return frame.dropna(subset=[column]).sort_values(
            column, ascending=smaller_is_better, kind="stable").head(n)

    def statistics(self, metric=None, run=None):
        """Mean, std, min, max and median of ``mean_test_<metric>`` over successful candidates
        (as in :meth:`top`, whose default metric it takes), with their count and the numbers
        that failed and were pruned."""
        frame = self.results(run)
        column = _metric_column(frame, metric)
        scores = frame[column].astype(float)
        if "status" in frame.columns:
            failed = int((frame["status"] == "failed").sum())
            pruned = int((frame["status"] == "pruned").sum())
            scores = scores[frame["status"] == "ok"]
        else:
            failed, pruned = int(scores.isna().sum()), 0
        scores = scores.dropna()
        return pd.Series({"count": len(scores), "failed": failed, "pruned": pruned,
                          "mean": scores.mean(), "std": scores.std(), "min": scores.min(),
                          "max": scores.max(), "median": scores.median()}, name=column)

    def to_csv(self, path, run=None):
        """Write :meth:`results` to ``path`` as CSV (the params column as JSON)."""
        frame = self.results(run).copy()
        if "params" in frame.columns:
            frame["params"] = frame["params"].map(_dumps)
        frame.to_csv(path)
        return path


def _metric_column(frame, metric):
    """``mean_test_<metric>`` of a results frame (None: the ranking metric); KeyError naming
    the stored metrics."""
    known = [c[len("mean_test_"):] for c in frame.columns if c.startswith("mean_test_")]
    if metric is None and known:
        metric = quality_metric(None, known)  # in the order the search scored them
    if metric not in known:
        raise KeyError(f"Unknown metric {metric!r}; stored metrics: {', '.join(known)}.")
    return f"mean_test_{metric}"
