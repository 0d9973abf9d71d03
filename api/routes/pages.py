"""Public web pages: verify a file or a digest in the browser (no script needed)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.deps import LedgerDep
from api.limits import streamed_upload
from api.routes.evidence import digest_upload
from ledger.errors import LedgerError
from ledger.evidence import Verification
from ledger.hashing import HashAlgorithm, parse_digest, to_hex
from ledger.services.proofs import CertificateView, verify_evidence

router = APIRouter(tags=["pages"], include_in_schema=False)

_STYLE = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1d2330}h1{font-size:1.4rem}fieldset{border:1px solid #ccd;border-radius:6px;margin:1rem 0;padding:1rem}
.ok{color:#0a6b2d;font-weight:600}.no{color:#a51b1b;font-weight:600}code{word-break:break-all}
table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #eee;vertical-align:top}"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>
<style>{_STYLE}</style></head><body>{body}
<p><a href="/">Verify another</a> · <a href="/docs">API</a></p></body></html>""")


_ALGS = "".join(f'<option value="{a.label}">{a.label}</option>' for a in HashAlgorithm)


@router.get("/", response_class=HTMLResponse)
def home() -> HTMLResponse:
    return _page("Evidence verification 存证核验", f"""<h1>Evidence verification 存证核验</h1>
<p>Check whether a file or a digest is anchored on the ledger. The file is hashed and discarded.</p>
<form method="post" action="/verify" enctype="multipart/form-data"><fieldset><legend>File 文件</legend>
<input type="file" name="file" required> <select name="hash_algorithm">{_ALGS}</select>
<button>Verify</button></fieldset></form>
<form method="post" action="/verify"><fieldset><legend>Digest 哈希值</legend>
<input name="digest" size="70" placeholder="64 hex digits" required> <select name="hash_algorithm">{_ALGS}</select>
<button>Verify</button></fieldset></form>""")


_STATE_HEADLINE = {
    "valid": ("ok", "Valid certificate 证书有效"),
    "superseded": ("no", "Superseded 已被取代 — not the current certificate"),
    "expired": ("no", "Expired 已过期"),
    "suspended": ("no", "Suspended 已中止"),
    "cancelled": ("no", "Cancelled 已注销"),
    "revoked": ("no", "Revoked 已撤销"),
    "unknown": ("no", "Not registered 未登记"),
}


def _certificate_html(view: CertificateView) -> str:
    """The certificate's current status first: a court or bank must never read 'anchored' as 'valid'."""
    status = view.status
    css, title = _STATE_HEADLINE[status.state]
    parts = [f'<p class="{css}">{escape(title)}</p>']
    if status.under_objection:
        parts.append('<p class="no">Under objection 存在异议: a disposal needs a written risk acknowledgement '
                     "(SZ art. 20)</p>")
    number = escape(view.registration_number or view.unit_id)
    version = f" version {view.certificate_version}" if view.certificate_version else ""
    parts.append(f"<p>Registration {number}{version}: {escape(status.describe())}</p>")
    if status.state == "superseded":
        current = escape(status.current_certificate_hash)
        parts.append(f'<p>Current version 当前版本: <a href="/verify/{current}">version {status.current_version}'
                     f" <code>{current}</code></a></p>")
    return "".join(parts)


def _result_html(result: Verification, certificate: CertificateView | None = None) -> str:
    if not result.anchored:
        return (f'<p class="no">Not anchored 未存证</p><p>Digest <code>{to_hex(result.digest)}</code> '
                f'is not anchored on this chain.</p>')
    rows = []
    for a in result.anchors:
        where = (f"batch root <code>{to_hex(a.batch.root)}</code>, leaf {a.batch.leaf_index} of "
                 f"{a.batch.leaf_count}, proof checked on chain" if a.batch else "single anchor")
        rows.append(f"<tr><td>{escape(where)}</td><td>block {a.block_number}<br>{a.as_dict()['block_time_iso']}</td>"
                    f"<td>submitter <code>{a.submitter}</code><br>tx <code>{a.tx_hash}</code></td></tr>")
    ends = "".join(f"<li>{escape(e.endorser_kind)} <code>{e.endorser}</code>, block {e.block_number}</li>"
                   for e in result.endorsements) or "<li>none</li>"
    head = (_certificate_html(certificate) + "<h2>Anchor 存证</h2>") if certificate else (
        '<p class="ok">Anchored 已存证</p>')
    return (f"{head}<p>Digest <code>{to_hex(result.digest)}</code></p>"
            f"<table>{''.join(rows)}</table><h2>Endorsements 背书</h2><ul>{ends}</ul>")


@router.get("/verify/{digest}", response_class=HTMLResponse)
async def verify_digest_page(digest: str, ledger: LedgerDep) -> HTMLResponse:
    """Where a document's QR code points: is this hash anchored? (SHA-256 of the canonical document)."""
    try:
        result, certificate = await run_in_threadpool(verify_evidence, ledger, parse_digest(digest),
                                                      HashAlgorithm.SHA256)
    except LedgerError as exc:
        return _page("Verification failed", f'<p class="no">{escape(exc.user_message)}</p>')
    return _page("Verification result 核验结果",
                 f"<h1>Verification result 核验结果</h1>{_result_html(result, certificate)}")


@router.post("/verify", response_class=HTMLResponse)
@streamed_upload
async def verify_page(
    ledger: LedgerDep,
    file: Annotated[UploadFile | None, File()] = None,
    digest: Annotated[str | None, Form()] = None,
    hash_algorithm: Annotated[str, Form()] = "sha256",
) -> HTMLResponse:
    try:
        alg = HashAlgorithm.parse(hash_algorithm)
        if file is not None and file.filename:
            value = await digest_upload(file, alg)
        else:
            value = parse_digest(digest or "")
        result, certificate = await run_in_threadpool(verify_evidence, ledger, value, alg)
    except LedgerError as exc:
        return _page("Verification failed", f'<p class="no">{escape(exc.user_message)}</p>')
    return _page("Verification result 核验结果",
                 f"<h1>Verification result 核验结果</h1>{_result_html(result, certificate)}")
