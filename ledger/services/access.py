"""Who may see what (issue #11 §4; REGISTRATION_RULES §6.2) and the access log that proves who saw it.

A ``Viewer`` is whoever asks: the public (no credentials), an account by its token or its signed request, or the
operator at the command line. Publishable registration information is for everyone (TJIFA §8.1.1); the rest —
who holds each right, the rights page's counterparties and contracts, objections and their objectors, the full
certificate, the history's documents, applications — only for:

- the holder, of its own records, to see and print (TJIFA §6.3.4; SZ art. 12(1); AH art. 25(1));
- the registry's own staff (registrar, administrator), in the course of their duty (SZ art. 12). A third-party
  reviewer (第三方审查机构) is not the registry's staff (REGISTRATION_RULES §1): it reads the applications it
  reviews (SZ art. 15; AH art. 26; GZ art. 24–27), not the register (TJIFA §6.3.5);
- a data exchange, for admission review (SZ art. 12(2));
- a bank, as an interested party checking a registration before a pledge (DL art. 27);
- courts, procuratorates and police, with the judicial document the read rests on (TJIFA §6.3.5; SZ art. 12(3);
  AH art. 25(2)) — without one they are refused, and its hash is recorded.

Every read of non-public data is appended to the access log: who, when, what, the legal basis. The log is
hash-chained and its head is anchored on EvidenceRegistry (``anchor_access_log``), so a changed row breaks the
chain, and a chain recomputed after a change no longer matches its anchored head (``verify_access_log``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ledger.accounts import ROLE_WORDS
from ledger.context import Ledger
from ledger.db import session_scope
from ledger.errors import ForbiddenError, LedgerValueError, UnauthorizedError
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, parse_digest, to_hex
from ledger.models import AccessLogAnchor, AccessLogEntry, AccessLogHead
from ledger.proofs.signatures import recover_personal

log = logging.getLogger(__name__)
GENESIS = "0x" + "00" * 32
#: The registry's own staff (SZ art. 12): a third-party reviewer is not one (REGISTRATION_RULES §1, §6.2).
STAFF = frozenset({"registrar", "admin"})


@dataclass(frozen=True)
class Viewer:
    """Who asks, in which capacities, and — for a judicial read — the legal document it rests on."""

    account: str | None = None
    address: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    legal_document: str | None = None  # 0x SHA-256 of the judicial document
    legal_reference: str | None = None  # its number (案号), as the requester gives it
    basis: str | None = None  # a bank's or an exchange's reason for this read (the pledge, the admission review)

    @property
    def public(self) -> bool:
        return self.account is None

    @property
    def staff(self) -> bool:
        return bool(self.roles & STAFF)


PUBLIC = Viewer()
#: The operator at the registry's own command line: registry staff.
OPERATOR = Viewer(account="operator (CLI)", roles=frozenset({"registrar"}))


@dataclass(frozen=True)
class Grant:
    """A permitted non-public read: in which capacity, on which legal basis."""

    role: str
    basis: str
    legal_document: str | None = None  # the legal document a read rests on, when not a court's own (logged too)


def viewer_of(ledger: Ledger, account: str, legal_document: str | None = None,
              legal_reference: str | None = None, basis: str | None = None) -> Viewer:
    """The viewer an account name stands for, with its roles from the accounts file."""
    known = ledger.accounts.get(account)
    if legal_document is not None:
        legal_document = to_hex(parse_digest(legal_document))
    return Viewer(account=known.name, address=known.address, roles=frozenset(known.roles),
                  legal_document=legal_document, legal_reference=(legal_reference or "").strip()[:200] or None,
                  basis=(basis or "").strip()[:200] or None)


def grant(viewer: Viewer, holders: set[str]) -> Grant | None:
    """Whether ``viewer`` may read the non-public records of a unit whose rights ``holders`` hold (addresses),
    and on what basis; None for the public view. A judicial viewer without its document is refused."""
    if viewer.public:
        return None
    if viewer.address is not None and viewer.address.lower() in {h.lower() for h in holders}:
        return Grant("holder", "the holder's own records (TJIFA §6.3.4; SZ art. 12(1))")
    if viewer.staff:
        return Grant(sorted(viewer.roles & STAFF)[0], "registry duty (SZ art. 12)")
    if "judicial" in viewer.roles:
        if viewer.legal_document is None:
            raise ForbiddenError("courts, procuratorates and police read non-public records with the judicial "
                                 "document the read rests on: send its SHA-256 in X-Legal-Document (and its number "
                                 "in X-Legal-Reference) (TJIFA §6.3.5; SZ art. 12(3))")
        reference = f" {viewer.legal_reference}" if viewer.legal_reference else ""
        return Grant("judicial", f"judicial document{reference} (TJIFA §6.3.5; SZ art. 12(3); AH art. 25(2))")
    if "exchange" in viewer.roles or "bank" in viewer.roles:
        # an exchange reads for an admission review (SZ art. 12(2)), a bank as an interested party before a pledge
        # (DL art. 27): each read names the matter it is for, and the access log keeps it (REGISTRATION_RULES §6.2)
        role, why = (("exchange", "admission review by a data exchange (SZ art. 12(2))") if "exchange" in viewer.roles
                     else ("bank", "an interested party's check before a pledge (DL art. 27)"))
        if viewer.basis is None:
            raise ForbiddenError(f"a {role} reads non-public records for a matter it names: send it in "
                                 "X-Access-Basis (e.g. the admission application or the pledge it checks, "
                                 "percent-encoded) — it is kept in the access log (REGISTRATION_RULES §6.2)")
        return Grant(role, f"{why}: {viewer.basis}")
    return None


def refusal(viewer: Viewer, message: str) -> UnauthorizedError | ForbiddenError:
    """The refusal of a non-public read or an act: the public is asked for its credentials (401), an account
    without standing is refused (403) (REGISTRATION_RULES §6.2)."""
    if viewer.public:
        return UnauthorizedError(f"{message}: sign in with an API token (`Authorization: Bearer <token>`) or a "
                                 "request signed with the account's key")
    return ForbiddenError(message)


def require_staff(viewer: Viewer, what: str) -> Grant:
    """Registry staff only (SZ art. 12), or a court with its judicial document (TJIFA §6.3.5; SZ art. 12(3)):
    e.g. the list of all applications."""
    if viewer.staff:
        return Grant(sorted(viewer.roles & STAFF)[0], "registry duty (SZ art. 12)")
    if "judicial" in viewer.roles:  # refused without its document
        return grant(viewer, set()) or Grant("judicial", "judicial document")
    raise refusal(viewer, f"{what} is for the registry's staff")


def require_registry(viewer: Viewer, what: str) -> Grant:
    """The registry's own acts (e.g. anchoring its access log): its staff only — not a court, not a reviewer
    (SZ art. 12; ZJ App. C.4.5)."""
    if viewer.staff:
        return Grant(sorted(viewer.roles & STAFF)[0], "registry duty (SZ art. 12)")
    raise refusal(viewer, f"{what} is for the registry's staff")


def auditor_or_staff(viewer: Viewer, what: str) -> Grant:
    """The access log: auditors (ZJ App. C.4.5) and the registry's staff; a court with its document."""
    if "auditor" in viewer.roles:
        return Grant("auditor", "audit of the registry's access log (ZJ App. C.4.5)")
    return require_staff(viewer, what)


