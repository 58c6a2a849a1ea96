"""TensorBoard learning curves for every fit of a skorch net, clone- and pickle-safe.

skorch's own :class:`skorch.callbacks.TensorBoard` takes a ready ``SummaryWriter``: one writer
shared by every clone a search makes, and a net that no longer pickles. This callback takes a
directory instead and opens its writer when training begins, in a sub-directory of its own per fit.
"""

import os
import re
import time
import uuid
import weakref

import numpy as np
from skorch.callbacks import TensorBoard

_UNSAFE_IN_NAME = re.compile(r"[^\w.=+,-]+")


def curve_tag(key):
    """TensorBoard tag of a history column: losses under ``Loss/``, other train/valid
    scores under ``Score/`` (skorch's default mapper files every ``valid_*`` under Loss)."""
    if key.endswith("_loss"):
        return "Loss/" + key
    if key.startswith(("train", "valid")):
        return "Score/" + key
    return key


def _summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:  # torch raises ImportError when tensorboard is missing
        raise ImportError(
            "TensorBoardCurves needs the tensorboard package; install it with "
            'pip install "skhyper[tensorboard]".'
        ) from exc
    return SummaryWriter


def _hparam_value(value):
    """A value TensorBoard's HParams dashboard takes (number, string, bool), else None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    return None


class TensorBoardCurves(TensorBoard):
    """Log each fit's per-epoch curves to TensorBoard, one run directory per fit.

    Every numeric column of the net's history (``train_loss``, ``valid_loss``, epoch duration,
    scores added by :class:`skorch.callbacks.EpochScoring`, ...) is written at the end of each
    epoch with the epoch number as the step, and the optimizer's learning rate at the start of
    each epoch. The ``SummaryWriter`` is created in :meth:`on_train_begin` and closed and
    dropped in :meth:`on_train_end`, so a net carrying this callback survives
    :func:`sklearn.base.clone` and pickling, and each clone a search fits writes its own run.
    ``partial_fit`` on a fitted net continues the run of that net (the steps keep counting).

    Parameters
    ----------
    log_dir : str or path-like
        Parent directory; each fit writes to a new sub-directory named
        ``<run name>-<YYYYmmdd-HHMMSS>-<pid>-<8 hex digits>``. Point ``tensorboard --logdir``
        at it.
    run_name : str or None, default=None
        Start of each run directory's name, formatted with the net's parameters, e.g.
        ``"h{hidden_size}-lr{lr}"``. None uses the net's class name.
    hparams : bool, default=True
        Also record the net's scalar parameters for TensorBoard's HParams dashboard, with the
        logged losses as its metrics, so the fits of a search can be compared side by side.
    keys_ignored : str or list of str or None, default=None
        History columns not to log, in addition to skorch's bookkeeping columns (``epoch``,
        ``batches``, ``*_best``, ``event_*``).
    key_mapper : callable, default=curve_tag
        Maps a history column to a TensorBoard tag; the default groups losses under ``Loss/``
        and scores (e.g. an :class:`skorch.callbacks.EpochScoring` named ``valid_r2``) under
        ``Score/``.

    Attributes
    ----------
    run_dir_ : str
        The run directory of the current (or last) fit.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> net = skhyper.make_estimator("lstm", callbacks=[TensorBoardCurves("runs/lstm")])
    >>> GridSearchCV(net, {"hidden_size": [32, 64]}).fit(X, y)  # doctest: +SKIP
    """

    def __init__(self, log_dir, run_name=None, hparams=True, keys_ignored=None,
                 key_mapper=curve_tag):
        self.log_dir = log_dir
        self.run_name = run_name
        self.hparams = hparams
        self.keys_ignored = keys_ignored
        self.key_mapper = key_mapper

    def initialize(self):
        super().initialize()
        self._close_writer()
        # A fresh fit starts a new run; partial_fit on the fitted net keeps this one.
        self.run_dir_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        summary_writer = _summary_writer_class()
        self._close_writer()  # left open when a previous fit of this net raised
        new_run = self.run_dir_ is None
        if new_run:
            self.run_dir_ = self._new_run_dir(net)
        self.writer = summary_writer(log_dir=self.run_dir_)
        # skorch skips on_train_end when training raises; close the writer (and its
        # background thread) when this callback is garbage-collected instead.
        self._writer_finalizer = weakref.finalize(self, self.writer.close)
        if new_run and self.hparams:
            self._write_hparams(net)

    def on_epoch_begin(self, net, **kwargs):
        # The rate in force during this epoch: schedulers step at the end of the previous one.
        epoch = net.history[-1, "epoch"]
        groups = net.optimizer_.param_groups
        for i, group in enumerate(groups):
            tag = "Optimizer/lr" if len(groups) == 1 else f"Optimizer/lr_group{i}"
            self.writer.add_scalar(tag, group["lr"], global_step=epoch)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        self.writer.flush()  # curves stay readable while training and if it fails

    def on_train_end(self, net, **kwargs):
        self._close_writer()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("writer", None)
        state.pop("_writer_finalizer", None)
        return state

    # --- helpers ----------------------------------------------------------------------------

    def _close_writer(self):
        finalizer = self.__dict__.pop("_writer_finalizer", None)
        if finalizer is not None:
            finalizer()  # closes the writer once; a no-op if it already ran
        self.__dict__.pop("writer", None)

    def _new_run_dir(self, net):
        params = net.get_params(deep=False)
        if self.run_name is None:
            name = type(net).__name__
        else:
            try:
                name = str(self.run_name).format(**params)
            except (KeyError, IndexError) as exc:
                raise ValueError(
                    f"Invalid run_name={self.run_name!r}: it refers to {exc}, which is not a "
                    f"parameter of {type(net).__name__}; allowed fields: "
                    f"{', '.join(sorted(params))}."
                ) from exc
        name = _UNSAFE_IN_NAME.sub("_", name).strip("._") or type(net).__name__
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return os.path.join(os.fspath(self.log_dir),
                            f"{name[:100]}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def _write_hparams(self, net):
        from torch.utils.tensorboard.summary import hparams

        values = {name: _hparam_value(value)
                  for name, value in sorted(net.get_params(deep=False).items())}
        values = {name: value for name, value in values.items() if value is not None}
        # The HParams dashboard reads these metrics from the scalars this run logs.
        metrics = {self.key_mapper(key): float("nan") for key in ("train_loss", "valid_loss")}
        for summary in hparams(values, metrics):
            self.writer.file_writer.add_summary(summary)
