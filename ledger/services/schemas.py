"""The filing use cases' inputs and outputs (issue #11): one set of models for the CLI, the API and the pages,
layered as the FastAPI full-stack template does it — a Base with the shared fields, a Create for what a caller
sends, a Public for what a caller reads.

Parties are named by their account in this installation's accounts file (the registry, and in a development
ledger the holders too); documents are given by their SHA-256 (the file stays with its owner — 原始数据不出域,
REGISTRATION_RULES §6.3 — and its digest is what the chain records).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ledger.models import Application, ApplicationEvent, ConsentRequest, NoticeObjection

DIGEST = r"^0x[0-9a-fA-F]{64}$"
Digest = str
RightName = Literal["holding", "processing_use", "product_operation"]
RIGHT_BITS: dict[str, int] = {"holding": 1, "processing_use": 2, "product_operation": 4}


def rights_mask(rights: list[RightName]) -> int:
    mask = 0
    for right in rights:
        mask |= RIGHT_BITS[right]
    return mask


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- initial application ---------------------------------------------------------------------------------------


class HolderIdentityBase(_Input):
    """Who holds the data (权利人), as the certificate prints it (TJIFA §8.2.1)."""

    legal_name: str = Field(min_length=1, max_length=200)
    kind: Literal["legal_person", "organisation", "natural_person"] = "legal_person"
    uscc: str | None = Field(default=None, description="统一社会信用代码 (legal persons and organisations)")


class AssetBase(_Input):
    """The data resource or product (TJIFA §8.2.1; SZ art. 14)."""

    name: str = Field(min_length=1, max_length=200)
    form: str = Field(description="dataset, interface, report, application or other")
    acquisition: str = Field(description="original, collected, traded or other")
    update_cycle: str = Field(description="real_time, daily, monthly or custom")
    update_cycle_custom: str | None = None
    scenarios: list[str] = Field(min_length=1)
    scope: str = Field(min_length=1)
    version: str | None = None
    industry: str | None = None


class InitialApplicationCreate(_Input):
    """An initial registration application (首次登记申请)."""

    profile: str = Field(description="jurisdiction profile: TJIFA, SZ, AH, GD, GZ, DL ...")
    holder: str = Field(description="the applicant's account")
    object_type: str = Field(description="data_resource, data_product, data_asset ...")
    holder_identity: HolderIdentityBase
    asset: AssetBase
    rights: list[RightName] = Field(default=["holding", "processing_use", "product_operation"], min_length=1)
    document_hash: Digest | None = Field(default=None, pattern=DIGEST, description="the application document")
    content_fingerprint: Digest | None = Field(default=None, pattern=DIGEST, description="the data's own "
                                               "fingerprint: the same holder registers the same data once")
    data_valid_until: str | None = Field(default=None, description="the data's own validity (YYYY-MM-DD)")
    simple: bool = Field(default=False, description="the simple procedure (GD art. 16)")

    def payload(self) -> dict[str, Any]:
        content = {"holder": self.holder_identity.model_dump(exclude_none=True),
                   "asset": self.asset.model_dump(exclude_none=True)}
        payload: dict[str, Any] = {"content": content}
        if self.content_fingerprint:
            payload["content_fingerprint"] = self.content_fingerprint.lower()
        if self.data_valid_until:
            payload["data_valid_until"] = self.data_valid_until
        if self.simple:
            payload["procedure"] = "simple"
        return payload


# --- steps -----------------------------------------------------------------------------------------------------


class ReviewDecision(_Input):
    """A review step: pass the formal review, file the third-party report, request a supplement, or reject."""

    decision: Literal["pass", "report", "supplement", "reject"]
    report_hash: Digest | None = Field(default=None, pattern=DIGEST, description="the third-party report")
    reason: str | None = Field(default=None, max_length=2000, description="what is missing, or why refused")

    @model_validator(mode="after")
    def _complete(self) -> ReviewDecision:
        if self.decision == "report" and not self.report_hash:
            raise ValueError("report_hash: a third-party review files its report's digest")
        if self.decision in ("supplement", "reject") and not (self.reason or "").strip():
            raise ValueError("reason: say what is missing, or why the application is refused")
        return self


class DocumentRef(_Input):
    document_hash: Digest | None = Field(default=None, pattern=DIGEST)


class NoticeObjectionCreate(_Input):
    """An objection during public notice (GD art. 11; DL art. 23; GZ art. 19)."""

    grounds: str = Field(min_length=1, max_length=2000)
    objector_name: str = Field(min_length=1, max_length=200)
    objector_id: str = Field(min_length=1, max_length=64, description="ID number or credit code")
    evidence_hash: Digest | None = Field(default=None, pattern=DIGEST)


class NoticeObjectionResolution(_Input):
    upheld: bool
    objection: int | None = Field(default=None, description="which objection (default: every pending one)")


# --- filings on a registered unit ------------------------------------------------------------------------------


class FilingBase(_Input):
    document_hash: Digest | None = Field(default=None, pattern=DIGEST, description="the contract, decision or "
                                         "order it rests on")
    risk_acknowledgement: Digest | None = Field(default=None, pattern=DIGEST, description="written risk "
                                                "acknowledgement while an objection stands (SZ art. 20)")

    def payload(self) -> dict[str, Any]:
        return {"risk_acknowledgement": self.risk_acknowledgement.lower()} if self.risk_acknowledgement else {}


class EntryCreate(FilingBase):
    """A licence (许可登记) or a pledge (质押) on the additional-rights page (TJIFA §8.2.2)."""

    counterparty: str = Field(description="the licensee's or pledgee's account")
    rights: list[RightName] = Field(min_length=1)
    valid_until: str | None = Field(default=None, description="the term's last day (YYYY-MM-DD)")


class ReleaseCreate(FilingBase):
    entry_id: int = Field(ge=1)


class TransferCreate(FilingBase):
    """A transfer registration (转移登记)."""

    to: str = Field(description="the transferee's account")
    rights: list[RightName] = Field(default=["holding", "processing_use", "product_operation"], min_length=1)
    new_holder: HolderIdentityBase | None = Field(default=None, description="the transferee as the certificate "
                                                  "will print it (needed when the holding right moves)")


class ChangeCreate(FilingBase):
    """A change registration (变更登记): only the given fields change."""

    asset: dict[str, Any] | None = None
    holder: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeCreate:
        if not self.asset and not self.holder:
            raise ValueError("a change registration changes something: give asset or holder fields")
        return self


class CancellationCreate(FilingBase):
    """A cancellation (注销登记): by the holder, by a court or arbitration order, or ex officio."""

    ground: Literal["holder", "judicial_order", "no_remaining_holder", "expired"] = "holder"


class RenewalCreate(FilingBase):
    data_valid_until: str | None = None


class AuthorityActCreate(_Input):
    """A suspension (中止), reinstatement or revocation (撤销): an authority's act with its grounds document."""

    document_hash: Digest = Field(pattern=DIGEST)


