"""Experiment tracking: MLflow and TensorBoard adapters.

The optional libraries are imported only when used: ``pip install "skhyper[mlflow]"`` for
:func:`log_search_to_mlflow`, ``pip install "skhyper[tensorboard]"`` for
:class:`TensorBoardCurves`.
"""

from ._mlflow import MLflowSearchRuns, log_search_to_mlflow
from ._tensorboard import TensorBoardCurves

__all__ = [
    "MLflowSearchRuns",
    "TensorBoardCurves",
    "log_search_to_mlflow",
]
