#!/usr/bin/env bash
# Runs the whole suite: lint, types, Hardhat compile parity and pytest (real Anvil, SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check ledger api tests bench scripts
.venv/bin/mypy ledger api
exec .venv/bin/python -m pytest "$@"
