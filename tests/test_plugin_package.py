"""The skhyper-gru plugin package (plugins/skhyper-gru), and how the registry treats plugins.

``make`` installs every plugins/*/ package after skhyper; by hand:
``.venv/bin/python -m pip install --no-deps -e plugins/skhyper-gru``.
"""

import pickle
import sys
from importlib import metadata

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from skopt import BayesSearchCV

import skhyper
from skhyper.registry import RegistryError, broken_plugins, plugin_infos, reload_plugins

PLUGIN = "skhyper-gru"
FAST = dict(max_epochs=1, random_state=0)


@pytest.fixture(scope="module")
def plugin_dist():
    try:
        return metadata.distribution(PLUGIN)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{PLUGIN} is not installed: run `make test`, or "
                    f"`python -m pip install --no-deps -e plugins/{PLUGIN}`.")


@pytest.fixture(scope="module")
def tiny_ar():
    return skhyper.load_dataset("ar-process", n_steps=240, seq_len=10, stride=2)


# --- discovery --------------------------------------------------------------------------------


def test_plugin_distribution_declares_its_entry_points_and_skhyper_range(plugin_dist):
    registered = {(ep.group, ep.name, ep.value) for ep in plugin_dist.entry_points}
    assert ("skhyper.models", "gru", "skhyper_gru.model:family") in registered
    assert ("skhyper.datasets", "ar-process", "skhyper_gru.data:family") in registered
    assert any(req.replace(" ", "").startswith("skhyper<1,>=0.1") or
               req.replace(" ", "").startswith("skhyper>=0.1,<1")
               for req in plugin_dist.requires)


def test_plugin_families_are_discovered_like_built_ins(plugin_dist):
    from skhyper_gru import GRURegressor, __version__

    assert "gru" in skhyper.list_models() and "lstm" in skhyper.list_models()
    assert "ar-process" in skhyper.list_datasets()
    family = skhyper.get_model("gru")
    assert family.estimator is GRURegressor and family.task == "regression"
    assert isinstance(skhyper.make_estimator("gru", hidden_size=4), GRURegressor)
    rows = {(info.group, info.name): info for info in plugin_infos()}
    for key in (("skhyper.models", "gru"), ("skhyper.datasets", "ar-process")):
        assert rows[key].distribution == PLUGIN
        assert rows[key].version == plugin_dist.version == __version__
    assert rows[("skhyper.models", "lstm")].distribution == "skhyper"
    assert not broken_plugins()


# --- searchable with its default spaces ---------------------------------------------------------


def _search(kind, estimator, space):
    cv = KFold(2)
    if kind == "grid":
        return GridSearchCV(estimator, space, cv=cv, error_score="raise")
    if kind == "random":
        return RandomizedSearchCV(estimator, space, n_iter=3, cv=cv, random_state=0,
                                  error_score="raise")
    return BayesSearchCV(estimator, space, n_iter=3, cv=cv, random_state=0, error_score="raise")


@pytest.mark.parametrize("kind", ["grid", "random", "bayes"])
def test_plugin_model_is_searchable_with_its_default_spaces(kind, tiny_ar, plugin_dist):
    space = skhyper.get_model("gru").search_space(kind)
    search = _search(kind, skhyper.make_estimator("gru", **FAST), space)
    search.fit(tiny_ar.X, tiny_ar.y)
    results = search.cv_results_
    assert np.isfinite(results["mean_test_score"]).all()
    assert set(search.best_params_) == set(space)
    n_candidates = 8 if kind == "grid" else 3  # the grid: 2 sizes x 2 depths x 2 rates
    assert len(results["params"]) == n_candidates
    best = search.best_estimator_
    assert best.predict(tiny_ar.X_test).shape == tiny_ar.y_test.shape
    # Survives pickling (as a worker process needs) and clone (as a search needs).
    restored = pickle.loads(pickle.dumps(best))
    np.testing.assert_allclose(restored.predict(tiny_ar.X_test), best.predict(tiny_ar.X_test))
    assert clone(best).get_params()["hidden_size"] == best.hidden_size


# --- the registry with broken and clashing plugins -----------------------------------------------


@pytest.fixture
def install_fake(tmp_path, monkeypatch):
    """Put a fake installed distribution (``<name>.dist-info``) on sys.path, as pip would."""
    added_modules = []

    def install(name, entry_points, modules=None):
        info = tmp_path / f"{name.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(entry_points)
        for module, source in (modules or {}).items():
            (tmp_path / f"{module}.py").write_text(source)
            added_modules.append(module)
        monkeypatch.syspath_prepend(str(tmp_path))
        reload_plugins()

    yield install
    for module in added_modules:
        sys.modules.pop(module, None)
    reload_plugins()  # the next discovery runs after monkeypatch restores sys.path


