"""Jurisdiction profiles as data (REGISTRATION_RULES §9): one JSON file per rule set in ``ledger/profiles/``
(plus any in ``LEDGER_PROFILES_DIR``). Adding a jurisdiction is adding a file; no code changes.

The chain keeps the part its rules need (joint filing, review, object types, longest validity, renewal
window, objection days, what a pledge blocks); the workflow keeps the rest (which filings the rules know,
notice length and unit and which kinds get notice, objection handling during notice, validity in calendar
years, review rules per kind, certificate title). A value the source does not set is listed in ``derived`` and
printed on certificates as such (REGISTRATION_RULES: "nothing here is invented unless marked [derived]").
"""

from __future__ import annotations

import json
import os
from enum import IntEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ledger.errors import ConfigurationError, LedgerValueError

BUILTIN_DIR = Path(__file__).resolve().parent / "profiles"
DAY = 86_400


class ObjectType(IntEnum):
    """Registrable objects, the union of every source's taxonomy (REGISTRATION_RULES §2.1)."""

    DATA_RESOURCE = 1  # 数据资源
    DATA_PRODUCT = 2  # 数据产品
    DATA_ASSET = 3  # 数据资产 (TJIFA: after anonymisation, de-identification and structuring)
    DATA_ELEMENT = 4  # 数据元件 (DL)
    ALGORITHM_MODEL = 5  # 算法模型 (GZ)
    COMPUTE_RESOURCE = 6  # 算力资源 (GZ)
    COMPOSITE_PRODUCT = 7  # composite data product (GZ)


RegistrationKind = Literal["initial", "supplementary", "licence", "transfer", "change", "cancellation", "renewal",
                           "pledge", "release", "suspension", "reinstatement", "revocation"]
#: What a pledge may block without the pledgee's consent (on chain: bit 0, bit 1).
PledgeBlock = Literal["transfer", "holder_cancellation"]
DayUnit = Literal["working_days", "calendar_days"]
DEFAULT_PLEDGE_BLOCKS: tuple[PledgeBlock, ...] = ("transfer", "holder_cancellation")


