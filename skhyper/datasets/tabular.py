"""The ``sparse-tabular`` dataset (seed 003): low-rank clustered rows with missing entries.

Rows are drawn around ``n_clusters`` well-spread centres in a ``rank``-dimensional latent space
(:func:`sklearn.datasets.make_blobs`), mapped to ``n_features`` columns by a random linear map,
standardised, and noised. Each entry is then missing (NaN) independently with probability
``missing_rate``; every row keeps at least one observed entry. The cluster labels are kept
(``labels``, ``labels_test``) to colour plots of a learned latent space; ``y`` is None.
"""

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.datasets import make_blobs
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ..validation import check_number
from ..registry import DatasetFamily


def _spread_centres(n_clusters, rank, rng, n_draws=20):
    """Centres in [-10, 10]^rank: of ``n_draws`` uniform draws, the one whose two closest centres
    are farthest apart, so that clusters seldom overlap by chance."""
    draws = rng.uniform(-10.0, 10.0, size=(n_draws, n_clusters, rank))
    if n_clusters == 1:
        return draws[0]
    return draws[np.argmax([pdist(centres).min() for centres in draws])]


def _mask_missing(X, missing_rate, rng):
    """Set entries to NaN with probability ``missing_rate``, keeping one observed per row."""
    missing = rng.random(X.shape) < missing_rate
    empty = np.flatnonzero(missing.all(axis=1))
    missing[empty, rng.integers(X.shape[1], size=len(empty))] = False
    X = X.copy()
    X[missing] = np.nan
    return X


def load_sparse_tabular(n_samples=1000, n_features=20, rank=3, n_clusters=4, cluster_std=1.0,
                        noise_std=0.1, missing_rate=0.2, test_size=0.2, random_state=0):
    """Generate low-rank clustered tabular data with missing values and a held-out part.

    Parameters
    ----------
    n_samples : int, default=1000
        Rows in total, training and test together.
    n_features : int, default=20
        Columns.
    rank : int, default=3
        Dimension of the latent space the rows come from (<= n_features).
    n_clusters : int, default=4
        Clusters in the latent space; centres lie in the box [-10, 10]^rank, spread apart.
    cluster_std : float, default=1.0
        Spread of each cluster in latent units, > 0 (larger values make clusters overlap).
    noise_std : float, default=0.1
        Gaussian noise added to the standardised columns, >= 0.
    missing_rate : float, default=0.2
        Probability that an entry is missing (NaN), in [0, 1).
    test_size : float, default=0.2
        Fraction of the rows held out as ``X_test``, in (0, 1).
    random_state : int, default=0

    Returns
    -------
    Bunch
        ``X`` (n_train, n_features) float32 with NaN for missing entries, ``y`` None,
        ``X_test``, ``y_test`` None, ``labels`` and ``labels_test`` (cluster of each row),
        ``task`` ("unsupervised"), ``description``, ``feature_names``.
    """
    check_number("n_samples", n_samples, low=2, integer=True)
    check_number("n_features", n_features, low=1, integer=True)
    check_number("rank", rank, low=1, high=n_features, integer=True)
    check_number("n_clusters", n_clusters, low=1, high=n_samples, integer=True)
    check_number("cluster_std", cluster_std, low=0, low_open=True)
    check_number("noise_std", noise_std, low=0)
    check_number("missing_rate", missing_rate, low=0, high=1, high_open=True)
    check_number("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    test_size = float(test_size)  # train_test_split refuses numpy's float32
    check_number("random_state", random_state, low=0, integer=True)

    blobs_rng, rng = (np.random.default_rng(s)
                      for s in np.random.SeedSequence(random_state).spawn(2))
    centres = _spread_centres(n_clusters, rank, rng)
    latent, labels = make_blobs(n_samples=n_samples, centers=centres, cluster_std=cluster_std,
                                random_state=int(blobs_rng.integers(2**31)))
    loadings = rng.normal(size=(rank, n_features))
    X = latent @ loadings
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X += rng.normal(0.0, noise_std, X.shape)
    X = _mask_missing(X, missing_rate, rng).astype(np.float32)

    X, X_test, labels, labels_test = train_test_split(X, labels, test_size=test_size,
                                                      random_state=random_state)
    return Bunch(
        X=X, y=None, X_test=X_test, y_test=None, labels=labels, labels_test=labels_test,
        task="unsupervised", feature_names=[f"feature_{i}" for i in range(n_features)],
        description=(
            f"Sparse tabular: {n_samples} rows x {n_features} features of rank {rank}, "
            f"{n_clusters} clusters (std {cluster_std:g}), noise std {noise_std:g}, "
            f"{missing_rate:.0%} of entries missing (NaN); {len(X)} training and "
            f"{len(X_test)} test rows; labels = cluster of each row."
        ),
    )


family = DatasetFamily(
    name="sparse-tabular",
    loader=load_sparse_tabular,
    task="unsupervised",
    description="Low-rank clustered tabular data with missing values; cluster labels (seed 003)",
)
