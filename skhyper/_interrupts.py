"""Telling a user's Ctrl-C apart from skorch's own use of KeyboardInterrupt.

skorch ends its fit loop on KeyboardInterrupt, both when a callback raises it to stop training
(early stopping, a fit restored from the store) and when the user presses Ctrl-C, and returns
as if training had finished. A search would then score the cut-short net and go on to the
next candidate; the nets re-raise the user's interrupt once skorch has ended the fit.
"""

import contextlib
import signal
import threading


@contextlib.contextmanager
def noting_ctrl_c():
    """Within the block, Ctrl-C still raises KeyboardInterrupt and is also noted; yields a
    function that tells whether it was pressed.

    Only the main thread can set a signal handler, and a handler someone else installed is
    left alone: in those cases nothing is noted.
    """
    pressed = []
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: False
        return

    def note_and_interrupt(signum, frame):
        pressed.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, note_and_interrupt)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