def require_roles(ledger: Ledger, actor: str, roles: tuple[str, ...], what: str) -> None:
    """An act that only an account with one of ``roles`` may take (the contract enforces it too): refused with
    the roles named in words before anything is signed or sent (REGISTRATION_RULES §1)."""
    account = ledger.accounts.get(actor)
    if set(account.roles) & set(roles):
        return
    needed = " or ".join(ROLE_WORDS.get(r, r) for r in roles)
    held = ", ".join(ROLE_WORDS.get(r, r) for r in account.roles) or "no role"
    raise ForbiddenError(f"{what} needs the {needed}; {actor} holds {held}")


# --- requests signed with the account's own key ---------------------------------------------------------------

#: Header values of a signed request, and how far its time may be from the server's.
REQUEST_FORMAT = "ledger-request/1"
REQUEST_SKEW_SECONDS = 300


def request_text(method: str, path: str, timestamp: int, body: bytes) -> str:
    """What an account signs (EIP-191 personal message) to make a request without a token: the method, the path
    with its query, the time and the body's SHA-256 — a signature is good for that request only, for 5 minutes."""
    return f"{REQUEST_FORMAT}\n{method.upper()}\n{path}\n{timestamp}\n{digest_bytes(body).hex()}"


def signed_account(ledger: Ledger, address: str, timestamp: str, signature: str, method: str, path: str,
                   body: bytes) -> str:
    """The account name whose key signed this request, or UnauthorizedError."""
    try:
        moment = int(timestamp)
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise UnauthorizedError("X-Ledger-Timestamp is unix seconds and X-Ledger-Signature 65 bytes of hex") from None
    if abs(time.time() - moment) > REQUEST_SKEW_SECONDS:
        raise UnauthorizedError(f"the signed request's time is more than {REQUEST_SKEW_SECONDS} s from now")
    try:
        signer = recover_personal(request_text(method, path, moment, body), raw)
    except LedgerValueError as exc:
        raise UnauthorizedError(f"the request signature is not valid: {exc.user_message}") from None
    if signer.lower() != address.lower():
        raise UnauthorizedError(f"the request is signed by {signer}, not by {address}")
    name: str | None = next((str(a.name) for a in ledger.accounts if a.address.lower() == signer.lower()), None)
    if name is None:
        raise UnauthorizedError(f"{signer} is not an account of this registry")
    return name


# --- the access log ---------------------------------------------------------------------------------------------


def _entry_hash(entry: AccessLogEntry) -> str:
    body = {"deployment": entry.deployment, "seq": entry.seq, "at": entry.at, "principal": entry.principal,
            "address": entry.address, "role": entry.role, "action": entry.action, "subject": entry.subject,
            "legal_basis": entry.legal_basis, "legal_document_hash": entry.legal_document_hash,
            "prev_hash": entry.prev_hash}
    return to_hex(digest_bytes(canonical_json(body)))


