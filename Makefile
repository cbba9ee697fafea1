# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv with `python3 -m venv` and installs what it needs; a stamp file keyed on
# pyproject.toml keeps them quick once set up.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
HYPOTHESIS_PROFILE ?= fast

.DEFAULT_GOAL := help
.PHONY: help demo test test-thorough lint typecheck pytest bench format clean

help:
	@echo "make demo           build a synthetic portfolio in an embedded SQLite trail and report on it"
	@echo "make test           lint, format check, mypy --strict, and every test (fast Hypothesis profile)"
	@echo "make test-thorough  the same with the thorough Hypothesis profile"
	@echo "make bench          run the benchmarks under benchmarks/"
	@echo "make format         apply ruff's formatter and safe fixes"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Runtime dependencies only: what a user of the library gets.
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# Everything the checks need (a superset of the runtime install).
$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.stamp-run

demo: $(VENV)/.stamp-run
	$(BIN)/servicedelivery demo

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy src

pytest: $(VENV)/.stamp-dev
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

test-thorough:
	$(MAKE) test HYPOTHESIS_PROFILE=thorough

bench: $(VENV)/.stamp-dev
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .hypothesis
