"""``skhyper search``: run a strategy, store each fit as it completes, write the results."""

import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
import yaml
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import KFold

from .. import registry, spaces
from ..validation import check_choice
from ..parallel import parallel_backend
from ..tracking import ExperimentStore, StoreCheckpoint
from .._plain import to_plain
from ._inputs import (UsageError, check_compatible, check_out_dir, check_param_values,
                      is_unsupervised, load_data, parse_data_params,
                      scoring_for, scoring_names)
from ._progress import fit_progress
from ._strategies import (QUICK_EPOCHS, STRATEGIES, build_search, check_sampler_spaces,
                          check_space_names, expected_fits, parse_sampler, resolve_space,
                          staged_defaults)

STORE_FILE = "store.sqlite"
RUN_FILE = "run.yaml"
SEARCH_FILE = "search.joblib"
BACKENDS = ("loky", "threading", "dask")
#: Options that define a search: a resumed run must repeat them. (n_jobs, backend, scheduler,
#: quiet only change how it runs.)
DEFINING = ("model", "data", "data_params", "strategy", "space", "n_iter", "sampler", "top_k",
            "cv", "extended_cv", "scoring", "epochs", "seed")


def _uses_n_iter(config):
    """Whether --n-iter changes the search: random and bayes draw that many candidates, and
    so does a staged --sampler step without a count (the default, random)."""
    if config["strategy"] == "staged":
        sampler = config.get("sampler")
        return sampler is None or any(":" not in step for step in sampler.split(","))
    return config["strategy"] in ("random", "bayes")


