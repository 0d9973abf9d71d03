"""The public web pages (issue #12), server-rendered from ``api/templates``: thin views over the service layer.

- ``/`` verify a file (hashed in the browser; uploaded only when scripts are off) or a digest; find a registration;
- ``/verify/{digest}`` what the certificate's QR code opens: for a certificate, its page — status now, versions,
  rights page, history, downloads; for other evidence, its anchors and endorsements by authority kind;
- ``/search`` registrations by number or asset name; ``/certificate/{number}`` a unit's current certificate page,
  whose forms download the court bundle and the certificate PDF (exports: they may anchor and sign, hence POST);
- ``/notices`` the public notice board with the days left; ``/notices/{id}`` one notice and its objection form.

Pages hold no rules: every decision is the service's. A LedgerError becomes an error page with its HTTP status
(``api/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import session
from api.deps import LedgerDep
from api.errors import status_of
from api.limits import streamed_upload
from api.ratelimit import client_of, ration
from api.routes.evidence import digest_upload
from api.templating import render
from ledger.context import Ledger
from ledger.errors import LedgerError, LedgerValueError, RateLimitedError
from ledger.hashing import HashAlgorithm, canonical_json, parse_digest, to_hex
from ledger.services import lookup, notices, search
from ledger.services.access import Viewer
from ledger.services.documents import certificate_bundle, may_print, registration_document

router = APIRouter(tags=["pages"], include_in_schema=False)
T = TypeVar("T")
PAGE_SIZE = 20


def _error(request: Request, exc: LedgerError, back: str = "/") -> HTMLResponse:
    response = render(request, "error.html", status_code=status_of(exc), message=exc.user_message, back=back)
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(function, *args, **kwargs)


def _pages(offset: int, count: int, size: int = PAGE_SIZE) -> dict[str, int | None]:
    return {"previous": max(0, offset - size) if offset > 0 else None,
            "next": offset + size if offset + size < count else None}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """Verify a file or a digest, find a registration, read the notices. Reads nothing from the chain."""
    return render(request, "home.html")


@router.get("/verify/{digest}", response_class=HTMLResponse)
async def verify_digest_page(request: Request, digest: str, ledger: LedgerDep,
                             hash_algorithm: Annotated[str, Query()] = "sha256") -> HTMLResponse:
    """Where a document's QR code points (SHA-256 of the canonical document): a certificate's page, with its status
    now; for any other digest, whether it is anchored and who endorsed it."""
    try:
        value, algorithm = parse_digest(digest), HashAlgorithm.parse(hash_algorithm)
        number = await _call(lookup.certificate_unit, ledger, value) if algorithm is HashAlgorithm.SHA256 else None
        evidence = await _call(lookup.evidence_lookup, ledger, value, algorithm)
        if number is not None:
            record = await _call(lookup.certificate_record, ledger, number, to_hex(value))
            return render(request, "certificate.html", record=record, lookup=evidence, digest_hex=to_hex(value),
                          **_downloads(request, ledger))
    except LedgerError as exc:
        return _error(request, exc)
    # an anchored certificate the index has no version of is not confirmed, whatever its status reads
    return render(request, "verify.html", lookup=evidence, reliable=False, digest_hex=to_hex(value))


@router.post("/verify", response_class=HTMLResponse)
@streamed_upload
async def verify_page(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    digest: Annotated[str | None, Form()] = None,
    hash_algorithm: Annotated[str, Form()] = "sha256",
) -> Response:
    """The forms' target without scripts: a file is hashed here and discarded (never stored), or a digest is
    taken as given; either way the answer is the digest's page."""
    try:
        algorithm = HashAlgorithm.parse(hash_algorithm)
        if file is not None and file.filename:
            ration(request, "uploads").take(client_of(request))
            value = await digest_upload(file, algorithm)
        else:
            value = parse_digest(digest or "")
    except LedgerError as exc:
        return _error(request, exc)
    return RedirectResponse(f"/verify/{to_hex(value)}?hash_algorithm={algorithm.label}", status_code=303)


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, ledger: LedgerDep, q: str = "",
                      offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """Registrations by number (straight to its certificate page) or by asset name."""
    if not q.strip():
        return render(request, "search.html", result=None, query="")
    try:
        result = await _call(search.search, ledger, q, offset, PAGE_SIZE)
    except LedgerError as exc:
        return _error(request, exc, back="/search")
    if result.by == "number" and result.count == 1:
        return RedirectResponse(f"/certificate/{result.data[0].registration_number}", status_code=303)
    return render(request, "search.html", result=result, query=result.query,
                  pages=_pages(offset, result.count))


