"""Court-verifiable proofs: bundles that prove an anchor offline, and the standalone verifier (issue #4)."""
