"""The contact guard's rules. Pure: plain data in (the lead's facts, the ledger, the rule settings), a decision
out — no database, no clock. ``service.check_contact`` gathers the facts and calls ``evaluate``.

The rules and Upswing's reading of each are in ``docs/compliance.md`` (source: the compliance reference).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator, model_validator

from upswing.compliance import zones as tz


class Channel(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    SOCIAL_DM = "social_dm"
    SOCIAL_PUBLIC = "social_public"


class Flag(StrEnum):
    CEASE = "cease"
    ATTORNEY = "attorney"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    DISPUTE = "dispute"


class Reason(StrEnum):
    """Reason codes, in the order a decision lists them."""

    CEASE = "cease"
    ATTORNEY = "attorney"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    DISPUTE = "dispute"
    OPTED_OUT = "opted_out"
    NO_TCPA_CONSENT = "no_tcpa_consent"
    WORKPLACE = "workplace"
    PUBLIC_SOCIAL = "public_social"
    SOCIAL_DM_DISABLED = "social_dm_disabled"
    TIME_WINDOW = "time_window"
    CALL_FREQUENCY_7IN7 = "call_frequency_7in7"
    AFTER_CONVERSATION_7D = "after_conversation_7d"
    STATE_MA_2IN7 = "state_ma_2in7"


_REASON_ORDER = {code.value: index for index, code in enumerate(Reason)}


class TargetKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    SOCIAL = "social"


class TargetType(StrEnum):
    """What kind of number or address a target is. ``None`` (not a member) means unknown."""

    CELL = "cell"
    HOME = "home"
    WORK = "work"
    OTHER = "other"
    PERSONAL = "personal"  # an e-mail address that is not the employer's


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


PHONE_CHANNELS = frozenset({Channel.CALL, Channel.SMS})
#: Targets of these types are "other numbers" for state rules; everything else (unknown too) counts as personal.
_NON_PERSONAL = frozenset({TargetType.WORK, TargetType.OTHER})


class TargetError(ValueError):
    """A target that cannot be read as a phone number or address for the channel."""


# --------------------------------------------------------------------------------------------
# Rule settings (stored as overrides in ``compliance_settings``; the defaults are the strict reading)
# --------------------------------------------------------------------------------------------


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


#: A local wall-clock time, written ``HH:MM`` (no date, no zone: it is the consumer's local time).
ClockTime = Annotated[
    time, PlainSerializer(_clock, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "examples": ["08:00"],
                    "description": "Local time HH:MM"}),
]


class StateRule(BaseModel):
    """A state's limit on telephone communications (calls, texts) per debt; Massachusetts is the first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: str = Field(min_length=2, max_length=2, description="USPS code of the state of residence")
    code: str = Field(pattern=r"^[a-z0-9_]+$", max_length=40, description="Reason code reported when it blocks")
    enabled: bool = True
    channels: tuple[Channel, ...] = (Channel.CALL, Channel.SMS)
    personal_limit: int = Field(default=2, ge=1, le=1000,
                                description="Blocked once this many went to personal numbers…")
    personal_hours: int = Field(default=168, ge=1, le=8784, description="…in this many hours before")
    other_limit: int = Field(default=2, ge=1, le=1000, description="Blocked once this many went to other numbers…")
    other_hours: int = Field(default=720, ge=1, le=8784, description="…in this many hours before")

    @field_validator("state")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


MASSACHUSETTS = StateRule(state="MA", code=Reason.STATE_MA_2IN7.value)
#: Refusals that the rules themselves lift with the consumer's prior consent given directly to the collector
#: (Reg F 1006.6(b)(1) inconvenient times, 1006.6(b)(3) workplace, 1006.14(b)(3) the call-frequency presumptions).
#: Flags, opt-outs, missing TCPA consent and state limits are never overridable unless an admin says so.
OVERRIDABLE_BY_DEFAULT: tuple[Reason, ...] = (Reason.WORKPLACE, Reason.TIME_WINDOW, Reason.CALL_FREQUENCY_7IN7,
                                              Reason.AFTER_CONVERSATION_7D)


