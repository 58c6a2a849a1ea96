"""The ``cnn-lstm`` family: a multi-task CNN+LSTM hybrid for sequences (seed 001).

Two branches read the same window: multi-scale 1-D convolutions (one kernel size per scale,
optionally residual and followed by self-attention) and a stacked LSTM (optionally followed by
self-attention). Their features are fused (concat, attention, gated or bilinear) and feed two
heads trained together: a classifier (e.g. the direction of the next move) and a regressor (e.g.
the next return).

Targets travel in one 2-column ``y``: column 0 holds the class labels, column 1 the regression
target. ``predict`` returns class labels, so the estimator is a scikit-learn classifier whose
``score`` is accuracy; :meth:`CNNLSTMMultiTask.predict_regression` returns the regression output.
The module-level scorers (:func:`accuracy_scorer`, :func:`neg_mse_scorer`,
:func:`combined_scorer`, and :func:`skhyper.model_size.n_parameters_scorer` for the model
size, collected in :data:`multitask_scoring`) plug into ``GridSearchCV(scoring=multitask_scoring,
refit="combined")``; :func:`skhyper.analysis.pareto_front` then trades the score off against fit
time and size, the seed's three objectives.
"""

import numpy as np
import torch
from scipy.stats import loguniform, randint, uniform
from skopt.space import Categorical, Integer, Real
from skorch import NeuralNet
from skorch.utils import to_numpy, to_tensor
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

from ..model_size import n_parameters_scorer
from ..validation import check_choice, check_number
from ..nets import NetMixin, encode_labels, fit_label_encoder
from ..registry import ModelFamily

ACTIVATIONS = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "swish": torch.nn.SiLU}
FUSIONS = ("concat", "attention", "gated", "bilinear")
TASK_WEIGHTINGS = ("fixed", "uncertainty")


def parse_kernel_sizes(code):
    """Turn a kernel-size code such as ``"3-5-7"`` (or a single int) into a tuple of ints.

    Search spaces carry the set of kernel sizes as one scalar because skopt cannot take
    lists or tuples as categories.
    """
    if isinstance(code, (int, np.integer)) and not isinstance(code, bool):
        parts = [int(code)]
    elif isinstance(code, str):
        try:
            parts = [int(part) for part in code.split("-")]
        except ValueError:
            parts = []
    else:
        parts = []
    if not parts or any(size < 1 for size in parts):
        raise ValueError(
            f"Invalid kernel_sizes={code!r}: expected positive integers joined by '-', such as "
            "'3-5-7', or a single positive integer."
        )
    return tuple(parts)


def split_targets(y):
    """Split a 2-column multi-task ``y`` into (class labels, regression targets).

    ``y`` is an array of shape (n_samples, 2) or a 2-column DataFrame: column 0 holds class
    labels, column 1 the regression target. Integer-valued float labels become int64, so a
    float array such as ``[[1.0, 0.3], ...]`` gives labels ``[1, ...]``.
    """
    if hasattr(y, "iloc"):  # keep a DataFrame's per-column dtypes (labels may be strings)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(_Y_SHAPE_ERROR.format(shape=y.shape))
        labels, values = np.asarray(y.iloc[:, 0]), np.asarray(y.iloc[:, 1], dtype=np.float32)
    else:
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(_Y_SHAPE_ERROR.format(shape=y.shape))
        labels, values = y[:, 0], y[:, 1].astype(np.float32)
    if labels.dtype.kind == "f" and np.isfinite(labels).all() \
            and (labels == np.round(labels)).all():
        labels = labels.astype(np.int64)
    return labels, values


_Y_SHAPE_ERROR = (
    "CNNLSTMMultiTask expects y of shape (n_samples, 2): column 0 the class label, column 1 "
    "the regression target (e.g. the market dataset's [direction, next_return]); got shape "
    "{shape}."
)


class _SelfAttention(torch.nn.Module):
    """Multi-head self-attention over time with a residual connection and layer norm."""

    def __init__(self, dim, heads):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = torch.nn.LayerNorm(dim)

    def forward(self, steps):  # (n, steps, dim)
        attended, _ = self.attention(steps, steps, steps, need_weights=False)
        return self.norm(steps + attended)


