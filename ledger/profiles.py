"""Jurisdiction profiles as data (REGISTRATION_RULES §9): one JSON file per rule set in ``ledger/profiles/``
(plus any in ``LEDGER_PROFILES_DIR``). Adding a jurisdiction is adding a file; no code changes.

The chain keeps the part its rules need (joint filing, review, object types, validity, renewal window,
objection window); the workflow keeps the rest (notice length and unit, which types get notice).
"""

from __future__ import annotations

import json
import os
from enum import IntEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

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
                           "pledge"]


class NoticeRule(BaseModel):
    """Public notice (公示) before a registration takes effect (REGISTRATION_RULES §3.5)."""

    length: int = Field(ge=0)
    unit: Literal["working_days", "calendar_days"]
    applies_to: list[RegistrationKind]


class JurisdictionProfile(BaseModel):
    """One jurisdiction's rule set."""

    id: int = Field(ge=1, le=255, description="On-chain profile id.")
    code: str = Field(pattern=r"^[A-Z]{2,8}$")
    name: str
    number_prefix: str = Field(pattern=r"^[A-Z]{2,4}$", description="Registration numbers start with it.")
    object_types: list[str] = Field(min_length=1)
    notice: NoticeRule
    validity_days: int = Field(ge=0, description="0 = certificates do not expire.")
    renewal_window_days: int = Field(ge=0)
    objection_window_days: int = Field(ge=0, description="Days to lodge a court/arbitration filing; 0 = none.")
    joint_filing: bool
    requires_review: bool
    sources: list[str] = Field(default_factory=list)

    def object_type_ids(self) -> list[ObjectType]:
        unknown = [name for name in self.object_types if name.upper() not in ObjectType.__members__]
        if unknown:
            choices = ", ".join(t.name.lower() for t in ObjectType)
            raise LedgerValueError(f"profile {self.code}: unknown object type {unknown[0]!r} (use {choices})")
        return [ObjectType[name.upper()] for name in self.object_types]

    def allows(self, object_type: ObjectType) -> bool:
        return object_type in self.object_type_ids()

    def on_chain(self) -> tuple[bool, bool, bool, int, int, int, int]:
        """The IAssetRegistry.Profile tuple."""
        mask = sum(1 << int(t) for t in self.object_type_ids())
        return (True, self.joint_filing, self.requires_review, mask, self.validity_days * DAY,
                self.renewal_window_days * DAY, self.objection_window_days * DAY)


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
