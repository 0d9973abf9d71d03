"""Issue #9 part 1: certificates carry the content the rules require (TJIFA §8.2.1, App. 8; REGISTRATION_RULES §5),
reissues carry it forward, and an objection registration has its own proof (SZ art. 20). Pure unit tests."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any, get_args

import pytest

from ledger.document_schemas import (
    ACQUISITIONS,
    FORMS,
    HOLDER_KINDS,
    OBJECT_TYPES,
    OBJECTION_RULE,
    UPDATE_CYCLES,
    Acquisition,
    AssetForm,
    CertificateContent,
    HolderKind,
    ObjectTypeName,
    UpdateCycle,
    parse_content,
    validate_document,
)
from ledger.documents import (
    NewHolder,
    certificate,
    certificate_annexes,
    document_hash,
    objection_proof,
    reissue,
    rights_page,
)
from ledger.errors import LedgerValueError
from ledger.hashing import to_hex
from ledger.lifecycle import Right
from ledger.profiles import JurisdictionProfile, ObjectType, load_profiles, profile_by_code

HOLDER_A = "0x" + "a1" * 20
HOLDER_B = "0x" + "b2" * 20
USCC_A = "91120116MA05JD1X47"
USCC_B = "91440300708461136T"
NUMBER = "TJ-2024-000001-7"
DIGEST = "0x" + "ab" * 32
CONTENT: dict[str, Any] = {
    "holder": {"legal_name": "天津港数据科技有限公司", "uscc": USCC_A},
    "asset": {"name": "港口集装箱物流数据集", "version": "2024.1", "form": "dataset", "acquisition": "original",
              "update_cycle": "daily", "scenarios": ["物流调度", "航运金融"],
              "scope": "限于天津港区内集装箱物流调度与航运金融风控，不得用于个人画像", "industry": "交通运输",
              "keywords": ["集装箱", "港口"]},
}


def issue(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "content": CONTENT, "title": "数据资产确权证书", "registration_number": NUMBER, "jurisdiction": "TJIFA",
        "registry_name": "天津数据资产登记平台", "holder_account": HOLDER_A, "object_type": ObjectType.DATA_ASSET,
        "rights": int(Right.ALL), "issued_on": date(2024, 10, 17), "valid_until": date(2027, 10, 17),
        "validity_basis": "3 years (TJIFA §8.3.3)", "evidence_report": DIGEST, "evidence_digests": [DIGEST],
        "notes": ["更新周期 [derived]: TJIFA §8.2.1 lists no unit for custom cycles"]}
    return certificate(**{**arguments, **overrides})


def invalid(**content: Any) -> str:
    with pytest.raises(LedgerValueError) as info:
        parse_content(content)
    return info.value.user_message


def test_chinese_names_cover_every_enum_value() -> None:
    for literal, names in ((AssetForm, FORMS), (Acquisition, ACQUISITIONS), (UpdateCycle, UPDATE_CYCLES),
                           (HolderKind, HOLDER_KINDS), (ObjectTypeName, OBJECT_TYPES)):
        assert set(get_args(literal)) == set(names)
    assert FORMS == {"dataset": "数据集", "interface": "接口", "report": "报告", "application": "应用",
                     "other": "其他"}
    assert set(OBJECT_TYPES) == {t.name.lower() for t in ObjectType}


def test_content_requires_legal_name_uscc_and_asset_fields() -> None:
    message = invalid(holder={"legal_name": "  "}, asset={"name": ""})
    for expected in ("holder.legal_name: must not be empty", "holder.uscc: required for a legal person",
                     "asset.name: must not be empty", "asset.form: Field required", "asset.acquisition: Field required",
                     "asset.update_cycle: Field required", "asset.scenarios: Field required",
                     "asset.scope: Field required"):
        assert expected in message, (expected, message)
    assert "holder.uscc: required for a organisation" in invalid(holder={"legal_name": "某合伙企业",
                                                                         "kind": "organisation"},
                                                                 asset=CONTENT["asset"])
    person = parse_content({"holder": {"legal_name": "张三", "kind": "natural_person"}, "asset": CONTENT["asset"]})
    assert person.holder.uscc is None


def test_content_enums_are_closed_and_named() -> None:
    message = invalid(holder=CONTENT["holder"], asset={**CONTENT["asset"], "form": "数据集", "acquisition": "bought",
                                                       "update_cycle": "weekly"})
    assert "asset.form: Input should be 'dataset', 'interface', 'report', 'application' or 'other'" in message
    assert "asset.acquisition: Input should be 'original', 'collected', 'traded' or 'other'" in message
    assert "asset.update_cycle: Input should be 'real_time', 'daily', 'monthly' or 'custom'" in message


def test_custom_update_cycle_needs_its_text_and_only_then() -> None:
    assert "describe the custom update cycle" in invalid(holder=CONTENT["holder"],
                                                         asset={**CONTENT["asset"], "update_cycle": "custom"})
    assert "only for update_cycle 'custom'" in invalid(holder=CONTENT["holder"], asset={
        **CONTENT["asset"], "update_cycle_custom": "每季度"})
    custom = parse_content({"holder": CONTENT["holder"], "asset": {**CONTENT["asset"], "update_cycle": "custom",
                                                                   "update_cycle_custom": "每季度首个工作日"}})
    assert custom.asset.update_cycle_custom == "每季度首个工作日"


def test_content_is_strict() -> None:
    assert "holder.uscc: '91120116MA05JD1X4A': the check character (18th) should be '7'" in invalid(
        holder={**CONTENT["holder"], "uscc": "91120116MA05JD1X4A"}, asset=CONTENT["asset"])
    message = invalid(holder=CONTENT["holder"], asset={**CONTENT["asset"], "name": 42, "scenarios": "物流调度",
                                                       "colour": "blue"})
    assert "asset.name: Input should be a valid string" in message
    assert "asset.scenarios: Input should be a valid list" in message
    assert "asset.colour: Extra inputs are not permitted" in message
    assert "asset.scenarios.1: must not be empty" in invalid(holder=CONTENT["holder"],
                                                              asset={**CONTENT["asset"], "scenarios": ["物流", " "]})
    model = parse_content(CONTENT)
    assert isinstance(model, CertificateContent) and parse_content(model) == model


def test_initial_certificate_carries_everything_the_rules_require() -> None:
    cert = issue()
    assert validate_document(cert) is cert
    assert cert["schema"] == "ledger.certificate/2" and cert["title"] == "数据资产确权证书"
    assert cert["serial"] == f"{NUMBER}-V01" and cert["certificate_version"] == 1 and cert["supersedes"] is None
    assert cert["holder"] == {"legal_name": "天津港数据科技有限公司", "kind": "legal_person", "uscc": USCC_A,
                              "account": HOLDER_A}
    assert cert["asset"] == {**CONTENT["asset"], "update_cycle_custom": None}
    assert cert["object_type"] == "data_asset"
    assert cert["rights"] == ["数据资源持有权", "数据加工使用权", "数据产品经营权"]
    assert (cert["registry"], cert["jurisdiction"], cert["issued_on"], cert["valid_until"]) == (
        "天津数据资产登记平台", "TJIFA", "2024-10-17", "2027-10-17")
    assert cert["validity_basis"] == "3 years (TJIFA §8.3.3)"
    assert cert["annexes"] == {"evidence_report": DIGEST, "evidence_digests": [DIGEST]}
    assert cert["notes"] == ["更新周期 [derived]: TJIFA §8.2.1 lists no unit for custom cycles"]


def test_initial_certificate_names_bad_content() -> None:
    with pytest.raises(LedgerValueError) as info:
        issue(content={"holder": {"legal_name": "天津港数据科技有限公司"}, "asset": {"name": "x"}})
    assert "certificate content is invalid" in info.value.user_message
    assert "holder.uscc" in info.value.user_message and "asset.scope" in info.value.user_message
    with pytest.raises(LedgerValueError, match=r"holder\.account: String should match pattern"):
        issue(holder_account="holder-a")


def test_v2_schema_checks_consistency() -> None:
    cert = issue()
    for change, expected in (({"serial": f"{NUMBER}-V02"}, "serial: must be"),
                             ({"supersedes": DIGEST}, "supersedes: the hash of the previous version"),
                             ({"certificate_version": 2}, "supersedes: the hash"),
                             ({"valid_until": "2024-10-16"}, "valid_until: before issued_on"),
                             ({"issued_on": "2024-02-30"}, "'2024-02-30' is not a calendar date"),
                             ({"rights": ["数据资源持有权", "数据资源持有权"]}, "rights: listed twice"),
                             ({"rights": ["所有权"]}, "rights.0: Input should be"),
                             ({"certificate_version": "1"}, "certificate_version: Input should be a valid integer"),
                             ({"title": ""}, "title: must not be empty"),
                             ({"annexes": {"evidence_report": "abc", "evidence_digests": []}},
                              "annexes.evidence_report: String should match pattern")):
        with pytest.raises(LedgerValueError) as info:
            validate_document({**cert, **change})
        assert expected in info.value.user_message, (change, info.value.user_message)


def test_version_1_certificates_still_validate() -> None:
    profile = profile_by_code("TJIFA")
    old = certificate(registration_number=NUMBER, version=1, profile=profile, holder_name="holder-a",
                      holder_address=HOLDER_A, holder_id=None, asset={"name": "航运指数数据集", "form": "dataset"},
                      object_type=ObjectType.DATA_ASSET, rights=int(Right.HOLDING), issued_on=date(2024, 10, 8),
                      valid_until=None, registry_name="天津数据资产登记平台")
    assert old["schema"] == "ledger.certificate/1" and validate_document(old) is old


def carried(before: dict[str, Any], after: dict[str, Any], *changed: str) -> None:
    """Every field of ``after`` equals ``before`` except the ones a reissue sets and ``changed``."""
    own = {"serial", "certificate_version", "supersedes", "issued_on"}
    assert set(after) == set(before)
    for key in set(before) - own - {c.split(".")[0] for c in changed}:
        assert after[key] == before[key], key
    fields: dict[str, set[str]] = {}
    for path in changed:
        top, _, field = path.partition(".")
        fields.setdefault(top, set()).add(field)
    for top, names in fields.items():
        if "" not in names:
            assert {k: v for k, v in after[top].items() if k not in names} == \
                {k: v for k, v in before[top].items() if k not in names}, top


def test_a_change_of_the_asset_name_changes_only_the_name() -> None:
    v1 = issue()
    v2 = reissue(v1, changes={"asset": {"name": "港口集装箱物流数据集（第二版）"}}, version=2,
                 issued_on=date(2025, 3, 3), valid_until=date(2027, 10, 17))
    assert v2["asset"]["name"] == "港口集装箱物流数据集（第二版）"
    carried(v1, v2, "asset.name")
    assert v2["holder"]["legal_name"] == "天津港数据科技有限公司"  # not an account alias
    assert (v2["serial"], v2["certificate_version"], v2["issued_on"]) == (f"{NUMBER}-V02", 2, "2025-03-03")
    assert v2["supersedes"] == to_hex(document_hash(v1))
    assert v1["asset"]["name"] == "港口集装箱物流数据集"  # the previous document is not modified


def test_a_transfer_changes_only_the_holder() -> None:
    v1 = issue()
    v2 = reissue(v1, version=2, issued_on=date(2025, 3, 3), valid_until=date(2027, 10, 17),
                 new_holder=NewHolder("深圳市腾讯计算机系统有限公司", USCC_B, HOLDER_B))
    assert v2["holder"] == {"legal_name": "深圳市腾讯计算机系统有限公司", "kind": "legal_person", "uscc": USCC_B,
                            "account": HOLDER_B}
    carried(v1, v2, "holder")
    v3 = reissue(v2, version=3, issued_on=date(2025, 4, 1), valid_until=date(2027, 10, 17),
                 new_holder=("张三", None, HOLDER_A, "natural_person"))  # a plain tuple works too
    assert v3["holder"]["kind"] == "natural_person" and v3["supersedes"] == to_hex(document_hash(v2))
    with pytest.raises(LedgerValueError, match=r"holder\.uscc: .*check character"):
        reissue(v1, version=2, issued_on=date(2025, 3, 3), valid_until=None,
                new_holder=("某公司", "91440300708461136A", HOLDER_B))


def test_a_renewal_changes_only_the_validity() -> None:
    v1 = issue()
    v2 = reissue(v1, version=2, issued_on=date(2027, 10, 1), valid_until=date(2030, 10, 17))
    assert v2["valid_until"] == "2030-10-17"
    carried(v1, v2, "valid_until")
    v3 = reissue(v2, version=3, issued_on=date(2028, 1, 1), valid_until=date(2028, 6, 30),
                 validity_basis="the data's own validity (TJIFA §8.3.3)", rights=int(Right.HOLDING))
    assert v3["validity_basis"] == "the data's own validity (TJIFA §8.3.3)" and v3["rights"] == ["数据资源持有权"]
    carried(v2, v3, "valid_until", "validity_basis", "rights")


def test_nested_changes_and_refusals() -> None:
    v1 = issue()
    v2 = reissue(v1, changes={"holder": {"legal_name": "天津港数据集团有限公司"}, "asset": {"version": None,
                 "scenarios": ["物流调度"]}, "notes": []}, version=2, issued_on=date(2025, 1, 2),
                 valid_until=date(2027, 10, 17))
    assert v2["holder"]["legal_name"] == "天津港数据集团有限公司" and v2["holder"]["uscc"] == USCC_A
    assert v2["asset"]["version"] is None and v2["asset"]["scenarios"] == ["物流调度"] and v2["notes"] == []
    carried(v1, v2, "holder.legal_name", "asset.version", "asset.scenarios", "notes")
    day: dict[str, Any] = {"issued_on": date(2025, 1, 2), "valid_until": None}
    for changes, expected in (({"serial": "X"}, "cannot change serial"),
                              ({"registration_number": "TJ-2024-000002-5"}, "cannot change registration_number"),
                              ({"holder": {"account": HOLDER_B}}, "holder.account (a new holder is a transfer")):
        with pytest.raises(LedgerValueError, match=re.escape(expected)):
            reissue(v1, changes=changes, version=2, **day)
    with pytest.raises(LedgerValueError, match="new_holder replaces the holder"):
        reissue(v1, changes={"holder": {"kind": "organisation"}}, version=2, new_holder=("A", USCC_B, HOLDER_B),
                **day)
    with pytest.raises(LedgerValueError, match="version 1 does not follow the previous certificate's version 1"):
        reissue(v1, version=1, **day)
    with pytest.raises(LedgerValueError, match=r"asset\.nmae: Extra inputs are not permitted"):
        reissue(v1, changes={"asset": {"nmae": "typo"}}, version=2, **day)
    with pytest.raises(LedgerValueError, match=r"asset\.form: Input should be"):
        reissue(v1, changes={"asset": {"form": "数据集"}}, version=2, **day)
    with pytest.raises(LedgerValueError, match="not a certificate"):
        reissue(rights_page(NUMBER, date(2025, 1, 1), []), version=2, **day)


def test_reissue_from_a_version_1_certificate_asks_for_what_it_lacked() -> None:
    profile: JurisdictionProfile = profile_by_code("TJIFA")
    old = certificate(registration_number=NUMBER, version=1, profile=profile, holder_name="天津港数据科技有限公司",
                      holder_address=HOLDER_A, holder_id=None,
                      asset={"name": "航运指数数据集", "form": "dataset", "update_cycle": "daily",
                             "scenarios": "物流调度、航运金融"},
                      object_type=ObjectType.DATA_ASSET, rights=int(Right.ALL), issued_on=date(2024, 10, 8),
                      valid_until=date(2027, 10, 8), registry_name="天津数据资产登记平台",
                      evidence_digests=[DIGEST])
    frozen = copy.deepcopy(old)
    with pytest.raises(LedgerValueError) as info:
        reissue(old, version=2, issued_on=date(2025, 1, 2), valid_until=date(2027, 10, 8))
    message = info.value.user_message
    for expected in ("holder.uscc: required", "asset.acquisition: Field required", "asset.scope: Field required",
                     "validity_basis: Field required", "ledger.certificate/1, which did not record"):
        assert expected in message, (expected, message)
    new = reissue(old, changes={"title": "数据资产确权证书", "holder": {"uscc": USCC_A},
                                "asset": {"acquisition": "collected", "scope": "限港区内使用"}},
                  version=2, issued_on=date(2025, 1, 2), valid_until=date(2027, 10, 8),
                  validity_basis="3 years (TJIFA §8.3.3)")
    assert old == frozen
    assert new["schema"] == "ledger.certificate/2" and new["supersedes"] == to_hex(document_hash(old))
    assert new["holder"] == {"legal_name": "天津港数据科技有限公司", "kind": "legal_person", "uscc": USCC_A,
                             "account": HOLDER_A}
    assert new["asset"]["name"] == "航运指数数据集" and new["asset"]["scenarios"] == ["物流调度", "航运金融"]
    assert new["object_type"] == "data_asset" and new["rights"] == old["rights"]
    assert new["registry"] == "天津数据资产登记平台" and new["annexes"]["evidence_digests"] == [DIGEST]


def test_profiles_name_the_certificate_as_their_sources_do() -> None:
    """REGISTRATION_RULES §5.1: TJIFA App. 8, SZ art. 7 (by object), GD art. 25, AH art. 25, DL art. 26, GZ art. 8."""
    profiles = load_profiles()
    assert profiles["TJIFA"].title_for(ObjectType.DATA_ASSET) == "数据资产确权证书"
    assert profiles["SZ"].title_for(ObjectType.DATA_PRODUCT) == "数据产品登记证书"
    assert profiles["SZ"].title_for(ObjectType.DATA_RESOURCE) == "数据资源登记证书"
    assert [profiles[code].title_for(ObjectType.DATA_RESOURCE) for code in ("GD", "AH", "DL", "GZ")] == [
        "数据资产登记凭证", "登记证书", "数据登记凭证", "数据要素登记凭证"]


def test_rights_page_is_an_annex_only_when_it_has_entries() -> None:
    empty = rights_page(NUMBER, date(2025, 1, 1), [])
    assert certificate_annexes(rights_page=empty) == {}
    page = rights_page(NUMBER, date(2025, 1, 1), [{"entry_id": 3, "kind": "pledge", "counterparty": HOLDER_B,
                                                   "rights": 1, "valid_until": None, "active": True,
                                                   "contract_hash": DIGEST}])
    assert certificate_annexes(rights_page=page) == {"rights_page": page}
    with pytest.raises(LedgerValueError, match="the rights page"):
        certificate_annexes(rights_page={**page, "entries": [{"entry_id": 0}]})


def proof(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "registry": "深圳数据交易所登记中心", "registration_number": "SZ-2024-000001-3", "objection_id": DIGEST,
        "objector": {"name": "深圳市腾讯计算机系统有限公司", "id_kind": "uscc", "id_number": USCC_B,
                     "account": HOLDER_B},
        "matter": "登记的数据来源", "grounds": "该数据集部分数据由异议人采集，未经授权", "evidence_digests": [DIGEST],
        "accepted_on": date(2024, 11, 1)}
    return objection_proof(**{**arguments, **overrides})


def test_objection_proof_states_the_15_day_rule() -> None:
    doc = proof()
    assert validate_document(doc) is doc and doc["schema"] == "ledger.objection-proof/1"
    assert doc["title"] == "异议登记证明" and doc["rule"] == OBJECTION_RULE
    assert doc["filing_deadline"] == {"date": "2024-11-16", "time": "24:00",
                                      "time_zone": "China Standard Time (UTC+8)"}
    assert proof(filing_deadline=date(2024, 11, 18))["filing_deadline"]["date"] == "2024-11-18"
    person = proof(objector={"name": "张三", "id_kind": "resident_id", "id_number": "110101199003070000",
                             "account": HOLDER_B}, objection_id=bytes(range(32)))
    assert person["objection_id"] == "0x" + bytes(range(32)).hex()


def test_objection_proof_is_validated() -> None:
    with pytest.raises(LedgerValueError, match=r"objector\.id_number: .*check character"):
        proof(objector={"name": "某公司", "id_kind": "uscc", "id_number": "91440300708461136A", "account": HOLDER_B})
    with pytest.raises(LedgerValueError, match=r"filing_deadline\.date: must be after accepted_on"):
        proof(filing_deadline=date(2024, 11, 1))
    with pytest.raises(LedgerValueError, match="evidence_digests: List should have at least 1 item"):
        proof(evidence_digests=[])
    with pytest.raises(LedgerValueError, match="grounds: must not be empty"):
        proof(grounds=" ")
    doc = proof()
    with pytest.raises(LedgerValueError, match="title: Input should be '异议登记证明'"):
        validate_document({**doc, "title": "异议证明"})
    with pytest.raises(LedgerValueError, match=r"filing_deadline\.time: Input should be '24:00'"):
        validate_document({**doc, "filing_deadline": {**doc["filing_deadline"], "time": "17:00"}})
