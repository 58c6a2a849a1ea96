"""Warnings that point at the user's line.

A fixed ``stacklevel`` is right for one call path only: the csv loader's warning is reached
through ``load_dataset`` or the loader itself, a search's through ``fit`` or the CLI. The
warning is attributed to the first frame outside skhyper instead, so the filename and line a
user sees (and filters on) are theirs.
"""

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` attributed to the nearest caller outside skhyper
    (the outermost frame when all of them are skhyper's, as under ``skhyper`` the command)."""
    frame, level = sys._getframe(1), 2  # level 1 would be this function
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