class RuleConfig(BaseModel):
    """Every setting of the contact guard. Defaults are the strict reading of the rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_start: ClockTime = Field(default=time(8, 0), description="Earliest local time (inclusive)")
    window_end: ClockTime = Field(default=time(21, 0), description="Latest local time (exclusive)")
    window_channels: tuple[Channel, ...] = (Channel.CALL, Channel.SMS, Channel.EMAIL, Channel.SOCIAL_DM)
    blocked_windows_enabled: bool = Field(default=True, description="Honour consumer-designated blocked times")
    call_frequency_enabled: bool = True
    call_frequency_limit: int = Field(default=7, ge=1, le=1000, description="Calls blocked once this many were placed…")
    call_frequency_hours: int = Field(default=168, ge=1, le=8784, description="…in this many hours before")
    conversation_rule_enabled: bool = True
    conversation_quiet_hours: int = Field(default=168, ge=1, le=8784,
                                          description="No call this long after a conversation")
    state_rules: tuple[StateRule, ...] = (MASSACHUSETTS,)
    tcpa_consent_required: bool = True
    unknown_phone_type_needs_consent: bool = Field(
        default=True, description="Treat a number of unknown type as a cell number for TCPA consent")
    opt_out_enabled: bool = True
    workplace_rule_enabled: bool = True
    public_social_blocked: bool = True
    social_dm_enabled: bool = Field(default=False, description="Private social messages (with the disclosure)")
    flag_exempt_channels: dict[Flag, tuple[Channel, ...]] = Field(
        default_factory=dict, description="Channels a flag does not block (e.g. letters for the limited notices "
                                          "allowed after a cease request); none by default")
    override_roles: tuple[str, ...] = Field(
        default=(), description="Roles that may act on a signal despite the guard's refusal, giving a written "
                                "reason (a documented exception such as the consumer's direct prior consent); "
                                "none by default")
    overridable_reasons: tuple[Reason, ...] = Field(
        default=OVERRIDABLE_BY_DEFAULT,
        description="Refusals an override may set aside: the rules that have a consumer-consent exception")

    @model_validator(mode="after")
    def _window_in_order(self) -> RuleConfig:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        states = [rule.state for rule in self.state_rules]
        if len(states) != len(set(states)):
            raise ValueError("state_rules has the same state twice")
        return self


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneOnFile:
    number: str  # E.164
    type: TargetType | None = None


@dataclass(frozen=True, slots=True)
class BlockedWindow:
    """A time the consumer said is inconvenient, in their local time. ``end_minute`` ≤ ``start_minute``
    wraps past midnight; ``days`` (0 = Monday) are the days the window starts on (empty: every day);
    ``channels`` empty means every channel the time window covers."""

    start_minute: int
    end_minute: int
    days: frozenset[int] = frozenset()
    channels: frozenset[Channel] = frozenset()


@dataclass(frozen=True, slots=True)
class LeadFacts:
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    timezone: str | None = None
    #: Primary number first.
    phones: tuple[PhoneOnFile, ...] = ()
    #: Primary address first.
    emails: tuple[str, ...] = ()
    employer_names: tuple[str, ...] = ()
    employer_domains: tuple[str, ...] = ()
    flags: frozenset[Flag] = frozenset()
    blocked_windows: tuple[BlockedWindow, ...] = ()

    @property
    def region(self) -> str:
        return (self.country or "US").upper()

    def residence_states(self) -> frozenset[str]:
        """States the address places the lead in (the state field and the ZIP's state may disagree)."""
        if (self.country or "US").upper() != "US":
            return frozenset()  # US state rules apply to US residents only
        states = {self.state.upper()} if self.state else set()
        zip_state = tz.state_for_zip(self.postal_code)
        if zip_state:
            states.add(zip_state)
        return frozenset(states)


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    value: str  # normalized: E.164 for phones, lowercase for e-mail
    type: TargetType | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    channel: Channel
    at: datetime
    direction: Direction = Direction.OUTBOUND
    conversation: bool = False
    target_type: TargetType | None = None

    @property
    def personal(self) -> bool:
        return self.target_type not in _NON_PERSONAL


@dataclass(frozen=True, slots=True)
class ContactRequest:
    channel: Channel
    at: datetime
    autodialed: bool = False
    target: Target | None = None
    #: Whether the target is on the suppression list / has valid TCPA consent (looked up by the service).
    suppressed: bool = False
    consented: bool = False


@dataclass(frozen=True, slots=True)
class GuardDecision:
    allowed: bool
    reasons: list[str]
    next_allowed_at: datetime | None

    def as_contract(self) -> dict[str, Any]:
        """The stable JSON shape of ``upswing compliance check`` and ``POST /api/v1/compliance/check``."""
        return {"allowed": self.allowed, "reasons": list(self.reasons),
                "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None}


# --------------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------------

_PHONE_LIKE = re.compile(r"^[\d\s()+.\-/]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_phone(value: str, region: str = "US") -> str:
    """E.164 form of a phone number; TargetError if it is not a valid number."""
    try:
        parsed = phonenumbers.parse(value, region or "US")
    except phonenumbers.NumberParseException as exc:
        raise TargetError(f"{value!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise TargetError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise TargetError(f"{value!r} is not an e-mail address")
    return email


def parse_target(value: str, *, channel: Channel | None = None, region: str = "US") -> Target:
    """A target read for a channel (call/sms: a phone number; email: an address; letter: a postal address;
    social: a handle). Without a channel the shape decides: ``@`` → e-mail, digits → phone, else postal."""
    value = value.strip()
    if not value:
        raise TargetError("the target is empty")
    if channel in PHONE_CHANNELS:
        return Target(TargetKind.PHONE, normalize_phone(value, region))
    if channel is Channel.EMAIL:
        return Target(TargetKind.EMAIL, normalize_email(value))
    if channel in (Channel.SOCIAL_DM, Channel.SOCIAL_PUBLIC):
        return Target(TargetKind.SOCIAL, " ".join(value.lower().split()))
    if channel is None:
        if "@" in value and _EMAIL.match(value):
            return Target(TargetKind.EMAIL, normalize_email(value))
        if _PHONE_LIKE.match(value):
            return Target(TargetKind.PHONE, normalize_phone(value, region))
    return Target(TargetKind.ADDRESS, " ".join(value.lower().split()))


FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com", "hotmail.com", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me",
    "gmx.com", "gmx.net", "mail.com", "zoho.com", "yandex.com", "comcast.net", "att.net", "sbcglobal.net",
    "verizon.net", "cox.net", "charter.net", "earthlink.net", "bellsouth.net", "optonline.net", "fastmail.com",
    "hey.com", "tutanota.com", "yahoo.co.uk", "hotmail.co.uk", "example.com", "example.org", "example.net",
})
_ORG_SUFFIXES = frozenset({"inc", "llc", "llp", "lp", "ltd", "co", "corp", "corporation", "company", "group",
                           "holdings", "plc", "gmbh", "the", "and", "of"})
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})


