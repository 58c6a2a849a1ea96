"""Worker set-up for parallel and distributed searches: torch threads, GPU assignment, memory.

Every scikit-learn search (GridSearchCV, RandomizedSearchCV, skopt's BayesSearchCV) and skhyper's
StagedHalvingSearchCV dispatch their fits through joblib, so one joblib backend context runs any
of them on threads, local processes or a Dask cluster::

    from skhyper.parallel import parallel_backend

    with parallel_backend("dask", scheduler="tcp://10.0.0.1:8786"):
        search.fit(X, y)

Threads: torch sizes its intra-op pool once per process (from ``OMP_NUM_THREADS`` at import) or
per call to :func:`torch.set_num_threads`. :func:`parallel_backend` gives each worker its share of
the cores (``cpu_count // n_jobs``): loky and Dask workers through the environment they start
with, the threading backend through torch's pool size. A net's ``num_threads`` parameter sets the
count inside the worker explicitly and ``num_threads_`` records what it trained with.

The module imports torch only inside the functions that need it, so the CLI and the searches
can import it cheaply.

GPUs: a net with ``device="auto"`` on a machine with several GPUs claims one per fit
(:func:`claim_gpu`): the one with the most free memory, optionally at most ``trials_per_gpu``
concurrent fits per GPU, counted across processes with file locks.
"""

import contextlib
import gc
import os
import re
import sys
import tempfile
import threading
import time

import joblib
import numpy as np

from .validation import check_choice, check_number

BACKENDS = ("sequential", "loky", "threading", "dask")
#: How often a fit waiting for a GPU slot tries them all again.
GPU_POLL_SECONDS = 0.2

#: Held while torch's global RNG is seeded and drawn from to initialize a model. Fits that run
#: in threads of one process (joblib's threading backend, multi-threaded Dask workers) share that
#: RNG: code that seeds it for a unit of work (``torch.manual_seed``) takes this lock too, so the
#: seeding cannot land between another fit's seeding and its weight initialization.
TORCH_RNG_LOCK = threading.RLock()

_THREAD_SEED = threading.local()


@contextlib.contextmanager
def torch_seed(seed):
    """Seed torch for the fits run in this block by the calling thread.

    Torch's global RNG is seeded on entry (under :data:`TORCH_RNG_LOCK`), and a skhyper net
    without ``random_state`` that initializes inside the block seeds it again with ``seed``
    while it holds the lock to draw its weights, so a thread seeding its own unit of work in
    between cannot change them. ``seed=None`` leaves torch as it is, and torch is never
    imported here (a search of scikit-learn estimators does not need it).
    """
    torch = sys.modules.get("torch")
    if seed is not None and torch is not None:
        with TORCH_RNG_LOCK:
            torch.manual_seed(seed)
    previous = getattr(_THREAD_SEED, "value", None)
    _THREAD_SEED.value = seed
    try:
        yield
    finally:
        _THREAD_SEED.value = previous


def thread_seed():
    """The seed of the innermost :func:`torch_seed` block of this thread, or None."""
    return getattr(_THREAD_SEED, "value", None)


@contextlib.contextmanager
def seeded(seed):
    """:func:`torch_seed`, and numpy's global RNG seeded too (its state restored after): what
    a scikit-learn estimator without ``random_state`` draws from (SGDClassifier's shuffling).

    Reproducible run by run, or in worker processes; threads share numpy's global RNG, so it
    is left alone outside the main thread (one unit would restore a state another seeded),
    and such an estimator needs its own ``random_state`` under a thread backend.
    """
    if seed is None or threading.current_thread() is not threading.main_thread():
        with torch_seed(seed):
            yield
        return
    state = np.random.get_state()
    np.random.seed(seed % 2 ** 32)
    try:
        with torch_seed(seed):
            yield
    finally:
        np.random.set_state(state)


