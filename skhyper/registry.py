"""Model and dataset families, discovered through entry points.

Every family, the built-in ones included, is registered by an installed distribution under the
entry-point group ``skhyper.models`` or ``skhyper.datasets``; each entry point names a
:class:`ModelFamily` or :class:`DatasetFamily` object. A plugin that fails to import is reported
with a :class:`RuntimeWarning` and listed by :func:`broken_plugins`; the other families still work.
"""

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points

from ._warnings import warn

MODEL_GROUP = "skhyper.models"
DATASET_GROUP = "skhyper.datasets"
#: The distribution whose families are built in; a plugin registering one of their names is
#: ignored.
BUILT_IN = "skhyper"

SEARCH_KINDS = ("grid", "random", "bayes")
TASKS = ("regression", "classification", "multitask", "unsupervised")


class RegistryError(LookupError):
    """An unknown family name, or two distributions that register the same name."""


@dataclass(frozen=True)
class ModelFamily:
    """A named family of models, each a scikit-learn estimator.

    Parameters
    ----------
    name : str
        The name users pass to :func:`make_estimator`, e.g. ``"lstm"``.
    estimator : type
        A class whose instances are scikit-learn estimators (a skorch net class or one of
        skhyper's bases in :mod:`skhyper.nets`).
    task : str
        One of ``"regression"``, ``"classification"``, ``"multitask"``, ``"unsupervised"``.
    description : str, default=""
        One line shown by ``skhyper list``.
    search_spaces : dict or None, default=None
        Maps ``"grid"``, ``"random"`` and ``"bayes"`` to a space in the form GridSearchCV,
        RandomizedSearchCV and skopt's BayesSearchCV take.
    scorers : dict or None, default=None
        The family's own metrics, name -> ``scorer(estimator, X, y)`` (a multitask family's:
        scikit-learn's scorer names cannot score its ``y``). ``skhyper search --scoring`` and
        ``skhyper train`` take these names, which come before scikit-learn's.
    """

    name: str
    estimator: type
    task: str
    description: str = ""
    search_spaces: dict = field(default=None)
    scorers: dict = field(default=None)

    def __post_init__(self):
        _check_task(self.name, self.task)
        if self.scorers is not None and not isinstance(self.scorers, dict):
            raise ValueError(f"Model family {self.name!r}: scorers must be a dict of name -> "
                             f"scorer(estimator, X, y) or None; got {self.scorers!r}.")
        bad = [name for name, scorer in (self.scorers or {}).items()
               if not (isinstance(name, str) and callable(scorer))]
        if bad:
            raise ValueError(f"Model family {self.name!r}: scorers must map names to callables "
                             f"scorer(estimator, X, y); {bad!r} do not.")
        unknown = set(self.search_spaces or {}) - set(SEARCH_KINDS)
        if unknown:
            raise ValueError(
                f"Model family {self.name!r}: unknown search-space kind(s) {sorted(unknown)}; "
                f"allowed: {', '.join(SEARCH_KINDS)}."
            )

    def make_estimator(self, **params):
        """Return an unfitted estimator of this family with ``params`` set."""
        return self.estimator(**params)

    def search_space(self, kind):
        """Return the declared default space for ``kind`` ("grid", "random" or "bayes")."""
        spaces = self.search_spaces or {}
        if kind not in spaces:
            raise KeyError(
                f"Model family {self.name!r} declares no {kind!r} search space; "
                f"it declares: {', '.join(spaces) or 'none'}."
            )
        return spaces[kind]


