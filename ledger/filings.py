"""Registration filings, one small class per kind: what is checked when the application is filed, and the
chain call its registration sends (REGISTRATION_RULES §3.4, §3.8).

Every precondition the chain would refuse is checked at filing time (issue #9 §3), so no application is left
stuck: the unit's status, the renewal window, the rights-page entry and the unit it belongs to, a licence term
in the future, no licence to oneself, a pledge's pledgee consenting to a disposal, a recorded court order for
an ex-officio cancellation, the grounds document of every ex-officio act. The workflow runs the states; these
classes know the kinds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol

from ledger.document_schemas import parse_content, parse_recognition
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import keccak256, parse_digest
from ledger.lifecycle import Action, CancellationGround, UnitStatus
from ledger.models import Application
from ledger.numbering import unit_id
from ledger.profiles import JurisdictionProfile
from ledger.registry import (
    EMPTY_CONSENT,
    ZERO32,
    AssetRegistryClient,
    cancel_params,
    entry_params,
    entry_request,
    initial_params,
    reissue_params,
    release_params,
    renew_params,
    transfer_params,
    transfer_request,
)
from ledger.workdays import add_years, china_date, end_of_day, last_day, validity_last_day


class FilingHost(Protocol):
    """What a filing needs from the workflow that runs it (``ledger.workflow.Workflow`` provides it)."""

    registry: AssetRegistryClient

    def profile(self, app: Application) -> JurisdictionProfile: ...
    def address(self, name: str) -> str: ...
    def account_of(self, address: str) -> str | None: ...
    def consent(self, name: str, uid: bytes, action: Action, params: bytes,
                used: dict[str, int] | None = None) -> Any: ...
    def chain_time(self) -> int: ...
    def chain_date(self) -> date: ...
    def issue_date(self, app: Application) -> date: ...
    def certificate(self, app: Application, *, version: int, holder: str, rights: int, object_type: int,
                    valid_until: int, issued_on: date | None = None) -> dict[str, Any]: ...
    def document_hash(self, document: dict[str, Any]) -> bytes: ...
    def application_key(self, app: Application) -> bytes: ...
    def active_pledges(self, uid: bytes) -> list[dict[str, Any]]: ...
    def refuse_duplicate(self, app: Application, fingerprint: str) -> None: ...

#: Cancellation grounds that are acts of an authority, not of the holder: no notice, and a grounds document.
EX_OFFICIO_GROUNDS = {"judicial_order", "no_remaining_holder", "expired"}


class FilingRefused(LedgerValueError):
    """A filing the rules or the unit's state do not allow; the message says which rule."""

    code = "filing_refused"


@dataclass(frozen=True)
class ChainCall:
    """What a registration sends: the AssetRegistry function, its arguments, the certificate it issues."""

    function: str
    args: tuple[Any, ...]
    certificate: dict[str, Any] | None = None


def _payload(app: Application) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(app.payload)
    return data


def _document(app: Application) -> bytes:
    """The governing document's hash, or a decision id when the filing names none."""
    return parse_digest(app.document_hash) if app.document_hash else keccak256(f"decision:{app.id}".encode())


def _risk(app: Application) -> bytes:
    value = _payload(app).get("risk_acknowledgement")
    return parse_digest(value) if value else ZERO32


