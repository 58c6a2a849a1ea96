"""Shared fixtures: tiny, seeded data so the whole suite runs in minutes on 2 cores."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files; no display in CI

import pytest  # noqa: E402
import torch  # noqa: E402

import skhyper  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # Tiny models train faster on one thread, and parallel tests must not oversubscribe.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_sine():
    """About 200 windows of 20 steps from a 1-second signal at 200 Hz."""
    return skhyper.load_dataset("sine-mixture", duration=1.0, sampling_rate=200, seq_len=20,
                                stride=4)


@pytest.fixture
def tiny_lstm():
    """Factory of LSTMs small enough to train in well under a second: ``tiny_lstm(**params)``."""
    defaults = dict(hidden_size=8, num_layers=1, max_epochs=2, batch_size=32, patience=None,
                    lr_scheduler=None, random_state=0)

    def make(**params):
        return skhyper.make_estimator("lstm", **{**defaults, **params})

    return make


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
