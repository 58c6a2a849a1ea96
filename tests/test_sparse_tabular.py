"""The ``sparse-tabular`` dataset family: shapes, rank, clusters, missing values, errors."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

import skhyper


def test_registered_and_shaped_like_an_unsupervised_bunch():
    assert "sparse-tabular" in skhyper.list_datasets()
    assert skhyper.get_dataset("sparse-tabular").task == "unsupervised"
    data = skhyper.load_dataset("sparse-tabular", n_samples=250, n_features=12, n_clusters=3,
                                test_size=0.2)
    assert data.task == "unsupervised" and data.y is None and data.y_test is None
    assert data.X.shape == (200, 12) and data.X_test.shape == (50, 12)
    assert data.X.dtype == np.float32
    assert data.labels.shape == (200,) and data.labels_test.shape == (50,)
    assert set(data.labels) | set(data.labels_test) == {0, 1, 2}
    assert len(data.feature_names) == 12
    assert "250 rows" in data.description


def test_missing_rate_is_respected_and_every_row_keeps_an_observed_entry():
    data = skhyper.load_dataset("sparse-tabular", n_samples=500, missing_rate=0.3)
    X = np.vstack([data.X, data.X_test])
    assert np.isnan(X).mean() == pytest.approx(0.3, abs=0.02)
    assert not np.isnan(skhyper.load_dataset("sparse-tabular", missing_rate=0.0).X).any()
    sparse = skhyper.load_dataset("sparse-tabular", n_samples=300, n_features=3,
                                  missing_rate=0.95)
    assert (~np.isnan(sparse.X)).any(axis=1).all()
    assert np.isnan(sparse.X).mean() > 0.6


def test_complete_noiseless_data_has_the_requested_rank_and_recoverable_clusters():
    data = skhyper.load_dataset("sparse-tabular", n_samples=400, n_features=15, rank=2,
                                n_clusters=3, noise_std=0.0, missing_rate=0.0)
    assert np.linalg.matrix_rank(data.X, tol=1e-3) == 2
    # Standardised columns.
    X = np.vstack([data.X, data.X_test])
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=1e-3)
    found = KMeans(3, n_init=10, random_state=0).fit_predict(data.X)
    assert adjusted_rand_score(data.labels, found) > 0.9


def test_same_seed_same_data_other_seed_other_data():
    a = skhyper.load_dataset("sparse-tabular", n_samples=100, random_state=3)
    b = skhyper.load_dataset("sparse-tabular", n_samples=100, random_state=3)
    c = skhyper.load_dataset("sparse-tabular", n_samples=100, random_state=4)
    np.testing.assert_array_equal(a.X, b.X)  # NaN positions compare equal too
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.X, c.X, equal_nan=True)
    d = skhyper.load_dataset("sparse-tabular", n_samples=100, random_state=3,
                             test_size=np.float32(0.25))  # a numpy float, as a space draws
    e = skhyper.load_dataset("sparse-tabular", n_samples=100, random_state=3, test_size=0.25)
    np.testing.assert_array_equal(d.X, e.X)


@pytest.mark.parametrize("params, match", [
    (dict(missing_rate=1.0), "missing_rate=1"),
    (dict(missing_rate=-0.1), "missing_rate=-0.1"),
    (dict(rank=30, n_features=20), "rank=30"),
    (dict(n_clusters=0), "n_clusters=0"),
    (dict(cluster_std=0), "cluster_std=0"),
    (dict(test_size=1.0), "test_size=1"),
    (dict(n_samples=10.5), "n_samples=10.5"),
])
def test_bad_parameters_name_the_value(params, match):
    with pytest.raises(ValueError, match=match):
        skhyper.load_dataset("sparse-tabular", **params)


def test_family_without_nan_support_rejects_the_missing_values(tiny_lstm):
    data = skhyper.load_dataset("sparse-tabular", n_samples=100, n_features=6)
    sequences = data.X[:, :, None]  # (n_samples, 6 steps, 1 feature) for the LSTM
    with pytest.raises(ValueError, match="contains NaN.*does not accept missing values"):
        tiny_lstm().fit(sequences, np.zeros(len(sequences)))


def test_autoencoder_learns_the_data_and_separates_clusters_in_its_latent_space():
    # An end-to-end check that the data is learnable: reconstruction improves on the held-out
    # rows and the 2-D code keeps the cluster structure.
    data = skhyper.load_dataset("sparse-tabular", n_samples=300, n_features=10, rank=2,
                                n_clusters=3)
    net = skhyper.make_estimator("autoencoder", latent_dim=2, hidden_layers="16", max_epochs=1,
                                 lr=1e-2, lr_scheduler=None, random_state=0)
    before = net.fit(data.X).score(data.X_test)
    after = net.partial_fit(data.X, epochs=2).score(data.X_test)
    assert after > before
    found = KMeans(3, n_init=10, random_state=0).fit_predict(net.transform(data.X_test))
    assert adjusted_rand_score(data.labels_test, found) > 0.5
