"""``write_report``: the whole analysis of a search as files a person or a program can read."""

import base64
import html
import json
import numbers
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from .._plain import to_plain
from .._warnings import warn
from ._curves import learning_curves
from ._guide import parameter_guide
from ._importance import parameter_importance
from ._pareto import pareto_front
from ._results import best_row, results_frame, scored, summary_statistics
from ._stats import compare_to_best, significance_statement
from ._values import format_value
from .plots import (
    plot_fit_time,
    plot_learning_curves,
    plot_param_effects,
    plot_param_heatmap,
    plot_param_importance,
    plot_pareto_front,
    plot_score_distribution,
    plot_top_candidates,
)
from .plots._common import varying_params
from .plots._param_importance import draw_importance

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222;
       line-height: 1.45; padding: 0 1em; }
h1, h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.note { background: #f6f8fa; border-left: 4px solid #888; padding: .5em 1em; }
"""


# --- plain values -------------------------------------------------------------------------

def _plain_params(params):
    """Parameters for best_config.yaml; a value YAML cannot hold (an estimator, a callable) is
    written as its repr with a warning, since it must be set again by hand."""
    plain = to_plain(params)
    for name, value in params.items():
        if not isinstance(value, (np.generic, numbers.Number, str, bool, type(None), list,
                                  tuple, dict)):
            warn(f"Parameter {name!r} = {value!r} is not a plain value: "
                 "best_config.yaml holds its repr, set it by hand.", UserWarning)
    return plain


def _fixed_settings(search):
    """Scalar settings of the refit best estimator that differ from their class defaults.

    They were fixed outside the search space (the base estimator's own arguments, the epochs a
    staged search refits with and the span of its LR schedule), and the configuration must
    carry them to rebuild the winner. A routed setting (``lr_scheduler__T_max``) has no class
    default: it is kept whenever it is set. A Pipeline's steps, and estimators nested in
    parameters, are read the same way, under ``step__setting`` names as ``set_params`` takes
    them.
    """
    estimator = getattr(search, "best_estimator_", None)
    return {} if estimator is None else _changed_settings(estimator)


def _changed_settings(estimator, prefix=""):
    if hasattr(estimator, "steps"):  # a Pipeline: no default constructor, its steps have
        return {name: value for step_name, step in estimator.steps
                if hasattr(step, "get_params")
                for name, value in _changed_settings(step, f"{prefix}{step_name}__").items()}
    try:
        defaults = type(estimator)().get_params(deep=False)
    except TypeError:  # no default constructor: only the searched parameters are known
        return {}
    scalars = (numbers.Number, str, bool, type(None))
    changed = {}
    for name, value in estimator.get_params(deep=False).items():
        if hasattr(value, "get_params") and not isinstance(value, type):
            changed.update(_changed_settings(value, f"{prefix}{name}__"))
        elif isinstance(value, scalars) and (
                name not in defaults and "__" in name
                or name in defaults and isinstance(defaults[name], scalars)
                and value != defaults[name]):
            changed[prefix + name] = value
    return changed


# --- tables ---------------------------------------------------------------------------------

def _cell(value):
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:.4g}"
    return format_value(value)


def _markdown_table(table):
    if table.empty:
        return "_none_\n"
    header = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [_cell(v).replace("|", "\\|").replace("\n", " ") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _html_table(table):
    if table.empty:
        return "<p><em>none</em></p>"
    return table.map(_cell).to_html(index=False, escape=True, border=0)


# --- content --------------------------------------------------------------------------------

def _top_table(frame, metric, top):
    rows = scored(frame).sort_values(["rank", "candidate"]).head(top)
    columns = ["rank", "candidate", "status"] + [c for c in ("stage", "rung", "epochs", "iter")
                                                 if c in rows]
    table = rows[columns].copy()
    table["mean score"] = rows[f"mean_test_{metric}"]
    table["std"] = rows[f"std_test_{metric}"]
    table["fit time (s)"] = rows["mean_fit_time"]
    for name in varying_params(frame):
        table[name] = rows[f"param_{name}"]
    return table


def _failures_table(frame):
    failed = frame[frame["status"] == "failed"]
    table = failed[["candidate", "status", "error"]].copy()
    table["params"] = failed["params"].map(
        lambda p: ", ".join(f"{k}={format_value(v)}" for k, v in p.items()))
    return table


def _pareto_table(frame):
    front = pareto_front(frame)
    columns = list(front.attrs["objectives"])
    table = front[["candidate"] + columns].copy()
    for name in varying_params(frame):
        table[name] = front[f"param_{name}"]
    objectives = ", ".join(f"{c} ({d})" for c, d in front.attrs["objectives"].items())
    return table, objectives


def _importance(frame):
    """The importance table and a note (the warning it raised, or why there is none)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table = parameter_importance(frame)
        except ValueError as exc:
            return pd.DataFrame(), str(exc)
    return table, " ".join(str(w.message) for w in caught)


def _has_curves(obj):
    try:
        return not learning_curves(obj).empty
    except (TypeError, ValueError):
        return False


def _figures(obj, frame, importance, fig_dir):
    """Render every figure that applies; returns ({name: path}, {name: why skipped})."""
    written, skipped = {}, {}
    makers = {
        "top_candidates": lambda: plot_top_candidates(frame),
        "param_effects": lambda: plot_param_effects(frame),
        "param_heatmap": lambda: plot_param_heatmap(frame),
        "score_distribution": lambda: plot_score_distribution(frame),
        "fit_time": lambda: plot_fit_time(frame),
        "param_importance": lambda: draw_importance(importance) if len(importance) else
        plot_param_importance(frame),
        "pareto_front": lambda: plot_pareto_front(frame),
    }
    if _has_curves(obj):
        makers["learning_curves"] = lambda: plot_learning_curves(obj)
    else:
        skipped["learning_curves"] = "the search kept no per-epoch history"
    for name, make in makers.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # reported in the text instead
                drawn = make()
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            skipped[name] = str(exc)
            continue
        figure = drawn if isinstance(drawn, plt.Figure) else drawn.figure
        path = fig_dir / f"{name}.png"
        figure.savefig(path, dpi=110)  # the figures use constrained layout: nothing is cut
        plt.close(figure)
        written[name] = path
    return written, skipped


# --- the report -----------------------------------------------------------------------------

def write_report(search_or_cv_results, out_dir, *, model=None, dataset=None, metric=None,
                 top=10, n_train=None, n_test=None, title="Hyperparameter search report",
                 fixed_params=None, data_params=None):
    """Write the analysis of a search into ``out_dir``.

    Files written:

    - ``summary_report.md`` and ``report.html`` (self-contained: figures embedded): the best
      configuration, whether it is significantly better than the runners-up (corrected
      resampled t-test), the top candidates, summary statistics, a per-parameter guide (best
      value, sensitivity, direction), parameter importance, the Pareto front and the failures;
    - ``figures/*.png``: every plot of :mod:`skhyper.analysis.plots` that applies;
    - ``cv_results.csv``: :func:`results_frame` (``params`` as JSON);
    - ``results.json``: the same content for programs;
    - ``best_config.yaml``: ``params``, ``best_score``, ``scoring`` and, when given, ``model``
      and ``dataset`` (plain YAML: ``make_estimator(model, **params)`` and
      ``estimator.set_params(**params)`` accept its ``params``). From a fitted search,
      ``params`` also holds the refit estimator's scalar settings that differ from its class
      defaults (e.g. the epochs a staged search refit with), so it rebuilds the winner;
      ``fixed_params`` and ``data_params`` add what the search cannot tell.

    Parameters
    ----------
    search_or_cv_results : fitted search, cv_results_ dict or results_frame
    out_dir : str or Path
        Created if missing; files in it are overwritten.
    model, dataset : str, default=None
        Family names recorded in best_config.yaml and the report.
    metric : str, default=None
        The metric that ranks candidates; the search's refit metric by default.
    top : int, default=10
        Candidates listed and compared with the best.
    n_train, n_test : int, default=None
        Split sizes for the t-test; see :func:`~skhyper.analysis.corrected_ttest`.
    title : str, default="Hyperparameter search report"
    fixed_params : dict, default=None
        Settings fixed outside the search space, recorded in ``params`` as given (also those
        equal to the class defaults, which the fitted search does not reveal).
    data_params : dict, default=None
        The dataset loader's arguments, recorded as ``data_params`` (what ``skhyper train``
        loads the data with).

    Returns
    -------
    dict
        Maps ``"markdown"``, ``"html"``, ``"csv"``, ``"json"``, ``"best_config"`` and
        ``"figures"`` (a dict of name to path) to the files written.
    """
    frame = results_frame(search_or_cv_results, metric=metric)
    metric = frame.attrs["metric"]
    best = best_row(frame)  # raises before anything is written when nothing completed
    out = Path(out_dir)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    best_params = dict(best["params"])
    counts = frame["status"].value_counts().to_dict()

    comparison = compare_to_best(frame, top=top, n_train=n_train, n_test=n_test)
    statement = significance_statement(comparison)
    stats = summary_statistics(frame).reset_index(names="quantity")
    guide = parameter_guide(frame)
    importance, importance_note = _importance(frame)
    pareto, objectives = _pareto_table(frame)
    failures = _failures_table(frame)
    top_table = _top_table(frame, metric, top)
    figures, skipped = _figures(search_or_cv_results, frame, importance, fig_dir)

    config_params = {**(fixed_params or {}), **_fixed_settings(search_or_cv_results),
                     **best_params}
    config = {"params": _plain_params(config_params), "best_score":
              float(best[f"mean_test_{metric}"]), "scoring": frame.attrs["scoring"]}
    if model is not None:
        config["model"] = str(model)
    if dataset is not None:
        config["dataset"] = str(dataset)
    if data_params is not None:
        config["data_params"] = to_plain(data_params)
    paths = {"markdown": out / "summary_report.md", "html": out / "report.html",
             "csv": out / "cv_results.csv", "json": out / "results.json",
             "best_config": out / "best_config.yaml", "figures": figures}
    paths["best_config"].write_text(yaml.safe_dump(config, sort_keys=False))

    csv = frame.assign(params=frame["params"].map(
        lambda p: json.dumps(to_plain(p, nan_as_none=True))))
    csv.to_csv(paths["csv"], index=False)

    overview = {
        "search": frame.attrs["search"], "model": model, "dataset": dataset,
        "scoring": frame.attrs["scoring"], "metric": metric, "metrics": frame.attrs["metrics"],
        "n_candidates": len(frame), "counts": counts,
    }
    results = {
        **overview,
        "best": {"candidate": int(best["candidate"]), "params": best_params,
                 "score": float(best[f"mean_test_{metric}"]),
                 "std": float(best[f"std_test_{metric}"])},
        "significance": {"statement": statement, "alpha": comparison.attrs["alpha"],
                         "comparisons": comparison.to_dict("records")},
        "summary_statistics": stats.to_dict("records"),
        "parameter_guide": guide.to_dict("records"),
        "parameter_importance": {"note": importance_note,
                                 "table": importance.to_dict("records")},
        "pareto_front": {"objectives": objectives, "table": pareto.to_dict("records")},
        "failures": failures.to_dict("records"),
        "figures": {name: str(path.relative_to(out)) for name, path in figures.items()},
        "figures_skipped": skipped,
        "candidates": csv.drop(columns="params").assign(params=frame["params"])
        .to_dict("records"),
    }
    paths["json"].write_text(json.dumps(to_plain(results, nan_as_none=True), indent=2))

    sections = [
        ("Overview", _overview_lines(overview, best, metric), None),
        ("Best configuration", [f"Candidate #{int(best['candidate'])}: mean score "
                                f"{best[f'mean_test_{metric}']:.4g} ± "
                                f"{best[f'std_test_{metric}']:.2g} (std over splits)."],
         pd.DataFrame({"parameter": list(best_params),
                       "value": [format_value(v) for v in best_params.values()]})),
        ("Is the best really best?", [statement], comparison),
        (f"Top {len(top_table)} candidates", [], top_table),
        ("Summary statistics (scored candidates: completed and pruned)", [], stats),
        ("Hyperparameter guide (observed effects)",
         ["Sensitivity: spread of the average score over the values tried (what a wrong choice "
          "costs). Direction: how the score moves as the value grows."], guide),
        ("Parameter importance",
         ["Permutation importance of a random forest fitted to the results (mean drop in R² "
          "when a parameter is shuffled, ± std over repeats)."]
         + ([importance_note] if importance_note else []), importance),
        ("Pareto front", [f"Objectives: {objectives}. No candidate off the front is at least "
                          "as good on every objective."], pareto),
        ("Failures", [f"{len(failures)} candidate(s) failed."
                      if len(failures) else "No candidate failed."],
         failures if len(failures) else None),
    ]
    paths["markdown"].write_text(_markdown(title, sections, figures, skipped, out))
    paths["html"].write_text(_html(title, sections, figures, skipped))
    return paths


def _overview_lines(overview, best, metric):
    counts = overview["counts"]
    lines = [f"Search: {overview['search']}"]
    if overview["model"] or overview["dataset"]:
        lines.append(f"Model: {overview['model'] or 'n/a'}; dataset: "
                     f"{overview['dataset'] or 'n/a'}")
    lines += [f"Scoring: {overview['scoring']} (ranked on {metric!r}"
              + (f"; metrics: {', '.join(overview['metrics'])}" if len(overview["metrics"]) > 1
                 else "") + ")",
              f"Candidates: {overview['n_candidates']} ("
              + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "failed", "pruned")) + ")"]
    return lines


def _markdown(title, sections, figures, skipped, out):
    parts = [f"# {title}\n"]
    for heading, lines, table in sections:
        parts.append(f"## {heading}\n")
        parts += [f"{line}\n" for line in lines]
        if table is not None:
            parts.append(_markdown_table(table))
    parts.append("## Figures\n")
    for name, path in figures.items():
        parts.append(f"![{name}]({path.relative_to(out).as_posix()})\n")
    for name, why in skipped.items():
        parts.append(f"- {name}: not drawn ({why})\n")
    return "\n".join(parts)


def _html(title, sections, figures, skipped):
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, lines, table in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body += [f"<p>{html.escape(line)}</p>" for line in lines]
        if table is not None:
            body.append(_html_table(table))
    body.append("<h2>Figures</h2>")
    for name, path in figures.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        body.append(f'<figure><img alt="{html.escape(name)}" '
                    f'src="data:image/png;base64,{data}"></figure>')
    for name, why in skipped.items():
        body.append(f'<p class="note">{html.escape(name)}: not drawn ({html.escape(why)})</p>')
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) +
            "\n</body></html>\n")
