"""Verification report (核验报告) for a judge: what was checked, in plain words, with its result — as a PDF and as
canonical JSON, Chinese first, reproducible byte for byte from the same inputs (issue #13).

``make_report`` runs the offline verifier on a bundle or a document PDF (with the trust roots, TSA roots and
original file the reader gives) and writes down:

- the conclusion (verdict) and the subject (digest, document, registration number);
- every check in plain words, with its result and the verifier's detail;
- the authorities whose signatures attest the proven blocks, and their kinds (notary, arbitration, time
  service …; TJIFA §7.1.4), the RFC 3161 time-stamping authority, and the trusted time;
- the registry state proven for a certificate (status, right holders, pledges, licences, objections);
- the hashing and signature algorithms, the verifier's version and its own hash (SHA-256 of the source of the
  modules it runs, with the versions of the libraries it relies on);
- how the checks bear on the review factors of the 人民法院在线诉讼规则 (Online Litigation Rules, 2021) art. 16
  (on-chain data presumed unaltered once technically verified) and art. 17 (platform qualification and
  neutrality, information-system and process standards) — saying what the report shows and what it cannot.

Reproducible: the report holds no clock reading, no path beyond file names, nothing random; the JSON is RFC 8785
canonical; the PDF uses reportlab's invariant mode (fixed dates and document id), like the certificate PDF
(``ledger.pdf``), embeds WenQuanYi Micro Hei, and attaches ``report.json``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import io
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ledger import __version__
from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, digest_file, to_hex
from ledger.pdf import ANNEX_BOTTOM, Pages, embedded, inspect_pdf, register_font
from ledger.proofs.state import LAYOUT_ID
from ledger.proofs.timestamps import fingerprint, load_tsa_roots
from ledger.proofs.trust import TrustRoots, load_trust
from ledger.proofs.verify import BundleVerification, Check, Verdict, headline, inspect_bundle, read_bundle

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

REPORT_FORMAT = "ledger.verification-report/1"
CREATOR = "data-asset-ledger verification report (layout 1)"
#: The modules whose source is the verifier (their module-level ``ledger`` imports are followed).
VERIFIER_ROOTS = ("ledger.proofs.verify", "ledger.pdf", "ledger.proofs.report")
LIBRARIES = ("cryptography", "rfc3161-client", "trie", "rlp", "eth-keys", "eth-hash", "pypdf", "reportlab",
             "pydantic", "gmssl")

#: check name -> (Chinese name, what it establishes in Chinese, in English)
CHECK_WORDS: dict[str, tuple[str, str, str]] = {
    "bundle format": ("核验包格式", "核验包采用本核验程序可识别的格式。",
                      "The bundle is in a format this verifier reads."),
    "PDF attachments": ("PDF 附件", "PDF 文件附有文档（document.json）与核验包（bundle.json）。",
                        "The PDF carries its document and its bundle."),
    "document schema": ("文档格式", "所附文档符合其版本化的文档格式。",
                        "The attached document is valid for its schema."),
    "document hash": ("文件哈希", "原始文件（或证书文档）的哈希值与核验包所证明的哈希值一致。",
                      "The file's (or the certificate document's) hash is the hash the bundle proves."),
    "Merkle path": ("默克尔路径", "该哈希经默克尔路径归入链上锚定的批次根（单独锚定时无需此路径）。",
                    "The hash folds into the batch root anchored on chain (none needed when anchored alone)."),
    "header chain": ("区块头链", "区块头按父哈希逐一相连，从锚定区块直至经签名的区块。",
                     "Block headers link by parent hash from the anchoring block to the signed block."),
    "receipt in trie": ("交易回执", "锚定交易的回执包含在锚定区块的回执树中。",
                        "The anchoring transaction's receipt is in the block's receipts trie."),
    "event": ("存证事件", "存证合约为该哈希发出了上链存证事件，交易执行成功。",
              "The evidence contract emitted the anchoring event for the hash; the transaction succeeded."),
    "authority signatures": ("权威节点签名", "受信任的权威节点（公证、仲裁、授时等）对该区块签名，且达到规定门限。",
                             "Trusted authority nodes (notary, arbitration, time service …) signed the block, as "
                             "many as the threshold requires."),
    "chain identity": ("链与合约身份", "核验包所述的区块链与登记、存证合约正是平台信任列表所列者。",
                       "The chain and the registry contracts are those the platform's trust list names."),
    "state block": ("状态区块", "证明登记状态所依据的区块经权威节点签名。",
                    "The block the registry state is proven at is signed by the authorities."),
    "state proof": ("状态证明", "登记合约账户及该登记单元的存储项经默克尔—帕特里夏树证明属于该区块的状态根。",
                    "The registry contract's account and the unit's storage slots are proven under the block's "
                    "state root."),
    "rights page": ("他项权益", "该登记单元全部有效的质押、许可登记均已列明并经证明，无遗漏。",
                    "Every active pledge and licence of the unit is listed and proven; none is left out."),
    "objections": ("异议登记", "该登记单元全部未结的异议登记均已列明并经证明，无遗漏。",
                   "Every open objection registration of the unit is listed and proven; none is left out."),
    "registry status": ("登记状态", "证书为该登记单元现行有效的证书（未被取代、注销、撤销、中止或过期），并注明异议。",
                        "The certificate is the unit's current, valid one (not superseded, cancelled, revoked, "
                        "suspended or expired); objections are flagged."),
    "trusted time": ("可信时间", "RFC 3161 可信时间戳覆盖本核验包的检查点或文件哈希，由受信任的时间戳服务机构签发。",
                     "An RFC 3161 token covers the bundle's checkpoint or the file's hash and was issued by a trusted "
                     "time-stamping authority."),
    "bundle seal": ("核验包封印", "锚定该哈希的存证服务商对整个核验包签名：导出后核验包未被改动。",
                    "The evidence provider that anchored the hash signed the whole bundle: nothing changed since."),
    "PDF integrity": ("PDF 完整性", "PDF 文件与由其附件重新生成的文件逐字节一致：文件未被改动。",
                      "The PDF is byte for byte the rendering of its attachments: it was not altered."),
    "live node": ("在线节点", "在线节点仍持有该锚定区块（可选的在线交叉核对）。",
                  "A live node still has the anchoring block (optional online cross-check)."),
    "current status (live)": ("当前状态（在线）", "在线读取的登记单元当前状态（可选）。",
                              "The unit's current status read from a live node (optional)."),
}
RESULT_WORDS = {"pass": "通过 PASS", "error": "未通过 FAIL", "trust": "未认证 NOT AUTHENTICATED",
                "invalid": "证书无效 NOT VALID", "warning": "警示 WARNING", "unverified": "未核验 UNVERIFIED"}
VERDICT_WORDS = {
    Verdict.VERIFIED: ("核验通过", "VERIFIED"),
    Verdict.VERIFIED_WITH_WARNING: ("核验通过（附警示）", "VERIFIED WITH WARNING"),
    Verdict.NOT_VALID: ("证书无效", "NOT VALID"),
    Verdict.INTEGRITY_ONLY: ("仅完整性校验，未认证", "INTEGRITY ONLY — NOT AUTHENTICATED"),
    Verdict.FAILED: ("核验未通过", "NOT VERIFIED"),
}
KIND_WORDS = {"notary": "公证机构 notary", "law_firm": "律师事务所 law firm", "arbitration": "仲裁机构 arbitration",
              "judicial_appraisal": "司法鉴定机构 judicial appraisal", "time_service": "授时机构 time service",
              "audit": "审计机构 audit", "identity_authority": "数字身份认证机构 identity authority",
              "validator": "共识验证节点 validator", "court": "法院 court",
              "tsa": "时间戳服务机构 time-stamping authority (RFC 3161)"}
ROLE_WORDS = {"anchor": "锚定区块所在链段 anchoring blocks", "state": "登记状态区块 registry-state block"}
HASH_WORDS = {"sha256": "SHA-256", "keccak256": "Keccak-256", "sm3": "SM3 (GB/T 32905-2016)"}
TECHNICAL_CHECKS = ("document hash", "Merkle path", "header chain", "receipt in trie", "event", "authority signatures",
                    "chain identity", "state block", "state proof", "rights page", "objections", "bundle seal",
                    "PDF attachments", "document schema", "PDF integrity", "bundle format")


def _result(check: Check) -> str:
    return "pass" if check.ok else check.level


# --- the verifier's identity -------------------------------------------------------------------------------------


def _module_imports(path: Path, package: str) -> list[str]:
    """The ``ledger`` modules ``path`` imports at module level (what runs when it is imported; imports inside
    functions — the optional ``--rpc`` client — and type-only imports are not part of the verifier)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            found.append(f"{base}.{node.module}" if node.module else base)
    return [name for name in found if name == "ledger" or name.startswith("ledger.")]