@dataclass(frozen=True)
class DatasetFamily:
    """A named dataset loader.

    Parameters
    ----------
    name : str
        The name users pass to :func:`load_dataset`, e.g. ``"sine-mixture"``.
    loader : callable
        ``loader(**params)`` returns a :class:`sklearn.utils.Bunch` with at least ``X``, ``y``
        (None for unsupervised data), ``task`` and ``description``; ``X_test`` and ``y_test``
        where the family has a held-out part.
    task : str
        One of ``"regression"``, ``"classification"``, ``"multitask"``, ``"unsupervised"``.
    description : str, default=""
        One line shown by ``skhyper list``.
    """

    name: str
    loader: object
    task: str
    description: str = ""

    def __post_init__(self):
        _check_task(self.name, self.task)

    def load(self, **params):
        """Call the loader with ``params`` and return its Bunch."""
        return self.loader(**params)


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered family comes from."""

    name: str
    group: str
    value: str
    distribution: str
    version: str
    family: object = None
    error: str = None


def _check_task(name, task):
    if task not in TASKS:
        raise ValueError(f"Family {name!r}: unknown task {task!r}; allowed: {', '.join(TASKS)}.")


def _is_built_in(ep):
    return _distribution_of(ep)[0] == BUILT_IN


def _distribution_of(ep):
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "<unknown>", ""
    return dist.metadata["Name"], dist.version


@lru_cache(maxsize=None)
def _discover(group):
    """Load every entry point of ``group``: ``({name: PluginInfo}, {name: PluginInfo})``.

    The first dict holds the families that loaded, the second the broken plugins.
    """
    expected = ModelFamily if group == MODEL_GROUP else DatasetFamily
    loaded, broken = {}, {}
    # The same distribution can be visible twice on sys.path (an editable install plus a
    # build tree); only distinct distributions registering one name are a conflict.
    seen = set()
    # skhyper's own families first: a plugin cannot take over a built-in name.
    for ep in sorted(entry_points(group=group), key=lambda ep: not _is_built_in(ep)):
        dist_name, version = _distribution_of(ep)
        if (ep.name, ep.value, dist_name) in seen:
            continue
        seen.add((ep.name, ep.value, dist_name))
        info = dict(name=ep.name, group=group, value=ep.value, distribution=dist_name,
                    version=version)
        if ep.name in loaded and loaded[ep.name].distribution == BUILT_IN:
            warn(
                f"skhyper: {dist_name!r} registers the {group} name {ep.name!r}, which is "
                "built in; its registration is ignored (rename its entry point).",
                RuntimeWarning)
            continue
        if ep.name in loaded or ep.name in broken:
            # Neither registration wins: the name is unusable until one is removed, while the
            # other families keep working.
            other = (loaded.pop(ep.name, None) or broken[ep.name]).distribution
            reason = (f"two distributions register the {group} name {ep.name!r}: {other!r} and "
                      f"{dist_name!r}; uninstall one of them or rename its entry point")
            warn(f"skhyper: {reason}.", RuntimeWarning)
            broken[ep.name] = PluginInfo(**{**info, "distribution": f"{other}, {dist_name}"},
                                         error=reason)
            continue
        try:
            family = ep.load()
            if not isinstance(family, expected):
                raise TypeError(
                    f"entry point {ep.value!r} is a {type(family).__name__}, "
                    f"not a {expected.__name__}"
                )
        except (Exception, SystemExit) as exc:  # a broken plugin must not break the others
            reason = f"{type(exc).__name__}: {exc}"
            warn(
                f"skhyper plugin {ep.name!r} from {dist_name!r} ({group}) failed to load "
                f"and is skipped: {reason}", RuntimeWarning)
            broken[ep.name] = PluginInfo(**info, error=reason)
            continue
        loaded[ep.name] = PluginInfo(**info, family=family)
    return loaded, broken


def reload_plugins():
    """Forget discovered families so that newly installed plugins are found."""
    _discover.cache_clear()


def _lookup(group, name):
    loaded, broken = _discover(group)
    if name in loaded:
        return loaded[name].family
    kind = "model" if group == MODEL_GROUP else "dataset"
    if name in broken:
        raise RegistryError(
            f"The {kind} family {name!r} cannot be used: {broken[name].error}."
        )
    known = sorted(loaded)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise RegistryError(
        f"Unknown {kind} family {name!r}.{hint} Known {kind} families: {', '.join(known)}."
    )


def list_models():
    """Names of the registered model families (built-in and plugins), sorted."""
    return sorted(_discover(MODEL_GROUP)[0])


def list_datasets():
    """Names of the registered dataset families (built-in and plugins), sorted."""
    return sorted(_discover(DATASET_GROUP)[0])


def get_model(name):
    """Return the :class:`ModelFamily` registered as ``name``."""
    return _lookup(MODEL_GROUP, name)


def get_dataset(name):
    """Return the :class:`DatasetFamily` registered as ``name``."""
    return _lookup(DATASET_GROUP, name)


def make_estimator(name, **params):
    """Return an unfitted estimator of the model family ``name`` with ``params`` set."""
    return get_model(name).make_estimator(**params)


def load_dataset(name, **params):
    """Load the dataset family ``name``; returns a :class:`sklearn.utils.Bunch`."""
    return get_dataset(name).load(**params)


def plugin_infos():
    """Every registered family, loaded or broken, as :class:`PluginInfo` rows."""
    rows = []
    for group in (MODEL_GROUP, DATASET_GROUP):
        loaded, broken = _discover(group)
        rows.extend(sorted({**loaded, **broken}.values(), key=lambda info: info.name))
    return rows


def broken_plugins():
    """The plugins that failed to load, as :class:`PluginInfo` rows with ``error`` set."""
    return [info for info in plugin_infos() if info.error is not None]
