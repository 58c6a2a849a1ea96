"""skorch-based estimator bases whose training settings are plain, searchable parameters.

``optimizer`` and ``lr_scheduler`` are names, gradient clipping, early stopping and the learning
rate schedule are scalars; they compile into skorch callbacks when the net initializes, so every
constructor argument survives :func:`sklearn.base.clone` and pickling. Input and output sizes are
inferred from the data at fit time.

A model family subclasses :class:`NetRegressor` or :class:`NetClassifier`, names its torch module,
lists the estimator parameters that go to the module in ``module_params`` and, where the module
needs sizes from the data, overrides :meth:`NetMixin.module_size_params`.
"""

import inspect
import io
import math
import warnings

import cloudpickle
import numpy as np
import torch
# torch.optim imports it at the first optimizer (about 2 s): imported with the nets, it is not
# charged to the first fit's time in a process (a candidate's mean_fit_time, the Pareto front)
import torch._dynamo  # noqa: F401
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import (Callback, EarlyStopping, EpochScoring, GradientNormClipping,
                              LRScheduler)
from skorch.dataset import Dataset, ValidSplit
from skorch.utils import get_map_location, is_dataset
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length
from torch.utils.data import default_collate

from ._interrupts import noting_ctrl_c
from .validation import check_choice, check_number
from .parallel import (TORCH_RNG_LOCK, claim_gpu, gpus_by_free_memory, release_memory,
                       thread_seed)

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Scheduler name -> (torch class, settings used when the user gives none).
SCHEDULERS = {
    "cosine": (torch.optim.lr_scheduler.CosineAnnealingLR, {"eta_min": 0.0}),
    "step": (torch.optim.lr_scheduler.StepLR, {"step_size": 10, "gamma": 0.1}),
    "exponential": (torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.95}),
    "plateau": (torch.optim.lr_scheduler.ReduceLROnPlateau, {"factor": 0.5, "patience": 5}),
}

# The ranges of the schedulers' numeric settings (lr_scheduler__<name>): torch checks few of
# them, and a step_size of 0 fails mid-fit (modulo by zero), a negative gamma trains on.
SCHEDULER_SETTINGS = {
    "step_size": dict(low=1, integer=True),
    "T_max": dict(low=0, low_open=True),
    "gamma": dict(low=0, low_open=True),
    "factor": dict(low=0, high=1, low_open=True, high_open=True),
    "patience": dict(low=0, integer=True),
    "eta_min": dict(low=0),
}

DEVICES = ("cpu", "cuda", "auto")
#: Key of a pickled net's state holding its tensors and the objects that hold them (see
#: ``NetMixin.__getstate__``).
TORCH_ARCHIVE = "__torch_archive__"


def python_scalar(value):
    """``value`` with a numpy scalar unwrapped: search tools draw ``np.int64`` and friends, which
    torch's layers, DataLoader and seeding refuse where they want an ``int``."""
    return value.item() if isinstance(value, np.generic) else value


def fit_label_encoder(labels, classes=None):
    """A LabelEncoder of ``classes`` when given (every label partial_fit will see, declared on
    its first call as in scikit-learn), else of the ``labels`` at hand; :func:`encode_labels`
    then refuses labels outside it."""
    return LabelEncoder().fit(labels if classes is None else np.asarray(classes))


def encode_labels(encoder, labels):
    """``labels`` as class indices; a label the encoder does not know raises ValueError."""
    unseen = np.setdiff1d(labels, encoder.classes_)
    if len(unseen):
        raise ValueError(
            f"y has class label(s) {unseen.tolist()} that are not among the net's classes "
            f"{encoder.classes_.tolist()}; declare every label with partial_fit(X, y, "
            "classes=...) on the first call."
        )
    return encoder.transform(labels)


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when CUDA is available, else ``"cpu"``; pass others through."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _check_device(device):
    if device is None or (isinstance(device, str) and device.startswith("cuda:")):
        name = "cuda" if device else None
    else:
        name = check_choice("device", device, DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"Invalid device={device!r}: CUDA is not available on this machine. "
            "Use device='auto' (CUDA when present, else CPU) or device='cpu'."
        )


class _FetchedBatch(tuple):
    """``(X, y)`` of a whole batch, as :class:`BatchDataset` fetches it."""


class BatchDataset(Dataset):
    """skorch's Dataset, fetched a batch at a time.

    torch's DataLoader hands a dataset that has ``__getitems__`` all indices of a batch: one
    fancy index per array instead of a ``__getitem__`` per sample and a stack of the samples,
    which took a fifth of a small net's epoch. Data other than arrays and tensors, and a
    subclass that transforms single samples (overrides ``transform``), are fetched sample by
    sample, as skorch does.
    """

    def __init__(self, X, y=None, length=None):
        super().__init__(X, y, length=length)
        arrays = (np.ndarray, torch.Tensor)
        # decided once, not per batch
        self.fetches_whole_batches = type(self).transform is Dataset.transform and \
            isinstance(X, arrays) and isinstance(y, arrays + (type(None),))

    def __getitems__(self, indices):
        if not self.fetches_whole_batches:
            return [self[i] for i in indices]
        indices = np.asarray(indices)
        # skorch's placeholder for a missing y, one per sample
        y = torch.zeros(len(indices), 1) if self.y is None else self.y[indices]
        return _FetchedBatch((self.X[indices], y))