class ObjectionRegistrationCreate(_Input):
    """An objection registration (异议登记, SZ art. 20) against a registered unit."""

    objector: str = Field(description="the objector's account")
    objector_name: str = Field(min_length=1, max_length=200)
    objector_id: str = Field(min_length=1, max_length=64)
    objector_id_kind: Literal["uscc", "resident_id", "passport", "other"] = "uscc"
    grounds: str = Field(min_length=1, max_length=2000)
    matter: str | None = Field(default=None, max_length=2000, description="the matter objected to")
    evidence_hash: Digest = Field(pattern=DIGEST)


class ObjectionDisposal(_Input):
    """The court's disposal of an objection registration: upheld or dismissed, with its judgment or award."""

    upheld: bool
    document_hash: Digest = Field(pattern=DIGEST)


class OrderCreate(_Input):
    document_hash: Digest = Field(pattern=DIGEST, description="the judgment, ruling or award")


# --- outputs ---------------------------------------------------------------------------------------------------


class ApplicationEventPublic(BaseModel):
    action: str
    from_state: str
    to_state: str
    actor: str
    note: str
    document_hash: str | None
    at: datetime

    @classmethod
    def of(cls, event: ApplicationEvent) -> ApplicationEventPublic:
        return cls(action=event.action, from_state=event.from_state, to_state=event.to_state, actor=event.actor,
                   note=event.note, document_hash=event.document_hash, at=event.at)


class NoticeObjectionPublic(BaseModel):
    id: int
    objector: str
    objector_name: str
    grounds: str
    evidence_hash: str | None
    resolve_by: str | None
    status: str

    @classmethod
    def of(cls, row: NoticeObjection) -> NoticeObjectionPublic:
        assert row.id is not None
        return cls(id=row.id, objector=row.objector, objector_name=row.objector_name, grounds=row.grounds,
                   evidence_hash=row.evidence_hash, resolve_by=row.resolve_by, status=row.status)


class ConsentRequestPublic(BaseModel):
    """A consent a party signs in its own wallet: the EIP-712 typed data, and whether it is signed."""

    id: int
    signer: str
    signer_name: str
    action: int
    nonce: int
    deadline: int
    typed_data: dict[str, Any] = Field(description="what the wallet signs (eth_signTypedData_v4)")
    signed: bool

    @classmethod
    def of(cls, row: ConsentRequest) -> ConsentRequestPublic:
        assert row.id is not None
        return cls(id=row.id, signer=row.signer, signer_name=row.signer_name, action=row.action, nonce=row.nonce,
                   deadline=row.deadline, typed_data=json.loads(row.typed_data), signed=bool(row.signature))


class ConsentSignature(_Input):
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65 bytes: r, s, v (27/28), low s")


class ApplicationPublic(BaseModel):
    """An application and where it stands."""

    id: str
    kind: str
    profile: str
    state: str
    holder: str
    counterparty: str | None
    registration_number: str | None
    notice_end: str | None
    notice_official: bool
    certificate_hash: str | None
    tx_hash: str | None
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    waiting_for: str | None = Field(default=None, description="review (a third-party report), notice (its end), "
                                    "consents (signed in the parties' wallets), or none")
    history: list[ApplicationEventPublic] | None = None
    objections: list[NoticeObjectionPublic] | None = None
    consents: list[ConsentRequestPublic] | None = Field(default=None, description="consents requested from "
                                                        "parties who sign in their own wallets")

    @classmethod
    def of(cls, app: Application, waiting_for: str | None = None) -> ApplicationPublic:
        return cls(id=app.id, kind=app.kind, profile=app.profile, state=app.state, holder=app.holder,
                   counterparty=app.counterparty, registration_number=app.registration_number,
                   notice_end=app.notice_end, notice_official=app.notice_official,
                   certificate_hash=app.certificate_hash, tx_hash=app.tx_hash, payload=json.loads(app.payload),
                   created_at=app.created_at, updated_at=app.updated_at, waiting_for=waiting_for)


class ObjectionRegistrationPublic(BaseModel):
    """An objection registration as registered: its id, the objector's filing deadline and its proof."""

    objection_id: str
    registration_number: str
    deadline: str | None = Field(description="the court/arbitration filing deadline, 24:00 China time")
    proof: dict[str, Any] | None = Field(description="the objection-registration proof (异议登记证明)")


class ActPublic(BaseModel):
    """An act on chain (litigation recorded, objection disposed of or lapsed, order recorded)."""

    kind: str
    registration_number: str
    subject: str
    tx_hash: str
    block_number: int
