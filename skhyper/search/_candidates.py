"""Candidate samplers: how the staged search draws parameter settings.

Each sampler proposes parameter dicts. ``grid``, ``random`` and ``list`` draw every candidate up
front; ``bayes`` (skopt's Optimizer, ask/tell), ``tpe`` (Optuna's TPESampler, ask/tell) and
``finetune`` (perturbations around the best so far) are *sequential*: they propose from the
first-rung scores of the candidates evaluated before them, so chaining ``[("random", 20),
("bayes", 40), ("finetune", 15)]`` reproduces seed 004's random -> Bayesian -> fine-tuning
exploration.
"""

import numbers
import warnings

import numpy as np
from sklearn.model_selection import ParameterGrid, ParameterSampler

from ..validation import check_choice, check_number
from ._spaces import (index_encoded, python_value, to_optuna_distributions, to_sampler_space,
                      to_skopt_space)

SAMPLERS = ("grid", "random", "bayes", "tpe", "finetune", "list")
DEFAULT_N_CANDIDATES = 10


class CandidateSampler:
    """Base class: ``propose(n, observations)`` returns ``n`` parameter dicts.

    ``observations`` is the list of ``(params, score)`` pairs evaluated so far, in the order
    they were drawn (higher score is better; NaN for a candidate that failed).
    """

    #: Whether proposals depend on the scores of earlier candidates.
    sequential = False

    def __init__(self, param_space, random_state=None):
        self.param_space = param_space
        self.random_state = random_state

    def propose(self, n, observations):
        raise NotImplementedError

    def check(self):
        """Raise for a ``param_space`` this sampler cannot draw from: the search checks every
        step's before anything trains (a later step's would otherwise fail after the earlier
        ones trained)."""


class GridSampler(CandidateSampler):
    """Every point of ``ParameterGrid(param_space)`` (a dict or list of dicts of lists)."""

    def propose(self, n, observations):
        return [dict(p) for p in ParameterGrid(self.param_space)]

    def check(self):
        ParameterGrid(self.param_space)


class ListSampler(CandidateSampler):
    """The explicit candidates in ``param_space`` (a list of parameter dicts)."""

    def propose(self, n, observations):
        self.check()
        return [dict(p) for p in self.param_space]

    def check(self):
        if not isinstance(self.param_space, (list, tuple)) or not all(
                isinstance(p, dict) for p in self.param_space):
            raise ValueError(
                f"Invalid param_space for sampler='list': expected a list of parameter dicts, "
                f"got {type(self.param_space).__name__}."
            )


class RandomSampler(CandidateSampler):
    """``n`` draws of scikit-learn's ParameterSampler (skopt dimensions are accepted too)."""

    def check(self):
        ParameterSampler(to_sampler_space(self.param_space), 1)

    def propose(self, n, observations):
        space = to_sampler_space(self.param_space)
        sampler = ParameterSampler(space, n, random_state=self.random_state)
        return [{k: python_value(v) for k, v in p.items()} for p in sampler]


class BayesSampler(CandidateSampler):
    """skopt's Optimizer: told the scores of all earlier candidates, asked for the next ones."""

    sequential = True

    def __init__(self, param_space, random_state=None, n_initial_points=5):
        super().__init__(param_space, random_state)
        self.n_initial_points = n_initial_points
        self._optimizer = None
        self._told = 0
        self._failed = []  # points that failed, told once there is a score to penalise them by

    def check(self):
        to_skopt_space(self.param_space)

    def propose(self, n, observations):
        from skopt import Optimizer

        fixed, names, space = to_skopt_space(self.param_space)
        encoded, encode, decode = index_encoded(space)
        if self._optimizer is None:
            self._optimizer = Optimizer(encoded, n_initial_points=self.n_initial_points,
                                        random_state=self.random_state)
        new = observations[self._told:]
        self._told = len(observations)
        points, values = [], []
        for params, score in new:
            point = [params.get(name) for name in names]
            if point not in space:  # candidates outside the space teach nothing
                continue
            if np.isfinite(score):
                points.append(encode(point))
                values.append(-float(score))  # skopt minimises
            else:
                self._failed.append(encode(point))
        told = list(self._optimizer.yi) + values
        if self._failed and told:
            # A failure is told as the worst score so far, as if it were that bad; untold,
            # skopt would propose the same point again once its random start is over.
            points += self._failed
            values += [max(told)] * len(self._failed)
            self._failed = []
        if points:
            self._optimizer.tell(points, values)
        with warnings.catch_warnings():
            # its points are the choices' indices; the search drops a point drawn again
            warnings.filterwarnings("ignore", message="The objective has been evaluated at")
            asked = self._optimizer.ask(n_points=n) if n > 1 else [self._optimizer.ask()]
        return [{**fixed, **{k: python_value(v) for k, v in zip(names, decode(x))}}
                for x in asked]


