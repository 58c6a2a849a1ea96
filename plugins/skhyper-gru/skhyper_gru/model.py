"""The ``gru`` model family: a GRU regressor for sequences, built on skhyper's public API.

A plugin subclasses :class:`skhyper.nets.NetRegressor`: it names its torch module, lists the
estimator parameters that go to the module in ``module_params``, and supplies the sizes the module
takes from the data in ``module_size_params``. Training settings (optimizer, lr, batch_size,
max_epochs, early stopping, schedulers, device, ...) come from the base class unchanged.
"""

import torch
from scipy.stats import loguniform, randint, uniform
from skopt.space import Categorical, Integer, Real

from skhyper import ModelFamily
from skhyper.nets import NetRegressor
from skhyper.validation import check_choice, check_number


class GRUModule(torch.nn.Module):
    """Stacked GRU with a linear head on the last step.

    Parameters
    ----------
    input_size : int
        Features per step.
    output_size : int, default=1
        Targets per sample.
    hidden_size, num_layers, dropout, bidirectional
        As in :class:`torch.nn.GRU`; dropout applies between GRU layers and before the head.
    """

    def __init__(self, input_size, output_size=1, hidden_size=32, num_layers=1, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        self.gru = torch.nn.GRU(
            input_size, hidden_size, num_layers=num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
        )
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def forward(self, X):
        steps, _ = self.gru(X)
        return self.head(self.dropout(steps[:, -1]))


class GRURegressor(NetRegressor):
    """GRU regressor on sequences ``X`` of shape (n_samples, n_steps, n_features).

    Predicts ``y`` of shape (n_samples,) or (n_samples, n_targets) from the last step.

    Parameters
    ----------
    hidden_size : int, default=32
        Units per GRU layer.
    num_layers : int, default=1
        Stacked GRU layers.
    dropout : float, default=0.0
        Dropout between GRU layers and before the head, in [0, 1).
    bidirectional : bool, default=False
    seq_len : int or None, default=None
        Read only the last ``seq_len`` steps of each window (None: all); declaring it is all a
        sequence family does for the window length to be searchable (see NetMixin's Notes).
    **kwargs
        Training settings of :class:`skhyper.nets.NetRegressor` (optimizer, lr, batch_size,
        max_epochs, patience, lr_scheduler, random_state, device, ...).
    """

    X_ndim = 3
    module_params = ("hidden_size", "num_layers", "dropout", "bidirectional")

    def __init__(self, hidden_size=32, num_layers=1, dropout=0.0, bidirectional=False, *,
                 seq_len=None, module=GRUModule, max_epochs=30, **kwargs):
        super().__init__(module, max_epochs=max_epochs, **kwargs)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.seq_len = seq_len

    def check_params(self):
        # Run when the net initializes (a search records a bad candidate as failed) and by the
        # skhyper command for every value of a search space before anything trains.
        super().check_params()
        check_number("hidden_size", self.hidden_size, low=1, integer=True)
        check_number("num_layers", self.num_layers, low=1, integer=True)
        check_number("dropout", self.dropout, low=0, high=1, high_open=True)
        check_choice("bidirectional", self.bidirectional, (True, False))

    def module_size_params(self):
        return {"input_size": self.n_features_in_, "output_size": self.n_outputs_}


search_spaces = {
    "grid": {
        "hidden_size": [16, 32],
        "num_layers": [1, 2],
        "lr": [1e-3, 1e-2],
    },
    "random": {
        "hidden_size": [8, 16, 32, 64],
        "num_layers": randint(1, 3),
        "dropout": uniform(0.0, 0.3),
        "lr": loguniform(1e-4, 1e-2),
        "batch_size": [16, 32, 64],
        "optimizer": ["adam", "adamw"],
    },
    "bayes": {
        "hidden_size": Integer(8, 64, prior="log-uniform", base=2),
        "num_layers": Integer(1, 2),
        "dropout": Real(0.0, 0.3),
        "lr": Real(1e-4, 1e-2, prior="log-uniform"),
        "batch_size": Categorical([16, 32, 64]),
        "optimizer": Categorical(["adam", "adamw"]),
    },
}

family = ModelFamily(
    name="gru",
    estimator=GRURegressor,
    task="regression",
    description="GRU regressor on sequences (plugin skhyper-gru)",
    search_spaces=search_spaces,
)
