"""Out-of-memory back-off and GPU claims, exercised on the CPU."""

import os
import pickle
import threading

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, KFold

from skhyper import nets, parallel
from skhyper.nets import TrainingOutOfMemoryError


class MemoryLimit(Callback):
    """Raise torch's out-of-memory error for training batches larger than ``max_batch``, as a
    GPU with too little memory would; record every training batch size it sees."""

    def __init__(self, max_batch):
        self.max_batch = max_batch
        self.seen_ = []

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.seen_.append(len(batch[0]))
            if len(batch[0]) > self.max_batch:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_oom_retries_with_half_the_batch_size(tiny_lstm, tiny_sine, monkeypatch):
    released = []
    monkeypatch.setattr(nets, "release_memory", lambda: released.append(True))
    limit = MemoryLimit(max_batch=16)
    net = tiny_lstm(batch_size=32, callbacks=[("memory", limit)]).fit(tiny_sine.X, tiny_sine.y)

    assert limit.seen_[0] == 32  # the first try failed on its first batch
    assert max(limit.seen_[1:]) == 16
    assert net.batch_size_ == 16 and net.batch_size == 32  # the parameter is left as given
    assert len(released) == 1  # memory freed before the retry
    assert net.n_epochs_ == 2
    assert np.isfinite(net.predict(tiny_sine.X)).all()


def test_oom_retry_matches_a_fit_at_the_smaller_batch_size(tiny_lstm, tiny_sine):
    retried = tiny_lstm(batch_size=32, callbacks=[("memory", MemoryLimit(16))])
    retried.fit(tiny_sine.X, tiny_sine.y)
    direct = tiny_lstm(batch_size=16).fit(tiny_sine.X, tiny_sine.y)
    np.testing.assert_array_equal(retried.predict(tiny_sine.X), direct.predict(tiny_sine.X))


def test_oom_gives_up_after_oom_retries(tiny_lstm, tiny_sine):
    net = tiny_lstm(batch_size=64, oom_retries=2, callbacks=[("memory", MemoryLimit(8))])
    with pytest.raises(TrainingOutOfMemoryError, match=r"batch_size 64, 32, 16 \(oom_retries=2"):
        net.fit(tiny_sine.X, tiny_sine.y)


def test_oom_without_retries_fails_at_once(tiny_lstm, tiny_sine):
    limit = MemoryLimit(8)
    net = tiny_lstm(batch_size=32, oom_retries=0, callbacks=[("memory", limit)])
    with pytest.raises(torch.OutOfMemoryError, match="batch_size 32 "):
        net.fit(tiny_sine.X, tiny_sine.y)
    assert limit.seen_ == [32]


def test_oom_while_continuing_training_is_not_retried(tiny_lstm, tiny_sine):
    limit = MemoryLimit(64)
    net = tiny_lstm(callbacks=[("memory", limit)]).fit(tiny_sine.X, tiny_sine.y)
    dict(net.callbacks_)["memory"].max_batch = 4
    with pytest.raises(TrainingOutOfMemoryError, match="in epoch 3, .* not retried"):
        net.partial_fit(tiny_sine.X, tiny_sine.y, epochs=1)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_search_records_an_oom_candidate_as_failed_and_goes_on(tiny_lstm, tiny_sine):
    est = tiny_lstm(oom_retries=1, callbacks=[("memory", MemoryLimit(16))])
    search = GridSearchCV(est, {"batch_size": [16, 128]}, cv=KFold(2), refit=False,
                          error_score=np.nan)
    with pytest.warns(FitFailedWarning, match="Out of memory on cpu at batch_size 128, 64"):
        search.fit(tiny_sine.X, tiny_sine.y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])


def test_a_net_pickles_while_it_holds_a_gpu_claim(tiny_lstm, tiny_sine):
    # A callback may pickle the net mid-fit; the claim (an open lock file) stays behind.
    net = tiny_lstm().fit(tiny_sine.X, tiny_sine.y)
    net.gpu_claim_ = parallel.GPUClaim(0, slot=0, lock_file=open(__file__))
    try:
        restored = pickle.loads(pickle.dumps(net))
    finally:
        net.gpu_claim_.release()
    assert "gpu_claim_" not in restored.__dict__
    np.testing.assert_array_equal(restored.predict(tiny_sine.X), net.predict(tiny_sine.X))


