"""The platform's trust list (信任列表): the trust roots offline verifiers use (ledger.proofs.trust). Public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import LedgerDep
from api.routes.evidence import ERRORS
from ledger.proofs.trust import TrustList
from ledger.services.proofs import TRUST_LIST_PATH, trust_list

router = APIRouter(tags=["trust"])


@router.get(TRUST_LIST_PATH, response_model=TrustList, responses=ERRORS)
async def get_trust_list(ledger: LedgerDep) -> dict[str, Any]:
    """The chain, the registry contracts and the authorities whose block signatures this platform recognises,
    with how many must sign. Certificates print this address and the list's SHA-256; a court keeps a copy and
    passes it to `ledger proof verify --trust`."""
    listed = await run_in_threadpool(trust_list, ledger)
    return listed.model_dump(mode="json")
