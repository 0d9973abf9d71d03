"""Public look-ups behind the web pages: evidence with its endorsers named, and a certificate's record.

- ``evidence_lookup``: is a digest anchored (block, time, submitter, transaction, batch proof) and which authority
  nodes endorsed it, grouped by their kind — notary, arbitration, time service … (TJIFA §7.1.4) — each named as the
  platform's trust list names it (``ledger.services.proofs.trust_list``), else by the accounts file's display name,
  never only by address when a name is known.
- ``certificate_record``: what the certificate page shows (the page the certificate's QR code opens, TJIFA §8.1.1;
  DL art. 27): one certificate version's status now — valid, superseded, expired, suspended, cancelled, revoked —
  and whether the unit is under objection (SZ art. 20), by the same rule the offline verifier applies
  (``assess_certificate``); the unit's version history, rights-page entries (他项权益页, TJIFA §8.2.2) and recorded
  transitions; and the certificate's publishable facts. ``reliable`` is true only for a valid certificate read from
  an index that is up to the chain's head: a page never shows "valid" for a certificate a court should not rely on.

Reads never write: everything comes from the index, the workflow's stored documents and chain reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import ConfigurationError, NotFoundError
from ledger.evidence import Endorsement, EndorserKind, Verification
from ledger.hashing import HashAlgorithm, parse_digest, to_hex
from ledger.indexer.read_models import IxCertificate, IxUnit
from ledger.models import StoredDocument
from ledger.services import registrations
from ledger.services.access import PUBLIC
from ledger.services.proofs import CertificateView, certificate_status, trust_list, verify_evidence
from ledger.services.registrations import CertificatePublic, HistoryEventPublic, RegistrationPublic

#: Authority kinds in the order TJIFA §7.1.4 lists the nodes.
KIND_ORDER = [k.name.lower() for k in EndorserKind]
#: Certificate fields a public page shows (TJIFA §8.1.1 publishable information; §8.2.1 the certificate's face).
PUBLIC_FACTS = ("title", "registration_number", "certificate_version", "jurisdiction", "registry", "object_type",
                "rights", "issued_on", "valid_until", "validity_basis")


@dataclass(frozen=True)
class NamedEndorsement:
    """An endorsement with the authority's name and kind, as the trust list states them."""

    endorsement: Endorsement
    name: str | None
    kind: str
    trusted: bool  # named on the platform's trust list (an authority whose signatures count)


@dataclass(frozen=True)
class EvidenceLookup:
    """The answer to "is this digest anchored, and who vouches for it?"."""

    verification: Verification
    endorsements: dict[str, list[NamedEndorsement]]  # by authority kind, in TJIFA §7.1.4 order
    certificate: CertificateView | None


@dataclass(frozen=True)
class CertificateRecord:
    """A certificate version and its unit, as the certificate page shows them."""

    certificate_hash: str
    version: int | None
    view: CertificateView
    reliable: bool
    registration: RegistrationPublic
    certificates: list[CertificatePublic]
    history: list[HistoryEventPublic]
    facts: dict[str, Any] = field(default_factory=dict)  # PUBLIC_FACTS of this version, when stored
    asset: dict[str, Any] = field(default_factory=dict)
    holder_name: str | None = None

    @property
    def is_current(self) -> bool:
        return self.certificate_hash == self.registration.certificate_hash


def authority_names(ledger: Ledger) -> dict[str, tuple[str, str, bool]]:
    """Address (lower case) -> (name, kind, on the trust list): the trust list's authorities, then the accounts
    file's endorsers by display name."""
    names: dict[str, tuple[str, str, bool]] = {}
    try:
        accounts = list(ledger.accounts)
    except ConfigurationError:  # no accounts file: the trust list alone names authorities
        accounts = []
    for account in accounts:
        if account.endorser_kind:
            names[account.address.lower()] = (account.display_name or account.name, account.endorser_kind, False)
    try:
        listed = trust_list(ledger).authorities
    except NotFoundError:  # no authority holds the endorser role yet
        listed = []
    for authority in listed:
        names[authority.address.lower()] = (authority.name, authority.kind, True)
    return names


def evidence_lookup(ledger: Ledger, digest: bytes, algorithm: HashAlgorithm | None = None) -> EvidenceLookup:
    """Whether ``digest`` is anchored, its endorsements by authority kind with the endorsers named, and — for a
    certificate — its status now."""
    result, certificate = verify_evidence(ledger, digest, algorithm)
    names = authority_names(ledger) if result.endorsements else {}
    grouped: dict[str, list[NamedEndorsement]] = {}
    for endorsement in result.endorsements:
        name, kind, trusted = names.get(endorsement.endorser.lower(), (None, endorsement.endorser_kind, False))
        grouped.setdefault(endorsement.endorser_kind, []).append(
            NamedEndorsement(endorsement, name if name != endorsement.endorser else None, kind, trusted))
    ordered = dict(sorted(grouped.items(), key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER
                                                            else len(KIND_ORDER), kv[0])))
    return EvidenceLookup(result, ordered, certificate)


def certificate_unit(ledger: Ledger, digest: bytes) -> str | None:
    """The registration number of the unit one of whose certificate versions hashes to ``digest`` (None if
    none)."""
    with Session(ledger.engine) as session:
        row = session.get(IxCertificate, (ledger.deployment.deployment_id, to_hex(digest)))
        if row is None:
            return None
        unit = session.get(IxUnit, (ledger.deployment.deployment_id, row.unit_id))
        return unit.registration_number if unit is not None else None


def certificate_record(ledger: Ledger, target: str, certificate_hash: str | None = None) -> CertificateRecord:
    """The record of registration unit ``target`` (a number or unit id) for its certificate ``certificate_hash``
    (default: the current one): status now, versions, rights page, history, publishable facts."""
    registration = registrations.registration(ledger, target, viewer=PUBLIC)  # a public page
    digest = certificate_hash or registration.certificate_hash
    versions = registrations.certificates(ledger, registration.registration_number)
    if certificate_hash is not None and to_hex(parse_digest(digest)) not in {c.certificate_hash for c in versions}:
        raise NotFoundError(f"{digest} is not a certificate of registration {registration.registration_number}")
    view = certificate_status(ledger, parse_digest(registration.unit_id), parse_digest(digest))
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(parse_digest(digest)))
        document = json.loads(stored.body) if stored is not None and stored.kind == "certificate" else {}
    fresh = registration.index
    reliable = view.status.usable and fresh.lag_blocks == 0 and fresh.chain_head is not None
    asset = document.get("asset") or {}
    return CertificateRecord(
        certificate_hash=to_hex(parse_digest(digest)),
        version=document.get("certificate_version") or next(
            (c.version for c in versions if c.certificate_hash == to_hex(parse_digest(digest))), None),
        view=view, reliable=reliable, registration=registration, certificates=versions,
        history=registrations.history(ledger, registration.registration_number, viewer=PUBLIC),
        facts={k: document[k] for k in PUBLIC_FACTS if k in document},
        asset={k: asset[k] for k in ("name", "form", "update_cycle") if k in asset},
        holder_name=(document.get("holder") or {}).get("legal_name"))
