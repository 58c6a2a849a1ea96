"""Train an estimator for k more epochs, whatever kind it is.

Detected in this order:

1. skorch nets (skhyper's included): ``partial_fit(X, y, epochs=k)``; the per-epoch
   ``train_loss`` / ``valid_loss`` come from ``net.history``.
2. Estimators with ``partial_fit`` (SGDClassifier, MLPClassifier, ...): one call per epoch
   (``classes=`` for classifiers); ``loss_`` is read after each call where it exists.
3. Estimators with ``warm_start`` and ``max_iter``: ``warm_start=True, max_iter=k`` then ``fit``.

An unfitted estimator is initialised by its first call, so epoch 0 is "not trained yet".
"""

import math
import warnings

from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning

NAN = math.nan


def is_skorch_net(estimator):
    # Duck-typed so that importing the search does not import torch or skorch.
    return hasattr(estimator, "fit_loop") and hasattr(estimator, "history") \
        and hasattr(estimator, "partial_fit")


def check_trainable(estimator):
    """Raise TypeError unless the search knows how to continue training ``estimator``."""
    if is_skorch_net(estimator) or hasattr(estimator, "partial_fit"):
        return
    params = estimator.get_params(deep=False)
    if "warm_start" in params and "max_iter" in params:
        return
    raise TypeError(
        f"{type(estimator).__name__} cannot be trained epoch by epoch: the staged search needs "
        "a skorch net, an estimator with partial_fit, or one with warm_start and max_iter."
    )


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


def train_epochs(estimator, X, y, n_epochs, classes=None, **fit_params):
    """Train ``estimator`` for ``n_epochs`` more epochs, in place.

    Returns
    -------
    list of dict
        One ``{"train_loss", "valid_loss"}`` dict per epoch trained (NaN where the estimator
        does not report that loss). A skorch net that stops early returns fewer.
    """
    if is_skorch_net(estimator):
        before = len(estimator.history) if getattr(estimator, "initialized_", False) else 0
        estimator.partial_fit(X, y, epochs=n_epochs, **fit_params)
        return [{"train_loss": _float(row.get("train_loss")),
                 "valid_loss": _float(row.get("valid_loss"))}
                for row in estimator.history[before:]]
    if hasattr(estimator, "partial_fit"):
        kwargs = dict(fit_params)
        if is_classifier(estimator) and classes is not None:
            kwargs["classes"] = classes
        losses = []
        for _ in range(n_epochs):
            estimator.partial_fit(X, y, **kwargs)
            losses.append({"train_loss": _float(getattr(estimator, "loss_", NAN)),
                           "valid_loss": NAN})
        return losses
    estimator.set_params(warm_start=True, max_iter=n_epochs)
    with warnings.catch_warnings():
        # max_iter is the epoch budget here, not a convergence criterion
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y, **fit_params)
    curve = list(getattr(estimator, "loss_curve_", []))[-n_epochs:]
    curve = [NAN] * (n_epochs - len(curve)) + curve
    return [{"train_loss": _float(loss), "valid_loss": NAN} for loss in curve]