class TPESampler(CandidateSampler):
    """Optuna's TPESampler through its ask-and-tell interface.

    Told the first-rung score of every earlier candidate: its own proposals as the trials it
    asked for, the others' (e.g. a chained ``random`` step's) as added trials; a proposal that
    failed is told as a failed trial. Optuna's per-trial log lines are silenced while it runs.
    """

    sequential = True

    def __init__(self, param_space, random_state=None):
        super().__init__(param_space, random_state)
        self._study = None
        self._pending = []  # (trial, proposed params) not told yet
        self._told = 0

    def check(self):
        _import_optuna()
        to_optuna_distributions(self.param_space)

    def propose(self, n, observations):
        optuna = _import_optuna()
        fixed, distributions = to_optuna_distributions(self.param_space)
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            if self._study is None:
                self._study = optuna.create_study(
                    direction="maximize",
                    sampler=optuna.samplers.TPESampler(seed=self.random_state))
            self._tell(optuna, distributions, observations[self._told:])
            self._told = len(observations)
            trials = [self._study.ask(distributions) for _ in range(n)]
        finally:
            optuna.logging.set_verbosity(verbosity)
        proposals = [{**fixed, **{k: python_value(v) for k, v in t.params.items()}}
                     for t in trials]
        self._pending = list(zip(trials, proposals))
        return proposals

    def _tell(self, optuna, distributions, observations):
        pending = list(self._pending)
        for params, score in observations:
            if not np.isfinite(score):
                continue  # one of ours stays pending: told as failed below
            mine = next((entry for entry in pending if entry[1] == params), None)
            if mine is not None:
                pending.remove(mine)
                self._study.tell(mine[0], float(score))
                continue
            try:
                trial = optuna.trial.create_trial(
                    params={name: params.get(name) for name in distributions},
                    distributions=distributions, value=float(score))
            except ValueError:
                continue  # a candidate outside the space teaches nothing
            self._study.add_trial(trial)
        for trial, _ in pending:  # evaluated before this call, yet without a score: it failed
            self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
        self._pending = []


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError(
            "sampler='tpe' needs Optuna; install it with pip install \"skhyper[optuna]\"."
        ) from exc
    return optuna


