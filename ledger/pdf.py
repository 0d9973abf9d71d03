"""PDF rendering of ledger documents, verifiable from the PDF alone.

The PDF shows the document's fields in Chinese and English (a CJK TrueType font from Debian's
fonts-wqy-microhei is embedded, subset), a QR code that opens the public verify page for the document's
hash, and carries two attachments: ``document.json`` (the canonical JSON whose SHA-256 is on chain) and,
when given, ``bundle.json`` (the court bundle proving that hash). Rendering is deterministic — the same
document and bundle give the same bytes — so ``verify_pdf`` re-renders from the attachments and any changed
byte of the file is caught.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import segno
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ledger.document_schemas import CERTIFICATE_SCHEMA, validate_document
from ledger.errors import ConfigurationError, LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.numbering import unit_id
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Check, verify_bundle

FONT_NAME = "WenQuanYiMicroHei"
FONT_CANDIDATES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
TITLES = {
    "ledger.certificate/1": "数据资产登记证书  Data-asset registration certificate",
    "ledger.rights-page/1": "数据资产他项权益页  Additional-rights page",
    "ledger.evidence-report/1": "存证报告书  Evidence report",
    "ledger.supplementary-notice/1": "补充登记通知  Supplementary-registration notice",
    "ledger.cancellation-proof/1": "注销证明  Cancellation proof",
}
LABELS = {
    "registration_number": "登记号 Registration no.", "certificate_version": "证书版本 Version",
    "jurisdiction": "登记规则 Jurisdiction", "registry": "登记机构 Registry", "holder.name": "权利人 Holder",
    "holder.account": "权利人账户 Holder account", "holder.uscc": "统一社会信用代码 USCC",
    "asset.name": "资产名称 Asset", "asset.version": "版本 Asset version", "asset.object_type": "类型 Object type",
    "asset.form": "提供形式 Form", "asset.acquisition": "取得方式 Acquisition",
    "asset.update_cycle": "更新周期 Update cycle",
    "asset.scenarios": "使用场景与范围 Scenarios", "rights": "登记权利 Rights", "issued_on": "发证日期 Issued on",
    "valid_until": "有效期至 Valid until", "report_number": "存证号 Evidence no.", "provider": "存证服务商 Provider",
    "summary": "摘要 Summary", "ground": "注销原因 Ground", "cancelled_on": "注销日期 Cancelled on",
    "deficiencies": "需补正事项 Deficiencies", "resubmit_by": "补正期限 Resubmit by",
}
MAX_VALUE_CHARS = 60


def font_path() -> Path:
    configured = os.environ.get("LEDGER_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ConfigurationError("no CJK font: install Debian's fonts-wqy-microhei (`make setup` does) "
                             "or set LEDGER_CJK_FONT to a TrueType font with Chinese glyphs")


def _register_font() -> str:
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(font_path()), subfontIndex=0))
    return FONT_NAME


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [row for key in sorted(value) if key not in ("schema", "title", "annexes")
                for row in _flatten(value[key], f"{prefix}.{key}" if prefix else key)]
    if value is None or value == [] or value == "":
        return []
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, "、".join(str(v) for v in value))]
        return [row for i, item in enumerate(value) for row in _flatten(item, f"{prefix}[{i + 1}]")]
    return [(prefix, str(value))]


def _rows(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows in a fixed order — known fields in LABELS order, then the rest alphabetically — so
    the page depends only on the document's content, never on the order its keys arrived in."""
    order = {key: i for i, key in enumerate(LABELS)}
    rows = sorted(_flatten(document), key=lambda row: (order.get(row[0], len(order)), row[0]))
    return [(LABELS.get(path, path), value) for path, value in rows]


