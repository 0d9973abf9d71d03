"""Evidence preservation (存证): value types, the evidence service and the batcher.

``types`` holds the plain values; ``service`` anchors, endorses and verifies; ``batcher`` turns a stream of
digests into Merkle roots. The names most callers need are re-exported here.
"""

from ledger.evidence.batcher import Batcher, Ticket
from ledger.evidence.service import BATCH_GAS, EvidenceService
from ledger.evidence.types import (
    ENDORSER_ROLE,
    EVIDENCE_PROVIDER_ROLE,
    AnchorReceipt,
    BatchMembership,
    Endorsement,
    EndorserKind,
    EvidenceKind,
    Verification,
)

__all__ = [
    "BATCH_GAS",
    "ENDORSER_ROLE",
    "EVIDENCE_PROVIDER_ROLE",
    "AnchorReceipt",
    "BatchMembership",
    "Batcher",
    "Endorsement",
    "EndorserKind",
    "EvidenceKind",
    "EvidenceService",
    "Ticket",
    "Verification",
]