def test_oom_retries_is_validated(tiny_lstm, tiny_sine):
    with pytest.raises(ValueError, match=r"Invalid oom_retries=-1: must be >= 0"):
        tiny_lstm(oom_retries=-1).fit(tiny_sine.X, tiny_sine.y)


# --- GPU claims (torch.cuda faked: two GPUs, GPU 1 with more free memory) -----------------------

@pytest.fixture
def two_fake_gpus(monkeypatch):
    free = {0: 4 << 30, 1: 8 << 30}
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i: (free[i], 16 << 30))
    return free


def test_claim_gpu_picks_the_least_loaded(two_fake_gpus, tmp_path):
    assert parallel.claim_gpu(lock_dir=str(tmp_path)).device == "cuda:1"
    two_fake_gpus[0] = 12 << 30
    assert parallel.claim_gpu(lock_dir=str(tmp_path)).device == "cuda:0"


def test_claim_gpu_spreads_concurrent_fits_over_slots(two_fake_gpus, tmp_path):
    first = parallel.claim_gpu(trials_per_gpu=2, lock_dir=str(tmp_path))
    second = parallel.claim_gpu(trials_per_gpu=2, lock_dir=str(tmp_path))
    third = parallel.claim_gpu(trials_per_gpu=2, lock_dir=str(tmp_path))
    assert (first.device, second.device, third.device) == ("cuda:1", "cuda:0", "cuda:1")
    assert (first.slot, second.slot, third.slot) == (0, 0, 1)
    first.release()
    with parallel.claim_gpu(trials_per_gpu=2, lock_dir=str(tmp_path)) as again:
        assert (again.device, again.slot) == ("cuda:1", 0)  # the released slot is free again
    for claim in (second, third):
        claim.release()


def test_gpu_slots_are_named_by_the_physical_gpu(two_fake_gpus, tmp_path, monkeypatch):
    # a process seeing physical GPUs 3 and 1 as 0 and 1 shares locks with one seeing GPU 1 as 0
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    with parallel.claim_gpu(trials_per_gpu=1, index=0, lock_dir=str(tmp_path)) as claim:
        assert claim.device == "cuda:0"
        assert os.listdir(tmp_path) == ["skhyper-gpu3-slot0.lock"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-8f2a/1")
    assert parallel.physical_gpu_id(0) == "GPU-8f2a_1" and parallel.physical_gpu_id(1) == "1"


def test_a_waiting_claim_takes_the_first_slot_freed_on_any_gpu(two_fake_gpus, tmp_path,
                                                               monkeypatch):
    held = [parallel.claim_gpu(trials_per_gpu=1, lock_dir=str(tmp_path)) for _ in range(2)]
    # it used to wait on the GPU its pid picked (GPUs by free memory: 1, 0): free the other,
    # once the claim has found every slot busy
    freed = f"cuda:{[1, 0][(os.getpid() + 1) % 2]}"
    monkeypatch.setattr(parallel, "_wait_for_a_slot", lambda: next(
        claim for claim in held if claim.device == freed).release())
    claimed = []
    waiter = threading.Thread(target=lambda: claimed.append(
        parallel.claim_gpu(trials_per_gpu=1, lock_dir=str(tmp_path))), daemon=True)
    waiter.start()
    waiter.join(timeout=60)  # a daemon: the old wait blocked for good
    assert claimed and claimed[0].device == freed
    for claim in held + claimed:
        claim.release()


def test_claim_gpu_validates(two_fake_gpus, tmp_path):
    with pytest.raises(ValueError, match="Invalid trials_per_gpu=0"):
        parallel.claim_gpu(trials_per_gpu=0, lock_dir=str(tmp_path))
    with pytest.raises(ValueError, match="Invalid GPU index=2: this machine has GPUs 0..1"):
        parallel.claim_gpu(trials_per_gpu=1, index=2, lock_dir=str(tmp_path))


def test_claim_gpu_without_cuda_says_so(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(RuntimeError, match="no GPU"):
        parallel.claim_gpu()