class _Fusion(torch.nn.Module):
    """Fuse the CNN and LSTM feature vectors into one vector of ``fusion_dim``."""

    def __init__(self, method, cnn_dim, lstm_dim, fusion_dim, heads, activation, dropout):
        super().__init__()
        self.method = method
        if method == "concat":
            self.project = torch.nn.Linear(cnn_dim + lstm_dim, fusion_dim)
        else:  # the other methods first bring both branches to fusion_dim
            self.project_cnn = torch.nn.Linear(cnn_dim, fusion_dim)
            self.project_lstm = torch.nn.Linear(lstm_dim, fusion_dim)
            if method == "attention":
                self.attention = torch.nn.MultiheadAttention(fusion_dim, heads, batch_first=True)
            elif method == "gated":
                self.gate = torch.nn.Linear(2 * fusion_dim, fusion_dim)
        self.activation = activation()
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, cnn, lstm):
        if self.method == "concat":
            fused = self.project(torch.cat([cnn, lstm], dim=1))
        else:
            a, b = self.project_cnn(cnn), self.project_lstm(lstm)
            if self.method == "bilinear":
                # Factorised bilinear pooling (Kim et al., ICLR 2017): output k is
                # (u_k'cnn + c_k)(v_k'lstm + d_k), a rank-1 bilinear form plus linear terms, with
                # the weights of two linear layers instead of torch.nn.Bilinear's
                # cnn_dim * lstm_dim * fusion_dim.
                fused = a * b
            elif self.method == "attention":
                tokens = torch.stack([a, b], dim=1)  # the two branches attend to each other
                attended, _ = self.attention(tokens, tokens, tokens, need_weights=False)
                fused = attended.mean(dim=1)
            else:
                gate = torch.sigmoid(self.gate(torch.cat([a, b], dim=1)))
                fused = gate * a + (1 - gate) * b
        return self.dropout(self.activation(fused))


class CNNLSTMModule(torch.nn.Module):
    """Multi-scale CNN and LSTM branches, a fusion layer, a classification and a regression head.

    ``forward(X)`` takes X of shape (n, steps, input_size) and returns ``(logits, value)`` of
    shapes (n, n_classes) and (n,). Parameters are those of :class:`CNNLSTMMultiTask`.
    """

    def __init__(self, input_size, n_classes, n_filters=64, kernel_sizes="3-5-7",
                 cnn_dropout=0.2, activation="relu", residual=True, cnn_attention_heads=0,
                 lstm_hidden_size=128, lstm_layers=2, lstm_dropout=0.2, bidirectional=False,
                 lstm_attention_heads=0, fusion="concat", fusion_dim=128, fusion_heads=4,
                 fusion_dropout=0.2):
        super().__init__()
        act = ACTIVATIONS[activation]
        sizes = parse_kernel_sizes(kernel_sizes)
        cnn_dim = n_filters * len(sizes)
        # padding="same" keeps every scale at the window length so the scales can be stacked.
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv1d(input_size, n_filters, size, padding="same") for size in sizes
        )
        self.cnn_activation = act()
        self.cnn_dropout = torch.nn.Dropout(cnn_dropout)
        self.shortcut = torch.nn.Conv1d(input_size, cnn_dim, 1) if residual else None
        self.cnn_attention = _SelfAttention(cnn_dim, cnn_attention_heads) \
            if cnn_attention_heads else None

        self.lstm = torch.nn.LSTM(
            input_size, lstm_hidden_size, num_layers=lstm_layers, batch_first=True,
            dropout=lstm_dropout if lstm_layers > 1 else 0.0, bidirectional=bidirectional,
        )
        lstm_dim = lstm_hidden_size * (2 if bidirectional else 1)
        self.lstm_attention = _SelfAttention(lstm_dim, lstm_attention_heads) \
            if lstm_attention_heads else None

        self.fusion = _Fusion(fusion, cnn_dim, lstm_dim, fusion_dim, fusion_heads, act,
                              fusion_dropout)
        self.classifier = torch.nn.Linear(fusion_dim, n_classes)
        self.regressor = torch.nn.Linear(fusion_dim, 1)

    def forward(self, X):
        channels = X.transpose(1, 2)  # Conv1d wants (n, features, steps)
        cnn = self.cnn_activation(torch.cat([conv(channels) for conv in self.convs], dim=1))
        if self.shortcut is not None:
            cnn = cnn + self.shortcut(channels)
        cnn = self.cnn_dropout(cnn).transpose(1, 2)  # (n, steps, cnn_dim)
        if self.cnn_attention is not None:
            cnn = self.cnn_attention(cnn)

        lstm, _ = self.lstm(X)
        if self.lstm_attention is not None:
            lstm = self.lstm_attention(lstm)

        fused = self.fusion(cnn.mean(dim=1), lstm[:, -1])
        return self.classifier(fused), self.regressor(fused).squeeze(-1)


