"""Every example runs in --quick mode."""

import runpy
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, *args, monkeypatch):
    monkeypatch.setattr(sys, "argv", [name, "--quick", *args])
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def test_lstm_signal_grid_search(monkeypatch, capsys):
    run_example("lstm_signal_grid_search.py", monkeypatch=monkeypatch)
    out = capsys.readouterr().out
    assert "best parameters: {'hidden_size'" in out and "best CV score (neg MSE): -" in out