# Variables that size the OpenMP / BLAS pools torch and numpy start with in a new process.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def thread_share(n_jobs):
    """Torch threads per worker so that ``n_jobs`` workers use the cores without oversubscribing.

    Parameters
    ----------
    n_jobs : int or None
        Concurrent workers on this machine; None or a value <= 0 (joblib's -1) means one worker
        per core.

    Returns
    -------
    int
        ``cpu_count // n_jobs``, at least 1.
    """
    n_cpus = joblib.cpu_count()
    if n_jobs is None or n_jobs <= 0:
        n_jobs = n_cpus
    return max(1, n_cpus // n_jobs)


@contextlib.contextmanager
def parallel_backend(backend="loky", n_jobs=None, scheduler=None, threads_per_worker=None):
    """Run the searches inside the block on a joblib backend, each worker using its core share.

    Parameters
    ----------
    backend : {"sequential", "loky", "threading", "dask"}, default="loky"
        "dask" runs every fit as a task on a ``dask.distributed`` cluster (needs
        ``pip install "skhyper[dask]"``).
    n_jobs : int or None, default=None
        Concurrent fits. None: one per core (local backends), every worker thread of the cluster
        (dask). For a local Dask cluster, the number of worker processes.
    scheduler : str or None, default=None
        Dask only: address of a running scheduler (``"tcp://host:8786"``). None starts a local
        cluster of ``n_jobs`` single-threaded worker processes, closed when the block ends.
    threads_per_worker : int or None, default=None
        Torch threads of each worker; None gives each its share of the cores
        (:func:`thread_share`). Ignored for a remote Dask scheduler, whose workers are set up
        when they start (see docs/parallel.md).

    Yields
    ------
    distributed.Client or None
        The Dask client for ``backend="dask"``, else None.

    Examples
    --------
    >>> with parallel_backend("loky", n_jobs=2):  # doctest: +SKIP
    ...     GridSearchCV(make_estimator("lstm"), grid, cv=3).fit(X, y)
    """
    check_choice("backend", backend, BACKENDS)
    check_number("n_jobs", n_jobs, integer=True, allow_none=True)
    check_number("threads_per_worker", threads_per_worker, low=1, integer=True, allow_none=True)
    if n_jobs == 0:
        raise ValueError("Invalid n_jobs=0: use a positive number of workers, -1 for one per core "
                         "or None for the backend's default.")
    if scheduler is not None and backend != "dask":
        raise ValueError(f"Invalid scheduler={scheduler!r} for backend={backend!r}: a scheduler "
                         "address is only used with backend='dask'.")
    if backend == "sequential":
        with joblib.parallel_config(backend="sequential"):
            yield None
        return
    threads = threads_per_worker or thread_share(n_jobs)
    if backend == "dask":
        with _dask_client(scheduler, n_jobs, threads) as client:
            with joblib.parallel_config(backend="dask", n_jobs=n_jobs or -1):
                yield client
        return
    if backend == "threading":
        import torch

        # Worker threads share the process's torch; they take its pool size when they first run
        # torch, so size the pool for the block and restore the caller's afterwards.
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with joblib.parallel_config(backend="threading", n_jobs=n_jobs or -1):
                yield None
        finally:
            torch.set_num_threads(previous)
        return
    # loky starts fresh processes: joblib exports the OpenMP / BLAS thread variables to them,
    # which torch reads when the worker imports it.
    with joblib.parallel_config(backend="loky", n_jobs=n_jobs or -1,
                                inner_max_num_threads=threads):
        yield None


@contextlib.contextmanager
def _dask_client(scheduler, n_jobs, threads):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError('backend="dask" needs dask.distributed: '
                          'pip install "skhyper[dask]"') from exc
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    n_workers = n_jobs if n_jobs and n_jobs > 0 else joblib.cpu_count()
    # One task per worker process; the environment sizes torch's pool when a worker imports it.
    env = {name: str(threads) for name in THREAD_ENV_VARS}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=env) as cluster, Client(cluster) as client:
        yield client


