"""Mutual recognition between platforms (互认, TJIFA §6.4.1.4; SZ art. 9(4); AH art. 6; REGISTRATION_RULES §7):
the recognition package one platform exports and another verifies offline.

A package (``ledger.recognition-package/1``) is one canonical-JSON file (RFC 8785: one spelling, so its SHA-256
names it) holding, as ``parts``:

- ``certificate`` — the registration's current certificate (``ledger.certificate/1``–``/3``);
- ``certificate_bundle`` — its court bundle with the unit's state proof: the certificate anchored as evidence
  (TJIFA §8.2.3), the unit's status, right holders, pledges, licences and objections proven at a block the
  platform's authorities signed (``ledger proof export NUMBER --state``);
- ``evidence_report`` — the evidence report (存证报告书, TJIFA §7.3): the one the certificate annexes by hash, or
  else the report of the certificate's own anchoring;
- ``evidence/<digest>`` — a court bundle for each digest of filed evidence the certificate cites (TJIFA §7.2).

``manifest`` names each part's SHA-256 (of its canonical JSON), and the evidence provider that anchored the
certificate — the chain's event names it — seals the package head (format, platform, number, manifest), as it
sealed the bundle. So every byte is bound: a changed part fails ``package manifest``; a part changed with its
manifest entry fails ``package seal``; a re-sealed forgery fails the bundle's own checks.

:func:`inspect_package` checks a package against the source platform's trust list — which the verifying
platform holds by configuration (:func:`load_peers`: a directory of trusted peers' trust lists), never taken
from the package — with the offline verifier (``ledger.proofs.verify``, the same checks as ``ledger proof
verify``) and adds the package's own named checks. It imports what the verifier imports, plus the document
schemas: no chain client, database or workflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.document_schemas import CERTIFICATE_SCHEMAS, validate_document
from ledger.errors import LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.numbering import unit_id, validate_number
from ledger.proofs.authority import SIGNATURE_FIELDS
from ledger.proofs.signatures import recover_personal
from ledger.proofs.state import CHINA, UnitView, assess_certificate
from ledger.proofs.timestamps import load_tsa_roots
from ledger.proofs.trust import TrustList, TrustRoots, parse_trust_list
from ledger.proofs.verify import BundleVerification, Check, Level, Verdict, headline, inspect_bundle, verdict

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

PACKAGE_FORMAT = "ledger.recognition-package/1"
CERTIFICATE, CERTIFICATE_BUNDLE, EVIDENCE_REPORT = "certificate", "certificate_bundle", "evidence_report"
EVIDENCE_PREFIX = "evidence/"
REQUIRED_PARTS = (CERTIFICATE, CERTIFICATE_BUNDLE, EVIDENCE_REPORT)
HEAD_FIELDS = {"format", "platform", "registration_number", "manifest", "seal", "parts"}
EVIDENCE_PART = re.compile(r"^evidence/0x[0-9a-f]{64}$")
DAY = 86_400
#: Checks a package adds to the bundle's; with the bundle's, what a refusal names.
PACKAGE_CHECKS = ("package format", "package manifest", "certificate", "holder", "evidence report", "evidence",
                  "package seal", "validity now", "proof age")


def part_hash(part: Any) -> str:
    """SHA-256 of a part's canonical JSON: what the manifest names."""
    return to_hex(digest_bytes(canonical_json(part)))


def seal_text(package: Mapping[str, Any]) -> str:
    """What the evidence provider signs: the SHA-256 of the canonical package head (everything but the parts, which
    the manifest names, and the seal)."""
    head = {k: v for k, v in package.items() if k not in ("parts", "seal")}
    return f"ledger recognition package\nsha256: {to_hex(digest_bytes(canonical_json(head)))}"


def evidence_part(digest: str) -> str:
    return f"{EVIDENCE_PREFIX}{digest.lower()}"


def block_time_text(timestamp: int) -> str:
    """A block time as the evidence report states it (ISO 8601, China time)."""
    return datetime.fromtimestamp(timestamp, CHINA).isoformat()


