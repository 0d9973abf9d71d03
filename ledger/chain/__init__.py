"""Chain access: local node management, JSON-RPC client, transaction signing and sending."""
