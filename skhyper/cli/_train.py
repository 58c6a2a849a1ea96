"""``skhyper train``: the final model on all data from a best_config.yaml (seed 004's last
phase), saved with its weights, configuration and history."""

import sys
import time
from pathlib import Path

import joblib
import yaml
from sklearn.metrics import get_scorer, get_scorer_names
from skorch.callbacks import Callback
from tqdm.auto import tqdm

from .. import registry
from .._yaml import safe_load
from .._plain import to_plain
from ._inputs import (UsageError, check_compatible, check_out_dir, check_param_values,
                      family_scorers, is_unsupervised, load_data, own_score, parse_data_params,
                      scoring_for)

MODEL_FILE = "model.joblib"


class EpochProgress(Callback):
    """A tqdm bar over the epochs of one fit, showing the latest losses."""

    def __init__(self, total=None, disable=False):
        self.total = total
        self.disable = disable

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total, unit="epoch", desc="train", disable=self.disable,
                         file=sys.stderr, dynamic_ncols=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix({k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss")
                               if k in row}, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)  # a live bar does not pickle
        return state


def read_config(path):
    """The mapping of a best_config.yaml, with a one-line error when it is unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            config = safe_load(handle)
    except OSError as exc:
        raise UsageError(f"Cannot read --config {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UsageError(f"Malformed YAML in {path}{where}: "
                         f"{getattr(exc, 'problem', None) or exc}.") from None
    if not isinstance(config, dict) or not isinstance(config.get("params", {}), dict):
        raise UsageError(f"--config {path} must be a mapping with a 'params' mapping "
                         "(a best_config.yaml written by skhyper search).")
    return config


def _recorded_data_params(config, dataset):
    """The loader arguments the search recorded in its best_config.yaml, when it searched
    ``dataset``."""
    recorded = config.get("data_params") or {}
    if config.get("dataset") != dataset or not isinstance(recorded, dict):
        return {}
    return recorded


def _format_params(params):
    return ", ".join(f"{key}={value}" for key, value in params.items())


def _check_entries(config, path):
    """Raise UsageError for a best_config.yaml entry of the wrong kind (a hand-edited one)."""
    for key in ("model", "dataset", "scoring"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise UsageError(f"{path}: {key} must be a name; got {config[key]!r}.")
    if config.get("data_params") is not None and not isinstance(config["data_params"], dict):
        raise UsageError(f"{path}: data_params must be a mapping of the dataset loader's "
                         f"arguments; got {config['data_params']!r}.")


def _scorer(scoring, family, estimator, data, path):
    """(label, scorer) of the config's ``scoring``: a family metric, a scikit-learn scorer of
    the task, else the estimator's own score (a search recorded it as "LSTMRegressor.score").
    """
    own = family_scorers(family)
    if scoring in own:
        return scoring, own[scoring]
    if scoring in get_scorer_names():
        try:
            scoring_for(scoring, family, data)  # a metric of the other task
        except UsageError as exc:
            raise UsageError(f"{path}: scoring: {exc}") from None
        return scoring, get_scorer(scoring)
    label = f"{type(estimator).__name__}.score"
    if scoring != label:  # a callable's repr, as a search scored by one records it
        print(f"skhyper train: note: {path}'s scoring {scoring!r} names no scorer; the held-out "
              f"score is the model's own score() ({label}).", file=sys.stderr)
    return label, own_score


def run_train(args):
    config = read_config(args.config)
    _check_entries(config, args.config)
    model = args.model or config.get("model")
    dataset = args.data or config.get("dataset")
    if not model or not dataset:
        raise UsageError(f"{args.config} names no {'model' if not model else 'dataset'}; "
                         "pass --model and --data.")
    out = Path(args.out)
    check_out_dir(out)
    if (out / MODEL_FILE).exists():
        raise UsageError(f"{out} already holds a trained model ({MODEL_FILE}); choose another "
                         "--out, or delete it first.")
    family = registry.get_model(model)
    given = parse_data_params(args.data_param)
    recorded = {key: value for key, value in _recorded_data_params(config, dataset).items()
                if key not in given}
    data_params = {**recorded, **given}
    data = load_data(dataset, data_params)
    params = dict(config.get("params") or {})
    if args.seed is not None:
        params["random_state"] = args.seed
    params.setdefault("random_state", 0)
    if args.epochs:
        params["max_epochs"] = args.epochs
        # a staged search's schedule span: a cosine would restart past it; it spans --epochs
        params.pop("lr_scheduler__T_max", None)
    estimator = family.make_estimator()
    check_compatible(model, family, estimator, dataset, data)
    # Scored on the held-out part as the search scored: with the config's scorer.
    scoring, scorer = _scorer(config.get("scoring") or "score", family, estimator, data,
                              args.config)
    check_param_values(estimator, {k: [v] for k, v in params.items()}, str(args.config),
                       data.X)
    estimator.set_params(**params)
    if "callbacks" in estimator.get_params(deep=False):
        callbacks = list(estimator.get_params(deep=False)["callbacks"] or [])
        estimator.set_params(callbacks=callbacks + [
            ("progress", EpochProgress(total=estimator.max_epochs, disable=args.quiet))])

    started = time.perf_counter()
    unsupervised = is_unsupervised(family)
    estimator.fit(data.X, None if unsupervised else data.y)
    elapsed = time.perf_counter() - started

    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, out / MODEL_FILE)
    history = getattr(estimator, "history", None)
    if history is not None:  # skorch nets: torch weights and a JSON history as well
        estimator.save_params(f_params=out / "weights.pt", f_optimizer=out / "optimizer.pt",
                              f_history=out / "history.json")
    test_score = None
    if getattr(data, "X_test", None) is not None:
        y_test = None if unsupervised else data.get("y_test")
        test_score = float(scorer(estimator, data.X_test, y_test))
    saved = to_plain({
        "model": model, "dataset": dataset, "data_params": data_params, "params": params,
        "epochs_trained": len(history) if history is not None else None,
        "train_time_s": round(elapsed, 2), "scoring": scoring, "test_score": test_score,
        "source_config": str(args.config),
    })
    with open(out / "config.yaml", "w", encoding="utf-8") as handle:
        yaml.safe_dump(saved, handle, sort_keys=False)
    if not args.quiet:
        if recorded:
            print(f"using the search's data parameters from {args.config}: "
                  f"{_format_params(recorded)} (--data-param overrides)")
        print(f"trained {model} on all of {dataset} ({len(data.X)} samples) in {elapsed:.1f} s")
        if test_score is not None:
            print(f"test {scoring}: {test_score:.6g}")
        print(f"saved to {out}/: {MODEL_FILE} (joblib.load it), weights.pt, optimizer.pt, "
              "history.json, config.yaml")
    return 0
