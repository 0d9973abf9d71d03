"""Who attests a block: authority checkpoint signatures (dev chain) or QBFT committed seals (Besu).

A bundle proves its digest up to a block hash; the block hash is worth what its attesters are worth. On a dev
chain the platform's authority nodes (notary, arbitration, time service … TJIFA §7.1.4) sign a checkpoint text
naming the chain, the block, its hash and the registry contracts; on Besu QBFT the validators' committed seals
in the header attest it. ``check_authority`` verifies either kind and reports whether the signers are
*trusted* — trust comes only from the verifier's trust roots, never from the bundle (``ledger.proofs.trust``).

Imports only hashing, signature and QBFT header code: the offline verifier uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerValueError
from ledger.hashing import to_hex
from ledger.proofs import qbft
from ledger.proofs.signatures import recover_personal
from ledger.proofs.trust import TrustRoots

CHECKPOINT_FORMAT = "ledger checkpoint/2"
SIGNATURE_FIELDS = {"signer", "signature"}


def checkpoint_text(chain_id: int, block_number: int, block_hash: bytes, contracts: Mapping[str, str]) -> str:
    """The text an authority signs for a block of the platform's chain (``ledger.proofs.checkpoints``)."""
    lines = [CHECKPOINT_FORMAT, f"chain: {chain_id}", f"block: {block_number}", f"hash: {to_hex(block_hash)}"]
    lines += [f"{name}: {contracts[name]}" for name in sorted(contracts)]
    return "\n".join(lines)


def recover_checkpoint_signer(chain_id: int, block_number: int, block_hash: bytes, signature: bytes,
                              contracts: Mapping[str, str]) -> str:
    """The authority that signed this checkpoint; refuses non-canonical signatures."""
    return recover_personal(checkpoint_text(chain_id, block_number, block_hash, contracts), signature)


@dataclass(frozen=True)
class Attestation:
    """The outcome of checking what attests one block."""

    valid: bool  # every signature is canonical and recovers its claimed signer, and enough of them signed
    authenticated: bool  # ... and the signers are trust roots the verifier was given
    pins_contracts: bool  # the signatures name the registry contracts (checkpoint text), QBFT seals do not
    signers: tuple[str, ...]
    detail: str


def _hex_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise LedgerValueError(f"{what} is not 0x-hexadecimal")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise LedgerValueError(f"{what} is not 0x-hexadecimal") from None


def check_authority(authority: Mapping[str, Any], header_rlp: bytes, block_hash: bytes, block_number: int,
                    chain_id: int, contracts: Mapping[str, str], trust: TrustRoots | None,
                    threshold: int | None) -> Attestation:
    """Checks that ``authority`` attests the block ``block_number`` / ``block_hash`` (whose header is
    ``header_rlp``), and whether by trusted signers. ``threshold`` defaults to the trust list's, else 1."""
    kind = authority.get("kind")
    need = threshold or (trust.threshold if trust else None) or 1
    if kind == "qbft":
        trusted = set(trust.authorities) if trust else None
        ok, why = qbft.verify_seals(header_rlp, trusted)
        if trust is None and ok:
            return Attestation(True, False, False, (), f"QBFT seals on block {block_number} are consistent with the "
                               f"validator list the header itself names: {why}")
        return Attestation(ok, ok and trust is not None, False, (), f"QBFT committed seals on block "
                           f"{block_number}: {why}")
    if kind != "checkpoint":
        return Attestation(False, False, False, (), f"unsupported authority kind {kind!r}")
    if authority.get("block_number") != block_number or str(authority.get("block_hash", "")).lower() != to_hex(
            block_hash):
        return Attestation(False, False, False, (), f"the signed block is not block {block_number} of the header "
                           "chain")
    signers: list[str] = []
    problems: list[str] = []
    entries = authority.get("signatures")
    if not isinstance(entries, list) or not entries:
        return Attestation(False, False, False, (), "no authority signatures")
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != SIGNATURE_FIELDS:
            problems.append("a signature entry must hold exactly 'signer' and 'signature'")
            continue
        try:
            signer = recover_checkpoint_signer(chain_id, block_number, block_hash,
                                               _hex_bytes(entry["signature"], "a signature"), contracts)
        except LedgerValueError as exc:
            problems.append(f"{entry.get('signer')}: {exc.user_message}")
            continue
        if signer != entry["signer"]:
            problems.append(f"a signature claimed by {entry['signer']} is {signer}'s (or not in EIP-55 form)")
            continue
        if signer.lower() in (s.lower() for s in signers):
            problems.append(f"two signatures by {signer}")
            continue
        signers.append(signer)
    if problems:
        return Attestation(False, False, True, tuple(signers), "; ".join(problems))
    if trust is None:
        return Attestation(True, False, True, tuple(signers),
                           f"{len(signers)} signature(s) on block {block_number} by {', '.join(signers)} — "
                           "accounts the bundle itself names, not trust roots")
    counted = [s for s in signers if s.lower() in trust.authorities]
    ok = len(counted) >= need
    names = ", ".join(trust.name(s) for s in counted) or "none"
    return Attestation(ok, ok, True, tuple(signers),
                       f"{len(counted)} trusted authorit{'y' if len(counted) == 1 else 'ies'} signed block "
                       f"{block_number} (need {need}): {names}")