def _domain_label(domain: str) -> str:
    """The registrable name of a domain: ``mail.acme.co.uk`` → ``acme``."""
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        labels = labels[:-1]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _clean_domain(value: str) -> str:
    value = value.strip().lower()
    value = re.sub(r"^[a-z]+://", "", value).split("/")[0].split("@")[-1]
    return value.removeprefix("www.")


def is_employer_email(email: str, *, employer_domains: Iterable[str], employer_names: Iterable[str]) -> bool:
    """Whether an e-mail address is on a domain of the lead's employer (current or newly signalled)."""
    domain = email.rsplit("@", 1)[-1].lower()
    if domain in FREE_MAIL_DOMAINS:
        return False
    for employer_domain in employer_domains:
        cleaned = _clean_domain(employer_domain)
        if cleaned and (domain == cleaned or domain.endswith("." + cleaned)):
            return True
    label = _domain_label(domain)
    for name in employer_names:
        words = [w for w in re.findall(r"[a-z0-9]+", name.lower()) if w not in _ORG_SUFFIXES]
        if not words:
            continue
        if label == "".join(words) or (len(words[0]) >= 4 and label == words[0]):
            return True
    return False


def classify_target(target: Target, lead: LeadFacts) -> Target:
    """The target with its type: a phone's type from the lead's numbers on file (unknown if not on file);
    an e-mail is ``work`` on the employer's domain, else ``personal``. An explicit type is kept."""
    if target.type is not None:
        return target
    if target.kind is TargetKind.PHONE:
        for phone in lead.phones:
            if phone.number == target.value:
                return Target(target.kind, target.value, phone.type)
        return target
    if target.kind is TargetKind.EMAIL:
        work = is_employer_email(target.value, employer_domains=lead.employer_domains,
                                 employer_names=lead.employer_names)
        return Target(target.kind, target.value, TargetType.WORK if work else TargetType.PERSONAL)
    return target


