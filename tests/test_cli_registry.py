"""Issue #3 "done when", through the CLI as an operator runs it: a data asset goes through initial
registration with public notice, gets a licence and a pledge on its rights page, survives an objection that
lapses, is transferred jointly and is finally cancelled by a court order — every step on chain and in the
workflow store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.chain.client import ChainClient
from ledger.chain.node import free_port
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def run(home: Path, *args: str, today: str = "2024-09-27") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGER_HOME": str(home), "LEDGER_ADMIN_DELAY": "0", "LEDGER_TODAY": today}
    done = subprocess.run([sys.executable, "-m", "ledger", *args], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, f"ledger {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def app_id(output: str) -> str:
    match = re.search(r"application ([0-9a-f]{12})", output)
    assert match, output
    return match.group(1)


def test_data_asset_lifecycle_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(home, "chain", "up", "--port", str(free_port()))
    try:
        run(home, "deploy")
        out = run(home, "registry", "apply", "--profile", "TJIFA", "--holder", "holder-a", "--type", "data_asset",
                  "--name", "港口集装箱物流数据集", "--holder-name", "天津某数据科技有限公司", "--uscc", USCC,
                  "--form", "dataset", "--acquisition", "original", "--update-cycle", "daily",
                  "--scenarios", "物流调度;航运金融", "--scope", "仅限境内使用").stdout
        initial = app_id(out)
        run(home, "registry", "accept", initial)
        approved = run(home, "registry", "approve", initial).stdout
        number = re.search(r"registration number (TJ-\d{4}-\d{6}-[0-9A-Z])", approved)
        assert number, approved
        number_text = number.group(1)
        noticed = run(home, "registry", "notice", initial).stdout
        assert "public notice until 2024-10-08" in noticed  # 3 working days across National Day (TJIFA §8.1)
        early = subprocess.run([sys.executable, "-m", "ledger", "registry", "register", initial], text=True,
                               capture_output=True, env={**os.environ, "LEDGER_HOME": str(home),
                                                         "LEDGER_TODAY": "2024-10-08"})
        assert early.returncode == 1 and "runs until 2024-10-08" in early.stderr
        assert "registered" in run(home, "registry", "register", initial, today="2024-10-09").stdout

        # a licence (TJIFA gives it notice) and a pledge (entered directly) on the rights page
        lic = app_id(run(home, "registry", "licence", number_text, "--to", "holder-b", today="2024-10-09").stdout)
        run(home, "registry", "register", lic, today="2024-10-15")
        assert "registered" in run(home, "registry", "pledge", number_text, "--to", "bank", today="2024-10-15").stdout

        # an objection registration (SZ art. 20 timer adopted by TJIFA) that lapses without a court filing
        evidence = tmp_path / "evidence.txt"
        evidence.write_text("来源数据采集合同")
        filed = run(home, "registry", "object", number_text, "--objector", "outsider", "--grounds",
                    "the source data belong to us", "--objector-name", "某异议人数据公司", "--objector-id", USCC,
                    "--evidence", str(evidence), "--proof", str(tmp_path / "objection.pdf")).stdout
        assert "court/arbitration filing due by" in filed and "24:00 China time" in filed
        proof_text = subprocess.run(["pdftotext", str(tmp_path / "objection.pdf"), "-"], capture_output=True,
                                    text=True, check=True).stdout
        assert "异议登记证明" in proof_text and "某异议人数据公司" in proof_text  # SZ art. 20
        info = json.loads((home / "node.json").read_text())
        client = ChainClient(info["rpc_url"])
        client.request("evm_increaseTime", [16 * 86_400])
        client.request("evm_mine", [])
        assert "lapsed" in run(home, "registry", "lapse", number_text, "--grounds",
                               "the source data belong to us").stdout

        # joint transfer (TJIFA §6.4.3.3): both parties sign; notice first
        tr = app_id(run(home, "registry", "transfer", number_text, "--to", "holder-b", "--new-holder-name",
                        "乙方数据有限公司", "--new-holder-uscc", USCC, today="2024-10-15").stdout)
        run(home, "registry", "register", tr, today="2024-10-21")

        # cancelled by a court order: no notice, the court's account files it
        order = tmp_path / "judgment.txt"
        order.write_text("(2024)津0116民初1234号 民事判决书")
        assert "registered" in run(home, "registry", "cancel", number_text, "--court-order", str(order),
                                   "--as", "court", today="2024-10-22").stdout

        unit = json.loads(run(home, "registry", "show", number_text, "--json").stdout)
        assert unit["status"] == "cancelled" and unit["active_rights_entries"] == 2
        assert unit["certificate_version"] == 2  # initial, then reissued on transfer
        accounts = json.loads((home / "accounts.json").read_text())["accounts"]
        from eth_account import Account

        holder_b = Account.from_key(accounts["holder-b"]["private_key"]).address
        assert unit["holder"] == holder_b and unit["open_objections"] == 0
        history = run(home, "registry", "show", initial).stdout
        for step in ("submit", "accept", "begin_review", "approve", "start_notice", "register"):
            assert step in history
    finally:
        run(home, "chain", "down")