class MultiTaskLoss(torch.nn.Module):
    """Cross-entropy on the class head plus mean squared error on the regression head.

    Parameters
    ----------
    task_weighting : {"fixed", "uncertainty"}, default="fixed"
        "fixed": ``w * CE + (1 - w) * MSE`` with ``w = classification_weight``.
        "uncertainty": learned homoscedastic-uncertainty weights (Kendall, Gal and Cipolla,
        CVPR 2018): ``exp(-s_c) * CE + s_c / 2 + exp(-s_r) * MSE / 2 + s_r / 2`` where the
        log-variances ``s_c`` and ``s_r`` are parameters trained with the network.
    classification_weight : float, default=0.5
        Weight of the classification loss under fixed weighting, in [0, 1].
    label_smoothing : float, default=0.0
        Passed to :class:`torch.nn.CrossEntropyLoss`.
    """

    def __init__(self, task_weighting="fixed", classification_weight=0.5, label_smoothing=0.0):
        super().__init__()
        self.task_weighting = task_weighting
        self.classification_weight = classification_weight
        self.cross_entropy = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        if task_weighting == "uncertainty":
            self.log_vars = torch.nn.Parameter(torch.zeros(2))

    def forward(self, logits, value, label, target):
        ce = self.cross_entropy(logits, label)
        mse = torch.nn.functional.mse_loss(value, target)
        if self.task_weighting == "uncertainty":
            s_c, s_r = self.log_vars
            return torch.exp(-s_c) * ce + 0.5 * s_c + 0.5 * torch.exp(-s_r) * mse + 0.5 * s_r
        w = self.classification_weight
        return w * ce + (1 - w) * mse


