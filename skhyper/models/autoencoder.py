"""The ``autoencoder`` family: a dense autoencoder as a scikit-learn transformer (seed 003).

The latent size is fixed (``latent_dim``) while the hidden layers are searched. Because skopt
cannot take lists as categories, the hidden layers are a scalar code: ``"64-32"`` is an encoder
``n_features -> 64 -> 32 -> latent_dim`` and the mirrored decoder ``latent_dim -> 32 -> 64 ->
n_features``. :func:`hidden_layer_configs` lists every non-increasing code over a set of sizes, so
its output is a ready grid value list.

Missing values (NaN) are allowed. Training uses :class:`MaskedMSELoss`, which compares the
reconstruction with the observed entries only; the encoder reads a missing entry as 0 (at fit,
transform and predict time alike), so standardise the features first (``StandardScaler`` keeps
NaN and ignores it when fitting) and a missing entry reads as the feature's mean.

Defaults follow seed 003: AdamW, lr 1e-3, cosine annealing to ``eta_min`` 1e-6 over
``max_epochs`` 20, batch size 32, layer normalisation, dropout and Xavier initialisation.
"""

from itertools import combinations_with_replacement

import numpy as np
import torch
from scipy.stats import loguniform, uniform
from skopt.space import Categorical, Real
from skorch import NeuralNet
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import gen_batches

from ..validation import check_choice, check_number
from ..nets import NetMixin
from ..registry import ModelFamily

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "gelu": torch.nn.GELU,
    "tanh": torch.nn.Tanh,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
}


def parse_hidden_layers(code):
    """Turn a hidden-layer code such as ``"64-32"`` into a tuple of sizes, ``(64, 32)``.

    The empty string means no hidden layer (a linear encoder and decoder).

    Raises
    ------
    ValueError
        If ``code`` is not a string of positive integers joined by ``"-"``.
    """
    if not isinstance(code, str):
        raise ValueError(
            f"Invalid hidden_layers={code!r}: expected a string of layer sizes joined by '-', "
            "e.g. '64-32' (or '' for no hidden layer)."
        )
    if code == "":
        return ()
    parts = code.split("-")
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ValueError(
            f"Invalid hidden_layers={code!r}: each layer size must be a positive integer, "
            "joined by '-', e.g. '64-32'."
        )
    return tuple(int(part) for part in parts)


def hidden_layer_configs(sizes=(16, 32, 64, 128), max_layers=3):
    """Every non-increasing hidden-layer code over ``sizes`` with 1 to ``max_layers`` layers.

    Use the result directly as a grid value list (``{"hidden_layers": hidden_layer_configs()}``)
    or as skopt categories (``Categorical(hidden_layer_configs())``).

    Parameters
    ----------
    sizes : sequence of int, default=(16, 32, 64, 128)
        Candidate layer widths (positive; duplicates are ignored).
    max_layers : int, default=3
        Deepest encoder to generate.

    Returns
    -------
    list of str
        Codes ordered by depth, then by widths: ``hidden_layer_configs((16, 32), 2)`` is
        ``["16", "32", "16-16", "32-16", "32-32"]``.
    """
    check_number("max_layers", max_layers, low=1, integer=True)
    try:
        widths = sorted(set(sizes))
    except TypeError:
        raise ValueError(f"Invalid sizes={sizes!r}: expected a sequence of positive integers.")
    for width in widths:
        check_number("sizes (each)", width, low=1, integer=True)
    if not widths:
        raise ValueError("Invalid sizes=(): give at least one layer width.")
    configs = []
    for depth in range(1, max_layers + 1):
        # combinations_with_replacement yields non-decreasing tuples of the sorted widths;
        # reversed, each is a non-increasing encoder.
        layers = sorted(tuple(reversed(c)) for c in combinations_with_replacement(widths, depth))
        configs.extend("-".join(map(str, c)) for c in layers)
    return configs


class MaskedMSELoss(torch.nn.Module):
    """Mean squared error over the observed (non-NaN) entries of the target.

    Missing entries contribute neither to the loss nor to its gradient; a batch without any
    observed entry has loss 0.
    """

    def forward(self, y_pred, y_true):
        observed = ~torch.isnan(y_true)
        squared = (y_pred - y_true.nan_to_num(nan=0.0)) ** 2 * observed
        return squared.sum() / observed.sum().clamp(min=1)


