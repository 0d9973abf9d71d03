"""The offline verifier imports only what verification needs (issue #7, REDESIGN-SKETCH step 1): no web3, no
SQL, no workflow, no deployment or wiring code — so it runs anywhere and its trusted base stays small."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("web3", "sqlalchemy", "sqlmodel", "eth_account", "fastapi", "requests", "ledger.context",
             "ledger.workflow", "ledger.deployment", "ledger.evidence", "ledger.chain", "ledger.proofs.bundle",
             "ledger.proofs.timestamping", "ledger.devtsa", "ledger.config", "ledger.services")


def test_the_verifier_and_pdf_check_import_nothing_else() -> None:
    """Also the report (issue #13): it runs the verifier offline and hashes exactly these modules; and the
    recognition-package check (issue #13 §4), which a second platform runs offline; and the dispute package's check
    (issue #11 §5), which a court runs offline."""
    script = ("import json, sys; import ledger.proofs.verify, ledger.pdf, ledger.proofs.trust, ledger.proofs.report, "
              "ledger.proofs.recognition, ledger.proofs.dispute; print(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                       check=True).stdout)
    leaked = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert leaked == []