class Filing:
    """One kind of filing. ``unit_states``: the effective unit statuses it may be filed against."""

    kind: ClassVar[str]
    unit_states: ClassVar[tuple[UnitStatus, ...]] = (UnitStatus.ACTIVE,)
    needs_counterparty: ClassVar[bool] = False
    needs_document: ClassVar[bool] = False

    def __init__(self, workflow: FilingHost) -> None:
        self.wf = workflow

    def check(self, app: Application) -> None:
        """Refuses what the chain would refuse at registration (raises FilingRefused)."""
        if self.needs_counterparty and app.counterparty is None:
            raise FilingRefused(f"a {self.kind} application names its counterparty")
        if self.needs_document and not app.document_hash:
            raise FilingRefused(f"a {self.kind} filing needs its grounds document (its hash is recorded on chain)")
        if app.registration_number is None:
            return
        status = self.wf.registry.status(unit_id(app.registration_number))
        if status is UnitStatus.NONE:
            raise NotFoundError(f"no registration unit {app.registration_number} on chain")
        if status not in self.unit_states:
            allowed = " or ".join(s.name.lower() for s in self.unit_states)
            raise FilingRefused(f"registration {app.registration_number} is {status.name.lower()}; a {self.kind} "
                                f"filing needs it {allowed}")

    def call(self, app: Application) -> ChainCall:
        raise NotImplementedError

    # helpers shared by the kinds
    def unit(self, app: Application) -> tuple[bytes, dict[str, Any]]:
        assert app.registration_number is not None
        uid = unit_id(app.registration_number)
        return uid, self.wf.registry.unit(uid)

    def trial(self, app: Application, holder: str, valid_until: int | None = None) -> None:
        """Builds the certificate the filing would issue, so an invalid change is refused when filed."""
        _, unit = self.unit(app)
        try:
            self.wf.certificate(app, version=unit["certificate_version"] + 1, holder=holder, rights=unit["rights"],
                                object_type=unit["object_type"],
                                valid_until=unit["valid_until"] if valid_until is None else valid_until)
        except LedgerValueError as exc:
            raise FilingRefused(exc.user_message) from None

    def pledgees(self, app: Application, action: Action, params: bytes, used: dict[str, int]) -> list[Any]:
        """Consents of every active pledge's pledgee, when the profile protects pledgees for this disposal."""
        blocks = {"transfer": "transfer", "cancellation": "holder_cancellation"}[self.kind]
        if blocks not in self.wf.profile(app).pledge_blocks:
            return []
        uid, _ = self.unit(app)
        out = []
        for entry in self.wf.active_pledges(uid):
            name = self.wf.account_of(entry["counterparty"])
            if name is None:
                raise FilingRefused(f"registration {app.registration_number} is pledged to {entry['counterparty']} "
                                    f"(entry {entry['entry_id']}): the pledgee must consent or release the pledge "
                                    "first (TJIFA §8.2.2)")
            out.append((entry["entry_id"], self.wf.consent(name, uid, action, params, used)))
        return out

    def check_pledgees(self, app: Application) -> None:
        blocks = {"transfer": "transfer", "cancellation": "holder_cancellation"}[self.kind]
        if blocks not in self.wf.profile(app).pledge_blocks or app.registration_number is None:
            return
        for entry in self.wf.active_pledges(unit_id(app.registration_number)):
            if self.wf.account_of(entry["counterparty"]) is None:
                raise FilingRefused(f"registration {app.registration_number} is pledged to {entry['counterparty']} "
                                    f"(entry {entry['entry_id']}): the pledgee must consent or release the pledge "
                                    "first (TJIFA §8.2.2)")


class Initial(Filing):
    kind = "initial"

    def check(self, app: Application) -> None:
        payload = _payload(app)
        try:  # what the certificate will say, declared now (TJIFA §8.2.1): refused now if incomplete
            parse_content(payload.get("content") or {})
            if "recognition" in payload:  # recognised from another platform (TJIFA §6.4.1.4): where from
                parse_recognition(payload["recognition"])
        except LedgerValueError as exc:
            raise FilingRefused(exc.user_message) from None
        fingerprint = payload.get("content_fingerprint")
        if fingerprint:
            self.wf.refuse_duplicate(app, fingerprint)

    def call(self, app: Application) -> ChainCall:
        assert app.registration_number is not None and app.object_type is not None
        rules, uid = self.wf.profile(app), unit_id(app.registration_number)
        issued = self.wf.issue_date(app)
        data_until = _payload(app).get("data_valid_until")
        last = validity_last_day(issued, rules.validity_years,
                                 _date(data_until) if data_until and rules.validity_or_data else None)
        valid_until = end_of_day(last) if last else 0
        cert = self.wf.certificate(app, version=1, holder=app.holder, rights=app.rights,
                                   object_type=app.object_type, valid_until=valid_until, issued_on=issued)
        cert_hash, holder = self.wf.document_hash(cert), self.wf.address(app.holder)
        key, doc = self.wf.application_key(app), _document(app)
        params = initial_params(key, holder, app.object_type, rules.id, app.rights, cert_hash, doc, valid_until)
        registration = (app.registration_number, key, holder, app.object_type, rules.id, app.rights, cert_hash, doc,
                        valid_until)
        return ChainCall("registerInitial", (registration, self.wf.consent(app.holder, uid, Action.INITIAL, params)),
                         cert)


