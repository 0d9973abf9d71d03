"""Registration documents as canonical JSON; the SHA-256 of the canonical bytes is what goes on chain.

Certificates (REGISTRATION_RULES §5): :func:`certificate` issues version 1 of a registration unit's certificate
(``ledger.certificate/2``) from the declared :class:`~ledger.document_schemas.CertificateContent` with every field
TJIFA §8.2.1 and App. 8 require; :func:`reissue` issues the next version for a change, supplementary filing,
transfer or renewal (TJIFA §8.3.1 "cancel the old certificate and reissue"), carrying the previous certificate's
full content forward with only the given fields changed. The other documents: the other-rights page (他项权益页,
TJIFA §8.2.2), the evidence report (存证报告书, TJIFA §7.3), the supplementary notice (补充登记通知, App. 7), the
cancellation proof (注销证明, AH art. 25) and the objection-registration proof (异议登记证明, SZ art. 20).
A registration recognised from another platform (TJIFA §6.4.1.4) gets ``ledger.certificate/3``: the same content
and where it was recognised from, carried forward by every reissue.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple, overload

from ledger.document_schemas import (
    CERTIFICATE_SCHEMA,
    CERTIFICATE_SCHEMA_V1,
    CERTIFICATE_SCHEMA_V3,
    CERTIFICATE_SCHEMAS,
    CHINA_MIDNIGHT,
    CHINA_TIME_ZONE,
    OBJECTION_PROOF_SCHEMA,
    OBJECTION_RULE,
    OBJECTION_WINDOW_DAYS,
    CertificateContent,
    HolderKind,
    Objector,
    RecognisedFrom,
    certificate_serial,
    parse_content,
    parse_recognition,
    validate_document,
)
from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, document_digest, parse_digest, to_hex
from ledger.lifecycle import Right
from ledger.profiles import JurisdictionProfile, ObjectType

RIGHT_NAMES = {Right.HOLDING: "数据资源持有权", Right.PROCESSING_USE: "数据加工使用权",
               Right.PRODUCT_OPERATION: "数据产品经营权"}



class NewHolder(NamedTuple):
    """The holder a transfer reissues the certificate to (SZ art. 17; TJIFA §6.4.3.1)."""

    legal_name: str
    uscc: str | None
    account: str
    kind: HolderKind = "legal_person"


def rights_list(mask: int) -> list[str]:
    return [RIGHT_NAMES[r] for r in (Right.HOLDING, Right.PROCESSING_USE, Right.PRODUCT_OPERATION) if mask & r]


def _hex_digest(value: bytes | str) -> str:
    return to_hex(value if isinstance(value, bytes) else parse_digest(value))


def _validated(document: dict[str, Any], what: str, hint: str = "") -> dict[str, Any]:
    try:
        return validate_document(document)
    except LedgerValueError as exc:
        raise LedgerValueError(f"{what}: {exc.user_message}{hint}") from None


@overload
def certificate(*, content: CertificateContent | Mapping[str, Any], title: str, registration_number: str,
                jurisdiction: str, registry_name: str, holder_account: str, object_type: ObjectType, rights: int,
                issued_on: date, valid_until: date | None, validity_basis: str,
                evidence_report: bytes | str | None = None, evidence_digests: Sequence[bytes | str] = (),
                notes: Sequence[str] = (),
                recognised_from: RecognisedFrom | Mapping[str, Any] | None = None) -> dict[str, Any]: ...


@overload
def certificate(*, registration_number: str, version: int, profile: JurisdictionProfile, holder_name: str,
                holder_address: str, holder_id: str | None, asset: dict[str, Any], object_type: ObjectType,
                rights: int, issued_on: date, valid_until: date | None, registry_name: str,
                evidence_digests: list[str] | None = None) -> dict[str, Any]: ...


def certificate(**arguments: Any) -> dict[str, Any]:
    """The certificate of a registration unit (TJIFA §8.2.1, App. 8; REGISTRATION_RULES §5).

    Called with ``content=`` it is :func:`initial_certificate` (``ledger.certificate/2``, the full content).
    Called with the pre-issue-#9 arguments (``holder_name=``, ``asset=`` ...) it is :func:`certificate_v1`, kept
    until ``ledger.workflow`` switches over.
    """
    if "content" in arguments:
        return initial_certificate(**arguments)
    return certificate_v1(**arguments)


def initial_certificate(*, content: CertificateContent | Mapping[str, Any], title: str, registration_number: str,
                        jurisdiction: str, registry_name: str, holder_account: str, object_type: ObjectType,
                        rights: int, issued_on: date, valid_until: date | None, validity_basis: str,
                        evidence_report: bytes | str | None = None, evidence_digests: Sequence[bytes | str] = (),
                        notes: Sequence[str] = (),
                        recognised_from: RecognisedFrom | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Version 1 of a unit's certificate, ``ledger.certificate/2``, validated (LedgerValueError names every
    missing or wrong field).

    ``content`` is what the applicant declared (holder's legal name and USCC, asset name, version, type,
    acquisition, update cycle, scenarios and scope: TJIFA §8.2.1); ``title`` the certificate's name under the
    profile (``JurisdictionProfile.title_for``); ``registry_name`` the issuing body; ``validity_basis`` the validity
    in words (e.g. "3 calendar years …" or "the data's own validity", TJIFA §8.3.3); ``evidence_report`` the
    hash of the evidence report annexed or linked (TJIFA §7.3.1, §8.2.1); ``notes`` footnotes printed with it,
    e.g. a profile value marked [derived] because the source sets none; ``recognised_from`` where a registration
    recognised from another platform comes from (TJIFA §6.4.1.4): the certificate is then ``ledger.certificate/3``.
    """
    declared = parse_content(content)
    document = {
        "schema": CERTIFICATE_SCHEMA,
        "title": title,
        "serial": certificate_serial(registration_number, 1),
        "registration_number": registration_number,
        "certificate_version": 1,
        "supersedes": None,
        "jurisdiction": jurisdiction,
        "registry": registry_name,
        "object_type": object_type.name.lower(),
        "holder": {**declared.holder.model_dump(), "account": holder_account},
        "asset": declared.asset.model_dump(),
        "rights": rights_list(rights),
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "validity_basis": validity_basis,
        "annexes": {"evidence_report": _hex_digest(evidence_report) if evidence_report is not None else None,
                    "evidence_digests": [_hex_digest(d) for d in evidence_digests]},
        "notes": list(notes),
    }
    if recognised_from is not None:
        document["schema"] = CERTIFICATE_SCHEMA_V3
        document["recognised_from"] = parse_recognition(recognised_from).model_dump()
    return _validated(document, "the certificate cannot be issued")


