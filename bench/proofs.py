"""Proof benchmark: court-bundle export, offline verification (target <= 50 ms) and PDF rendering.

Starts its own Anvil on a free port; anchors a digest and a batch, signs a checkpoint a few blocks later,
then times each step over repeated runs and prints a table.
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
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.documents import certificate, document_hash
from ledger.hashing import HashAlgorithm, canonical_json
from ledger.pdf import render_pdf, verify_pdf
from ledger.profiles import ObjectType, load_profiles
from ledger.proofs.bundle import export_bundle, verify_bundle
from ledger.proofs.checkpoints import CheckpointStore
from tests.conftest import start_chain


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
        doc = certificate(registration_number="TJ-2026-000001-J", version=1, profile=load_profiles()["TJIFA"],
                          holder_name="天津港数据科技有限公司", holder_address=ledger.accounts.get("holder-a").address,
                          holder_id=None, asset={"name": "港口集装箱物流数据集", "form": "dataset"},
                          object_type=ObjectType.DATA_ASSET, rights=7, issued_on=date(2026, 11, 22),
                          valid_until=date(2029, 11, 21), registry_name="天津数据资产登记平台")
        single = document_hash(doc)  # the certificate itself is the anchored evidence (TJIFA §8.2.3)
        ledger.evidence.anchor(ledger.sender("provider"), single, HashAlgorithm.SHA256)
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(100_000)]
        ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
        for _ in range(5):  # the checkpoint lands a few blocks after the anchors
            ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        store = CheckpointStore(ledger.engine, ledger.client, ledger.deployment.deployment_id)
        trusted = [store.sign_latest(ledger.accounts.get(n).signer).signer for n in ("notary", "arbitration")]
        bundle_single = export_bundle(ledger, single, HashAlgorithm.SHA256)
        bundle_batch = export_bundle(ledger, entries[77_777][1], HashAlgorithm.SHA256)
        for bundle in (bundle_single, bundle_batch):
            assert all(c.ok for c in verify_bundle(bundle, trusted=trusted, threshold=2))
        pdf = render_pdf(doc, bundle_single)
        failed = [c for c in verify_pdf(pdf, trusted, 2) if not c.ok]
        assert not failed, f"the PDF must verify for its timing to mean anything: {failed}"
        rows = [
            ("export bundle, single anchor", *timed(lambda: export_bundle(ledger, single, HashAlgorithm.SHA256),
                                                    args.repeat)),
            ("export bundle, leaf of a 100,000-digest batch",
             *timed(lambda: export_bundle(ledger, entries[77_777][1], HashAlgorithm.SHA256), args.repeat)),
            ("verify bundle offline, single anchor",
             *timed(lambda: verify_bundle(bundle_single, trusted=trusted, threshold=2), args.repeat)),
            ("verify bundle offline, batched (17-step Merkle path)",
             *timed(lambda: verify_bundle(bundle_batch, trusted=trusted, threshold=2), args.repeat)),
            ("render certificate PDF (CJK font, QR, attachments)", *timed(lambda: render_pdf(doc, bundle_single),
                                                                          args.repeat)),
            ("verify certificate PDF offline (incl. re-render)",
             *timed(lambda: verify_pdf(pdf, trusted, 2), args.repeat)),
        ]
        print(f"\n{'operation':<56} {'median ms':>10} {'max ms':>8}")
        for label, median, worst in rows:
            print(f"{label:<56} {median:>10.1f} {worst:>8.1f}")
        verify_ms = rows[2][1]
        print(f"\noffline bundle verification: {verify_ms:.1f} ms median (target <= 50 ms: "
              f"{'met' if max(rows[2][1], rows[3][1]) <= 50 else 'NOT met'}); "
              f"bundle size {len(canonical_json(bundle_single)):,} bytes, PDF {len(pdf):,} bytes "
              f"({len(bundle_single['headers'])} header(s) in the chain to the checkpoint)")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
