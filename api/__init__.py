"""HTTP API and web pages of the ledger (FastAPI)."""
