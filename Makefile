# Two commands do all set-up on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test lint bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Local chain (persistent) + contracts deployed + API on http://127.0.0.1:8000
run: setup
	bash scripts/run.sh

## The whole test suite
test: setup
	bash scripts/test.sh

lint: setup
	$(BIN)/ruff check ledger api tests bench scripts
	$(BIN)/mypy ledger api

bench: setup
	$(BIN)/python bench/evidence.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
