"""A skorch callback that makes any scikit-learn search of skorch nets resumable.

GridSearchCV, RandomizedSearchCV, BayesSearchCV and HalvingGridSearchCV each call
``clone(estimator).set_params(**params).fit(X_train, y_train)``. With this callback among the
estimator's ``callbacks``, a fit looks itself up in an :class:`ExperimentStore` by a key made of the
net's parameters and a hash of its training data. When stored, the fitted weights, optimizer state
and history are restored and training is skipped (skorch ends its fit loop cleanly on
KeyboardInterrupt); otherwise the fitted net is stored when training ends normally.
"""

import hashlib
import os
import time

import numpy as np
from skorch.callbacks import Callback, EarlyStopping

from .._plain import to_plain
from .store import ExperimentStore


def _data_digest(*arrays):
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _fit_params(net):
    """The net's parameters that determine a fit: all but ``callbacks`` and private ones
    (scikit-learn passes a per-task ``_parent_callback_ctx``; skorch its
    ``_params_to_validate``)."""
    return {k: v for k, v in net.get_params(deep=False).items()
            if k != "callbacks" and not k.startswith("_")}


class StoreCheckpoint(Callback):
    """Store each completed fit of the net and restore it instead of training it again.

    Parameters
    ----------
    path : str
        The :class:`~skhyper.tracking.ExperimentStore` file (a path, so the callback clones and
        pickles into joblib workers). It must be absolute, such as ``store.path``: workers may
        run in another directory.
    run : int or None, default=None
        The store's run that newly trained fits are attributed to, and restored fits counted in.

    Notes
    -----
    Only fresh fits are looked up and stored (a net with no trained epochs when training begins);
    continued training through ``partial_fit`` or ``warm_start`` passes through untouched. A fit
    interrupted by the user, or one that raised, is not stored. The key covers every net
    parameter except ``callbacks`` and private ones, so a fit with different settings or data is
    trained anew.
    """

    def __init__(self, path, run=None):
        self.path = path
        self.run = run

    def initialize(self):
        if not os.path.isabs(self.path):
            # a worker in another directory would quietly open a new store of its own there
            raise ValueError(f"Invalid path={self.path!r}: StoreCheckpoint needs an absolute "
                             "path, such as ExperimentStore(...).path.")
        self.key_ = None
        self.restored_ = False
        return self

    def _store(self):
        store = ExperimentStore(self.path)
        store.run = self.run
        return store

    def fit_key(self, net, X, y):
        """The store key of fitting ``net`` (its parameters) on ``X``, ``y``."""
        params = _fit_params(net)
        params_digest = hashlib.blake2b(repr(sorted(to_plain(params).items())).encode(),
                                        digest_size=16).hexdigest()
        return f"fit:{type(net).__qualname__}:{params_digest}:{_data_digest(X, y)}"

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.key_, self.restored_ = None, False
        if len(net.history) > 0 or X is None:
            return  # continued training: not a unit this callback stores
        self.key_ = self.fit_key(net, X, y)
        self._started = time.perf_counter()

    def on_epoch_begin(self, net, **kwargs):
        if self.key_ is None or len(net.history) != 1:
            return
        store = self._store()
        found = store.load_fit(self.key_)
        store.close()
        if found is None:
            return
        fitted, _ = found
        net.module_.load_state_dict(fitted.module_.state_dict())
        net.optimizer_.load_state_dict(fitted.optimizer_.state_dict())
        net.history = fitted.history  # replaces the row skorch just opened for this epoch
        self.restored_ = True
        raise KeyboardInterrupt  # skorch ends the fit loop here and runs on_train_end

    def on_train_end(self, net, **kwargs):
        if self.key_ is None or self.restored_ or not self._finished(net):
            return
        last = net.history[-1]
        record = {
            "params": _fit_params(net),
            "epochs": len(net.history),
            "scores": {name: last[name] for name in ("train_loss", "valid_loss") if name in last},
            "fit_time": time.perf_counter() - self._started,
            "status": "ok",
            "history": [{k: v for k, v in row.items() if k != "batches"} for row in net.history],
        }
        store = self._store()
        store.save_fit(self.key_, net, record)
        store.close()

    @staticmethod
    def _finished(net):
        """Whether training ran to its end: all epochs, or stopped early by EarlyStopping."""
        if not len(net.history) or "dur" not in net.history[-1]:
            return False  # a Ctrl-C within the epoch: skorch had added its row, not its end
        if len(net.history) >= net.max_epochs:
            return True
        return any(isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
                   for _, cb in net.callbacks_)

    def __getstate__(self):
        # The pickled net inside the store must not carry this fit's transient state.
        state = self.__dict__.copy()
        state.pop("_started", None)
        return state