def _choice(option, value, allowed):
    try:
        return check_choice(option, value, allowed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _search_config(args, space, scoring, epochs):
    """The plain-value description of the search recorded in the store and run.yaml."""
    space_plain = {name: {dim.kind: list(dim.values)} for name, dim in space.items()} \
        if space is not None else None
    return to_plain({
        "model": args.model, "data": args.data, "data_params": parse_data_params(args.data_param),
        "strategy": args.strategy, "space": space_plain, "n_iter": args.n_iter,
        "sampler": args.sampler, "top_k": args.top_k, "timeout": args.timeout, "cv": args.cv,
        "extended_cv": args.extended_cv,
        "scoring": scoring, "epochs": epochs, "seed": args.seed,
        "n_jobs": args.n_jobs, "backend": args.backend, "scheduler": args.scheduler,
    })


#: Run statuses of a search that ended without finishing; a store holding only such runs, and
#: no fit, has nothing to resume (runs left "running" may belong to a live process).
ABANDONED = ("failed", "interrupted")


def _holds_nothing_to_resume(path):
    """Whether the store at ``path`` holds no fit and only runs that failed or were
    interrupted."""
    store = ExperimentStore(path)
    try:
        # all its fits, also those a search through the Python API saved outside any run
        return bool(store.runs()["status"].isin(ABANDONED).all() and store.n_fits() == 0)
    finally:
        store.close()


def _remove_store(path):
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # SQLite's WAL files too
        part.unlink(missing_ok=True)


def _open_store(out, config, resume):
    """The store of ``out``; refuses to mix a new search into an old one, but replaces a store
    whose searches all failed or were interrupted before completing a fit."""
    path = out / STORE_FILE
    if path.exists() and _holds_nothing_to_resume(path):
        _remove_store(path)
    if path.exists() and not resume:
        raise UsageError(f"{out} already holds a search ({STORE_FILE}); pass --resume to "
                         "continue it, or choose another --out.")
    out.mkdir(parents=True, exist_ok=True)
    store = ExperimentStore(path)
    runs = store.runs()
    if resume and len(runs):
        previous = runs["config"].iloc[0]
        changed = [k for k in DEFINING if previous.get(k) != config.get(k)
                   and (k != "n_iter" or _uses_n_iter(config))]
        if changed:
            was = ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
            raise UsageError(f"--resume must repeat the search's options; this run changes "
                             f"{', '.join(changed)} (the stored search has {was}).")
    return store


def run_search(args):
    out = Path(args.out)
    check_out_dir(out)
    strategy = _choice("--strategy", args.strategy, STRATEGIES)
    _choice("--backend", args.backend, BACKENDS)
    if args.scheduler and args.backend != "dask":
        raise UsageError("--scheduler ADDRESS needs --backend dask.")
    staged_options = [o for o, v in (("--sampler", args.sampler), ("--top-k", args.top_k),
                                     ("--extended-cv", args.extended_cv),
                                     ("--timeout", args.timeout)) if v is not None]
    if staged_options and strategy != "staged":
        raise UsageError(f"{' and '.join(staged_options)}: options of the staged search; "
                         f"--strategy {strategy} does not take them (use --strategy staged).")
    # random draws --n-iter candidates unless --sampler says otherwise
    sampler = parse_sampler(args.sampler or "random", args.n_iter) \
        if strategy == "staged" else None
    if args.space and strategy in ("baseline", "quick"):
        raise UsageError(f"--strategy {strategy} searches a fixed space; drop --space or use "
                         "grid, random, bayes, halving or staged.")
    family = registry.get_model(args.model)
    unsupervised = is_unsupervised(family)
    data = load_data(args.data, parse_data_params(args.data_param))
    space = spaces.load_space(args.space) if args.space else None
    epochs = args.epochs or (QUICK_EPOCHS if strategy == "quick" else None)

    estimator = family.make_estimator(random_state=args.seed,
                                      **({"max_epochs": epochs} if epochs else {}))
    check_compatible(args.model, family, estimator, args.data, data)
    for option, folds in (("--cv", args.cv), ("--extended-cv", args.extended_cv)):
        if folds and folds > len(data.X):
            raise UsageError(f"{option} {folds}: more folds than the data's {len(data.X)} "
                             "samples.")
    scoring = scoring_for(args.scoring, family, data)
    if strategy == "halving" and isinstance(scoring, dict):
        raise UsageError(f"--scoring {args.scoring}: --strategy halving takes one "
                         "scikit-learn scorer name only: HalvingGridSearchCV refuses "
                         "multi-metric scoring, through which the command also records a "
                         "model's own metrics by name. Use --strategy staged, which takes them.")
    config = _search_config(args, space, scoring_names(scoring), epochs)
    fixed = {}
    if space is not None:
        check_space_names(strategy, space)
        check_param_values(estimator, {n: d.values for n, d in space.items()}, args.space,
                           data.X)
        # Fixed settings configure the estimator; the search varies the rest.
        fixed, space = spaces.split_fixed(space)
        estimator.set_params(**fixed)
    config["fixed_params"] = to_plain(fixed)
    config["n_samples"] = len(data.X)
    param_space = resolve_space(strategy, family, space)
    if strategy == "staged":
        staged_defaults(estimator, set(fixed) | set(param_space))
        check_sampler_spaces(sampler, param_space)

    store = _open_store(out, config, args.resume)
    stored_before = store.n_fits()
    store.start_run(config)
    if strategy != "staged" and "callbacks" in estimator.get_params(deep=False):
        callbacks = list(estimator.get_params(deep=False)["callbacks"] or [])
        estimator.set_params(callbacks=callbacks + [("store", StoreCheckpoint(store.path,
                                                                              store.run))])
    search = build_search(strategy, estimator, param_space, cv=KFold(args.cv), scoring=scoring,
                          n_iter=args.n_iter, epochs=epochs, seed=args.seed, n_jobs=args.n_jobs,
                          store=store, sampler=sampler,
                          top_k=1 if args.top_k is None else args.top_k, max_time=args.timeout,
                          extended_cv=KFold(args.extended_cv) if args.extended_cv else None)
    total = expected_fits(strategy, param_space, args.n_iter, args.cv)

    started = time.perf_counter()
    try:
        with parallel_backend(args.backend, n_jobs=args.n_jobs, scheduler=args.scheduler), \
                fit_progress(store, total, disable=args.quiet), warnings.catch_warnings():
            # Failed fits are in the results' status and error columns and in the summary;
            # scikit-learn's warnings would print a traceback per fit.
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.filterwarnings("ignore", message="One or more of the .* scores are "
                                                      "non-finite")
            search.fit(data.X, None if unsupervised else data.y)
    except KeyboardInterrupt:
        store.finish_run("interrupted")
        raise
    except BaseException:
        store.finish_run("failed")
        raise
    elapsed = time.perf_counter() - started
    store.save_results(search.cv_results_)
    try:  # finished once its outputs are written: report and --resume read them
        summary = _write_outputs(out, search, store, config, data, unsupervised, elapsed)
    except BaseException:
        store.finish_run("failed")
        raise
    store.finish_run()
    if not args.quiet:
        _print_summary(out, summary)
    if stored_before and not summary["fits_restored"]:
        print(f"skhyper search: note: none of the {stored_before} fits stored in {out} matched "
              "this search, so every fit was trained again. Fits are found by all of the "
              "model's parameters and the data: another skhyper version (one that adds a "
              "model parameter) or changed data makes new ones.", file=sys.stderr)
    return 0


def write_bundle(out, search, config):
    """The report bundle of a fitted search (skhyper.analysis.write_report: summary_report.md,
    report.html, figures/, cv_results.csv, results.json, best_config.yaml); returns the names
    of the files written."""
    from ..analysis import write_report

    # The corrected resampled t-test of the report needs the K-fold split sizes.
    n_test = config["n_samples"] // config["cv"]
    # best_config.yaml's params include the settings fixed outside the space (the space's fixed
    # values, --epochs, --seed): make_estimator(model, **params) rebuilds the best candidate.
    files = write_report(search, out, model=config["model"], dataset=config["data"],
                         n_train=config["n_samples"] - n_test, n_test=n_test,
                         fixed_params=config.get("fixed_params") or {},
                         data_params=config.get("data_params") or {})
    return sorted(Path(p).name for key, p in files.items() if key != "figures") + ["figures/"]


def _write_outputs(out, search, store, config, data, unsupervised, elapsed):
    """The report bundle, search.joblib and run.yaml; returns run.yaml's data."""
    from ..analysis import results_frame

    files = write_bundle(out, search, config)
    joblib.dump(search, out / SEARCH_FILE)
    trained, restored = store.count_fits()
    # One row per candidate (a halving search lists one per iteration), as in the report.
    frame = results_frame(search)
    summary = {
        "config": config,
        "run": store.run,
        "fits_trained": trained,
        "fits_restored": restored,
        "n_candidates": len(frame),
        "n_failed": int((frame["status"] == "failed").sum()),
        "n_pruned": int((frame["status"] == "pruned").sum()),
        "errors": dict(Counter(frame["error"][frame["status"] == "failed"])),
        # a staged candidate whose extended training failed keeps its earlier evaluation
        "kept_after_errors": dict(Counter(frame["error"][(frame["status"] != "failed")
                                                         & (frame["error"] != "")])),
        # --timeout stopped the staged search before its schedule ended
        "timed_out": bool(getattr(search, "timed_out_", False)),
        "best_params": to_plain(search.best_params_),
        "best_score": float(search.best_score_),
        "test_score": _test_score(search, data, unsupervised),
        "elapsed_s": round(elapsed, 2),
        "files": files,
    }
    with open(out / RUN_FILE, "w", encoding="utf-8") as handle:
        yaml.safe_dump(summary, handle, sort_keys=False)
    return summary


def _test_score(search, data, unsupervised):
    """The best estimator's score on the dataset's held-out part, when it has one (None when
    the scorer fails there, as it failed in the search)."""
    if getattr(data, "X_test", None) is None:
        return None
    try:
        score = search.score(data.X_test, None if unsupervised else data.get("y_test"))
    except Exception as exc:
        print(f"skhyper search: note: the held-out score failed ({type(exc).__name__}: {exc}); "
              "run.yaml records none.", file=sys.stderr)
        return None
    return float(score) if np.isfinite(score) else None


def _print_summary(out, summary):
    config = summary["config"]
    extended = f" ({config['extended_cv']}-fold in the extended stage)" \
        if config.get("extended_cv") else ""
    print(f"{config['strategy']} search of {config['model']} on {config['data']}: "
          f"{summary['n_candidates']} candidates ({summary['n_failed']} failed, "
          f"{summary['n_pruned']} pruned), "
          f"{config['cv']}-fold CV{extended}, {summary['elapsed_s']:.1f} s")
    print(f"fits: {summary['fits_trained']} trained, {summary['fits_restored']} restored "
          "from the store")
    for error, count in list(summary["errors"].items())[:3]:
        print(f"failed ({count} candidate{'s' if count > 1 else ''}): {error}")
    for error, count in list(summary["kept_after_errors"].items())[:3]:
        print(f"kept an earlier evaluation ({count} candidate{'s' if count > 1 else ''}): "
              f"{error}")
    if summary["timed_out"]:
        print(f"--timeout {config['timeout']:g} s ran out: no step started after it, the best "
              "candidate is the best evaluated (--resume with a longer --timeout goes on)")
    ranked_by = (config["scoring"] or "score").split(",")[0]
    print(f"best {ranked_by}: {summary['best_score']:.6g} with {summary['best_params']}")
    if summary["test_score"] is not None:
        print(f"test {ranked_by} of the refit best: {summary['test_score']:.6g}")
    print(f"results in {out}/: {', '.join(summary['files'])}, {RUN_FILE}, {SEARCH_FILE}, "
          f"{STORE_FILE}")
