# Every target builds .venv from nothing on a machine that has only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= sqlite:///demo.db

.PHONY: help install demo test lint format bench bench-quick clean

help:
	@echo "make demo   - set up .venv, load the example books, run every operation, write ledgers/example/"
	@echo "make test   - set up .venv, lint (ruff, mypy) and run the whole test suite"
	@echo "make bench  - run the benchmarks under bench/ (not part of make test)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/python -m subledger.demo --out ledgers/example

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) demo.db build *.egg-info