class CNNLSTMMultiTask(NetMixin, ClassifierMixin, NeuralNet):
    """CNN+LSTM hybrid trained on a classification and a regression task at once.

    ``X`` has shape (n_samples, n_steps, n_features). ``y`` has shape (n_samples, 2), an array
    or a 2-column DataFrame: column 0 holds the class labels (any hashable values;
    integer-valued floats are read as ints), column 1 the regression target. The market
    dataset's ``y`` is ``[direction, next_return]``.

    - ``predict(X)``: class labels, shape (n_samples,).
    - ``predict_proba(X)``: class probabilities, shape (n_samples, n_classes), columns in the
      order of ``classes_``.
    - ``predict_regression(X)``: the regression head's output, shape (n_samples,).
    - ``score(X, y)``: classification accuracy (``y`` as for ``fit``); use the module's
      scorers (:data:`multitask_scoring`) to score the regression task or both. scikit-learn's
      scorer names (``scoring="accuracy"``, ``"f1_macro"``, ...) cannot: they hand the metric
      the two-column ``y``, and every fold scores NaN. Pass ``scoring=None`` (this ``score``),
      ``accuracy_scorer`` or :data:`multitask_scoring`.

    Give searches and ``cross_val_score`` an explicit splitter (``cv=KFold(5)``,
    ``TimeSeriesSplit(5)``): for ``cv=5`` scikit-learn inspects the two-column ``y`` of a
    classifier, which fails for string labels and falls back to unstratified K-fold otherwise.

    Parameters
    ----------
    n_filters : int, default=64
        Convolution filters per kernel size.
    kernel_sizes : str or int, default="3-5-7"
        Kernel sizes of the parallel convolutions as a code such as "3-5-7".
    cnn_dropout : float, default=0.2
    activation : {"relu", "gelu", "swish"}, default="relu"
        Used in the CNN branch and the fusion layer.
    residual : bool, default=True
        Add a 1x1-convolution shortcut of the input to the CNN features.
    cnn_attention_heads : int, default=0
        Heads of self-attention over the CNN features; 0 turns it off. Must divide
        ``n_filters * len(kernel_sizes)``.
    lstm_hidden_size : int, default=128
    lstm_layers : int, default=2
    lstm_dropout : float, default=0.2
        Between LSTM layers (used when ``lstm_layers > 1``).
    bidirectional : bool, default=False
    lstm_attention_heads : int, default=0
        Heads of self-attention over the LSTM outputs; 0 turns it off. Must divide the LSTM
        output size (``lstm_hidden_size``, doubled when bidirectional).
    fusion : {"concat", "attention", "gated", "bilinear"}, default="concat"
        How the CNN and LSTM features combine: a linear layer on their concatenation; attention
        between the two (projected) feature vectors; a learned sigmoid gate mixing them; or a
        factorised bilinear product of the two projections.
    fusion_dim : int, default=128
    fusion_heads : int, default=4
        Heads of the attention fusion (used when ``fusion="attention"``); must divide
        ``fusion_dim``.
    fusion_dropout : float, default=0.2
    task_weighting : {"fixed", "uncertainty"}, default="fixed"
        How the two losses combine; see :class:`MultiTaskLoss`.
    classification_weight : float, default=0.5
        Weight of the classification loss under fixed weighting (the regression loss gets
        ``1 - classification_weight``).
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy, in [0, 1).
    l1 : float, default=0.0
        L1 penalty on the network's parameters, added to the training loss (the validation
        loss stays comparable across values).
    seq_len : int or None, default=None
        Read only the last ``seq_len`` steps of each window (at most the windows' length; None:
        all of them), so the window length can be searched on data loaded with the longest.
    **kwargs
        Training settings of :class:`skhyper.nets.NetMixin` (optimizer, lr, weight_decay,
        batch_size, max_epochs, patience, lr_scheduler, grad_clip, random_state, device, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    module_ : CNNLSTMModule
    criterion_ : MultiTaskLoss

    Notes
    -----
    Invalid combinations (attention heads that do not divide the dimension they split) raise
    a ValueError at ``fit``, so a search records that candidate as failed and goes on.
    """

    X_ndim = 3
    module_params = (
        "n_filters", "kernel_sizes", "cnn_dropout", "activation", "residual",
        "cnn_attention_heads", "lstm_hidden_size", "lstm_layers", "lstm_dropout",
        "bidirectional", "lstm_attention_heads", "fusion", "fusion_dim", "fusion_heads",
        "fusion_dropout",
    )
    #: Estimator parameters passed to the criterion's constructor.
    criterion_params = ("task_weighting", "classification_weight", "label_smoothing")

    def __init__(self, n_filters=64, kernel_sizes="3-5-7", cnn_dropout=0.2, activation="relu",
                 residual=True, cnn_attention_heads=0, lstm_hidden_size=128, lstm_layers=2,
                 lstm_dropout=0.2, bidirectional=False, lstm_attention_heads=0, fusion="concat",
                 fusion_dim=128, fusion_heads=4, fusion_dropout=0.2, task_weighting="fixed",
                 classification_weight=0.5, label_smoothing=0.0, l1=0.0, *, seq_len=None,
                 module=CNNLSTMModule, criterion=MultiTaskLoss, lr=1e-3, weight_decay=1e-5,
                 batch_size=64, max_epochs=30, patience=10, grad_clip=1.0, **kwargs):
        super().__init__(module, criterion=criterion, lr=lr, weight_decay=weight_decay,
                         batch_size=batch_size, max_epochs=max_epochs, patience=patience,
                         grad_clip=grad_clip, **kwargs)
        self.n_filters = n_filters
        self.kernel_sizes = kernel_sizes
        self.cnn_dropout = cnn_dropout
        self.activation = activation
        self.residual = residual
        self.cnn_attention_heads = cnn_attention_heads
        self.lstm_hidden_size = lstm_hidden_size
        self.lstm_layers = lstm_layers
        self.lstm_dropout = lstm_dropout
        self.bidirectional = bidirectional
        self.lstm_attention_heads = lstm_attention_heads
        self.fusion = fusion
        self.fusion_dim = fusion_dim
        self.fusion_heads = fusion_heads
        self.fusion_dropout = fusion_dropout
        self.task_weighting = task_weighting
        self.classification_weight = classification_weight
        self.label_smoothing = label_smoothing
        self.l1 = l1
        self.seq_len = seq_len

    # --- validation -------------------------------------------------------------------------

    def check_params(self):
        super().check_params()
        for name in ("n_filters", "lstm_hidden_size", "lstm_layers", "fusion_dim"):
            check_number(name, getattr(self, name), low=1, integer=True)
        for name in ("cnn_dropout", "lstm_dropout", "fusion_dropout", "label_smoothing"):
            check_number(name, getattr(self, name), low=0, high=1, high_open=True)
        for name in ("cnn_attention_heads", "lstm_attention_heads"):
            check_number(name, getattr(self, name), low=0, integer=True)
        check_number("fusion_heads", self.fusion_heads, low=1, integer=True)
        check_number("classification_weight", self.classification_weight, low=0, high=1)
        check_number("l1", self.l1, low=0)
        check_choice("activation", self.activation, tuple(ACTIVATIONS))
        check_choice("fusion", self.fusion, FUSIONS)
        check_choice("task_weighting", self.task_weighting, TASK_WEIGHTINGS)
        for name in ("residual", "bidirectional"):
            check_choice(name, getattr(self, name), (True, False))
        sizes = parse_kernel_sizes(self.kernel_sizes)
        cnn_dim = self.n_filters * len(sizes)
        lstm_dim = self.lstm_hidden_size * (2 if self.bidirectional else 1)
        _check_heads("cnn_attention_heads", self.cnn_attention_heads, cnn_dim,
                     f"n_filters * len(kernel_sizes) = {self.n_filters} * {len(sizes)}")
        _check_heads("lstm_attention_heads", self.lstm_attention_heads, lstm_dim,
                     "lstm_hidden_size * 2 (bidirectional)" if self.bidirectional
                     else "lstm_hidden_size")
        if self.fusion == "attention":
            _check_heads("fusion_heads", self.fusion_heads, self.fusion_dim, "fusion_dim")

    def _prepare_y(self, y, reset, classes=None):
        labels, values = split_targets(y)
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            # (a csv's empty label cell) else "not among the classes [0.0, 1.0, nan]"
            raise ValueError("The class labels (column 0 of y) contain NaN or infinity.")
        if not np.isfinite(values).all():
            raise ValueError("The regression target (column 1 of y) contains NaN or infinity.")
        if reset:
            self.label_encoder_ = fit_label_encoder(labels, classes)
        encoded = encode_labels(self.label_encoder_, labels)
        return np.column_stack([encoded, values]).astype(np.float32)

    # --- skorch extension points ------------------------------------------------------------

    def module_size_params(self):
        return {"input_size": self.n_features_in_, "n_classes": len(self.classes_)}

    def initialize_criterion(self):
        kwargs = {name: getattr(self, name) for name in self.criterion_params}
        kwargs.update(self.get_params_for("criterion"))
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits, value = y_pred
        y_true = to_tensor(y_true, device=self.device)
        loss = self.criterion_(logits, value, y_true[:, 0].long(), y_true[:, 1])
        if training and self.l1:
            loss = loss + self.l1 * sum(p.abs().sum() for p in self.module_.parameters())
        return loss

    # --- prediction -------------------------------------------------------------------------

    @property
    def classes_(self):
        return self.label_encoder_.classes_

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``."""
        logits, _ = self.forward(X, training=False)
        return to_numpy(torch.softmax(logits, dim=1))

    def predict(self, X):
        """Class labels, shape (n_samples,)."""
        indices = self.predict_proba(X).argmax(axis=1)  # an unfitted net raises NotFittedError
        return self.classes_[indices]

    def predict_regression(self, X):
        """The regression head's output, shape (n_samples,)."""
        _, value = self.forward(X, training=False)
        return to_numpy(value)

    def score(self, X, y, sample_weight=None):
        """Classification accuracy on column 0 of ``y``."""
        labels, _ = split_targets(y)
        return accuracy_score(labels, self.predict(X), sample_weight=sample_weight)