def test_broken_plugin_warns_with_its_name_and_error_and_others_work(install_fake):
    install_fake(
        "fake-broken-plugin",
        "[skhyper.models]\nbroken-net = fake_broken_net:family\n",
        {"fake_broken_net": "raise ImportError('needs libfake>=2, found 1.3')\n"},
    )
    with pytest.warns(RuntimeWarning, match=r"'broken-net' from 'fake-broken-plugin'.*"
                                            r"ImportError: needs libfake>=2, found 1.3"):
        models = skhyper.list_models()
    assert "broken-net" not in models and "lstm" in models
    assert skhyper.make_estimator("lstm", hidden_size=4).hidden_size == 4
    [broken] = broken_plugins()
    assert broken.name == "broken-net" and broken.distribution == "fake-broken-plugin"
    with pytest.raises(RegistryError, match=r"'broken-net' cannot be used: "
                                            r"ImportError: needs libfake"):
        skhyper.get_model("broken-net")


def test_plugin_that_exits_on_import_is_a_broken_plugin(install_fake):
    install_fake(
        "fake-exiting-plugin",
        "[skhyper.datasets]\nexits = fake_exiting:family\n",
        {"fake_exiting": "raise SystemExit('calls sys.exit at import')\n"},
    )
    with pytest.warns(RuntimeWarning, match=r"'exits'.*SystemExit: calls sys.exit at import"):
        assert "exits" not in skhyper.list_datasets()
    assert "digits" in skhyper.list_datasets()


def test_entry_point_naming_a_wrong_object_is_a_broken_plugin(install_fake):
    install_fake(
        "fake-wrong-object",
        "[skhyper.datasets]\nnot-a-family = fake_wrong_object:family\n",
        {"fake_wrong_object": "family = {'name': 'not-a-family'}\n"},
    )
    with pytest.warns(RuntimeWarning, match=r"'not-a-family'.*is a dict, not a DatasetFamily"):
        assert "not-a-family" not in skhyper.list_datasets()
    assert "digits" in skhyper.list_datasets()


def test_plugin_cannot_take_a_built_in_name(install_fake):
    install_fake("fake-lstm-clone", "[skhyper.models]\nlstm = fake_lstm_clone:family\n",
                 {"fake_lstm_clone": "raise AssertionError('never imported')\n"})
    with pytest.warns(RuntimeWarning, match=r"'fake-lstm-clone' registers the skhyper.models "
                                            r"name 'lstm', which is built in; .* ignored"):
        models = skhyper.list_models()
    assert "lstm" in models and not broken_plugins()
    assert skhyper.make_estimator("lstm", hidden_size=4).hidden_size == 4


def test_two_plugins_with_one_name_make_it_unusable(install_fake):
    for dist in ("fake-net-a", "fake-net-b"):
        install_fake(dist, "[skhyper.models]\nacme-net = skhyper.models.lstm:family\n")
    both = r"(?=.*'fake-net-a')(?=.*'fake-net-b')"
    with pytest.warns(RuntimeWarning, match=both + r".*name 'acme-net'"):
        models = skhyper.list_models()
    # The clashing name is unusable, with both distributions named; the others still work.
    assert "acme-net" not in models and "lstm" in models
    with pytest.raises(RegistryError, match=both + r".*name 'acme-net'"):
        skhyper.get_model("acme-net")
    assert [info.name for info in broken_plugins()] == ["acme-net"]


def test_registry_recovers_once_the_fake_distribution_is_gone():
    # Runs after the tests above: their teardown reloads, so nothing fake is left behind.
    assert "lstm" in skhyper.list_models()
    assert not broken_plugins()


def test_command_checks_the_plugins_own_values_before_training(plugin_dist, tmp_path, capsys):
    from skhyper.cli import main

    space = tmp_path / "space.yaml"
    space.write_text("hidden_size: [4, 0]\n")
    status = main(["search", "--model", "gru", "--data", "ar-process", "--strategy", "grid",
                   "--space", str(space), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "Invalid hidden_size=0: must be >= 1." in err
    with pytest.raises(ValueError, match="Invalid lr=0"):  # the base's checks run too
        skhyper.make_estimator("gru", lr=0).check_params()
