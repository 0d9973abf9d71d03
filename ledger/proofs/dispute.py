"""The dispute evidence package (司法存证包, TJIFA §9.2 and App. 4 §3; REGISTRATION_RULES §8 item 7): what a court
or an arbitrator downloads, and what ``ledger proof verify`` checks offline.

A package (``ledger.dispute-package/1``) is one PDF. Its first pages say, Chinese first, what it holds and who asked
for it on which legal document; its embedded files are the evidence:

- ``certificate.pdf`` — the registration's current certificate, with its court bundle (anchor, headers,
  authorities, the unit's registry state) attached, as ``ledger proof export NUMBER`` writes it;
- ``court-bundle.json`` — that same court bundle, on its own (it must be byte for byte the one in the PDF);
- ``evidence-report.pdf`` — the evidence report (存证报告书, TJIFA §7.3): the one the certificate annexes, or the
  report of the certificate's own anchoring — a document PDF with its own bundle;
- ``extraction-record.json`` — the replayable extraction record (App. 4 §3): the original evidence, the
  participants' identities (the requester, its legal document, the registry, the evidence provider, the
  authorities), the times, the network addresses (the requester's, the node's, the extracting host's), each step
  of the extraction and its conclusion, and the access-log entry the request wrote (its place in the hash-chained
  log: extraction records in continuous time order);
- ``manifest.json`` — the SHA-256 and size of each file above, the registration, the request and the access-log
  entry, in canonical JSON (RFC 8785);
- ``manifest.bundle.json`` — the court bundle of the manifest's SHA-256, which the registry anchored on
  EvidenceRegistry when it made the package: the authorities' signatures (the verifier's trust roots) and the
  evidence provider's seal stand behind the manifest, the manifest behind every file.

The pages are a deterministic rendering of the embedded files, so :func:`inspect_package` re-renders them and
any changed byte of the PDF fails (``package integrity``); a changed file fails ``package manifest``; a changed
manifest fails the anchor's ``document hash``. Each embedded document is verified as ``ledger proof verify`` verifies
a document PDF. Offline: this module imports the verifier, the PDF layout and the recognition package's evidence
report rule — no chain client, database or workflow.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ledger.errors import LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.pdf import Pages, Row, embedded, inspect_pdf, register_font
from ledger.proofs.recognition import report_check
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import BundleVerification, Check, inspect_bundle

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

PACKAGE_FORMAT = "ledger.dispute-package/1"
EXTRACTION_FORMAT = "ledger.extraction-record/1"
CREATOR = "data-asset-ledger dispute package (layout 1)"
CERTIFICATE, COURT_BUNDLE, EVIDENCE_REPORT = "certificate.pdf", "court-bundle.json", "evidence-report.pdf"
EXTRACTION, MANIFEST, MANIFEST_BUNDLE = "extraction-record.json", "manifest.json", "manifest.bundle.json"
#: The files the manifest names (in this order on the cover), then the manifest and its anchor's bundle.
PARTS = (CERTIFICATE, COURT_BUNDLE, EVIDENCE_REPORT, EXTRACTION)
FILES = (*PARTS, MANIFEST, MANIFEST_BUNDLE)
PART_TITLES = {CERTIFICATE: "登记证书 Certificate (PDF, with its court bundle)",
               COURT_BUNDLE: "司法存证包 Court bundle (JSON)",
               EVIDENCE_REPORT: "存证报告书 Evidence report (PDF, with its court bundle)",
               EXTRACTION: "提取记录 Extraction record (JSON)"}


def sha256_hex(data: bytes) -> str:
    return to_hex(digest_bytes(data))


def manifest_parts(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """What the manifest says of each part: its SHA-256 and its size in bytes."""
    return {name: {"sha256": sha256_hex(files[name]), "bytes": len(files[name])} for name in PARTS}


def is_package(pdf_bytes: bytes) -> bool:
    """Whether a PDF is a dispute package (it embeds a manifest), not a single document."""
    try:
        names = set(PdfReader(io.BytesIO(pdf_bytes)).attachments)
    except Exception:  # pypdf raises many kinds on a damaged file: then it is not recognisably a package
        return False
    return MANIFEST in names


# --- rendering ----------------------------------------------------------------------------------------------------


def _json(files: dict[str, bytes], name: str) -> dict[str, Any]:
    try:
        value = json.loads(files[name])
    except (KeyError, ValueError) as exc:
        raise LedgerValueError(f"{name} is missing or not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise LedgerValueError(f"{name} is not a JSON object")
    return value


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in sorted(value.items()))
    return str(value)


def _cover(pages: Pages, manifest: dict[str, Any], record: dict[str, Any], anchor: dict[str, Any],
           files: dict[str, bytes]) -> None:
    request = manifest.get("request") or {}
    log = manifest.get("access_log") or {}
    pages.title("司法存证包", "Dispute evidence package (TJIFA §9.2, App. 4)")
    pages.rows([
        ("登记号 Registration no.", _text(manifest.get("registration_number"))),
        ("登记平台 Platform", _text(manifest.get("platform"))),
        ("证书哈希 Certificate SHA-256", _text(manifest.get("certificate_sha256"))),
        ("申请人 Requested by", f"{_text(request.get('requested_by'))} ({_text(request.get('role'))})\n"
                               f"{_text(request.get('address'))}"),
        ("法律文书 Legal document", f"{_text(request.get('legal_reference'))}\nSHA-256 "
                                  f"{_text(request.get('legal_document_sha256'))}"),
        ("申请时间 Requested at", _text(request.get("requested_at"))),
        ("申请人网络地址 Requester's address", _text(request.get("network_address"))),
        ("访问日志 Access-log entry", f"第 {_text(log.get('seq'))} 条 entry {_text(log.get('seq'))}\n"
                                    f"{_text(log.get('entry_hash'))}"),
    ])
    pages.heading("内容 Contents")
    for name in PARTS:
        part = (manifest.get("parts") or {}).get(name) or {}
        pages.rows([(PART_TITLES[name], f"{name}  {_text(part.get('bytes'))} bytes\nSHA-256 "
                                        f"{_text(part.get('sha256'))}")])
    pages.heading("提取记录 Extraction record (App. 4 §3)")
    participants, times, network = (record.get(k) or {} for k in ("participants", "times", "network"))
    rows: list[Row] = [
        ("原始证据 Original evidence", _text([f"{k}: {v}" for k, v in sorted((record.get("original_evidence")
                                                                             or {}).items())])),
        ("参与方 Participants", _text([f"{k}: {_text(v)}" for k, v in sorted(participants.items())])),
        ("时间 Times", _text([f"{k}: {v}" for k, v in sorted(times.items())])),
        ("网络地址 Network addresses", _text([f"{k}: {v}" for k, v in sorted(network.items())])),
        ("提取步骤 Steps", _text([f"{i}. {s}" for i, s in enumerate(record.get("steps") or [], 1)])),
        ("结论 Conclusion", _text(record.get("conclusion"))),
    ]
    pages.rows(rows, size=8.5)
    pages.heading("清单存证 Manifest anchor")
    pages.rows([
        ("清单哈希 Manifest SHA-256", sha256_hex(files[MANIFEST])),
        ("上链交易 Transaction", f"{_text(anchor.get('tx_hash'))}\n区块 block {_text(anchor.get('block_number'))}"),
        ("存证服务商 Evidence provider", _text(anchor.get("submitter"))),
        ("离线核验 Verify offline", "ledger proof verify <this file> --trust trust-list.json\n"
                                   "(each embedded file, its hash in the manifest, the manifest's anchor, and this "
                                   "file byte for byte)"),
    ])


def render_package(files: dict[str, bytes]) -> bytes:
    """The package PDF of ``files`` (the six named in :data:`FILES`): cover pages drawn from the manifest, the
    extraction record and the manifest's bundle, the files embedded in name order. Deterministic (reportlab
    invariant mode): the same files give the same bytes."""
    missing = [name for name in FILES if name not in files]
    if missing:
        raise LedgerValueError(f"a dispute package needs {', '.join(missing)}")
    manifest, record, bundle = _json(files, MANIFEST), _json(files, EXTRACTION), _json(files, MANIFEST_BUNDLE)
    font = register_font()
    total = 0
    buffer = io.BytesIO()
    for _ in range(2):  # the first pass counts the pages
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        pdf.setTitle(f"司法存证包 Dispute evidence package {manifest.get('registration_number', '')}".strip())
        pdf.setAuthor(str(manifest.get("platform", "")))
        pdf.setCreator(CREATOR)
        pages = Pages(pdf, font, total)
        _cover(pages, manifest, record, bundle.get("anchor") or {}, files)
        total = pages.finish()
        pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    for name in sorted(FILES):
        writer.add_attachment(name, files[name])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- verification -------------------------------------------------------------------------------------------------


@dataclass
class _Run(BundleVerification):
    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def extend(self, prefix: str, found: BundleVerification) -> None:
        self.checks.extend(Check(f"{prefix}{c.name}", c.ok, c.detail, c.level) for c in found.checks)


def _files(run: _Run, raw: bytes) -> dict[str, bytes] | None:
    try:
        reader = PdfReader(io.BytesIO(raw))
        files = {name: contents[0] for name, contents in reader.attachments.items()}
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        run.check("package format", False, f"not a readable PDF: {exc.__class__.__name__}: {exc}")
        return None
    if set(files) != set(FILES):
        run.check("package format", False, f"a dispute package embeds exactly {', '.join(FILES)}; this one embeds "
                                           f"{', '.join(sorted(files)) or 'nothing'}")
        return None
    return files


def _canonical(run: _Run, files: dict[str, bytes], name: str) -> dict[str, Any] | None:
    try:
        value = json.loads(files[name])
        ok = isinstance(value, dict) and canonical_json(value) == files[name]
    except (LedgerValueError, ValueError, TypeError) as exc:
        run.check("package format", False, f"{name} is not JSON: {exc}")
        return None
    if not ok:
        run.check("package format", False, f"{name} is not a JSON object in its one canonical spelling (RFC 8785)")
        return None
    parsed: dict[str, Any] = value
    return parsed


def inspect_package(raw: bytes, trust: TrustRoots | None = None, threshold: int | None = None,
                    rpc_url: str | None = None, tsa_roots: Sequence[Certificate] | None = None) -> BundleVerification:
    """Every check of a dispute package, in order: its form; each file against the manifest; the manifest against
    its anchor (the bundle's checks, prefixed ``package anchor:``); the certificate PDF (the checks ``ledger proof
    verify`` runs on it, unprefixed: the registry status decides the verdict); the court bundle (the certificate's
    own); the evidence report PDF (prefixed ``evidence report:``) and that it is this certificate's; the extraction
    record against the manifest; and that the file is exactly the rendering of its embedded files."""
    run = _Run()
    files = _files(run, raw)
    if files is None:
        return run
    manifest, record = _canonical(run, files, MANIFEST), _canonical(run, files, EXTRACTION)
    if manifest is None or record is None:
        return run
    if manifest.get("format") != PACKAGE_FORMAT or record.get("format") != EXTRACTION_FORMAT:
        run.check("package format", False, f"the manifest is {manifest.get('format')!r}, not {PACKAGE_FORMAT}")
        return run
    run.check("package format", True, f"{PACKAGE_FORMAT}: {', '.join(FILES)}")
    expected = manifest_parts(files)
    wrong = [name for name in PARTS if (manifest.get("parts") or {}).get(name) != expected[name]]
    if not run.check("package manifest", not wrong and set(manifest.get("parts") or {}) == set(PARTS),
                     f"{wrong[0]} has SHA-256 {expected[wrong[0]]['sha256']} ({expected[wrong[0]]['bytes']} bytes), "
                     "not what the manifest says" if wrong else
                     f"each of the {len(PARTS)} files hashes to its manifest entry (SHA-256)"):
        return run
    try:
        anchor_bundle = json.loads(files[MANIFEST_BUNDLE])
    except ValueError as exc:
        run.check("package anchor", False, f"{MANIFEST_BUNDLE} is not JSON: {exc}")
        return run
    subject = anchor_bundle.get("subject") or {} if isinstance(anchor_bundle, dict) else {}
    if str(subject.get("digest", "")).lower() != sha256_hex(files[MANIFEST]) or subject.get("hash_algorithm") != \
            "sha256":
        run.check("package anchor", False, f"the manifest hashes to {sha256_hex(files[MANIFEST])}, its bundle proves "
                                           f"{subject.get('digest')}")
        return run
    run.extend("package anchor: ", inspect_bundle(anchor_bundle, None, trust, threshold, rpc_url,
                                                  tsa_roots=tsa_roots))

    certificate = inspect_pdf(files[CERTIFICATE], trust, threshold, rpc_url, tsa_roots)
    run.unit, run.times, run.attested = certificate.unit, certificate.times, certificate.attested
    run.extend("", certificate)
    try:
        document, bundle = embedded(files[CERTIFICATE])
    except LedgerValueError as exc:
        run.check("certificate", False, exc.user_message)
        return run
    cert_hash = digest_bytes(canonical_json(document))
    same = (document.get("registration_number") == manifest.get("registration_number")
            and to_hex(cert_hash) == manifest.get("certificate_sha256"))
    run.check("certificate", same, f"certificate {to_hex(cert_hash)} of {document.get('registration_number')}, as the "
                                   "manifest names it" if same else
              f"the manifest names certificate {manifest.get('certificate_sha256')} of "
              f"{manifest.get('registration_number')}, the PDF carries {to_hex(cert_hash)} of "
              f"{document.get('registration_number')}")
    run.check("court bundle", bundle is not None and canonical_json(bundle) == files[COURT_BUNDLE],
              "the court bundle is the certificate PDF's own" if bundle is not None
              and canonical_json(bundle) == files[COURT_BUNDLE] else "the court bundle differs from the one the "
                                                                     "certificate PDF carries")
    report = inspect_pdf(files[EVIDENCE_REPORT], trust, threshold, rpc_url, tsa_roots)
    run.extend("evidence report: ", report)
    try:
        report_document, _ = embedded(files[EVIDENCE_REPORT])
    except LedgerValueError as exc:
        run.check("evidence report", False, exc.user_message)
        return run
    run.check("evidence report", *report_check(report_document, document, bundle or {}, cert_hash))
    _record(run, record, manifest, cert_hash)
    try:
        same_file = render_package(files) == raw
    except LedgerValueError as exc:
        run.check("package integrity", False, exc.user_message)
        return run
    run.check("package integrity", same_file, "the file is exactly the rendering of its embedded files" if same_file
              else "the file differs from the rendering of its embedded files: it was altered")
    return run


def _record(run: _Run, record: dict[str, Any], manifest: dict[str, Any], cert_hash: bytes) -> None:
    """The extraction record names the same registration, certificate, request and access-log entry as the
    manifest, and holds what App. 4 §3 asks for."""
    original = record.get("original_evidence") or {}
    request, participants = manifest.get("request") or {}, record.get("participants") or {}
    requester = participants.get("requester") or {}
    problems = [what for what, ok in (
        ("registration number", record.get("registration_number") == manifest.get("registration_number")),
        ("certificate", original.get("certificate_sha256") == to_hex(cert_hash)),
        ("legal document", requester.get("legal_document_sha256") == request.get("legal_document_sha256")),
        ("requester", requester.get("account") == request.get("requested_by")),
        ("access-log entry", record.get("access_log") == manifest.get("access_log")),
    ) if not ok]
    missing = [k for k in ("participants", "times", "network", "steps", "conclusion") if not record.get(k)]
    detail = (f"it differs from the manifest in: {', '.join(problems)}" if problems else
              f"it lacks {', '.join(missing)}" if missing else
              f"requested by {requester.get('account')} on legal document {request.get('legal_document_sha256')}; "
              f"access-log entry {(record.get('access_log') or {}).get('seq')}; {len(record['steps'])} steps")
    run.check("extraction record", not problems and not missing, detail)
