"""The contact guard's answer in a few words, as a specialist says it: "call now", "call after 8:00 am CT",
"no contact today; next: e-mail Mon 7 Dec 8:00 am CT", "do not contact: cease". Pure formatting: the decisions
come from ``service.check_contacts`` and the flags from ``service.active_flags_of`` (the digest, the alerts and
the dashboard's feed all word the guard's answer the same way).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from upswing.compliance.rules import Channel, Flag, GuardDecision
from upswing.compliance.zones import address_zones
from upswing.lead.models import Lead

#: The channels a specialist picks from when a signal arrives (letters are never refused by the clock).
GUARD_CHANNELS = (Channel.CALL, Channel.SMS, Channel.EMAIL)
#: A lead with any of these may not be contacted about a signal (alerts about it are only a note to the assignee).
RESTRICTING_FLAGS = frozenset({Flag.CEASE, Flag.BANKRUPTCY, Flag.DECEASED, Flag.ATTORNEY, Flag.DISPUTE})

#: US zones as people say them; elsewhere the zone's own abbreviation.
_ZONE_LABELS = {"America/New_York": "ET", "America/Detroit": "ET", "America/Indiana/Indianapolis": "ET",
                "America/Kentucky/Louisville": "ET", "America/Chicago": "CT", "America/Denver": "MT",
                "America/Boise": "MT", "America/Phoenix": "MST", "America/Los_Angeles": "PT",
                "America/Anchorage": "AKT", "Pacific/Honolulu": "HT", "America/Puerto_Rico": "AT"}
_CHANNEL_WORDS = {Channel.CALL: "call", Channel.SMS: "text", Channel.EMAIL: "e-mail"}


def zone_label(zone: str, moment: datetime) -> str:
    """"CT" for America/Chicago; elsewhere the zone's abbreviation at that moment ("CET", "+0530")."""
    return _ZONE_LABELS.get(zone) or moment.astimezone(ZoneInfo(zone)).strftime("%Z")


def clock(moment: datetime) -> str:
    """"8:00 am" (in the moment's own zone)."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


def day_label(day: date, today: date | None = None) -> str:
    """"Tue 8 Dec" (with the year when it is not ``today``'s)."""
    label = f"{day:%a} {day.day} {day:%b}"
    return label if today is None or day.year == today.year else f"{label} {day.year}"


def lead_zone(lead: Lead) -> str | None:
    """The lead's time zone from its address (the first, where the address leaves several), or None."""
    zones = address_zones(timezone=lead.timezone, state=lead.state, postal_code=lead.postal_code,
                          country=lead.country)
    return zones[0] if zones else None


def restricting_flags(flags: frozenset[Flag]) -> list[str]:
    """The flags among these that forbid contact, sorted (``guard_phrase`` takes them joined: "cease, dispute")."""
    return sorted(flag.value for flag in flags & RESTRICTING_FLAGS)


def guard_phrase(lead: Lead, decisions: dict[Channel, GuardDecision], restricted: str | None, now: datetime,
                 fallback_zone: str) -> tuple[str, bool]:
    """The contact guard's answer for today, in a few words, and whether some channel is open today (now or
    later): ("call now", True), ("call after 8:00 am CT", True), ("no contact today; next: e-mail Mon 7 Dec
    8:00 am CT", False), ("do not contact: cease", False). Times are the lead's (``fallback_zone`` when the
    address gives no zone)."""
    if restricted:
        return f"do not contact: {restricted}", False
    allowed = [_CHANNEL_WORDS[channel] for channel, decision in decisions.items()
               if decision.allowed and channel in _CHANNEL_WORDS]
    if allowed:
        return f"{' or '.join(allowed)} now", True
    zone = lead_zone(lead) or fallback_zone
    local_today = now.astimezone(ZoneInfo(zone)).date()
    waiting = sorted((decision.next_allowed_at, channel) for channel, decision in decisions.items()
                     if decision.next_allowed_at is not None and channel in _CHANNEL_WORDS)
    if not waiting:
        reasons = sorted({reason for decision in decisions.values() for reason in decision.reasons})
        return f"not contactable: {', '.join(reasons) or 'no channel'}", False
    moment, channel = waiting[0]
    local = moment.astimezone(ZoneInfo(zone))
    when = f"{clock(local)} {zone_label(zone, moment)}"
    if local.date() == local_today:
        return f"{_CHANNEL_WORDS[channel]} after {when}", True
    return f"no contact today; next: {_CHANNEL_WORDS[channel]} {day_label(local.date(), local_today)} {when}", False
