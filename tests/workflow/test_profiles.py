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
    "notice": {"length": 5, "unit": "working_days", "applies_to": ["initial"]},
    "validity_days": 0, "renewal_window_days": 0, "objection_window_days": 10,
    "joint_filing": False, "requires_review": False,
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
    assert profiles["HI"].on_chain() == (True, False, False, (1 << 2) | (1 << 5), 0, 0, 10 * 86_400)
    changed = sync_profiles(chain.client, chain.deployment, profiles, chain.sender("admin"))
    assert changed == ["HI"]
    assert tuple(chain.assets.handle.call("profileOf", 42)) == profiles["HI"].on_chain()
    assert sync_profiles(chain.client, chain.deployment, profiles, chain.sender("admin")) == []  # idempotent


def test_broken_profiles_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "validity_days": -1}))
    with pytest.raises(ConfigurationError, match=r"bad\.json"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "id": 1, "code": "XX"}))  # id 1 is TJIFA's
    with pytest.raises(ConfigurationError, match="unique"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**HAINAN, "object_types": ["spreadsheet"]}))
    with pytest.raises(ConfigurationError, match="'spreadsheet'"):
        load_profiles(tmp_path)