def _wrap(text: str, width: int = MAX_VALUE_CHARS) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _draw_qr(pdf: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    qr = segno.make(data, error="m")
    matrix = list(qr.matrix)
    module = size / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                pdf.rect(x + col * module, y + size - (row + 1) * module, module, module, stroke=0, fill=1)


def verify_url(base_url: str, document_hash: bytes) -> str:
    return f"{base_url.rstrip('/')}/verify/{to_hex(document_hash)}"


def render_pdf(document: dict[str, Any], bundle: dict[str, Any] | None = None, base_url: str | None = None) -> bytes:
    """The PDF of ``document`` (validated first), with the document and the bundle attached. The verify link
    comes from the bundle's sealed presentation part (so it is bound too), else from ``base_url``."""
    if bundle is not None:
        base_url = str((bundle.get("presentation") or {}).get("verify_base_url", base_url or ""))
    base_url = base_url or "http://127.0.0.1:8000"
    validate_document(document)
    body = canonical_json(document)
    doc_hash = digest_bytes(body)
    font = _register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(TITLES.get(document["schema"], document["schema"]))
    pdf.setAuthor(str(document.get("registry", document.get("provider", ""))))
    pdf.setCreator("data-asset-ledger")
    width, height = A4
    pdf.setFont(font, 17)
    pdf.drawCentredString(width / 2, height - 60, TITLES.get(document["schema"], document["schema"]))
    y = height - 100
    for label, value in _rows(document):
        lines = _wrap(value)
        if y - 16 * len(lines) < 170:
            pdf.showPage()
            y = height - 60
        pdf.setFont(font, 9)
        pdf.setFillColorRGB(0.35, 0.35, 0.4)
        pdf.drawString(50, y, label)
        pdf.setFillColorRGB(0, 0, 0)
        pdf.setFont(font, 10.5)
        for line in lines:
            pdf.drawString(215, y, line)
            y -= 15
        y -= 3
    url = verify_url(base_url, doc_hash)
    _draw_qr(pdf, url, width - 150, 40, 100)
    pdf.setFont(font, 8)
    presentation = (bundle or {}).get("presentation") or {}
    trust_url, trust_sha = presentation.get("trust_list_url"), presentation.get("trust_list_sha256")
    footer = ["文件哈希 Document SHA-256:", to_hex(doc_hash), "在线核验 Verify online:", *_wrap(url, 70),
              "离线核验 Verify offline: ledger proof verify <this PDF> --trust <trust list>"]
    if trust_url and trust_sha:  # the trust roots come from the platform, never from the PDF itself
        footer += [f"信任列表 Trust list: {trust_url}", f"  SHA-256 {trust_sha}"]
    footer.append("(document.json and bundle.json are attached: the PDF and the trust list are enough)")
    for i, line in enumerate(footer):
        pdf.drawString(50, 140 - 10 * i, line)
    pdf.showPage()
    pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_attachment("document.json", body)
    if bundle is not None:
        writer.add_attachment("bundle.json", canonical_json(bundle))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attachments(pdf_bytes: bytes) -> dict[str, bytes]:
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        return {name: contents[0] for name, contents in reader.attachments.items()}
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise LedgerValueError(f"not a readable PDF: {exc.__class__.__name__}: {exc}") from exc


def embedded(pdf_bytes: bytes) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The attached document (and bundle, if any)."""
    files = attachments(pdf_bytes)
    if "document.json" not in files:
        raise LedgerValueError("the PDF carries no document.json attachment")
    try:
        document = json.loads(files["document.json"])
        bundle = json.loads(files["bundle.json"]) if "bundle.json" in files else None
    except ValueError as exc:
        raise LedgerValueError(f"an attachment is not JSON: {exc}") from exc
    return document, bundle


def verify_pdf(pdf_bytes: bytes, trust: TrustRoots | None = None, threshold: int | None = None,
               rpc_url: str | None = None) -> list[Check]:
    """Checks a document PDF offline: its attachments, the document's schema and hash, the court bundle (for a
    certificate: the registry status of its unit too), and that the PDF is exactly what its attachments render
    to (so no byte of it was changed)."""
    checks: list[Check] = []
    try:
        document, bundle = embedded(pdf_bytes)
    except (LedgerValueError, ValueError) as exc:
        return [Check("PDF attachments", False, getattr(exc, "user_message", str(exc)))]
    checks.append(Check("PDF attachments", bundle is not None,
                        "document.json and bundle.json found" if bundle else "no bundle.json: nothing proves it"))
    if bundle is None:
        return checks
    try:
        validate_document(document)
    except LedgerValueError as exc:
        return [*checks, Check("document schema", False, exc.user_message)]
    checks.append(Check("document schema", True, f"{document['schema']} document is valid"))
    doc_hash = digest_bytes(canonical_json(document))
    claimed = str((bundle.get("subject") or {}).get("digest", ""))
    if not _same(claimed, to_hex(doc_hash)) or (bundle.get("subject") or {}).get("hash_algorithm") != "sha256":
        return [*checks, Check("document hash", False, f"the document hashes to {to_hex(doc_hash)}, the bundle "
                                                      f"proves {claimed}")]
    unit = unit_id(document["registration_number"]) if document["schema"] == CERTIFICATE_SCHEMA else None
    bundle_checks = verify_bundle(bundle, None, trust, threshold, rpc_url, certificate_unit=unit)
    checks.extend(c if c.name != "document hash" else Check("document hash", True, f"SHA-256 of the canonical "
                  f"document = {to_hex(doc_hash)}, the digest the bundle proves") for c in bundle_checks)
    if all(c.ok or c.level != "error" for c in checks):
        try:
            same = render_pdf(document, bundle) == pdf_bytes
        except (LedgerValueError, ConfigurationError) as exc:
            return [*checks, Check("PDF integrity", False, getattr(exc, "user_message", str(exc)))]
        checks.append(Check("PDF integrity", same, "the file is exactly the rendering of its attachments" if same
                            else "the file differs from the rendering of its attachments: it was altered"))
    return checks


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()
