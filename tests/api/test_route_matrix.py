"""Every route × every role (issue #11, done when): a matrix generated from the app's routes calls each route as
each role — registrar, reviewer, evidence provider, endorser, holder, a party with no stake, exchange, bank, court
(with its judicial document), auditor and the anonymous public (REGISTRATION_RULES §1, §6.2) — and checks that
every refusal is right (401 for the public where a credential is needed, 403 otherwise, with the stable error code,
and nothing written: no application, history event, outbox row, registry act, access-log row, and no block) and
that every allowed call works (its effect happened, or for a read the role's view: full or redacted).

``POLICY`` states who may call each route, from the rules; the app may not have a route without a policy, nor the
policy a route the app does not have. One chain and one SQLite database for the module: states are prepared in bulk
through the service layer, each allowed call that changes something gets its own fresh application or entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.main import create_app
from ledger.accounts import DEV_MNEMONIC, add_wallet_account, write_dev_accounts
from ledger.context import Ledger
from ledger.files import write_private
from ledger.hashing import HashAlgorithm
from ledger.indexer.sync import wait_for
from ledger.proofs.checkpoints import sign_checkpoint
from ledger.services import applications as service
from ledger.services.access import request_text
from ledger.services.proofs import trust_list
from ledger.services.recognition import add_peer, export_package
from ledger.services.registrations import rights_page
from ledger.services.schemas import (
    AuthorityActCreate,
    EntryCreate,
    InitialApplicationCreate,
    NoticeObjectionCreate,
    ObjectionRegistrationCreate,
    ReviewDecision,
)
from ledger.tokens import create_token
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]

# --- the roles -------------------------------------------------------------------------------------------------

ROLES = ("registrar", "reviewer", "provider", "endorser", "holder", "other", "exchange", "bank", "judicial",
         "auditor", "public")
#: The dev account that plays each role (REGISTRATION_RULES §1); the public has none.
ACCOUNT: dict[str, str | None] = {
    "registrar": "registrar", "reviewer": "reviewer", "provider": "provider", "endorser": "notary",
    "holder": "holder-a", "other": "outsider", "exchange": "exchange", "bank": "bank", "judicial": "court",
    "auditor": "auditor", "public": None}
EVERYONE = frozenset(ROLES)
ACCOUNTS = EVERYONE - {"public"}
ORDER = "0x" + hashlib.sha256("(2026)津0116民初1号 调查令".encode()).hexdigest()
LEGAL = {"X-Legal-Document": ORDER, "X-Legal-Reference": quote("(2026)津0116民初1号")}
#: Who reads a unit's non-public records (REGISTRATION_RULES §6.2): the holder, the registry, an exchange (SZ art.
#: 12(2)), a bank (DL art. 27), a court with its document (TJIFA §6.3.5); everyone else gets the public view.
FULL_VIEW = frozenset({"holder", "registrar", "exchange", "bank", "judicial"})


@dataclass(frozen=True)
class Rule:
    """Who may call a route, and why (the rule key); ``credential``: how the caller proves who it is — an API
    token or signed request ("account"), a signature in the body ("signature": the public signs with a key the
    registry does not know, so it is refused 403), a token in a page's form ("form": refused with an HTML page of
    the same status), a browser session ("session": a request with a token header but no session cookie is sent to
    the sign-in page, whoever makes it), or nothing ("none")."""

    allowed: frozenset[str]
    why: str
    credential: str = "account"


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


PUBLIC_READ = Rule(EVERYONE, "public information (TJIFA §8.1.1; TJIFA §7.2.3 verification service)", "none")
UNIT_READ = Rule(EVERYONE, "publishable fields for everyone, the rest for the holder, registry, exchange, bank and "
                 "a court with its document (REGISTRATION_RULES §6.2)", "none")
PAGE = Rule(EVERYONE, "public pages over the same services (TJIFA §8.1.1; issue #12)", "none")
SESSION_PAGE = Rule(EVERYONE, "the holder's pages read the browser session only (api/session.py): without one, "
                    "anyone is sent to sign in (TJIFA §6.3.4)", "session")
HOLDER_FILING = Rule(only("holder", "registrar"), "the holder files, or the registry as its agent (GZ art. 16; "
                     "DL art. 13–15); others only as a party, not here")
AUTHORITY_ACT = Rule(only("registrar", "judicial"), "the registry, or a court's order (DL art. 22; AH art. 23)")
REGISTRY_STEP = Rule(only("registrar"), "the registration authority runs the workflow (REGISTRATION_RULES §1)")

POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): PUBLIC_READ,
    ("GET", "/trust-list.json"): PUBLIC_READ,
    ("GET", "/checkpoints/covering/{block_number}"): PUBLIC_READ,
    ("POST", "/checkpoints"): Rule(only("endorser"), "authority nodes sign checkpoints (TJIFA §7.1.4)", "signature"),
    ("POST", "/evidence/anchors"): Rule(only("provider"), "the evidence provider anchors (TJIFA §3.8, §7)"),
    ("POST", "/evidence/anchors/file"): Rule(only("provider"), "the evidence provider anchors (TJIFA §3.8, §7)"),
    ("GET", "/evidence/verify/{digest}"): PUBLIC_READ,
    ("POST", "/evidence/verify"): PUBLIC_READ,
    ("POST", "/evidence/verify/proof"): PUBLIC_READ,
    ("GET", "/registrations"): Rule(FULL_VIEW, "a holder's account book: itself, the registry, an exchange, a bank, "
                                    "a court with its document (TJIFA §6.2, §6.3.4–6.3.5; SZ art. 12; DL art. 27)"),
    ("GET", "/registrations/{number}"): UNIT_READ,
    ("GET", "/registrations/{number}/rights-page"): UNIT_READ,
    ("GET", "/registrations/{number}/certificates"): UNIT_READ,
    ("GET", "/registrations/{number}/history"): UNIT_READ,
    ("POST", "/applications"): Rule(only("holder", "registrar"), "the applicant, or an agent registrar (GZ art. 16)"),
    ("GET", "/applications"): Rule(ACCOUNTS, "one's own applications (TJIFA §6.3.4, §6.1.7); all for the registry "
                                   "and a court with its document; a reviewer those it reviews"),
    ("GET", "/applications/{application_id}"): Rule(only("holder", "registrar", "reviewer", "judicial"),
                                                    "its parties, the registry, its reviewer (SZ art. 15), a court "
                                                    "with its document (TJIFA §6.3.5)"),
    ("POST", "/applications/{application_id}/accept"): REGISTRY_STEP,
    ("POST", "/applications/{application_id}/review"): Rule(only("registrar", "reviewer"), "the registry's formal "
                                                            "review; the third-party report (SZ art. 15; AH art. 26)"),
    ("POST", "/applications/{application_id}/resubmit"): Rule(only("holder"), "the applicant supplements (AH art. 20)"),
    ("POST", "/applications/{application_id}/withdraw"): Rule(only("holder", "registrar"), "the applicant or the "
                                                              "registry, before approval (DL art. 17)"),
    ("POST", "/applications/{application_id}/approve"): REGISTRY_STEP,
    ("POST", "/applications/{application_id}/notice"): REGISTRY_STEP,
    ("POST", "/applications/{application_id}/register"): REGISTRY_STEP,
    ("POST", "/applications/{application_id}/objections"): Rule(ACCOUNTS, "anyone may object during notice, with "
                                                                "identity (GD art. 11; DL art. 23; GZ art. 19)"),
    ("POST", "/applications/{application_id}/objections/resolution"): REGISTRY_STEP,
    ("GET", "/applications/{application_id}/consents"): Rule(only("holder", "registrar", "judicial"), "they name "
                                                             "the filing's parties: its parties (a wallet-held party "
                                                             "signs its request), the registry, a court with its "
                                                             "document (§6.2)"),
    ("POST", "/applications/{application_id}/consents/{consent_id}"): Rule(only("holder"), "only the party's own "
                                                                           "signature (TJIFA §6.4.3)", "signature"),
    ("POST", "/registrations/{number}/licences"): HOLDER_FILING,
    ("POST", "/registrations/{number}/pledges"): HOLDER_FILING,
    ("POST", "/registrations/{number}/releases"): HOLDER_FILING,
    ("POST", "/registrations/{number}/transfers"): HOLDER_FILING,
    ("POST", "/registrations/{number}/changes"): HOLDER_FILING,
    ("POST", "/registrations/{number}/cancellations"): HOLDER_FILING,
    ("POST", "/registrations/{number}/renewals"): HOLDER_FILING,
    ("POST", "/registrations/{number}/suspensions"): AUTHORITY_ACT,
    ("POST", "/registrations/{number}/reinstatements"): AUTHORITY_ACT,
    ("POST", "/registrations/{number}/revocations"): Rule(only("registrar"), "撤销 is the registry's act, a "
                                                          "judgment its ground (GD art. 22; AH art. 23; GZ art. 34)"),
    ("POST", "/registrations/{number}/objections"): Rule(only("registrar"), "the registry registers an objection "
                                                         "(SZ art. 20)"),
    ("POST", "/registrations/{number}/objections/{objection}/litigation"): Rule(only("registrar", "judicial"),
                                                                                "the court's acceptance, lodged "
                                                                                "with the registry (SZ art. 20)"),
    ("POST", "/registrations/{number}/objections/{objection}/resolution"): Rule(only("judicial"), "the court "
                                                                                "disposes (SZ art. 20)"),
    ("POST", "/registrations/{number}/orders"): Rule(only("judicial"), "a court or arbitration order (SZ art. 19)"),
    ("GET", "/access-log"): Rule(only("auditor", "registrar", "judicial"), "auditors (ZJ App. C), the registry, a "
                                 "court with its document"),
    ("GET", "/access-log/verification"): Rule(only("auditor", "registrar", "judicial"), "as the log itself"),
    ("POST", "/access-log/anchors"): Rule(only("registrar"), "the registry anchors its own log (ZJ App. C)"),
    ("POST", "/recognition/import"): Rule(only("registrar"), "the registration authority files a recognised "
                                          "registration (TJIFA §6.4.1.4)"),
    ("GET", "/"): PAGE,
    ("GET", "/verify/{digest}"): PAGE,
    ("POST", "/verify"): PAGE,
    ("GET", "/search"): PAGE,
    ("GET", "/certificate/{number}"): PAGE,
    ("POST", "/certificate/{number}/bundle"): SESSION_PAGE,
    ("POST", "/certificate/{number}/pdf"): SESSION_PAGE,
    ("GET", "/notices"): PAGE,
    ("GET", "/notices/{application_id}"): PAGE,
    ("POST", "/notices/{application_id}/objections"): Rule(EVERYONE, "anyone may object during notice (GD art. 11; "
                                                           "DL art. 23); the page asks for identity and evidence",
                                                           "none"),
    ("POST", "/registrations/{number}/documents/{kind}"): Rule(FULL_VIEW, "the holder prints its own (TJIFA "
                                                               "§6.3.4); the registry, an exchange, a bank, a court "
                                                               "with its document may read them (§6.2)"),
    ("POST", "/applications/{application_id}/documents/supplement-notice"): Rule(
        only("holder", "registrar", "judicial"), "its parties, the registry, a court with its document (§6.2)"),
    ("POST", "/registrations/{number}/dispute-package"): Rule(only("judicial"), "a court on its legal document "
                                                              "(TJIFA §9.2, §6.3.5); the registry's staff only with "
                                                              "one"),
    ("GET", "/court"): PAGE,
    ("POST", "/court/packages"): Rule(only("judicial", "registrar"), "a court's token and legal document in the "
                                      "form (TJIFA §9.2); the registry's staff on one", "form"),
    ("GET", "/account/login"): PAGE,
    ("POST", "/account/login"): Rule(EVERYONE, "any account signs in with its token; a wallet-held party with a "
                                     "signed login request", "none"),
    ("POST", "/account/logout"): PAGE,
    ("GET", "/account"): SESSION_PAGE,
    ("GET", "/account/applications/{application_id}"): SESSION_PAGE,
    ("POST", "/account/applications/{application_id}/consents/{consent_id}"): SESSION_PAGE,
    ("POST", "/account/units/{number}/documents/{kind}"): SESSION_PAGE,
    # last: the chain's clock moves past the objections' filing deadline (15 days)
    ("POST", "/registrations/{number}/objections/{objection}/lapse"): Rule(only("registrar"), "the registry lapses "
                                                                           "it when the deadline passed (SZ art. 20)"),
}

#: Tables a refused call must leave as they were (the read models follow the chain, which must not move either).
WATCHED = ("application", "application_event", "notice_objection", "consent_request", "chain_intent", "registry_act",
           "access_log", "access_log_anchor", "checkpoint", "evidence_batch", "evidence_leaf", "stored_document",
           "idempotent_request")


def digest() -> str:
    return "0x" + os.urandom(32).hex()


# --- the world -------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request of a cell, and what must hold after it when it is allowed."""

    method: str
    url: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    as_role: bool = True  # send the role's credentials
    check: Callable[[httpx.Response], None] | None = None
    done: Callable[[], None] | None = None


