"""Experiment tracking: the SQLite experiment store with resume and the tracker queries;
MLflow and TensorBoard adapters.

The optional libraries are imported only when used: ``pip install "skhyper[mlflow]"`` for
:func:`log_search_to_mlflow`, ``pip install "skhyper[tensorboard]"`` for
:class:`TensorBoardCurves`.
"""

from ._mlflow import MLflowSearchRuns, log_search_to_mlflow
from ._resume import StoreCheckpoint
from ._tensorboard import TensorBoardCurves
from .store import ExperimentStore

__all__ = [
    "ExperimentStore",
    "MLflowSearchRuns",
    "StoreCheckpoint",
    "TensorBoardCurves",
    "log_search_to_mlflow",
]
