"""The data-asset registry on chain (AssetRegistry): actions, statuses, holder consents, transitions.

Holders consent by EIP-712 signatures (eth-account) over ``Consent(unitId, action, paramsHash, nonce,
deadline)``; the registrar relays the transaction, so holders need no gas (issue #3, TJIFA App. 2). Each
action's ``paramsHash`` is keccak256 of its ABI-encoded parameters, exactly as the contract computes it, so
a signature binds every parameter of the filing it approves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.contract import ContractHandle
from ledger.chain.sender import TransactionSender
from ledger.hashing import keccak256
from ledger.lifecycle import Action, ObjectionStatus, Right, UnitStatus

DEFAULT_CONSENT_TTL = 3600
ZERO32 = bytes(32)


@dataclass(frozen=True)
class Consent:
    """A signed consent as the contract takes it: (nonce, deadline, signature)."""

    nonce: int
    deadline: int
    signature: bytes

    def as_tuple(self) -> tuple[int, int, bytes]:
        return (self.nonce, self.deadline, self.signature)


EMPTY_CONSENT = Consent(0, 0, b"")
#: A pledgee's consent as the contract takes it: (entryId, (nonce, deadline, signature)).
PledgeeConsent = tuple[int, tuple[int, int, bytes]]


def _h(types: list[str], values: list[Any]) -> bytes:
    return keccak256(encode(types, values))


# --- paramsHash of each action, mirroring AssetRegistry.sol -----------------------------------------------


def initial_params(application_id: bytes, holder: str, object_type: int, profile_id: int, rights: int,
                   certificate_hash: bytes, document_hash: bytes, valid_until: int = 0) -> bytes:
    return _h(["bytes32", "address", "uint8", "uint8", "uint8", "bytes32", "bytes32", "uint40"],
              [application_id, holder, object_type, profile_id, rights, certificate_hash, document_hash, valid_until])


def reissue_params(new_certificate_hash: bytes, document_hash: bytes, risk_ack: bytes = ZERO32) -> bytes:
    return _h(["bytes32", "bytes32", "bytes32"], [new_certificate_hash, document_hash, risk_ack])


def transfer_request(to: str, rights: int, new_certificate_hash: bytes, document_hash: bytes,
                     risk_ack: bytes = ZERO32) -> tuple[str, int, bytes, bytes, bytes]:
    return (to, rights, new_certificate_hash, document_hash, risk_ack)


def transfer_params(request: tuple[str, int, bytes, bytes, bytes]) -> bytes:
    return _h(["address", "uint8", "bytes32", "bytes32", "bytes32"], list(request))


def entry_request(action: Action, counterparty: str, rights: int, valid_until: int, document_hash: bytes,
                  risk_ack: bytes = ZERO32) -> tuple[int, str, int, int, bytes, bytes]:
    return (int(action), counterparty, rights, valid_until, document_hash, risk_ack)


def entry_params(request: tuple[int, str, int, int, bytes, bytes]) -> bytes:
    return _h(["uint8", "address", "uint8", "uint40", "bytes32", "bytes32"], list(request))


def release_params(entry_id: int, document_hash: bytes) -> bytes:
    return _h(["uint256", "bytes32"], [entry_id, document_hash])


def cancel_params(document_hash: bytes, risk_ack: bytes = ZERO32) -> bytes:
    return _h(["bytes32", "bytes32"], [document_hash, risk_ack])


def renew_params(new_certificate_hash: bytes, document_hash: bytes, new_valid_until: int) -> bytes:
    return _h(["bytes32", "bytes32", "uint40"], [new_certificate_hash, document_hash, new_valid_until])


def declaration_params(declaration_hash: bytes) -> bytes:
    return _h(["bytes32"], [declaration_hash])


def consent_typed_data(chain_id: int, contract: str, unit_id: bytes, action: Action, params_hash: bytes,
                       nonce: int, deadline: int) -> dict[str, Any]:
    """The EIP-712 message a wallet shows and signs."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"},
            ],
            "Consent": [
                {"name": "unitId", "type": "bytes32"}, {"name": "action", "type": "uint8"},
                {"name": "paramsHash", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Consent",
        "domain": {"name": "DataAssetRegistry", "version": "1", "chainId": chain_id, "verifyingContract": contract},
        "message": {"unitId": unit_id, "action": int(action), "paramsHash": params_hash, "nonce": nonce,
                    "deadline": deadline},
    }


CONSENT_TYPEHASH = keccak256(b"Consent(bytes32 unitId,uint8 action,bytes32 paramsHash,uint256 nonce,uint256 deadline)")
_DOMAIN_TYPEHASH = keccak256(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def domain_separator(chain_id: int, contract: str) -> bytes:
    return keccak256(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                            [_DOMAIN_TYPEHASH, keccak256(b"DataAssetRegistry"), keccak256(b"1"), chain_id, contract]))


def consent_digest(separator: bytes, unit_id: bytes, action: Action, params_hash: bytes, nonce: int,
                   deadline: int) -> bytes:
    """The EIP-712 digest of a consent (what ``consent_typed_data`` hashes to), computed directly."""
    struct = keccak256(encode(["bytes32", "bytes32", "uint8", "bytes32", "uint256", "uint256"],
                              [CONSENT_TYPEHASH, unit_id, int(action), params_hash, nonce, deadline]))
    return keccak256(b"\x19\x01" + separator + struct)


class AssetRegistryClient:
    """Typed access to one AssetRegistry deployment."""

    def __init__(self, handle: ContractHandle) -> None:
        self.handle = handle
        self.client = handle.client
        self._separator: bytes | None = None

    @property
    def domain_separator(self) -> bytes:
        if self._separator is None:
            self._separator = domain_separator(self.client.chain_id, self.handle.address)
        return self._separator

    def nonce(self, address: str) -> int:
        return int(self.handle.call("nonces", address))

    def consent(self, signer: LocalAccount, unit_id: bytes, action: Action, params_hash: bytes,
                nonce: int | None = None, deadline: int | None = None) -> Consent:
        """``signer``'s consent to ``action`` with ``params_hash`` on ``unit_id`` (next nonce, 1 h validity)."""
        nonce = self.nonce(signer.address) if nonce is None else nonce
        if deadline is None:  # chain time, not wall time: a dev chain may have been moved forward
            deadline = int(self.client.block("latest")["timestamp"], 16) + DEFAULT_CONSENT_TTL
        digest = consent_digest(self.domain_separator, unit_id, action, params_hash, nonce, deadline)
        signed = Account.unsafe_sign_hash(digest, signer.key)  # the EIP-712 digest, not a raw message
        return Consent(nonce, deadline, bytes(signed.signature))

    def transact(self, sender: TransactionSender, function: str, *args: Any) -> dict[str, Any]:
        return self.handle.transact(sender, function, *args)

    # --- reads --------------------------------------------------------------------------------------

    def unit(self, unit_id: bytes) -> dict[str, Any]:
        cert, holder, valid_until, version, status, object_type, profile_id, rights, objections = self.handle.call(
            "unitOf", unit_id)
        return {"certificate_hash": cert, "holder": holder, "valid_until": valid_until,
                "certificate_version": version, "status": UnitStatus(status), "object_type": object_type,
                "profile_id": profile_id, "rights": rights, "open_objections": objections}

    def status(self, unit_id: bytes) -> UnitStatus:
        return UnitStatus(self.handle.call("statusOf", unit_id))

    def right_holder(self, unit_id: bytes, right: Right) -> str:
        return str(self.handle.call("rightHolderOf", unit_id, int(right).bit_length() - 1))

    def objection(self, objection_id: bytes) -> dict[str, Any]:
        unit_id, objector, deadline, status = self.handle.call("objectionOf", objection_id)
        return {"unit_id": unit_id, "objector": objector, "deadline": deadline, "status": ObjectionStatus(status)}

    def entry(self, entry_id: int) -> dict[str, Any]:
        unit_id, counterparty, valid_until, action, rights, active = self.handle.call("rightsEntryOf", entry_id)
        return {"unit_id": unit_id, "counterparty": counterparty, "valid_until": valid_until,
                "action": Action(action), "rights": rights, "active": active}

    def active_entries(self, unit_id: bytes) -> int:
        return int(self.handle.call("activeEntriesOf", unit_id))

    def active_pledges(self, unit_id: bytes) -> int:
        return int(self.handle.call("activePledgesOf", unit_id))

    def order_recorded(self, unit_id: bytes, order_hash: bytes) -> bool:
        return bool(self.handle.call("orderRecorded", unit_id, order_hash))

    def entries(self, unit_id: bytes) -> list[dict[str, Any]]:
        """Every rights-page entry of a unit (released ones too), with the contract hash that created it."""
        topic = self.handle.topic("RightsEntryAdded")
        out = []
        for log in self.client.get_logs(self.handle.address, [topic, "0x" + unit_id.hex()]):
            entry_id = int(self.handle.decode_log("RightsEntryAdded", log)["entryId"])
            recorded = self.client.get_logs(self.handle.address, [self.handle.topic("RegistrationRecorded"),
                                                                  "0x" + unit_id.hex()],
                                            int(log["blockNumber"], 16), int(log["blockNumber"], 16))
            contract = next((self.handle.decode_log("RegistrationRecorded", r)["documentHash"] for r in recorded
                             if r["transactionHash"] == log["transactionHash"]), ZERO32)
            entry = self.entry(entry_id)
            out.append({**entry, "entry_id": entry_id, "contract_hash": "0x" + bytes(contract).hex(),
                        "kind": "pledge" if entry["action"] is Action.PLEDGE else "licence"})
        return out


def objection_id(unit_id: bytes, matter_hash: bytes) -> bytes:
    return _h(["bytes32", "bytes32"], [unit_id, matter_hash])
