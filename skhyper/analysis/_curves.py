"""Per-epoch learning curves as one tidy table, from a staged search or a fitted net."""

import sys

import numpy as np
import pandas as pd

COLUMNS = ["candidate", "stage", "rung", "fold", "epoch", "train_loss", "valid_loss", "score"]


def _is_net(obj):
    """A fitted skorch net (skhyper's nets are skorch nets)."""
    skorch = sys.modules.get("skorch")  # not imported means no net exists: skip the slow import
    return skorch is not None and isinstance(obj, skorch.NeuralNet) and \
        getattr(obj, "initialized_", False)


def _net_records(net, candidate, stage):
    records = []
    for entry in net.history:
        records.append(dict(candidate=candidate, stage=stage, rung=0, fold=-1,
                            epoch=entry["epoch"], train_loss=entry.get("train_loss", np.nan),
                            valid_loss=entry.get("valid_loss", np.nan), score=np.nan))
    return records


def learning_curves(obj):
    """Per-epoch losses of every fit that kept a history.

    Parameters
    ----------
    obj : search, list of records, DataFrame or fitted net
        - a StagedHalvingSearchCV (its ``history_`` records: one per candidate, fold and epoch),
          or those records as a list of dicts or a DataFrame;
        - a fitted skorch / skhyper net (its ``history``: ``candidate`` 0, ``fold`` -1);
        - any other fitted search whose ``best_estimator_`` is such a net: the refit's curve,
          as ``candidate`` ``best_index_``, ``stage`` "refit", ``fold`` -1.

    Returns
    -------
    pandas.DataFrame
        Columns ``candidate``, ``stage``, ``rung``, ``fold``, ``epoch``, ``train_loss``,
        ``valid_loss`` (NaN where not recorded) and ``score`` (the test-fold score at the epochs
        where a rung was evaluated); empty when nothing kept a history.
    """
    if _is_net(obj):
        records = _net_records(obj, 0, "fit")
    elif isinstance(getattr(obj, "history_", None), list):
        records = obj.history_
    elif isinstance(obj, (list, pd.DataFrame)):
        records = obj
    elif hasattr(obj, "cv_results_"):
        net = getattr(obj, "best_estimator_", None)
        records = _net_records(net, int(obj.best_index_), "refit") if _is_net(net) else []
    else:
        raise TypeError(f"Expected a search, history records, a DataFrame or a fitted skorch "
                        f"net; got {type(obj).__name__}.")
    curves = pd.DataFrame(records)
    if curves.empty:
        return pd.DataFrame(columns=COLUMNS)
    if "epoch" not in curves:
        raise ValueError("History records need an 'epoch' key (contract: candidate, stage, "
                         "rung, fold, epoch, train_loss, valid_loss, score).")
    for col in COLUMNS:
        if col not in curves:
            curves[col] = np.nan if col in ("train_loss", "valid_loss", "score") else 0
    return curves[COLUMNS + [c for c in curves.columns if c not in COLUMNS]]
