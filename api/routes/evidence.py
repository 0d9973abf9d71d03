"""Evidence (存证): anchor digests and files; verify them (public, TJIFA §7.2.3 verification service)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.deps import BatcherDep, LedgerDep, ProviderDep
from api.limits import streamed_upload
from api.schemas import (
    Algorithm,
    AnchorCreate,
    AnchorPublic,
    ErrorResponse,
    Kind,
    ProofVerify,
    VerificationPublic,
)
from ledger.context import Ledger
from ledger.evidence import Batcher, EvidenceKind
from ledger.hashing import HashAlgorithm, new_hasher, parse_digest

router = APIRouter(prefix="/evidence", tags=["evidence"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 408, 409, 413, 422, 502, 503)
}
BATCH_WAIT = 120.0


async def digest_upload(upload: UploadFile, algorithm: HashAlgorithm) -> bytes:
    """Streams an uploaded file through the hasher; the file itself is never stored."""
    hasher = new_hasher(algorithm)
    while chunk := await upload.read(1 << 20):
        hasher.update(chunk)
    return bytes(hasher.digest())


async def _anchor(ledger: Ledger, batcher: Batcher, account: str, digest: bytes, algorithm: HashAlgorithm,
                  kind: EvidenceKind, mode: str) -> dict[str, Any]:
    if mode == "single":
        receipt = await run_in_threadpool(ledger.evidence.anchor, ledger.sender(account), digest, algorithm, kind)
    else:
        ticket = batcher.submit(digest, algorithm)
        await asyncio.wait_for(asyncio.wrap_future(ticket.future), BATCH_WAIT)
        receipt = ticket.result(0)
    return receipt.as_dict()


@router.post("/anchors", response_model=AnchorPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def anchor_digest(body: AnchorCreate, ledger: LedgerDep, provider: ProviderDep,
                        batcher: BatcherDep) -> dict[str, Any]:
    """Anchor a digest; answers once it is on chain (batch mode: with its Merkle proof)."""
    alg = HashAlgorithm.parse(body.hash_algorithm)
    return await _anchor(ledger, batcher, provider.account, parse_digest(body.digest), alg,
                         EvidenceKind.parse(body.kind), body.mode)


@router.post("/anchors/file", response_model=AnchorPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
@streamed_upload
async def anchor_file(
    ledger: LedgerDep, provider: ProviderDep, batcher: BatcherDep,
    file: Annotated[UploadFile, File(description="The file to hash and anchor; only its digest is kept.")],
    hash_algorithm: Annotated[Algorithm, Form()] = "sha256",
    kind: Annotated[Kind, Form()] = "document",
    mode: Annotated[str, Form(pattern="^(single|batch)$")] = "batch",
) -> dict[str, Any]:
    """Upload a file; its digest is anchored and the file itself is not stored."""
    alg = HashAlgorithm.parse(hash_algorithm)
    digest = await digest_upload(file, alg)
    return await _anchor(ledger, batcher, provider.account, digest, alg, EvidenceKind.parse(kind), mode)


@router.get("/verify/{digest}", response_model=VerificationPublic, responses=ERRORS)
async def verify_digest(digest: str, ledger: LedgerDep, hash_algorithm: Algorithm | None = None) -> dict[str, Any]:
    """Is this digest anchored? Public."""
    alg = HashAlgorithm.parse(hash_algorithm) if hash_algorithm else None
    result = await run_in_threadpool(ledger.evidence.verify, parse_digest(digest), alg)
    return result.as_dict()


@router.post("/verify", response_model=VerificationPublic, responses=ERRORS)
@streamed_upload
async def verify_file(
    ledger: LedgerDep,
    file: Annotated[UploadFile, File(description="The file to check; it is hashed and discarded.")],
    hash_algorithm: Annotated[Algorithm, Form()] = "sha256",
) -> dict[str, Any]:
    """Upload a file to check whether its digest is anchored. Public."""
    alg = HashAlgorithm.parse(hash_algorithm)
    digest = await digest_upload(file, alg)
    result = await run_in_threadpool(ledger.evidence.verify, digest, alg)
    return result.as_dict()


@router.post("/verify/proof", response_model=VerificationPublic, responses=ERRORS)
async def verify_with_proof(body: ProofVerify, ledger: LedgerDep) -> dict[str, Any]:
    """Check a batched digest with the root and proof from its receipt. Public."""
    result = await run_in_threadpool(
        ledger.evidence.verify, parse_digest(body.digest), HashAlgorithm.parse(body.hash_algorithm),
        parse_digest(body.root), [parse_digest(p) for p in body.proof],
    )
    return result.as_dict()