def _check_heads(name, heads, dim, dim_name):
    if heads and dim % heads:
        raise ValueError(
            f"Invalid {name}={heads}: it must divide the dimension it splits, {dim_name} = "
            f"{dim}. Choose a divisor of {dim} (or 0 to turn that attention off)."
        )


# --- scorers: callables scorer(estimator, X, y), usable in any scikit-learn search -------------

def accuracy_scorer(estimator, X, y):
    """Accuracy of the class head on column 0 of ``y``."""
    labels, _ = split_targets(y)
    return accuracy_score(labels, estimator.predict(X))


def neg_mse_scorer(estimator, X, y):
    """Negated mean squared error of the regression head on column 1 of ``y``."""
    _, values = split_targets(y)
    return -mean_squared_error(values, estimator.predict_regression(X))


def combined_scorer(estimator, X, y):
    """Mean of the class accuracy and the regression R^2: one number for both tasks.

    Both parts are 1 for a perfect model; R^2 is 0 for a regressor no better than the target's
    mean, so the score rewards a regression head only when it beats that baseline.
    """
    labels, values = split_targets(y)
    accuracy = accuracy_score(labels, estimator.predict(X))
    return 0.5 * (accuracy + r2_score(values, estimator.predict_regression(X)))


#: Scoring for multi-metric searches: ``GridSearchCV(..., scoring=multitask_scoring,
#: refit="combined")``. Every entry but ``n_parameters`` (the model size, for
#: :func:`skhyper.analysis.pareto_front`, which minimises it) is "higher is better".
multitask_scoring = {
    "accuracy": accuracy_scorer,
    "neg_mse": neg_mse_scorer,
    "combined": combined_scorer,
    "n_parameters": n_parameters_scorer,
}


