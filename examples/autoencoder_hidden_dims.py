"""Seed 003 workflow: search the hidden layers of an autoencoder with a fixed latent size.

Every non-increasing hidden-layer configuration over the given widths (up to ``--max_layers``
layers) is cross-validated with GridSearchCV on the ``sparse-tabular`` data (missing entries
included: the autoencoder's masked loss ignores them); no ``scoring`` is needed, the
autoencoder's ``score`` is the negative masked reconstruction MSE. The top configurations are then
trained on the whole training part with the held-out test part evaluated every epoch, giving:

    hyperparam_search_latent{N}.png      test-loss curves of the top configurations
    config_performance_latent{N}.png     parameter count vs cross-validated loss
    latent_space_2d_best_config.png      test rows in the latent space by cluster (N == 2)
    hyperparam_results_latent{N}.json    arguments, best configuration, every result
    best_model_latent{N}.pt              the best model's weights (with --save_models)

    python examples/autoencoder_hidden_dims.py                 # a few minutes on 2 cores
    python examples/autoencoder_hidden_dims.py --quick --out /tmp/ae   # a few seconds

The options keep the seed's names (``--latent_dim``, ``--hidden_dims_search``, ...).
"""

import argparse
import json
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from skorch.dataset import Dataset  # noqa: E402
from skorch.helper import predefined_split  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

import skhyper  # noqa: E402
from skhyper.models.autoencoder import (  # noqa: E402
    AutoencoderModule,
    hidden_layer_configs,
    parse_hidden_layers,
)

QUICK = dict(hidden_dims_search="8,16", max_layers=2, epochs=2, cv=2, top=3, n_samples=200,
             n_features=10)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent_dim", type=int, default=2, help="fixed latent size")
    parser.add_argument("--hidden_dims_search", default="16,32,64",
                        help="comma-separated hidden widths to combine")
    parser.add_argument("--max_layers", type=int, default=3, help="deepest encoder")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--initial_lr", type=float, default=1e-3)
    parser.add_argument("--eta_min", type=float, default=1e-6,
                        help="final learning rate of the cosine schedule")
    parser.add_argument("--cv", type=int, default=3, help="cross-validation folds")
    parser.add_argument("--top", type=int, default=5, help="configurations with loss curves")
    parser.add_argument("--n_samples", type=int, default=1000, help="rows of sparse-tabular")
    parser.add_argument("--n_features", type=int, default=20, help="columns of sparse-tabular")
    parser.add_argument("--missing_rate", type=float, default=0.2,
                        help="fraction of missing entries")
    parser.add_argument("--n_jobs", type=int, default=1,
                        help="configurations cross-validated in parallel (GridSearchCV)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--output_dir", "--out", default="output")
    parser.add_argument("--save_models", action="store_true", help="save the best weights")
    parser.add_argument("--quick", action="store_true", help="tiny data and budget")
    args = parser.parse_args(argv)
    if args.quick:
        vars(args).update(QUICK)
    return args


def count_parameters(n_features, latent_dim, hidden_layers):
    module = AutoencoderModule(n_features, latent_dim=latent_dim, hidden_layers=hidden_layers)
    return sum(p.numel() for p in module.parameters())


def results_table(search, n_features, latent_dim):
    """One row per configuration with its CV loss, depth and parameter count, best first."""
    cv = search.cv_results_
    table = pd.DataFrame({
        "hidden_layers": [p["hidden_layers"] for p in cv["params"]],
        "cv_loss": -cv["mean_test_score"],
        "cv_loss_std": cv["std_test_score"],
        "rank": cv["rank_test_score"],
        "mean_fit_time": cv["mean_fit_time"],
    })
    table["num_layers"] = [len(parse_hidden_layers(c)) for c in table.hidden_layers]
    table["model_params"] = [count_parameters(n_features, latent_dim, c)
                             for c in table.hidden_layers]
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


def train_with_test_curve(estimator, hidden_layers, X, X_test):
    """Train on all of X, evaluating the masked loss on X_test after every epoch."""
    net = clone(estimator).set_params(hidden_layers=hidden_layers,
                                      train_split=predefined_split(Dataset(X_test)))
    return net.fit(X)


