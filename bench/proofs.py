"""Proof benchmark: court-bundle export, offline verification, certificate PDFs, state proofs (issue #13),
RFC 3161 trusted time and the verification report.

Starts its own Anvil on a free port and its own development TSA (OpenSSL's `openssl ts` behind HTTP); registers a
TJIFA data asset through the workflow and gives it a pledge and a licence (a rights page with two active
entries), anchors a digest and a 100,000-digest batch, signs checkpoints, then times each step over repeated
runs and prints a table with the 1-minute load average measured right after each row. Baseline (same run):
verifying the plain single-anchor bundle; every figure is also shown as a ratio to it.
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

from ledger.chain.node import free_port
from ledger.context import Ledger
from ledger.devtsa import LocalTsa
from ledger.hashing import HashAlgorithm, canonical_json
from ledger.numbering import unit_id
from ledger.pdf import embedded, render_pdf, verify_pdf
from ledger.profiles import ObjectType
from ledger.proofs.bundle import registry_state, write_bundle
from ledger.proofs.report import make_report, render_report
from ledger.proofs.timestamps import load_tsa_roots
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict, verify_bundle
from ledger.services.documents import certificate_bundle, certificate_pdf
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


def _size(bundle: dict[str, Any], *drop: str) -> int:
    return len(canonical_json({k: v for k, v in bundle.items() if k not in drop}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    settings, node, plain_ledger = start_chain(home)
    tsa = LocalTsa(home)
    try:
        tsa_info = tsa.start(free_port())
        ledger = Ledger(settings.model_copy(update={"tsa_url": tsa_info.url}))  # exports carry RFC 3161 tokens
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
        for kind, counterparty in (("pledge", "bank"), ("licence", "holder-b")):  # a rights page of two entries
            filing = workflow.apply(kind=kind, profile="TJIFA", holder="holder-a", counterparty=counterparty,
                                    actor="registrar", number=number, rights=1, document=os.urandom(32))
            for step in (workflow.accept, workflow.begin_review, workflow.approve):
                step(filing.id, "registrar")
            if workflow.needs_notice(workflow.get(filing.id)):
                workflow.start_notice(filing.id, "registrar")
                today[0] += timedelta(days=20)
            workflow.register(filing.id, "registrar")
        single = os.urandom(32)
        ledger.evidence.anchor(ledger.sender("provider"), single, HashAlgorithm.SHA256)
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(100_000)]
        ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
        for _ in range(5):  # the checkpoint lands a few blocks after the anchors
            ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        trust = TrustRoots.of_list(trust_list(ledger))
        roots = load_tsa_roots(Path(tsa_info.root))
        pdf = certificate_pdf(plain_ledger, number, ledger.settings.public_url)  # no tokens: as before issue #13
        document, bundle_cert = embedded(pdf)
        assert bundle_cert is not None
        bundle_single = export_evidence_bundle(plain_ledger, single, HashAlgorithm.SHA256)
        bundle_batch = export_evidence_bundle(plain_ledger, entries[77_777][1], HashAlgorithm.SHA256)
        _, bundle_timed = certificate_bundle(ledger, number, ledger.settings.public_url, timestamp=True)
        for bundle in (bundle_single, bundle_batch, bundle_cert):
            assert verdict(verify_bundle(bundle, trust=trust)) is Verdict.VERIFIED, "must verify to be timed"
        assert verdict(verify_bundle(bundle_timed, trust=trust, tsa_roots=roots)) is Verdict.VERIFIED
        assert verdict(verify_pdf(pdf, trust)) is Verdict.VERIFIED
        state = bundle_cert["registry_state"]
        assert len(state["rights_entries"]) == 2, state["rights_entries"]
        folder = home / "report"
        folder.mkdir()
        write_bundle(bundle_timed, folder / "state.json")
        (folder / "trust.json").write_text(trust.trust_list.model_dump_json() if trust.trust_list else "")
        report = make_report(folder / "state.json", trust_spec=str(folder / "trust.json"),
                             tsa_root=Path(tsa_info.root))
        assets = ledger.deployment.contracts["AssetRegistry"]
        uid = unit_id(number)
        plan: list[tuple[str, Callable[[], Any]]] = [
            ("verify bundle offline, single anchor (baseline)", lambda: verify_bundle(bundle_single, trust=trust)),
            ("verify bundle offline, batched (17-step Merkle path)",
             lambda: verify_bundle(bundle_batch, trust=trust)),
            ("verify certificate + state proof offline (2 entries)", lambda: verify_bundle(bundle_cert, trust=trust)),
            ("verify certificate + state proof + 2 RFC 3161 tokens",
             lambda: verify_bundle(bundle_timed, trust=trust, tsa_roots=roots)),
            ("export state proof alone (eth_getProof, logs)",
             lambda: registry_state(ledger.client, assets.address, uid, ledger.checkpoints, 0, assets.deploy_block)),
            ("export certificate bundle with state (--state)",
             lambda: certificate_bundle(plain_ledger, number, ledger.settings.public_url)),
            ("export bundle, single anchor",
             lambda: export_evidence_bundle(plain_ledger, single, HashAlgorithm.SHA256)),
            ("export bundle, leaf of a 100,000-digest batch",
             lambda: export_evidence_bundle(plain_ledger, entries[77_777][1], HashAlgorithm.SHA256)),
            ("render certificate PDF (CJK font, QR, attachments)", lambda: render_pdf(document, bundle_cert)),
            ("verify certificate PDF offline (incl. re-render)", lambda: verify_pdf(pdf, trust)),
            ("render verification report PDF (from its JSON)", lambda: render_report(report.content, report.json)),
            ("verification report: verify + JSON + PDF",
             lambda: make_report(folder / "state.json", trust_spec=str(folder / "trust.json"),
                                 tsa_root=Path(tsa_info.root))),
        ]
        rows = []
        for label, run in plan:
            median, worst = timed(run, args.repeat)
            rows.append((label, median, worst, os.getloadavg()[0]))
        baseline = rows[0][1]
        print(f"\n{args.repeat} runs each; load average (1, 5, 15 min) at the end: "
              + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"{'operation':<56} {'median ms':>10} {'max ms':>8} {'x baseline':>11} {'load 1m':>8}")
        for label, median, worst, load in rows:
            print(f"{label:<56} {median:>10.2f} {worst:>8.1f} {median / baseline:>11.2f} {load:>8.2f}")
        tokens = sum(len(canonical_json(t)) for t in bundle_timed["trusted_time"])
        print(f"\nbundle sizes (canonical JSON): single anchor {_size(bundle_single):,} B (x{1:.2f} baseline), "
              f"batched {_size(bundle_batch):,} B (x{_size(bundle_batch) / _size(bundle_single):.2f})")
        print(f"certificate: without state proof {_size(bundle_cert, 'registry_state'):,} B "
              f"(x{_size(bundle_cert, 'registry_state') / _size(bundle_single):.2f}); with state proof, 2 active "
              f"entries {_size(bundle_cert):,} B (x{_size(bundle_cert) / _size(bundle_single):.2f}) — of which the "
              f"state proof {len(canonical_json(state)):,} B ({len(state['values'])} slots, "
              f"{len(state['storage_proof'])} trie nodes)")
        print(f"certificate with state proof and {len(bundle_timed['trusted_time'])} RFC 3161 tokens "
              f"{_size(bundle_timed):,} B (tokens {tokens:,} B); certificate PDF {len(pdf):,} B; "
              f"report PDF {len(report.pdf):,} B, JSON {len(report.json):,} B")
    finally:
        tsa.stop()
        node.stop()


if __name__ == "__main__":
    main()
