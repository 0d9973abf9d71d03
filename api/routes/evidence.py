"""Evidence (存证): anchor digests and files; verify them (public, TJIFA §7.2.3 verification service)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.deps import BatcherDep, LedgerDep, ProviderDep
from api.limits import streamed_upload
from api.ratelimit import client_of, ration
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
from ledger.errors import AlreadyAnchoredError, TransactionPendingError
from ledger.evidence import AnchorReceipt, Batcher, EvidenceKind, Ticket
from ledger.hashing import HashAlgorithm, new_hasher, parse_digest, to_hex
from ledger.services.evidence import AnchorAsk, claim_key, existing_anchor, stored_anchor
from ledger.services.proofs import verify_evidence

router = APIRouter(prefix="/evidence", tags=["evidence"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 408, 409, 413, 422, 502, 503)
}


async def digest_upload(upload: UploadFile, algorithm: HashAlgorithm) -> bytes:
    """Streams an uploaded file through the hasher; the file itself is never stored."""
    hasher = new_hasher(algorithm)
    while chunk := await upload.read(1 << 20):
        hasher.update(chunk)
    return bytes(hasher.digest())


async def _await_ticket(ledger: Ledger, ticket: Ticket) -> AnchorReceipt:
    """Waits for a batch ticket; a slow chain ends in 503 + Retry-After, and the batch still completes (the
    future is shielded: a caller that stops waiting never cancels it)."""
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(ticket.future)), ledger.settings.anchor_wait)
    except TimeoutError:
        raise TransactionPendingError(
            f"the batch holding {to_hex(ticket.digest)} is stored and sent (tx {ticket.tx_hash or 'being signed'}) "
            f"but not mined within {ledger.settings.anchor_wait:.0f} s; it will be anchored — retry with the same "
            "Idempotency-Key, or verify the digest later", [ticket.tx_hash] if ticket.tx_hash else []) from None
    return ticket.result(0)


async def _anchor(ledger: Ledger, batcher: Batcher, account: str, digest: bytes, algorithm: HashAlgorithm,
                  kind: EvidenceKind, mode: str, key: str | None) -> dict[str, Any]:
    ask = AnchorAsk(digest, algorithm, mode)
    retry = await run_in_threadpool(claim_key, ledger, account, key, ask)
    if retry:  # the first request's anchor
        ticket = batcher.ticket_for(digest, algorithm) if mode == "batch" else None
        if ticket is not None:
            return (await _await_ticket(ledger, ticket)).as_dict()
        found = await run_in_threadpool(existing_anchor, ledger, ask)
        if found is not None:
            return found.as_dict()
    try:
        if mode == "single":
            receipt = await run_in_threadpool(ledger.evidence.anchor, ledger.sender(account), digest, algorithm,
                                              kind)
        else:
            ticket = await run_in_threadpool(batcher.submit, digest, algorithm)
            receipt = await _await_ticket(ledger, ticket)
    except AlreadyAnchoredError:
        if not retry:
            raise
        # the first request stored it and was killed before answering: its anchor, once the journal sent it
        stored = await run_in_threadpool(stored_anchor, ledger, ask, ledger.settings.anchor_wait)
        if stored is None:
            raise
        receipt = stored
    return receipt.as_dict()


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Retries with the same key get "
                                              "the first request's anchor, never a second one.")]


@router.post("/anchors", response_model=AnchorPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def anchor_digest(body: AnchorCreate, ledger: LedgerDep, provider: ProviderDep,
                        batcher: BatcherDep, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Anchor a digest; answers once it is on chain (batch mode: with its Merkle proof). A digest already
    anchored (or queued) is refused with 409, as is the zero digest with 422; a slow chain answers 503 with
    Retry-After while the anchor still completes."""
    alg = HashAlgorithm.parse(body.hash_algorithm)
    return await _anchor(ledger, batcher, provider.account, parse_digest(body.digest), alg,
                         EvidenceKind.parse(body.kind), body.mode, idempotency_key)


@router.post("/anchors/file", response_model=AnchorPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
@streamed_upload
async def anchor_file(
    ledger: LedgerDep, provider: ProviderDep, batcher: BatcherDep,
    file: Annotated[UploadFile, File(description="The file to hash and anchor; only its digest is kept.")],
    hash_algorithm: Annotated[Algorithm, Form()] = "sha256",
    kind: Annotated[Kind, Form()] = "document",
    mode: Annotated[str, Form(pattern="^(single|batch)$")] = "batch",
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Upload a file; its digest is anchored and the file itself is not stored."""
    alg = HashAlgorithm.parse(hash_algorithm)
    digest = await digest_upload(file, alg)
    return await _anchor(ledger, batcher, provider.account, digest, alg, EvidenceKind.parse(kind), mode,
                         idempotency_key)


def _verification(ledger: Ledger, digest: bytes, algorithm: HashAlgorithm | None, root: bytes | None = None,
                  proof: list[bytes] | None = None, confirm: bool = False) -> dict[str, Any]:
    result, certificate = verify_evidence(ledger, digest, algorithm, root, proof, confirm=confirm)
    return {**result.as_dict(), "certificate": certificate.as_dict() if certificate else None}


@router.get("/verify/{digest}", response_model=VerificationPublic, responses=ERRORS)
async def verify_digest(digest: str, ledger: LedgerDep, hash_algorithm: Algorithm | None = None,
                        confirm: bool = False) -> dict[str, Any]:
    """Is this digest anchored — and, for a certificate, is it still the valid one? Public. Read from the index;
    ``confirm=true`` also asks the contract on chain."""
    alg = HashAlgorithm.parse(hash_algorithm) if hash_algorithm else None
    return await run_in_threadpool(_verification, ledger, parse_digest(digest), alg, None, None, confirm)


@router.post("/verify", response_model=VerificationPublic, responses=ERRORS)
@streamed_upload
async def verify_file(
    request: Request,
    ledger: LedgerDep,
    file: Annotated[UploadFile, File(description="The file to check; it is hashed and discarded.")],
    hash_algorithm: Annotated[Algorithm, Form()] = "sha256",
) -> dict[str, Any]:
    """Upload a file to check whether its digest is anchored. Public; rationed per client address
    (``LEDGER_PUBLIC_UPLOADS_PER_MINUTE``): hash it yourself and ask ``GET /evidence/verify/{digest}`` instead."""
    ration(request, "uploads").take(client_of(request))
    alg = HashAlgorithm.parse(hash_algorithm)
    digest = await digest_upload(file, alg)
    return await run_in_threadpool(_verification, ledger, digest, alg)


@router.post("/verify/proof", response_model=VerificationPublic, responses=ERRORS)
async def verify_with_proof(body: ProofVerify, ledger: LedgerDep) -> dict[str, Any]:
    """Check a batched digest with the root and proof from its receipt. Public."""
    return await run_in_threadpool(
        _verification, ledger, parse_digest(body.digest), HashAlgorithm.parse(body.hash_algorithm),
        parse_digest(body.root), [parse_digest(p) for p in body.proof],
    )