class Reissue(Filing):
    """Supplementary (补充登记, TJIFA §6.4.2) and change (变更登记, §8.3.1): a new certificate version with the
    changed content; every other field is carried forward."""

    kind = "change"
    action = Action.CHANGE

    def check(self, app: Application) -> None:
        super().check(app)
        self.trial(app, app.holder)

    def call(self, app: Application) -> ChainCall:
        uid, unit = self.unit(app)
        cert = self.wf.certificate(app, version=unit["certificate_version"] + 1, holder=app.holder,
                                   rights=unit["rights"], object_type=unit["object_type"],
                                   valid_until=unit["valid_until"])
        cert_hash, doc, risk = self.wf.document_hash(cert), _document(app), _risk(app)
        consent = self.wf.consent(app.holder, uid, self.action, reissue_params(cert_hash, doc, risk))
        return ChainCall("reissue", (uid, int(self.action), cert_hash, doc, risk, consent), cert)


class Supplementary(Reissue):
    kind = "supplementary"
    action = Action.SUPPLEMENTARY


class Transfer(Filing):
    kind = "transfer"
    needs_counterparty = True

    def check(self, app: Application) -> None:
        super().check(app)
        if app.counterparty == app.holder:
            raise FilingRefused("a transfer to the holder itself changes nothing")
        if app.rights & 1 and not str((_payload(app).get("new_holder") or {}).get("legal_name", "")).strip():
            raise FilingRefused("a transfer of the holding right gives the new holder's legal name (and credit code) "
                                "for the reissued certificate (TJIFA §8.2.1)")
        self.check_pledgees(app)
        assert app.counterparty is not None
        self.trial(app, app.counterparty if app.rights & 1 else app.holder)

    def call(self, app: Application) -> ChainCall:
        assert app.counterparty is not None
        uid, unit = self.unit(app)
        new_subject = app.counterparty if app.rights & 1 else app.holder
        cert = self.wf.certificate(app, version=unit["certificate_version"] + 1, holder=new_subject,
                                   rights=unit["rights"], object_type=unit["object_type"],
                                   valid_until=unit["valid_until"])
        request = transfer_request(self.wf.address(app.counterparty), app.rights, self.wf.document_hash(cert),
                                   _document(app), _risk(app))
        params = transfer_params(request)
        used: dict[str, int] = {}
        joint = self.wf.profile(app).joint_filing
        from_consent = (self.wf.consent(app.holder, uid, Action.TRANSFER, params, used) if joint
                        else EMPTY_CONSENT.as_tuple())
        to_consent = self.wf.consent(app.counterparty, uid, Action.TRANSFER, params, used)
        pledgees = self.pledgees(app, Action.TRANSFER, params, used)
        return ChainCall("transfer", (uid, request, from_consent, to_consent, pledgees), cert)


