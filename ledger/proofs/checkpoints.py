"""Checkpoints: authority accounts (notary, arbitration, time service … TJIFA §7.1.4) sign block hashes.

On a dev chain nothing else attests that a block is final and authentic, so endorser accounts sign the hash
of a recent block from time to time; a proof bundle carries the header chain from its anchoring block up
to a signed block. The signed text is human-readable (EIP-191 personal message) so that anyone can see
what was signed:

    ledger checkpoint
    chain: 31337
    block: 42
    hash: 0x…
"""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.chain.client import ChainClient
from ledger.db import session_scope
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import to_hex
from ledger.models import Checkpoint


def checkpoint_text(chain_id: int, block_number: int, block_hash: bytes) -> str:
    return f"ledger checkpoint\nchain: {chain_id}\nblock: {block_number}\nhash: {to_hex(block_hash)}"


def sign_checkpoint(account: LocalAccount, chain_id: int, block_number: int, block_hash: bytes) -> bytes:
    message = encode_defunct(text=checkpoint_text(chain_id, block_number, block_hash))
    return bytes(Account.sign_message(message, account.key).signature)


def recover_checkpoint_signer(chain_id: int, block_number: int, block_hash: bytes, signature: bytes) -> str:
    message = encode_defunct(text=checkpoint_text(chain_id, block_number, block_hash))
    try:
        return str(Account.recover_message(message, signature=signature))
    except Exception as exc:  # malformed signature bytes
        raise LedgerValueError(f"not a valid signature: {exc.__class__.__name__}") from exc


class CheckpointStore:
    """Checkpoint signatures of one deployment."""

    def __init__(self, engine: Engine, client: ChainClient, deployment_id: str) -> None:
        self.engine = engine
        self.client = client
        self.deployment_id = deployment_id

    def sign_latest(self, account: LocalAccount, lag: int = 0) -> Checkpoint:
        """Signs the block ``lag`` blocks behind the head (a lag leaves room for reorgs on non-final chains)."""
        number = max(0, self.client.block_number() - lag)
        block = self.client.block(number)
        signature = sign_checkpoint(account, self.client.chain_id, number, bytes.fromhex(block["hash"][2:]))
        return self.add(number, block["hash"], str(account.address), signature)

    def add(self, block_number: int, block_hash: str, signer: str, signature: bytes) -> Checkpoint:
        """Stores a signature after checking it is ``signer``'s over this chain's block (idempotent)."""
        chain_hash = self.client.block(block_number)["hash"]
        if chain_hash.lower() != block_hash.lower():
            raise LedgerValueError(f"block {block_number} of this chain has hash {chain_hash}, not {block_hash}")
        recovered = recover_checkpoint_signer(self.client.chain_id, block_number, bytes.fromhex(block_hash[2:]),
                                              signature)
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

    def covering(self, block_number: int) -> list[Checkpoint]:
        """The signatures of the nearest signed block at or after ``block_number``."""
        with Session(self.engine) as session:
            first = session.exec(select(Checkpoint.block_number).where(
                Checkpoint.deployment == self.deployment_id, Checkpoint.block_number >= block_number)
                .order_by(col(Checkpoint.block_number))).first()
            if first is None:
                raise NotFoundError(f"no checkpoint covers block {block_number} yet: authorities must sign a block "
                                    f"at or after it (`ledger checkpoint sign`)")
            return list(session.exec(select(Checkpoint).where(
                Checkpoint.deployment == self.deployment_id, Checkpoint.block_number == first)).all())
