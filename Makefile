# Two commands do all set-up on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system run test lint bench clean

# Debian packages: a CJK TrueType font embedded in PDFs; pdftotext/pdftoppm and zbarimg for the PDF tests;
# openssl for the development RFC 3161 time-stamping authority (`openssl ts`); chromium for the browser tests
# (Playwright drives Debian's Chromium: no browser download).
DEBIAN_PACKAGES := fonts-wqy-microhei poppler-utils zbar-tools openssl chromium
# The web pages' script, bundled from web/ and pinned npm packages (served from api/static/build/, git-ignored).
WEB_ASSETS := api/static/build/app.js

setup: system $(VENV)/.installed node_modules/.installed $(WEB_ASSETS)

system:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_ASSETS): node_modules/.installed $(wildcard web/*.js)
	npm run --silent build:web

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
	rm -rf build api/static/build .pytest_cache .mypy_cache .ruff_cache