class Licence(Filing):
    kind = "licence"
    action = Action.LICENCE
    needs_counterparty = True

    def check(self, app: Application) -> None:
        super().check(app)
        if app.counterparty == app.holder:
            raise FilingRefused(f"a {self.kind} to the holder itself is not an additional right (TJIFA §8.2.2)")
        until = int(_payload(app).get("valid_until", 0))
        if until and until <= self.wf.chain_time():
            raise FilingRefused(f"the {self.kind}'s term must end in the future")

    def call(self, app: Application) -> ChainCall:
        assert app.counterparty is not None
        uid, _ = self.unit(app)
        entry = entry_request(self.action, self.wf.address(app.counterparty), app.rights,
                              int(_payload(app).get("valid_until", 0)), _document(app), _risk(app))
        params = entry_params(entry)
        used: dict[str, int] = {}
        both = self.wf.profile(app).joint_filing or self.action is Action.PLEDGE  # no pledge without the pledgor
        holder = self.wf.consent(app.holder, uid, self.action, params, used) if both else EMPTY_CONSENT.as_tuple()
        counter = self.wf.consent(app.counterparty, uid, self.action, params, used)
        return ChainCall("addRightsEntry", (uid, entry, holder, counter))


class Pledge(Licence):
    kind = "pledge"
    action = Action.PLEDGE


class Release(Filing):
    kind = "release"
    unit_states = (UnitStatus.ACTIVE, UnitStatus.SUSPENDED, UnitStatus.EXPIRED)

    def check(self, app: Application) -> None:
        super().check(app)
        entry_id = _payload(app).get("entry_id")
        if not isinstance(entry_id, int) or entry_id < 1:
            raise FilingRefused("a release names the rights-page entry id (see `ledger registry show`)")
        entry = self.wf.registry.entry(entry_id)
        uid, _ = self.unit(app)
        if entry["unit_id"] != uid:
            raise FilingRefused(f"entry {entry_id} is not on the rights page of {app.registration_number}"
                                + (" (it belongs to another unit)" if entry["unit_id"] != ZERO32 else
                                   " (no such entry)"))
        if not entry["active"]:
            raise FilingRefused(f"entry {entry_id} was already released")
        if self.wf.account_of(entry["counterparty"]) is None:
            raise FilingRefused(f"entry {entry_id}'s counterparty {entry['counterparty']} must consent to the release")

    def call(self, app: Application) -> ChainCall:
        uid, _ = self.unit(app)
        entry_id, doc = int(_payload(app)["entry_id"]), _document(app)
        counterparty = self.wf.account_of(self.wf.registry.entry(entry_id)["counterparty"])
        assert counterparty is not None
        consent = self.wf.consent(counterparty, uid, Action.RELEASE, release_params(entry_id, doc))
        return ChainCall("releaseRightsEntry", (uid, entry_id, doc, consent))


class Cancellation(Filing):
    kind = "cancellation"
    unit_states = (UnitStatus.ACTIVE, UnitStatus.SUSPENDED, UnitStatus.EXPIRED)

    def check(self, app: Application) -> None:
        ground = _payload(app).get("ground", "holder")
        if ground not in ("holder", *EX_OFFICIO_GROUNDS):
            raise FilingRefused(f"unknown cancellation ground {ground!r}")
        if ground in EX_OFFICIO_GROUNDS and not app.document_hash:
            raise FilingRefused("an ex-officio or ordered cancellation needs its grounds document (SZ art. 19)")
        super().check(app)
        uid, _ = self.unit(app)
        status = self.wf.registry.status(uid)
        if ground == "holder":
            if status is UnitStatus.SUSPENDED:
                raise FilingRefused(f"registration {app.registration_number} is suspended: only an order may "
                                    "cancel it")
            self.check_pledgees(app)
        elif ground == "no_remaining_holder" and not self.wf.registry.order_recorded(uid, _document(app)):
            raise FilingRefused("an ex-officio cancellation (no remaining holder, SZ art. 19) cites a court or "
                                "arbitration order the judicial role recorded first (`ledger registry order`)")
        elif ground == "expired" and status is not UnitStatus.EXPIRED:
            raise FilingRefused(f"registration {app.registration_number} has not expired (GZ art. 35)")

    def call(self, app: Application) -> ChainCall:
        uid, _ = self.unit(app)
        ground = CancellationGround[_payload(app).get("ground", "holder").upper()]
        doc = _document(app)
        if ground is not CancellationGround.HOLDER:
            return ChainCall("cancel", (uid, int(ground), doc, ZERO32, EMPTY_CONSENT.as_tuple(), []))
        risk = _risk(app)
        params = cancel_params(doc, risk)
        used: dict[str, int] = {}
        consent = self.wf.consent(app.holder, uid, Action.CANCELLATION, params, used)
        return ChainCall("cancel", (uid, int(ground), doc, risk, consent,
                                    self.pledgees(app, Action.CANCELLATION, params, used)))