def collate_batch(data):
    """The DataLoader's collate function: a batch fetched whole becomes tensors as it is;
    a list of samples is stacked by torch's default."""
    if isinstance(data, _FetchedBatch):
        return tuple(torch.as_tensor(part) for part in data)
    return default_collate(data)


def _silent(*args, **kwargs):
    """A sink that drops messages (a module-level function, so nets stay picklable)."""


def unfitted_like(estimator):
    """An unfitted estimator of ``estimator``'s class and parameters, to check values on.

    Not :func:`sklearn.base.clone`, which deep-copies every parameter: a callback may hold an
    open file or a writer, and the module may be an instance. The callbacks are left out.
    """
    return type(estimator)(**{name: value for name, value
                              in estimator.get_params(deep=False).items()
                              if name != "callbacks"})


def _takes_weight_decay(optimizer):
    parameters = inspect.signature(optimizer).parameters
    return "weight_decay" in parameters or any(  # a subclass passing **kwargs on may
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


class _EarlyStopping(EarlyStopping):
    """skorch's EarlyStopping, except that a fit of no epochs (``max_epochs=0``: the module is
    sized on the data and nothing trains) has no best epoch to restore."""

    def on_train_end(self, net, **kwargs):
        if len(net.history):
            super().on_train_end(net, **kwargs)


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


class TrainingOutOfMemoryError(torch.OutOfMemoryError):
    """Training ran out of memory at every batch size the out-of-memory back-off tried."""



class StopOnNonFiniteLoss(Callback):
    """Raise :class:`NonFiniteLossError` as soon as an epoch's training loss is not finite.

    A search records the candidate as failed with this message instead of training on garbage.
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss became {loss} at epoch {len(net.history)}"
            )


def _decoded_accuracy(net, X, y):
    """Validation accuracy for nets that encode labels: ``y`` holds the encoded targets."""
    return accuracy_score(net.classes_[np.asarray(y)], net.predict(X))


class NetMixin:
    """Training settings as plain parameters; shared by :class:`NetRegressor` and
    :class:`NetClassifier`.

    Parameters
    ----------
    module : type of torch.nn.Module
        Instantiated at fit time with ``module_params``, the sizes inferred from the data
        (:meth:`module_size_params`) and any ``module__*`` arguments.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate, > 0.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer, >= 0.
    batch_size : int, default=64
    max_epochs : int, default=20
        Epochs trained by ``fit``; ``partial_fit(X, y, epochs=k)`` trains ``k`` more.
    grad_clip : float or None, default=None
        Maximum gradient norm; None turns clipping off.
    lr_scheduler : {None, "cosine", "step", "exponential", "plateau"}, default=None
        Its settings are ``lr_scheduler__<name>`` arguments (e.g. ``lr_scheduler__factor=0.5``);
        settings the chosen scheduler does not take are ignored, so a search may vary the
        scheduler while fixing settings. Cosine's ``T_max`` defaults to ``max_epochs``.
    patience : int or None, default=None
        Early-stopping patience in epochs; None turns early stopping off. The best weights are
        restored when training stops.
    min_delta : float, default=0.0
        Smallest decrease of the monitored loss that counts as an improvement.
    validation_fraction : float or None, default=0.1
        Fraction of the training data held out to compute ``valid_loss`` (monitored by early
        stopping and the plateau scheduler). None trains on all data and monitors the training
        loss. A skorch ``train_split`` argument, when given, takes precedence.
    random_state : int or None, default=None
        Seeds torch and the validation split: the same seed gives the same result on CPU. With
        None, the net seeds itself from torch's global RNG when it initializes (inside
        :func:`skhyper.parallel.torch_seed`, from that seed). The validation split is drawn
        once per initialization, so continued training (``partial_fit``) keeps it.
    device : {"cpu", "cuda", "auto"} or "cuda:N", default="cpu"
        "auto" uses CUDA when it is available; on a machine with several GPUs each fit claims
        the one with the most free memory (see ``trials_per_gpu``). ``device_`` records the
        device a fitted net is on.
    num_threads : int or None, default=None
        Torch intra-op threads for this fit, set with :func:`torch.set_num_threads` in the
        process or thread that trains (a parallel search's worker). None keeps the worker's
        setting (:func:`skhyper.parallel.parallel_backend` sizes it to the worker's share of the
        cores). The previous count is restored when the fit ends. ``num_threads_`` records
        the count the net trained with.
    oom_retries : int, default=2
        When a fit from scratch runs out of memory (``torch.OutOfMemoryError``), free memory,
        halve the batch size and start again, at most this many times; then raise
        :class:`TrainingOutOfMemoryError`. ``batch_size_`` records the batch size used.
    trials_per_gpu : int or None, default=None
        With ``device="auto"`` and CUDA, at most this many concurrent fits per GPU of the
        machine (counted across processes with file locks); a fit waits for a free slot.
        None: no limit.
    verbose : int, default=0
    train_split : skorch split or None, default=None
        skorch's validation split; None uses ``validation_fraction``.
    dataset : skorch Dataset class, default=BatchDataset
        Wraps X and y for torch's DataLoader. :class:`BatchDataset` fetches a batch of
        arrays with one index instead of sample by sample.
    **kwargs
        Any other skorch ``NeuralNet`` argument (``callbacks``, ``module__*``,
        ``optimizer__*``, ``iterator_train__*``, ...).

    Notes
    -----
    A sequence family (``X_ndim = 3``) that declares a ``seq_len`` parameter (default None)
    reads only the last ``seq_len`` steps of each window in ``fit``, ``predict`` and ``score``:
    load the data once with the longest window and the window length is a hyperparameter like
    any other, every candidate predicting the same targets from the same CV folds.

    Ctrl-C during ``fit`` or ``partial_fit`` raises KeyboardInterrupt once training has
    stopped (skorch alone would return as if training had finished, and a search would score
    the cut-short net and go on); the net keeps the epochs it trained. Numpy scalars (what
    ``np.arange`` grids and skopt draw) reach torch as Python numbers. ``set_params`` on a
    fitted net rebuilds what the settings compile into (see :meth:`set_params`).
    """

    prefixes_ = NeuralNet.prefixes_ + ["lr_scheduler"]
    #: Estimator parameters passed to the module's constructor.
    module_params = ()
    #: Number of dimensions X must have: 2 for tabular rows, 3 for (samples, steps, features).
    X_ndim = 2
    #: Whether X may contain NaN (a family with a masked loss sets this).
    allow_nan = False

    def __init__(
        self,
        module,
        *,
        criterion,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=20,
        grad_clip=None,
        lr_scheduler=None,
        patience=None,
        min_delta=0.0,
        validation_fraction=0.1,
        random_state=None,
        device="cpu",
        num_threads=None,
        oom_retries=2,
        trials_per_gpu=None,
        verbose=0,
        train_split=None,
        dataset=BatchDataset,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            dataset=dataset,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.lr_scheduler = lr_scheduler
        self.patience = patience
        self.min_delta = min_delta
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.num_threads = num_threads
        self.oom_retries = oom_retries
        self.trials_per_gpu = trials_per_gpu

    # skorch reads ``self.device`` wherever it moves tensors; the property hands it the device
    # this fit uses (``device_``, chosen at initialize) while get_params, clone and pickling keep
    # the user's value (e.g. "auto").
    @property
    def device(self):
        return self.__dict__.get("device_") or resolve_device(self.__dict__["device"])

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__["device"]
        return params

    def __getstate__(self):
        # skorch pickles each tensor storage with a torch.save of its own (about 0.5 ms each:
        # 40 ms for a small LSTM, paid whenever a search or the store moves a net). One
        # torch.save archive holds them all here, the callbacks' too (a scheduler's optimizer
        # then stays the net's optimizer).
        state = self.__dict__.copy()
        state.pop("gpu_claim_", None)  # a lock held by this process, for the running fit only
        state.pop("checked_X_", None)  # the running fit's data: a net pickled by a callback
        prefixes = tuple(self.cuda_dependent_attributes_) + ("callbacks",)
        archived = {key: state.pop(key) for key in list(state)
                    if isinstance(key, str) and key.startswith(prefixes)}
        buffer = io.BytesIO()
        # cloudpickle, as joblib's workers: a callback or module class of the user's script
        # (__main__) travels by value
        torch.save(archived, buffer, pickle_module=cloudpickle)
        state[TORCH_ARCHIVE] = buffer.getvalue()
        return state

    def __setstate__(self, state):
        requested = state["device"]
        # Load the tensors onto the device the net trained on, or the CPU on a machine without
        # CUDA (with skorch's DeviceWarning).
        state["device"] = state.get("device_") or resolve_device(requested)
        if TORCH_ARCHIVE in state:
            map_location = get_map_location(state["device"])
            state["device"] = self._check_device(state["device"], map_location)
            state.update(torch.load(io.BytesIO(state.pop(TORCH_ARCHIVE)),
                                    map_location=map_location, weights_only=False))
            self.__dict__.update(state)
        else:  # skorch's format, as an earlier skhyper wrote its experiment stores
            super().__setstate__(state)
        if "device_" in state:
            self.__dict__["device_"] = self.__dict__["device"]
        if requested == "auto":
            self.__dict__["device"] = requested

    # --- parameters ---------------------------------------------------------------------------

    #: Settings compiled into callbacks when the net initializes (besides lr_scheduler__*).
    callback_settings = ("grad_clip", "lr_scheduler", "patience", "min_delta",
                         "validation_fraction")  # the last picks what they monitor
    #: Settings the optimizer is built with (besides skorch's lr and optimizer__*).
    optimizer_settings = ("optimizer", "weight_decay")
    #: Estimator parameters that go to the criterion (a family's loss settings).
    criterion_params = ()

    def set_params(self, **params):
        """Set parameters; on an initialized net, what they change is rebuilt, as skorch does
        for ``module__*``: the callbacks for the training settings, the optimizer for
        ``optimizer`` and ``weight_decay``, the criterion (and the optimizer, which trains a
        criterion's own parameters) for ``criterion_params``, the module (and its criterion and
        optimizer) for ``module_params``; a new ``batch_size`` replaces the one an
        out-of-memory back-off chose. Continued training then uses them."""
        if not self.__dict__.get("initialized_"):
            return super().set_params(**params)
        # What they change is rebuilt right away, and continued training checks nothing:
        # check them first, on an unfitted net of the same parameters, so that a bad value
        # leaves the net as it was
        probe = unfitted_like(self)
        probe.set_params(**{k: v for k, v in params.items() if not k.startswith("callbacks__")})
        probe.check_params()
        rebuilt = self.callback_settings + self.optimizer_settings + self.module_params \
            + self.criterion_params
        ours = {key: value for key, value in params.items()
                if key in rebuilt or key.startswith("lr_scheduler__")}
        rest = {key: value for key, value in params.items() if key not in ours}
        if rest:
            super().set_params(**rest)
        if "batch_size" in rest:
            self.__dict__.pop("batch_size_", None)  # continued training takes batch_size
        if ours:
            # skorch would look for components named after them (lr_scheduler, optimizer),
            # and rebuild nothing: set them as on an unfitted net, then rebuild here
            self.initialized_ = False
            try:
                super().set_params(**ours)
            finally:
                self.initialized_ = True
        if any(key in self.module_params for key in ours):
            self.initialize_module()
            self.initialize_criterion()
            self.initialize_optimizer()
        elif any(key in self.criterion_params for key in ours):
            self.initialize_criterion()
            self.initialize_optimizer()
        elif any(key in self.optimizer_settings for key in ours):
            self.initialize_optimizer()
        if any(key in self.callback_settings or key.startswith("lr_scheduler__")
               for key in ours):
            self.initialize_callbacks()
        return self

    def schedule_params(self, epochs):
        """The settings that lay the learning-rate schedule out over ``epochs`` epochs,
        whatever ``max_epochs`` is: ``lr_scheduler__T_max`` for a cosine schedule that has none
        (its default follows ``max_epochs``), nothing otherwise.

        A search that decides itself how long each fit trains sets them, so every fit follows
        the same schedule and the refit, trained for fewer epochs, the one it was evaluated on.
        """
        if self.lr_scheduler == "cosine" and "T_max" not in self.get_params_for("lr_scheduler"):
            return {"lr_scheduler__T_max": int(epochs)}
        return {}

    # --- validation -------------------------------------------------------------------------

    def check_params(self):
        """Raise ValueError, naming the value and what is allowed, for an invalid parameter.

        Called when the net initializes, and by the ``skhyper`` command for every value of a
        search space before anything trains. A family with parameters of its own extends it
        (calling ``super().check_params()``).
        """
        if not (isinstance(self.optimizer, type) and issubclass(self.optimizer,
                                                               torch.optim.Optimizer)):
            check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        if not (self.callbacks is None or isinstance(self.callbacks, (list, tuple))
                or isinstance(self.callbacks, str) and self.callbacks == "disable"):
            raise ValueError(f"Invalid callbacks={self.callbacks!r}: expected a list of skorch "
                             "callbacks or (name, callback) pairs, None, or 'disable'.")
        check_number("lr", self.lr, low=0, low_open=True)
        check_number("weight_decay", self.weight_decay, low=0)
        optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        if self.weight_decay and not _takes_weight_decay(optimizer):
            raise ValueError(f"Invalid weight_decay={self.weight_decay!r}: the optimizer "
                             f"{optimizer.__name__} takes no weight_decay; use 0.")
        check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("max_epochs", self.max_epochs, low=0, integer=True)
        check_number("grad_clip", self.grad_clip, low=0, low_open=True, allow_none=True)
        if self.lr_scheduler is not None:
            check_choice("lr_scheduler", self.lr_scheduler, (None,) + tuple(SCHEDULERS))
        for name, value in self.get_params_for("lr_scheduler").items():
            if name in SCHEDULER_SETTINGS:
                check_number(f"lr_scheduler__{name}", value, **SCHEDULER_SETTINGS[name])
        check_number("patience", self.patience, low=1, integer=True, allow_none=True)
        check_number("min_delta", self.min_delta, low=0)
        check_number("validation_fraction", self.validation_fraction, low=0, high=1,
                     low_open=True, high_open=True, allow_none=True)
        check_number("random_state", self.random_state, low=0, integer=True, allow_none=True)
        check_number("oom_retries", self.oom_retries, low=0, integer=True)
        check_number("trials_per_gpu", self.trials_per_gpu, low=1, integer=True, allow_none=True)
        _check_device(self.__dict__["device"])
        if hasattr(self, "seq_len"):
            check_number("seq_len", self.seq_len, low=1, integer=True, allow_none=True)

    def _check_X(self, X):
        fitted_names = self.__dict__.get("feature_names_in_")
        columns = getattr(X, "columns", None)
        named = columns is not None and all(isinstance(c, str) for c in columns)
        if self.__dict__.get("initialized_") and named != (fitted_names is not None):
            # scikit-learn's warnings, worded as its estimators word them
            warnings.warn(
                f"X does not have valid feature names, but {type(self).__name__} was fitted "
                "with feature names" if fitted_names is not None else
                f"X has feature names, but {type(self).__name__} was fitted without feature "
                "names", UserWarning)
        if fitted_names is not None and columns is not None \
                and [str(c) for c in columns] != list(fitted_names):
            # as scikit-learn's estimators: reordered or renamed columns give wrong predictions
            raise ValueError(
                f"The feature names should match those that were passed during fit: "
                f"{type(self).__name__} was fitted with {list(fitted_names)}, X has "
                f"{[str(c) for c in columns]}."
            )
        # Writable: joblib hands workers read-only memmaps, which torch warns about on wrapping.
        X = np.require(X, dtype=np.float32, requirements="W")
        if X.ndim != self.X_ndim:
            shape = "(n_samples, n_steps, n_features)" if self.X_ndim == 3 else \
                "(n_samples, n_features)"
            raise ValueError(
                f"{type(self).__name__} expects X of shape {shape} ({self.X_ndim}-D); "
                f"got a {X.ndim}-D array of shape {X.shape}."
            )
        if len(X) == 0:
            raise ValueError(f"Input X has 0 samples (shape {X.shape}); at least 1 is required.")
        self._last_steps(X)  # a seq_len longer than the windows fails here, before training
        if not self.allow_nan and np.isnan(X).any():
            raise ValueError(
                f"Input X contains NaN; {type(self).__name__} does not accept missing values. "
                "Impute them first (e.g. sklearn.impute.SimpleImputer in a Pipeline)."
            )
        if not np.isfinite(X[~np.isnan(X)]).all():
            raise ValueError("Input X contains infinity.")
        n_features = getattr(self, "n_features_in_", None)
        if n_features is not None and X.shape[-1] != n_features:
            raise ValueError(
                f"X has {X.shape[-1]} features per step, but {type(self).__name__} was fitted "
                f"with {n_features}."
            )
        return X

    def _last_steps(self, X):
        """The last ``seq_len`` steps of each window of X, an array or a batch tensor (all of
        them without ``seq_len``)."""
        seq_len = python_scalar(getattr(self, "seq_len", None))
        if seq_len is None or isinstance(X, dict):
            return X
        check_number("seq_len", seq_len, low=1, integer=True)
        if seq_len > X.shape[1]:
            raise ValueError(
                f"Invalid seq_len={seq_len}: X has windows of {X.shape[1]} steps. Use at most "
                f"{X.shape[1]}, or load the data with windows of at least {seq_len} steps."
            )
        return X[:, X.shape[1] - seq_len:]

    def _prepare_data(self, X, y, reset, classes=None):
        """Validate and convert X and y; on ``reset`` record the sizes the module needs (and
        the label set: ``classes`` when given, as partial_fit's first call declares it)."""
        if reset:
            self.__dict__.pop("n_features_in_", None)
            # scikit-learn's convention: a DataFrame's string column names are recorded
            columns = getattr(X, "columns", None)
            if columns is not None and all(isinstance(c, str) for c in columns):
                self.feature_names_in_ = np.asarray(columns, dtype=object)
            else:
                self.__dict__.pop("feature_names_in_", None)
        X = self._check_X(X)
        if y is None and self.__sklearn_tags__().target_tags.required:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        if y is not None:
            check_consistent_length(X, y)
            y = self._prepare_y(y, reset, classes)
        if reset:
            self.n_features_in_ = X.shape[-1]
        return X, y

    def _prepare_y(self, y, reset, classes=None):
        return y

    # --- skorch extension points ------------------------------------------------------------

    def module_size_params(self):
        """Module constructor arguments derived from the data (input and output sizes)."""
        return {}

    def initialize(self):
        self.check_params()
        self.device_ = self._select_device()
        with TORCH_RNG_LOCK:
            # Without random_state, the seed of the unit of work this thread runs, if any
            # (skhyper.parallel.torch_seed): set again here so no other thread's seeding can
            # come between it and the draw of the weights.
            seed = python_scalar(self.random_state)
            if seed is None:
                seed = thread_seed()
            if seed is not None:
                torch.manual_seed(seed)
            super().initialize()
            # Shuffling draws from the net's own generator, so fits running in threads of one
            # process do not consume each other's random numbers.
            if seed is None:
                seed = int(torch.randint(2 ** 62, ()).item())
        self.train_generator_ = torch.Generator().manual_seed(seed)
        # The validation split is drawn once, from the same seed (not numpy's global RNG):
        # the same result for the same seed, and continued training keeps its held-out part.
        self.valid_split_seed_ = seed % 2 ** 32
        return self

    def _select_device(self):
        """The device of this fit: the claimed GPU, the least-loaded of several for "auto"."""
        claim = self.__dict__.get("gpu_claim_")
        if claim is not None:
            return claim.device
        requested = self.__dict__["device"]
        if requested == "auto" and torch.cuda.device_count() > 1:
            return f"cuda:{gpus_by_free_memory()[0]}"
        return resolve_device(requested)

    def get_params_for(self, prefix):
        params = {key: python_scalar(value)
                  for key, value in super().get_params_for(prefix).items()}
        if prefix in ("iterator_train", "iterator_valid"):
            # after the out-of-memory back-off, if any
            params.setdefault("batch_size",
                              python_scalar(self.__dict__.get("batch_size_", self.batch_size)))
        # Every DataLoader draws a seed from a generator when it starts iterating; give each one
        # of its own so that fits in threads of one process never touch torch's global RNG
        # while another fit is seeding it. Training shuffles with the net's generator.
        if prefix == "iterator_train" and self.iterator_train is torch.utils.data.DataLoader \
                and "train_generator_" in self.__dict__:
            params.setdefault("generator", self.train_generator_)
        if prefix == "iterator_valid" and self.iterator_valid is torch.utils.data.DataLoader:
            params.setdefault("generator", torch.Generator())  # never shuffles: any seed does
        if prefix in ("iterator_train", "iterator_valid") and \
                getattr(self, prefix) is torch.utils.data.DataLoader:
            params.setdefault("collate_fn", collate_batch)  # takes BatchDataset's whole batches
        return params

    def initialize_module(self):
        kwargs = {name: python_scalar(getattr(self, name)) for name in self.module_params}
        try:
            kwargs.update(self.module_size_params())
        except AttributeError as exc:  # n_features_in_ and the like: set by fit
            raise NotFittedError(
                f"{type(self).__name__} sizes its module from the data, and has seen none "
                f"({exc}). Fit it first; to load saved parameters into a new net, fit it with "
                "max_epochs=0 on data of the same shape (nothing trains), then load_params."
            ) from exc
        kwargs.update(self.get_params_for("module"))
        module = self.initialized_instance(self.module, kwargs)
        self.module_ = module.to(self.device) if isinstance(module, torch.nn.Module) else module
        return self

    def initialize_optimizer(self, *args, **kwargs):
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = OPTIMIZERS[optimizer]
        named_parameters = self.get_all_learnable_params()
        opt_args, opt_kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        if _takes_weight_decay(optimizer):  # Rprop and LBFGS do not (check_params: it is 0)
            opt_kwargs.setdefault("weight_decay", self.weight_decay)
        self.optimizer_ = optimizer(*opt_args, **opt_kwargs)
        for group in self.optimizer_.param_groups:
            # what a torch scheduler records when it starts; one chosen after training began
            # (set_params(lr_scheduler="cosine") on a fitted net) resumes from it
            group.setdefault("initial_lr", group["lr"])
        return self

    def _has_validation(self):
        return bool(self.train_split) or bool(self.validation_fraction)

    def get_split_datasets(self, X, y=None, **fit_params):
        if self.train_split is not None or not self.validation_fraction:
            return super().get_split_datasets(X, y, **fit_params)
        dataset = self.get_dataset(X, y)
        # a net pickled before valid_split_seed_ existed (a store resumed after an upgrade)
        seed = self.__dict__.get("valid_split_seed_", self.random_state)
        stratified = self._stratified_split()
        split = ValidSplit(self.validation_fraction, stratified=stratified, random_state=seed)
        try:
            return split(dataset, y, **fit_params)
        except ValueError as exc:
            # scikit-learn's message names a test_size the user never set
            kind = "stratified validation split" if stratified else "validation split"
            raise ValueError(
                f"The {kind} (validation_fraction={self.validation_fraction} of "
                f"{len(dataset)} samples) failed, in scikit-learn's words (its test_size is "
                f"validation_fraction): {str(exc).rstrip('.')}. Use more data, another "
                "validation_fraction, or validation_fraction=None."
            ) from exc

    def _stratified_split(self):
        return False

    def infer(self, x, **fit_params):
        # Cut at the module's input, so that every path to it (arrays, skorch Datasets, a
        # predefined validation split) reads the same last seq_len steps.
        return super().infer(self._last_steps(x), **fit_params)

    def get_dataset(self, X, y=None):
        # fit and partial_fit hand skorch the X they checked: checked again, an array would
        # look like one passed without the feature names it was fitted with
        if not is_dataset(X) and not ("checked_X_" in self.__dict__
                                      and X is self.__dict__["checked_X_"]):
            X = self._check_X(X)
        return super().get_dataset(X, y)

    def _scheduler_callback(self, monitor):
        policy, defaults = SCHEDULERS[self.lr_scheduler]
        given = self.get_params_for("lr_scheduler")
        known = set()
        for cls, _ in SCHEDULERS.values():
            known.update(inspect.signature(cls).parameters)
        unknown = sorted(set(given) - known)
        if unknown:
            named = [f"lr_scheduler__{k}" for k in unknown]
            allowed = sorted(f"lr_scheduler__{k}" for k in known - {"optimizer"})
            raise ValueError(f"Invalid lr_scheduler setting(s) {', '.join(named)}; "
                             f"allowed: {', '.join(allowed)}.")
        accepted = inspect.signature(policy).parameters
        settings = {**defaults, **{k: v for k, v in given.items() if k in accepted}}
        if self.lr_scheduler == "cosine":
            settings.setdefault("T_max", max(int(self.max_epochs), 1))
        return LRScheduler(policy=policy, monitor=monitor, **settings)

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        monitor = "valid_loss" if self._has_validation() else "train_loss"
        callbacks.append(("non_finite_loss", StopOnNonFiniteLoss()))
        if self.grad_clip is not None:
            clipping = GradientNormClipping(gradient_clip_value=self.grad_clip)
            callbacks.append(("grad_clip", clipping))
        if self.lr_scheduler is not None:
            callbacks.append(("lr_scheduler", self._scheduler_callback(monitor)))
        if self.patience is not None:
            callbacks.append(("early_stopping", _EarlyStopping(
                monitor=monitor, patience=self.patience, threshold=self.min_delta,
                threshold_mode="abs", load_best=True,
                sink=print if self.verbose else _silent,
            )))
        return callbacks

    # --- training ---------------------------------------------------------------------------

    def fit(self, X, y=None, **fit_params):
        """Initialize (unless ``warm_start``) and train for ``max_epochs`` epochs."""
        reset = not (self.warm_start and self.initialized_)
        X, y = self._prepare_data(X, y, reset=reset)
        return self._train(X, y, reset, None, fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training the fitted net; ``epochs=k`` trains ``k`` epochs (default
        ``max_epochs``). An unfitted net is initialized first."""
        reset = not self.initialized_
        X, y = self._prepare_data(X, y, reset=reset, classes=classes)
        return self._train(X, y, reset, classes, fit_params)

    def _train(self, X, y, reset, classes, fit_params):
        """Train in this worker's thread setting, on a claimed GPU, with the out-of-memory
        back-off when starting from scratch."""
        check_number("num_threads", self.num_threads, low=1, integer=True, allow_none=True)
        threads_before = torch.get_num_threads()
        if self.num_threads is not None:
            torch.set_num_threads(python_scalar(self.num_threads))
        self.num_threads_ = torch.get_num_threads()
        claim = None
        self.__dict__["checked_X_"] = X
        try:
            claim = self._claim_gpu(reset)
            if claim is not None:
                self.gpu_claim_ = claim
            with noting_ctrl_c() as ctrl_c_pressed:
                if reset:
                    self._train_from_scratch(X, y, classes, fit_params)
                else:
                    self._continue_training(X, y, classes, fit_params)
            if ctrl_c_pressed():
                # skorch ended the fit loop and returned as if training had finished
                raise KeyboardInterrupt
            return self
        finally:
            del self.__dict__["checked_X_"]
            if self.num_threads is not None:
                # A reused worker must not keep this fit's count: later fits there would
                # oversubscribe the cores its share was computed for.
                torch.set_num_threads(threads_before)
            self.__dict__.pop("gpu_claim_", None)
            if claim is not None:
                claim.release()
            if str(self.device).startswith("cuda"):
                release_memory()  # leave the cached blocks to the next fit on this GPU

    def _continue_training(self, X, y, classes, fit_params):
        self.__dict__.setdefault("batch_size_", self.batch_size)
        try:
            return super().partial_fit(X, y, classes, **fit_params)
        except TrainingOutOfMemoryError:
            raise
        except torch.OutOfMemoryError as exc:
            raise TrainingOutOfMemoryError(
                f"Out of memory while continuing training, in epoch {self.n_epochs_}, "
                f"with batch_size={self.batch_size_} on {self.device}. Continued training "
                "is not retried: the interrupted epoch had already updated the model. "
                f"Original error: {exc}"
            ) from exc

    def _claim_gpu(self, reset):
        """A slot on a GPU when ``trials_per_gpu`` limits the fits per GPU of ``device="auto"``."""
        if self.__dict__["device"] != "auto" or self.trials_per_gpu is None \
                or not torch.cuda.is_available():
            return None
        check_number("trials_per_gpu", self.trials_per_gpu, low=1, integer=True)
        current = torch.device(self.device)
        if reset or current.type != "cuda":
            return claim_gpu(self.trials_per_gpu)
        return claim_gpu(self.trials_per_gpu, index=current.index or 0)

    def _train_from_scratch(self, X, y, classes, fit_params):
        check_number("oom_retries", self.oom_retries, low=0, integer=True)
        tried = []
        self.batch_size_ = self.batch_size
        while True:
            tried.append(self.batch_size_)
            try:
                self.initialize()
                return super().partial_fit(X, y, classes, **fit_params)
            except TrainingOutOfMemoryError:
                raise
            except torch.OutOfMemoryError as exc:
                # Drop the traceback: its frames hold the activations that must be freed.
                error = exc.with_traceback(None)
            release_memory()
            if len(tried) > self.oom_retries or self.batch_size_ == 1:
                sizes = ", ".join(str(b) for b in tried)
                raise TrainingOutOfMemoryError(
                    f"Out of memory on {self.device} at batch_size {sizes} (oom_retries="
                    f"{self.oom_retries}: each retry halves the batch size). Use a smaller "
                    f"batch_size or model, or a device with more free memory. Last error: {error}"
                ) from error
            self.batch_size_ = max(1, self.batch_size_ // 2)

    @property
    def n_epochs_(self):
        """Epochs trained so far (across fit and partial_fit calls)."""
        return len(self.history) if self.history is not None else 0


class NetRegressor(NetMixin, NeuralNetRegressor):
    __doc__ = "A skorch regressor with searchable training settings.\n" + NetMixin.__doc__

    def __init__(self, module, *, criterion=torch.nn.MSELoss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)

    def _prepare_y(self, y, reset, classes=None):
        y = np.require(y, dtype=np.float32, requirements="W")  # see _check_X
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
        if not np.isfinite(y).all():
            raise ValueError("Target y contains NaN or infinity.")
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_outputs
            self.target_1d_ = y.ndim == 1
        elif n_outputs != self.n_outputs_:
            # torch would broadcast the loss over the mismatch and train on without a word
            raise ValueError(f"y has {n_outputs} outputs, but {type(self).__name__} was fitted "
                             f"with {self.n_outputs_}.")
        return y.reshape(len(y), -1)

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        # A 1-D target the net did not prepare (a skorch Dataset of the user's, such as a
        # predefined validation split) would broadcast against the (N, 1) predictions into an
        # N x N loss. (Batches hold tensors; skorch's get_loss moves them to the device.)
        if torch.is_tensor(y_true) and torch.is_tensor(y_pred) and y_true.ndim == 1 \
                and y_pred.shape == (len(y_true), 1):
            y_true = y_true.view(-1, 1)
        return super().get_loss(y_pred, y_true, *args, **kwargs)

    def predict(self, X):
        y_pred = super().predict(X)
        return y_pred.ravel() if self.target_1d_ and y_pred.ndim == 2 else y_pred


class NetClassifier(NetMixin, NeuralNetClassifier):
    __doc__ = "A skorch classifier with searchable training settings; labels may be any " \
              "hashable values.\n" + NetMixin.__doc__

    def __init__(self, module, *, criterion=torch.nn.CrossEntropyLoss, **kwargs):
        super().__init__(module, criterion=criterion, **kwargs)

    def _prepare_y(self, y, reset, classes=None):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D class labels; got shape {y.shape}.")
        check_classification_targets(y)  # a continuous y is no set of labels
        if reset:
            self.label_encoder_ = fit_label_encoder(y, classes)
            self.n_outputs_ = len(self.label_encoder_.classes_)
        return encode_labels(self.label_encoder_, y).astype(np.int64)

    def _stratified_split(self):
        return True

    @property
    def _default_callbacks(self):
        # skorch scores validation accuracy on the encoded targets; compare decoded labels.
        return [
            (name, EpochScoring(_decoded_accuracy, name="valid_acc", lower_is_better=False))
            if name == "valid_acc" else (name, callback)
            for name, callback in super()._default_callbacks
        ]

    @property
    def classes_(self):
        return self.label_encoder_.classes_

    def predict(self, X):
        indices = super().predict(X)  # before classes_: an unfitted net raises NotFittedError
        return self.classes_[indices]
