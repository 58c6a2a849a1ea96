"""``skhyper report DIR`` and ``skhyper list``."""

import warnings
from pathlib import Path

import joblib

from .. import registry
from .._yaml import safe_load
from ._inputs import UsageError
from ._search import RUN_FILE, SEARCH_FILE, write_bundle


def run_report(args):
    out = Path(args.dir)
    if not (out / SEARCH_FILE).exists() or not (out / RUN_FILE).exists():
        raise UsageError(f"{out} holds no finished search ({SEARCH_FILE} and {RUN_FILE}); "
                         "run skhyper search --out DIR first.")
    try:
        search = joblib.load(out / SEARCH_FILE)
    except ModuleNotFoundError as exc:  # intact, but its estimator's code is not here
        raise UsageError(f"{out / SEARCH_FILE} needs the module {exc.name!r}, which is not "
                         "installed here (the plugin or script that defined the searched "
                         "estimator): install it, or run skhyper report where the search "
                         "ran.") from None
    except Exception as exc:  # truncated, or not a joblib file at all
        raise UsageError(f"{out / SEARCH_FILE} cannot be loaded ({type(exc).__name__}: {exc}); "
                         "run the search again, with --resume to reuse its stored fits.") from None
    with open(out / RUN_FILE, encoding="utf-8") as handle:
        run = safe_load(handle)
    config = run.get("config") if isinstance(run, dict) else None
    if not isinstance(config, dict):
        raise UsageError(f"{out / RUN_FILE} has no 'config' mapping (the search's options): "
                         "run the search again, with --resume to reuse its stored fits.")
    rebuilt = write_bundle(out, search, config)
    if not args.quiet:
        print(f"report rebuilt in {out}/: {', '.join(rebuilt)}")
    return 0


def run_list(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # broken plugins are listed below
        infos = registry.plugin_infos()
    loaded = [i for i in infos if i.error is None]
    cells = {id(i): (i.name, i.family.task, f"{i.distribution} {i.version}".strip())
             for i in loaded}
    # One set of column widths for both tables, sized to the longest entry of each column.
    widths = [max((len(row[c]) for row in cells.values()), default=0) for c in range(3)]
    for group, title in ((registry.MODEL_GROUP, "Model families"),
                         (registry.DATASET_GROUP, "Dataset families")):
        print(f"{title}:")
        for info in (i for i in loaded if i.group == group):
            columns = [f"{cell:<{width}}" for cell, width in zip(cells[id(info)], widths)]
            print(f"  {'  '.join(columns)}  {info.family.description}")
    broken = [i for i in infos if i.error is not None]
    if broken:
        print("Broken plugins:")
        for info in broken:
            print(f"  {info.name} ({info.group}, from {info.distribution} {info.version}): "
                  f"{info.error}")
    return 0
