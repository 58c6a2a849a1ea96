"""A tqdm progress bar over the fits of a search, read from its experiment store.

Fits may run in joblib workers or on dask workers, out of reach of a callback in this process,
but every completed fit lands in the store: a background thread counts them there.
"""

import sys
import threading
from contextlib import contextmanager

from tqdm.auto import tqdm

from ..tracking import ExperimentStore

POLL_SECONDS = 0.5


@contextmanager
def fit_progress(store, total=None, disable=False):
    """Show fits trained or restored by ``store.run`` (with an ETA when ``total`` is known)."""
    bar = tqdm(total=total, unit="fit", desc="fits", disable=disable, file=sys.stderr,
               dynamic_ncols=True)
    reader = ExperimentStore(store.path)
    stop = threading.Event()

    def refresh():
        trained, restored = reader.count_fits(store.run)
        bar.set_postfix(trained=trained, restored=restored, refresh=False)
        bar.update(trained + restored - bar.n)

    def poll():
        while not stop.wait(POLL_SECONDS):
            refresh()

    thread = threading.Thread(target=poll, name="skhyper-progress", daemon=True)
    if not disable:
        thread.start()
    try:
        yield bar
    finally:
        stop.set()
        if not disable:
            thread.join()
            refresh()
        reader.close()
        bar.close()
