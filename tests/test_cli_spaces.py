"""The YAML search-space format and its conversions."""

import pytest
from scipy.stats import randint
from sklearn.model_selection import ParameterGrid, ParameterSampler
from skopt.space import Categorical, Integer, Real

from skhyper.spaces import SpaceError, load_space, parse_space, to_distributions, to_grid, to_skopt


def write(tmp_path, text):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


def test_lists_scalars_and_ranges_parse(tmp_path):
    space = load_space(write(tmp_path, """
hidden_size: [16, 32]
num_layers: {int: [1, 3]}
dropout: {uniform: [0.0, 0.3]}
lr: {log-uniform: [1.0e-4, 1.0e-2]}
optimizer: {choice: [adam, sgd]}
batch_size: 32
"""))
    assert {n: (d.kind, d.values) for n, d in space.items()} == {
        "hidden_size": ("choice", (16, 32)), "num_layers": ("int", (1, 3)),
        "dropout": ("uniform", (0.0, 0.3)), "lr": ("log-uniform", (1e-4, 1e-2)),
        "optimizer": ("choice", ("adam", "sgd")), "batch_size": ("choice", (32,)),
    }


def test_exponents_without_a_dot_are_numbers(tmp_path):
    # YAML 1.1 (PyYAML) reads 1e-3 as a string; people, JSON and YAML 1.2 read a number.
    space = load_space(write(tmp_path, "lr: {log-uniform: [1e-4, 1E-2]}\nwd: [0, 1e-5, -2e+1]\n"
                                       "tag: ['1e-3', 1e]\n"))
    assert space["lr"].values == (1e-4, 1e-2)
    assert space["wd"].values == (0, 1e-5, -20.0)
    assert space["tag"].values == ("1e-3", "1e")  # quoted, or not a number: strings


def test_grid_of_lists_and_fixed_values():
    grid = to_grid(parse_space({"hidden_size": [16, 32], "lr": [0.1, 0.2], "batch_size": 8}))
    assert len(ParameterGrid(grid)) == 4
    assert all(p["batch_size"] == 8 for p in ParameterGrid(grid))


def test_grid_refuses_ranges_naming_them():
    with pytest.raises(SpaceError, match="lr is a range"):
        to_grid(parse_space({"hidden_size": [16], "lr": {"log-uniform": [1e-4, 1e-2]}}))


def test_distributions_sample_inside_their_ranges():
    dists = to_distributions(parse_space({
        "n": {"int": [1, 3]}, "lr": {"log-uniform": [1e-4, 1e-2]},
        "p": {"uniform": [0.2, 0.4]}, "opt": ["adam", "sgd"]}))
    assert isinstance(dists["n"], type(randint(1, 4)))
    samples = list(ParameterSampler(dists, n_iter=200, random_state=0))
    assert {s["n"] for s in samples} == {1, 2, 3}  # the int range includes its high end
    assert all(1e-4 <= s["lr"] <= 1e-2 and 0.2 <= s["p"] <= 0.4 for s in samples)
    assert {s["opt"] for s in samples} == {"adam", "sgd"}


def test_skopt_dimensions():
    dims = to_skopt(parse_space({"n": {"int": [1, 3]}, "lr": {"log-uniform": [1e-4, 1e-2]},
                                 "opt": ["adam", "sgd"]}))
    assert isinstance(dims["n"], Integer) and (dims["n"].low, dims["n"].high) == (1, 3)
    assert isinstance(dims["lr"], Real) and dims["lr"].prior == "log-uniform"
    assert isinstance(dims["opt"], Categorical)


def test_skopt_refuses_none_as_a_choice():
    with pytest.raises(SpaceError, match="cannot use None as a choice of 'grad_clip'"):
        to_skopt(parse_space({"grad_clip": [1.0, None]}))


@pytest.mark.parametrize("text, message", [
    ("hidden_size: [16, 32\nlr: 3\n", r"Malformed YAML in .*line 2, column 3"),
    ("lr: {loguniform: [1, 2]}\n", r"Did you mean 'log-uniform'"),
    ("lr: {uniform: [2, 1]}\n", r"low 2 must be below high 1"),
    ("lr: {log-uniform: [0, 1]}\n", r"low 0 must be > 0"),
    ("n: {int: [1.5, 3]}\n", r"expected \[low, high\] integers"),
    ("n: {uniform: [1]}\n", r"expected \[low, high\] finite numbers"),
    ("lr: {uniform: [1.0e-4, .inf]}\n", r"expected \[low, high\] finite numbers, got "
                                      r"\[0.0001, inf\]"),
    ("- 1\n- 2\n", r"must be a non-empty mapping"),
    ("lr: [1]\nn: [2]\nlr: [3]\n", r"Duplicate key 'lr' at line 3, column 1 \(first at line 1"),
])
def test_bad_files_name_the_problem(tmp_path, text, message):
    with pytest.raises(SpaceError, match=message):
        load_space(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(SpaceError, match="Cannot read the search space"):
        load_space(tmp_path / "nope.yaml")


def test_values_are_checked_together_on_a_copy():
    # a head count valid for every hidden size of the space, but not for the default (128)
    import skhyper
    from skhyper.cli._inputs import check_param_values

    net = skhyper.make_estimator("cnn-lstm")
    check_param_values(net, {"lstm_hidden_size": [48, 96], "lstm_attention_heads": [3]},
                       "space.yaml")
    assert net.lstm_hidden_size == 128 and net.lstm_attention_heads == 0  # unchanged
