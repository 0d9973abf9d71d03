"""Registration documents as canonical JSON; the SHA-256 of the canonical bytes is what goes on chain.

This module builds the certificate (确权证书 / 登记证书) with the fields TJIFA §8.2.1 requires plus those other
profiles name (DL art. 26: registry, issue date, acquisition, right type, scope; BJ-Op §(六): right type and
data status). Rendering (PDF, QR) and the other document kinds follow in issue #4.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.document_schemas import CERTIFICATE_SCHEMA
from ledger.hashing import HashAlgorithm, document_digest
from ledger.lifecycle import Right
from ledger.profiles import JurisdictionProfile, ObjectType

RIGHT_NAMES = {Right.HOLDING: "数据资源持有权", Right.PROCESSING_USE: "数据加工使用权",
               Right.PRODUCT_OPERATION: "数据产品经营权"}


def rights_list(mask: int) -> list[str]:
    return [RIGHT_NAMES[r] for r in (Right.HOLDING, Right.PROCESSING_USE, Right.PRODUCT_OPERATION) if mask & r]


def certificate(*, registration_number: str, version: int, profile: JurisdictionProfile, holder_name: str,
                holder_address: str, holder_id: str | None, asset: dict[str, Any], object_type: ObjectType,
                rights: int, issued_on: date, valid_until: date | None, registry_name: str,
                evidence_digests: list[str] | None = None) -> dict[str, Any]:
    """The certificate document (TJIFA §8.2.1 and App. 8)."""
    return {
        "schema": CERTIFICATE_SCHEMA,
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