class FinetuneSampler(CandidateSampler):
    """Gaussian perturbations around the best candidates so far.

    Works in skopt's normalised space ([0, 1] per dimension, log scale for log-uniform ones):
    each proposal perturbs one of the ``n_best`` best observations with noise of standard
    deviation ``scale`` and maps it back. A point evaluated or proposed before is drawn again,
    with the noise doubled every ``10`` draws (on categorical and integer dimensions small noise
    rounds back to the centre); after ``100`` draws that all land on known points, the space
    around the best is taken as exhausted and fewer than ``n`` points are proposed.
    """

    max_draws = 100

    sequential = True

    def __init__(self, param_space, random_state=None, n_best=3, scale=0.1):
        super().__init__(param_space, random_state)
        self.n_best = n_best
        self.scale = scale
        self._rng = None

    def check(self):
        self._space()

    def _space(self):
        """(fixed, names, the user's space, the normalised space the noise is added in, and
        the encode / decode between them)."""
        fixed, names, space = to_skopt_space(self.param_space)
        normalised, encode, decode = index_encoded(space)
        normalised.set_transformer("normalize")
        return fixed, names, space, normalised, encode, decode

    def propose(self, n, observations):
        fixed, names, space, normalised, encode, decode = self._space()
        if self._rng is None:
            self._rng = np.random.default_rng(self.random_state)
        scored = [(p, s) for p, s in observations if np.isfinite(s)]  # NaN would upset sorted
        ranked = [p for p, s in sorted(scored, key=lambda o: -o[1])]
        centres = [[p.get(name) for name in names] for p in ranked]
        centres = [c for c in centres if c in space][:self.n_best]
        if not centres:
            raise ValueError(
                "The finetune sampler needs earlier successful candidates inside param_space; "
                "chain it after another sampler, e.g. [('random', 10), ('finetune', 5)]."
            )
        known = [[p.get(name) for name in names] for p, _ in observations]
        proposals = []
        for i in range(n):
            centre = normalised.transform([encode(centres[i % len(centres)])])[0]
            for draw in range(self.max_draws):
                scale = min(self.scale * 2 ** (draw // 10), 1.0)
                noisy = np.clip(centre + self._rng.normal(0.0, scale, len(centre)), 0.0, 1.0)
                point = [python_value(v)
                         for v in decode(normalised.inverse_transform([noisy])[0])]
                if point not in known:
                    break
            else:
                break
            known.append(point)
            proposals.append({**fixed, **dict(zip(names, point))})
        return proposals


_CLASSES = {"grid": GridSampler, "random": RandomSampler, "bayes": BayesSampler,
            "tpe": TPESampler, "finetune": FinetuneSampler, "list": ListSampler}


def is_sequential(name):
    """Whether the sampler ``name`` proposes from the scores of earlier candidates."""
    return _CLASSES[name].sequential


def parse_steps(sampler, n_candidates):
    """Normalise ``sampler`` / ``n_candidates`` to a list of ``(name, n, batch)`` steps.

    ``n`` is None for ``grid`` and ``list`` (all their points); ``batch`` is how many candidates
    a sequential sampler proposes before their scores are told back (1 unless given).
    """
    if isinstance(sampler, str):
        raw = [(sampler, n_candidates)]
    elif isinstance(sampler, (list, tuple)) and sampler:
        if n_candidates is not None:
            raise ValueError(
                f"Invalid n_candidates={n_candidates!r} with a chained sampler: give each "
                "step's count in the chain, e.g. sampler=[('random', 8), ('bayes', 8)]."
            )
        for step in sampler:
            if not isinstance(step, (str, list, tuple)):
                raise ValueError(
                    f"Invalid sampler={sampler!r}: step {step!r} is not a sampler name or a "
                    "(name, n_candidates) pair. For one step write sampler='random', "
                    "n_candidates=8 or sampler=[('random', 8)]."
                )
        raw = [(step,) if isinstance(step, str) else tuple(step) for step in sampler]
    else:
        raise ValueError(
            f"Invalid sampler={sampler!r}. Allowed: one of {', '.join(SAMPLERS)}, or a list of "
            "(name, n_candidates) steps such as [('random', 8), ('bayes', 8)]."
        )
    steps = []
    for step in raw:
        if not 1 <= len(step) <= 3:
            raise ValueError(f"Invalid sampler step {step!r}: expected (name, n[, batch]).")
        name, n, batch = (tuple(step) + (None, None))[:3]
        check_choice("sampler", name, SAMPLERS)
        if name in ("grid", "list"):
            if n is not None:
                raise ValueError(
                    f"Invalid n_candidates={n!r} for sampler={name!r}: it evaluates all of its "
                    "points; leave n_candidates=None (use 'random' to subsample)."
                )
        else:
            n = DEFAULT_N_CANDIDATES if n is None else n
            # a chain's count is its step's, not the n_candidates parameter's
            check_number("n_candidates" if isinstance(sampler, str) else
                         f"sampler step {step!r}: n_candidates", n, low=1, integer=True)
        batch = 1 if batch is None else check_number("batch", batch, low=1, integer=True)
        steps.append((name, n, batch))
    if steps[0][0] == "finetune":
        raise ValueError(
            f"Invalid sampler={sampler!r}: finetune perturbs the best candidates so far, so "
            "chain it after another sampler, e.g. [('random', 10), ('finetune', 5)]."
        )
    return steps


def make_sampler(name, param_space, random_state):
    """The sampler class ``name`` on ``param_space``, seeded with ``random_state``."""
    if isinstance(random_state, numbers.Integral):
        random_state = int(random_state)
    return _CLASSES[name](param_space, random_state=random_state)
