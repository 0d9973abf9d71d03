"""Alembic migrations of the ledger's database (issue #10 §5); applied by ``ledger.db.init_db``."""