def resolve_target(channel: Channel, raw: str | None, lead: LeadFacts) -> Target | None:
    """The target a check or a ledger entry is about: the given one, else the lead's primary number (call,
    sms) or primary e-mail (email); None when there is none (letters and social without a target)."""
    if raw is not None and raw.strip():
        return classify_target(parse_target(raw, channel=channel, region=lead.region), lead)
    if channel in PHONE_CHANNELS and lead.phones:
        primary = lead.phones[0]
        return Target(TargetKind.PHONE, primary.number, primary.type)
    if channel is Channel.EMAIL and lead.emails:
        return classify_target(Target(TargetKind.EMAIL, lead.emails[0]), lead)
    return None


# --------------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------------


def candidate_zones(lead: LeadFacts, target: Target | None) -> tuple[str, ...]:
    """Every zone the consumer may be in. The address decides; the phone's area code (the target's, else the
    primary number's) is added when it disagrees with the address, and decides alone when there is no
    address; with neither, every contiguous-US zone."""
    from_address = tz.address_zones(timezone=lead.timezone, state=lead.state, postal_code=lead.postal_code,
                                    country=lead.country)
    number = target.value if target is not None and target.kind is TargetKind.PHONE else (
        lead.phones[0].number if lead.phones else None)
    from_phone = tz.phone_zones(number, region=lead.region)
    if from_address and from_phone and set(from_address) & set(from_phone):
        return from_address  # the area code is consistent with the address
    zones = tuple(dict.fromkeys((*from_address, *from_phone)))
    return zones or tz.CONTIGUOUS_US_ZONES


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------

#: How far ahead ``next_allowed_at`` is searched; a contact not possible within it counts as never.
SEARCH_HORIZON = timedelta(days=400)
_MAX_STEPS = 5000
_DAY_MINUTES = 24 * 60


@dataclass(slots=True)
class _Check:
    """One rule's verdict at an instant: blocked, and from when it may stop blocking (None: not by waiting)."""

    code: str
    clear_at: datetime | None


@dataclass(slots=True)
class _Context:
    request: ContactRequest
    lead: LeadFacts
    config: RuleConfig
    zones: tuple[str, ...]
    calls: list[datetime] = field(default_factory=list)  # outbound call attempts, ascending
    conversations: list[datetime] = field(default_factory=list)  # calls with a conversation, ascending
    #: (state rule, its matching outbound entries, ascending) for rules that apply to this lead and target.
    state_entries: list[tuple[StateRule, bool, list[datetime]]] = field(default_factory=list)


def _minutes(local: datetime) -> float:
    return local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60_000_000


def _at_minute(day: date, minute: int, zone_name: str) -> datetime:
    """The instant of a local wall-clock minute (1440 = next midnight) on a day in a zone, in UTC."""
    day += timedelta(days=minute // _DAY_MINUTES)
    minute %= _DAY_MINUTES
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz.zone(zone_name))
    return wall.astimezone(UTC)


