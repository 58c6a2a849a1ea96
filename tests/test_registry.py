"""Looking families up by name; plugin discovery is tested in test_plugin_package.py."""

import pytest
from sklearn.utils import Bunch

import skhyper
from skhyper.registry import DatasetFamily, ModelFamily, RegistryError, plugin_infos


def test_built_ins_come_from_skhyper_entry_points():
    assert "lstm" in skhyper.list_models() and "sine-mixture" in skhyper.list_datasets()
    sources = {info.name: info.distribution for info in plugin_infos()}
    assert sources["lstm"] == sources["sine-mixture"] == "skhyper"


def test_make_estimator_and_load_dataset():
    net = skhyper.make_estimator("lstm", hidden_size=7)
    assert net.hidden_size == 7 and net.get_params()["hidden_size"] == 7
    data = skhyper.load_dataset("sine-mixture", duration=0.2, seq_len=10, stride=10)
    assert isinstance(data, Bunch) and {"X", "y", "task", "description"} <= set(data)


def test_unknown_names_list_known_ones_with_a_suggestion():
    with pytest.raises(RegistryError, match=r"Unknown model family 'lstn'\. Did you mean 'lstm'\? "
                                            r"Known model families: .*lstm"):
        skhyper.get_model("lstn")
    with pytest.raises(RegistryError, match=r"Unknown dataset family 'sine'.*sine-mixture"):
        skhyper.load_dataset("sine")


def test_family_validation():
    with pytest.raises(ValueError, match=r"unknown task 'regresion'; allowed: regression"):
        ModelFamily("m", object, "regresion")
    with pytest.raises(ValueError, match=r"unknown search-space kind\(s\) \['optuna'\]"):
        ModelFamily("m", object, "regression", search_spaces={"optuna": {}})
    family = ModelFamily("m", dict, "regression", search_spaces={"grid": {"a": [1]}})
    with pytest.raises(KeyError, match="declares no 'bayes' search space; it declares: grid"):
        family.search_space("bayes")
    with pytest.raises(ValueError, match=r"scorers must map names to callables scorer\(estimator"
                                         r", X, y\); \['size'\] do not"):
        ModelFamily("m", dict, "regression", scorers={"ok": len, "size": "n_parameters"})
    with pytest.raises(ValueError, match=r"scorers must be a dict of name -> scorer\(estimator, "
                                         r"X, y\) or None; got \['acc'\]"):
        ModelFamily("m", dict, "regression", scorers=["acc"])
    assert DatasetFamily("d", lambda **kw: Bunch(**kw), "unsupervised").load(X=1).X == 1