@router.get("/certificate/{number}", response_class=HTMLResponse)
async def certificate_page(request: Request, number: str, ledger: LedgerDep) -> HTMLResponse:
    """A registration unit's current certificate: status now, versions, rights page, history, downloads (for a
    signed-in user with standing)."""
    try:
        record = await _call(lookup.certificate_record, ledger, number)
    except LedgerError as exc:
        return _error(request, exc, back="/search")
    return render(request, "certificate.html", record=record, lookup=None, **_downloads(request, ledger))


def _downloads(request: Request, ledger: Ledger) -> dict[str, Any]:
    """What the certificate page's download forms need: the session's CSRF token, or where to sign in."""
    signed = session.signed_in(request, ledger)
    return {"csrf": signed[1] if signed else None, "login_url": session.login_url(request.url.path)}


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _download_viewer(request: Request, ledger: Ledger, csrf: str, basis: str) -> Viewer | None:
    """The signed-in viewer a download is for (its standing is the service's to check); None: nobody signed in.
    The court bundle proves the unit's whole registry state — right holders, pledgees and licensees, contract
    hashes — which REGISTRATION_RULES §6.2 keeps from the public: its download is for whom may read them."""
    viewer = session.form_viewer(request, ledger, csrf)
    return replace(viewer, basis=basis.strip()[:200] or None) if viewer else None  # a bank's matter (§6.2)


@router.post("/certificate/{number}/bundle")
async def certificate_bundle_download(request: Request, number: str, ledger: LedgerDep,
                                      csrf: Annotated[str, Form()] = "",
                                      basis: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The court bundle of the unit's current certificate with its registry state (what ``ledger proof export
    NUMBER --state`` writes): it verifies offline against the platform's trust list. Signed-in users with
    standing only (the holder, the registry, an exchange, a bank, a court with its document; logged)."""
    try:
        viewer = _download_viewer(request, ledger, csrf, basis)
        if viewer is None:
            return RedirectResponse(session.login_url(f"/certificate/{number}"), status_code=303)
        await _call(may_print, ledger, viewer, number, "certificate")
        _, bundle = await _call(certificate_bundle, ledger, number, ledger.settings.public_url, viewer.account or "")
    except LedgerError as exc:
        return _error(request, exc, back=f"/certificate/{number}")
    return _attachment(canonical_json(bundle), "application/json", f"{number.strip().upper()}.state.json")


@router.post("/certificate/{number}/pdf")
async def certificate_pdf_download(request: Request, number: str, ledger: LedgerDep,
                                   csrf: Annotated[str, Form()] = "",
                                   basis: Annotated[str, Form(max_length=200)] = "") -> Response:
    """The unit's current certificate as a PDF carrying its document and court bundle (as the bundle: for
    signed-in users with standing)."""
    try:
        viewer = _download_viewer(request, ledger, csrf, basis)
        if viewer is None:
            return RedirectResponse(session.login_url(f"/certificate/{number}"), status_code=303)
        made = await _call(lambda: registration_document(ledger, number, "certificate", viewer=viewer))
    except LedgerError as exc:
        return _error(request, exc, back=f"/certificate/{number}")
    return _attachment(made.body, "application/pdf", made.filename)


@router.get("/notices", response_class=HTMLResponse)
async def notices_page(request: Request, ledger: LedgerDep, offset: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
    """The public notice board (公示) with the days each notice still runs."""
    try:
        board = await _call(notices.notice_board, ledger, offset, PAGE_SIZE)
    except LedgerError as exc:
        return _error(request, exc)
    return render(request, "notices.html", board=board, board_date=board.as_of, pages=_pages(offset, board.count))


@router.get("/notices/{application_id}", response_class=HTMLResponse)
async def notice_page(request: Request, application_id: str, ledger: LedgerDep) -> HTMLResponse:
    """One notice, and the form to object to it while it runs."""
    try:
        shown = await _call(notices.notice, ledger, application_id)
    except LedgerError as exc:
        return _error(request, exc, back="/notices")
    return render(request, "notice.html", n=shown)


@router.post("/notices/{application_id}/objections", response_class=HTMLResponse)
@streamed_upload
async def objection_page(
    request: Request, application_id: str, ledger: LedgerDep,
    objector_name: Annotated[str, Form()] = "",
    objector_id: Annotated[str, Form()] = "",
    grounds: Annotated[str, Form()] = "",
    evidence: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Files an objection with its evidence; answers with the receipt (digest and anchoring transaction)."""
    back = f"/notices/{application_id}"
    try:
        ration(request, "objections").take(client_of(request))
        if evidence is None or not evidence.filename:
            raise LedgerValueError("the objection needs an evidence file")
        receipt = await _call(notices.file_objection, ledger, application_id, objector_name=objector_name,
                              objector_id=objector_id, grounds=grounds, evidence=evidence.file,
                              evidence_name=evidence.filename)
    except LedgerError as exc:
        return _error(request, exc, back=back)
    return render(request, "objection_receipt.html", status_code=201, receipt=receipt)