class AutoencoderModule(torch.nn.Module):
    """Dense encoder and mirrored decoder with layer normalisation, dropout and Xavier init.

    Parameters
    ----------
    input_size : int
        Features per sample.
    latent_dim : int
        Size of the code.
    hidden_layers : str
        Encoder widths as a code such as ``"64-32"``; the decoder mirrors them.
    dropout : float
        Dropout after each hidden layer's activation.
    layer_norm : bool
        Layer normalisation after each hidden linear layer.
    activation : {"relu", "gelu", "tanh", "elu", "leaky_relu"}
    """

    def __init__(self, input_size, latent_dim=3, hidden_layers="32-16", dropout=0.1,
                 layer_norm=True, activation="relu"):
        super().__init__()
        self.latent_dim = latent_dim
        widths = parse_hidden_layers(hidden_layers)

        def stack(sizes, out_size):
            layers = []
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers.append(torch.nn.Linear(n_in, n_out))
                if layer_norm:
                    layers.append(torch.nn.LayerNorm(n_out))
                layers += [ACTIVATIONS[activation](), torch.nn.Dropout(dropout)]
            layers.append(torch.nn.Linear(sizes[-1], out_size))
            return torch.nn.Sequential(*layers)

        self.encoder = stack((input_size,) + widths, latent_dim)
        self.decoder = stack((latent_dim,) + widths[::-1], input_size)
        for layer in self.modules():
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(layer.weight)
                torch.nn.init.zeros_(layer.bias)

    def encode(self, X):
        # A missing entry reads as 0: the masked loss never asks the decoder to reproduce it.
        return self.encoder(X.nan_to_num(nan=0.0))

    def decode(self, Z):
        return self.decoder(Z)

    def forward(self, X):
        return self.decode(self.encode(X))


class Autoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NetMixin, NeuralNet):
    """Dense autoencoder on tabular ``X`` (n_samples, n_features), a scikit-learn transformer.

    Unsupervised: ``fit(X)`` ignores ``y``. ``transform`` maps to the latent space,
    ``inverse_transform`` decodes latent codes, ``predict`` returns the reconstruction and
    ``score`` is the negative masked reconstruction MSE, so a search needs no ``scoring``.
    Missing values (NaN) are allowed in ``X``: the loss and the score use the observed entries
    only and the encoder reads a missing entry as 0 (standardise the features first).

    Parameters
    ----------
    latent_dim : int, default=3
        Size of the latent code (kept fixed while the hidden layers are searched).
    hidden_layers : str, default="32-16"
        Encoder widths as a code, e.g. ``"64-32"``; ``""`` for none. See
        :func:`hidden_layer_configs`.
    dropout : float, default=0.1
        In [0, 1).
    layer_norm : bool, default=True
    activation : {"relu", "gelu", "tanh", "elu", "leaky_relu"}, default="relu"
    module : type, default=AutoencoderModule
    criterion : type, default=MaskedMSELoss
        Called as ``criterion(reconstruction, X)``.
    **kwargs
        Training settings of :class:`skhyper.nets.NetMixin` (optimizer, lr, weight_decay,
        batch_size, max_epochs, lr_scheduler and ``lr_scheduler__*``, patience,
        validation_fraction, random_state, device, ...), with seed 003's defaults: AdamW,
        lr 1e-3, weight decay 1e-2, batch size 32, 20 epochs, cosine annealing with
        ``lr_scheduler__eta_min=1e-6``.

    Attributes
    ----------
    n_features_in_ : int
    module_ : AutoencoderModule
    history : skorch.history.History
        Per-epoch ``train_loss`` and ``valid_loss`` (masked MSE).
    """

    module_params = ("latent_dim", "hidden_layers", "dropout", "layer_norm", "activation")
    allow_nan = True

    def __init__(self, latent_dim=3, hidden_layers="32-16", dropout=0.1, layer_norm=True,
                 activation="relu", *, module=AutoencoderModule, criterion=MaskedMSELoss,
                 optimizer="adamw", lr=1e-3, weight_decay=1e-2, batch_size=32, max_epochs=20,
                 lr_scheduler="cosine", **kwargs):
        kwargs.setdefault("lr_scheduler__eta_min", 1e-6)
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         weight_decay=weight_decay, batch_size=batch_size,
                         max_epochs=max_epochs, lr_scheduler=lr_scheduler, **kwargs)
        self.latent_dim = latent_dim
        self.hidden_layers = hidden_layers
        self.dropout = dropout
        self.layer_norm = layer_norm
        self.activation = activation

    def check_params(self):
        super().check_params()
        check_number("latent_dim", self.latent_dim, low=1, integer=True)
        parse_hidden_layers(self.hidden_layers)
        check_number("dropout", self.dropout, low=0, high=1, high_open=True)
        check_choice("layer_norm", self.layer_norm, (True, False))
        check_choice("activation", self.activation, tuple(ACTIVATIONS))

    def module_size_params(self):
        return {"input_size": self.n_features_in_}

    def _check_X(self, X):
        # pandas (copy-on-write) can hand back a read-only view; torch needs a writable array.
        X = np.require(super()._check_X(X), requirements="W")
        if np.isnan(X).all():
            raise ValueError("Input X has no observed entries: every value is NaN.")
        return X

    def _get_param_names(self):
        # set_output's setting is state, not a parameter (sklearn's clone copies it itself);
        # skorch would otherwise list it, as it lists every attribute not ending in "_".
        return [name for name in super()._get_param_names() if name != "_sklearn_output_config"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags

    # --- training: the target is X itself -----------------------------------------------------

    def fit(self, X, y=None, **fit_params):
        """Train for ``max_epochs`` epochs to reconstruct ``X``; ``y`` is ignored."""
        return super().fit(X, None, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training; ``epochs=k`` trains ``k`` more epochs. ``y`` is ignored."""
        return super().partial_fit(X, None, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # skorch hands a placeholder target when y is None; the reconstruction target is X.
        return super().get_loss(y_pred, X, X=X, training=training)

    # --- transformer --------------------------------------------------------------------------

    @property
    def _n_features_out(self):
        # Read by get_feature_names_out (and so by set_output); a property, because skorch
        # treats every public or single-underscore instance attribute as a parameter.
        self.check_is_fitted()
        return self.module_.latent_dim

    def _apply(self, method, X):
        """Run the fitted module's ``method`` on X in batches: eval mode, no gradients."""
        self.check_is_fitted()
        self.module_.eval()
        X = torch.as_tensor(X)
        with torch.no_grad():
            parts = [getattr(self.module_, method)(X[batch].to(self.device)).cpu()
                     for batch in gen_batches(len(X), self.batch_size)]
        return torch.cat(parts).numpy()

    def transform(self, X):
        """Encode ``X`` (n_samples, n_features) to the latent space (n_samples, latent_dim).

        Missing entries read as 0.
        """
        return self._apply("encode", self._check_X(X))

    def inverse_transform(self, X):
        """Decode latent codes (n_samples, latent_dim) to (n_samples, n_features)."""
        self.check_is_fitted()
        Z = np.asarray(X, dtype=np.float32)
        latent_dim = self.module_.latent_dim
        if Z.ndim != 2 or Z.shape[1] != latent_dim:
            raise ValueError(
                f"inverse_transform expects latent codes of shape (n_samples, {latent_dim}); "
                f"got shape {Z.shape}."
            )
        if len(Z) == 0:
            raise ValueError("Latent codes have 0 samples; at least 1 is required.")
        if not np.isfinite(Z).all():
            raise ValueError("Latent codes contain NaN or infinity.")
        return self._apply("decode", Z)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error over the observed entries of ``X``.

        Higher is better, so searches maximise it; ``y`` is ignored.
        """
        reconstruction = self.predict(X)  # checks X as given, with any feature names
        X = np.asarray(X, dtype=np.float32)
        observed = ~np.isnan(X)
        error = reconstruction[observed].astype(np.float64) - X[observed]
        return -float(np.mean(error ** 2))


# Seed 003's widths; the latent size stays fixed, as in the seed's workflow.
search_spaces = {
    "grid": {
        "hidden_layers": hidden_layer_configs((16, 32, 64), max_layers=2),
    },
    "random": {
        "hidden_layers": hidden_layer_configs((16, 32, 64, 128), max_layers=3),
        "dropout": uniform(0.0, 0.3),
        "lr": loguniform(1e-4, 1e-2),
        "weight_decay": loguniform(1e-5, 1e-1),
        "batch_size": [16, 32, 64],
        "activation": ["relu", "gelu", "tanh"],
    },
    "bayes": {
        "hidden_layers": Categorical(hidden_layer_configs((16, 32, 64, 128), max_layers=3)),
        "dropout": Real(0.0, 0.3),
        "lr": Real(1e-4, 1e-2, prior="log-uniform"),
        "weight_decay": Real(1e-5, 1e-1, prior="log-uniform"),
        "batch_size": Categorical([16, 32, 64]),
        "activation": Categorical(["relu", "gelu", "tanh"]),
    },
}

family = ModelFamily(
    name="autoencoder",
    estimator=Autoencoder,
    task="unsupervised",
    description="Dense autoencoder transformer, fixed latent size, NaN-masked loss (seed 003)",
    search_spaces=search_spaces,
)
