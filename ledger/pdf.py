"""PDF rendering of ledger documents, verifiable from the PDF alone.

The PDF shows the document's fields in Chinese first with English alongside (a CJK TrueType font from Debian's
fonts-wqy-microhei is embedded, subset), a QR code that opens the public verify page for the document's
hash, and carries two attachments: ``document.json`` (the canonical JSON whose SHA-256 is on chain) and,
when given, ``bundle.json`` (the court bundle proving that hash). Rendering is deterministic — the same
document and bundle give the same bytes — so ``verify_pdf`` re-renders from the attachments and any changed
byte of the file is caught.

A certificate (TJIFA §8.2.1, App. 8) is titled by its own ``title`` (the profile's name for it), prints its
footnotes and the hash of its linked evidence report (TJIFA §7.3.1), and is followed by its annexes from the
bundle's sealed ``presentation["annexes"]``: the other-rights page (他项权益页, TJIFA §8.2.2), each entry headed by
its entry id, and the evidence report. The annexes come from the attached bundle, so re-rendering still gives the
same bytes. The PDF's Creator names its layout: files exported before issue #9 (layout 1) are re-rendered with
:func:`render_pdf_layout_1`, kept byte for byte, so they still verify.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ledger.document_schemas import (
    ACQUISITIONS,
    CERTIFICATE_SCHEMA,
    CERTIFICATE_SCHEMA_V3,
    CERTIFICATE_SCHEMAS,
    FORMS,
    HOLDER_KINDS,
    OBJECT_TYPES,
    OBJECTION_PROOF_SCHEMA,
    UPDATE_CYCLES,
    CertificateV2,
    CertificateV3,
    validate_document,
)
from ledger.errors import ConfigurationError, LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.numbering import unit_id
from ledger.proofs.timestamps import decode_token, parse_token, token_info
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import BundleVerification, Check, inspect_bundle

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

FONT_NAME = "WenQuanYiMicroHei"
FONT_CANDIDATES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
TITLES = {
    "ledger.certificate/1": "数据资产登记证书  Data-asset registration certificate",
    "ledger.certificate/2": "数据资产登记证书  Data-asset registration certificate",
    "ledger.certificate/3": "数据资产登记证书  Data-asset registration certificate",
    "ledger.rights-page/1": "数据资产他项权益页  Additional-rights page",
    "ledger.evidence-report/1": "存证报告书  Evidence report",
    "ledger.supplementary-notice/1": "补充登记通知  Supplementary-registration notice",
    "ledger.cancellation-proof/1": "注销证明  Cancellation proof",
    "ledger.objection-proof/1": "异议登记证明  Objection-registration proof",
}
# English alongside the titles a profile may give its certificate (REGISTRATION_RULES §5.1).
ENGLISH_TITLES = {
    "数据资产确权证书": "Data-asset rights-confirmation certificate",
    "数据资产登记证书": "Data-asset registration certificate",
    "数据资源登记证书": "Data-resource registration certificate",
    "数据产品登记证书": "Data-product registration certificate",
    "数据资源/数据产品登记证书": "Data-resource / data-product registration certificate",
    "数据资产登记凭证": "Data-asset registration voucher",
    "登记证书": "Registration certificate",
    "数据登记凭证": "Data registration voucher",
    "数据要素登记凭证": "Data-factor registration voucher",
    "异议登记证明": "Objection-registration proof",
}
LAYOUT_1_LABELS = {  # as they were in layout 1 (files exported before issue #9 re-render with these, unchanged)
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
LABELS = {
    **LAYOUT_1_LABELS,
    "application_id": "申请编号 Application id", "applicant": "申请人 Applicant",
    "governing_document_hash": "依据文书 Governing document (SHA-256)",
    "anchor.tx_hash": "上链交易 Transaction", "anchor.block_number": "区块高度 Block",
    "anchor.block_time": "上链时间 Block time", "anchor.chain_id": "链标识 Chain id",
    "anchor.contract": "存证合约 Evidence contract",
    "digests[].name": "存证对象 Evidence", "digests[].hash_algorithm": "哈希算法 Hash algorithm",
    "digests[].digest": "存证哈希 Digest",
}
INDEX = re.compile(r"\[(\d+)\]")
ANNEX_ORDER = {"rights_page": "ledger.rights-page/1", "evidence_report": "ledger.evidence-report/1"}
ENTRY_KINDS = {"pledge": "质押 pledge", "licence": "授权他人使用 licence"}  # TJIFA §8.2.2
ENTRY_STATUS = {"active": "有效 active", "released": "已解除 released"}
ID_KINDS = {"uscc": "统一社会信用代码 USCC", "resident_id": "居民身份证 resident ID", "passport": "护照 passport",
            "other": "其他证件 other"}
# The Creator names the layout, so verify_pdf re-renders a file the way it was made: PDFs exported before issue #9
# (layout 1, Creator "data-asset-ledger") keep verifying. A changed Creator is a changed byte like any other: the
# file must still be exactly the rendering of its attachments under the layout it names.
CREATOR = "data-asset-ledger (layout 2)"
CREATOR_LAYOUT_1 = "data-asset-ledger"
LAYOUT_1_SCHEMAS = ("ledger.certificate/1", "ledger.rights-page/1", "ledger.evidence-report/1",
                    "ledger.supplementary-notice/1", "ledger.cancellation-proof/1")
LAYOUT_1_VALUE_CHARS = 60
PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT, VALUE_X, RIGHT = 50.0, 215.0, PAGE_WIDTH - 50.0
BODY_BOTTOM = 150.0  # the verification footer and the QR code live below it
ANNEX_BOTTOM = 75.0
Row = tuple[str, str]
HEX_VALUE = re.compile(r"0x[0-9a-fA-F]{40}")
NO_LINE_START = set("，。、；：！？）》」』〕】,.;:!?)")


def font_path() -> Path:
    configured = os.environ.get("LEDGER_CJK_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise ConfigurationError("no CJK font: install Debian's fonts-wqy-microhei (`make setup` does) "
                             "or set LEDGER_CJK_FONT to a TrueType font with Chinese glyphs")


def register_font() -> str:
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
    rows = sorted(_flatten(document), key=lambda row: (order.get(INDEX.sub("[]", row[0]), len(order)), row[0]))
    return [(_label(path), value) for path, value in rows]


def _rows_layout_1(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Layout 1's rows, frozen: its labels, unlabelled paths as they are."""
    order = {key: i for i, key in enumerate(LAYOUT_1_LABELS)}
    rows = sorted(_flatten(document), key=lambda row: (order.get(row[0], len(order)), row[0]))
    return [(LAYOUT_1_LABELS.get(path, path), value) for path, value in rows]