class Renewal(Filing):
    kind = "renewal"

    def check(self, app: Application) -> None:
        super().check(app)
        rules = self.wf.profile(app)
        _, unit = self.unit(app)
        if not unit["valid_until"] or not rules.validity_years:
            raise FilingRefused(f"{rules.code} certificates do not expire: there is nothing to renew")
        opens = unit["valid_until"] - rules.renewal_window_days * 86_400
        if self.wf.chain_time() < opens:
            raise FilingRefused(f"{rules.renewal_label} opens {china_date(opens).isoformat()}, "
                                f"{rules.renewal_window_days} days before the validity ends (TJIFA §8.3.3, "
                                "GZ art. 35)")

    def call(self, app: Application) -> ChainCall:
        uid, unit = self.unit(app)
        rules = self.wf.profile(app)
        data_until = _payload(app).get("data_valid_until")
        last = add_years(last_day(unit["valid_until"]), rules.validity_years)  # from the previous expiry
        if data_until and rules.validity_or_data:
            last = min(last, _date(data_until))
        valid_until = end_of_day(last)
        cert = self.wf.certificate(app, version=unit["certificate_version"] + 1, holder=app.holder,
                                   rights=unit["rights"], object_type=unit["object_type"], valid_until=valid_until)
        cert_hash, doc = self.wf.document_hash(cert), _document(app)
        consent = self.wf.consent(app.holder, uid, Action.RENEWAL, renew_params(cert_hash, doc, valid_until))
        return ChainCall("renew", (uid, cert_hash, doc, valid_until, consent), cert)


class Suspension(Filing):
    """中止 (DL art. 22): by the registry or a court, with its decision; a court's is lifted only by a court."""

    kind = "suspension"
    needs_document = True

    def call(self, app: Application) -> ChainCall:
        uid, _ = self.unit(app)
        return ChainCall("setSuspended", (uid, True, _document(app)))


class Reinstatement(Filing):
    kind = "reinstatement"
    unit_states = (UnitStatus.SUSPENDED,)
    needs_document = True

    def call(self, app: Application) -> ChainCall:
        uid, _ = self.unit(app)
        return ChainCall("setSuspended", (uid, False, _document(app)))


class Revocation(Filing):
    """撤销 by the registry (AH art. 23, GD art. 22, GZ art. 34), with its decision's hash."""

    kind = "revocation"
    unit_states = (UnitStatus.ACTIVE, UnitStatus.SUSPENDED, UnitStatus.EXPIRED)
    needs_document = True

    def call(self, app: Application) -> ChainCall:
        uid, _ = self.unit(app)
        return ChainCall("revoke", (uid, _document(app)))


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FilingRefused(f"{value!r} is not a date (YYYY-MM-DD)") from None


FILINGS: dict[str, type[Filing]] = {cls.kind: cls for cls in (
    Initial, Supplementary, Reissue, Transfer, Licence, Pledge, Release, Cancellation, Renewal, Suspension,
    Reinstatement, Revocation)}
#: Filings by an authority on its own motion: they need no holder consent and get no public notice.
AUTHORITY_KINDS = {"suspension", "reinstatement", "revocation"}


def describe(app: Application) -> str:
    """A short line naming the filing (for messages)."""
    return f"{app.kind} {app.id[:8]}" + (f" of {app.registration_number}" if app.registration_number else "")