def _source(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def verifier_identity() -> dict[str, Any]:
    """The verifier's version and its own hash: SHA-256 of every ``ledger`` module it runs (the import closure
    of the verifier, the PDF check and this report), each file hashed and the list hashed canonically."""
    seen: dict[str, Path] = {}
    todo = list(VERIFIER_ROOTS)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _source(name)
        if path is None:
            continue
        seen[name] = path
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo += _module_imports(path, package)
        parent = name.rpartition(".")[0]
        if parent:
            todo.append(parent)  # a package's __init__ runs first
    modules = [{"module": name, "sha256": to_hex(digest_bytes(seen[name].read_bytes()))} for name in sorted(seen)]
    libraries = {}
    for library in LIBRARIES:
        try:
            libraries[library] = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            libraries[library] = "absent"
    return {"name": "data-asset-ledger offline verifier", "version": __version__,
            "sha256": to_hex(digest_bytes(canonical_json(modules))), "modules": modules,
            "python": platform.python_version(), "libraries": libraries, "state_layout": LAYOUT_ID}


# --- the report --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A verification report: its content (JSON), the PDF and the verdict."""

    content: dict[str, Any]
    json: bytes
    pdf: bytes
    verdict: Verdict


def _algorithms(bundle: dict[str, Any], document: dict[str, Any] | None,
                found: BundleVerification) -> list[dict[str, str]]:
    subject = bundle.get("subject") or {}
    kind = (bundle.get("authority") or {}).get("kind")
    label = str(subject.get("hash_algorithm", "?"))
    rows = [{"zh": "文件哈希", "en": "document hash", "algorithm": HASH_WORDS.get(label, label)}]
    if document is not None:
        rows.append({"zh": "证书/文档哈希", "en": "document JSON hash",
                     "algorithm": "SHA-256 of RFC 8785 canonical JSON (document.json)"})
    if bundle.get("merkle"):
        rows.append({"zh": "默克尔树", "en": "Merkle tree",
                     "algorithm": "Keccak-256, leaves double-hashed with the algorithm id, sorted pairs "
                                  "(OpenZeppelin MerkleProof)"})
    rows.append({"zh": "区块、回执与状态", "en": "blocks, receipts, state",
                 "algorithm": "Keccak-256, RLP, Merkle-Patricia tries (Ethereum)"})
    rows.append({"zh": "权威节点签名", "en": "authority signatures",
                 "algorithm": "QBFT committed seals: ECDSA secp256k1" if kind == "qbft" else
                 "ECDSA secp256k1 over EIP-191 text (checkpoint), canonical: low s, v 27/28"})
    rows.append({"zh": "核验包封印", "en": "bundle seal",
                 "algorithm": "ECDSA secp256k1 over EIP-191 text naming the bundle's SHA-256 (RFC 8785 JSON)"})
    for token in found.times:
        if token.info is not None:
            imprint = HASH_WORDS.get(token.info.hash_algorithm, token.info.hash_algorithm)
            rows.append({"zh": "可信时间戳", "en": "time-stamp token",
                         "algorithm": f"RFC 3161, imprint {imprint}, CMS signature {token.info.signature_algorithm}"})
            break
    return rows


def _authorities(found: BundleVerification, trust: TrustRoots | None) -> list[dict[str, Any]]:
    kinds: dict[str, tuple[str, str]] = {}
    if trust is not None and trust.trust_list is not None:
        kinds = {a.address.lower(): (a.name, a.kind) for a in trust.trust_list.authorities}
    rows: dict[tuple[int | None, str], dict[str, Any]] = {}  # one row per (block, signer), its roles joined
    for attested in found.attested:
        role = ROLE_WORDS[attested.role]
        signers = attested.attestation.signers or ("QBFT validators",)  # QBFT seals name no signer here
        for signer in signers:
            if signer == "QBFT validators":
                name, kind, trusted = "共识验证节点 QBFT validators", "validator", attested.attestation.authenticated
            else:
                name, kind = kinds.get(signer.lower(), (trust.name(signer) if trust else signer, ""))
                trusted = trust is not None and signer.lower() in trust.authorities
            row = rows.setdefault((attested.block_number, signer), {
                "block": attested.block_number, "roles": [], "signer": signer, "name": name, "kind": kind,
                "kind_words": KIND_WORDS.get(kind, kind or "未由信任列表说明 not named by a trust list"),
                "trusted": trusted})
            if role not in row["roles"]:
                row["roles"].append(role)
    for token in found.times:
        if token.info is not None:
            over = "检查点 checkpoint" if token.subject == "checkpoint" else "文件哈希 digest"
            rows[(token.block_number, f"{token.subject}:{token.info.serial_number}")] = {
                "block": token.block_number, "roles": [f"可信时间戳 time-stamp token ({over})"],
                "signer": f"issued by {token.info.issuer}", "name": token.info.tsa, "kind": "tsa",
                "kind_words": KIND_WORDS["tsa"], "trusted": token.status == "verified"}
    return list(rows.values())


def _legal(checks: list[Check], found: BundleVerification, trust: TrustRoots | None,
           authorities: list[dict[str, Any]], algorithms: list[dict[str, str]]) -> list[dict[str, Any]]:
    """How the checks bear on the Online Litigation Rules art. 16–17 (人民法院在线诉讼规则, 2021)."""
    by_name = {c.name: c for c in checks}
    technical = [c for c in checks if c.name in TECHNICAL_CHECKS]
    failed = [c.name for c in technical if not c.ok]
    listed = trust.trust_list if trust is not None else None
    identity_ok = "chain identity" in by_name and by_name["chain identity"].ok
    identity = "一致 consistent" if identity_ok else "未确认 not confirmed"
    trusted = sorted({f"{a['name']}（{a['kind_words']}）" for a in authorities if a["trusted"] and a["kind"] != "tsa"})
    times = found.times
    time_words = ("；".join(f"{t.info.tsa}：{'已核验 verified' if t.status == 'verified' else '未核验 NOT verified'}"
                            for t in times if t.info) or "核验包未附可信时间戳 no RFC 3161 token")
    return [
        {"article": "第十六条 Art. 16",
         "factor": "电子数据系通过区块链技术存储，并经技术核验一致的，可以认定该电子数据上链后未经篡改，"
                   "但有相反证据足以推翻的除外。",
         "factor_en": "Data stored by blockchain that passes technical verification may be found unaltered since it "
                      "went on chain, unless evidence to the contrary suffices to overturn that.",
         "checks": list(dict.fromkeys(c.name for c in technical)),
         "finding": ("技术核验一致：上列各项均通过。 Technically consistent: every listed check passed."
                     if not failed and technical else
                     f"技术核验不一致：未通过 {', '.join(failed)}。 Not consistent: {', '.join(failed)} failed.")
         + ("" if trust is not None else " 未提供信任根：只能说明内部一致，不能说明由谁作出。 No trust roots were "
                                         "given: the bundle is consistent, but nothing shows who made it.")},
        {"article": "第十七条第（一）项 Art. 17(1)",
         "factor": "存证平台是否符合国家有关部门关于提供区块链存证服务的相关规定。",
         "factor_en": "Whether the evidence platform complies with the state's rules for blockchain evidence services.",
         "checks": [n for n in ("chain identity", "authority signatures") if n in by_name],
         "finding": ("本程序不能判断平台资质，须由法院审查。 The report cannot judge the platform's qualification; "
                     "the court reviews it. "
                     + (f"核验依据的信任列表由平台“{listed.platform}”发布（链 {listed.chain_id}），"
                        f"与核验包所述链和合约：{identity}；信任根来自核验人，而非被核验文件。 The trust list "
                        "used is the one the platform publishes; trust roots come from the verifier, never from "
                        "the file checked." if listed else "未提供平台信任列表。 No platform trust list was given."))},
        {"article": "第十七条第（二）项 Art. 17(2)",
         "factor": "当事人与存证平台是否存在利害关系，并利用技术手段不当干预取证、存证过程。",
         "factor_en": "Whether a party has an interest in the platform and improperly interfered, by technical means, "
                      "with collecting or preserving the evidence.",
         "checks": [n for n in ("authority signatures", "state block", "trusted time", "bundle seal") if n in by_name],
         "finding": (f"区块由以下受信任的外部节点签名：{'、'.join(trusted) if trusted else '无 none'}；"
                     f"可信时间：{time_words}。利害关系须由法院审查。 The blocks are signed by the trusted nodes "
                     "listed; whether a party has an interest in the platform is for the court to review.")},
        {"article": "第十七条第（三）项 Art. 17(3)",
         "factor": "存证平台的信息系统是否符合清洁性、安全性、可靠性、可用性的国家标准或者行业标准。",
         "factor_en": "Whether the platform's information system meets national or industry standards of cleanliness, "
                      "security, reliability and availability.",
         "checks": [],
         "finding": "超出本程序的核验范围：须由平台提供等级保护测评、安全评估等材料。 Outside what this "
                    "verifier can check: the platform must show its classified-protection (等保) assessment and "
                    "security evaluations."},
        {"article": "第十七条第（四）项 Art. 17(4)",
         "factor": "存证技术和过程是否符合相关国家标准或者行业标准中关于系统环境、技术安全、加密方式、"
                   "数据传输、信息验证等方面的要求。",
         "factor_en": "Whether the evidence technology and process meet the standards on system environment, technical "
                      "security, encryption, data transmission and information verification.",
         "checks": list(dict.fromkeys(c.name for c in checks
                                      if c.name in TECHNICAL_CHECKS or c.name == "trusted time")),
         "finding": ("加密方式："
                     + "；".join(f"{a['zh']} {a['algorithm']}" for a in algorithms)
                     + "。信息验证：任何人可用公开算法离线复核（核验程序版本及其哈希见上）。 Information "
                       "verification: anyone can re-run these checks offline with public algorithms (the verifier's "
                       "version and hash are given). 系统环境、数据传输须另行审查。 System environment and "
                       "transmission need separate review.")},
    ]


def _subject(bundle: dict[str, Any], document: dict[str, Any] | None) -> dict[str, Any]:
    subject = bundle.get("subject") or {}
    out: dict[str, Any] = {"digest": subject.get("digest"), "hash_algorithm": subject.get("hash_algorithm"),
                           "original_name": subject.get("original_name"),
                           "anchored_block": (bundle.get("anchor") or {}).get("block_number"),
                           "anchored_tx": (bundle.get("anchor") or {}).get("tx_hash"),
                           "evidence_provider": (bundle.get("anchor") or {}).get("submitter")}
    if document is not None:
        out["document"] = {"schema": document.get("schema"), "title": document.get("title"),
                           "registration_number": document.get("registration_number"),
                           "certificate_version": document.get("certificate_version")}
    return out


def make_report(source: Path, *, original: Path | None = None, trust_spec: str | None = None,
                threshold: int | None = None, tsa_root: Path | None = None) -> Report:
    """Verifies ``source`` (a bundle or a document PDF) offline and writes the report of what was found."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise LedgerValueError(f"cannot read {source}: {exc.strerror}") from exc
    trust = load_trust(trust_spec) if trust_spec else None
    roots: list[Certificate] = load_tsa_roots(tsa_root) if tsa_root else []
    document: dict[str, Any] | None = None
    if data.startswith(b"%PDF"):
        found = inspect_pdf(data, trust, threshold, None, roots or None)
        try:
            document, bundle_or_none = embedded(data)
        except LedgerValueError:
            bundle_or_none = None
        bundle = bundle_or_none or {}
        kind = "pdf"
    else:
        bundle = read_bundle(source)
        found = inspect_bundle(bundle, original, trust, threshold, None, tsa_roots=roots or None)
        kind = "bundle"
    checks = found.checks
    result = found.verdict
    zh, en = VERDICT_WORDS[result]
    trust_input: dict[str, Any] | None = None
    if trust is not None and trust_spec is not None:
        spec_path = Path(trust_spec)
        trust_input = {"file": spec_path.name if spec_path.is_file() else None,
                       "sha256": to_hex(digest_file(spec_path, HashAlgorithm.SHA256)) if spec_path.is_file() else None,
                       "platform": trust.trust_list.platform if trust.trust_list else None,
                       "trust_list_fingerprint": trust.trust_list.fingerprint() if trust.trust_list else None,
                       "authorities": sorted(trust.authorities), "threshold": threshold or trust.threshold}
    algorithms = _algorithms(bundle, document, found)
    authorities = _authorities(found, trust)
    content: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "title": {"zh": "电子数据核验报告", "en": "Verification report of electronic data"},
        "verdict": {"code": result.value, "zh": zh, "en": en, "exit_code": result.exit_code,
                    "headline": headline(checks)},
        "input": {"kind": kind, "file": source.name, "sha256": to_hex(digest_bytes(data)),
                  "original_file": None if original is None else {
                      "file": original.name, "sha256": to_hex(digest_file(original, HashAlgorithm.SHA256))},
                  "trust": trust_input,
                  "tsa_roots": [{"subject": r.subject.rfc4514_string(), "sha256": fingerprint(r)} for r in roots]},
        "subject": _subject(bundle, document),
        "checks": [{"name": c.name, "zh": CHECK_WORDS.get(c.name, (c.name, "", ""))[0],
                    "meaning_zh": CHECK_WORDS.get(c.name, ("", "", ""))[1],
                    "meaning_en": CHECK_WORDS.get(c.name, ("", "", ""))[2], "result": _result(c),
                    "result_words": RESULT_WORDS[_result(c)], "detail": c.detail} for c in checks],
        "authorities": authorities,
        "trusted_time": [t.as_dict() for t in found.times],
        "registry_state": None if found.unit is None else {**found.unit.as_dict(), "lines": found.unit.lines()},
        "algorithms": algorithms,
        "verifier": verifier_identity(),
        "legal_review": _legal(checks, found, trust, authorities, algorithms),
        "notes": [
            "本报告仅依据所列输入生成，不含生成时间；相同输入逐字节生成相同报告。 The report depends only on the "
            "inputs listed (it holds no clock reading): the same inputs give the same bytes.",
            "信任根（平台信任列表、时间戳服务机构根证书）由核验人提供，不取自被核验文件。 Trust roots (the "
            "platform's trust list, the TSA's root certificate) come from whoever verifies, never from the file.",
            "“未核验”表示因未提供根证书而未检查，不等于通过。 UNVERIFIED means not checked for want of a root — "
            "never a pass.",
            "登记状态为所示区块时的状态；此后的变化以平台现时查询为准。 The registry state is as of the block "
            "shown; later changes show on the platform's live verify page.",
        ],
    }
    body = canonical_json(json.loads(json.dumps(content)))
    return Report(content=content, json=body, pdf=render_report(content, body), verdict=result)


# --- the PDF ------------------------------------------------------------------------------------------------------


def _paint(pdf: canvas.Canvas, font: str, report: dict[str, Any], json_sha: str, total: int) -> int:
    pages = Pages(pdf, font, total)
    pages.bottom = ANNEX_BOTTOM
    pages.title(report["title"]["zh"], report["title"]["en"])
    verdict_ = report["verdict"]
    pages.heading(f"核验结论 Conclusion: {verdict_['zh']}  {verdict_['en']}", 13)
    pages.rows([("结论说明 Summary", verdict_["headline"])], size=9.5)

    subject = report["subject"]
    pages.heading("一、核验对象 Subject")
    rows = [("文件哈希 Digest", f"{subject['digest']}\n({subject['hash_algorithm']})"),
            ("原始文件名 Original name", subject.get("original_name") or "—")]
    document = subject.get("document")
    if document:
        rows += [("文档 Document", f"{document.get('title') or ''} {document.get('schema')}".strip()),
                 ("登记号 Registration no.", str(document.get("registration_number") or "—")),
                 ("证书版本 Version", str(document.get("certificate_version") or "—"))]
    rows += [("锚定区块 Anchored in block", f"{subject.get('anchored_block')}\n交易 tx {subject.get('anchored_tx')}"),
             ("存证服务商 Evidence provider", str(subject.get("evidence_provider")))]
    pages.rows(rows)

    pages.heading("二、核验依据 Inputs")
    inputs = report["input"]
    rows = [("被核验文件 File verified", f"{inputs['file']} ({inputs['kind']})\nSHA-256:\n{inputs['sha256']}")]
    if inputs["original_file"]:
        rows.append(("原始文件 Original file", f"{inputs['original_file']['file']}\nSHA-256:\n"
                                               f"{inputs['original_file']['sha256']}"))
    trust = inputs["trust"]
    rows.append(("信任根 Trust roots", "未提供 none given" if trust is None else "\n".join(
        [f"平台 Platform: {trust['platform']}" if trust["platform"] else "权威节点地址 authority addresses",
         *([f"信任列表指纹 Trust-list fingerprint:\n{trust['trust_list_fingerprint']}"]
           if trust["trust_list_fingerprint"] else []),
         *([f"文件 File {trust['file']}, SHA-256:\n{trust['sha256']}"] if trust["file"] else []),
         f"门限 Threshold: {trust['threshold']}"])))
    roots = "\n".join(f"{r['subject']}\nSHA-256:\n{r['sha256']}" for r in inputs["tsa_roots"])
    rows.append(("时间戳根证书 TSA roots", roots or "未提供 none given: 可信时间未核验 trusted time not verified"))
    pages.rows(rows)

    pages.heading("三、逐项核验 Checks")
    for i, check in enumerate(report["checks"], 1):
        pages.rows([(f"{i}. {check['zh']}\n{check['name']}",
                     f"【{check['result_words']}】 {check['meaning_zh']}\n{check['meaning_en']}\n{check['detail']}")],
                   size=9)

    pages.heading("四、签名机构 Authorities that signed")
    pages.rows([("\n".join(a["roles"]) + (f"\n区块 block {a['block']}" if a["block"] is not None else ""),
                 f"{a['name']}\n{a['kind_words']}\n{a['signer']}\n"
                 + ("受信任 trusted" if a["trusted"] else "未经信任根确认 not confirmed by a trust root"))
                for a in report["authorities"]] or [("—", "无 none")], size=9)

    pages.heading("五、可信时间 Trusted time")
    rows = []
    for token in report["trusted_time"]:
        over = (f"区块 {token['block_number']} 检查点 checkpoint" if token["subject"] == "checkpoint"
                else "文件哈希 digest")
        info = token["token"] or {}
        status = {"verified": "已核验 VERIFIED", "unverified": "未核验 UNVERIFIED", "failed": "未通过 FAILED"}
        rows.append((over, f"【{status[token['status']]}】 {info.get('gen_time', '—')} (UTC)\n"
                           f"TSA: {info.get('tsa', '—')}\n{token['detail']}"))
    pages.rows(rows or [("—", "核验包未附 RFC 3161 可信时间戳：时间仅以区块头时间为准（由出块节点写入）。 The "
                              "bundle carries no RFC 3161 token: times rest on block headers, written by the block "
                              "proposer.")], size=9)

    state = report.get("registry_state")
    if state:
        pages.heading("六、登记状态 Registry state (proven)")
        pages.rows([("登记单元 Unit", "\n".join(state["lines"]))], size=9)

    pages.heading("七、算法 Algorithms")
    pages.rows([(f"{a['zh']}\n{a['en']}", a["algorithm"]) for a in report["algorithms"]], size=9)

    verifier = report["verifier"]
    pages.heading("八、核验程序 Verifier")
    pages.rows([("名称与版本 Name, version", f"{verifier['name']} {verifier['version']} (state layout "
                                             f"{verifier['state_layout']})"),
                ("程序哈希 Verifier SHA-256", f"{verifier['sha256']}\n({len(verifier['modules'])} modules: SHA-256 of "
                                             "each source file, listed in report.json)"),
                ("运行环境 Runtime", f"Python {verifier['python']}; " + ", ".join(
                    f"{k} {v}" for k, v in sorted(verifier["libraries"].items())))])

    pages.heading("九、对应《人民法院在线诉讼规则》第十六、十七条 Online Litigation Rules art. 16–17")
    for item in report["legal_review"]:
        checks = "、".join(CHECK_WORDS.get(n, (n,))[0] for n in item["checks"]) or "无对应核验项 no check bears on it"
        pages.rows([(item["article"], f"{item['factor']}\n{item['factor_en']}\n对应核验项 Checks: {checks}\n"
                                      f"本报告所见 Finding: {item['finding']}")], size=9.5)
    pages.notes(report["notes"])
    pages.room(30)
    pages.text(50, pages.y - 8, f"report.json（附件 attached）SHA-256: {json_sha}", 8, grey=0.35)
    pages.y -= 20
    return pages.finish()


def render_report(content: dict[str, Any], body: bytes | None = None) -> bytes:
    """The report's PDF: deterministic (invariant mode: fixed dates and id), ``report.json`` attached."""
    body = body if body is not None else canonical_json(content)
    font = register_font()
    json_sha = to_hex(digest_bytes(body))
    buffer = io.BytesIO()
    total = 0
    for _ in range(2):  # the first pass counts the pages
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
        pdf.setTitle(f"{content['title']['zh']}  {content['title']['en']}")
        pdf.setAuthor(f"{content['verifier']['name']} {content['verifier']['version']}")
        pdf.setSubject(f"{content['input']['file']} SHA-256 {content['input']['sha256']}")
        pdf.setCreator(CREATOR)
        total = _paint(pdf, font, content, json_sha, total)
        pdf.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.add_attachment("report.json", body)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_report(report: Report, pdf_path: Path) -> Path:
    """Writes the PDF to ``pdf_path`` and the JSON beside it (same name, ``.json``); returns the JSON's path."""
    json_path = pdf_path.with_suffix(".json")
    pdf_path.write_bytes(report.pdf)
    json_path.write_bytes(report.json)
    return json_path