def plot_loss_curves(curves, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for code, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", ms=3, label=f"[{code}]")
    ax.set(xlabel="epoch", ylabel="test loss (masked MSE)", yscale="log",
           title=f"Test loss of the top {len(curves)} configurations")
    ax.legend(title="hidden layers")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_config_performance(table, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    points = ax.scatter(table.model_params, table.cv_loss, c=table.num_layers, cmap="viridis",
                        s=40, edgecolor="k")
    for row in table.itertuples():
        ax.annotate(row.hidden_layers, (row.model_params, row.cv_loss), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="model parameters", ylabel="cross-validated loss (masked MSE)", xscale="log",
           title="Model size vs reconstruction loss")
    fig.colorbar(points, ax=ax, label="hidden layers", ticks=sorted(table.num_layers.unique()))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_latent_2d(latent, labels, code, path):
    fig, ax = plt.subplots(figsize=(5.5, 5))
    points = ax.scatter(latent[:, 0], latent[:, 1], c=labels, cmap="tab10", s=12)
    ax.legend(*points.legend_elements(), title="cluster", fontsize=8)
    ax.set(xlabel="latent 1", ylabel="latent 2", title=f"Test rows in the latent space [{code}]")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    # Networks this small train fastest on one thread; more threads only contend.
    torch.set_num_threads(1)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = args.latent_dim

    data = skhyper.load_dataset("sparse-tabular", n_samples=args.n_samples,
                                n_features=args.n_features, missing_rate=args.missing_rate,
                                random_state=args.seed)
    print(data.description)
    sizes = [int(s) for s in args.hidden_dims_search.split(",")]
    configs = hidden_layer_configs(sizes, max_layers=args.max_layers)
    print(f"{len(configs)} hidden-layer configurations, latent_dim={n}: {', '.join(configs)}")

    estimator = skhyper.make_estimator(
        "autoencoder", latent_dim=n, max_epochs=args.epochs, batch_size=args.batch_size,
        lr=args.initial_lr, lr_scheduler__eta_min=args.eta_min, device=args.device,
        random_state=args.seed,
    )
    # refit=False: the top configurations are retrained below with a per-epoch test curve.
    search = GridSearchCV(estimator, {"hidden_layers": configs},
                          cv=KFold(args.cv, shuffle=True, random_state=args.seed), refit=False,
                          n_jobs=args.n_jobs)
    search.fit(data.X)
    table = results_table(search, data.X.shape[1], n)

    top = table.head(args.top)
    models, curves, test_losses = {}, {}, {}
    for code in top.hidden_layers:
        models[code] = train_with_test_curve(estimator, code, data.X, data.X_test)
        curves[code] = models[code].history[:, "valid_loss"]
        test_losses[code] = -models[code].score(data.X_test)
    table["final_test_loss"] = table.hidden_layers.map(test_losses)
    best = table.iloc[0]
    best_model = models[best.hidden_layers]

    files = {"curves": out / f"hyperparam_search_latent{n}.png",
             "scatter": out / f"config_performance_latent{n}.png",
             "results": out / f"hyperparam_results_latent{n}.json"}
    plot_loss_curves(curves, files["curves"])
    plot_config_performance(table, files["scatter"])
    if n == 2:
        files["latent"] = out / "latent_space_2d_best_config.png"
        plot_latent_2d(best_model.transform(data.X_test), data.labels_test, best.hidden_layers,
                       files["latent"])
    if args.save_models:
        files["model"] = out / f"best_model_latent{n}.pt"
        best_model.save_params(f_params=files["model"])

    def result(row):
        return {
            "config": list(parse_hidden_layers(row.hidden_layers)),
            "hidden_layers": row.hidden_layers,
            "cv_loss": float(row.cv_loss),
            "cv_loss_std": float(row.cv_loss_std),
            "final_test_loss": None if pd.isna(row.final_test_loss) else float(row.final_test_loss),
            "model_params": int(row.model_params),
            "num_layers": int(row.num_layers),
            "rank": int(row["rank"]),
        }

    report = {
        "timestamp": datetime.now().isoformat(),
        "args": {k: v for k, v in vars(args).items()},
        "dataset": data.description,
        "total_configurations": len(table),
        "best_configuration": {
            **result(best),
            "model_info": {"n_features": int(best_model.n_features_in_), "latent_dim": n,
                           **{k: best_model.get_params()[k]
                              for k in ("hidden_layers", "dropout", "layer_norm", "activation",
                                        "optimizer", "lr", "weight_decay", "batch_size",
                                        "max_epochs", "lr_scheduler", "lr_scheduler__eta_min")}},
        },
        "all_results": [result(row) for _, row in table.iterrows()],
    }
    files["results"].write_text(json.dumps(report, indent=2))

    print("=" * 70)
    print(f"Best configuration: [{best.hidden_layers}]  "
          f"(CV loss {best.cv_loss:.4f} +/- {best.cv_loss_std:.4f})")
    print(f"Best final test loss: {best.final_test_loss:.4f}")
    print(f"Best model parameters: {int(best.model_params)}")
    for kind, path in files.items():
        print(f"{kind:>8}: {path}")
    return report


if __name__ == "__main__":
    main()
