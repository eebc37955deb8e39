"""The privacy modes as a pure policy: what each write keeps, and the retention each mode sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from upswing.core.errors import PermissionDeniedError
from upswing.privacy.policy import PrivacyMode, Regime, policy_for
from upswing.settings import Settings

RAW = {"publicIdentifier": "jo-q", "firstName": "Jo", "photo": "https://media.example/jo.jpg",
       "birthDate": "1990-02-03", "experience": [{"companyName": "Acme"}]}
NORMALIZED = {"public_identifier": "jo-q", "first_name": "Jo", "emails": ["jo@example.org"], "experiences": []}


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_standard_keeps_the_raw_payload_without_photos_or_birth_dates() -> None:
    policy = policy_for(settings())
    assert policy.mode is PrivacyMode.STANDARD and policy.default_regime is Regime.CCPA
    raw, normalized = policy.prepare_observation(RAW, NORMALIZED)
    assert raw == {"publicIdentifier": "jo-q", "firstName": "Jo", "experience": [{"companyName": "Acme"}]}
    assert normalized is NORMALIZED  # nothing dropped: the same object, no copy
    assert "photo" in RAW  # the caller's payload is never modified


def test_gdpr_strict_stores_no_raw_payload_and_no_scraped_emails() -> None:
    policy = policy_for(settings(privacy_mode="gdpr_strict"))
    assert policy.default_regime is Regime.GDPR and not policy.keep_raw_payloads
    raw, normalized = policy.prepare_observation(RAW, NORMALIZED)
    assert raw == {}
    assert normalized == {"public_identifier": "jo-q", "first_name": "Jo", "experiences": []}
    assert NORMALIZED["emails"] == ["jo@example.org"]


def test_gdpr_strict_drops_birth_dates_from_lead_rows() -> None:
    row = {"external_id": "A-1", "first_name": "Jo", "birth_date": "1990-02-03"}
    assert policy_for(settings(privacy_mode="gdpr_strict")).prepare_lead_values(row) == {
        "external_id": "A-1", "first_name": "Jo"}
    assert policy_for(settings()).prepare_lead_values(row) is row


def test_gdpr_strict_refuses_a_source_without_a_legal_basis() -> None:
    strict = policy_for(settings(privacy_mode="gdpr_strict"))
    with pytest.raises(PermissionDeniedError, match="no recorded legal basis"):
        strict.check_legal_basis("scraper", None)
    with pytest.raises(PermissionDeniedError):
        strict.check_legal_basis("scraper", "   ")
    strict.check_legal_basis("scraper", "Art. 6(1)(f) legitimate interest, assessment 2026-03")
    policy_for(settings()).check_legal_basis("scraper", None)  # standard mode does not ask


@pytest.mark.parametrize(("mode", "raw_days", "observation_days", "signal_days"), [
    ("standard", 180, 730, 730),
    ("gdpr_strict", 0, 365, 365),
])
def test_retention_defaults_per_mode(mode: str, raw_days: int, observation_days: int, signal_days: int) -> None:
    policy = policy_for(settings(privacy_mode=mode))
    now = datetime(2026, 11, 22, tzinfo=UTC)
    cutoffs = policy.cutoffs(now)
    assert cutoffs["raw_payload"] == now - timedelta(days=raw_days)
    assert cutoffs["observation"] == now - timedelta(days=observation_days)
    assert cutoffs["signal"] == now - timedelta(days=signal_days)
    assert cutoffs["dsar_record"] == now - timedelta(days=730)
    described = policy.describe()
    assert described["mode"] == mode
    assert described["retention_days"]["contact_ledger"] == 3 * 365 and described["retention_days"]["audit"] is None


def test_retention_settings_override_the_mode() -> None:
    policy = policy_for(settings(retention_raw_payload_days=30, retention_observation_days=90,
                                 retention_signal_days=60))
    assert (policy.retention.raw_payload_days, policy.retention.observation_days,
            policy.retention.signal_days) == (30, 90, 60)
    assert policy.keep_raw_payloads
    never = policy_for(settings(retention_raw_payload_days=0))
    assert not never.keep_raw_payloads and never.prepare_observation(RAW, NORMALIZED)[0] == {}


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="privacy_mode"):
        settings(privacy_mode="lenient")