def certificate_v1(*, registration_number: str, version: int, profile: JurisdictionProfile, holder_name: str,
                   holder_address: str, holder_id: str | None, asset: dict[str, Any], object_type: ObjectType,
                   rights: int, issued_on: date, valid_until: date | None, registry_name: str,
                   evidence_digests: list[str] | None = None) -> dict[str, Any]:
    """The pre-issue-#9 certificate (``ledger.certificate/1``): superseded by :func:`initial_certificate` and
    :func:`reissue`, which carry the content TJIFA §8.2.1 requires."""
    return {
        "schema": CERTIFICATE_SCHEMA_V1,
        "title": "数据资产登记证书",
        "registration_number": registration_number,
        "certificate_version": version,
        "jurisdiction": profile.code,
        "registry": registry_name,
        "holder": {"name": holder_name, "account": holder_address, "uscc": holder_id},
        "asset": {
            "name": asset.get("name", ""),
            "version": asset.get("version"),
            "object_type": object_type.name.lower(),
            "form": asset.get("form"),  # dataset / interface / report / application / other
            "acquisition": asset.get("acquisition"),  # original / collected / traded / other
            "update_cycle": asset.get("update_cycle"),
            "scenarios": asset.get("scenarios"),
        },
        "rights": rights_list(rights),
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "annexes": {"evidence_digests": evidence_digests or []},
    }


