"""Privacy modes: what Upswing stores about a person, for how long, and on what condition. Pure: no database.

Two modes (``UPSWING_PRIVACY_MODE``), enforced by the write paths calling this module, not just reported:

* ``standard`` (the default: Upswing's users are US debt collectors, for whom Regulation F and the CCPA apply):
  raw payloads are archived for ``raw_payload_days`` then purged; photos and birth dates are never stored;
  retention as in ``_DEFAULTS``.
* ``gdpr_strict`` (data minimisation, GDPR Art. 5(1)(c) and (e)): raw payloads are never stored (only the
  normalized form the product works with), e-mail addresses scraped from profiles are not stored either (the
  creditor's own lead file is the contact source), shorter retention, and nothing is collected from a source
  that has no recorded legal basis (Art. 6 and Art. 14).

Every write path calls ``current()``: profile ingest (``prepare_observation``, ``require_legal_basis``), text
observations (the same two), the lead importer (``prepare_lead_values``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from upswing.core.errors import PermissionDeniedError
from upswing.settings import Settings, get_settings


class PrivacyMode(StrEnum):
    STANDARD = "standard"
    GDPR_STRICT = "gdpr_strict"


class Regime(StrEnum):
    """The law a data-subject request is answered under (it sets the deadlines)."""

    GDPR = "gdpr"
    CCPA = "ccpa"


#: Top-level keys of a raw payload that are never stored, in any mode: profile photos (biometric-adjacent,
#: never needed) and birth dates (the creditor's file is the only source of a debtor's birth date).
NEVER_STORED_RAW_KEYS: frozenset[str] = frozenset({
    "photo", "photoUrl", "profilePicture", "profilePictureUrl", "profilePic", "pictureUrl", "picture", "avatar",
    "profileImage", "image", "backgroundPicture", "coverPicture", "birthday", "birthDate", "dateOfBirth", "dob",
})
#: Lead fields never stored in ``gdpr_strict`` (data minimisation: not needed to collect a debt).
STRICT_DROPPED_LEAD_FIELDS: frozenset[str] = frozenset({"birth_date", "photo_url"})
#: Normalized-profile fields not stored in ``gdpr_strict``.
STRICT_DROPPED_PROFILE_FIELDS: frozenset[str] = frozenset({"emails"})

#: Regulation F 1006.100: records evidencing compliance are kept 3 years after the last collection activity.
CONTACT_LEDGER_DAYS = 3 * 365
#: CCPA regulations 7101: records of consumer requests and responses are kept at least 24 months.
DSAR_RECORD_DAYS = 2 * 365


@dataclass(frozen=True)
class Retention:
    raw_payload_days: int  # 0: never stored
    observation_days: int
    signal_days: int  # closed or never-worked signals older than this are purged
    contact_ledger_days: int = CONTACT_LEDGER_DAYS  # kept, not purged by Upswing (Regulation F)
    dsar_record_days: int = DSAR_RECORD_DAYS
    audit_days: None = None  # the audit log is append-only and never purged


_DEFAULTS: dict[PrivacyMode, Retention] = {
    PrivacyMode.STANDARD: Retention(raw_payload_days=180, observation_days=730, signal_days=730),
    PrivacyMode.GDPR_STRICT: Retention(raw_payload_days=0, observation_days=365, signal_days=365),
}


@dataclass(frozen=True)
class PrivacyPolicy:
    mode: PrivacyMode
    retention: Retention
    keep_raw_payloads: bool
    require_legal_basis: bool
    dropped_lead_fields: frozenset[str]
    dropped_profile_fields: frozenset[str]
    never_stored_raw_keys: frozenset[str] = field(default=NEVER_STORED_RAW_KEYS)

    @property
    def default_regime(self) -> Regime:
        return Regime.GDPR if self.mode is PrivacyMode.GDPR_STRICT else Regime.CCPA

    # ------------------------------------------------------------------ enforcement hooks (every write)

    def prepare_observation(self, raw: dict[str, Any], normalized: dict[str, Any],
                            ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What may be stored of an observation: ``(raw, normalized)`` with the mode's omissions applied.

        The content hash is taken before this (over the full normalized form), so dedupe is unchanged.
        Returns new dicts when something is dropped; the inputs are never modified.
        """
        if not self.keep_raw_payloads:
            raw = {}
        else:
            dropped = self.never_stored_raw_keys.intersection(raw)
            if dropped:  # a C-level copy and a few deletes: this runs for every ingested item
                raw = dict(raw)
                for key in dropped:
                    del raw[key]
        dropped_fields = self.dropped_profile_fields.intersection(normalized)
        if dropped_fields:
            normalized = dict(normalized)
            for key in dropped_fields:
                del normalized[key]
        return raw, normalized

    def prepare_lead_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """A lead row (insert or update values) without the fields this mode does not store."""
        if self.dropped_lead_fields.isdisjoint(values):
            return values
        return {k: v for k, v in values.items() if k not in self.dropped_lead_fields}

    def check_legal_basis(self, source_slug: str, legal_basis: str | None) -> None:
        """Refuse collection from a source without a recorded legal basis when the mode requires one."""
        if self.require_legal_basis and not (legal_basis or "").strip():
            raise PermissionDeniedError(
                f"privacy mode {self.mode.value} refuses to collect from source {source_slug!r}: it has no "
                "recorded legal basis (set the source's legal_basis first)")

    # ------------------------------------------------------------------ retention

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Rows older than these times are purged (see ``privacy.service.purge``)."""
        r = self.retention
        return {"raw_payload": now - timedelta(days=r.raw_payload_days),
                "observation": now - timedelta(days=r.observation_days),
                "signal": now - timedelta(days=r.signal_days),
                "dsar_record": now - timedelta(days=r.dsar_record_days)}

    def describe(self) -> dict[str, Any]:
        """The configuration as shown by ``upswing privacy config`` and ``GET /api/v1/privacy/config``."""
        r = self.retention
        return {
            "mode": self.mode.value,
            "default_regime": self.default_regime.value,
            "keep_raw_payloads": self.keep_raw_payloads,
            "require_source_legal_basis": self.require_legal_basis,
            "never_stored_raw_keys": sorted(self.never_stored_raw_keys),
            "dropped_lead_fields": sorted(self.dropped_lead_fields),
            "dropped_profile_fields": sorted(self.dropped_profile_fields),
            "retention_days": {"raw_payload": r.raw_payload_days, "observation": r.observation_days,
                               "signal": r.signal_days, "contact_ledger": r.contact_ledger_days,
                               "dsar_record": r.dsar_record_days, "audit": r.audit_days},
        }


def policy_for(settings: Settings) -> PrivacyPolicy:
    mode = PrivacyMode(settings.privacy_mode)
    base = _DEFAULTS[mode]
    retention = Retention(
        raw_payload_days=base.raw_payload_days if settings.retention_raw_payload_days is None
        else settings.retention_raw_payload_days,
        observation_days=settings.retention_observation_days or base.observation_days,
        signal_days=settings.retention_signal_days or base.signal_days,
    )
    strict = mode is PrivacyMode.GDPR_STRICT
    return PrivacyPolicy(
        mode=mode, retention=retention,
        # A raw-payload retention of 0 days means the same as strict mode: never store it.
        keep_raw_payloads=not strict and retention.raw_payload_days > 0,
        require_legal_basis=strict,
        dropped_lead_fields=STRICT_DROPPED_LEAD_FIELDS if strict else frozenset(),
        dropped_profile_fields=STRICT_DROPPED_PROFILE_FIELDS if strict else frozenset(),
    )


def current() -> PrivacyPolicy:
    """The policy of the running configuration (settings are cached, so this is cheap)."""
    return policy_for(get_settings())
