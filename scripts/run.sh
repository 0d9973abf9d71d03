#!/usr/bin/env bash
# Starts the persistent local chain, deploys the contracts (idempotent) and serves the API.
set -euo pipefail
cd "$(dirname "$0")/.."
LEDGER=.venv/bin/ledger
export LEDGER_HOME="${LEDGER_HOME:-$PWD/.ledger}"
API_PORT="${LEDGER_API_PORT:-8000}"

$LEDGER chain up
$LEDGER tsa up      # RFC 3161 time stamps: openssl ts with a test CA in $LEDGER_HOME/tsa (0700)
$LEDGER deploy
token_file="$LEDGER_HOME/demo-provider.token"
if [ ! -s "$token_file" ]; then
  $LEDGER token create --account provider --label demo --out "$token_file"   # mode 0600
fi
token=$(cat "$token_file")
cat <<MSG

Ledger API on http://127.0.0.1:${API_PORT}  (OpenAPI: /docs, verification page: /)
Try:  .venv/bin/ledger evidence anchor README.md && curl -s -F file=@README.md http://127.0.0.1:${API_PORT}/evidence/verify
Anchor over HTTP with the demo provider token (in $token_file):
      curl -s -H "Authorization: Bearer ${token}" -F file=@Makefile http://127.0.0.1:${API_PORT}/evidence/anchors/file
The chain and the development TSA keep running after you stop the API; stop them with:
      .venv/bin/ledger chain down && .venv/bin/ledger tsa down
Trusted time is verified against the TSA's root: --tsa-root $LEDGER_HOME/tsa/root.pem

MSG
exec $LEDGER serve --host 127.0.0.1 --port "$API_PORT"