# Fields a reissue sets itself, and the one a change may not touch (a new account is a transfer: new_holder).
# Where a recognised registration came from (TJIFA §6.4.1.4) is history: carried forward, never changed.
_SET_BY_REISSUE = ("schema", "serial", "registration_number", "certificate_version", "supersedes", "issued_on",
                   "valid_until", "jurisdiction", "recognised_from")


def _upgrade_v1(previous: Mapping[str, Any]) -> dict[str, Any]:
    """A ``ledger.certificate/1`` document's content in ``/2`` form. What /1 never recorded (acquisition, scope,
    validity basis ...) stays missing, so the reissue must supply it."""
    holder, asset = previous["holder"], previous["asset"]
    scenarios = asset.get("scenarios")
    if isinstance(scenarios, str):
        scenarios = [part.strip() for part in re.split(r"[、,，;；]", scenarios) if part.strip()]
    return {
        "title": previous["title"], "registry": previous["registry"], "object_type": asset["object_type"],
        "holder": {"legal_name": holder["name"], "kind": "legal_person", "uscc": holder.get("uscc"),
                   "account": holder["account"]},
        "asset": {key: value for key, value in {
            "name": asset.get("name"), "version": asset.get("version"), "form": asset.get("form"),
            "acquisition": asset.get("acquisition"), "update_cycle": asset.get("update_cycle"),
            "scenarios": scenarios}.items() if value not in (None, "", [])},
        "rights": previous["rights"],
        "annexes": {"evidence_report": None, "evidence_digests": previous["annexes"].get("evidence_digests", [])},
        "notes": [],
    }


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: nested mappings merge key by key, any other value (a list, None)
    replaces."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping):
            merged[key] = _merge(merged[key] if isinstance(merged.get(key), dict) else {}, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def reissue(previous: Mapping[str, Any], *, changes: Mapping[str, Any] | None = None, version: int,
            issued_on: date, valid_until: date | None,
            new_holder: NewHolder | tuple[str, str | None, str] | tuple[str, str | None, str, HolderKind] | None = None,
            rights: int | None = None, validity_basis: str | None = None) -> dict[str, Any]:
    """The next version of a certificate (``ledger.certificate/2``; ``/3`` for a recognised registration, whose
    ``recognised_from`` is carried forward unchanged), for a change, supplementary filing, transfer or renewal:
    TJIFA §8.3.1 cancels the old certificate and reissues it; GZ art. 31-32 updates it.

    Everything on ``previous`` (a ``/1``, ``/2`` or ``/3`` certificate) is carried forward; only these change:

    - ``changes``: nested field paths to new values, e.g. ``{"asset": {"name": "…"}}`` or
      ``{"holder": {"legal_name": "…"}}`` (a renamed company, GD art. 18); lists and None replace. The serial,
      registration number, version, supersedes, dates and jurisdiction are set here and cannot be changed, nor can
      the holder's account (a new holder is a transfer: ``new_holder``);
    - ``new_holder``: (legal name, USCC, account[, kind]) of the transferee (SZ art. 17; TJIFA §6.4.3.1);
    - ``rights``: the unit's rights as a bit mask, when they change; ``validity_basis``: when it changes;
    - ``version`` (must be later than the previous one), ``issued_on`` and ``valid_until`` (a renewal extends it,
      TJIFA §8.3.3); ``supersedes`` becomes the SHA-256 of ``previous``.

    The result is validated. A ``/1`` previous never recorded some required content (acquisition, scope, validity
    basis, the holder's USCC, sometimes the legal name): the LedgerValueError names it and ``changes`` must give it.
    """
    prior: dict[str, Any] = copy.deepcopy(dict(previous))  # the new document shares nothing with the old one
    _validated(prior, "the previous certificate is not valid")
    if prior["schema"] not in CERTIFICATE_SCHEMAS:
        raise LedgerValueError(f"a {prior['schema']} document is not a certificate: only a certificate is "
                               "reissued")
    if version <= prior["certificate_version"]:
        raise LedgerValueError(f"version {version} does not follow the previous certificate's version "
                               f"{prior['certificate_version']}")
    changes = dict(changes or {})
    refused = [key for key in _SET_BY_REISSUE if key in changes]
    if isinstance(changes.get("holder"), Mapping):
        if "account" in changes["holder"]:
            refused.append("holder.account (a new holder is a transfer: pass new_holder)")
        if new_holder is not None:
            refused.append("holder (new_holder replaces the holder; give its kind in new_holder)")
    if refused:
        raise LedgerValueError(f"a reissue cannot change {', '.join(refused)}")
    v1 = prior["schema"] == CERTIFICATE_SCHEMA_V1
    body = _upgrade_v1(prior) if v1 else {k: v for k, v in prior.items() if k not in _SET_BY_REISSUE}
    recognised = prior.get("recognised_from")
    if new_holder is not None:
        holder = NewHolder(*new_holder)
        body["holder"] = {"legal_name": holder.legal_name, "kind": holder.kind, "uscc": holder.uscc,
                          "account": holder.account}
    if rights is not None:
        body["rights"] = rights_list(rights)
    if validity_basis is not None:
        body["validity_basis"] = validity_basis
    body = _merge(body, changes)
    document = {
        **body,
        "schema": CERTIFICATE_SCHEMA if recognised is None else CERTIFICATE_SCHEMA_V3,
        "serial": certificate_serial(prior["registration_number"], version),
        "registration_number": prior["registration_number"],
        "certificate_version": version,
        "supersedes": to_hex(document_hash(prior)),
        "jurisdiction": prior["jurisdiction"],
        "issued_on": issued_on.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    if recognised is not None:
        document["recognised_from"] = recognised
    hint = (f" (the previous certificate is {CERTIFICATE_SCHEMA_V1}, which did not record all the content "
            "TJIFA §8.2.1 requires: give what is missing in changes)") if v1 else ""
    return _validated(document, f"version {version} of {prior['registration_number']} cannot be issued", hint)


def document_hash(document: dict[str, Any]) -> bytes:
    return document_digest(document, HashAlgorithm.SHA256)


def rights_page(registration_number: str, as_of: date, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The additional-rights page (他项权益页, TJIFA §8.2.2): every pledge and licence entry, released ones kept."""
    return {
        "schema": "ledger.rights-page/1",
        "registration_number": registration_number,
        "as_of": as_of.isoformat(),
        "entries": [{
            "entry_id": e["entry_id"], "kind": e["kind"], "counterparty": e["counterparty"],
            "rights": rights_list(e["rights"]),
            "valid_until": e["valid_until"].isoformat() if e.get("valid_until") else None,
            "status": "active" if e["active"] else "released", "contract_hash": e["contract_hash"],
        } for e in entries],
    }


def evidence_report(*, report_number: str, provider: str, holder_name: str, holder_address: str,
                    holder_id: str | None, summary: str, digests: list[dict[str, str]], chain_id: int,
                    contract: str, tx_hash: str, block_number: int, block_time: str,
                    issued_on: date) -> dict[str, Any]:
    """The evidence report (存证报告书 / 存证证书, TJIFA §7.3 and App. 5)."""
    return {
        "schema": "ledger.evidence-report/1", "report_number": report_number, "provider": provider,
        "holder": {"name": holder_name, "account": holder_address, "uscc": holder_id}, "summary": summary,
        "digests": digests,
        "anchor": {"chain_id": chain_id, "contract": contract, "tx_hash": tx_hash, "block_number": block_number,
                   "block_time": block_time},
        "issued_on": issued_on.isoformat(),
    }


def supplementary_notice(*, application_id: str, registry: str, applicant: str, deficiencies: list[str],
                         resubmit_by: date, issued_on: date) -> dict[str, Any]:
    """The supplementary-registration notice (补充登记通知, TJIFA §6.4.2, App. 7)."""
    return {
        "schema": "ledger.supplementary-notice/1", "application_id": application_id, "registry": registry,
        "applicant": applicant, "deficiencies": deficiencies, "resubmit_by": resubmit_by.isoformat(),
        "issued_on": issued_on.isoformat(),
    }


def cancellation_proof(*, registration_number: str, registry: str, ground: str, governing_document_hash: str,
                       cancelled_on: date) -> dict[str, Any]:
    """The cancellation proof (注销证明, AH art. 25): the unit is cancelled, its history kept."""
    return {
        "schema": "ledger.cancellation-proof/1", "registration_number": registration_number, "registry": registry,
        "ground": ground, "governing_document_hash": governing_document_hash, "cancelled_on": cancelled_on.isoformat(),
    }


def expiry_announcement(*, registry: str, registration_number: str, valid_until: date,
                        announced_on: date) -> dict[str, Any]:
    """注销公告 (GZ art. 35): the registration was not renewed within its validity; the registry cancels it and
    announces the cancellation. Its hash grounds the ex-officio cancellation on chain."""
    return _validated({
        "schema": "ledger.expiry-announcement/1", "title": "数据要素登记注销公告", "registry": registry,
        "registration_number": registration_number, "valid_until": valid_until.isoformat(),
        "announced_on": announced_on.isoformat(), "rule": "GZ art. 35",
    }, "the expiry announcement")


def certificate_annexes(*, rights_page: dict[str, Any] | None = None,
                        evidence_report: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The annexes a certificate PDF prints after the certificate (pass them as the bundle's
    ``presentation["annexes"]``, which the bundle's seal covers): the other-rights page when it has entries
    (TJIFA §8.2.2: pledges and licences annotated on the certificate) and the evidence report (TJIFA §7.3.1)."""
    annexes: dict[str, dict[str, Any]] = {}
    if rights_page is not None and _validated(rights_page, "the rights page")["entries"]:
        annexes["rights_page"] = rights_page
    if evidence_report is not None:
        annexes["evidence_report"] = _validated(evidence_report, "the evidence report")
    return annexes


def objection_filing_deadline(accepted_on: date, window_days: int = OBJECTION_WINDOW_DAYS) -> date:
    """The last day (until 24:00 China time) to lodge the court's or arbitral body's acceptance notice: 15 days
    from acceptance (SZ art. 20). **[derived]** SZ art. 20 says only "15日": calendar days, the day of acceptance
    not counted, the period ending at 24:00 of its last day (the usual PRC way of counting periods)."""
    return accepted_on + timedelta(days=window_days)


def objection_proof(*, registry: str, registration_number: str, objection_id: bytes | str,
                    objector: Objector | Mapping[str, Any], matter: str, grounds: str,
                    evidence_digests: Sequence[bytes | str], accepted_on: date,
                    filing_deadline: date | None = None) -> dict[str, Any]:
    """The objection-registration proof (异议登记证明) the registry gives the objector on accepting an objection
    registration (SZ art. 20), validated.

    ``objector``: name, id_kind (uscc / resident_id / passport / other), id_number, account. ``filing_deadline``
    defaults to :func:`objection_filing_deadline` (15 days; pass the chain's deadline when it differs). The proof
    states the rule: the objector lodges the acceptance notice by then, 24:00 China time, or the objection lapses.
    """
    who = objector.model_dump() if isinstance(objector, Objector) else dict(objector)
    document = {
        "schema": OBJECTION_PROOF_SCHEMA, "title": "异议登记证明", "registry": registry,
        "registration_number": registration_number, "objection_id": _hex_digest(objection_id), "objector": who,
        "matter": matter, "grounds": grounds, "evidence_digests": [_hex_digest(d) for d in evidence_digests],
        "accepted_on": accepted_on.isoformat(),
        "filing_deadline": {"date": (filing_deadline or objection_filing_deadline(accepted_on)).isoformat(),
                            "time": CHINA_MIDNIGHT, "time_zone": CHINA_TIME_ZONE},
        "rule": OBJECTION_RULE,
    }
    return _validated(document, "the objection-registration proof cannot be issued")
