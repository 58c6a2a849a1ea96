"""The size of a fitted model: its parameter count, and a scorer that records it in cv_results_.

A module of its own, without pandas or matplotlib, so model families can put the scorer in
their scoring dicts; :mod:`skhyper.analysis` re-exports both and reads the recorded sizes
(:func:`skhyper.analysis.pareto_front`, :class:`skhyper.analysis.SmallestWithinOneSE`).
"""

import numpy as np

#: Metrics that describe a model rather than judge it (:func:`n_parameters_scorer`'s): never
#: ranked on unless asked for.
SIZE_METRICS = ("n_parameters",)


def quality_metric(refit, metrics):
    """The metric a search with this ``refit`` selects on, of the scored ``metrics``.

    ``refit``'s name, or a refit callable's ``metric`` (as
    :class:`skhyper.analysis.SmallestWithinOneSE` has), else the first metric that measures
    quality, not size.
    """
    chosen = refit if isinstance(refit, str) else getattr(refit, "metric", None)
    if isinstance(chosen, str) and chosen in metrics:
        return chosen
    quality = [m for m in metrics if m not in SIZE_METRICS]
    return (quality or list(metrics))[0]


def count_parameters(estimator):
    """Number of learned parameters of a fitted estimator.

    Supports skorch / skhyper nets (the torch module's parameters), scikit-learn's MLPs
    (``coefs_`` and ``intercepts_``), linear models (``coef_`` and ``intercept_``) and a
    :class:`~sklearn.pipeline.Pipeline` (its final step).
    """
    if hasattr(estimator, "steps"):
        return count_parameters(estimator.steps[-1][1])
    module = getattr(estimator, "module_", None)
    if module is not None:
        return int(sum(p.numel() for p in module.parameters()))
    if hasattr(estimator, "coefs_"):
        return int(sum(np.size(w) for w in estimator.coefs_) +
                   sum(np.size(b) for b in estimator.intercepts_))
    if hasattr(estimator, "coef_"):
        return int(np.size(estimator.coef_) + np.size(getattr(estimator, "intercept_", 0)))
    raise TypeError(
        f"Cannot count the parameters of {type(estimator).__name__}: supported are skorch nets "
        "(module_), MLPs (coefs_), linear models (coef_) and Pipelines ending in one of them."
    )


def n_parameters_scorer(estimator, X=None, y=None):
    """A scorer that records the fitted model's parameter count, so size lands in cv_results_.

    Use it as one metric of a multi-metric search, e.g.
    ``scoring={"score": "neg_mean_squared_error", "n_parameters": n_parameters_scorer}``;
    it gives ``mean_test_n_parameters``. (scikit-learn ranks it as if larger were better: read
    it through :func:`skhyper.analysis.pareto_front`, which minimises it.)
    """
    return float(count_parameters(estimator))
