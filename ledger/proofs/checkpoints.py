"""Checkpoints: authority accounts (notary, arbitration, time service … TJIFA §7.1.4) sign block hashes.

On a dev chain nothing else attests that a block is final and authentic, so endorser accounts sign the hash
of a recent block from time to time; a proof bundle carries the header chain from its anchoring block up
to a signed block. The signed text is human-readable (EIP-191 personal message) so that anyone can see
what was signed, and it names the platform's registry contracts, so the authorities also vouch that those
addresses are the registry's — a look-alike contract deployed on the same chain cannot borrow their
signatures (issue #7):

    ledger checkpoint/2
    chain: 31337
    block: 42
    hash: 0x…
    AssetRegistry: 0x…
    EvidenceRegistry: 0x…

Only canonical signatures count (low s, v 27 or 28: ``ledger.proofs.signatures``).
"""

from __future__ import annotations

from collections.abc import Mapping

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.chain.client import ChainClient
from ledger.db import session_scope
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import to_hex
from ledger.models import Checkpoint
from ledger.proofs.authority import checkpoint_text, recover_checkpoint_signer
from ledger.proofs.signatures import personal_message_hash


def sign_checkpoint(account: LocalAccount, chain_id: int, block_number: int, block_hash: bytes,
                    contracts: Mapping[str, str]) -> bytes:
    digest = personal_message_hash(checkpoint_text(chain_id, block_number, block_hash, contracts))
    return bytes(Account.unsafe_sign_hash(digest, account.key).signature)  # EIP-191 hash: low s, v 27/28


class CheckpointStore:
    """Checkpoint signatures of one deployment (its chain and its registry contracts)."""

    def __init__(self, engine: Engine, client: ChainClient, deployment_id: str, contracts: Mapping[str, str]) -> None:
        self.engine = engine
        self.client = client
        self.deployment_id = deployment_id
        self.contracts = dict(contracts)

    def sign_latest(self, account: LocalAccount, lag: int = 0) -> Checkpoint:
        """Signs the block ``lag`` blocks behind the head (a lag leaves room for reorgs on non-final chains)."""
        number = max(0, self.client.block_number() - lag)
        block = self.client.block(number)
        signature = sign_checkpoint(account, self.client.chain_id, number, bytes.fromhex(block["hash"][2:]),
                                    self.contracts)
        return self.add(number, block["hash"], str(account.address), signature)

    def add(self, block_number: int, block_hash: str, signer: str, signature: bytes) -> Checkpoint:
        """Stores a signature after checking it is ``signer``'s over this chain's block (idempotent)."""
        chain_hash = self.client.block(block_number)["hash"]
        if chain_hash.lower() != block_hash.lower():
            raise LedgerValueError(f"block {block_number} of this chain has hash {chain_hash}, not {block_hash}")
        recovered = recover_checkpoint_signer(self.client.chain_id, block_number, bytes.fromhex(block_hash[2:]),
                                              signature, self.contracts)
        if recovered.lower() != signer.lower():
            raise LedgerValueError(f"the signature is {recovered}'s, not {signer}'s")
        with session_scope(self.engine) as session:
            existing = session.exec(select(Checkpoint).where(
                Checkpoint.deployment == self.deployment_id, Checkpoint.block_number == block_number,
                Checkpoint.signer == recovered)).first()
            row = existing or Checkpoint(deployment=self.deployment_id, block_number=block_number,
                                         block_hash=chain_hash, signer=recovered, signature=to_hex(signature))
            session.add(row)
            session.flush()
            session.refresh(row)
            session.expunge(row)
        return row

    def _grouped(self, rows: list[Checkpoint]) -> dict[int, list[Checkpoint]]:
        by_block: dict[int, list[Checkpoint]] = {}
        for row in rows:
            if self._valid(row):
                by_block.setdefault(row.block_number, []).append(row)
        return by_block

    def _valid(self, row: Checkpoint) -> bool:
        """Whether a stored signature is a canonical one over this format's text (rows signed under an older
        text format are kept for the record but no longer used)."""
        try:
            signer = recover_checkpoint_signer(self.client.chain_id, row.block_number,
                                               bytes.fromhex(row.block_hash[2:]), bytes.fromhex(row.signature[2:]),
                                               self.contracts)
        except LedgerValueError:
            return False
        return signer.lower() == row.signer.lower()

    def covering(self, block_number: int) -> list[Checkpoint]:
        """The signatures of the nearest signed block at or after ``block_number``."""
        with Session(self.engine) as session:
            rows = session.exec(select(Checkpoint).where(
                Checkpoint.deployment == self.deployment_id, Checkpoint.block_number >= block_number)
                .order_by(col(Checkpoint.block_number)).limit(64)).all()
        by_block = self._grouped(list(rows))
        if not by_block:
            raise NotFoundError(f"no checkpoint covers block {block_number} yet: authorities must sign a block "
                                f"at or after it (`ledger checkpoint sign`)")
        return by_block[min(by_block)]

    def latest(self) -> list[Checkpoint]:
        """The signatures of the most recently signed block (raises NotFoundError if none)."""
        with Session(self.engine) as session:
            rows = session.exec(select(Checkpoint).where(Checkpoint.deployment == self.deployment_id)
                                .order_by(col(Checkpoint.block_number).desc()).limit(64)).all()
        by_block = self._grouped(list(rows))
        if not by_block:
            raise NotFoundError("no checkpoint has been signed yet (`ledger checkpoint sign`)")
        return by_block[max(by_block)]