def _time_window_clear(ctx: _Context, at: datetime) -> datetime | None:
    """None when the time is fine in every candidate zone; else the next instant worth re-checking."""
    config = ctx.config
    start = config.window_start.hour * 60 + config.window_start.minute
    end = config.window_end.hour * 60 + config.window_end.minute
    windows = [w for w in ctx.lead.blocked_windows
               if not w.channels or ctx.request.channel in w.channels] if config.blocked_windows_enabled else []
    later: list[datetime] = []
    for zone_name in ctx.zones:
        local = at.astimezone(tz.zone(zone_name))
        minute = _minutes(local)
        if minute < start:
            later.append(_at_minute(local.date(), start, zone_name))
            continue
        if minute >= end:
            later.append(_at_minute(local.date() + timedelta(days=1), start, zone_name))
            continue
        for window in windows:
            ends = _blocked_window_end(window, local.date(), minute, zone_name)
            if ends is not None:
                later.append(ends)
    return max(later) if later else None


def _blocked_window_end(window: BlockedWindow, day: date, minute: float, zone_name: str) -> datetime | None:
    """When a blocked window that covers this local moment ends (None if it does not cover it)."""
    weekday = day.weekday()
    yesterday = (weekday - 1) % 7

    def on(weekday_number: int) -> bool:
        return not window.days or weekday_number in window.days

    if window.start_minute < window.end_minute:
        if on(weekday) and window.start_minute <= minute < window.end_minute:
            return _at_minute(day, window.end_minute, zone_name)
        return None
    # Wraps past midnight (or, start == end, the whole day from start to start).
    if on(weekday) and minute >= window.start_minute:
        return _at_minute(day + timedelta(days=1), window.end_minute, zone_name)
    if on(yesterday) and minute < window.end_minute:
        return _at_minute(day, window.end_minute, zone_name)
    return None


def _window_count_clear(times: list[datetime], at: datetime, hours: int, limit: int) -> datetime | None:
    """None if fewer than ``limit`` of ``times`` fall in the ``hours`` before ``at`` (``at`` included);
    else when enough of them have aged out."""
    span = timedelta(hours=hours)
    counted = [t for t in times if at - span < t <= at]
    if len(counted) < limit:
        return None
    return counted[len(counted) - limit] + span


def _checks_at(ctx: _Context, at: datetime) -> list[_Check]:
    request, config, lead = ctx.request, ctx.config, ctx.lead
    channel, target = request.channel, request.target
    checks: list[_Check] = []
    for flag in sorted(lead.flags, key=lambda f: _REASON_ORDER[f.value]):
        if channel not in config.flag_exempt_channels.get(flag, ()):
            checks.append(_Check(flag.value, None))
    if config.opt_out_enabled and request.suppressed:
        checks.append(_Check(Reason.OPTED_OUT, None))
    if (config.tcpa_consent_required and request.autodialed and channel in PHONE_CHANNELS
            and not request.consented):
        target_type = target.type if target is not None else None
        if target_type is TargetType.CELL or (target_type is None and config.unknown_phone_type_needs_consent):
            checks.append(_Check(Reason.NO_TCPA_CONSENT, None))
    if (config.workplace_rule_enabled and target is not None and target.type is TargetType.WORK
            and target.kind in (TargetKind.PHONE, TargetKind.EMAIL)):
        checks.append(_Check(Reason.WORKPLACE, None))
    if channel is Channel.SOCIAL_PUBLIC and config.public_social_blocked:
        checks.append(_Check(Reason.PUBLIC_SOCIAL, None))
    if channel is Channel.SOCIAL_DM and not config.social_dm_enabled:
        checks.append(_Check(Reason.SOCIAL_DM_DISABLED, None))
    if channel in config.window_channels:
        clear = _time_window_clear(ctx, at)
        if clear is not None:
            checks.append(_Check(Reason.TIME_WINDOW, clear))
    if channel is Channel.CALL and config.call_frequency_enabled:
        clear = _window_count_clear(ctx.calls, at, config.call_frequency_hours, config.call_frequency_limit)
        if clear is not None:
            checks.append(_Check(Reason.CALL_FREQUENCY_7IN7, clear))
    if channel is Channel.CALL and config.conversation_rule_enabled:
        clear = _window_count_clear(ctx.conversations, at, config.conversation_quiet_hours, 1)
        if clear is not None:
            checks.append(_Check(Reason.AFTER_CONVERSATION_7D, clear))
    for rule, personal, times in ctx.state_entries:
        hours, limit = (rule.personal_hours, rule.personal_limit) if personal else (rule.other_hours,
                                                                                   rule.other_limit)
        clear = _window_count_clear(times, at, hours, limit)
        if clear is not None:
            checks.append(_Check(rule.code, clear))
    return checks