# Every combination in these spaces is valid: head counts divide every reachable dimension.
search_spaces = {
    "grid": {
        "n_filters": [16, 32],
        "fusion": ["concat", "gated"],
        "task_weighting": ["fixed", "uncertainty"],
    },
    # Seed 001's space, scaled down to sizes that train in minutes on a CPU.
    "random": {
        "n_filters": [16, 32, 64],
        "kernel_sizes": ["3-5", "3-5-7", "3-5-7-11"],
        "cnn_dropout": uniform(0.1, 0.4),
        "activation": ["relu", "gelu", "swish"],
        "residual": [True, False],
        "cnn_attention_heads": [0, 4],
        "lstm_hidden_size": [32, 64, 128],
        "lstm_layers": randint(1, 3),
        "bidirectional": [False, True],
        "lstm_attention_heads": [0, 4],
        "fusion": list(FUSIONS),
        "fusion_dim": [32, 64, 128],
        "fusion_heads": [2, 4, 8],
        "task_weighting": list(TASK_WEIGHTINGS),
        "classification_weight": uniform(0.3, 0.5),
        "label_smoothing": uniform(0.0, 0.2),
        "l1": [0.0, 1e-6, 1e-5],
        "lr": loguniform(1e-4, 1e-2),
        "batch_size": [32, 64, 128],
        "optimizer": ["adam", "adamw", "rmsprop"],
        "weight_decay": loguniform(1e-6, 1e-3),
    },
    "bayes": {
        "n_filters": Categorical([16, 32, 64]),
        "kernel_sizes": Categorical(["3-5", "3-5-7", "3-5-7-11"]),
        "cnn_dropout": Real(0.1, 0.5),
        "activation": Categorical(["relu", "gelu", "swish"]),
        "residual": Categorical([True, False]),
        "lstm_hidden_size": Categorical([32, 64, 128]),
        "lstm_layers": Integer(1, 2),
        "bidirectional": Categorical([False, True]),
        "fusion": Categorical(list(FUSIONS)),
        "fusion_dim": Categorical([32, 64, 128]),
        "task_weighting": Categorical(list(TASK_WEIGHTINGS)),
        "classification_weight": Real(0.3, 0.8),
        "label_smoothing": Real(0.0, 0.2),
        "lr": Real(1e-4, 1e-2, prior="log-uniform"),
        "batch_size": Categorical([32, 64, 128]),
        "weight_decay": Real(1e-6, 1e-3, prior="log-uniform"),
    },
}

family = ModelFamily(
    name="cnn-lstm",
    estimator=CNNLSTMMultiTask,
    task="multitask",
    description="Multi-scale CNN + LSTM with feature fusion; classification and regression "
                "heads trained together (seed 001)",
    search_spaces=search_spaces,
    scorers=multitask_scoring,
)
