"""Is the best really best? The corrected resampled t-test on paired cross-validation scores.

Cross-validation folds share training data, so their scores are correlated and the plain paired
t-test is far too confident. Nadeau and Bengio (2003) correct the variance of the mean difference:

    d_j = a_j - b_j                   (score difference on split j, j = 1..k)
    t   = mean(d) / sqrt((1/k + n_test/n_train) * var(d))     (var with ddof=1)
    p   = 2 * P(T_{k-1} > |t|)        (two-sided, Student t with k-1 degrees of freedom)

C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52(3),
239-281, 2003.
"""

import numpy as np
import pandas as pd
from scipy import stats

from ._results import best_row, resolve

ALPHA = 0.05


def corrected_ttest(scores_a, scores_b, *, n_train=None, n_test=None):
    """Nadeau and Bengio's corrected resampled t-test of two candidates' paired split scores.

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (k,)
        Test scores of the two candidates on the same k splits. Pairs where either is NaN are
        dropped.
    n_train, n_test : int, default=None
        Training and test set sizes of one split. When not given, ``n_test / n_train`` is
        ``1 / (k - 1)``, the ratio of plain k-fold cross-validation; pass them for other
        splitters (hold-out, repeated k-fold where k counts every repetition, ...).

    Returns
    -------
    t : float
        The corrected t statistic (positive when ``a`` scores higher).
    p_value : float
        Two-sided p-value with ``k - 1`` degrees of freedom; 1.0 when the scores are identical,
        NaN with fewer than two usable splits.
    """
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"scores_a and scores_b must be 1-D of the same length; got shapes "
                         f"{a.shape} and {b.shape}.")
    diff = (a - b)[np.isfinite(a) & np.isfinite(b)]
    k = len(diff)
    if k < 2:
        return np.nan, np.nan
    if (n_train is None) != (n_test is None):
        raise ValueError("Give both n_train and n_test, or neither (k-fold ratio 1/(k-1)).")
    if n_train is None:
        ratio = 1.0 / (len(a) - 1)
    else:
        if n_train <= 0 or n_test <= 0:
            raise ValueError(f"Invalid n_train={n_train!r}, n_test={n_test!r}: both must be > 0.")
        ratio = n_test / n_train
    mean, var = diff.mean(), diff.var(ddof=1)
    if var == 0:
        # Every split moved by the same amount: no spread to test against.
        return (0.0, 1.0) if mean == 0 else (np.copysign(np.inf, mean), 0.0)
    t = mean / np.sqrt((1.0 / k + ratio) * var)
    return float(t), float(2 * stats.t.sf(abs(t), df=k - 1))


def _split_columns(frame, metric):
    cols = [c for c in frame.columns if c.startswith("split") and c.endswith(f"_test_{metric}")]
    return sorted(cols, key=lambda c: int(c[len("split"):c.index("_")]))


def _comparable(frame, best):
    """Completed candidates scored like the best: a halving search's same iteration, a staged
    search's same stage and, in the exploration, the same rung (the extended stage's rows are
    on the same folds, each at the evaluation its early stopping kept)."""
    ok = frame[frame["status"] == "ok"]
    same = ("iter", "stage") if best.get("stage") == "extended" else ("iter", "stage", "rung")
    for col in same:
        if col in ok:
            ok = ok[ok[col] == best[col]]
    return ok


def compare_to_best(search_or_cv_results, *, top=5, metric=None, n_train=None, n_test=None,
                    alpha=ALPHA):
    """Compare the selected candidate with each of the next ``top - 1`` by the corrected t-test.

    The selected candidate is the one the search picked (``best_index_``) when known, else
    rank 1. Only candidates scored on the same splits are compared (for a halving search, those
    of its last iteration; for a staged search, those of the same stage, and in the
    exploration of the same rung).

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    top : int, default=5
        The best and up to ``top - 1`` runners-up (in rank order) are compared.
    metric : str, default=None
        The metric to test; the ranking metric by default.
    n_train, n_test : int, default=None
        Split sizes; see :func:`corrected_ttest`.
    alpha : float, default=0.05
        Significance level for the ``distinguishable`` column.

    Returns
    -------
    pandas.DataFrame
        One row per runner-up: ``candidate``, ``rank``, ``mean_score``, ``difference`` (best
        minus this one), ``t``, ``p_value``, ``n_splits`` and ``distinguishable`` (p < alpha).
        ``attrs`` holds ``best`` (its candidate id), ``best_score``, ``metric`` and ``alpha``.
    """
    frame, metric = resolve(search_or_cv_results, metric)
    best = best_row(frame)
    splits = _split_columns(frame, metric)
    others = _comparable(frame, best)
    others = others[others["candidate"] != best["candidate"]].sort_values(["rank", "candidate"])
    others = others.head(max(int(top) - 1, 0))
    a = best[splits].to_numpy(float)
    rows = []
    for _, row in others.iterrows():
        b = row[splits].to_numpy(float)
        t, p = corrected_ttest(a, b, n_train=n_train, n_test=n_test)
        rows.append(dict(
            candidate=int(row["candidate"]), rank=int(row["rank"]),
            mean_score=float(row[f"mean_test_{metric}"]),
            difference=float(best[f"mean_test_{metric}"] - row[f"mean_test_{metric}"]),
            t=t, p_value=p, n_splits=int((np.isfinite(a) & np.isfinite(b)).sum()),
            distinguishable=bool(p < alpha) if np.isfinite(p) else False,
        ))
    result = pd.DataFrame(rows, columns=["candidate", "rank", "mean_score", "difference", "t",
                                         "p_value", "n_splits", "distinguishable"])
    result.attrs.update(best=int(best["candidate"]), metric=metric, alpha=alpha,
                        best_score=float(best[f"mean_test_{metric}"]))
    return result


def significance_statement(comparison):
    """Plain-language verdict on the output of :func:`compare_to_best`."""
    if comparison.empty:
        return ("Only one candidate completed on the selected candidate's splits: there is no "
                "runner-up to compare with.")
    alpha = comparison.attrs["alpha"]
    best = comparison.attrs["best"]
    runner = comparison.iloc[0]
    other = int(runner["candidate"])
    p, diff = runner["p_value"], runner["difference"]
    head = (f"Selected candidate #{best} vs runner-up #{other} (corrected resampled t-test, "
            f"Nadeau & Bengio 2003, {int(runner['n_splits'])} splits): mean score difference "
            f"{diff:+.4g}, ")
    if not np.isfinite(p):
        return head + "p-value undefined (fewer than two shared splits): no conclusion."
    if p >= alpha:
        verdict = (f"p = {p:.3g} >= {alpha}: the two are statistically indistinguishable; "
                   f"prefer the simpler or cheaper of them.")
    elif diff > 0:
        verdict = f"p = {p:.3g} < {alpha}: the selected candidate is significantly better."
    else:
        verdict = (f"p = {p:.3g} < {alpha}: #{other} scores significantly higher than the "
                   "selected candidate (its selection rule traded score for something else).")
    if len(comparison) > 1:
        tied = int((~comparison["distinguishable"]).sum())
        verdict += (f" {tied} of the {len(comparison)} next-ranked candidates compared are "
                    f"statistically indistinguishable from the selected one at alpha = {alpha}.")
    return head + verdict
