"""Checkpoints: authority nodes submit their signatures over block hashes (TJIFA §7.1.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import LedgerDep
from api.routes.evidence import ERRORS
from ledger.context import Ledger
from ledger.errors import ForbiddenError, LedgerValueError
from ledger.evidence import ENDORSER_ROLE
from ledger.hashing import parse_digest
from ledger.proofs.authority import recover_checkpoint_signer

router = APIRouter(prefix="/checkpoints", tags=["checkpoints"])
#: Block numbers are at most 2**63 - 1 (EIP-1985), which is also the largest SQL BIGINT.
MAX_BLOCK_NUMBER = 2**63 - 1


class CheckpointCreate(BaseModel):
    """An endorser's EIP-191 signature over the checkpoint text of a block: ``ledger checkpoint/2`` with the
    chain id, block number, block hash and the registry contracts (see ledger.proofs.checkpoints); canonical
    signatures only (low s, v 27 or 28)."""

    block_number: int = Field(ge=0, le=MAX_BLOCK_NUMBER)
    block_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class CheckpointPublic(BaseModel):
    block_number: int
    block_hash: str
    signer: str
    signature: str


def _store(ledger: Ledger, body: CheckpointCreate) -> dict[str, Any]:
    head = ledger.client.block_number()
    if body.block_number > head:
        raise LedgerValueError(f"block {body.block_number} does not exist on this chain: its latest block is {head}")
    chain_hash = ledger.client.block(body.block_number)["hash"]
    if chain_hash.lower() != body.block_hash.lower():
        raise LedgerValueError(f"block {body.block_number} of this chain has hash {chain_hash}, not {body.block_hash}")
    signature = bytes.fromhex(body.signature[2:])
    store = ledger.checkpoints
    signer = recover_checkpoint_signer(ledger.client.chain_id, body.block_number, parse_digest(body.block_hash),
                                       signature, store.contracts)
    if not ledger.evidence.has_role(ENDORSER_ROLE, signer):
        raise ForbiddenError(f"{signer} signed this checkpoint but does not hold the endorser role")
    row = store.add(body.block_number, body.block_hash, signer, signature)
    return {"block_number": row.block_number, "block_hash": row.block_hash, "signer": row.signer,
            "signature": row.signature}


@router.post("", response_model=CheckpointPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def submit_checkpoint(body: CheckpointCreate, ledger: LedgerDep) -> dict[str, Any]:
    """Store an endorser's signature over a block hash; the signer must hold the endorser role on chain."""
    return await run_in_threadpool(_store, ledger, body)


def _covering(ledger: Ledger, block_number: int) -> list[dict[str, Any]]:
    rows = ledger.checkpoints.covering(block_number)
    return [{"block_number": r.block_number, "block_hash": r.block_hash, "signer": r.signer,
             "signature": r.signature} for r in rows]


@router.get("/covering/{block_number}", response_model=list[CheckpointPublic], responses=ERRORS)
async def covering_checkpoint(block_number: Annotated[int, Path(ge=0, le=MAX_BLOCK_NUMBER)],
                              ledger: LedgerDep) -> list[dict[str, Any]]:
    """The signatures of the nearest signed block at or after ``block_number`` (what a bundle carries)."""
    return await run_in_threadpool(_covering, ledger, block_number)