class _Strict(BaseModel):
    """Unknown fields are errors: a misspelt rule must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid")


class Period(_Strict):
    length: int = Field(ge=0)
    unit: DayUnit


class NoticeRule(_Strict):
    """Public notice (公示) before a registration takes effect (REGISTRATION_RULES §3.5)."""

    length: int = Field(ge=0)
    unit: DayUnit
    applies_to: list[RegistrationKind]
    simple: Period | None = Field(default=None, description="A shorter simple procedure (GD art. 16: 1 wd).")


class NoticeObjectionRule(_Strict):
    """How an objection raised during notice must be handled (REGISTRATION_RULES §3.5)."""

    resolve_within: Period | None = Field(default=None, description="Time to resolve it (AH art. 22: 30 days; "
                                          "GD art. 11: 10 wd); None = no limit.")
    if_unresolved: Literal["terminate", "refuse"] | None = Field(
        default=None, description="terminate: the application ends (AH art. 22); refuse: the registry may refuse "
        "registration (GD art. 23).")


class JurisdictionProfile(_Strict):
    """One jurisdiction's rule set."""

    id: int = Field(ge=1, le=255, description="On-chain profile id.")
    code: str = Field(pattern=r"^[A-Z]{2,8}$")
    name: str
    number_prefix: str = Field(pattern=r"^[A-Z]{2,4}$", description="Registration numbers start with it.")
    certificate_title: str = Field(min_length=1, description="What the source calls the certificate (REGISTRATION_"
                                   "RULES §5.1), e.g. 数据资产确权证书 (TJIFA App. 8).")
    certificate_titles: dict[str, str] = Field(default_factory=dict, description="A different title by object "
                                               "type, where the source names one (SZ art. 7).")
    object_types: list[str] = Field(min_length=1)
    kinds: list[RegistrationKind] = Field(min_length=1, description="The filings these rules know.")
    notice: NoticeRule
    notice_objection: NoticeObjectionRule = Field(default_factory=NoticeObjectionRule)
    validity_years: int = Field(ge=0, description="Certificate validity in calendar years; 0 = no expiry.")
    validity_or_data: bool = Field(default=False, description="Or the data's own validity, when shorter "
                                   "(TJIFA §8.3.3; GZ art. 21: an authorised-operation agreement's end).")
    renewal_window_days: int = Field(ge=0)
    renewal_label: str = Field(default="续证 renewal", description="DL calls it 年审 (annual review, art. 30).")
    expiry: Literal["lapse", "cancel_with_notice"] = Field(
        default="lapse", description="cancel_with_notice: an expired registration is cancelled and announced "
        "(GZ art. 35).")
    objection_days: int = Field(ge=0, description="Days an objection registration's filer has to lodge a court or "
                                "arbitration filing, ending 24:00 China time (SZ art. 20: 15); 0 = it does not lapse.")
    joint_filing: bool
    requires_review: bool
    review_required_for: list[RegistrationKind] = Field(
        default_factory=list, description="Filings that need third-party review and evidence (SZ art. 16(4), "
        "17(3)-(4)); initial registrations follow requires_review.")
    recognition_waives_review: bool = Field(
        default=False, description="An initial registration recognised from another platform, on a verified "
        "recognition package, has its review waived (TJIFA §6.4.1.4). Only where the chain needs no review report "
        "for initial registrations (requires_review false): the contract would refuse it otherwise.")
    pledge_blocks: list[PledgeBlock] = Field(
        default_factory=lambda: list(DEFAULT_PLEDGE_BLOCKS),
        description="What an active pledge blocks without its pledgee's consent (protective default).")
    derived: list[str] = Field(default_factory=list, description="Fields whose values the source does not set "
                               "([derived]); certificates say so in a footnote.")
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _waiver_needs_no_report(self) -> JurisdictionProfile:
        if self.recognition_waives_review and self.requires_review:
            raise ValueError("recognition_waives_review: the chain requires a third-party review report before "
                             "every initial registration under this profile (requires_review), so it cannot be waived")
        return self

    def object_type_ids(self) -> list[ObjectType]:
        unknown = [name for name in self.object_types if name.upper() not in ObjectType.__members__]
        if unknown:
            choices = ", ".join(t.name.lower() for t in ObjectType)
            raise LedgerValueError(f"profile {self.code}: unknown object type {unknown[0]!r} (use {choices})")
        return [ObjectType[name.upper()] for name in self.object_types]

    def allows(self, object_type: ObjectType) -> bool:
        return object_type in self.object_type_ids()

    def title_for(self, object_type: ObjectType) -> str:
        """The certificate's title for an object of ``object_type`` (REGISTRATION_RULES §5.1)."""
        return self.certificate_titles.get(object_type.name.lower(), self.certificate_title)

    def needs_review(self, kind: str) -> bool:
        """Whether a filing of ``kind`` needs a third-party review report before approval."""
        return (kind == "initial" and self.requires_review) or kind in self.review_required_for

    def derived_notes(self) -> list[str]:
        """Footnotes for certificates: values this platform set where the source sets none."""
        return [f"[derived] {self.code}: {item}" for item in self.derived]

    def on_chain(self) -> tuple[bool, bool, bool, int, int, int, int, int]:
        """The IAssetRegistry.Profile tuple. maxValidity allows the longest run of ``validity_years`` calendar
        years (one leap day per four years, plus a day's slack for the 24:00 China-time end)."""
        mask = sum(1 << int(t) for t in self.object_type_ids())
        years = self.validity_years
        max_validity = (years * 365 + (years + 3) // 4 + 1) * DAY if years else 0
        blocks = ("transfer" in self.pledge_blocks) | (("holder_cancellation" in self.pledge_blocks) << 1)
        return (True, self.joint_filing, self.requires_review, mask, max_validity, self.renewal_window_days * DAY,
                self.objection_days, blocks)


def load_profiles(extra_dir: Path | None = None) -> dict[str, JurisdictionProfile]:
    """Every profile by code: the built-in ones, then ``extra_dir`` / ``LEDGER_PROFILES_DIR`` (which may
    override a built-in code). Ids and codes must be unique."""
    dirs = [BUILTIN_DIR]
    extra = extra_dir or (Path(os.environ["LEDGER_PROFILES_DIR"]) if os.environ.get("LEDGER_PROFILES_DIR") else None)
    if extra is not None:
        dirs.append(extra)
    profiles: dict[str, JurisdictionProfile] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.json")):
            try:
                profile = JurisdictionProfile.model_validate(json.loads(path.read_text(encoding="utf-8")))
                profile.object_type_ids()
            except (ValueError, ValidationError) as exc:  # LedgerValueError is a ValueError
                raise ConfigurationError(f"jurisdiction profile {path} is invalid: {exc}") from exc
            profiles[profile.code] = profile
    ids = [p.id for p in profiles.values()]
    if len(ids) != len(set(ids)):
        raise ConfigurationError(f"jurisdiction profile ids must be unique, got {sorted(ids)}")
    return profiles


def profile_by_code(code: str, profiles: dict[str, JurisdictionProfile] | None = None) -> JurisdictionProfile:
    known = profiles or load_profiles()
    try:
        return known[code.upper()]
    except KeyError:
        raise LedgerValueError(f"unknown jurisdiction profile {code!r} (known: {', '.join(sorted(known))})") from None
