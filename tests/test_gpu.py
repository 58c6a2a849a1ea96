"""CUDA behaviour: device="auto", a GPU per parallel fit, the refit on a GPU, a real
out-of-memory back-off. Skipped without CUDA; the multi-GPU tests need two GPUs."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skhyper import parallel
from skhyper.parallel import parallel_backend

from conftest import requires_cuda

pytestmark = [requires_cuda, pytest.mark.gpu]

requires_two_gpus = pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.device_count() < 2, reason="needs 2 GPUs")


def test_auto_device_trains_and_predicts_on_a_gpu(tiny_lstm, tiny_sine):
    net = tiny_lstm(device="auto").fit(tiny_sine.X, tiny_sine.y)
    assert net.device_.startswith("cuda")
    assert next(net.module_.parameters()).is_cuda
    assert net.get_params()["device"] == "auto"
    assert np.isfinite(net.predict(tiny_sine.X)).all()


def test_search_refit_runs_on_a_gpu(tiny_lstm, tiny_sine):
    search = GridSearchCV(tiny_lstm(device="auto"), {"lr": [1e-3, 1e-2]}, cv=KFold(2))
    with parallel_backend("loky", n_jobs=2):
        search.fit(tiny_sine.X, tiny_sine.y)
    assert search.best_estimator_.device_.startswith("cuda")
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_gpu_search_matches_its_sequential_run(tiny_lstm, tiny_sine):
    def scores():
        search = GridSearchCV(tiny_lstm(device="auto"), {"lr": [1e-3, 1e-2]}, cv=KFold(2),
                              refit=False)
        return search.fit(tiny_sine.X, tiny_sine.y).cv_results_["mean_test_score"]

    with parallel_backend("sequential"):
        expected = scores()
    with parallel_backend("loky", n_jobs=2):
        # cuDNN kernels may differ in the last bits between runs.
        np.testing.assert_allclose(scores(), expected, rtol=1e-4)


def test_staged_search_holds_no_fold_model_on_the_gpu_of_its_process(tiny_lstm, tiny_sine):
    # The workers train on the GPU; their fold models come back pickled and stay bytes here.
    from skhyper import StagedHalvingSearchCV

    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    search = StagedHalvingSearchCV(
        tiny_lstm(device="auto"), {"lr": [1e-3, 3e-3, 1e-2, 3e-2]}, min_epochs=1, max_epochs=2,
        factor=2, cv=KFold(2), top_k=0, n_jobs=2, refit=False, random_state=0,
    ).fit(tiny_sine.X, tiny_sine.y)
    assert torch.cuda.max_memory_allocated() == before
    assert list(search.cv_results_["status"]).count("ok") == 2


def test_real_out_of_memory_backs_off_to_a_smaller_batch(tiny_lstm):
    # Cap this process's CUDA allocator at 256 MiB: a batch of 4096 sequences of 200 steps through
    # a 512-unit LSTM needs gigabytes, a batch of a few dozen fits.
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction((256 << 20) / total, 0)
    try:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(4096, 200, 5)).astype(np.float32)
        y = rng.normal(size=4096).astype(np.float32)
        net = tiny_lstm(device="cuda:0", hidden_size=512, batch_size=4096, max_epochs=1,
                        oom_retries=10, validation_fraction=None)
        net.fit(X, y)
        assert net.batch_size_ < 4096 and net.batch_size == 4096
        assert torch.cuda.memory_allocated(0) < (256 << 20)

        hopeless = tiny_lstm(device="cuda:0", hidden_size=512, batch_size=4096, max_epochs=1,
                             oom_retries=1, validation_fraction=None)
        with pytest.raises(torch.OutOfMemoryError, match="batch_size 4096, 2048"):
            hopeless.fit(X, y)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, 0)
        torch.cuda.empty_cache()


@requires_two_gpus
def test_concurrent_claims_get_different_gpus(tmp_path):
    with parallel.claim_gpu(trials_per_gpu=1, lock_dir=str(tmp_path)) as first, \
            parallel.claim_gpu(trials_per_gpu=1, lock_dir=str(tmp_path)) as second:
        assert first.device != second.device


@requires_two_gpus
def test_parallel_fits_spread_over_the_gpus(tiny_lstm, tiny_sine, tmp_path, monkeypatch):
    monkeypatch.setenv("SKHYPER_GPU_LOCK_DIR", str(tmp_path))  # inherited by the loky workers
    with parallel_backend("loky", n_jobs=2):
        fitted = cross_validate(tiny_lstm(device="auto", trials_per_gpu=1), tiny_sine.X,
                                tiny_sine.y, cv=4, return_estimator=True)["estimator"]
    # Which GPU each fit got depends on which fits overlapped in time; every fit must be on one.
    assert all(net.device_.startswith("cuda:") for net in fitted)
