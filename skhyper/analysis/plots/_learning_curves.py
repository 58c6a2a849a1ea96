"""Per-epoch learning curves of the best candidates."""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .._curves import learning_curves
from .._results import results_frame
from ._common import get_axes, set_log_scale


def _order(obj, curves):
    """Candidates best first: by the search's rank when there is one, else by the last
    recorded score (higher is better), else by the last validation or training loss."""
    if hasattr(obj, "cv_results_"):
        frame = results_frame(obj)
        ranked = frame.sort_values(["rank", "candidate"])["candidate"].tolist()
        return [c for c in ranked if c in set(curves["candidate"])]
    last = curves.sort_values("epoch").groupby("candidate").last()
    if last["score"].notna().any():
        return last["score"].sort_values(ascending=False).index.tolist()
    loss = last["valid_loss"].fillna(last["train_loss"])
    return loss.sort_values().index.tolist()


def plot_learning_curves(search_or_history, candidates=None, *, n=5, ax=None):
    """Training (dashed) and validation (solid) loss against epoch, one colour per candidate.

    Each curve averages the candidate's folds at each epoch; a staged search's stages are drawn
    as separate segments of the same colour.

    Parameters
    ----------
    search_or_history : search, history records, DataFrame or fitted skorch net
        Anything :func:`~skhyper.analysis.learning_curves` takes: a StagedHalvingSearchCV's
        ``history_``, a fitted net's ``history``, or a search whose ``best_estimator_`` is a net.
    candidates : list of int, default=None
        Candidate ids to draw; default: the ``n`` best that have a history.
    n : int, default=5
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib.axes.Axes
    """
    curves = learning_curves(search_or_history)
    ax = get_axes(ax)
    if curves.empty:
        raise ValueError("No learning curves: the search kept no per-epoch history (a skorch "
                         "net, a StagedHalvingSearchCV or its history_ records have one).")
    chosen = list(candidates) if candidates is not None else _order(search_or_history,
                                                                     curves)[:n]
    palette = [f"C{i % 10}" for i in range(len(chosen))]
    handles = []
    for color, candidate in zip(palette, chosen):
        rows = curves[curves["candidate"] == candidate]
        for _, stage_rows in rows.groupby("stage", sort=False):
            mean = stage_rows.groupby("epoch")[["train_loss", "valid_loss"]].mean()
            ax.plot(mean.index, mean["train_loss"], ls="--", color=color, alpha=0.8, marker="x",
                    ms=4)
            if mean["valid_loss"].notna().any():
                ax.plot(mean.index, mean["valid_loss"], ls="-", color=color, marker=".")
        stages = ", ".join(str(s) for s in rows["stage"].unique())
        handles.append(Line2D([], [], color=color, label=f"#{candidate} ({stages})"))
    handles += [Line2D([], [], color="0.3", ls="-", label="valid loss"),
                Line2D([], [], color="0.3", ls="--", label="train loss")]
    losses = curves.loc[curves["candidate"].isin(chosen), ["train_loss", "valid_loss"]]
    losses = losses.to_numpy(float)
    losses = losses[np.isfinite(losses)]
    if losses.size and losses.min() > 0 and losses.max() / losses.min() >= 50:
        set_log_scale(ax, "y")
    ax.set_xlabel("epoch")
    folds = curves[curves["candidate"].isin(chosen)].groupby(["candidate", "stage", "epoch"])
    ax.set_ylabel("loss (mean over folds)" if folds.size().max() > 1 else "loss")
    ax.set_title(f"Learning curves of {len(chosen)} candidate(s)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    # Outside the axes: curves fill the plot area wherever they are.
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return ax
