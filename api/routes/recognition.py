"""Mutual recognition (互认, TJIFA §6.4.1.4): the registration authority imports another platform's recognition
package; it is verified against that platform's trusted trust list and filed as an initial registration whose
review is waived (ledger.services.recognition)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ActorDep, LedgerDep
from api.limits import streamed_upload
from api.routes.evidence import ERRORS
from ledger.errors import PayloadTooLargeError
from ledger.services.recognition import MAX_PACKAGE_BYTES, import_package

router = APIRouter(prefix="/recognition", tags=["recognition"])


class CheckPublic(BaseModel):
    name: str
    ok: bool
    level: str = Field(description="what a failure means: error, trust, invalid, warning, unverified")
    detail: str


class RecognitionPublic(BaseModel):
    """The initial registration filed on a verified recognition package, and where it waits."""

    application_id: str
    state: str
    profile: str
    holder: str
    registration_number: str | None
    waiting_for: str | None = Field(description="review, notice, consent (signed in the holder's wallet), or null "
                                    "once registered")
    notice_end: str | None
    recognised_from: dict[str, Any] = Field(description="source platform, registration number, certificate, "
                                            "trust list and package hashes (TJIFA §6.4.1.4)")
    verdict: str
    checks: list[CheckPublic]


@router.post("/import", response_model=RecognitionPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
@streamed_upload
async def import_recognition(
    ledger: LedgerDep, actor: ActorDep,
    package: Annotated[UploadFile, File(description="The recognition package (ledger.recognition-package/1).")],
    profile: Annotated[str | None, Form(description="Profile to register under (default: the certificate's "
                                        "jurisdiction).")] = None,
) -> dict[str, Any]:
    """Verify another platform's recognition package and file the initial registration it supports, review waived
    (registration authority only). A package that fails a check, comes from an untrusted platform or proves a
    registration that is not valid now is refused with 422 ``recognition_refused`` naming the check."""
    raw = await package.read(MAX_PACKAGE_BYTES + 1)
    if len(raw) > MAX_PACKAGE_BYTES:
        raise PayloadTooLargeError(f"a recognition package is at most {MAX_PACKAGE_BYTES:,} bytes")
    done = await run_in_threadpool(import_package, ledger, raw, actor=actor, profile=profile)
    app = done.application
    return {"application_id": app.id, "state": app.state, "profile": app.profile, "holder": app.holder,
            "registration_number": app.registration_number, "waiting_for": done.waiting_for,
            "notice_end": app.notice_end, "recognised_from": done.source.model_dump(),
            "verdict": done.verification.verdict.value,
            "checks": [{"name": c.name, "ok": c.ok, "level": c.level, "detail": c.detail}
                       for c in done.verification.checks]}
