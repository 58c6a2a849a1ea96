"""Train an estimator for k more epochs, whatever kind it is.

Detected in this order:

1. skorch nets (skhyper's included): ``partial_fit(X, y, epochs=k)`` (``classes=`` for
   classifiers); the per-epoch ``train_loss`` / ``valid_loss`` come from ``net.history``.
2. Estimators with ``partial_fit`` (SGDClassifier, MLPClassifier, ...): one call per epoch
   (``classes=`` for classifiers); ``loss_`` is read after each call where it exists.
3. Estimators with ``warm_start`` and ``max_iter``: ``warm_start=True, max_iter=k`` then ``fit``
   (``max_iter`` = iterations so far + k where it counts the total, as in
   HistGradientBoostingClassifier).

A :class:`~sklearn.pipeline.Pipeline` trains its last step this way; the steps before it are
fitted once, on the data of its first call (a CV fold's training part), and only transform on
later calls.

An unfitted estimator is initialised by its first call, so epoch 0 is "not trained yet".
"""

import math
import warnings

from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

NAN = math.nan


def is_skorch_net(estimator):
    # Duck-typed so that importing the search does not import torch or skorch.
    return hasattr(estimator, "fit_loop") and hasattr(estimator, "history") \
        and hasattr(estimator, "partial_fit")


def trained_step(estimator):
    """The estimator that trains epoch by epoch: a Pipeline's last step (recursively), else
    itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def _is_skipped(step):
    return step is None or (isinstance(step, str) and step == "passthrough")


def _check_pipeline(pipeline, fit_params):
    _route(pipeline, fit_params)
    for name, step in pipeline.steps[:-1]:
        if not _is_skipped(step) and not (hasattr(step, "fit") and hasattr(step, "transform")):
            raise TypeError(f"The Pipeline's step {name!r}, {step!r}, needs fit and transform "
                            "(or is None or 'passthrough').")
    name, last = pipeline.steps[-1]
    if isinstance(last, Pipeline):
        _check_pipeline(last, {})
    elif not hasattr(last, "fit"):
        raise TypeError(f"The Pipeline's last step {name!r}, {last!r}, needs fit, as in any "
                        "scikit-learn Pipeline.")


def check_trainable(estimator, fit_params=None):
    """Raise TypeError unless the search knows how to continue training ``estimator`` (and
    ValueError when a Pipeline's ``fit_params`` name no step)."""
    step = trained_step(estimator)
    if step is not estimator:
        _check_pipeline(estimator, fit_params or {})
    if is_skorch_net(step) or hasattr(step, "partial_fit") or trains_by_warm_start(step):
        return
    where = f"The Pipeline's last step, {step!r}," if step is not estimator else \
        type(estimator).__name__
    raise TypeError(
        f"{where} cannot be trained epoch by epoch: the staged search needs a skorch net, an "
        "estimator with partial_fit, or one with warm_start and max_iter (or a Pipeline "
        "ending in one)."
    )


def trains_by_warm_start(estimator):
    """Whether :func:`train_epochs` trains ``estimator`` with ``warm_start`` and ``max_iter``."""
    if is_skorch_net(estimator) or hasattr(estimator, "partial_fit") \
            or not hasattr(estimator, "get_params"):
        return False
    return {"warm_start", "max_iter"} <= set(estimator.get_params(deep=False))


def _is_trained(estimator):
    if is_skorch_net(estimator):
        return bool(getattr(estimator, "initialized_", False)) and len(estimator.history) > 0
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _max_iter_is_total(estimator):
    """Whether a warm-started ``fit`` trains up to ``max_iter`` iterations in all (scikit-learn's
    histogram gradient boosting) rather than ``max_iter`` more (MLP, SGD, LogisticRegression)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    return isinstance(estimator, (HistGradientBoostingClassifier, HistGradientBoostingRegressor))


def _route(pipeline, fit_params):
    """``{step name: {param: value}}`` from Pipeline-style ``<step>__<param>`` fit params."""
    routed = {name: {} for name, _ in pipeline.steps}
    for key, value in fit_params.items():
        name, _, param = key.partition("__")
        if name not in routed or not param:
            raise ValueError(
                f"Invalid fit parameter {key!r} for a Pipeline: name it <step>__<param> with "
                f"a step of {', '.join(routed)}."
            )
        routed[name][param] = value
    return routed


def _train_pipeline(pipeline, X, y, n_epochs, classes, fit_params):
    routed = _route(pipeline, fit_params)
    name, step = pipeline.steps[-1]
    # The steps before the last are fitted once, with its first epochs, so the last step keeps
    # training on the same features.
    first = not _is_trained(step)
    for before, transformer in pipeline.steps[:-1]:
        if _is_skipped(transformer):
            continue
        if not first:
            X = transformer.transform(X)
        elif hasattr(transformer, "fit_transform"):
            X = transformer.fit_transform(X, y, **routed[before])
        else:
            X = transformer.fit(X, y, **routed[before]).transform(X)
    return train_epochs(step, X, y, n_epochs, classes, **routed[name])


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
    if isinstance(estimator, Pipeline):
        return _train_pipeline(estimator, X, y, n_epochs, classes, fit_params)
    if is_skorch_net(estimator):
        before = len(estimator.history) if getattr(estimator, "initialized_", False) else 0
        kwargs = dict(fit_params)
        if is_classifier(estimator) and classes is not None:
            kwargs["classes"] = classes  # every fold's net gets the same classes_
        estimator.partial_fit(X, y, epochs=n_epochs, **kwargs)
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
    max_iter = n_epochs
    if _max_iter_is_total(estimator):
        max_iter += getattr(estimator, "n_iter_", 0) if _is_trained(estimator) else 0
    estimator.set_params(warm_start=True, max_iter=max_iter)
    with warnings.catch_warnings():
        # max_iter is the epoch budget here, not a convergence criterion
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y, **fit_params)
    curve = list(getattr(estimator, "loss_curve_", []))[-n_epochs:]
    curve = [NAN] * (n_epochs - len(curve)) + curve
    return [{"train_loss": _float(loss), "valid_loss": NAN} for loss in curve]
