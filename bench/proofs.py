"""Proof benchmark: court-bundle export, offline verification and certificate PDFs (with the unit's state proof).

Starts its own Anvil on a free port; registers a TJIFA data asset through the workflow, anchors a digest and a
100,000-digest batch, signs checkpoints, then times each step over repeated runs and prints a table with the
machine's load average. Baseline (same run): verifying the plain single-anchor bundle; every other figure is
also shown as a ratio to it.
Run: ``.venv/bin/python bench/proofs.py [--repeat 30]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.hashing import HashAlgorithm, canonical_json
from ledger.pdf import embedded, render_pdf, verify_pdf
from ledger.profiles import ObjectType
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict, verify_bundle
from ledger.services.documents import certificate_pdf
from ledger.services.proofs import export_evidence_bundle, trust_list
from ledger.workflow import Workflow
from tests.conftest import start_chain
from tests.content import content


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    _, node, ledger = start_chain(Path(tempfile.mkdtemp(prefix="ledger-bench-")))
    try:
        today = [date(2026, 11, 20)]
        workflow = Workflow(ledger.engine, ledger.assets, ledger.accounts, ledger.deployment.deployment_id,
                            ledger.sender, registry_name="天津数据资产登记平台", clock=lambda: today[0])
        app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                             object_type=ObjectType.DATA_ASSET, document=os.urandom(32),
                             payload={"content": content()})
        for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
            step(app.id, "registrar")
        today[0] += timedelta(days=20)
        number = workflow.register(app.id, "registrar").registration_number
        assert number is not None
        single = os.urandom(32)
        ledger.evidence.anchor(ledger.sender("provider"), single, HashAlgorithm.SHA256)
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(100_000)]
        ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
        for _ in range(5):  # the checkpoint lands a few blocks after the anchors
            ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        trust = TrustRoots.of_list(trust_list(ledger))
        pdf = certificate_pdf(ledger, number, ledger.settings.public_url)
        document, bundle_cert = embedded(pdf)
        assert bundle_cert is not None
        bundle_single = export_evidence_bundle(ledger, single, HashAlgorithm.SHA256)
        bundle_batch = export_evidence_bundle(ledger, entries[77_777][1], HashAlgorithm.SHA256)
        for bundle in (bundle_single, bundle_batch, bundle_cert):
            assert verdict(verify_bundle(bundle, trust=trust)) is Verdict.VERIFIED, "must verify to be timed"
        assert verdict(verify_pdf(pdf, trust)) is Verdict.VERIFIED
        rows = [
            ("verify bundle offline, single anchor (baseline)",
             *timed(lambda: verify_bundle(bundle_single, trust=trust), args.repeat)),
            ("verify bundle offline, batched (17-step Merkle path)",
             *timed(lambda: verify_bundle(bundle_batch, trust=trust), args.repeat)),
            ("verify certificate bundle offline (+ state proof)",
             *timed(lambda: verify_bundle(bundle_cert, trust=trust), args.repeat)),
            ("export bundle, single anchor",
             *timed(lambda: export_evidence_bundle(ledger, single, HashAlgorithm.SHA256), args.repeat)),
            ("export bundle, leaf of a 100,000-digest batch",
             *timed(lambda: export_evidence_bundle(ledger, entries[77_777][1], HashAlgorithm.SHA256), args.repeat)),
            ("render certificate PDF (CJK font, QR, attachments)",
             *timed(lambda: render_pdf(document, bundle_cert), args.repeat)),
            ("verify certificate PDF offline (incl. re-render)",
             *timed(lambda: verify_pdf(pdf, trust), args.repeat)),
        ]
        baseline = rows[0][1]
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"\nload average (1, 5, 15 min): {load}; {args.repeat} runs each")
        print(f"{'operation':<56} {'median ms':>10} {'max ms':>8} {'x baseline':>11}")
        for label, median, worst in rows:
            print(f"{label:<56} {median:>10.2f} {worst:>8.1f} {median / baseline:>11.2f}")
        plain = {k: v for k, v in bundle_cert.items() if k != "registry_state"}
        print(f"\nbundle sizes: single anchor {len(canonical_json(bundle_single)):,} B, batched "
              f"{len(canonical_json(bundle_batch)):,} B, certificate {len(canonical_json(bundle_cert)):,} B "
              f"({len(canonical_json(plain)):,} B without its state proof); certificate PDF {len(pdf):,} B")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
