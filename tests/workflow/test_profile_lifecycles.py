"""Issue #9 "done when": a lifecycle per profile through the CLI, every registration type the profile knows, each
rule checked by its key (REGISTRATION_RULES); a pledged unit cannot be transferred without its pledgee; the
certificate PDF after a change, a transfer and a renewal shows the full content (pdftotext).

The CLI runs in-process (typer's runner: the same commands, without a Python start per call) against one Anvil
node; the workflow's calendar date is set per command with LEDGER_TODAY, chain time with evm_increaseTime."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.chain.client import ChainClient
from ledger.cli import app
from ledger.errors import LedgerError
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]
DAY = 86_400
CONTENT = ["--holder-name", "某数据科技有限公司", "--uscc", USCC, "--form", "dataset", "--acquisition", "original",
           "--update-cycle", "daily", "--scenarios", "交通调度;城市规划", "--scope", "仅限本省使用，不得转授权"]


@dataclass
class Cli:
    home: Path
    client: ChainClient
    runner: CliRunner

    def __call__(self, *args: str, today: str = "2024-09-27", accounts: Path | None = None) -> str:
        """Runs a command that must succeed; returns its output."""
        code, out = self.attempt(*args, today=today, accounts=accounts)
        assert code == 0, f"ledger {' '.join(args)} failed: {out}"
        return out

    def attempt(self, *args: str, today: str = "2024-09-27", accounts: Path | None = None) -> tuple[int, str]:
        env = {"LEDGER_HOME": str(self.home), "LEDGER_TODAY": today}
        if accounts is not None:
            env["LEDGER_ACCOUNTS"] = str(accounts)
        result = self.runner.invoke(app, list(args), env=env)
        if isinstance(result.exception, LedgerError):
            return 1, result.exception.user_message
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def refused(self, *args: str, today: str = "2024-09-27", accounts: Path | None = None) -> str:
        code, out = self.attempt(*args, today=today, accounts=accounts)
        assert code != 0, f"ledger {' '.join(args)} was accepted: {out}"
        return out

    def travel(self, seconds: int) -> None:
        self.client.request("evm_increaseTime", [seconds])
        self.client.request("evm_mine", [])

    def now(self) -> int:
        return int(self.client.block("latest")["timestamp"], 16)

    def unit(self, number: str) -> dict[str, object]:
        data: dict[str, object] = json.loads(self("registry", "show", number, "--json"))
        return data

    def pdf_text(self, number: str, tmp: Path) -> str:
        path = tmp / f"{number}.pdf"
        self("proof", "export", number, "--out", str(path))
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    settings, node, ledger = start_chain(tmp_path_factory.mktemp("lifecycles"))
    yield Cli(settings.home, ledger.client, CliRunner())
    node.stop()


def app_id(output: str) -> str:
    match = re.search(r"application ([0-9a-f]{12})", output)
    assert match, output
    return match.group(1)


def number_of(output: str) -> str:
    match = re.search(r"registration number ([A-Z]{2,4}-\d{4}-\d{6}-[0-9A-Z])", output)
    assert match, output
    return match.group(1)


def registered(cli: Cli, profile: str, kind: str, name: str, *, review: bool = False, notice_until: str = "",
               register_on: str = "2099-01-01", extra: tuple[str, ...] = ()) -> str:
    """An initial registration through the CLI: apply, accept, (review), approve, notice, register."""
    application = app_id(cli("registry", "apply", "--profile", profile, "--holder", "holder-a", "--type", kind,
                             "--name", name, *CONTENT, *extra))
    cli("registry", "accept", application)
    if review:
        cli("registry", "review", application, "--pass")
        report = cli.home / "review.txt"
        report.write_text("第三方实质审查报告")
        cli("registry", "review", application, "--report", str(report), "--as", "reviewer")
    number = number_of(cli("registry", "approve", application))
    noticed = cli("registry", "notice", application)
    if notice_until:
        assert f"public notice until {notice_until}" in noticed, noticed
    assert "registered" in cli("registry", "register", application, today=register_on)
    return number


def test_tjifa(cli: Cli, tmp_path: Path) -> None:
    number = registered(cli, "TJIFA", "data_asset", "港口集装箱物流数据集",
                        notice_until="2024-10-08")  # TJIFA §8.1: 3 wd across National Day
    # TJIFA §3.10: only data assets
    assert "registers data_asset" in cli.refused("registry", "apply", "--profile", "TJIFA", "--holder", "holder-a",
                                                 "--type", "data_resource", "--name", "x", *CONTENT)
    # TJIFA §8.2.2: a pledge on the other-rights page, pledgor and pledgee both sign
    assert "registered" in cli("registry", "pledge", number, "--to", "bank")
    entries = cli.unit(number)["rights_page"]
    assert isinstance(entries, list) and entries[0]["kind"] == "pledge"
    entry_id = str(entries[0]["entry_id"])
    # issue #9 §2: the pledgee protected — without its consent the transfer is refused when filed
    accounts = json.loads((cli.home / "accounts.json").read_text())
    del accounts["accounts"]["bank"]
    without_bank = tmp_path / "accounts.json"
    without_bank.write_text(json.dumps(accounts))
    refusal = cli.refused("registry", "transfer", number, "--to", "holder-b", "--new-holder-name", "乙方数据有限公司",
                          "--new-holder-uscc", USCC, accounts=without_bank)
    assert "pledged" in refusal and "must consent or release" in refusal
    # TJIFA §8.3.1: a change reissues the certificate; only the changed field changes
    change = app_id(cli("registry", "change", number, "--name", "港口集装箱物流数据集（第二版）", "--version", "2.0"))
    cli("registry", "register", change, today="2099-01-01")
    text = cli.pdf_text(number, tmp_path)
    for kept in ("港口集装箱物流数据集（第二版）", "2.0", "某数据科技有限公司", USCC, "交通调度", "城市规划",
                 "仅限本省使用", "数据资产确权证书", f"{number}-V02", "原始取得"):
        assert kept in text, kept
    # TJIFA §6.4.3.3: joint transfer; the pledgee (bank) consents; the new holder is named on version 3
    transfer = app_id(cli("registry", "transfer", number, "--to", "holder-b", "--new-holder-name", "乙方数据有限公司",
                          "--new-holder-uscc", USCC))
    cli("registry", "register", transfer, today="2099-01-01")
    text = cli.pdf_text(number, tmp_path)
    for kept in ("乙方数据有限公司", "港口集装箱物流数据集（第二版）", "仅限本省使用", f"{number}-V03"):
        assert kept in text, kept
    assert "某数据科技有限公司" not in text
    # TJIFA §8.3.3: renewal only in the last month; +3 calendar years
    refused = cli.refused("registry", "renew", number, today="2099-01-01")
    assert "opens" in refused and "TJIFA §8.3.3" in refused
    valid_until = cli.unit(number)["valid_until"]
    assert isinstance(valid_until, str)
    unit_json = json.loads(cli("registry", "show", number, "--json"))
    cli.travel(3 * 365 * DAY - 20 * DAY)
    renewal = app_id(cli("registry", "renew", number, today="2099-01-01"))
    cli("registry", "register", renewal, today="2099-01-10")
    renewed = cli.unit(number)
    assert renewed["valid_until"] != unit_json["valid_until"]
    text = cli.pdf_text(number, tmp_path)
    for kept in ("乙方数据有限公司", "港口集装箱物流数据集（第二版）", "交通调度", f"{number}-V04"):
        assert kept in text, kept
    # the release names an entry of this unit; then the holder cancels
    assert "registered" in cli("registry", "release", number, "--entry", entry_id)
    cancel = app_id(cli("registry", "cancel", number))
    cli("registry", "register", cancel, today="2099-02-01")
    assert cli.unit(number)["status"] == "cancelled"


def test_sz(cli: Cli, tmp_path: Path) -> None:
    number = registered(cli, "SZ", "data_resource", "城市交通流量数据集", review=True,
                        notice_until="2024-10-10")  # SZ art. 15 (5 wd [derived])
    # SZ art. 16(4): a licence needs evidence and a third-party review; the licensee files alone
    filed = cli("registry", "licence", number, "--to", "holder-b", "--as", "registrar")
    assert "needs a third-party review" in filed
    licence = app_id(filed)
    report = tmp_path / "licence-review.txt"
    report.write_text("许可审查报告")
    cli("registry", "review", licence, "--report", str(report), "--as", "reviewer")
    cli("registry", "approve", licence)
    assert "registered" in cli("registry", "register", licence)  # SZ: no notice for licences
    # SZ art. 20: an objection registration, its proof, the filing deadline at 24:00 China time, the lapse
    evidence = tmp_path / "evidence.txt"
    evidence.write_text("采集合同")
    filed = cli("registry", "object", number, "--objector", "outsider", "--grounds", "数据来源属于我方",
                "--objector-name", "某异议人公司", "--objector-id", USCC, "--evidence", str(evidence),
                "--proof", str(tmp_path / "proof.pdf"))
    assert "24:00 China time" in filed
    assert "ObjectionDeadlineNotReached" in cli.refused("registry", "lapse", number, "--grounds", "数据来源属于我方")
    cli.travel(16 * DAY)
    assert "lapsed" in cli("registry", "lapse", number, "--grounds", "数据来源属于我方")
    refiled = cli.refused("registry", "object", number, "--objector", "outsider", "--grounds", "数据来源属于我方",
                          "--objector-name", "某异议人公司", "--objector-id", USCC, "--evidence", str(evidence))
    assert "ObjectionMayNotBeRefiled" in refiled
    # a second matter, with the court's acceptance recorded in time: it does not lapse; the court disposes of it
    cli("registry", "object", number, "--objector", "holder-b", "--grounds", "许可范围超出约定",
        "--objector-name", "乙方数据有限公司", "--objector-id", USCC, "--evidence", str(evidence),
        "--proof", str(tmp_path / "proof2.pdf"))
    acceptance = tmp_path / "acceptance.txt"
    acceptance.write_text("(2024)粤0304民初1号 受理通知书")
    cli("registry", "litigation", number, "--grounds", "许可范围超出约定", "--acceptance", str(acceptance))
    cli.travel(16 * DAY)
    judgment = tmp_path / "judgment.txt"
    judgment.write_text("(2024)粤0304民初1号 判决书")
    cli("registry", "resolve", number, "--dismissed", "--grounds", "许可范围超出约定", "--order", str(judgment),
        "--as", "court")
    assert cli.unit(number)["open_objections"] == 0
    # SZ art. 17: a transfer by the transferee alone, after a third-party review
    transfer = app_id(cli("registry", "transfer", number, "--to", "bank", "--new-holder-name", "某银行股份有限公司",
                          "--new-holder-uscc", USCC, "--as", "registrar"))
    cli("registry", "review", transfer, "--report", str(report), "--as", "reviewer")
    cli("registry", "approve", transfer)
    assert "registered" in cli("registry", "register", transfer)
    assert "某银行股份有限公司" in cli.pdf_text(number, tmp_path)


def test_ah(cli: Cli) -> None:
    # AH art. 19(4): 10 wd of notice; art. 22: an objection not resolved within 30 days terminates it
    application = app_id(cli("registry", "apply", "--profile", "AH", "--holder", "holder-a", "--type",
                             "data_resource", "--name", "安徽气象数据", *CONTENT))
    cli("registry", "accept", application)
    cli("registry", "review", application, "--pass")
    report = cli.home / "review.txt"
    report.write_text("审查报告")
    cli("registry", "review", application, "--report", str(report), "--as", "reviewer")
    cli("registry", "approve", application)
    assert "public notice until 2024-10-16" in cli("registry", "notice", application)  # 10 wd, make-up days count
    cli("registry", "object", application, "--objector", "outsider", "--grounds", "权属争议", today="2024-10-09")
    late = cli.refused("registry", "resolve", application, "--dismissed", today="2024-11-20")
    assert "overdue" in late and "AH" in late
    assert "1 application(s) moved by a deadline" in cli("registry", "duties", today="2024-11-20")
    assert "terminated" in cli("registry", "show", application, today="2024-11-20")
    # AH art. 23: revocation by the registry, with the decision that grounds it
    number = registered(cli, "AH", "data_resource", "安徽交通数据", review=True)
    grounds = cli.home / "decision.txt"
    grounds.write_text("撤销决定书")
    assert "registered" in cli("registry", "revoke", number, "--grounds", str(grounds))
    assert cli.unit(number)["status"] == "revoked"


def test_gd(cli: Cli) -> None:
    # GD art. 16: the simple procedure's 1 wd of public disclosure
    application = app_id(cli("registry", "apply", "--profile", "GD", "--holder", "holder-a", "--type",
                             "data_product", "--name", "广东物流指数", "--simple", *CONTENT))
    cli("registry", "accept", application)
    cli("registry", "approve", application)
    assert "public notice until 2024-09-29" in cli("registry", "notice", application)  # 1 wd: the make-up Sunday
    number = number_of(cli("registry", "register", application, today="2024-10-08"))
    # GD art. 17-22: there is no transfer registration
    assert "GD has no transfer registration" in cli.refused("registry", "transfer", number, "--to", "holder-b",
                                                            "--new-holder-name", "乙方", "--new-holder-uscc", USCC)
    # GD art. 11, 23: an objection not resolved by the registrant within 10 wd gets the application refused
    other = app_id(cli("registry", "apply", "--profile", "GD", "--holder", "holder-a", "--type", "data_product",
                       "--name", "广东港口数据", *CONTENT))
    cli("registry", "accept", other)
    cli("registry", "approve", other)
    cli("registry", "notice", other)
    cli("registry", "object", other, "--objector", "outsider", "--grounds", "侵犯商业秘密", today="2024-09-29")
    cli("registry", "duties", today="2024-10-30")
    assert "rejected" in cli("registry", "show", other, today="2024-10-30")


def test_gz(cli: Cli, tmp_path: Path) -> None:
    number = registered(cli, "GZ", "data_resource", "贵州算力数据", review=True)
    unit = cli.unit(number)
    # GZ art. 35: renewal in the last month, without the 30 wd notice (it would outlast the window)
    cli.travel(2 * 365 * DAY - 10 * DAY)
    renewal = app_id(cli("registry", "renew", number))
    assert "registered" in cli("registry", "show", renewal)
    assert cli.unit(number)["valid_until"] != unit["valid_until"]
    # GZ art. 35: not renewed again, it expires, and the registry cancels and announces it
    notice = tmp_path / "cancellation-notice.txt"
    notice.write_text("注销公告")
    refused = cli.refused("registry", "cancel", number, "--expired", str(notice))
    assert "has not expired" in refused and "GZ art. 35" in refused
    cli.travel(2 * 366 * DAY + 20 * DAY)
    assert "registered" in cli("registry", "cancel", number, "--expired", str(notice))
    assert cli.unit(number)["status"] == "cancelled"


def test_dl(cli: Cli, tmp_path: Path) -> None:
    number = registered(cli, "DL", "data_product", "大理旅游数据", review=True,
                        notice_until="2024-10-04")  # DL art. 23: 7 calendar days
    # DL art. 22: suspension by a court is lifted only by the court; every act records its grounds
    order = tmp_path / "order.txt"
    order.write_text("(2024)云2901民初1号 裁定书")
    assert "registered" in cli("registry", "suspend", number, "--grounds", str(order), "--as", "court")
    refused = cli.refused("registry", "reinstate", number, "--grounds", str(order))
    assert "court or arbitration body" in refused
    assert "registered" in cli("registry", "reinstate", number, "--grounds", str(order), "--as", "court")
    # DL art. 30: the annual review (年审) within the last month of the 1-year certificate
    cli.travel(365 * DAY - 10 * DAY)
    review = app_id(cli("registry", "renew", number))
    cli("registry", "register", review, today="2099-01-01")
    assert cli.unit(number)["certificate_version"] == 2
    # roles are checked and named: the holder cannot accept its own application
    application = app_id(cli("registry", "apply", "--profile", "DL", "--holder", "holder-a", "--type",
                             "data_product", "--name", "大理农业数据", *CONTENT))
    assert "registration authority (登记机构)" in cli.refused("registry", "accept", application, "--as", "holder-a")
    assert "withdrawn" in cli("registry", "withdraw", application, "--as", "holder-a")
