"""The ``lstm`` family: an LSTM regressor for sequences (seeds 000 and 002).

Defaults follow seed 002's hyperparameter guide: hidden 128, 2 layers, dropout 0.2, batch 64,
lr 1e-3, weight decay 1e-5, early-stopping patience 15, gradient clip 1.0, and a plateau
scheduler with factor 0.5 and patience 5.
"""

import torch
from scipy.stats import loguniform, randint, uniform
from skopt.space import Categorical, Integer, Real

from ..validation import check_choice, check_number
from ..nets import NetRegressor
from ..registry import ModelFamily

OUTPUTS = ("last", "sequence")


class LSTMModule(torch.nn.Module):
    """Stacked LSTM with a linear head on the last step or on every step.

    Parameters
    ----------
    input_size : int
        Features per step.
    output_size : int
        Targets per prediction.
    hidden_size, num_layers, dropout, bidirectional
        As in :class:`torch.nn.LSTM`; dropout applies between LSTM layers and before the head.
    output : {"last", "sequence"}
        "last" maps the last step to ``output_size`` values, "sequence" maps every step, giving
        ``(n_samples, n_steps)`` for one output.
    """

    def __init__(self, input_size, output_size=1, hidden_size=128, num_layers=2, dropout=0.2,
                 bidirectional=False, output="last"):
        super().__init__()
        self.output = output
        self.lstm = torch.nn.LSTM(
            input_size, hidden_size, num_layers=num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
        )
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def forward(self, X):
        steps, _ = self.lstm(X)
        if self.output == "last":
            return self.head(self.dropout(steps[:, -1]))
        out = self.head(self.dropout(steps))  # (n, steps, output_size)
        return out.squeeze(-1) if out.shape[-1] == 1 else out.flatten(1)


class LSTMRegressor(NetRegressor):
    """LSTM regressor on sequences ``X`` of shape (n_samples, n_steps, n_features).

    Parameters
    ----------
    hidden_size : int, default=128
    num_layers : int, default=2
    dropout : float, default=0.2
    bidirectional : bool, default=False
    output : {"last", "sequence"}, default="last"
        Predict from the last step (y of shape (n_samples,) or (n_samples, n_targets)) or for
        every step (y of shape (n_samples, n_steps)).
    seq_len : int or None, default=None
        Read only the last ``seq_len`` steps of each window (at most the windows' length; None:
        all of them), so the window length can be searched on data loaded with the longest.
        Needs ``output="last"``: a per-step y has a value for every step of the full window.
    **kwargs
        Training settings of :class:`skhyper.nets.NetRegressor` (optimizer, lr, batch_size,
        max_epochs, patience, lr_scheduler, ...), with seed 002's defaults.
    """

    X_ndim = 3
    module_params = ("hidden_size", "num_layers", "dropout", "bidirectional", "output")

    def __init__(self, hidden_size=128, num_layers=2, dropout=0.2, bidirectional=False,
                 output="last", *, seq_len=None, module=LSTMModule, lr=1e-3, weight_decay=1e-5,
                 batch_size=64, max_epochs=50, patience=15, grad_clip=1.0, lr_scheduler="plateau",
                 **kwargs):
        kwargs.setdefault("lr_scheduler__factor", 0.5)
        kwargs.setdefault("lr_scheduler__patience", 5)
        super().__init__(module, lr=lr, weight_decay=weight_decay, batch_size=batch_size,
                         max_epochs=max_epochs, patience=patience, grad_clip=grad_clip,
                         lr_scheduler=lr_scheduler, **kwargs)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.output = output
        self.seq_len = seq_len

    def check_params(self):
        super().check_params()
        check_number("hidden_size", self.hidden_size, low=1, integer=True)
        check_number("num_layers", self.num_layers, low=1, integer=True)
        check_number("dropout", self.dropout, low=0, high=1, high_open=True)
        check_choice("bidirectional", self.bidirectional, (True, False))
        check_choice("output", self.output, OUTPUTS)
        if self.output == "sequence" and self.seq_len is not None:
            raise ValueError(
                f"Invalid seq_len={self.seq_len} with output='sequence': y holds a target for "
                "every step of the full window, which the net would no longer read. Use "
                "seq_len=None or output='last'."
            )

    def module_size_params(self):
        n_outputs = 1 if self.output == "sequence" else self.n_outputs_
        return {"input_size": self.n_features_in_, "output_size": n_outputs}


search_spaces = {
    # Seed 000's quick demo grid, widened to the layer count.
    "grid": {
        "hidden_size": [32, 64],
        "num_layers": [1, 2],
        "lr": [1e-3, 5e-3],
    },
    # Seed 000's search space as distributions.
    "random": {
        "hidden_size": [32, 64, 128, 256],
        "num_layers": randint(1, 4),
        "dropout": uniform(0.0, 0.3),
        "lr": loguniform(1e-4, 1e-2),
        "batch_size": [16, 32, 64],
        "optimizer": ["adam", "adamw", "sgd"],
        "grad_clip": [0.5, 1.0, 2.0, None],
    },
    # skopt cannot take None as a category: clipping stays on in the Bayesian space.
    "bayes": {
        "hidden_size": Integer(32, 256, prior="log-uniform", base=2),
        "num_layers": Integer(1, 3),
        "dropout": Real(0.0, 0.3),
        "lr": Real(1e-4, 1e-2, prior="log-uniform"),
        "batch_size": Categorical([16, 32, 64]),
        "optimizer": Categorical(["adam", "adamw", "sgd"]),
        "grad_clip": Real(0.5, 5.0, prior="log-uniform"),
    },
}

family = ModelFamily(
    name="lstm",
    estimator=LSTMRegressor,
    task="regression",
    description="LSTM regressor on sequences (hidden size, layers, dropout, bidirectional)",
    search_spaces=search_spaces,
)