@dataclass
class World:
    client: TestClient
    ledger: Ledger
    today: list[date]
    tokens: dict[str, str]
    wallet: Any  # the wallet-held party's key (it signs consents in its own wallet)
    asgi: FastAPI
    units: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    results: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        account = ACCOUNT[role]
        if account is None:
            return {}
        found = {"Authorization": f"Bearer {self.tokens[account]}"}
        if role in ("bank", "exchange"):  # the matter a bank's or an exchange's read is for (§6.2)
            return {**found, "X-Access-Basis": quote("质押前核验 pledge check 2026-0042")}
        return {**found, **LEGAL} if role == "judicial" else found

    def address(self, account: str) -> str:
        return self.ledger.accounts.get(account).address

    def synced(self) -> None:
        wait_for(self.ledger.indexer, self.ledger.client.block_number())

    def counts(self) -> dict[str, int]:
        self.synced()
        with Session(self.ledger.engine) as session:
            found = {t: int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in WATCHED}
            found["consents_signed"] = int(session.execute(text(
                "SELECT count(*) FROM consent_request WHERE signature IS NOT NULL")).scalar_one())
            found["app_states"] = hash(tuple(session.execute(text(
                "SELECT id, state FROM application ORDER BY id")).all()))
        found["block"] = self.ledger.client.block_number()
        return found

    # --- states, prepared through the service layer ---

    def form(self, profile: str = "TJIFA", holder: str = "holder-a", **extra: Any) -> InitialApplicationCreate:
        kind = {"TJIFA": "data_asset"}.get(profile, "data_resource")
        return InitialApplicationCreate.model_validate({
            "profile": profile, "holder": holder, "object_type": kind,
            "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
            "asset": {"name": f"矩阵数据集 {os.urandom(3).hex()}", "form": "dataset", "acquisition": "original",
                      "update_cycle": "daily", "scenarios": ["物流"], "scope": "仅限本省使用"},
            "document_hash": digest(), **extra})

    def app(self, state: str, profile: str = "TJIFA", **extra: Any) -> str:
        """An initial application of holder-a in ``state``."""
        ledger = self.ledger
        app = service.apply_initial(ledger, self.form(profile, **extra), "holder-a")
        if state == "submitted":
            return app.id
        service.accept(ledger, app.id, "registrar")
        if state == "under_formal_review":
            return app.id
        if state == "supplement_requested":
            service.review(ledger, app.id, "registrar", ReviewDecision(decision="supplement", reason="缺少说明"))
            return app.id
        if profile != "TJIFA":
            service.review(ledger, app.id, "registrar", ReviewDecision(decision="pass"))
            if state == "under_substantive_review":
                return app.id
            service.review(ledger, app.id, "reviewer", ReviewDecision(decision="report", report_hash=digest()))
        service.approve(ledger, app.id, "registrar")
        if state == "approved":
            return app.id
        service.start_notice(ledger, app.id, "registrar")
        if state == "in_public_notice":
            return app.id
        if state == "objection_pending":
            service.object_to_notice(ledger, app.id, "outsider", NoticeObjectionCreate(
                grounds="数据来源属于我方", objector_name="某异议人", objector_id=USCC))
            return app.id
        assert state == "registered", state
        back = self.past_notice(app.id)
        registered = service.register(ledger, app.id, "registrar")
        back()
        assert registered.registration_number
        return registered.registration_number

    def past_notice(self, application_id: str) -> Callable[[], None]:
        """Moves the workflow's calendar past the application's notice; returns how to move it back."""
        end = self.ledger.workflow.get(application_id).notice_end
        assert end is not None
        before = self.today[0]
        self.today[0] = max(before, date.fromisoformat(end) + timedelta(days=1))

        def back() -> None:
            self.today[0] = before
        return back

    def dl_unit(self, suspended: bool = False) -> str:
        """A DL registration (suspension, reinstatement and revocation are DL's, DL art. 22), suspended or not."""
        number = self.app("registered", profile="DL")
        if suspended:
            done = service.file_authority_act(self.ledger, "suspension", number, "registrar",
                                              AuthorityActCreate(document_hash=digest()))
            assert done.application.state == "registered", done
        return number

    def entry_id(self, number: str, counterparty: str) -> list[int]:
        self.synced()
        return [e.entry_id for e in rights_page(self.ledger, number, viewer=None)
                if e.status == "active" and e.counterparty == self.address(counterparty)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings, node, _ = start_chain(tmp_path_factory.mktemp("matrix-home"))
    wallet = Account.create()
    add_wallet_account(settings.accounts_path, "holder-w", wallet.address)  # signs in its own wallet
    ledger = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0,
                                                "access_anchor_interval": 0}))
    today = [ledger.workflow.chain_date()]
    ledger.workflow.clock = lambda: today[0]
    names = {a for a in ACCOUNT.values() if a} | {"holder-w"}
    tokens = {n: create_token(ledger.engine, ledger.accounts, n, f"matrix-{n}") for n in names}
    app = create_app(ledger=ledger)
    with TestClient(app) as client:
        w = World(client, ledger, today, tokens, wallet, app)
        base = today[0]
        # the unit most reads and filings use: holder-a's, pledged to the bank, two more entries to release
        u = w.units["U"] = w.app("registered")
        for counterparty in ("bank", "holder-b", "holder-b", "holder-b"):
            filed = service.file_entry(ledger, "pledge", u, "registrar", EntryCreate(
                counterparty=counterparty, rights=["holding"], document_hash=digest()))
            assert filed.application.state == "registered", filed
        w.units["V"] = w.app("registered")  # cancellations
        w.units["W"] = w.app("registered", data_valid_until=(base + timedelta(days=20)).isoformat())  # renewal
        o = w.units["O"] = w.app("registered")  # objection registrations
        w.ids["objections"] = [service.register_objection(ledger, o, "registrar", ObjectionRegistrationCreate(
            objector="outsider", objector_name="某异议人公司", objector_id=USCC, grounds=f"数据来源争议 {i}",
            evidence_hash=digest())).objection_id for i in range(6)]
        w.units["D"] = w.dl_unit()  # suspensions, revocations (refused cells)
        w.units["DS"] = w.dl_unit(suspended=True)  # reinstatements (refused cells)
        # consents the wallet-held pledgee signs (one for the holder's cell, one the others try)
        w.ids["consents"] = []
        for _ in range(2):
            waiting = service.file_entry(ledger, "pledge", u, "registrar", EntryCreate(
                counterparty="holder-w", rights=["processing_use"], document_hash=digest()))
            assert waiting.waiting_for == "consents", waiting
            request = service.consents(ledger, waiting.application.id)[0]
            w.ids["consents"].append((waiting.application.id, request.id, request.typed_data))
        w.ids["notice"] = w.app("in_public_notice")  # objections during notice, pages
        ledger.checkpoints.sign_latest(ledger.accounts.get("notary").signer)  # what /checkpoints/covering shows
        w.ids["peer_home"] = tmp_path_factory.mktemp("matrix-peer")
        w.synced()
        yield w
        print_matrix(w)
    node.stop()


