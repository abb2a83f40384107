# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[sklearn,ray]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]"
	# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set, every process would otherwise
	# compile every import (server workers would start in a minute, not seconds).
	# PyTorch through pip: the machine's local CPU wheel is found by pip, not by uv, and
	# anything else would pull the multi-GB CUDA build. Lightning rides on that torch.
	$(BIN)/python -m pip install --quiet torch==2.13.0 "lightning>=2.2"
	touch $@ $(VENV)/.installed-demo

demo: $(VENV)/.installed-demo
	$(BIN)/gnomon demo

test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m tests.layering
	# MLflow's own client (pinned, its own venv) for the compatibility tests; they skip
	# without it, and fail in CI (GNOMON_REQUIRE_SERVICES=1).
	$(BIN)/python -m bench.venvs || echo "no MLflow client venv: its tests will skip"
	# Helm's own binary for the chart's render tests; they skip without it.
	$(BIN)/python -m tests.helm_binary || echo "no helm: the chart's render tests will skip"
	# One file per worker at a time: module fixtures (servers, fuzz runs) are built once.
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m tests.layering
	# MLflow's own client (pinned, its own venv) for the compatibility tests; they skip
	# without it, and fail in CI (GNOMON_REQUIRE_SERVICES=1).
	$(BIN)/python -m bench.venvs || echo "no MLflow client venv: its tests will skip"
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
