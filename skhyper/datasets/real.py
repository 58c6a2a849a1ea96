"""The ``digits`` and ``diabetes`` datasets: scikit-learn's bundled real data (no download).

Both keep a seeded, held-out test part (``test_size=0.25``, ``random_state=0`` by default) so a
search tunes on ``X, y`` and the chosen model is judged once on ``X_test, y_test``.
"""

from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ..validation import check_choice, check_number, is_fraction
from ..registry import DatasetFamily

DIGITS_PIXEL_MAX = 16.0  # pixel intensities in sklearn's digits run from 0 to 16


def _split(X, y, test_size, random_state, stratify):
    """Train/test parts as a dict; no test keys when ``test_size`` is None."""
    if test_size is None:
        return dict(X=X, y=y)
    if is_fraction(test_size):
        check_number("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
        test_size = float(test_size)  # train_test_split refuses numpy's float32
    else:
        check_number("test_size", test_size, low=1, high=len(X) - 1, integer=True)
    check_number("random_state", random_state, low=0, integer=True)
    X, X_test, y, y_test = train_test_split(X, y, test_size=test_size, random_state=random_state,
                                            stratify=y if stratify else None)
    return dict(X=X, y=y, X_test=X_test, y_test=y_test)


def load_digits_dataset(as_sequences=False, n_class=10, scaled=True, test_size=0.25,
                        random_state=0):
    """Handwritten digits (8 x 8 images, 1797 samples): classification.

    Parameters
    ----------
    as_sequences : bool, default=False
        False gives flat rows of 64 pixels, shape (n, 64). True gives each image as a sequence of
        its 8 pixel rows, shape (n, 8, 8) (steps, features), for the sequence models.
    n_class : int, default=10
        Keep the digits ``0 .. n_class - 1`` (2 to 10).
    scaled : bool, default=True
        Divide the pixel intensities (0 to 16) by 16, so inputs lie in [0, 1] as nets prefer.
    test_size : float, int or None, default=0.25
        Fraction (or number) of samples held out as ``X_test, y_test``, stratified by class;
        None holds out nothing.
    random_state : int, default=0
        Seeds the train/test split.

    Returns
    -------
    Bunch
        ``X`` float32, ``y`` int64 labels, ``X_test``, ``y_test`` (unless ``test_size`` is None),
        ``task`` ("classification"), ``description``, ``feature_names``, ``target_names``.
    """
    check_number("n_class", n_class, low=2, high=10, integer=True)
    for name, value in (("as_sequences", as_sequences), ("scaled", scaled)):
        check_choice(name, value, (True, False))
    raw = load_digits(n_class=n_class)
    X = raw.data.astype("float32")
    if scaled:
        X /= DIGITS_PIXEL_MAX
    if as_sequences:
        X = X.reshape(len(X), 8, 8)
        feature_names = [f"col_{c}" for c in range(8)]
    else:
        feature_names = list(raw.feature_names)
    parts = _split(X, raw.target.astype("int64"), test_size, random_state, stratify=True)
    shape = "sequences of 8 pixel rows x 8 columns" if as_sequences else "rows of 64 pixels"
    held_out = "" if test_size is None else \
        f"; {len(parts['X_test'])} held out (test_size={test_size}, random_state={random_state})"
    return Bunch(
        **parts, task="classification", feature_names=feature_names,
        target_names=raw.target_names,
        description=(
            f"scikit-learn handwritten digits 0-{n_class - 1} as {shape}"
            f"{', scaled to [0, 1]' if scaled else ''}; {len(parts['X'])} training samples"
            f"{held_out}."
        ),
    )


def load_diabetes_dataset(scaled=True, test_size=0.25, random_state=0):
    """Diabetes progression (442 patients, 10 features): tabular regression.

    The target (disease progression one year later, about 25 to 346) is not scaled: wrap the
    estimator in :class:`sklearn.compose.TransformedTargetRegressor` to train nets on a
    standardized target.

    Parameters
    ----------
    scaled : bool, default=True
        Use scikit-learn's mean-centred, scaled features (True) or the raw values.
    test_size : float, int or None, default=0.25
        Fraction (or number) of samples held out as ``X_test, y_test``; None holds out nothing.
    random_state : int, default=0
        Seeds the train/test split.

    Returns
    -------
    Bunch
        ``X`` float32 (n, 10), ``y`` float32, ``X_test``, ``y_test`` (unless ``test_size`` is
        None), ``task`` ("regression"), ``description``, ``feature_names``.
    """
    raw = load_diabetes(scaled=scaled)
    parts = _split(raw.data.astype("float32"), raw.target.astype("float32"), test_size,
                   random_state, stratify=False)
    held_out = "" if test_size is None else \
        f"; {len(parts['X_test'])} held out (test_size={test_size}, random_state={random_state})"
    return Bunch(
        **parts, task="regression", feature_names=list(raw.feature_names),
        description=(
            f"scikit-learn diabetes progression, 10 {'scaled' if scaled else 'raw'} features; "
            f"{len(parts['X'])} training samples{held_out}."
        ),
    )


digits = DatasetFamily(
    name="digits",
    loader=load_digits_dataset,
    task="classification",
    description="scikit-learn handwritten digits, flat or as 8-step sequences (no download)",
)

diabetes = DatasetFamily(
    name="diabetes",
    loader=load_diabetes_dataset,
    task="regression",
    description="scikit-learn diabetes progression, 10 tabular features (no download)",
)
