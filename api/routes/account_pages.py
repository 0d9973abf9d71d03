"""The rights holder's pages (issue #12 §3): sign in with a token or a signed login request, then see one's units
and their status, one's applications with their history and supplement requests, the consents to sign (the typed
data, signed in a browser wallet or with ``ledger wallet sign`` and pasted), printable documents and renewal
reminders.

Thin views over ``ledger.services.holdings`` and ``ledger.services.applications``: the services decide who may read
and do what; these pages only carry the session (``api.session``) and render.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import session
from api.deps import LedgerDep
from api.errors import status_of
from api.routes.registrations import pdf_file
from api.templating import render
from ledger.errors import LedgerError, UnauthorizedError
from ledger.services import applications, documents, holdings
from ledger.services.access import request_text, signed_account
from ledger.services.schemas import ConsentSignature
from ledger.tokens import resolve_token

router = APIRouter(tags=["pages"], include_in_schema=False)


def _to_login() -> RedirectResponse:
    return RedirectResponse(session.LOGIN_PATH, status_code=303)


def _error(request: Request, exc: LedgerError, back: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status_of(exc), message=exc.user_message, back=back)


@router.get(session.LOGIN_PATH, response_class=HTMLResponse)
def login_page(request: Request, next: str = "/account") -> HTMLResponse:
    """Sign in with an API token, or with a login request signed by one's own key (browser wallet or
    ``ledger wallet sign-request``); ``next``: where to go afterwards (a path of this site)."""
    now = int(time.time())
    return render(request, "login.html", timestamp=now, text=request_text("POST", session.LOGIN_PATH, now, b""),
                  next=next if session.safe_next(next) else "/account")


@router.post(session.LOGIN_PATH, response_model=None)
async def login(
    request: Request, ledger: LedgerDep,
    token: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    timestamp: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/account",
) -> Response:
    """Checks the token or the signed login request, then keeps the account in a session cookie."""
    try:
        token_id: int | None = None
        if token.strip():
            found = await run_in_threadpool(resolve_token, ledger.engine, token.strip())
            account, token_id = found.account, found.id
        elif signature.strip():
            account = await run_in_threadpool(signed_account, ledger, address.strip(), timestamp.strip(),
                                              signature.strip(), "POST", session.LOGIN_PATH, b"")
        else:
            raise UnauthorizedError("give your API token, or your address with a signed login request")
    except LedgerError as exc:
        return _error(request, exc, back=session.LOGIN_PATH)
    reply = RedirectResponse(next if session.safe_next(next) else "/account", status_code=303)
    reply.set_cookie(session.COOKIE, session.issue(ledger.settings.home, account, token_id=token_id),
                     max_age=session.SESSION_SECONDS, httponly=True, samesite="strict", path="/",
                     secure=request.url.scheme == "https" or ledger.settings.public_url.startswith("https:"))
    return reply


@router.post("/account/logout")
def logout() -> RedirectResponse:
    reply = RedirectResponse("/", status_code=303)
    reply.delete_cookie(session.COOKIE, path="/")
    return reply


@router.get("/account", response_class=HTMLResponse, response_model=None)
async def account_page(request: Request, ledger: LedgerDep) -> Response:
    """My units and their status, my applications, the consents I still have to sign, my renewal reminders."""
    signed = session.signed_in(request, ledger)
    if signed is None:
        return _to_login()
    viewer, _ = signed
    try:
        mine = await run_in_threadpool(holdings.overview, ledger, viewer)
    except LedgerError as exc:
        return _error(request, exc, back="/")
    return render(request, "account.html", mine=mine, viewer=viewer, csrf=signed[1])


@router.get("/account/applications/{application_id}", response_class=HTMLResponse, response_model=None)
async def application_page(request: Request, application_id: str, ledger: LedgerDep) -> Response:
    """One of my applications: where it stands, its history, what it waits for, the consents to sign."""
    signed = session.signed_in(request, ledger)
    if signed is None:
        return _to_login()
    viewer, csrf = signed
    try:
        shown = await run_in_threadpool(applications.application, ledger, application_id, viewer=viewer)
    except LedgerError as exc:
        return _error(request, exc, back="/account")
    typed = {c.id: json.dumps(c.typed_data, ensure_ascii=False, indent=2) for c in shown.consents or []}
    return render(request, "account_application.html", a=shown, viewer=viewer, csrf=csrf, typed=typed,
                  signed_now=request.query_params.get("signed"))


@router.post("/account/applications/{application_id}/consents/{consent_id}", response_model=None)
async def sign_consent(
    request: Request, application_id: str, consent_id: int, ledger: LedgerDep,
    signature: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Posts the signature of a consent (made in the browser wallet or pasted from ``ledger wallet sign``); the
    service checks it is the party's own over exactly the message asked."""
    back = f"/account/applications/{application_id}"
    try:
        viewer = session.form_viewer(request, ledger, csrf)
        if viewer is None:
            return _to_login()
        await run_in_threadpool(applications.application, ledger, application_id, viewer=viewer)  # one's own only
        form = ConsentSignature(signature=signature.strip())
        await run_in_threadpool(applications.submit_consent, ledger, application_id, consent_id, form)
    except LedgerError as exc:
        return _error(request, exc, back)
    except ValueError:  # a malformed signature (pydantic's ValidationError)
        return render(request, "error.html", status_code=422, back=back, message="the signature is 65 bytes of hex "
                      "(0x + 130 hex digits), as a wallet or `ledger wallet sign` gives it")
    return RedirectResponse(f"{back}?signed={consent_id}", status_code=303)


@router.post("/account/units/{number}/documents/{kind}", response_model=None)
async def print_document(request: Request, number: str, kind: str, ledger: LedgerDep,
                         csrf: Annotated[str, Form()] = "") -> Response:
    """Prints one of my documents — certificate, rights page (他项权益页), evidence report — as a PDF that verifies
    offline (TJIFA §6.3.4): the same issuing service as the API's, with the session's viewer."""
    try:
        viewer = session.form_viewer(request, ledger, csrf)
        if viewer is None:
            return _to_login()
        made = await run_in_threadpool(lambda: documents.registration_document(ledger, number, kind, viewer=viewer))
    except LedgerError as exc:
        return _error(request, exc, back="/account")
    return pdf_file(made.body, made.filename)
