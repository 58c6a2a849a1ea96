"""Which parameters matter: permutation importance of a random forest fitted to the results."""

import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance

from .._warnings import warn
from ._results import param_names, resolve, scored
from ._values import encode

# Below this many completed candidates the forest, and so the importances, are unreliable.
MIN_RESULTS = 10


def parameter_importance(search_or_cv_results, *, metric=None, n_repeats=10, random_state=0):
    """How much each parameter explains the mean test score, with uncertainty.

    A :class:`~sklearn.ensemble.RandomForestRegressor` learns the mean test score from the
    parameter values of the scored candidates, completed and pruned (categories as integer
    codes, NaN where a parameter did not apply);
    :func:`sklearn.inspection.permutation_importance` then shuffles each parameter
    ``n_repeats`` times and measures the drop in the forest's R^2 on the results. Parameters
    that never varied are left out.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    metric : str, default=None
    n_repeats : int, default=10
    random_state : int, default=0

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``importance`` (mean drop in R^2), ``importance_std``, most important
        first.

    Warns
    -----
    UserWarning
        With fewer than 10 scored candidates.
    """
    frame, metric = resolve(search_or_cv_results, metric)
    ok = scored(frame)
    X = pd.DataFrame({name: encode(ok[f"param_{name}"]) for name in param_names(frame)})
    X = X.loc[:, X.nunique(dropna=False) > 1]
    columns = ["parameter", "importance", "importance_std"]
    if len(ok) < 3 or X.shape[1] == 0:
        raise ValueError(f"Parameter importance needs at least 3 scored candidates and a "
                         f"parameter that varies; got {len(ok)} candidate(s) and "
                         f"{X.shape[1]} varying parameter(s).")
    if len(ok) < MIN_RESULTS:
        warn(f"Only {len(ok)} scored candidates (fewer than {MIN_RESULTS}): the "
             "parameter importances are rough estimates.", UserWarning)
    y = ok[f"mean_test_{metric}"].to_numpy(float)
    forest = RandomForestRegressor(n_estimators=100, min_samples_leaf=1,
                                   random_state=random_state).fit(X, y)
    result = permutation_importance(forest, X, y, n_repeats=n_repeats,
                                    random_state=random_state)
    table = pd.DataFrame({"parameter": X.columns, "importance": result.importances_mean,
                          "importance_std": result.importances_std}, columns=columns)
    return table.sort_values("importance", ascending=False, ignore_index=True)
