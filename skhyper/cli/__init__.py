"""The ``skhyper`` command: ``list``, ``search``, ``report`` and ``train``.

Bad input ends the command with one line on stderr and exit status 2; a search that fails while
running exits with status 1 (its completed fits stay in the store: re-run with ``--resume``).
The user guide is docs/cli.md in the source tree; ``skhyper COMMAND --help`` lists the options.
"""

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

import yaml

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(text, low, why=None):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected an integer") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"invalid value {value}: {why or f'must be >= {low}'}")
    return value


def _positive_int(text):
    return _int_at_least(text, 1)


def _non_negative_int(text):
    return _int_at_least(text, 0)


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected seconds") from None
    if not value > 0:  # NaN too
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: must be > 0")
    return value


def _folds(text):
    return _int_at_least(text, 2, "cross-validation needs >= 2 folds")


def _jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected an integer "
                                         "(-1 for all cores)") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"invalid value {value}: use a positive number of "
                                         "jobs or -1 for all cores")
    return value


def _version():
    """The installed distribution's version (the package's own when run from a source tree)."""
    try:
        return version("skhyper")
    except PackageNotFoundError:
        from .. import __version__
        return __version__


def build_parser():
    """The argparse parser of the ``skhyper`` command."""
    from ._search import BACKENDS
    from ._strategies import STRATEGIES

    parser = _Parser(prog="skhyper", description="Search, report and train skhyper models.",
                     epilog="Run skhyper COMMAND --help for the options of each command.")
    parser.add_argument("--version", action="version", version=f"skhyper {_version()}")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("list", help="model and dataset families, broken plugins")
    listing.set_defaults(handler="list")

    search = commands.add_parser("search", help="run a search; results and report into --out")
    search.set_defaults(handler="search")
    search.add_argument("--model", required=True, help="model family (see skhyper list)")
    search.add_argument("--data", required=True, help="dataset family (see skhyper list)")
    search.add_argument("--data-param", action="append", default=[], metavar="K=V",
                        help="dataset loader argument, value read as YAML; repeatable")
    search.add_argument("--strategy", required=True, metavar="{" + ",".join(STRATEGIES) + "}",
                        help="baseline: the family's defaults; quick: seed 000's 2x2 demo; "
                             "grid, random, bayes: scikit-learn's and skopt's searches; "
                             "halving: successive halving with epochs as the resource; staged: "
                             "warm-started halving, then longer training for the best")
    search.add_argument("--space", metavar="SPACE.yaml",
                        help="YAML mapping each parameter to a list of values, a fixed value, "
                             "or {uniform|log-uniform|int: [low, high]} (default: the family's "
                             "space)")
    search.add_argument("--n-iter", type=_positive_int, default=10,
                        help="candidates for random, bayes and staged (default 10)")
    search.add_argument("--sampler", metavar="SAMPLER[:N],...",
                        help="staged: how candidates are drawn, random (default), bayes, tpe, "
                             "or a chain such as random:20,bayes:40,finetune:15 (a step "
                             "without :N draws --n-iter)")
    search.add_argument("--top-k", type=_non_negative_int, metavar="K",
                        help="staged: candidates of the extended stage (default 1; 0 skips it)")
    search.add_argument("--extended-cv", type=_folds, metavar="K",
                        help="staged: K-fold splits of the extended stage, on which its "
                             "candidates train new fold models (default: --cv's folds, on "
                             "which they train on)")
    search.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                        help="staged: start no new step (proposal, rung, extended evaluation) "
                             "after this many seconds; the best evaluated so far is refit")
    search.add_argument("--cv", type=_folds, default=3, help="K-fold splits (default 3)")
    search.add_argument("--scoring", metavar="S[,S...]",
                        help="scikit-learn scorer name or the model's own metric (default by "
                             "task: neg_mean_squared_error or accuracy); several, comma-"
                             "separated, make a multi-metric search ranked by the first")
    search.add_argument("--epochs", type=_positive_int,
                        help="epochs per fit (default: the family's; quick: 5); halving: the "
                             "most a candidate trains; staged: the last exploration rung's, "
                             "and the best candidate then trains up to twice as many")
    search.add_argument("--n-jobs", type=_jobs, default=1, help="parallel fits (default 1)")
    search.add_argument("--backend", default="loky", metavar="{" + ",".join(BACKENDS) + "}",
                        help="joblib backend (default loky)")
    search.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler address")
    search.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    search.add_argument("--out", required=True, metavar="DIR", help="results directory")
    search.add_argument("--resume", action="store_true",
                        help="continue the search in DIR, training only what is not stored")
    search.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bar or summary")

    report = commands.add_parser("report", help="rebuild the report of a search directory")
    report.set_defaults(handler="report")
    report.add_argument("dir", metavar="DIR")
    report.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bar or summary")

    train = commands.add_parser("train", help="train the final model on all data")
    train.set_defaults(handler="train")
    train.add_argument("--config", required=True, metavar="best_config.yaml")
    train.add_argument("--model", help="model family (default: the config's)")
    train.add_argument("--data", help="dataset family (default: the config's)")
    train.add_argument("--data-param", action="append", default=[], metavar="K=V")
    train.add_argument("--epochs", type=_positive_int,
                       help="epochs, which a cosine LR schedule spans (default: the config's "
                       "or the family's)")
    train.add_argument("--seed", type=int,
                       help="random seed (default: the config's random_state, else 0)")
    train.add_argument("--out", required=True, metavar="MODEL_DIR")
    train.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress bar or summary")
    return parser


def _one_line(exc):
    message = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
    lines = [line for line in message.splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        # scikit-learn's "All the N fits failed" quotes tracebacks: its first sentence and
        # the error that ends the (last) traceback say what went wrong.
        lines = [lines[0].split(". ")[0].rstrip(".") + ":", lines[-1]]
    return " ".join(" ".join(lines).split())


def main(argv=None):
    """Run the command with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    args = build_parser().parse_args(argv)
    from ._inputs import UsageError
    from ._report import run_list, run_report
    from ._search import run_search
    from ._train import run_train
    from ..registry import RegistryError
    from ..spaces import SpaceError

    handler = {"list": run_list, "search": run_search, "report": run_report,
               "train": run_train}[args.handler]
    try:
        return handler(args)
    except (UsageError, SpaceError, RegistryError, yaml.YAMLError, ImportError) as exc:
        print(f"skhyper {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, LookupError, OSError, MemoryError) as exc:
        print(f"skhyper {args.command}: failed: {type(exc).__name__}: {_one_line(exc)}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        after = "; completed fits are in the store, re-run with --resume to continue" \
            if args.command == "search" else ""
        print(f"skhyper {args.command}: interrupted{after}", file=sys.stderr)
        return 130