def _label(path: str) -> str:
    """A field's label: its own, or its list's with the item's number (存证哈希 Digest 1)."""
    if path in LABELS:
        return LABELS[path]
    general = INDEX.sub("[]", path)
    if general in LABELS:
        numbers = " ".join(INDEX.findall(path))
        return f"{LABELS[general]} {numbers}"
    return path


def _named(names: dict[str, str], value: str) -> str:
    """An enumerated value in Chinese with its English key alongside: 数据集 dataset."""
    return f"{names[value]} {value.replace('_', ' ')}"


def _certificate_rows(document: dict[str, Any], annexed: set[str]) -> list[Row]:
    """The rows of a ``ledger.certificate/2`` document, in the order of TJIFA App. 8's template: certificate,
    holder, asset, rights, dates, annexes — and for ``/3``, where the registration was recognised from (互认来源,
    TJIFA §6.4.1.4)."""
    model = CertificateV3 if document["schema"] == CERTIFICATE_SCHEMA_V3 else CertificateV2
    document = model.model_validate(document).model_dump(by_alias=True)  # optional fields filled in
    holder, asset, annexes = document["holder"], document["asset"], document["annexes"]
    cycle = _named(UPDATE_CYCLES, asset["update_cycle"])
    if asset["update_cycle"] == "custom":
        cycle += f": {asset['update_cycle_custom']}"
    report = annexes["evidence_report"]
    rows: list[tuple[str, str | None]] = [
        ("证书编号 Certificate serial", document["serial"]),
        ("登记号 Registration no.", document["registration_number"]),
        ("证书版本 Version", str(document["certificate_version"])),
        ("取代前版 Supersedes (SHA-256)", document["supersedes"]),
        ("登记规则 Jurisdiction", document["jurisdiction"]),
        ("发证机构 Issuing body", document["registry"]),
        ("权利人 Holder", holder["legal_name"]),
        ("主体类型 Holder type", _named(HOLDER_KINDS, holder["kind"])),
        ("统一社会信用代码 USCC", holder["uscc"]),
        ("权利人账户 Holder account", holder["account"]),
        ("登记对象 Registered object", _named(OBJECT_TYPES, document["object_type"])),
        ("资产名称 Asset name", asset["name"]),
        ("资产版本 Asset version", asset["version"]),
        ("数据资产类型 Asset type", _named(FORMS, asset["form"])),
        ("取得方式 Acquisition", _named(ACQUISITIONS, asset["acquisition"])),
        ("更新周期 Update cycle", cycle),
        ("允许使用的场景 Permitted scenarios", "、".join(asset["scenarios"])),
        ("允许使用的范围 Permitted scope", asset["scope"]),
        ("所属行业 Industry", asset["industry"]),
        ("关键词 Keywords", "、".join(asset["keywords"])),
        ("登记权利 Rights", "、".join(document["rights"])),
        ("发证日期 Issued on", document["issued_on"]),
        ("有效期至 Valid until", document["valid_until"] or "长期有效 no expiry"),
        ("有效期依据 Validity basis", document["validity_basis"]),
        ("存证报告 Evidence report (SHA-256)", None if report is None else f"{report}\n" + (
            "见附件 annexed" if "evidence_report" in annexed else "关联文件 linked document (TJIFA §7.3.1)")),
        ("存证摘要 Evidence digests", "\n".join(annexes["evidence_digests"])),
    ]
    source = document.get("recognised_from")
    if source is not None:
        rows += [
            ("互认来源 Recognised from", f"{source['platform']}\n登记号 registration no. "
                                        f"{source['registration_number']}\n证书版本 certificate version "
                                        f"{source['certificate_version']}"),
            ("来源证书 Source certificate (SHA-256)", source["certificate_sha256"]),
            ("来源信任列表 Source trust list (SHA-256)", source["trust_list_sha256"]),
            ("互认包 Recognition package (SHA-256)", f"{source['package_sha256']}\n核验于来源链区块 verified at "
                                                   f"source block {source['proven_at_block']}"),
            ("审核 Review", f"免于审核 waived on the verified package ({source['rule']})" if source["review_waived"]
             else f"已审核 reviewed under this platform's rules ({source['rule']})"),
        ]
    return [(label, value) for label, value in rows if value]


