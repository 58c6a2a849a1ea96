# make demo / make test / make bench: each creates .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install when the package metadata or a plugin's changes.
STAMP := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml $(PLUGINS)
	# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	for p in $(dir $(PLUGINS)); do $(BIN)/python -m pip install --quiet -e "$$p" || exit 1; done
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/lstm_signal_grid_search.py

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_search.py
	$(BIN)/python benchmarks/bench_parallel.py
	$(BIN)/python benchmarks/bench_epoch.py
	$(BIN)/python benchmarks/bench_pickle.py