def _sort_reasons(codes: Iterable[str]) -> list[str]:
    unique = dict.fromkeys(str(code) for code in codes)
    return sorted(unique, key=lambda c: (_REASON_ORDER.get(c, len(_REASON_ORDER)), c))


def evaluate(request: ContactRequest, lead: LeadFacts, ledger: Sequence[LedgerEntry],
             config: RuleConfig | None = None) -> GuardDecision:
    """Every reason that blocks this contact at ``request.at``, and the earliest time ≥ it when none does.

    ``next_allowed_at`` is ``request.at`` itself when allowed, and None when a block does not end by waiting
    (flags, opt-out, consent, workplace, social media) or nothing is possible within ``SEARCH_HORIZON``.
    Ledger entries after an instant never count against it: the search re-evaluates every candidate time.
    """
    config = config or RuleConfig()
    at = _aware(request.at)
    request = ContactRequest(request.channel, at, request.autodialed, request.target, request.suppressed,
                             request.consented)
    ctx = _Context(request=request, lead=lead, config=config, zones=candidate_zones(lead, request.target))
    entries = sorted(ledger, key=lambda e: e.at)
    ctx.calls = [_aware(e.at) for e in entries if e.channel is Channel.CALL and e.direction is Direction.OUTBOUND]
    ctx.conversations = [_aware(e.at) for e in entries if e.channel is Channel.CALL and e.conversation]
    states = lead.residence_states()
    target_personal = request.target is None or request.target.type not in _NON_PERSONAL
    for rule in config.state_rules:
        if rule.enabled and rule.state in states and request.channel in rule.channels:
            times = [_aware(e.at) for e in entries if e.channel in rule.channels
                     and e.direction is Direction.OUTBOUND and e.personal == target_personal]
            ctx.state_entries.append((rule, target_personal, times))

    first = _checks_at(ctx, at)
    reasons = _sort_reasons(check.code for check in first)
    if not first:
        return GuardDecision(True, [], at)
    checks, moment = first, at
    for _ in range(_MAX_STEPS):
        clear_times = [check.clear_at for check in checks]
        if any(clear is None for clear in clear_times):
            return GuardDecision(False, reasons, None)
        moment = max(c for c in clear_times if c is not None)
        if moment - at > SEARCH_HORIZON:
            break
        checks = _checks_at(ctx, moment)
        if not checks:
            return GuardDecision(False, reasons, moment)
    return GuardDecision(False, reasons, None)


def _aware(value: datetime) -> datetime:
    """UTC-aware; a naive datetime is taken to be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# Blocked-window parsing (shared by the API schemas and the CLI)
# --------------------------------------------------------------------------------------------

_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def parse_clock(value: str) -> int:
    """``HH:MM`` (``24:00`` allowed) → minutes after midnight."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day (HH:MM)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{value!r} is not a time of day (HH:MM)")
    return hours * 60 + minutes


def format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_days(values: Iterable[str]) -> frozenset[int]:
    """Day names (``mon``…``sun``, or full names) → weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for value in values:
        key = value.strip().lower()[:3]
        if key not in _DAY_NAMES:
            raise ValueError(f"{value!r} is not a day of the week")
        days.add(_DAY_NAMES[key])
    return frozenset(days)


def day_names(days: Iterable[int]) -> list[str]:
    names = {number: name for name, number in _DAY_NAMES.items()}
    return [names[d] for d in sorted(days)]
