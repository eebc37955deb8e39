"""Tracking rules as plain data: consent per privacy mode, path groups, the property allow-list, retention, and the
engagement strength behind ``portal_engagement`` signals. Pure: no database, no clock (``now`` is passed in).

Engagement (docs/tracking.md, "Behaviour → signals"): over the lead's consented events of the last
``window_days`` days, ``strength = min(1, Σ weight × count)`` with each count capped at ``COUNT_CAP``:

* ``repayment_view``: a page view in the ``repayment`` group (repayment plans, paying);
* ``hardship_view``: a page view in the ``hardship`` group (forbearance, hardship help);
* ``calculator_use``: a ``track`` event named ``calculator_*`` or any event in the ``calculator`` group;
* ``return_visit``: a day with events that follows the previous visit day by at most ``return_visit_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from upswing.settings import Settings

#: Consent states the snippet sends. ``implied`` is a site notice without an explicit choice.
CONSENT_GRANTED = "granted"
CONSENT_IMPLIED = "implied"
CONSENT_NONE = "none"

DEFAULT_PATH_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "repayment": ("/repay", "/repayment", "/payment", "/pay", "/plans", "/settle"),
    "hardship": ("/hardship", "/forbearance", "/help/hardship", "/difficulty"),
    "calculator": ("/calculator", "/calculate", "/estimate"),
    "account": ("/account", "/login", "/profile", "/balance"),
})
OTHER_GROUP = "other"

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "repayment_view": 0.2,
    "hardship_view": 0.25,
    "calculator_use": 0.3,
    "return_visit": 0.15,
})
#: No single kind of behaviour counts more than this many times (ten reloads are not ten intentions).
COUNT_CAP = 3

#: Retention of consented events and visitors (days) per privacy mode; the anonymous daily counts twice as long.
RETENTION_DAYS = MappingProxyType({"standard": 365, "gdpr_strict": 90})

#: Capabilities that are not built, by decision (stated by GET /api/v1/privacy/config).
NOT_BUILT = ("device fingerprinting", "cross-site tracking (third-party cookies, ids shared between sites)",
             "any mode that tracks without consent")


@dataclass(frozen=True)
class TrackingPolicy:
    mode: str
    retention_days: int
    path_groups: Mapping[str, tuple[str, ...]]
    allowed_properties: frozenset[str]
    weights: Mapping[str, float]
    window_days: int = 14
    return_visit_days: int = 7
    signal_min_strength: float = 0.5
    consents: frozenset[str] = field(default=frozenset({CONSENT_GRANTED, CONSENT_IMPLIED}))

    # ------------------------------------------------------------------ consent

    def consented(self, consent: str) -> bool:
        """Whether this consent state allows anything per visitor (gdpr_strict: only an explicit opt-in)."""
        return consent in self.consents

    # ------------------------------------------------------------------ what is kept of a call

    def path_group(self, path: str | None) -> str:
        """The group of a path: the longest configured prefix that matches on a segment boundary."""
        if not path:
            return OTHER_GROUP
        path = path.lower()
        best, best_length = OTHER_GROUP, 0
        for group, prefixes in self.path_groups.items():
            for prefix in prefixes:
                prefix = prefix.lower().rstrip("/") or "/"
                matches = path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "-")
                if matches and len(prefix) > best_length:
                    best, best_length = group, len(prefix)
        return best

    def filter_properties(self, properties: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(kept, dropped names): only allow-listed keys with short scalar values are kept."""
        kept: dict[str, Any] = {}
        dropped: list[str] = []
        for key, value in properties.items():
            scalar = isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 100)
            if key in self.allowed_properties and scalar:
                kept[key] = value
            else:
                dropped.append(key)
        return kept, sorted(dropped)

    # ------------------------------------------------------------------ engagement

    def engagement(self, events: Iterable[tuple[str, str, str, datetime]], now: datetime) -> Engagement:
        """Strength 0–1 and counts from (type, name, path_group, occurred_at) of one lead's events."""
        since = now - timedelta(days=self.window_days)
        counts = {name: 0 for name in DEFAULT_WEIGHTS}
        days: set[date] = set()
        total = 0
        for type_, name, group, at in events:
            if at < since or at > now + timedelta(minutes=5):
                continue
            total += 1
            days.add(at.date())
            if type_ == "page" and group == "repayment":
                counts["repayment_view"] += 1
            elif type_ == "page" and group == "hardship":
                counts["hardship_view"] += 1
            if group == "calculator" or (type_ == "track" and name.startswith("calculator")):
                counts["calculator_use"] += 1
        ordered = sorted(days)
        counts["return_visit"] = sum(1 for a, b in pairwise(ordered)
                                     if (b - a).days <= self.return_visit_days)
        strength = min(1.0, sum(self.weights.get(k, 0.0) * min(v, COUNT_CAP) for k, v in counts.items()))
        return Engagement(strength=round(strength, 4), counts=counts, events=total, visit_days=len(ordered),
                          window_days=self.window_days)

    # ------------------------------------------------------------------ the privacy configuration

    def describe(self) -> dict[str, Any]:
        return {
            "consent_required": True,
            "accepted_consent": sorted(self.consents),
            "explicit_consent_only": self.consents == frozenset({CONSENT_GRANTED}),
            "stored_without_consent": "an anonymous daily count per site and path group (no id, no cookie)",
            "identifiers": "a keyed hash (HMAC-SHA256) of the browser's random first-party id; never the id",
            "first_party_only": True,
            "honours_global_privacy_control": True,
            "retention_days": {"events": self.retention_days, "visitors": self.retention_days,
                               "daily_counts": 2 * self.retention_days},
            "allowed_properties": sorted(self.allowed_properties),
            "not_built_by_decision": list(NOT_BUILT),
        }


@dataclass(frozen=True)
class Engagement:
    strength: float
    counts: dict[str, int]
    events: int
    visit_days: int
    window_days: int

    def details(self) -> dict[str, Any]:
        """What a ``portal_engagement`` signal carries (docs/tracking.md lists the keys)."""
        return {"engagement_strength": self.strength, "counts": dict(self.counts), "events": self.events,
                "visit_days": self.visit_days, "window_days": self.window_days}


def policy_for(settings: Settings) -> TrackingPolicy:
    mode = settings.privacy_mode
    groups = {**DEFAULT_PATH_GROUPS, **{k: tuple(v) for k, v in settings.tracking_path_groups.items()}}
    return TrackingPolicy(
        mode=mode,
        retention_days=settings.tracking_retention_days or RETENTION_DAYS[mode],
        path_groups=MappingProxyType(groups),
        allowed_properties=frozenset(settings.tracking_allowed_properties),
        weights=MappingProxyType({**DEFAULT_WEIGHTS, **settings.tracking_engagement_weights}),
        window_days=settings.tracking_engagement_window_days,
        return_visit_days=settings.tracking_return_visit_days,
        signal_min_strength=settings.tracking_signal_min_strength,
        # gdpr_strict: consent must be explicit (GDPR Art. 4(11), 7; ePrivacy Art. 5(3)): no implied consent.
        consents=frozenset({CONSENT_GRANTED}) if mode == "gdpr_strict"
        else frozenset({CONSENT_GRANTED, CONSENT_IMPLIED}),
    )