# --- trusted peers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """A platform this one recognises registrations from: its published trust list (``ledger.trust-list/1``,
    as it serves it at ``/trust-list.json``), and optionally its TSA's root certificates (to verify the trusted
    time of its bundles) and its chain's JSON-RPC URL (to check a registration's live status too)."""

    name: str
    trust_list: TrustList
    tsa_roots: tuple[Certificate, ...] = ()
    rpc_url: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.trust_list.fingerprint()

    def roots(self) -> TrustRoots:
        return TrustRoots.of_list(self.trust_list)


def load_peers(directory: Path) -> list[Peer]:
    """The trusted peers configured in ``directory`` (``LEDGER_PEERS_DIR``, default ``<home>/peers``): each
    ``<name>.json`` is a peer's trust list; beside it, ``<name>.tsa.pem`` holds its TSA root certificate(s) and
    ``<name>.rpc`` the URL of its chain's JSON-RPC endpoint, both optional. No directory: no peers."""
    if not directory.is_dir():
        return []
    peers = []
    for path in sorted(directory.glob("*.json")):
        try:
            listed = parse_trust_list(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            message = exc.user_message if isinstance(exc, LedgerValueError) else str(exc)
            raise LedgerValueError(f"peer trust list {path} is not usable: {message}") from None
        tsa = path.with_suffix(".tsa.pem")
        rpc = path.with_suffix(".rpc")
        url = rpc.read_text(encoding="utf-8").strip() if rpc.is_file() else ""
        peers.append(Peer(path.stem, listed, tuple(load_tsa_roots(tsa)) if tsa.is_file() else (), url or None))
    return peers


def package_chain(package: Mapping[str, Any]) -> tuple[int | None, str]:
    """The chain (id, genesis hash) the package's certificate bundle *claims*: only to choose the peer whose trust
    list then decides (the verifier checks the claim against it)."""
    parts = package.get("parts")
    bundle = parts.get(CERTIFICATE_BUNDLE) if isinstance(parts, dict) else None
    chain = bundle.get("chain") if isinstance(bundle, dict) else None
    if not isinstance(chain, dict):
        return None, ""
    chain_id = chain.get("chain_id")
    return (chain_id if type(chain_id) is int else None), str(chain.get("genesis_hash", "")).lower()


def peer_for(package: Mapping[str, Any], peers: Sequence[Peer]) -> Peer | None:
    """The configured peer running the chain the package comes from, if any."""
    chain_id, genesis = package_chain(package)
    return next((p for p in peers if p.trust_list.chain_id == chain_id and p.trust_list.genesis_hash == genesis),
                None)


# --- verification -------------------------------------------------------------------------------------------------


@dataclass
class PackageVerification:
    """What checking a package found: the named checks (package and bundle), and what they prove."""

    checks: list[Check] = field(default_factory=list)
    package_sha256: str = ""
    package: dict[str, Any] | None = None
    certificate: dict[str, Any] | None = None
    bundle: BundleVerification | None = None

    @property
    def verdict(self) -> Verdict:
        return verdict(self.checks)

    @property
    def unit(self) -> UnitView | None:
        return self.bundle.unit if self.bundle else None

    def headline(self) -> str:
        return headline(self.checks)

    def failing(self) -> Check | None:
        """The check that decides a refusal: the first forgery-level failure, else the first authentication, then
        validity, then objection failure (trusted time left unverified never decides); None when VERIFIED."""
        if self.verdict is Verdict.VERIFIED:
            return None
        order: tuple[Level, ...] = ("error", "trust", "invalid", "warning")
        failed = [c for c in self.checks if not c.ok and c.level in order]
        return min(failed, key=lambda c: order.index(c.level)) if failed else Check("package", False, "nothing "
                                                                                    "could be checked")

    def refusal(self) -> str | None:
        """Why a platform must not rely on the package (the failing check named), or None when it may."""
        first = self.failing()
        if first is None:
            return None
        what = {"error": "failed", "trust": "not authenticated", "invalid": "not valid",
                "warning": "under objection"}.get(first.level, "failed")
        return f"{first.name} {what}: {first.detail}"


class _Run(PackageVerification):
    def check(self, name: str, ok: bool, detail: str, level: Level = "error") -> bool:
        self.checks.append(Check(name, ok, detail, level))
        return ok


def _parse(run: _Run, raw: bytes) -> dict[str, Any] | None:
    name = "package format"
    try:
        package = json.loads(raw)
    except ValueError as exc:
        run.check(name, False, f"not JSON: {exc}")
        return None
    if not isinstance(package, dict) or package.get("format") != PACKAGE_FORMAT:
        found = package.get("format") if isinstance(package, dict) else type(package).__name__
        run.check(name, False, f"{found!r} is not a {PACKAGE_FORMAT}")
        return None
    try:
        canonical = canonical_json(package) == raw
    except (LedgerValueError, ValueError, TypeError) as exc:
        run.check(name, False, f"not canonical JSON: {exc}")
        return None
    if not canonical:
        run.check(name, False, "the file is not in its one canonical spelling (RFC 8785): it was altered")
        return None
    parts, manifest = package.get("parts"), package.get("manifest")
    problems = []
    if set(package) != HEAD_FIELDS:
        problems.append(f"it must hold exactly {', '.join(sorted(HEAD_FIELDS))}")
    if not isinstance(parts, dict) or not isinstance(manifest, dict):
        problems.append("parts and manifest must be JSON objects")
    else:
        missing = [p for p in REQUIRED_PARTS if p not in parts]
        unknown = [p for p in parts if p not in REQUIRED_PARTS and not EVIDENCE_PART.match(p)]
        if missing:
            problems.append(f"no {', '.join(missing)} part")
        if unknown:
            problems.append(f"unknown part {unknown[0]!r}")
        if set(manifest) != set(parts):
            problems.append("the manifest must name exactly the parts")
        if not all(isinstance(parts[p], dict) for p in parts):
            problems.append("every part is a JSON object")
    if problems or not isinstance(parts, dict):
        run.check(name, False, "; ".join(problems))
        return None
    run.check(name, True, f"{PACKAGE_FORMAT}, canonical JSON, {len(parts)} parts: {', '.join(sorted(parts))}")
    return package


def inspect_package(raw: bytes, trust: TrustRoots, *, tsa_roots: Sequence[Certificate] | None = None,
                    rpc_url: str | None = None, now: int | None = None,
                    max_age_days: float | None = None) -> PackageVerification:
    """Every check of a recognition package against the source platform's trust roots, in order: the package's
    form, manifest and parts; the certificate and its court bundle with the unit's state proof (the offline
    verifier's checks, by their names, with ``rpc_url``: the live status too); the holder; the evidence report
    and the bundles of the filed evidence; the package seal; and, given ``now`` (unix seconds), whether the
    proven registration is still within its validity and — with ``max_age_days`` — whether the proof is recent
    enough to rely on. A platform recognises the registration only on :attr:`Verdict.VERIFIED`."""
    run = _Run(package_sha256=to_hex(digest_bytes(raw)))
    package = _parse(run, raw)
    if package is None:
        return run
    run.package = package
    parts, manifest = package["parts"], package["manifest"]
    wrong = [p for p in sorted(parts) if str(manifest[p]).lower() != part_hash(parts[p])]
    if not run.check("package manifest", not wrong,
                     f"part {wrong[0]} hashes to {part_hash(parts[wrong[0]])}, the manifest says {manifest[wrong[0]]}"
                     if wrong else f"each of the {len(parts)} parts hashes to its manifest entry (SHA-256)"):
        return run

    document, bundle = parts[CERTIFICATE], parts[CERTIFICATE_BUNDLE]
    try:
        validate_document(document)
        if document["schema"] not in CERTIFICATE_SCHEMAS:
            raise LedgerValueError(f"a {document['schema']} document is not a certificate")
        number = validate_number(document["registration_number"])
    except LedgerValueError as exc:
        run.check("certificate", False, exc.user_message)
        return run
    run.certificate = document
    if package.get("registration_number") != number:
        run.check("certificate", False, f"the package names registration {package.get('registration_number')}, its "
                                        f"certificate is of {number}")
        return run
    cert_hash = digest_bytes(canonical_json(document))
    subject = bundle.get("subject") or {}
    if str(subject.get("digest", "")).lower() != to_hex(cert_hash) or subject.get("hash_algorithm") != "sha256":
        run.check("document hash", False, f"the certificate hashes to {to_hex(cert_hash)}, the bundle proves "
                                          f"{subject.get('digest')}")
        return run
    run.check("certificate", True, f"{document['schema']} of registration {number}, version "
                                   f"{document['certificate_version']}, SHA-256 {to_hex(cert_hash)}")
    found = inspect_bundle(bundle, None, trust, None, rpc_url, certificate_unit=unit_id(number), tsa_roots=tsa_roots)
    run.bundle = found
    run.checks.extend(c if c.name != "document hash" else Check(
        "document hash", True, f"SHA-256 of the canonical certificate = {to_hex(cert_hash)}, the digest the bundle "
                               "proves") for c in found.checks)
    if any(not c.ok and c.level == "error" for c in found.checks) or found.unit is None:
        return run
    view = found.unit
    holder = str((document.get("holder") or {}).get("account", "")).lower()
    if not run.check("holder", holder == view.unit.holder.lower(),
                     f"the certificate's holder {holder} is the unit's holder the state proof shows"
                     if holder == view.unit.holder.lower()
                     else f"the certificate names holder {holder}, the state proof shows {view.unit.holder}"):
        return run
    _evidence_report(run, parts, document, bundle, cert_hash)
    _evidence(run, parts, document, trust, tsa_roots)
    _package_seal(run, package, bundle)
    if now is not None and all(c.ok for c in found.checks if c.name == "registry status"):
        status = assess_certificate(view.unit, cert_hash, now)
        run.check("validity now", status.usable, (
            f"within its validity at import time ({block_time_text(now)})" if status.usable
            else f"{status.describe()}: no longer valid at import time"), "invalid")
        if max_age_days is not None:
            age = (now - view.block_time) / DAY
            run.check("proof age", age <= max_age_days, (
                f"the registry state was proven at block {view.block_number}, {age:.1f} day(s) ago"
                + ("" if age <= max_age_days else f": older than the {max_age_days:g} days this platform relies on "
                                                  "(export a fresh package)")), "invalid")
    return run


def _evidence_report(run: _Run, parts: Mapping[str, Any], document: Mapping[str, Any], bundle: Mapping[str, Any],
                     cert_hash: bytes) -> None:
    run.check("evidence report", *report_check(parts[EVIDENCE_REPORT], document, bundle, cert_hash))


def report_check(report: Any, document: Mapping[str, Any], bundle: Mapping[str, Any],
                 cert_hash: bytes) -> tuple[bool, str]:
    """Whether ``report`` is the evidence report (TJIFA §7.3) of a certificate: the one the certificate annexes (its
    hash), or else the report of the certificate's own anchoring — then its anchor, holder and digest must be what
    the certificate's court ``bundle`` proves. (ok, detail); shared by recognition and dispute packages."""
    try:
        if not isinstance(report, dict):
            raise LedgerValueError("the evidence report is not a JSON object")
        validate_document(report)
        if report["schema"] != "ledger.evidence-report/1":
            raise LedgerValueError(f"a {report['schema']} document is not an evidence report")
    except LedgerValueError as exc:
        return False, exc.user_message
    linked = (document.get("annexes") or {}).get("evidence_report")
    if linked:
        same = part_hash(report) == str(linked).lower()
        return same, (f"the evidence report the certificate annexes ({linked})" if same
                      else f"the certificate annexes evidence report {linked}, the package carries {part_hash(report)}")
    anchor, chain = bundle.get("anchor") or {}, bundle.get("chain") or {}
    registry = str(((chain.get("contracts") or {}).get("EvidenceRegistry") or {}).get("address", ""))
    holder, stated = document.get("holder") or {}, report["holder"]
    expected = {
        "anchor.chain_id": (report["anchor"]["chain_id"], chain.get("chain_id")),
        "anchor.contract": (report["anchor"]["contract"].lower(), registry.lower()),
        "anchor.tx_hash": (report["anchor"]["tx_hash"].lower(), str(anchor.get("tx_hash", "")).lower()),
        "anchor.block_number": (report["anchor"]["block_number"], anchor.get("block_number")),
        "anchor.block_time": (report["anchor"]["block_time"],
                              block_time_text(anchor["block_time"]) if type(anchor.get("block_time")) is int else None),
        "holder.name": (stated["name"], holder.get("legal_name", holder.get("name"))),
        "holder.account": (stated["account"].lower(), str(holder.get("account", "")).lower()),
        "holder.uscc": (stated.get("uscc"), holder.get("uscc")),
    }
    wrong = [f"{key} {got!r} (proven: {want!r})" for key, (got, want) in expected.items() if got != want]
    if not any(d["hash_algorithm"] == "sha256" and d["digest"] == to_hex(cert_hash) for d in report["digests"]):
        wrong.append(f"it does not state the certificate's SHA-256 {to_hex(cert_hash)}")
    return not wrong, ("; ".join(wrong) if wrong else
                       f"存证报告书 {report['report_number']}: the certificate's anchoring in transaction "
                       f"{report['anchor']['tx_hash']} (block {report['anchor']['block_number']}), as the bundle "
                       "proves it")


def _evidence(run: _Run, parts: Mapping[str, Any], document: Mapping[str, Any], trust: TrustRoots,
              tsa_roots: Sequence[Certificate] | None) -> None:
    """A court bundle for each digest of filed evidence the certificate cites (TJIFA §7.2), verified against the
    same trust roots; no other evidence part."""
    name = "evidence"
    cited = [str(d).lower() for d in (document.get("annexes") or {}).get("evidence_digests", [])]
    carried = sorted(p for p in parts if p.startswith(EVIDENCE_PREFIX))
    if sorted(map(evidence_part, cited)) != carried:
        run.check(name, False, f"the certificate cites {len(cited)} evidence digest(s), the package carries bundles "
                               f"for {len(carried)}: they must match one to one")
        return
    for digest in cited:
        evidence = parts[evidence_part(digest)]
        subject = evidence.get("subject") or {}
        if str(subject.get("digest", "")).lower() != digest:
            run.check(name, False, f"the bundle for {digest} proves {subject.get('digest')}")
            return
        found = inspect_bundle(evidence, None, trust, tsa_roots=tsa_roots)
        if found.verdict is not Verdict.VERIFIED:
            run.check(name, False, f"evidence {digest}: {headline(found.checks)}")
            return
    run.check(name, True, f"each of the {len(cited)} filed evidence digest(s) the certificate cites is proven "
                          "anchored by the platform's authorities" if cited
              else "the certificate cites no filed evidence digest")


def _package_seal(run: _Run, package: Mapping[str, Any], bundle: Mapping[str, Any]) -> None:
    """The package seal: by the evidence provider the proven anchoring event names (the bundle seal's signer),
    over the package head, in canonical form."""
    name = "package seal"
    submitter = str((bundle.get("anchor") or {}).get("submitter", "")).lower()
    seal = package.get("seal")
    if not isinstance(seal, dict) or set(seal) != SIGNATURE_FIELDS:
        run.check(name, False, "the seal must hold exactly 'signer' and 'signature'")
        return
    try:
        raw = bytes.fromhex(str(seal["signature"]).removeprefix("0x"))
        signer = recover_personal(seal_text(package), raw)
    except (LedgerValueError, ValueError) as exc:
        run.check(name, False, f"the seal is refused: {getattr(exc, 'user_message', exc)}")
        return
    if seal["signature"] != to_hex(raw) or seal["signer"] != signer:
        run.check(name, False, "the seal's fields are not in canonical form (lower-case signature, EIP-55 signer): "
                               "it was altered")
        return
    run.check(name, signer.lower() == submitter,
              f"sealed by {signer}, the evidence provider the chain shows anchored the certificate"
              if signer.lower() == submitter
              else f"sealed by {signer}, but {submitter} anchored the certificate: the package was altered")
