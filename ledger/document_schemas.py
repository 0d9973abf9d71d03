"""Versioned schemas of the ledger's documents; a document is valid only if its schema accepts it.

Each document is canonical JSON (RFC 8785) and its SHA-256 is what goes on chain. Kinds: registration
certificate (TJIFA §8.2.1), additional-rights page (他项权益页, TJIFA §8.2.2), evidence report (存证报告书,
TJIFA §7.3 / App. 5), supplementary-registration notice (补充登记通知, App. 7) and cancellation proof
(注销证明, AH art. 25).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledger.errors import LedgerValueError

HEX32 = r"^0x[0-9a-f]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
NUMBER = r"^[A-Z]{2,4}-\d{4}-\d{6}-[0-9A-Z]$"
CERTIFICATE_SCHEMA = "ledger.certificate/1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Holder(_Strict):
    name: str = Field(min_length=1)
    account: str = Field(pattern=ADDRESS)
    uscc: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")  # 统一社会信用代码


class Asset(_Strict):
    name: str
    version: str | None = None
    object_type: str
    form: str | None = None
    acquisition: str | None = None
    update_cycle: str | None = None
    scenarios: str | list[str] | None = None


class Certificate(_Strict):
    """数据资产登记证书 (TJIFA §8.2.1, App. 8)."""

    schema_: Literal["ledger.certificate/1"] = Field(alias="schema")
    title: str
    registration_number: str = Field(pattern=NUMBER)
    certificate_version: int = Field(ge=1)
    jurisdiction: str
    registry: str
    holder: Holder
    asset: Asset
    rights: list[str] = Field(min_length=1)
    issued_on: str = Field(pattern=DATE)
    valid_until: str | None = Field(default=None, pattern=DATE)
    annexes: dict[str, list[str]]


class RightsEntryDoc(_Strict):
    entry_id: int = Field(ge=1)
    kind: Literal["pledge", "licence"]
    counterparty: str = Field(pattern=ADDRESS)
    rights: list[str] = Field(min_length=1)
    valid_until: str | None = Field(default=None, pattern=DATE)
    status: Literal["active", "released"]
    contract_hash: str = Field(pattern=HEX32)


class RightsPage(_Strict):
    """数据资产他项权益页 (TJIFA §8.2.2)."""

    schema_: Literal["ledger.rights-page/1"] = Field(alias="schema")
    registration_number: str = Field(pattern=NUMBER)
    as_of: str = Field(pattern=DATE)
    entries: list[RightsEntryDoc]


class DigestEntry(_Strict):
    name: str
    hash_algorithm: Literal["sha256", "keccak256", "sm3"]
    digest: str = Field(pattern=HEX32)


class AnchorRef(_Strict):
    chain_id: int
    contract: str = Field(pattern=ADDRESS)
    tx_hash: str = Field(pattern=HEX32)
    block_number: int = Field(ge=0)
    block_time: str


class EvidenceReport(_Strict):
    """存证报告书 / 存证证书 (TJIFA §7.3, App. 5)."""

    schema_: Literal["ledger.evidence-report/1"] = Field(alias="schema")
    report_number: str = Field(min_length=1)  # 存证号
    provider: str
    holder: Holder
    summary: str
    digests: list[DigestEntry] = Field(min_length=1)
    anchor: AnchorRef
    issued_on: str = Field(pattern=DATE)


class SupplementaryNotice(_Strict):
    """补充登记通知 (TJIFA §6.4.2, App. 7): what is missing and by when."""

    schema_: Literal["ledger.supplementary-notice/1"] = Field(alias="schema")
    application_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    registry: str
    applicant: str
    deficiencies: list[str] = Field(min_length=1)
    resubmit_by: str = Field(pattern=DATE)
    issued_on: str = Field(pattern=DATE)


class CancellationProof(_Strict):
    """注销证明 (AH art. 25; logical cancellation, history kept)."""

    schema_: Literal["ledger.cancellation-proof/1"] = Field(alias="schema")
    registration_number: str = Field(pattern=NUMBER)
    registry: str
    ground: Literal["holder", "judicial_order", "no_remaining_holder"]
    governing_document_hash: str = Field(pattern=HEX32)
    cancelled_on: str = Field(pattern=DATE)


SCHEMAS: dict[str, type[_Strict]] = {
    "ledger.certificate/1": Certificate,
    "ledger.rights-page/1": RightsPage,
    "ledger.evidence-report/1": EvidenceReport,
    "ledger.supplementary-notice/1": SupplementaryNotice,
    "ledger.cancellation-proof/1": CancellationProof,
}


def validate_document(document: Any) -> dict[str, Any]:
    """The document if its schema accepts it; otherwise LedgerValueError listing every problem by field."""
    if not isinstance(document, dict):
        raise LedgerValueError("a document is a JSON object")
    schema = document.get("schema")
    model = SCHEMAS.get(str(schema))
    if model is None:
        raise LedgerValueError(f"unknown document schema {schema!r} (known: {', '.join(SCHEMAS)})")
    try:
        model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise LedgerValueError(f"{schema} document is invalid: {problems}") from None
    return document
