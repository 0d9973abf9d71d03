"""Words the web pages print for the ledger's values: Chinese first, English alongside. Presentation only — no
rule lives here; each value comes from the service layer."""

from __future__ import annotations

#: A certificate's status now (ledger.proofs.state.CertificateStatus.state): (css class, Chinese, English).
CERTIFICATE_STATE: dict[str, tuple[str, str, str]] = {
    "valid": ("ok", "证书有效", "Valid certificate"),
    "superseded": ("no", "已被取代", "Superseded — not the current certificate"),
    "expired": ("no", "已过期", "Expired"),
    "suspended": ("no", "已中止", "Suspended"),
    "cancelled": ("no", "已注销", "Cancelled"),
    "revoked": ("no", "已撤销", "Revoked"),
    "unknown": ("no", "未登记", "Not registered"),
}

#: A registration unit's effective status.
UNIT_STATUS: dict[str, tuple[str, str]] = {
    "active": ("有效", "Active"), "expired": ("已过期", "Expired"), "suspended": ("已中止", "Suspended"),
    "cancelled": ("已注销", "Cancelled"), "revoked": ("已撤销", "Revoked"), "none": ("未登记", "Not registered"),
}

#: Registration kinds and recorded actions (ledger.lifecycle.Action, ledger.filings).
KIND: dict[str, tuple[str, str]] = {
    "initial": ("首次登记", "Initial registration"), "supplementary": ("补充登记", "Supplementary registration"),
    "change": ("变更登记", "Change registration"), "transfer": ("转移登记", "Transfer registration"),
    "licence": ("许可登记", "Licence registration"), "pledge": ("质押登记", "Pledge registration"),
    "release": ("解除登记", "Release of a rights-page entry"), "cancellation": ("注销登记", "Cancellation"),
    "renewal": ("续证", "Renewal"), "declaration": ("权属与安全声明", "Declaration"),
    "objection": ("异议登记", "Objection registration"), "objection_litigation": ("异议诉讼", "Objection litigated"),
    "objection_resolution": ("异议处理", "Objection resolved"), "suspension": ("中止", "Suspension"),
    "reinstatement": ("恢复", "Reinstatement"), "revocation": ("撤销", "Revocation"),
}

#: Authority nodes of the evidence chain (TJIFA §7.1.4) and QBFT validators.
AUTHORITY: dict[str, tuple[str, str]] = {
    "notary": ("公证机构", "Notary"), "law_firm": ("律师事务所", "Law firm"),
    "arbitration": ("仲裁机构", "Arbitration"), "judicial_appraisal": ("司法鉴定中心", "Judicial appraisal"),
    "time_service": ("授时服务机构", "Time service"), "audit": ("审计机构", "Audit"),
    "identity_authority": ("数字身份认证中心", "Digital-identity CA"), "validator": ("验证节点", "Validator"),
}

OBJECT_TYPE: dict[str, tuple[str, str]] = {
    "data_resource": ("数据资源", "Data resource"), "data_product": ("数据产品", "Data product"),
    "data_asset": ("数据资产", "Data asset"), "data_element": ("数据元件", "Data element"),
    "algorithm_model": ("算法模型", "Algorithm model"), "compute_resource": ("算力资源", "Compute resource"),
    "composite_product": ("复合数据产品", "Composite data product"),
}

RIGHT: dict[str, tuple[str, str]] = {
    "holding": ("数据资源持有权", "Holding"), "processing_use": ("数据加工使用权", "Processing and use"),
    "product_operation": ("数据产品经营权", "Product operation"),
}

ENTRY_KIND: dict[str, tuple[str, str]] = {"pledge": ("质押", "Pledge"), "licence": ("许可", "Licence")}
ENTRY_STATUS: dict[str, tuple[str, str]] = {"active": ("有效", "Active"), "released": ("已解除", "Released")}

#: Where an application stands (the workflow's states, REGISTRATION_RULES §3.8).
APPLICATION_STATE: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "Submitted"), "accepted": ("已受理", "Accepted"),
    "under_formal_review": ("形式审查中", "Formal review"),
    "under_substantive_review": ("实质审查中", "Substantive review"),
    "supplement_requested": ("待补正", "Supplement requested"), "resubmitted": ("已补正", "Resubmitted"),
    "approved": ("审核通过", "Approved"), "in_public_notice": ("公示中", "In public notice"),
    "objection_pending": ("异议处理中", "Objection pending"), "registered": ("已登记", "Registered"),
    "archived": ("已归档", "Archived"), "withdrawn": ("已撤回", "Withdrawn"), "rejected": ("不予登记", "Rejected"),
    "terminated": ("已终止", "Terminated"),
}
DAY_UNIT: dict[str, tuple[str, str]] = {
    "working_days": ("个工作日", "working days"), "calendar_days": ("日", "calendar days"),
}

ALGORITHM: dict[str, str] = {"sha256": "SHA-256", "sm3": "SM3 (GB/T 32905)", "keccak256": "Keccak-256"}

EVIDENCE_KIND: dict[str, tuple[str, str]] = {
    "declaration": ("权属与安全声明", "Declaration"), "proof": ("证明材料", "Proof"),
    "certificate": ("确权证书", "Certificate"), "evidence_report": ("存证报告", "Evidence report"),
    "data_fingerprint": ("数据特征", "Data fingerprint"), "ownership_change": ("权属变更声明", "Ownership change"),
    "audit_log": ("审计日志", "Audit log"), "document": ("文件", "Document"),
}


def pair(table: dict[str, tuple[str, str]], key: str | None) -> tuple[str, str]:
    """(Chinese, English) for ``key``, the key itself when the table does not know it."""
    if key is None:
        return ("—", "—")
    return table.get(key, (key, key))
