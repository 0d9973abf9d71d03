"""The service layer: one typed function per use case, shared by the CLI, the API and the web pages.

Shells (``ledger/cli*.py``, ``api/``) parse input, authorize, call a service and render its result; they hold
no rule of their own (docs/ARCHITECTURE.md).
"""
