"""skhyper: scikit-learn-compatible PyTorch estimators, staged search, analysis and tracking."""

from importlib.metadata import PackageNotFoundError, version

from .registry import (
    DatasetFamily,
    ModelFamily,
    RegistryError,
    get_dataset,
    get_model,
    list_datasets,
    list_models,
    load_dataset,
    make_estimator,
)
from .search import StagedHalvingSearchCV

try:
    __version__ = version("skhyper")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "DatasetFamily",
    "ModelFamily",
    "RegistryError",
    "get_dataset",
    "get_model",
    "list_datasets",
    "list_models",
    "load_dataset",
    "make_estimator",
    "StagedHalvingSearchCV",
]
