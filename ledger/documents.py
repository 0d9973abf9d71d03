"""Registration documents as canonical JSON; the SHA-256 of the canonical bytes is what goes on chain.

This module builds the certificate (确权证书 / 登记证书) with the fields TJIFA §8.2.1 requires plus those other
profiles name (DL art. 26: registry, issue date, acquisition, right type, scope; BJ-Op §(六): right type and
data status). Rendering (PDF, QR) and the other document kinds follow in issue #4.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.hashing import HashAlgorithm, document_digest
from ledger.profiles import JurisdictionProfile, ObjectType
from ledger.registry import Right

CERTIFICATE_SCHEMA = "ledger.certificate/1"
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