def _objection_rows(document: dict[str, Any]) -> list[Row]:
    """The rows of an objection-registration proof (SZ art. 20)."""
    objector, deadline = document["objector"], document["filing_deadline"]
    return [
        ("登记机构 Registry", document["registry"]),
        ("登记号 Registration no.", document["registration_number"]),
        ("异议编号 Objection id", document["objection_id"]),
        ("异议人 Objector", objector["name"]),
        ("证件类型 ID type", ID_KINDS[objector["id_kind"]]),
        ("证件号码 ID number", objector["id_number"]),
        ("异议人账户 Objector account", objector["account"]),
        ("异议事项 Matter", document["matter"]),
        ("异议理由 Grounds", document["grounds"]),
        ("证据摘要 Evidence digests", "\n".join(document["evidence_digests"])),
        ("受理日期 Accepted on", document["accepted_on"]),
        ("起诉/仲裁期限 Court or arbitration filing by",
         f"{deadline['date']} {deadline['time']} 北京时间 {deadline['time_zone']}"),
        ("规则 Rule", document["rule"]),
    ]


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` points: explicit line breaks kept, latin text broken at a space
    where one is near, CJK text anywhere (it has no spaces)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for char in paragraph:
            if line and pdfmetrics.stringWidth(line + char, font, size) > width:
                cut = line.rfind(" ")
                if cut > len(line) // 2:
                    lines.append(line[:cut])
                    line = line[cut + 1:]
                elif char in NO_LINE_START and len(line) > 1:  # 避头: no line starts with closing punctuation
                    lines.append(line[:-1])
                    line = line[-1]
                else:
                    lines.append(line)
                    line = ""
                if char == " " and not line:
                    continue
            line += char
        lines.append(line)
    return lines


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


def _titles(document: dict[str, Any]) -> tuple[str, str]:
    """(Chinese, English) title: the document's own ``title`` (a certificate's is its profile's name for it)."""
    own = document.get("title")
    if isinstance(own, str) and own:
        return own, ENGLISH_TITLES.get(own, TITLES.get(document["schema"], "").partition("  ")[2])
    chinese, _, english = TITLES.get(document["schema"], document["schema"]).partition("  ")
    return chinese, english


class Pages:
    """Lays text out top-down over as many A4 pages as it needs; ``finish`` numbers the pages."""

    def __init__(self, pdf: canvas.Canvas, font: str, total: int) -> None:
        self.pdf, self.font, self.total = pdf, font, total
        self.page, self.y, self.bottom = 1, PAGE_HEIGHT - 60, BODY_BOTTOM
        self.running_head = ""

    def new_page(self) -> None:
        self._number()
        self.pdf.showPage()
        self.page += 1
        self.y = PAGE_HEIGHT - 50
        if self.running_head:
            self.text(LEFT, self.y, self.running_head, 8, grey=0.45)
            self.y -= 22

    def _number(self) -> None:
        label = f"第 {self.page} 页 / 共 {self.total} 页   Page {self.page} of {self.total}" if self.total else ""
        self.text((PAGE_WIDTH - pdfmetrics.stringWidth(label, self.font, 8)) / 2, 22, label, 8, grey=0.45)

    def text(self, x: float, y: float, line: str, size: float, grey: float = 0.0, bold: bool = False) -> None:
        text = self.pdf.beginText(x, y)
        text.setFont(self.font, size)
        if bold:  # one embedded font: a thin outline makes it bold
            self.pdf.setStrokeColorRGB(grey, grey, grey)
            self.pdf.setLineWidth(size / 30)
            text.setTextRenderMode(2)
        self.pdf.setFillColorRGB(grey, grey, grey)
        text.textLine(line)
        text.setTextRenderMode(0)  # the mode outlives the text object: back to plain fill
        self.pdf.drawText(text)

    def room(self, height: float) -> None:
        if self.y - height < self.bottom:
            self.new_page()

    def title(self, chinese: str, english: str, prefix: str = "") -> None:
        for line in wrap_text(f"{prefix}{chinese}", self.font, 18, RIGHT - LEFT):
            width = pdfmetrics.stringWidth(line, self.font, 18)
            self.text((PAGE_WIDTH - width) / 2, self.y, line, 18, bold=True)
            self.y -= 24
        for line in wrap_text(english, self.font, 11, RIGHT - LEFT):
            width = pdfmetrics.stringWidth(line, self.font, 11)
            self.text((PAGE_WIDTH - width) / 2, self.y, line, 11, grey=0.3)
            self.y -= 15
        self.y -= 14

    def rows(self, rows: list[Row], value_x: float = VALUE_X, size: float | None = None) -> None:
        """Label / value rows; values in 10.5 pt, or 8.5 pt when they hold a hash or an address (a 32-byte hash
        fits on one line) — or all in ``size`` points (a report's dense rows), lines spaced to match."""
        label_width = value_x - LEFT - 8
        for label, value in rows:
            labels = wrap_text(label, self.font, 9, label_width)
            point = size or (8.5 if HEX_VALUE.search(value) else 10.5)
            step = 14.5 if size is None else round(size * 1.38, 2)
            lines = wrap_text(value, self.font, point, RIGHT - value_x)
            self.room(step * max(len(lines), len(labels)))
            top = self.y
            for i, part in enumerate(labels):
                self.text(LEFT, top - 11.5 * i, part, 9, grey=0.35)
            for line in lines:
                self.text(value_x, self.y, line, point)
                self.y -= step
            self.y = min(self.y, top - 11.5 * len(labels)) - 3.5

    def heading(self, line: str, size: float = 12.5) -> None:
        self.room(size + 24)
        self.y -= 4
        self.pdf.setFillColorRGB(0.92, 0.93, 0.96)
        self.pdf.rect(LEFT - 4, self.y - 5, RIGHT - LEFT + 8, size + 8, stroke=0, fill=1)
        self.text(LEFT, self.y, line, size, bold=True)
        self.y -= size + 12

    def notes(self, notes: list[str]) -> None:
        if not notes:
            return
        self.room(30)
        self.y -= 6
        self.pdf.setStrokeColorRGB(0.6, 0.6, 0.6)
        self.pdf.setLineWidth(0.5)
        self.pdf.line(LEFT, self.y + 8, LEFT + 150, self.y + 8)
        self.text(LEFT, self.y - 4, "注 Notes", 8.5, grey=0.35)
        self.y -= 16
        for i, note in enumerate(notes, 1):
            lines = wrap_text(note, self.font, 8.5, RIGHT - LEFT - 22)
            self.room(11 * len(lines))
            self.text(LEFT, self.y, f"[{i}]", 8.5, grey=0.35)
            for line in lines:
                self.text(LEFT + 22, self.y, line, 8.5, grey=0.2)
                self.y -= 11

    def finish(self) -> int:
        self._number()
        self.pdf.showPage()
        return self.page


def _annexes(document: dict[str, Any], bundle: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """The annexes the bundle's sealed presentation part carries for a certificate, each validated by its schema
    and checked to belong to this certificate (TJIFA §8.2.2 rights page; §7.3.1 evidence report)."""
    annexes = ((bundle or {}).get("presentation") or {}).get("annexes")
    if not annexes:
        return []
    if not isinstance(annexes, dict) or document["schema"] not in CERTIFICATE_SCHEMAS:
        raise LedgerValueError("presentation.annexes: only a certificate has annexes, given as a JSON object")
    unknown = sorted(set(annexes) - set(ANNEX_ORDER))
    if unknown:
        raise LedgerValueError(f"presentation.annexes: unknown annex {unknown[0]!r} (known: {', '.join(ANNEX_ORDER)})")
    result = []
    for name, schema in ANNEX_ORDER.items():
        if name not in annexes:
            continue
        annex = annexes[name]
        try:
            validate_document(annex)
        except LedgerValueError as exc:
            raise LedgerValueError(f"presentation.annexes.{name}: {exc.user_message}") from None
        if annex["schema"] != schema:
            raise LedgerValueError(f"presentation.annexes.{name}: a {annex['schema']} document, not {schema}")
        if name == "rights_page" and annex["registration_number"] != document["registration_number"]:
            raise LedgerValueError(f"presentation.annexes.rights_page: the rights page of "
                                   f"{annex['registration_number']}, not of {document['registration_number']}")
        if name == "evidence_report":
            linked = (document.get("annexes") or {}).get("evidence_report")
            if linked != to_hex(digest_bytes(canonical_json(annex))):
                raise LedgerValueError("presentation.annexes.evidence_report: not the evidence report the "
                                       f"certificate links ({linked})")
        result.append((name, annex))
    return result


def _rights_entries(pages: Pages, page: dict[str, Any]) -> None:
    """The other-rights page's entries (TJIFA §8.2.2), each headed by its entry id, released ones kept."""
    pages.rows([("登记号 Registration no.", page["registration_number"]), ("截至 As of", page["as_of"])])
    if not page["entries"]:
        pages.rows([("他项权益 Entries", "无 none")])
    for entry in page["entries"]:
        pages.room(6 * 17 + 36)
        pages.heading(f"权益编号 Entry No. {entry['entry_id']}    {ENTRY_KINDS[entry['kind']]}    "
                      f"{ENTRY_STATUS[entry['status']]}")
        pages.rows([
            ("权益类型 Kind", ENTRY_KINDS[entry["kind"]]),
            ("相对方 Counterparty", entry["counterparty"]),
            ("涉及权利 Rights", "、".join(entry["rights"])),
            ("有效期至 Valid until", entry["valid_until"] or "未约定 not set"),
            ("状态 Status", ENTRY_STATUS[entry["status"]]),
            ("合同哈希 Contract SHA-256", entry["contract_hash"]),
        ])
        pages.y -= 6


def _paint(pdf: canvas.Canvas, font: str, document: dict[str, Any], annexes: list[tuple[str, dict[str, Any]]],
           footer: Callable[[Pages], None], total: int, times: list[Row] | None = None) -> int:
    """Draws every page; returns how many there are (the first pass counts them for "page i of n")."""
    pages = Pages(pdf, font, total)
    chinese, english = _titles(document)
    pages.title(chinese, english)
    schema = document["schema"]
    if schema in (CERTIFICATE_SCHEMA, CERTIFICATE_SCHEMA_V3):
        pages.rows(_certificate_rows(document, {name for name, _ in annexes}))
        if annexes:
            names = "、".join(_titles(annex)[0] for _, annex in annexes)
            pages.rows([("附件 Annexes", f"{names}（见后页 on the following pages）")])
        pages.rows(times or [])
        pages.notes(document.get("notes", []))
    elif schema == ANNEX_ORDER["rights_page"]:  # each entry headed by its id, as when annexed
        _rights_entries(pages, document)
        pages.rows(times or [])
    else:
        pages.rows(_objection_rows(document) if schema == OBJECTION_PROOF_SCHEMA else _rows(document))
        pages.rows(times or [])
    footer(pages)
    if annexes:
        pages.running_head = f"{chinese} {document.get('serial', document['registration_number'])} 附件 Annex"
        pages.bottom = ANNEX_BOTTOM
    for i, (name, annex) in enumerate(annexes, 1):
        pages.new_page()
        annex_chinese, annex_english = _titles(annex)
        pages.title(annex_chinese, annex_english, prefix=f"附件{i}  ")
        if name == "rights_page":
            _rights_entries(pages, annex)
        else:
            pages.rows(_rows(annex))
        pages.room(30)
        pages.text(LEFT, pages.y - 8, f"附件哈希 Annex SHA-256: {to_hex(digest_bytes(canonical_json(annex)))}", 8,
                   grey=0.35)
        pages.y -= 20
    return pages.finish()


def render_pdf(document: dict[str, Any], bundle: dict[str, Any] | None = None, base_url: str | None = None) -> bytes:
    """The PDF of ``document`` (validated first), with the document and the bundle attached. The verify link
    comes from the bundle's sealed presentation part (so it is bound too), else from ``base_url``; so do a
    certificate's annexes (``presentation["annexes"]``: ``rights_page`` and ``evidence_report`` documents),
    printed on their own pages after it."""
    if bundle is not None:
        base_url = str((bundle.get("presentation") or {}).get("verify_base_url", base_url or ""))
    base_url = base_url or "http://127.0.0.1:8000"
    validate_document(document)
    annexes = _annexes(document, bundle)
    body = canonical_json(document)
    doc_hash = digest_bytes(body)
    font = register_font()
    url = verify_url(base_url, doc_hash)
    presentation = (bundle or {}).get("presentation") or {}
    trust_url, trust_sha = presentation.get("trust_list_url"), presentation.get("trust_list_sha256")
    lines = ["文件哈希 Document SHA-256:", to_hex(doc_hash), "在线核验 Verify online:",
             *wrap_text(url, font, 7.5, PAGE_WIDTH - 210),
             "离线核验 Verify offline: ledger proof verify <this PDF> --trust <trust list>"]
    if trust_url and trust_sha:  # the trust roots come from the platform, never from the PDF itself
        lines += [f"信任列表 Trust list: {trust_url}", f"  SHA-256 {trust_sha}"]
    lines.append("(document.json and bundle.json are attached: the PDF and the trust list are enough)")
    times = _time_rows(bundle)

    def footer(pages: Pages) -> None:
        _draw_qr(pages.pdf, url, PAGE_WIDTH - 145, 38, 95)
        for i, line in enumerate(lines):
            pages.text(LEFT, 132 - 9.5 * i, line, 7.5)

    chinese, english = _titles(document)
    total = 0
    for _ in range(2):  # the first pass counts the pages
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        pdf.setTitle(f"{chinese}  {english}".strip())
        pdf.setAuthor(str(document.get("registry", document.get("provider", ""))))
        pdf.setCreator(CREATOR)
        total = _paint(pdf, font, document, annexes, footer, total, times)
        pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_attachment("document.json", body)
    if bundle is not None:
        writer.add_attachment("bundle.json", canonical_json(bundle))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _time_rows(bundle: dict[str, Any] | None) -> list[Row]:
    """The trusted time the bundle's RFC 3161 tokens state (issue #13), as a row after the document's fields —
    only for bundles that carry tokens, so PDFs without any render as before. The page says what the tokens
    state; the verifier checks them (with the TSA's root, ``--tsa-root``)."""
    entries = (bundle or {}).get("trusted_time") or []
    lines, tsa = [], ""
    for entry in entries if isinstance(entries, list) else []:
        try:
            info = token_info(parse_token(decode_token(entry["token"])))
        except (LedgerValueError, KeyError, TypeError):
            raise LedgerValueError("bundle.trusted_time holds a token that is not an RFC 3161 response") from None
        over = (f"区块 {entry.get('block_number')} 检查点 checkpoint of block {entry.get('block_number')}"
                if entry.get("subject") == "checkpoint" else "本文件哈希 this document's hash")
        lines.append(f"{over}: {info.when()}")
        tsa = info.tsa
    if not lines:
        return []
    lines += [f"时间戳服务机构 TSA: {tsa}", "核验 verify: ledger proof verify … --tsa-root <TSA root>"]
    return [("可信时间 Trusted time (RFC 3161)", "\n".join(lines))]


def _chars(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def render_pdf_layout_1(document: dict[str, Any], bundle: dict[str, Any] | None = None,
                        base_url: str | None = None) -> bytes:
    """The layout PDFs had before issue #9 (one title line, fixed-width wrapping), byte for byte: only so that
    files exported then still verify. New PDFs use :func:`render_pdf`."""
    if document.get("schema") not in LAYOUT_1_SCHEMAS:
        raise LedgerValueError(f"layout 1 predates {document.get('schema')!r} documents")
    if bundle is not None:
        base_url = str((bundle.get("presentation") or {}).get("verify_base_url", base_url or ""))
    base_url = base_url or "http://127.0.0.1:8000"
    validate_document(document)
    body = canonical_json(document)
    doc_hash = digest_bytes(body)
    font = register_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(TITLES.get(document["schema"], document["schema"]))
    pdf.setAuthor(str(document.get("registry", document.get("provider", ""))))
    pdf.setCreator(CREATOR_LAYOUT_1)
    width, height = A4
    pdf.setFont(font, 17)
    pdf.drawCentredString(width / 2, height - 60, TITLES.get(document["schema"], document["schema"]))
    y = height - 100
    for label, value in _rows_layout_1(document):
        lines = _chars(value, LAYOUT_1_VALUE_CHARS)
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
    footer = ["文件哈希 Document SHA-256:", to_hex(doc_hash), "在线核验 Verify online:", *_chars(url, 70),
              "离线核验 Verify offline: ledger proof verify <this PDF> --trust <trust list>"]
    if trust_url and trust_sha:
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


def _renderer(pdf_bytes: bytes) -> Callable[[dict[str, Any], dict[str, Any] | None], bytes]:
    """The renderer of the layout the PDF's Creator names (layout 1 for files exported before issue #9)."""
    try:
        metadata = PdfReader(io.BytesIO(pdf_bytes)).metadata
        creator = metadata.get("/Creator") if metadata is not None else None
    except Exception:  # a damaged file: the current layout, which will not match it
        creator = None
    return render_pdf_layout_1 if creator == CREATOR_LAYOUT_1 else render_pdf


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
               rpc_url: str | None = None, tsa_roots: Sequence[Certificate] | None = None) -> list[Check]:
    """Checks a document PDF offline: its attachments, the document's schema and hash, the court bundle (for a
    certificate: the registry state of its unit too; with ``tsa_roots``: its RFC 3161 tokens), and that the PDF
    is exactly what its attachments render to (so no byte of it was changed)."""
    return inspect_pdf(pdf_bytes, trust, threshold, rpc_url, tsa_roots).checks


def inspect_pdf(pdf_bytes: bytes, trust: TrustRoots | None = None, threshold: int | None = None,
                rpc_url: str | None = None, tsa_roots: Sequence[Certificate] | None = None) -> BundleVerification:
    """:func:`verify_pdf`, with what the bundle's checks found (unit view, tokens, attested blocks)."""
    found = BundleVerification()
    checks = found.checks
    try:
        document, bundle = embedded(pdf_bytes)
    except (LedgerValueError, ValueError) as exc:
        checks.append(Check("PDF attachments", False, getattr(exc, "user_message", str(exc))))
        return found
    checks.append(Check("PDF attachments", bundle is not None,
                        "document.json and bundle.json found" if bundle else "no bundle.json: nothing proves it"))
    if bundle is None:
        return found
    try:
        validate_document(document)
    except LedgerValueError as exc:
        checks.append(Check("document schema", False, exc.user_message))
        return found
    checks.append(Check("document schema", True, f"{document['schema']} document is valid"))
    doc_hash = digest_bytes(canonical_json(document))
    claimed = str((bundle.get("subject") or {}).get("digest", ""))
    if not _same(claimed, to_hex(doc_hash)) or (bundle.get("subject") or {}).get("hash_algorithm") != "sha256":
        checks.append(Check("document hash", False, f"the document hashes to {to_hex(doc_hash)}, the bundle "
                                                    f"proves {claimed}"))
        return found
    unit = unit_id(document["registration_number"]) if document["schema"] in CERTIFICATE_SCHEMAS else None
    inner = inspect_bundle(bundle, None, trust, threshold, rpc_url, certificate_unit=unit, tsa_roots=tsa_roots)
    found.unit, found.times, found.attested = inner.unit, inner.times, inner.attested
    checks.extend(c if c.name != "document hash" else Check("document hash", True, f"SHA-256 of the canonical "
                  f"document = {to_hex(doc_hash)}, the digest the bundle proves") for c in inner.checks)
    if all(c.ok or c.level != "error" for c in checks):
        try:
            same = _renderer(pdf_bytes)(document, bundle) == pdf_bytes
        except (LedgerValueError, ConfigurationError) as exc:
            checks.append(Check("PDF integrity", False, getattr(exc, "user_message", str(exc))))
            return found
        checks.append(Check("PDF integrity", same, "the file is exactly the rendering of its attachments" if same
                            else "the file differs from the rendering of its attachments: it was altered"))
    return found


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()
