"""A registration unit's derived rows, computed from its events in chain order (REGISTRATION_RULES §3.8).

This follows AssetRegistry's own rules event by event — the same ``_moveRights`` logic for the three rights,
certificate versions superseding each other, entries and objections opening and closing — so the read models
say exactly what the contract's storage says (a test compares them unit by unit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlmodel import SQLModel

from ledger.indexer.read_models import IxCertificate, IxEvent, IxHistory, IxObjection, IxRight, IxRightsEntry, IxUnit
from ledger.lifecycle import Action, ObjectionStatus, UnitStatus

_OPEN = (ObjectionStatus.PENDING, ObjectionStatus.LITIGATING)


def derive_unit(deployment: str, unit_id: str, events: Sequence[IxEvent]) -> dict[type[SQLModel], list[dict[str, Any]]]:
    """Rows of the per-unit tables for one unit, from all of its events (oldest first)."""
    unit: dict[str, Any] | None = None
    rights: dict[int, str] = {}
    certificates: list[dict[str, Any]] = []
    entries: dict[int, dict[str, Any]] = {}
    objections: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    for event in events:
        args = json.loads(event.args)
        name = event.name
        if name == "UnitRegistered":
            unit = {"deployment": deployment, "unit_id": unit_id, "registration_number": args["registrationNumber"],
                    "holder": args["holder"], "object_type": args["objectType"], "profile_id": args["profileId"],
                    "rights_mask": args["rightsMask"], "status": int(UnitStatus.ACTIVE), "cancellation_ground": 0,
                    "valid_until": args["validUntil"], "certificate_version": 0, "certificate_hash": "0x" + "00" * 32,
                    "registered_block": event.block_number, "registered_time": event.block_time}
            rights = {r: args["holder"] for r in range(3) if args["rightsMask"] & (1 << r)}
        elif unit is None:
            continue  # events of an id that was never registered (a refused call leaves none; defensive)
        elif name == "CertificateIssued":
            for cert in certificates:
                if cert["superseded_by"] is None:
                    cert["superseded_by"] = args["certificateHash"]
            certificates.append({"deployment": deployment, "certificate_hash": args["certificateHash"],
                                 "unit_id": unit_id, "version": args["version"], "superseded_by": None,
                                 "issued_block": event.block_number, "issued_time": event.block_time,
                                 "tx_hash": event.tx_hash})
            unit["certificate_version"], unit["certificate_hash"] = args["version"], args["certificateHash"]
        elif name == "RightsTransferred":
            for right in range(3):
                if args["rightsMask"] & (1 << right):
                    rights[right] = args["to"]
            if args["rightsMask"] & 1:
                unit["holder"] = args["to"]
        elif name == "ValidityExtended":
            unit["valid_until"] = args["validUntil"]
        elif name == "StatusChanged":
            unit["status"], unit["cancellation_ground"] = args["status"], args["cancellationGround"]
        elif name == "RightsEntryAdded":
            entries[args["entryId"]] = {
                "deployment": deployment, "entry_id": args["entryId"], "unit_id": unit_id,
                "kind": "pledge" if args["action"] == Action.PLEDGE else "licence",
                "counterparty": args["counterparty"], "rights_mask": args["rightsMask"],
                "valid_until": args["validUntil"], "active": True, "contract_hash": "0x" + "00" * 32,
                "added_block": event.block_number, "added_time": event.block_time, "added_tx": event.tx_hash,
                "released_block": None, "released_tx": None, "release_document": None}
        elif name == "RightsEntryReleased":
            entry = entries[args["entryId"]]
            entry.update(active=False, released_block=event.block_number, released_tx=event.tx_hash)
        elif name == "ObjectionUpdated":
            record = objections.get(args["objectionId"])
            if record is None:
                record = objections[args["objectionId"]] = {
                    "deployment": deployment, "objection_id": args["objectionId"], "unit_id": unit_id,
                    "objector": args["objector"], "document_hash": "0x" + "00" * 32,
                    "filed_block": event.block_number, "filed_time": event.block_time}
            record.update(status=args["status"], deadline=args["deadline"], updated_block=event.block_number)
        elif name == "RegistrationRecorded":
            action = args["action"]
            history.append({"deployment": deployment, "block_number": event.block_number,
                            "log_index": event.log_index, "unit_id": unit_id, "action": action,
                            "document_hash": args["documentHash"], "actor": args["actor"],
                            "block_time": event.block_time, "tx_hash": event.tx_hash})
            # the governing document of an entry or an objection arrives in the same transaction
            if action in (Action.LICENCE, Action.PLEDGE):
                for entry in entries.values():
                    if entry["added_tx"] == event.tx_hash:
                        entry["contract_hash"] = args["documentHash"]
            elif action == Action.RELEASE:
                for entry in entries.values():
                    if entry["released_tx"] == event.tx_hash:
                        entry["release_document"] = args["documentHash"]
            elif action == Action.OBJECTION:
                for record in objections.values():
                    if record["filed_block"] == event.block_number and record["document_hash"] == "0x" + "00" * 32:
                        record["document_hash"] = args["documentHash"]
        unit["updated_block"] = event.block_number
    if unit is None:
        return {}
    unit["open_objections"] = sum(o["status"] in _OPEN for o in objections.values())
    unit["active_entries"] = sum(e["active"] for e in entries.values())
    unit["active_pledges"] = sum(e["active"] and e["kind"] == "pledge" for e in entries.values())
    return {
        IxUnit: [unit],
        IxRight: [{"deployment": deployment, "unit_id": unit_id, "right": r, "holder": h} for r, h in rights.items()],
        IxCertificate: certificates,
        IxRightsEntry: list(entries.values()),
        IxObjection: list(objections.values()),
        IxHistory: history,
    }
