"""Experiment tracking: the SQLite experiment store with resume, and the tracker queries."""

from ._resume import StoreCheckpoint
from .store import ExperimentStore

__all__ = ["ExperimentStore", "StoreCheckpoint"]
