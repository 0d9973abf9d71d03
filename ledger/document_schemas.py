"""Versioned schemas of the ledger's documents; a document is valid only if its schema accepts it.

Each document is canonical JSON (RFC 8785) and its SHA-256 is what goes on chain. Kinds: registration
certificate (TJIFA §8.2.1, App. 8; REGISTRATION_RULES §5.1) in two versions, additional-rights page (他项权益页,
TJIFA §8.2.2), evidence report (存证报告书, TJIFA §7.3 / App. 5), supplementary-registration notice (补充登记通知,
App. 7), cancellation proof (注销证明, AH art. 25) and objection-registration proof (异议登记证明, SZ art. 20).

``ledger.certificate/1`` is what the ledger issued before issue #9; it stays valid so stored certificates still
verify. ``ledger.certificate/2`` carries the full content TJIFA §8.2.1 and App. 8 require (and what DL art. 26,
GD art. 25 and AH art. 25 name): the holder's legal name and unified social credit code, the asset's name, version,
type, acquisition, update cycle, permitted scenarios and scope, the issuing body, the issue date and validity, and
the certificate serial. :class:`CertificateContent` is the part an applicant declares; the builders in
``ledger.documents`` add the rest. ``ledger.certificate/3`` is ``/2`` plus ``recognised_from``: the certificate of a
registration recognised from another platform (互认, TJIFA §6.4.1.4) — the source platform, its registration number
and certificate, and the hash of the verified package — issued for such a registration and carried by its reissues;
every other certificate stays ``/2``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ledger.errors import LedgerValueError
from ledger.uscc import problem as uscc_problem

HEX32 = r"^0x[0-9a-f]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
NUMBER = r"^[A-Z]{2,4}-\d{4}-\d{6}-[0-9A-Z]$"
CERTIFICATE_SCHEMA_V1 = "ledger.certificate/1"
CERTIFICATE_SCHEMA = "ledger.certificate/2"
CERTIFICATE_SCHEMA_V3 = "ledger.certificate/3"  # /2 + recognised_from (TJIFA §6.4.1.4)
CERTIFICATE_SCHEMAS = (CERTIFICATE_SCHEMA_V1, CERTIFICATE_SCHEMA, CERTIFICATE_SCHEMA_V3)
RECOGNITION_RULE = "TJIFA §6.4.1.4"
OBJECTION_PROOF_SCHEMA = "ledger.objection-proof/1"

# Enumerations and their Chinese names, as printed. TJIFA lists differ between its certificate and its form
# (REGISTRATION_RULES §9, "TJIFA internal inconsistencies"): the union is used.
AssetForm = Literal["dataset", "interface", "report", "application", "other"]
FORMS: dict[str, str] = {"dataset": "数据集", "interface": "接口", "report": "报告", "application": "应用",
                         "other": "其他"}  # TJIFA §8.2.1 (type / 提供形式); GZ art. 24(6)
Acquisition = Literal["original", "collected", "traded", "other"]
ACQUISITIONS: dict[str, str] = {"original": "原始取得", "collected": "收集取得", "traded": "交易取得",
                                "other": "其他"}  # TJIFA §8.2.1 and App. 1 (取得方式)
UpdateCycle = Literal["real_time", "daily", "monthly", "custom"]
UPDATE_CYCLES: dict[str, str] = {"real_time": "实时", "daily": "每日", "monthly": "每月",
                                 "custom": "自定义"}  # TJIFA §8.2.1 (更新周期)
HolderKind = Literal["legal_person", "organisation", "natural_person"]
HOLDER_KINDS: dict[str, str] = {"legal_person": "法人", "organisation": "非法人组织", "natural_person": "自然人"}
ObjectTypeName = Literal["data_resource", "data_product", "data_asset", "data_element", "algorithm_model",
                         "compute_resource", "composite_product"]
# REGISTRATION_RULES §2.1
OBJECT_TYPES: dict[str, str] = {"data_resource": "数据资源", "data_product": "数据产品", "data_asset": "数据资产",
                                "data_element": "数据元件", "algorithm_model": "算法模型",
                                "compute_resource": "算力资源", "composite_product": "复合数据产品"}
RightName = Literal["数据资源持有权", "数据加工使用权", "数据产品经营权"]  # SZ art. 7; DL art. 4
OBJECTION_RULE = "异议登记申请人应自受理之日起15日内提交法院或仲裁机构受理通知书，逾期异议登记失效 (SZ art. 20)"
OBJECTION_WINDOW_DAYS = 15  # SZ art. 20
CHINA_MIDNIGHT = "24:00"
CHINA_TIME_ZONE = "China Standard Time (UTC+8)"


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _real_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar date (YYYY-MM-DD)") from None
    return value


def _uscc(value: str) -> str:
    reason = uscc_problem(value)
    if reason is not None:
        raise ValueError(reason)
    return value


NonBlank = Annotated[str, Field(max_length=2000), AfterValidator(_non_blank)]
Name = Annotated[str, Field(max_length=200), AfterValidator(_non_blank)]
IsoDate = Annotated[str, Field(pattern=DATE), AfterValidator(_real_date)]
Hex32 = Annotated[str, Field(pattern=HEX32)]
Uscc = Annotated[str, AfterValidator(_uscc)]


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
    """数据资产登记证书, first version (TJIFA §8.2.1, App. 8): superseded by :class:`CertificateV2`, kept so
    certificates issued before issue #9 still validate and verify."""

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
    ground: Literal["holder", "judicial_order", "no_remaining_holder", "expired"]
    governing_document_hash: str = Field(pattern=HEX32)
    cancelled_on: str = Field(pattern=DATE)