def release_memory():
    """Free what a finished or failed fit left behind: Python garbage and torch's CUDA cache."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- GPU assignment ------------------------------------------------------------------------------

def gpu_lock_dir():
    """Directory of the GPU slot lock files: ``$SKHYPER_GPU_LOCK_DIR`` or the temp directory.

    All processes that share this machine's GPUs must see the same directory.
    """
    return os.environ.get("SKHYPER_GPU_LOCK_DIR") or tempfile.gettempdir()


class GPUClaim:
    """A claim on a GPU for one fit; :meth:`release` it (or use it as a context manager).

    Attributes
    ----------
    device : str
        ``"cuda:<index>"``.
    index : int
    slot : int or None
        The slot held when trials per GPU are limited.
    """

    def __init__(self, index, slot=None, lock_file=None):
        self.index = index
        self.device = f"cuda:{index}"
        self.slot = slot
        self._lock_file = lock_file

    def release(self):
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file drops its lock
            self._lock_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()

    def __repr__(self):
        return f"GPUClaim(device={self.device!r}, slot={self.slot!r})"


def gpus_by_free_memory(indices=None):
    """GPU indices, the one with the most free memory first (``torch.cuda.mem_get_info``).

    Querying a GPU creates a CUDA context on it in this process.
    """
    import torch

    if indices is None:
        indices = range(torch.cuda.device_count())
    return sorted(indices, key=lambda i: -torch.cuda.mem_get_info(i)[0])


def claim_gpu(trials_per_gpu=None, index=None, lock_dir=None):
    """Claim the least-loaded GPU of this machine for one fit.

    Parameters
    ----------
    trials_per_gpu : int or None, default=None
        At most this many concurrent fits per GPU, counted across all processes and threads of
        the machine with exclusive file locks (POSIX); when every slot is taken the call waits
        for one. None: no limit, just the GPU with the most free memory.
    index : int or None, default=None
        Claim this GPU (waiting for one of its slots) instead of choosing.
    lock_dir : str or None, default=None
        Where the lock files live; default :func:`gpu_lock_dir`.

    Returns
    -------
    GPUClaim
    """
    import torch

    n_gpus = torch.cuda.device_count()
    if n_gpus == 0:
        raise RuntimeError("claim_gpu needs CUDA, and torch sees no GPU on this machine.")
    check_number("trials_per_gpu", trials_per_gpu, low=1, integer=True, allow_none=True)
    if index is not None and not 0 <= index < n_gpus:
        raise ValueError(f"Invalid GPU index={index}: this machine has GPUs 0..{n_gpus - 1}.")
    order = [index] if index is not None else gpus_by_free_memory()
    if trials_per_gpu is None:
        return GPUClaim(order[0])
    try:
        import fcntl
    except ImportError:  # no POSIX file locks (Windows): fall back to the least-loaded GPU
        return GPUClaim(order[0])
    lock_dir = lock_dir or gpu_lock_dir()
    os.makedirs(lock_dir, exist_ok=True)

    def try_claim():
        # Fill the GPUs level by level (slot 0 of each, then slot 1, ...) so load stays even.
        for slot in range(trials_per_gpu):
            for i in order:
                name = f"skhyper-gpu{physical_gpu_id(i)}-slot{slot}.lock"
                f = open(os.path.join(lock_dir, name), "a")
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    f.close()
                    continue
                return GPUClaim(i, slot, f)
        return None

    # Every slot busy: poll, to take the first one freed on any GPU
    while (claim := try_claim()) is None:
        _wait_for_a_slot()
    return claim


def _wait_for_a_slot():
    time.sleep(GPU_POLL_SECONDS)


def physical_gpu_id(index):
    """The name of visible GPU ``index`` across processes: its ``CUDA_VISIBLE_DEVICES`` entry
    (GPU 0 of a process that sees only physical GPU 1 is GPU 1 to the others), else
    ``index``."""
    visible = [e.strip() for e in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")
               if e.strip()]
    name = visible[index] if index < len(visible) else str(index)
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)  # a UUID (GPU-..., MIG-...) is a name too
