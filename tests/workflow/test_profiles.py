"""Jurisdiction profiles are data: a new file adds a jurisdiction, on chain too, with no code change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.context import Ledger
from ledger.deployment import sync_profiles
from ledger.errors import ConfigurationError
from ledger.profiles import ObjectType, load_profiles

HAINAN = {
    "id": 42, "code": "HI", "name": "Hainan (example)", "number_prefix": "HI",
    "object_types": ["data_product", "algorithm_model"],
    "certificate_title": "数据产品登记证书", "kinds": ["initial", "change", "cancellation"],
    "notice": {"length": 5, "unit": "working_days", "applies_to": ["initial"]},
    "validity_years": 2, "renewal_window_days": 30, "objection_days": 10,
    "joint_filing": False, "requires_review": False, "pledge_blocks": ["transfer"],
}


def test_builtin_profiles_cover_the_six_sources() -> None:
    profiles = load_profiles()
    assert {"TJIFA", "SZ", "AH", "GD", "GZ", "DL"} <= set(profiles)
    assert profiles["GZ"].notice.length == 30 and profiles["DL"].notice.unit == "calendar_days"
    assert profiles["TJIFA"].joint_filing and not profiles["SZ"].joint_filing
    assert profiles["GZ"].allows(ObjectType.COMPUTE_RESOURCE) and not profiles["TJIFA"].allows(ObjectType.DATA_RESOURCE)


@pytest.mark.chain
def test_a_new_profile_file_reaches_the_chain(chain: Ledger, tmp_path: Path) -> None:
    (tmp_path / "hi.json").write_text(json.dumps(HAINAN))
    profiles = load_profiles(tmp_path)
    # two calendar years at most 731 days, + 1 day for the 24:00 China-time end; pledges block transfers only
    assert profiles["HI"].on_chain() == (True, False, False, (1 << 2) | (1 << 5), 732 * 86_400, 30 * 86_400, 10, 1)
    changed = sync_profiles(chain.client, chain.deployment, profiles, chain.sender("admin"))
    assert changed == ["HI"]
    assert tuple(chain.assets.handle.call("profileOf", 42)) == profiles["HI"].on_chain()
    assert sync_profiles(chain.client, chain.deployment, profiles, chain.sender("admin")) == []  # idempotent


def test_broken_profiles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "validity_years": -1}))
    with pytest.raises(ConfigurationError, match=r"bad\.json"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "validity_days": 365}))  # a typo or an old field
    with pytest.raises(ConfigurationError, match="validity_days"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "id": 1, "code": "XX"}))  # id 1 is TJIFA's
    with pytest.raises(ConfigurationError, match="unique"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "object_types": ["spreadsheet"]}))
    with pytest.raises(ConfigurationError, match="'spreadsheet'"):
        load_profiles(tmp_path)


def test_profiles_match_their_sources() -> None:
    """Issue #9 §4, rule by rule."""
    p = load_profiles()
    assert p["TJIFA"].validity_years == 3 and p["GZ"].validity_years == 2 and p["DL"].validity_years == 1
    assert p["TJIFA"].validity_or_data and p["GZ"].validity_or_data  # TJIFA §8.3.3, GZ art. 21
    assert p["TJIFA"].certificate_title == "数据资产确权证书"  # TJIFA App. 8
    # GZ art. 35: renewal filed in the last month must be possible, so its 30 wd notice does not apply to it
    assert "renewal" not in p["GZ"].notice.applies_to and p["GZ"].expiry == "cancel_with_notice"
    # DL art. 30 annual review and art. 22 suspension are reachable
    assert p["DL"].renewal_label.startswith("年审") and {"suspension", "reinstatement"} <= set(p["DL"].kinds)
    # AH art. 22: a notice objection is resolved within 30 days or the application terminates; art. 23 no lapse
    assert p["AH"].notice_objection.resolve_within is not None
    rule = p["AH"].notice_objection
    assert rule.resolve_within is not None and rule.resolve_within.length == 30 and rule.if_unresolved == "terminate"
    assert p["AH"].objection_days == 0
    # GD art. 16 simple procedure (1 wd); GD knows no transfer registration
    assert p["GD"].notice.simple is not None and p["GD"].notice.simple.length == 1 and "transfer" not in p["GD"].kinds
    # SZ art. 15 sets no notice length: the platform's value is marked [derived]; SZ art. 20: 15 days
    assert any("5 working days" in d for d in p["SZ"].derived) and p["SZ"].objection_days == 15
    assert p["SZ"].review_required_for == ["licence", "transfer"]  # SZ art. 16(4), 17(3)-(4)
    for profile in p.values():  # the pledgee is protected by default (issue #9 §2)
        assert profile.pledge_blocks == ["transfer", "holder_cancellation"]