class _Content(BaseModel):
    """Strict: no extra fields, no type coercion (a number is not a string, a string is not a date)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class HolderIdentity(_Content):
    """The rights holder as a certificate names them: real legal name (TJIFA §6.2.2, §6.4.1.1(a)) and, for a
    legal person or other organisation, its unified social credit code (TJIFA §6.4.1.1(a), App. 8; GB 32100-2015
    check character verified). A natural person has no USCC (an individual business may give its own)."""

    legal_name: Name
    kind: HolderKind = "legal_person"
    uscc: Uscc | None = Field(default=None, validate_default=True)

    @field_validator("uscc")
    @classmethod
    def _uscc_required(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is None and kind in ("legal_person", "organisation"):
            raise ValueError(f"required for a {kind.replace('_', ' ')} (统一社会信用代码, TJIFA §6.4.1.1(a), App. 8)")
        return value


class AssetContent(_Content):
    """The data object as the certificate describes it (TJIFA §8.2.1; REGISTRATION_RULES §2.3 B)."""

    name: Name
    version: Name | None = None
    form: AssetForm  # 类型: 数据集/接口/报告/应用/其他
    acquisition: Acquisition  # 取得方式
    update_cycle: UpdateCycle  # 更新周期
    update_cycle_custom: NonBlank | None = Field(default=None, validate_default=True)
    scenarios: list[NonBlank] = Field(min_length=1)  # 允许使用的场景 (TJIFA §8.2.1; GZ art. 24(5))
    scope: NonBlank  # 允许使用的范围
    industry: Name | None = None  # 所属行业 (TJIFA App. 1; SZ art. 15)
    keywords: list[Name] = Field(default_factory=list)  # 关键词 (TJIFA App. 1)

    @field_validator("update_cycle_custom")
    @classmethod
    def _custom_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        cycle = info.data.get("update_cycle")
        if cycle == "custom" and value is None:
            raise ValueError("describe the custom update cycle (更新周期: 自定义, TJIFA §8.2.1)")
        if cycle is not None and cycle != "custom" and value is not None:
            raise ValueError(f"only for update_cycle 'custom' (this one is {cycle!r})")
        return value


class CertificateContent(_Content):
    """What an applicant declares for the certificate (TJIFA §8.2.1, App. 8): who holds it and what it is."""

    holder: HolderIdentity
    asset: AssetContent


class CertificateHolder(HolderIdentity):
    account: str = Field(pattern=ADDRESS)  # the registry account the rights are booked to (TJIFA §6.2.3)


class CertificateAnnexes(_Content):
    """The evidence report (TJIFA §7.3.1), annexed or linked by its hash, and the digests of the filed evidence.
    The other-rights page (TJIFA §8.2.2) changes after issue, so it is annexed at presentation, not here."""

    evidence_report: Hex32 | None = None
    evidence_digests: list[Hex32] = Field(default_factory=list)


class CertificateV2(_Content):
    """确权证书 / 登记证书 / 登记凭证 with the content the rules require (TJIFA §8.2.1, App. 8; SZ art. 7, 13;
    GD art. 25; AH art. 25; DL art. 26; GZ art. 8; REGISTRATION_RULES §5)."""

    schema_: Literal["ledger.certificate/2"] = Field(alias="schema")
    title: Name  # per profile: 数据资产确权证书 (TJIFA), 数据资源/数据产品登记证书 (SZ), 数据登记凭证 (DL) ...
    serial: str  # 证书凭证编号 (TJIFA App. 8): <registration number>-V<version, two digits>
    registration_number: str = Field(pattern=NUMBER)  # 登记号 (SZ art. 13)
    certificate_version: int = Field(ge=1)
    supersedes: Hex32 | None  # SHA-256 of the certificate this one cancels and replaces (TJIFA §8.3.1)
    jurisdiction: str = Field(pattern=r"^[A-Z]{2,8}$")
    registry: Name  # issuing body (登记机构 / 确权机构)
    object_type: ObjectTypeName
    holder: CertificateHolder
    asset: AssetContent
    rights: list[RightName] = Field(min_length=1)
    issued_on: IsoDate
    valid_until: IsoDate | None
    validity_basis: NonBlank  # e.g. "3 years (TJIFA §8.3.3)", "the data's own validity", "no expiry (SZ)"
    annexes: CertificateAnnexes
    notes: list[NonBlank] = Field(default_factory=list)  # footnotes, e.g. a value marked [derived]

    @model_validator(mode="after")
    def _consistent(self) -> CertificateV2:
        problems = []
        serial = certificate_serial(self.registration_number, self.certificate_version)
        if self.serial != serial:
            problems.append(f"serial: must be {serial!r} (registration number and version)")
        if (self.certificate_version == 1) != (self.supersedes is None):
            problems.append("supersedes: the hash of the previous version, present exactly when version > 1")
        if len(set(self.rights)) != len(self.rights):
            problems.append("rights: listed twice")
        if self.valid_until is not None and self.valid_until < self.issued_on:
            problems.append("valid_until: before issued_on")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RecognisedFrom(_Content):
    """Where a registration recognised from another platform comes from (互认, TJIFA §6.4.1.4): the source platform
    as this platform's trust configuration names it (and the SHA-256 of the trust list it verified against), the
    source registration number and the certificate presented, the block its registry state was proven at, the
    SHA-256 of the recognition package that was verified, and whether this platform's rules waived the review on
    its strength (its profile's ``recognition_waives_review``). The same record is the application's payload
    ``recognition``."""

    platform: Name  # the source platform, as the trusted peer's trust list names it
    trust_list_sha256: Hex32  # fingerprint of the peer trust list the package verified against
    registration_number: str = Field(pattern=NUMBER)  # the source registration number
    certificate_sha256: Hex32  # the source certificate presented (its SHA-256 is anchored on the source chain)
    certificate_version: int = Field(ge=1)
    proven_at_block: int = Field(ge=0)  # the source chain's block the registry state was proven at
    package_sha256: Hex32  # the verified recognition package, byte for byte
    review_waived: bool  # whether this platform's rules waive the review on the strength of the package
    rule: Literal["TJIFA §6.4.1.4"]


class CertificateV3(CertificateV2):
    """A certificate of a registration recognised from another platform (TJIFA §6.4.1.4): ``/2`` with where it was
    recognised from (互认来源)."""

    schema_: Literal["ledger.certificate/3"] = Field(alias="schema")  # type: ignore[assignment]
    recognised_from: RecognisedFrom


def certificate_serial(registration_number: str, version: int) -> str:
    """证书凭证编号 (TJIFA App. 8): one per issued certificate version."""
    return f"{registration_number}-V{version:02d}"


class Objector(_Content):
    """Who registered the objection (SZ art. 20: an interested party)."""

    name: Name
    id_kind: Literal["uscc", "resident_id", "passport", "other"]
    id_number: Name
    account: str = Field(pattern=ADDRESS)

    @field_validator("id_number")
    @classmethod
    def _valid_uscc(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("id_kind") == "uscc" and (reason := uscc_problem(value)) is not None:
            raise ValueError(reason)
        return value


class FilingDeadline(_Content):
    date: IsoDate
    time: Literal["24:00"]
    time_zone: Literal["China Standard Time (UTC+8)"]


class ObjectionProof(_Content):
    """异议登记证明 (SZ art. 20): the registry accepted the objection and wrote it on the record; the objector must
    lodge a court's or arbitral body's acceptance notice within 15 days of acceptance, or the objection lapses."""

    schema_: Literal["ledger.objection-proof/1"] = Field(alias="schema")
    title: Literal["异议登记证明"]
    registry: Name
    registration_number: str = Field(pattern=NUMBER)
    objection_id: Hex32
    objector: Objector
    matter: NonBlank  # 异议事项
    grounds: NonBlank  # 异议理由
    evidence_digests: list[Hex32] = Field(min_length=1)
    accepted_on: IsoDate
    filing_deadline: FilingDeadline
    rule: NonBlank

    @model_validator(mode="after")
    def _deadline_after_acceptance(self) -> ObjectionProof:
        if self.filing_deadline.date <= self.accepted_on:
            raise ValueError("filing_deadline.date: must be after accepted_on")
        return self


class ExpiryAnnouncement(_Content):
    """注销公告 (GZ art. 35): a registration not renewed in time is cancelled by the registry, and announced."""

    schema_: Literal["ledger.expiry-announcement/1"] = Field(alias="schema")
    title: Literal["数据要素登记注销公告"]
    registry: Name
    registration_number: str = Field(pattern=NUMBER)
    valid_until: IsoDate  # the validity's last day (ended 24:00 China time)
    announced_on: IsoDate
    rule: NonBlank

    @model_validator(mode="after")
    def _after_expiry(self) -> ExpiryAnnouncement:
        if self.announced_on <= self.valid_until:
            raise ValueError("announced_on: must be after valid_until (the validity has ended)")
        return self


SCHEMAS: dict[str, type[BaseModel]] = {
    "ledger.expiry-announcement/1": ExpiryAnnouncement,
    "ledger.certificate/1": Certificate,
    "ledger.certificate/2": CertificateV2,
    "ledger.rights-page/1": RightsPage,
    "ledger.evidence-report/1": EvidenceReport,
    "ledger.supplementary-notice/1": SupplementaryNotice,
    "ledger.cancellation-proof/1": CancellationProof,
    "ledger.objection-proof/1": ObjectionProof,
    "ledger.certificate/3": CertificateV3,
}


def problems(exc: ValidationError) -> str:
    """Every problem pydantic found, one "field.path: message" each, separated by "; "."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())


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
        raise LedgerValueError(f"{schema} document is invalid: {problems(exc)}") from None
    return document


def parse_recognition(record: Any) -> RecognisedFrom:
    """A recognition record (TJIFA §6.4.1.4) from a model or a JSON-like mapping; otherwise LedgerValueError naming
    every field that is missing or wrong."""
    if isinstance(record, RecognisedFrom):
        return record
    try:
        return RecognisedFrom.model_validate(record)
    except ValidationError as exc:
        raise LedgerValueError(f"recognition record is invalid: {problems(exc)}") from None


def parse_content(content: Any) -> CertificateContent:
    """The certificate content (TJIFA §8.2.1) from a model or a JSON-like mapping; otherwise LedgerValueError
    naming every field that is missing or wrong, e.g. ``holder.uscc: ... check character ...``."""
    if isinstance(content, CertificateContent):
        content = content.model_dump()
    try:
        return CertificateContent.model_validate(content)
    except ValidationError as exc:
        raise LedgerValueError(f"certificate content is invalid: {problems(exc)}") from None
