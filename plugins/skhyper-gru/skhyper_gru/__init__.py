"""skhyper-gru: a skhyper plugin with the ``gru`` model family and the ``ar-process`` dataset.

skhyper finds both through the entry points in this package's pyproject.toml; importing this
package is only needed to use its classes directly.
"""

from importlib.metadata import PackageNotFoundError, version

from .data import load_ar_process
from .model import GRUModule, GRURegressor

try:
    __version__ = version("skhyper-gru")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["GRUModule", "GRURegressor", "load_ar_process"]
