"""Staged, warm-started successive-halving search and its candidate samplers."""

from ._candidates import (
    BayesSampler,
    CandidateSampler,
    FinetuneSampler,
    GridSampler,
    ListSampler,
    RandomSampler,
)
from ._staged import StagedHalvingSearchCV

__all__ = [
    "BayesSampler",
    "CandidateSampler",
    "FinetuneSampler",
    "GridSampler",
    "ListSampler",
    "RandomSampler",
    "StagedHalvingSearchCV",
]