def print_matrix(w: World) -> None:
    """The matrix in one screen: A = allowed and worked, r = refused as it should, X = wrong (see the failure)."""
    if not w.results:
        return
    allowed = sum(1 for row in w.results.values() for v in row.values() if v == "A")
    refused = sum(1 for row in w.results.values() for v in row.values() if v == "r")
    lines = [f"\nroute matrix: {len(w.results)} routes × {len(ROLES)} roles = {len(w.results) * len(ROLES)} cells, "
             f"{allowed} allowed, {refused} refused", " " * 58 + " ".join(r[:3] for r in ROLES)]
    for (method, path), row in w.results.items():
        lines.append(f"{method:5} {path[:52]:52} " + " ".join(f"{row.get(r, '?'):>3}" for r in ROLES))
    sys.stdout.write("\n".join(lines) + "\n")


# --- the cases: one request per (route, role) ------------------------------------------------------------------

Case = Callable[[World, str, bool], Call]
CASES: dict[tuple[str, str], Case] = {}


def case(method: str, path: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[(method, path)] = function
        return function
    return register


def ok_json(check: Callable[[Any], object]) -> Callable[[httpx.Response], None]:
    """A check of the reply's JSON: a function that asserts, or an expression that must hold."""
    def run(reply: httpx.Response) -> None:
        body = reply.json()
        held = check(body)
        assert held is None or held, body
    return run


def ensure(condition: bool, what: str) -> None:
    assert condition, what


@case("GET", "/health")
def _health(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/health", check=ok_json(lambda b: b["status"] in ("ok", "degraded")))


@case("GET", "/trust-list.json")
def _trust(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/trust-list.json", check=ok_json(lambda b: len(b["authorities"]) >= 1))


@case("GET", "/checkpoints/covering/{block_number}")
def _covering(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/checkpoints/covering/1", check=ok_json(lambda b: isinstance(b, list)))


@case("POST", "/checkpoints")
def _checkpoint(w: World, role: str, allowed: bool) -> Call:
    ledger = w.ledger
    number = ledger.client.block_number()
    block_hash = ledger.client.block(number)["hash"]
    account = ACCOUNT[role]
    key = ledger.accounts.get(account).signer if account else Account.create()
    signature = sign_checkpoint(key, ledger.client.chain_id, number, bytes.fromhex(block_hash[2:]),
                                ledger.checkpoints.contracts)
    return Call("POST", "/checkpoints", json={"block_number": number, "block_hash": block_hash,
                                              "signature": "0x" + signature.hex()}, as_role=False,
                check=ok_json(lambda b: b["signer"] == key.address))


@case("POST", "/evidence/anchors")
def _anchor(w: World, role: str, allowed: bool) -> Call:
    value = digest()
    return Call("POST", "/evidence/anchors", json={"digest": value, "hash_algorithm": "sha256", "kind": "document",
                                                   "mode": "single"},
                check=lambda r: ensure(w.ledger.evidence.verify(bytes.fromhex(value[2:]), HashAlgorithm.SHA256)
                                       .anchored, "not anchored"))


@case("POST", "/evidence/anchors/file")
def _anchor_file(w: World, role: str, allowed: bool) -> Call:
    body = os.urandom(64)
    return Call("POST", "/evidence/anchors/file", files={"file": ("f.bin", body)}, data={"mode": "single"},
                check=ok_json(lambda b: b["digest"] == "0x" + hashlib.sha256(body).hexdigest()))


@case("GET", "/evidence/verify/{digest}")
def _verify_digest(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/evidence/verify/{digest()}", check=ok_json(lambda b: b["anchored"] is False))


@case("POST", "/evidence/verify")
def _verify_file(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", "/evidence/verify", files={"file": ("f.bin", b"nothing anchored")},
                check=ok_json(lambda b: b["anchored"] is False))


@case("POST", "/evidence/verify/proof")
def _verify_proof(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", "/evidence/verify/proof", json={"digest": digest(), "hash_algorithm": "sha256",
                                                        "root": digest(), "proof": [digest()]},
                check=ok_json(lambda b: b["anchored"] is False))


@case("GET", "/registrations")
def _by_holder(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/registrations?holder={w.address('holder-a')}",
                check=ok_json(lambda b: w.units["U"] in [r["registration_number"] for r in b["data"]]))


def _unit_view(role: str, body: dict[str, Any], w: World) -> None:
    full = role in FULL_VIEW
    assert body["disclosure"] == ("full" if full else "public"), body["disclosure"]
    assert (body["right_holders"] is not None) == full and (body["certificate"] is not None) == full
    pledgees = {e["counterparty"] for e in body["rights_page"]}
    assert (w.address("bank") in pledgees) == full and (pledgees == {None}) == (not full)


@case("GET", "/registrations/{number}")
def _unit(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/registrations/{w.units['U']}", check=ok_json(lambda b: _unit_view(role, b, w)))


@case("GET", "/registrations/{number}/rights-page")
def _rights(w: World, role: str, allowed: bool) -> Call:
    def check(body: list[dict[str, Any]]) -> None:
        parties = {e["counterparty"] for e in body}
        assert len(body) >= 4
        assert parties == {None} if role not in FULL_VIEW else w.address("bank") in parties
    return Call("GET", f"/registrations/{w.units['U']}/rights-page", check=ok_json(check))


@case("GET", "/registrations/{number}/certificates")
def _certificates(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/registrations/{w.units['U']}/certificates",
                check=ok_json(lambda b: b[-1]["status"] == "current"))


@case("GET", "/registrations/{number}/history")
def _history(w: World, role: str, allowed: bool) -> Call:
    def check(body: list[dict[str, Any]]) -> None:
        assert body[0]["action"] == "initial"
        assert all(e["actor"] is None for e in body) == (role not in FULL_VIEW)
    return Call("GET", f"/registrations/{w.units['U']}/history", check=ok_json(check))


# applications


@case("POST", "/applications")
def _apply(w: World, role: str, allowed: bool) -> Call:
    form = w.form().model_dump(mode="json", exclude_none=True)

    def check(body: dict[str, Any]) -> None:
        app = w.ledger.workflow.get(body["id"])
        assert app.state == "submitted" and app.holder == "holder-a"
        assert w.ledger.workflow.history(app.id)[0].actor == ACCOUNT[role]
    return Call("POST", "/applications", json=form, check=ok_json(check))


@case("GET", "/applications")
def _applications(w: World, role: str, allowed: bool) -> Call:
    def check(body: dict[str, Any]) -> None:
        every = w.ledger.workflow.applications()
        if role in ("registrar", "judicial"):
            assert body["count"] == len(every)
        elif role == "reviewer":
            assert body["count"] >= 1 and all(a["state"] == "under_substantive_review" or a["profile"] != "TJIFA"
                                              for a in body["data"])
        else:  # its own, as holder or counterparty (TJIFA §6.3.4)
            own = {a.id for a in every if ACCOUNT[role] in (a.holder, a.counterparty)}
            assert {a["id"] for a in body["data"]} == own and (role != "holder" or len(own) >= 10), body["count"]
    if "reviewing" not in w.ids:
        w.ids["reviewing"] = w.app("under_substantive_review", profile="SZ")
    return Call("GET", "/applications?limit=500", check=ok_json(check))


@case("GET", "/applications/{application_id}")
def _application(w: World, role: str, allowed: bool) -> Call:
    if "reviewing" not in w.ids:
        w.ids["reviewing"] = w.app("under_substantive_review", profile="SZ")
    target = w.ids["reviewing"]
    return Call("GET", f"/applications/{target}",
                check=ok_json(lambda b: b["id"] == target and b["history"][0]["action"] == "submit"))


def _step(path: str, state: str, to: str, body: Any = None, profile: str = "TJIFA",
          actor_event: str | None = None) -> Case:
    """A workflow step: a fresh application in ``state`` for each allowed cell, one shared by the refused ones."""
    def make(w: World, role: str, allowed: bool) -> Call:
        key = f"shared:{path}"
        if allowed:
            target = w.app(state, profile)
        else:
            target = w.ids[key] = w.ids.get(key) or w.app(state, profile)

        def check(reply: dict[str, Any]) -> None:
            app = w.ledger.workflow.get(target)
            assert app.state == to, (app.state, to)
            events = w.ledger.workflow.history(target)
            assert events[-1].actor == ACCOUNT[role] and (actor_event is None or events[-1].action == actor_event)
        return Call("POST", f"/applications/{target}/{path}", json=body, check=ok_json(check))
    return make


CASES[("POST", "/applications/{application_id}/accept")] = _step("accept", "submitted", "under_formal_review")
CASES[("POST", "/applications/{application_id}/resubmit")] = _step("resubmit", "supplement_requested",
                                                                   "resubmitted", {})
CASES[("POST", "/applications/{application_id}/withdraw")] = _step("withdraw", "submitted", "withdrawn")
CASES[("POST", "/applications/{application_id}/approve")] = _step("approve", "under_formal_review", "approved")
CASES[("POST", "/applications/{application_id}/notice")] = _step("notice", "approved", "in_public_notice")
CASES[("POST", "/applications/{application_id}/objections/resolution")] = _step(
    "objections/resolution", "objection_pending", "in_public_notice", {"upheld": False})


@case("POST", "/applications/{application_id}/review")
def _review(w: World, role: str, allowed: bool) -> Call:
    if role == "reviewer":  # the third-party report, on an application in substantive review
        return _step("review", "under_substantive_review", "under_substantive_review",
                     {"decision": "report", "report_hash": digest()}, profile="SZ",
                     actor_event="file_review")(w, role, allowed)
    if allowed:  # the registry asks for a supplement (AH art. 20)
        return _step("review", "under_formal_review", "supplement_requested",
                     {"decision": "supplement", "reason": "缺少数据来源说明"})(w, role, allowed)
    return _step("review", "under_formal_review", "under_formal_review", {"decision": "pass"})(w, role, allowed)


@case("POST", "/applications/{application_id}/register")
def _register(w: World, role: str, allowed: bool) -> Call:
    key = "shared:register"
    target = w.app("in_public_notice") if allowed else w.ids.setdefault(key, w.app("in_public_notice"))
    back = w.past_notice(target)

    def check(body: dict[str, Any]) -> None:
        assert body["state"] == "registered" and body["registration_number"] and body["tx_hash"]
    return Call("POST", f"/applications/{target}/register", check=ok_json(check), done=back)


@case("POST", "/applications/{application_id}/objections")
def _notice_objection(w: World, role: str, allowed: bool) -> Call:
    target = w.ids["notice"]
    grounds = f"异议 {role} {os.urandom(2).hex()}"

    def check(body: dict[str, Any]) -> None:
        mine = [o for o in w.ledger.workflow.objections(target) if o.grounds == grounds]
        assert body["state"] == "objection_pending" and len(mine) == 1 and mine[0].objector == ACCOUNT[role]
    return Call("POST", f"/applications/{target}/objections",
                json={"grounds": grounds, "objector_name": "某异议人", "objector_id": USCC}, check=ok_json(check))


@case("GET", "/applications/{application_id}/consents")
def _consents(w: World, role: str, allowed: bool) -> Call:
    application_id = w.ids["consents"][1][0]
    path = f"/applications/{application_id}/consents"
    if role == "holder":  # the party keeps its key in its own wallet: it signs the request with it
        moment = int(time.time())
        signed = Account.sign_message(encode_defunct(text=request_text("GET", path, moment, b"")), w.wallet.key)
        return Call("GET", path, as_role=False, headers={
            "X-Ledger-Address": w.wallet.address, "X-Ledger-Timestamp": str(moment),
            "X-Ledger-Signature": "0x" + bytes(signed.signature).hex()},
            check=ok_json(lambda b: b[0]["signer"] == w.wallet.address and not b[0]["signed"]))
    return Call("GET", path, check=ok_json(lambda b: b[0]["signer"] == w.wallet.address and not b[0]["signed"]))


@case("POST", "/applications/{application_id}/consents/{consent_id}")
def _consent(w: World, role: str, allowed: bool) -> Call:
    application_id, consent_id, typed = w.ids["consents"][0 if allowed else 1]
    account = ACCOUNT[role]
    # the holder's cell: the party whose consent it is signs in its own wallet; the others sign with their keys
    key = w.wallet if role == "holder" else w.ledger.accounts.get(account).signer if account else Account.create()
    signed = Account.sign_message(encode_typed_data(full_message=typed), key.key)
    return Call("POST", f"/applications/{application_id}/consents/{consent_id}", as_role=False,
                json={"signature": "0x" + bytes(signed.signature).hex()},
                check=ok_json(lambda b: b["signed"] is True and b["id"] == consent_id))


# filings on a registered unit


def _filing(path: str, unit: str, body: Callable[[World, bool], dict[str, Any]], state: str, kind: str,
            fresh: Callable[[World], str] | None = None) -> Case:
    """A filing on a unit; with ``fresh``, each allowed cell gets its own unit (the filing changes it for good)."""
    def make(w: World, role: str, allowed: bool) -> Call:
        number = fresh(w) if fresh and allowed else w.units[unit]

        def check(reply: dict[str, Any]) -> None:
            app = w.ledger.workflow.get(reply["id"])
            assert (app.kind, app.state, app.registration_number) == (kind, state, number), (app.kind, app.state)
            assert w.ledger.workflow.history(app.id)[0].actor == ACCOUNT[role]
        return Call("POST", f"/registrations/{number}/{path}", json=body(w, allowed), check=ok_json(check))
    return make


def _release_body(w: World, allowed: bool) -> dict[str, Any]:
    entries = w.entry_id(w.units["U"], "holder-b")
    assert entries, "no pledge left to release"
    return {"entry_id": entries[0] if allowed else entries[-1], "document_hash": digest()}


CASES[("POST", "/registrations/{number}/licences")] = _filing(
    "licences", "U", lambda w, a: {"counterparty": "holder-b", "rights": ["processing_use"], "document_hash": digest()},
    "in_public_notice", "licence")
CASES[("POST", "/registrations/{number}/pledges")] = _filing(
    "pledges", "U", lambda w, a: {"counterparty": "holder-b", "rights": ["holding"], "document_hash": digest()},
    "registered", "pledge")
CASES[("POST", "/registrations/{number}/releases")] = _filing("releases", "U", _release_body, "registered", "release")
CASES[("POST", "/registrations/{number}/transfers")] = _filing(
    "transfers", "U", lambda w, a: {"to": "holder-b", "new_holder": {"legal_name": "乙方数据有限公司", "uscc": USCC},
                                    "document_hash": digest()}, "in_public_notice", "transfer")
CASES[("POST", "/registrations/{number}/changes")] = _filing(
    "changes", "U", lambda w, a: {"asset": {"name": f"更名 {os.urandom(2).hex()}"}, "document_hash": digest()},
    "in_public_notice", "change")
CASES[("POST", "/registrations/{number}/cancellations")] = _filing(
    "cancellations", "V", lambda w, a: {"ground": "holder", "document_hash": digest()}, "in_public_notice",
    "cancellation")
CASES[("POST", "/registrations/{number}/renewals")] = _filing(
    "renewals", "W", lambda w, a: {"document_hash": digest()}, "in_public_notice", "renewal")
CASES[("POST", "/registrations/{number}/suspensions")] = _filing(
    "suspensions", "D", lambda w, a: {"document_hash": digest()}, "registered", "suspension",
    fresh=lambda w: w.dl_unit())
CASES[("POST", "/registrations/{number}/reinstatements")] = _filing(
    "reinstatements", "DS", lambda w, a: {"document_hash": digest()}, "registered", "reinstatement",
    fresh=lambda w: w.dl_unit(suspended=True))
CASES[("POST", "/registrations/{number}/revocations")] = _filing(
    "revocations", "D", lambda w, a: {"document_hash": digest()}, "registered", "revocation",
    fresh=lambda w: w.dl_unit())


def _acts(w: World) -> list[tuple[str, str | None]]:
    with Session(w.ledger.engine) as session:
        return [(str(k), a) for k, a in session.execute(text("SELECT kind, actor FROM registry_act ORDER BY id")).all()]


@case("POST", "/registrations/{number}/objections")
def _objection_registration(w: World, role: str, allowed: bool) -> Call:
    def check(body: dict[str, Any]) -> None:
        assert body["deadline"] and body["proof"]["title"] == "异议登记证明"
        assert _acts(w)[-1] == ("objection", ACCOUNT[role])
    return Call("POST", f"/registrations/{w.units['O']}/objections", check=ok_json(check), json={
        "objector": "outsider", "objector_name": "某异议人公司", "objector_id": USCC,
        "grounds": f"权属争议 {os.urandom(3).hex()}", "evidence_hash": digest()})


def _objection_act(path: str, act: str, body: Callable[[], dict[str, Any]], fresh: int, shared: int) -> Case:
    """An act on an objection registration: each allowed cell its own open objection; the refused share one."""
    def make(w: World, role: str, allowed: bool) -> Call:
        pool = w.ids["objections"]
        oid = pool.pop(fresh) if allowed else pool[shared]

        def check(reply: dict[str, Any]) -> None:
            assert reply["tx_hash"] and _acts(w)[-1] == (act, ACCOUNT[role])
        return Call("POST", f"/registrations/{w.units['O']}/objections/{oid}/{path}", json=body(),
                    check=ok_json(check))
    return make


CASES[("POST", "/registrations/{number}/objections/{objection}/litigation")] = _objection_act(
    "litigation", "objection_litigation", lambda: {"document_hash": digest()}, 0, -1)
CASES[("POST", "/registrations/{number}/objections/{objection}/resolution")] = _objection_act(
    "resolution", "objection_resolution", lambda: {"upheld": False, "document_hash": digest()}, 0, -1)


@case("POST", "/registrations/{number}/objections/{objection}/lapse")
def _lapse(w: World, role: str, allowed: bool) -> Call:
    if not w.ids.get("lapsed_time"):  # the filing deadline (15 days, SZ art. 20) passes for every open objection
        w.ledger.client.request("evm_increaseTime", [16 * 86_400])
        w.ledger.client.request("evm_mine", [])
        w.ids["lapsed_time"] = True
    return _objection_act("lapse", "objection_lapse", lambda: {}, 0, -1)(w, role, allowed)


@case("POST", "/registrations/{number}/orders")
def _order(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", f"/registrations/{w.units['U']}/orders", json={"document_hash": digest()},
                check=ok_json(lambda b: b["tx_hash"] and _acts(w)[-1] == ("judicial_order", ACCOUNT[role])))


# the access log


@case("GET", "/access-log")
def _log(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/access-log?limit=500", check=ok_json(
        lambda b: b["count"] >= 1 and any(e["principal"] == "court" and e["legal_document_hash"] == ORDER
                                          for e in b["data"])))


@case("GET", "/access-log/verification")
def _log_check(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/access-log/verification", check=ok_json(lambda b: b["intact"] is True and b["entries"] >= 1))


@case("POST", "/access-log/anchors")
def _log_anchor(w: World, role: str, allowed: bool) -> Call:
    if allowed:  # something new to anchor: a logged read
        assert w.client.get(f"/registrations/{w.units['U']}", headers=w.headers("bank")).status_code == 200
    return Call("POST", "/access-log/anchors", check=ok_json(lambda b: b is not None and b["tx_hash"]))


def peer_package(w: World) -> bytes:
    """A recognition package from another platform (its own chain and authority keys) that this one trusts: one of
    holder-a's registrations there (TJIFA §6.4.1.4)."""
    home = w.ids["peer_home"]
    write_dev_accounts(home / "accounts.json")
    data = json.loads((home / "accounts.json").read_text())
    Account.enable_unaudited_hdwallet_features()
    for name, index in (("notary", 16), ("arbitration", 17), ("time-service", 18)):  # its authorities' own keys
        key = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key
        data["accounts"][name]["private_key"] = "0x" + bytes(key).hex()
    write_private(home / "accounts.json", json.dumps(data))
    settings, node, _ = start_chain(home)
    try:
        peer = Ledger(settings.model_copy(update={"registry_name": "天津数据资产登记平台"}))
        today = [peer.workflow.chain_date()]
        peer.workflow.clock = lambda: today[0]
        app = service.apply_initial(peer, w.form(), "holder-a")
        service.accept(peer, app.id, "registrar")
        service.approve(peer, app.id, "registrar")
        service.start_notice(peer, app.id, "registrar")
        today[0] += timedelta(days=20)
        number = service.register(peer, app.id, "registrar").registration_number
        assert number is not None
        package = export_package(peer, number)
        published = home / "published-trust-list.json"
        published.write_text(json.dumps(trust_list(peer).model_dump(mode="json")))
        add_peer(w.ledger, published, "tianjin")
        peer.engine.dispose()
        return package.data
    finally:
        node.stop()


@case("POST", "/recognition/import")
def _recognition(w: World, role: str, allowed: bool) -> Call:
    package = peer_package(w) if allowed else b"{}"  # the refused are refused before the package is read
    return Call("POST", "/recognition/import", files={"package": ("package.json", package)},
                check=ok_json(lambda b: b["verdict"] == "verified" and b["waiting_for"] == "notice"
                              and w.ledger.workflow.get(b["application_id"]).state == "in_public_notice"))


# the pages


@case("GET", "/")
def _home(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/", check=lambda r: None)


@case("GET", "/verify/{digest}")
def _verify_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/verify/{digest()}", check=lambda r: None)


@case("POST", "/verify")
def _verify_upload_page(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", "/verify", files={"file": ("f.bin", b"nothing anchored")}, check=lambda r: None)


@case("GET", "/search")
def _search_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/search?q=矩阵数据集", check=lambda r: None)


def _no_parties(w: World) -> Callable[[httpx.Response], None]:
    def check(reply: httpx.Response) -> None:  # public views redact the parties (REGISTRATION_RULES §6.2)
        assert w.address("bank").lower() not in reply.text.lower()
    return check


@case("GET", "/certificate/{number}")
def _certificate_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/certificate/{w.units['U']}", check=_no_parties(w))


@case("GET", "/notices")
def _notices_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/notices", check=lambda r: None)


@case("GET", "/notices/{application_id}")
def _notice_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", f"/notices/{w.ids['notice']}", check=lambda r: None)


@case("POST", "/notices/{application_id}/objections")
def _objection_page(w: World, role: str, allowed: bool) -> Call:
    target = w.ids["notice"]
    grounds = f"页面异议 {role} {os.urandom(2).hex()}"
    return Call("POST", f"/notices/{target}/objections", data={"objector_name": "某公众", "objector_id": USCC,
                                                              "grounds": grounds},
                files={"evidence": ("evidence.txt", os.urandom(32))},
                check=lambda r: ensure(any(o.grounds == grounds for o in w.ledger.workflow.objections(target)),
                                       "objection not recorded"))


# documents, the court's and the holder's pages


def _pdf(reply: httpx.Response) -> None:
    assert reply.headers["content-type"] == "application/pdf" and reply.content.startswith(b"%PDF-")


@case("POST", "/registrations/{number}/documents/{kind}")
def _document(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", f"/registrations/{w.units['U']}/documents/rights-page", check=_pdf)


@case("POST", "/applications/{application_id}/documents/supplement-notice")
def _supplement_notice(w: World, role: str, allowed: bool) -> Call:
    if "supplement" not in w.ids:
        w.ids["supplement"] = w.app("supplement_requested")
    return Call("POST", f"/applications/{w.ids['supplement']}/documents/supplement-notice", check=_pdf)


@case("POST", "/registrations/{number}/dispute-package")
def _dispute_package(w: World, role: str, allowed: bool) -> Call:
    def check(reply: httpx.Response) -> None:
        _pdf(reply)
        assert int(reply.headers["X-Access-Log-Seq"]) >= 1
    return Call("POST", f"/registrations/{w.units['U']}/dispute-package", check=check)


@case("GET", "/court")
def _court_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/court", check=lambda r: ensure("legal_reference" in r.text, "no form"))


@case("POST", "/court/packages")
def _court_package(w: World, role: str, allowed: bool) -> Call:
    account = ACCOUNT[role]
    return Call("POST", "/court/packages", as_role=False, data={
        "token": w.tokens[account] if account else "", "number": w.units["U"],
        "legal_reference": "(2026)津0116民初1号", "legal_document_sha256": ORDER},
        check=lambda r: ensure("data:application/pdf;base64," in r.text, "no package"))


@case("GET", "/account/login")
def _login_page(w: World, role: str, allowed: bool) -> Call:
    return Call("GET", "/account/login", check=lambda r: ensure('name="token"' in r.text, "no form"))


@case("POST", "/account/login")
def _login(w: World, role: str, allowed: bool) -> Call:
    account = ACCOUNT[role]
    if account is not None:
        data = {"token": w.tokens[account]}
        name = account
    else:  # a party the registry knows by address only signs a login request with its own wallet
        moment = int(time.time())
        text_ = request_text("POST", "/account/login", moment, b"")
        signature = "0x" + bytes(Account.sign_message(encode_defunct(text=text_), w.wallet.key).signature).hex()
        data = {"address": w.wallet.address, "timestamp": str(moment), "signature": signature}
        name = next(a.name for a in w.ledger.accounts if a.address == w.wallet.address)

    def check(reply: httpx.Response) -> None:
        assert reply.url.path == "/account" and name in reply.text, reply.url
    return Call("POST", "/account/login", as_role=False, data=data, check=check, done=w.client.cookies.clear)


@case("POST", "/account/logout")
def _logout(w: World, role: str, allowed: bool) -> Call:
    return Call("POST", "/account/logout", check=lambda r: ensure(r.url.path == "/", str(r.url)))


def _to_sign_in(method: str, url: Callable[[World], str], data: dict[str, str] | None = None) -> Case:
    def make(w: World, role: str, allowed: bool) -> Call:
        def check(reply: httpx.Response) -> None:
            assert reply.url.path == "/account/login" and reply.history and reply.history[0].status_code == 303
        return Call(method, url(w), data=data, check=check)
    return make


CASES[("GET", "/account")] = _to_sign_in("GET", lambda w: "/account")
CASES[("GET", "/account/applications/{application_id}")] = _to_sign_in(
    "GET", lambda w: f"/account/applications/{w.ids['consents'][1][0]}")
CASES[("POST", "/account/applications/{application_id}/consents/{consent_id}")] = _to_sign_in(
    "POST", lambda w: f"/account/applications/{w.ids['consents'][1][0]}/consents/{w.ids['consents'][1][1]}",
    {"signature": "0x" + "11" * 65, "csrf": "0" * 64})
CASES[("POST", "/certificate/{number}/bundle")] = _to_sign_in(
    "POST", lambda w: f"/certificate/{w.units['V']}/bundle", {"csrf": "0" * 64})
CASES[("POST", "/certificate/{number}/pdf")] = _to_sign_in(
    "POST", lambda w: f"/certificate/{w.units['V']}/pdf", {"csrf": "0" * 64})
CASES[("POST", "/account/units/{number}/documents/{kind}")] = _to_sign_in(
    "POST", lambda w: f"/account/units/{w.units['U']}/documents/rights-page", {"csrf": "0" * 64})


# --- the tests -------------------------------------------------------------------------------------------------


def app_routes(w: World) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, included routers too — but the API docs and the static files."""
    routes: set[tuple[str, str]] = set()
    for context in iter_route_contexts(w.asgi.routes):
        if isinstance(context.original_route, APIRoute):
            routes |= {(method, str(context.path)) for method in context.methods or ()}
    return routes


def test_every_route_has_a_policy_and_every_policy_a_route(world: World) -> None:
    """A new route cannot ship without saying who may call it; a policy cannot outlive its route."""
    routes = app_routes(world)
    assert sorted(routes - set(POLICY)) == [], "routes without a policy: add them to POLICY and CASES"
    assert sorted(set(POLICY) - routes) == [], "policies for routes the app does not have"
    assert set(CASES) == set(POLICY), sorted(set(CASES) ^ set(POLICY))
    assert all(rule.allowed <= EVERYONE for rule in POLICY.values())


def run_cell(w: World, route: tuple[str, str], role: str) -> str | None:
    """Calls ``route`` as ``role``; None when the outcome is right, else what was wrong."""
    rule = POLICY[route]
    allowed = role in rule.allowed
    call = CASES[route](w, role, allowed)
    before = None if allowed else w.counts()
    headers = {**(w.headers(role) if call.as_role else {}), **call.headers}
    reply = w.client.request(call.method, call.url, json=call.json, data=call.data, files=call.files,
                             headers=headers)
    if call.done:
        call.done()
    if allowed:
        if not 200 <= reply.status_code < 300:
            return f"allowed, got {reply.status_code} {reply.text[:300]}"
        try:
            if call.check:
                call.check(reply)
        except AssertionError as exc:
            return f"allowed and {reply.status_code}, but its effect is wrong: {exc!r} {reply.text[:300]}"
        return None
    expected = 401 if role == "public" and rule.credential in ("account", "form") else 403
    code = {401: "unauthorized", 403: "forbidden"}[expected]
    try:
        got = reply.json().get("error", {}).get("code")
    except json.JSONDecodeError:
        got = None
    if rule.credential == "form" and "text/html" in reply.headers.get("content-type", ""):
        got = code if reply.status_code == expected else None  # a page's refusal: the status, in words
    if (reply.status_code, got) != (expected, code):
        return f"refused expected {expected} {code}, got {reply.status_code} {reply.text[:300]}"
    after = w.counts()
    if after != before:
        assert before is not None
        changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
        return f"refused but something changed: {changed}"
    return None


@pytest.mark.parametrize("route", list(POLICY), ids=[f"{m} {p}" for m, p in POLICY])
def test_route_with_every_role(world: World, route: tuple[str, str]) -> None:
    row = world.results.setdefault(route, {})
    failures = {}
    for role in ROLES:
        problem = run_cell(world, route, role)
        row[role] = "X" if problem else ("A" if role in POLICY[route].allowed else "r")
        if problem:
            failures[role] = problem
    assert not failures, f"{route[0]} {route[1]} ({POLICY[route].why}):\n" + "\n".join(
        f"  × {role}: {problem}" for role, problem in failures.items())