def record_read(ledger: Ledger, viewer: Viewer, granted: Grant, action: str, subject: str) -> AccessLogEntry:
    """Appends a read of non-public data to the access log (one writer at a time: the head row is locked)."""
    key = ledger.deployment.deployment_id
    with session_scope(ledger.engine) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(AccessLogHead).values(deployment=key, seq=0, head_hash=GENESIS)
                        .on_conflict_do_nothing(index_elements=["deployment"]))
        session.execute(update(AccessLogHead).where(col(AccessLogHead.deployment) == key)
                        .values(seq=col(AccessLogHead.seq)))  # the lock: one append at a time
        head = session.get(AccessLogHead, key)
        assert head is not None
        session.refresh(head)
        entry = AccessLogEntry(deployment=key, seq=head.seq + 1, at=datetime.now(UTC).isoformat(),
                               principal=viewer.account or "public", address=viewer.address, role=granted.role,
                               action=action, subject=subject, legal_basis=granted.basis,
                               legal_document_hash=granted.legal_document or (
                                   viewer.legal_document if granted.role == "judicial" else None),
                               prev_hash=head.head_hash, entry_hash="")
        entry.entry_hash = _entry_hash(entry)
        head.seq, head.head_hash = entry.seq, entry.entry_hash
        session.add_all([entry, head])
        session.flush()
        session.refresh(entry)
        session.expunge(entry)
    return entry


def access_log(ledger: Ledger, offset: int = 0, limit: int = 100) -> tuple[list[AccessLogEntry], int]:
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        head = session.get(AccessLogHead, key)
        rows = session.exec(select(AccessLogEntry).where(AccessLogEntry.deployment == key)
                            .order_by(col(AccessLogEntry.seq)).offset(offset).limit(limit)).all()
        return list(rows), head.seq if head else 0


def anchor_access_log(ledger: Ledger, provider: str | None = None) -> AccessLogAnchor | None:
    """Anchors the log's head on EvidenceRegistry (kind audit_log, ref = its sequence number), unless nothing was
    appended since the last anchor. Returns the new anchor."""
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        head = session.get(AccessLogHead, key)
        last = session.exec(select(AccessLogAnchor).where(AccessLogAnchor.deployment == key)
                            .order_by(col(AccessLogAnchor.seq).desc())).first()
    if head is None or head.seq == 0 or (last is not None and last.seq >= head.seq):
        return None
    name = provider or ledger.accounts.first_with_role("evidence_provider").name
    receipt = ledger.evidence.anchor(ledger.sender(name), parse_digest(head.head_hash), HashAlgorithm.SHA256,
                                     EvidenceKind.AUDIT_LOG, head.seq.to_bytes(32, "big"))
    anchor = AccessLogAnchor(deployment=key, seq=head.seq, head_hash=head.head_hash, tx_hash=receipt.tx_hash,
                             block_number=receipt.block_number)
    with session_scope(ledger.engine) as session:
        session.add(anchor)
        session.flush()
        session.refresh(anchor)
        session.expunge(anchor)
    return anchor


@dataclass
class AccessLogCheck:
    """What ``verify_access_log`` found: entries and anchors checked, and every problem in words."""

    entries: int = 0
    anchors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_access_log(ledger: Ledger) -> AccessLogCheck:
    """Recomputes the chain entry by entry and checks each anchored head against it and against the chain: a
    changed row breaks its hash (and every later link); a chain rebuilt after a change breaks the anchored head."""
    key = ledger.deployment.deployment_id
    check = AccessLogCheck()
    with Session(ledger.engine) as session:
        entries = session.exec(select(AccessLogEntry).where(AccessLogEntry.deployment == key)
                               .order_by(col(AccessLogEntry.seq))).all()
        anchors = session.exec(select(AccessLogAnchor).where(AccessLogAnchor.deployment == key)
                               .order_by(col(AccessLogAnchor.seq))).all()
    recomputed: dict[int, str] = {}
    previous = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        check.entries += 1
        if entry.seq != expected_seq:
            check.problems.append(f"entry {expected_seq} is missing (found {entry.seq} in its place)")
        if entry.prev_hash != previous:
            check.problems.append(f"entry {entry.seq} does not follow entry {entry.seq - 1} (broken link)")
        actual = _entry_hash(entry)
        if actual != entry.entry_hash:
            check.problems.append(f"entry {entry.seq} was changed: its content no longer hashes to its recorded hash")
        recomputed[entry.seq] = actual
        previous = actual
    for anchor in anchors:
        check.anchors += 1
        if recomputed.get(anchor.seq) != anchor.head_hash:
            check.problems.append(f"the head anchored at entry {anchor.seq} (tx {anchor.tx_hash}) no longer matches "
                                  "the log: entries up to it were changed")
        if not ledger.evidence.verify(parse_digest(anchor.head_hash), HashAlgorithm.SHA256).anchored:
            check.problems.append(f"the head of entry {anchor.seq} is not anchored on chain as recorded")
    return check
