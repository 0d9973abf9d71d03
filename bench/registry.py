"""Registry benchmark: gas per lifecycle operation beside EAS `attest`, and registrations per second.

Starts its own Anvil nodes on free ports. Part 1 (automine) files each operation once and reads its gas.
Part 2 (interval mining, 1 s blocks) measures initial registrations per second twice: how fast the Python
client prepares them (holder consent + registrar transaction, both signed) and how fast the chain includes
them — to show which one is the bottleneck.
Run: ``.venv/bin/python bench/registry.py [--registrations 3000] [--gas-limit 100000000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.config import Settings
from ledger.context import Ledger
from ledger.deployment import deploy
from ledger.lifecycle import Action, Right
from ledger.numbering import registration_number, unit_id
from ledger.registry import initial_params
from ledger.workdays import add_years, china_date, end_of_day
from tests.contracts.registry_env import RegistryEnv, h

EAS_ATTEST = {"EAS attest (bytes32 payload)": 200_272, "EAS attest (bytes32 + short string)": 267_699}


def start(block_time: float | None, gas_limit: int | None) -> tuple[LocalNode, Ledger]:
    home = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    settings = Settings.from_env(home=home, admin_delay=0)
    node = LocalNode(settings)
    extra = ["--gas-limit", str(gas_limit)] if gas_limit else None
    node.start(port=free_port(), block_time=block_time, extra_args=extra)
    write_dev_accounts(settings.accounts_path)
    ledger = Ledger(settings)
    deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, 0)
    return node, ledger


def gas_table() -> list[tuple[str, int]]:
    node, ledger = start(None, None)
    try:
        handle = ledger.contract("AssetRegistry")
        from ledger.registry import AssetRegistryClient

        env = RegistryEnv(ledger, AssetRegistryClient(handle), handle)
        rows: list[tuple[str, int]] = []

        def gas(label: str, function: str, *args: Any, caller: str = "registrar") -> dict[str, Any]:
            receipt = env.registry.transact(env.sender(caller), function, *args)
            rows.append((label, int(receipt["gasUsed"], 16)))
            return receipt

        uid, args = env.initial_args("TJIFA", "holder-a")
        gas("initial registration (holder's first consent)", "registerInitial", *args)
        uid, args = env.initial_args("TJIFA", "holder-a")
        gas("initial registration (full state, typical)", "registerInitial", *args)
        gas("third-party review report", "recordReview", h(), h(), caller="reviewer")
        gas("change (certificate reissued)", "reissue", *env.reissue_args(uid))
        receipt = gas("pledge on the rights page (joint)", "addRightsEntry", *env.entry_args(uid, Action.PLEDGE))
        entry = handle.events(receipt, "RightsEntryAdded")[0]["entryId"]
        gas("licence on the rights page (joint)", "addRightsEntry",
            *env.entry_args(uid, Action.LICENCE, "holder-b", Right.PROCESSING_USE))
        from ledger.registry import release_params

        doc = h()
        gas("release of a pledge", "releaseRightsEntry", uid, entry, doc,
            env.consent("bank", uid, Action.RELEASE, release_params(entry, doc)))
        gas("transfer (joint signatures, TJIFA)", "transfer", *env.transfer_args(uid, "holder-b"))
        sz = env.register("SZ")
        gas("transfer (transferee alone, SZ)", "transfer", *env.transfer_args(sz, "holder-b", sign_from=False))
        matter = h()
        gas("objection registration", "fileObjection", sz, env.address("outsider"), matter, h())
        env.travel(16 * 86_400)
        from ledger.registry import objection_id

        gas("objection lapse", "lapseObjection", objection_id(sz, matter), caller="outsider")
        gz = env.register("GZ")
        env.travel(env.registry.unit(gz)["valid_until"] - 20 * 86_400 - env.now())
        gas("renewal", "renew", *env.renew_args(gz))
        gas("cancellation by the holder", "cancel", *env.cancel_args(uid))
        gas("cancellation by court order", "cancel", sz, 2, h(), bytes(32), (0, 0, b""), [], caller="court")
        return rows
    finally:
        node.stop()


def throughput(count: int, gas_limit: int) -> dict[str, float]:
    node, ledger = start(1.0, gas_limit)
    try:
        assets = ledger.assets
        registrar = ledger.sender("registrar")
        holders = [ledger.accounts.get(n).signer for n in ("holder-a", "holder-b", "bank")]
        nonces = {a.address: assets.nonce(a.address) for a in holders}
        now = int(ledger.client.block("latest")["timestamp"], 16)
        deadline = now + 3600
        valid_until = end_of_day(add_years(china_date(now), 3))  # TJIFA: three calendar years
        gas = 200_000
        # Python side: consent signature + calldata + registrar's signed transaction, per registration
        start_prep = time.perf_counter()
        raws = []
        for i in range(count):
            holder = holders[i % len(holders)]
            number = registration_number("TJ", 2026, i + 1)
            uid = unit_id(number)
            app, cert, doc = os.urandom(32), os.urandom(32), os.urandom(32)
            params = initial_params(app, holder.address, 3, 1, Right.ALL, cert, doc, valid_until)
            consent = assets.consent(holder, uid, Action.INITIAL, params, nonce=nonces[holder.address],
                                     deadline=deadline)
            nonces[holder.address] += 1
            request = assets.handle.request(
                registrar, "registerInitial", (number, app, holder.address, 3, 1, Right.ALL, cert, doc, valid_until),
                consent.as_tuple(), gas=gas)
            raws.append(registrar.sign_next(request))
        prep = time.perf_counter() - start_prep
        # Chain side: submit in batches, wait for every receipt; rate = count / time spanned by their blocks
        first_block = ledger.client.block_number()
        hashes: list[str] = []
        for i in range(0, count, 500):
            for answer in ledger.client.send_raw(raws[i : i + 500]):
                assert isinstance(answer, str), answer
                hashes.append(answer)
        receipts = ledger.client.wait_for_receipts(hashes, timeout=600, poll=0.2)
        failed = sum(int(r["status"], 16) != 1 for r in receipts)
        blocks = sorted({int(r["blockNumber"], 16) for r in receipts})
        times = [int(ledger.client.block(b)["timestamp"], 16) for b in (first_block, blocks[-1])]
        chain_seconds = max(1, times[1] - times[0])
        per_block = count / len(blocks)
        mean_gas = sum(int(r["gasUsed"], 16) for r in receipts) / count
        return {"client_rate": count / prep, "chain_rate": count / chain_seconds, "blocks": len(blocks),
                "per_block": per_block, "failed": failed, "mean_gas": mean_gas, "chain_seconds": chain_seconds}
    finally:
        node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registrations", type=int, default=3000)
    parser.add_argument("--gas-limit", type=int, default=100_000_000, help="block gas limit of the Anvil node")
    args = parser.parse_args()

    rows = gas_table()
    initial = next(g for label, g in rows if label.startswith("initial registration (full"))
    print(f"\n{'operation':<56} {'gas':>9}  {'vs EAS attest 200,272':>22}")
    for label, gas in [*rows, *((f"{k} (quoted in issue #3)", v) for k, v in EAS_ATTEST.items())]:
        print(f"{label:<56} {gas:>9,}  {gas / 200_272:>21.2f}x")
    print(f"\ninitial registration with full state: {initial:,} gas (target <= 150,000: "
          f"{'met' if initial <= 150_000 else 'NOT met'})")

    t = throughput(args.registrations, args.gas_limit)
    title = f"registrations/s (Anvil, 1 s blocks, gas limit {args.gas_limit:,})"
    print(f"\n{title:<60} {'figure':>12}")
    print(f"{'Python client: prepare + sign (consent and transaction)':<60} {t['client_rate']:>12,.0f}")
    print(f"{'chain: included per second of block time':<60} {t['chain_rate']:>12,.0f}")
    print(f"{'  registrations per block (mean)':<60} {t['per_block']:>12,.0f}")
    print(f"{'  mean gas per registration':<60} {t['mean_gas']:>12,.0f}")
    print(f"{'  failed transactions':<60} {t['failed']:>12,.0f}")
    bottleneck = "chain" if t["chain_rate"] < t["client_rate"] else "Python client"
    print(f"\nbottleneck: {bottleneck}; target >= 300/s: "
          f"{'met' if min(t['chain_rate'], t['client_rate']) >= 300 else 'NOT met'} "
          f"({args.registrations:,} registrations over {t['blocks']} blocks)")


if __name__ == "__main__":
    main()
