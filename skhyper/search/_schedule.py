"""The epoch schedule of successive halving and the Hyperband bracket sizes."""

import math

import numpy as np


def rung_epochs(min_epochs, max_epochs, factor):
    """Cumulative epochs per fold at each exploration rung, ending at ``max_epochs``.

    Rungs grow by ``factor`` backwards from ``max_epochs`` (as Hyperband's ``R * eta**-s``), so
    the last rung trains exactly ``max_epochs`` and the first about ``min_epochs``:
    ``rung_epochs(1, 12, 3) == [1, 4, 12]``.
    """
    n_rungs = 1 + int(math.floor(math.log(max_epochs / min_epochs) / math.log(factor) + 1e-9))
    epochs = []
    for i in range(n_rungs):
        # float: numpy refuses an integer factor (np.int64) to a negative integer power
        scale = float(factor) ** (i - n_rungs + 1)
        value = max(int(min_epochs), int(math.floor(max_epochs * scale + 0.5)))
        if not epochs or value > epochs[-1]:
            epochs.append(value)
    return epochs


def n_survivors(n_alive, factor):
    """Candidates promoted from a rung of ``n_alive``: the best ``1/factor``, at least one."""
    return max(1, int(n_alive // factor))


def bracket_sizes(n_candidates, n_brackets, n_rungs, factor):
    """Candidates per Hyperband bracket; bracket ``j`` enters at rung ``j``.

    Proportional to Hyperband's ``eta**(s - j) / (s - j + 1)`` (many cheap starts in the
    aggressive bracket, few long ones in the conservative), at least one each; with fewer
    candidates than brackets, one in each of the first brackets (they see every rung).
    """
    if n_candidates < n_brackets:
        return [1] * n_candidates + [0] * (n_brackets - n_candidates)
    s = n_rungs - 1
    weights = np.array([factor ** (s - j) / (s - j + 1) for j in range(n_brackets)])
    raw = weights / weights.sum() * (n_candidates - n_brackets)
    sizes = np.floor(raw).astype(int)
    # largest remainders get the candidates that flooring left over
    for j in np.argsort(-(raw - sizes), kind="stable")[:n_candidates - n_brackets - sizes.sum()]:
        sizes[j] += 1
    return (sizes + 1).tolist()


def assign_brackets(n_candidates, n_brackets, n_rungs, factor, random_state):
    """A bracket index per candidate, sizes from :func:`bracket_sizes`, order shuffled."""
    sizes = bracket_sizes(n_candidates, n_brackets, n_rungs, factor)
    labels = np.repeat(np.arange(n_brackets), sizes)
    np.random.default_rng(random_state).shuffle(labels)
    return labels.tolist()
