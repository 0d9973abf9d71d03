"""Data-asset registration, evidence and rights-confirmation ledger (数据资产登记、存证、确权)."""

__version__ = "0.1.0"
