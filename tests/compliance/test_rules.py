"""The contact guard's pure rules: every reason code, time zones (DST both ways, Hawaii, Alaska, Puerto Rico,
unknown, conflicting area codes), Massachusetts, and the exact ``next_allowed_at``. No database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from upswing.compliance.rules import (
    BlockedWindow,
    Channel,
    ContactRequest,
    Direction,
    Flag,
    LeadFacts,
    LedgerEntry,
    PhoneOnFile,
    RuleConfig,
    StateRule,
    Target,
    TargetError,
    TargetKind,
    TargetType,
    candidate_zones,
    evaluate,
    is_employer_email,
    parse_target,
    resolve_target,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NY = LeadFacts(state="NY", postal_code="10001", country="US", timezone="America/New_York",
               phones=(PhoneOnFile("+12125550123", TargetType.CELL),))
UNKNOWN = LeadFacts()
HAWAII = LeadFacts(state="HI", country="US", timezone="Pacific/Honolulu",
                   phones=(PhoneOnFile("+18085550123", TargetType.CELL),))
ALASKA = LeadFacts(state="AK", country="US", timezone="America/Anchorage",
                   phones=(PhoneOnFile("+19075550123", TargetType.CELL),))
ALASKA_PHONE_ONLY = LeadFacts(phones=(PhoneOnFile("+19075550123", TargetType.CELL),))
PUERTO_RICO = LeadFacts(state="PR", country="US", timezone="America/Puerto_Rico",
                        phones=(PhoneOnFile("+17875550123", TargetType.CELL),))
# The address says New York, the phone's area code (415) says California.
CONFLICT = LeadFacts(state="NY", country="US", timezone="America/New_York",
                     phones=(PhoneOnFile("+14155550123", TargetType.CELL),))
TOLL_FREE_ONLY = LeadFacts(phones=(PhoneOnFile("+18005550199", TargetType.HOME),))
MA = LeadFacts(state="MA", postal_code="02139", country="US", timezone="America/New_York",
               phones=(PhoneOnFile("+16175550123", TargetType.CELL), PhoneOnFile("+16175550777", TargetType.OTHER)))


@dataclass(frozen=True)
class Case:
    name: str
    lead: LeadFacts
    at: str
    allowed: bool
    reasons: list[str]
    next_at: str | None
    channel: Channel = Channel.CALL
    ledger: tuple[LedgerEntry, ...] = ()
    autodialed: bool = False
    target: str | None = None
    suppressed: bool = False
    consented: bool = False
    config: RuleConfig = field(default_factory=RuleConfig)


def call(at: str, **kwargs: object) -> LedgerEntry:
    return LedgerEntry(Channel.CALL, utc(at), **kwargs)  # type: ignore[arg-type]


def sms(at: str, **kwargs: object) -> LedgerEntry:
    return LedgerEntry(Channel.SMS, utc(at), **kwargs)  # type: ignore[arg-type]


SEVEN_CALLS = tuple(call(f"2026-01-{day:02d}T15:00:00") for day in range(5, 12))  # 10:00 EST, Jan 5–11

TIME_CASES = [
    # --- New York, winter (EST, UTC-5) and the edges of 08:00–21:00
    Case("ny 07:59 is too early", NY, "2026-01-15T12:59:00", False, ["time_window"], "2026-01-15T13:00:00"),
    Case("ny 08:00 is allowed", NY, "2026-01-15T13:00:00", True, [], "2026-01-15T13:00:00"),
    Case("ny 20:59 is allowed", NY, "2026-01-16T01:59:00", True, [], "2026-01-16T01:59:00"),
    Case("ny 21:00 is too late: next morning", NY, "2026-01-16T02:00:00", False, ["time_window"],
         "2026-01-16T13:00:00"),
    # --- DST starts Sunday 2026-03-08 02:00 local: the next morning's 08:00 is EDT (12:00 UTC), not 13:00
    Case("dst spring: saturday 21:30 EST waits for sunday 08:00 EDT", NY, "2026-03-08T02:30:00", False,
         ["time_window"], "2026-03-08T12:00:00"),
    Case("dst spring: 01:00 EST before the change", NY, "2026-03-08T06:00:00", False, ["time_window"],
         "2026-03-08T12:00:00"),
    Case("dst spring: 07:30 EDT after the change", NY, "2026-03-08T11:30:00", False, ["time_window"],
         "2026-03-08T12:00:00"),
    Case("dst spring: 08:00 EDT is allowed", NY, "2026-03-08T12:00:00", True, [], "2026-03-08T12:00:00"),
    # --- DST ends Sunday 2026-11-01 02:00 local: the next 08:00 is EST (13:00 UTC)
    Case("dst fall: saturday 21:30 EDT waits for sunday 08:00 EST", NY, "2026-11-01T01:30:00", False,
         ["time_window"], "2026-11-01T13:00:00"),
    Case("dst fall: the repeated 01:30", NY, "2026-11-01T06:30:00", False, ["time_window"], "2026-11-01T13:00:00"),
    Case("dst fall: 07:59 EST", NY, "2026-11-01T12:59:00", False, ["time_window"], "2026-11-01T13:00:00"),
    Case("dst fall: 20:59 EST on the change day", NY, "2026-11-02T01:59:00", True, [], "2026-11-02T01:59:00"),
    # --- Hawaii: HST (UTC-10) all year
    Case("hawaii winter 07:59", HAWAII, "2026-01-15T17:59:00", False, ["time_window"], "2026-01-15T18:00:00"),
    Case("hawaii summer 07:59 (no DST)", HAWAII, "2026-07-15T17:59:00", False, ["time_window"],
         "2026-07-15T18:00:00"),
    Case("hawaii 20:00 is allowed", HAWAII, "2026-07-16T06:00:00", True, [], "2026-07-16T06:00:00"),
    # --- Alaska: AKST (UTC-9), AKDT (UTC-8); 907 also covers the Aleutians (Adak), consistent with the address
    Case("alaska winter 07:59", ALASKA, "2026-01-15T16:59:00", False, ["time_window"], "2026-01-15T17:00:00"),
    Case("alaska summer 07:59", ALASKA, "2026-07-15T15:59:00", False, ["time_window"], "2026-07-15T16:00:00"),
    Case("alaska phone only: must also suit Adak (UTC-10)", ALASKA_PHONE_ONLY, "2026-01-15T17:00:00", False,
         ["time_window"], "2026-01-15T18:00:00"),
    # --- Puerto Rico: AST (UTC-4) all year
    Case("puerto rico winter 07:59", PUERTO_RICO, "2026-01-15T11:59:00", False, ["time_window"],
         "2026-01-15T12:00:00"),
    Case("puerto rico summer 07:59 (no DST)", PUERTO_RICO, "2026-07-15T11:59:00", False, ["time_window"],
         "2026-07-15T12:00:00"),
    Case("puerto rico 21:00", PUERTO_RICO, "2026-07-16T01:00:00", False, ["time_window"], "2026-07-16T12:00:00"),
    # --- Unknown: every contiguous-US zone, so 11:00–21:00 Eastern
    Case("unknown 10:59 ET (07:59 PT)", UNKNOWN, "2026-01-15T15:59:00", False, ["time_window"],
         "2026-01-15T16:00:00"),
    Case("unknown 11:00 ET is allowed", UNKNOWN, "2026-01-15T16:00:00", True, [], "2026-01-15T16:00:00"),
    Case("unknown 20:59 ET is allowed", UNKNOWN, "2026-01-16T01:59:00", True, [], "2026-01-16T01:59:00"),
    Case("unknown 21:00 ET: next day 11:00 ET", UNKNOWN, "2026-01-16T02:00:00", False, ["time_window"],
         "2026-01-16T16:00:00"),
    Case("unknown summer 10:59 EDT", UNKNOWN, "2026-07-15T14:59:00", False, ["time_window"], "2026-07-15T15:00:00"),
    Case("a toll-free number says nothing about where", TOLL_FREE_ONLY, "2026-01-15T15:00:00", False,
         ["time_window"], "2026-01-15T16:00:00"),
    # --- Conflicting: address Eastern, area code Pacific → allowed only when both are in 08:00–21:00
    Case("conflict: 10:00 ET is 07:00 PT", CONFLICT, "2026-01-15T15:00:00", False, ["time_window"],
         "2026-01-15T16:00:00"),
    Case("conflict: 11:00 ET is 08:00 PT", CONFLICT, "2026-01-15T16:00:00", True, [], "2026-01-15T16:00:00"),
    Case("conflict: 21:00 ET is 18:00 PT", CONFLICT, "2026-01-16T02:00:00", False, ["time_window"],
         "2026-01-16T16:00:00"),
    Case("conflict: a target with an Eastern area code agrees with the address", CONFLICT, "2026-01-15T13:30:00",
         True, [], "2026-01-15T13:30:00", target="+12125550123"),
    # --- Letters have no time window; e-mail and texts do
    Case("letter at 03:00", NY, "2026-01-15T08:00:00", True, [], "2026-01-15T08:00:00", channel=Channel.LETTER),
    Case("email at 03:00", NY, "2026-01-15T08:00:00", False, ["time_window"], "2026-01-15T13:00:00",
         channel=Channel.EMAIL),
    Case("sms at 22:00", NY, "2026-01-16T03:00:00", False, ["time_window"], "2026-01-16T13:00:00",
         channel=Channel.SMS),
]

BLOCKED_NOON = replace(NY, blocked_windows=(BlockedWindow(12 * 60, 13 * 60, channels=frozenset({Channel.CALL})),))
NO_SUNDAYS = replace(NY, blocked_windows=(BlockedWindow(0, 24 * 60, days=frozenset({6})),))
NO_EVENINGS = replace(NY, blocked_windows=(BlockedWindow(18 * 60, 9 * 60),))  # 18:00 → 09:00 next day

CONSUMER_WINDOW_CASES = [
    Case("no calls 12:00–13:00: 12:30 waits for 13:00", BLOCKED_NOON, "2026-01-15T17:30:00", False,
         ["time_window"], "2026-01-15T18:00:00"),
    Case("no calls 12:00–13:00: e-mail is not covered", BLOCKED_NOON, "2026-01-15T17:30:00", True, [],
         "2026-01-15T17:30:00", channel=Channel.EMAIL),
    Case("not on Sundays: waits for Monday 08:00", NO_SUNDAYS, "2026-01-18T15:00:00", False, ["time_window"],
         "2026-01-19T13:00:00"),
    Case("not on Sundays: Saturday is fine", NO_SUNDAYS, "2026-01-17T15:00:00", True, [], "2026-01-17T15:00:00"),
    Case("not after 18:00 until 09:00: 19:00 waits for 09:00", NO_EVENINGS, "2026-01-16T00:00:00", False,
         ["time_window"], "2026-01-16T14:00:00"),
    Case("not after 18:00 until 09:00: 08:30 waits for 09:00", NO_EVENINGS, "2026-01-16T13:30:00", False,
         ["time_window"], "2026-01-16T14:00:00"),
]

FREQUENCY_CASES = [
    Case("7 calls in 7 days: blocked until the oldest is 168 h old", NY, "2026-01-11T20:00:00", False,
         ["call_frequency_7in7"], "2026-01-12T15:00:00", ledger=SEVEN_CALLS),
    Case("6 calls are fine", NY, "2026-01-11T20:00:00", True, [], "2026-01-11T20:00:00", ledger=SEVEN_CALLS[1:]),
    Case("exactly 168 h after the oldest it no longer counts", NY, "2026-01-12T15:00:00", True, [],
         "2026-01-12T15:00:00", ledger=SEVEN_CALLS),
    Case("texts are not calls", NY, "2026-01-11T20:00:00", True, [], "2026-01-11T20:00:00",
         ledger=tuple(replace(e, channel=Channel.SMS) for e in SEVEN_CALLS)),
    Case("calls from the consumer are not attempts", NY, "2026-01-11T20:00:00", True, [], "2026-01-11T20:00:00",
         ledger=tuple(replace(e, direction=Direction.INBOUND) for e in SEVEN_CALLS)),
    Case("e-mail is not limited by calls", NY, "2026-01-11T20:00:00", True, [], "2026-01-11T20:00:00",
         channel=Channel.EMAIL, ledger=SEVEN_CALLS),
    Case("ageing out at night moves into the next morning", NY, "2026-01-11T20:00:00", False,
         ["call_frequency_7in7"], "2026-01-12T13:00:00",
         ledger=(call("2026-01-05T03:00:00"), *SEVEN_CALLS[1:])),
    Case("both the hour and the count: the later of the two", NY, "2026-01-12T03:00:00", False,
         ["time_window", "call_frequency_7in7"], "2026-01-12T15:00:00", ledger=SEVEN_CALLS),
    Case("limit 3 from the settings", NY, "2026-01-11T20:00:00", False, ["call_frequency_7in7"],
         "2026-01-16T15:00:00", ledger=SEVEN_CALLS, config=RuleConfig(call_frequency_limit=3)),
    Case("frequency rule off", NY, "2026-01-11T20:00:00", True, [], "2026-01-11T20:00:00", ledger=SEVEN_CALLS,
         config=RuleConfig(call_frequency_enabled=False)),
]

CONVERSATION = call("2026-01-10T16:00:00", conversation=True)
CONVERSATION_CASES = [
    Case("a conversation 2 days ago blocks calls for 7 days", NY, "2026-01-12T16:00:00", False,
         ["after_conversation_7d"], "2026-01-17T16:00:00", ledger=(CONVERSATION,)),
    Case("7 days after, calls are fine", NY, "2026-01-17T16:00:00", True, [], "2026-01-17T16:00:00",
         ledger=(CONVERSATION,)),
    Case("a conversation on the consumer's call counts", NY, "2026-01-12T16:00:00", False,
         ["after_conversation_7d"], "2026-01-17T16:00:00",
         ledger=(replace(CONVERSATION, direction=Direction.INBOUND),)),
    Case("an e-mail after a conversation is fine", NY, "2026-01-12T16:00:00", True, [], "2026-01-12T16:00:00",
         channel=Channel.EMAIL, ledger=(CONVERSATION,)),
    Case("an attempt without conversation does not", NY, "2026-01-12T16:00:00", True, [], "2026-01-12T16:00:00",
         ledger=(call("2026-01-10T16:00:00"),)),
]

MA_TWO = (call("2026-01-12T15:00:00"), sms("2026-01-13T15:00:00"))
MA_CASES = [
    Case("MA: 2 calls/texts to personal numbers in 7 days block a call", MA, "2026-01-14T15:00:00", False,
         ["state_ma_2in7"], "2026-01-19T15:00:00", ledger=MA_TWO),
    Case("MA: ... and a text", MA, "2026-01-14T15:00:00", False, ["state_ma_2in7"], "2026-01-19T15:00:00",
         channel=Channel.SMS, ledger=MA_TWO),
    Case("MA: an e-mail is not a telephone communication", MA, "2026-01-14T15:00:00", True, [],
         "2026-01-14T15:00:00", channel=Channel.EMAIL, ledger=MA_TWO),
    Case("MA: one is fine", MA, "2026-01-14T15:00:00", True, [], "2026-01-14T15:00:00", ledger=MA_TWO[:1]),
    Case("not MA: two are fine", NY, "2026-01-14T15:00:00", True, [], "2026-01-14T15:00:00", ledger=MA_TWO),
    Case("MA by ZIP code alone", LeadFacts(postal_code="02139"), "2026-01-14T17:00:00", False, ["state_ma_2in7"],
         "2026-01-19T15:00:00", ledger=MA_TWO),
    Case("MA: calls to other numbers do not count against personal ones", MA, "2026-01-14T15:00:00", True, [],
         "2026-01-14T15:00:00",
         ledger=tuple(replace(e, target_type=TargetType.OTHER) for e in MA_TWO)),
    Case("MA: other numbers: 2 in 30 days", MA, "2026-01-14T15:00:00", False, ["state_ma_2in7"],
         "2026-01-31T15:00:00", target="+16175550777",
         ledger=(call("2026-01-01T15:00:00", target_type=TargetType.OTHER),
                 call("2026-01-05T15:00:00", target_type=TargetType.OTHER))),
    Case("MA rule off", MA, "2026-01-14T15:00:00", True, [], "2026-01-14T15:00:00", ledger=MA_TWO,
         config=RuleConfig(state_rules=(StateRule(state="MA", code="state_ma_2in7", enabled=False),))),
]

EMPLOYED = replace(NY, employer_names=("Acme Corp",), employer_domains=("initech.com",),
                   phones=(PhoneOnFile("+12125550123", TargetType.CELL), PhoneOnFile("+12125550777", TargetType.WORK),
                           PhoneOnFile("+12125550888", TargetType.HOME), PhoneOnFile("+12125550999", None)),
                   emails=("jordan@gmail.com",))
NOON = "2026-01-15T17:00:00"
HARD_CASES = [
    *[Case(f"flag {flag.value}", replace(NY, flags=frozenset({flag})), NOON, False, [flag.value], None)
      for flag in Flag],
    Case("flags block letters too", replace(NY, flags=frozenset({Flag.CEASE})), NOON, False, ["cease"], None,
         channel=Channel.LETTER),
    Case("cease with letters exempted by an admin", replace(NY, flags=frozenset({Flag.CEASE})), NOON, True, [],
         NOON, channel=Channel.LETTER, config=RuleConfig(flag_exempt_channels={Flag.CEASE: (Channel.LETTER,)})),
    Case("every flag is listed", replace(NY, flags=frozenset({Flag.DISPUTE, Flag.ATTORNEY})), NOON, False,
         ["attorney", "dispute"], None),
    Case("opted out", NY, NOON, False, ["opted_out"], None, suppressed=True),
    Case("opted out and at night", NY, "2026-01-15T03:00:00", False, ["opted_out", "time_window"], None,
         suppressed=True),
    Case("autodialed call to a cell without consent", EMPLOYED, NOON, False, ["no_tcpa_consent"], None,
         autodialed=True),
    Case("autodialed text to a cell without consent", EMPLOYED, NOON, False, ["no_tcpa_consent"], None,
         autodialed=True, channel=Channel.SMS),
    Case("autodialed call to a cell with consent", EMPLOYED, NOON, True, [], NOON, autodialed=True,
         consented=True),
    Case("manual call to a cell needs no consent", EMPLOYED, NOON, True, [], NOON),
    Case("autodialed call to a home number needs no consent", EMPLOYED, NOON, True, [], NOON, autodialed=True,
         target="+12125550888"),
    Case("autodialed call to a number of unknown type: treated as a cell", EMPLOYED, NOON, False,
         ["no_tcpa_consent"], None, autodialed=True, target="+12125550999"),
    Case("... unless an admin says otherwise", EMPLOYED, NOON, True, [], NOON, autodialed=True,
         target="+12125550999", config=RuleConfig(unknown_phone_type_needs_consent=False)),
    Case("autodialed e-mail is not a TCPA matter", EMPLOYED, NOON, True, [], NOON, autodialed=True,
         channel=Channel.EMAIL),
    Case("work number", EMPLOYED, NOON, False, ["workplace"], None, target="+12125550777"),
    Case("employer e-mail (employer name)", EMPLOYED, NOON, False, ["workplace"], None, channel=Channel.EMAIL,
         target="jordan.rivera@acme.com"),
    Case("employer e-mail (company domain)", EMPLOYED, NOON, False, ["workplace"], None, channel=Channel.EMAIL,
         target="jr@mail.initech.com"),
    Case("personal e-mail", EMPLOYED, NOON, True, [], NOON, channel=Channel.EMAIL),
    Case("new-job signal's employer: its e-mail is a workplace e-mail",
         replace(EMPLOYED, employer_names=("Acme Corp", "Globex Corporation")), NOON, False, ["workplace"], None,
         channel=Channel.EMAIL, target="jordan@globex.com"),
    Case("public social media, always", NY, NOON, False, ["public_social"], None, channel=Channel.SOCIAL_PUBLIC),
    Case("private social message: off until an admin enables it", NY, NOON, False, ["social_dm_disabled"], None,
         channel=Channel.SOCIAL_DM),
    Case("private social message enabled: time window applies", NY, "2026-01-15T03:00:00", False,
         ["time_window"], "2026-01-15T13:00:00", channel=Channel.SOCIAL_DM,
         config=RuleConfig(social_dm_enabled=True)),
]

ALL_CASES = TIME_CASES + CONSUMER_WINDOW_CASES + FREQUENCY_CASES + CONVERSATION_CASES + MA_CASES + HARD_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_guard_decision(case: Case) -> None:
    target = resolve_target(case.channel, case.target, case.lead)
    request = ContactRequest(case.channel, utc(case.at), case.autodialed, target, case.suppressed, case.consented)
    decision = evaluate(request, case.lead, list(case.ledger), case.config)
    assert decision.reasons == case.reasons
    assert decision.allowed is case.allowed
    expected = utc(case.next_at) if case.next_at else None
    assert decision.next_allowed_at == expected
    contract = decision.as_contract()
    assert set(contract) == {"allowed", "reasons", "next_allowed_at"}
    if expected is not None:  # and the time it names is really allowed
        later = evaluate(replace(request, at=expected), case.lead, list(case.ledger), case.config)
        assert later.allowed and later.next_allowed_at == expected


def test_every_reason_code_is_exercised() -> None:
    exercised = {reason for case in ALL_CASES for reason in case.reasons}
    assert exercised >= {"time_window", "call_frequency_7in7", "after_conversation_7d", "state_ma_2in7", "cease",
                         "attorney", "bankruptcy", "deceased", "dispute", "opted_out", "no_tcpa_consent",
                         "workplace", "public_social"}


def test_next_allowed_is_the_first_allowed_minute() -> None:
    """Brute force: no minute between ``at`` and ``next_allowed_at`` is allowed."""
    lead = replace(CONFLICT, blocked_windows=(BlockedWindow(11 * 60, 12 * 60),))
    ledger = list(SEVEN_CALLS)
    start = utc("2026-01-11T20:00:00")
    decision = evaluate(ContactRequest(Channel.CALL, start), lead, ledger)
    assert decision.next_allowed_at is not None
    moment = start
    while moment < decision.next_allowed_at:
        assert not evaluate(ContactRequest(Channel.CALL, moment), lead, ledger).allowed, moment
        moment += timedelta(minutes=15)
    assert evaluate(ContactRequest(Channel.CALL, decision.next_allowed_at), lead, ledger).allowed


def test_never_allowed_windows_give_no_next_time() -> None:
    lead = replace(NY, blocked_windows=(BlockedWindow(0, 24 * 60),))
    decision = evaluate(ContactRequest(Channel.CALL, utc(NOON)), lead, [])
    assert decision.reasons == ["time_window"] and decision.next_allowed_at is None


def test_later_ledger_entries_do_not_count_against_an_earlier_time() -> None:
    decision = evaluate(ContactRequest(Channel.CALL, utc("2026-01-04T15:00:00")), NY, list(SEVEN_CALLS))
    assert decision.allowed


def test_naive_times_are_utc() -> None:
    decision = evaluate(ContactRequest(Channel.CALL, datetime(2026, 1, 15, 12, 59)), NY, [])
    assert decision.next_allowed_at == utc("2026-01-15T13:00:00")


@pytest.mark.parametrize(("lead", "zones"), [
    (NY, ("America/New_York",)),
    (CONFLICT, ("America/New_York", "America/Los_Angeles")),
    (UNKNOWN, ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles")),
    (LeadFacts(state="TX", postal_code="79901"), ("America/Denver",)),  # El Paso
    (LeadFacts(state="TX", postal_code="79901", timezone="America/Chicago"), ("America/Chicago", "America/Denver")),
    (LeadFacts(state="TX"), ("America/Chicago", "America/Denver")),  # a split state without ZIP: all its zones
    (LeadFacts(state="ID", timezone="America/Boise", phones=(PhoneOnFile("+12085550123"),)), ("America/Boise",)),
    (LeadFacts(postal_code="96813"), ("Pacific/Honolulu",)),
    (LeadFacts(postal_code="00907"), ("America/Puerto_Rico",)),
    (LeadFacts(phones=(PhoneOnFile("+17875550123"),)), ("America/Puerto_Rico",)),
    (LeadFacts(state="FL", postal_code="32501"), ("America/Chicago",)),  # Pensacola
])
def test_candidate_zones(lead: LeadFacts, zones: tuple[str, ...]) -> None:
    assert candidate_zones(lead, None) == zones


def test_targets_are_normalized_and_typed() -> None:
    assert parse_target("(212) 555-0123", channel=Channel.CALL) == Target(TargetKind.PHONE, "+12125550123")
    assert parse_target(" Jordan@Example.COM ") == Target(TargetKind.EMAIL, "jordan@example.com")
    assert parse_target("212-555-0123") == Target(TargetKind.PHONE, "+12125550123")
    assert parse_target("1 Main St, Springfield").kind is TargetKind.ADDRESS
    with pytest.raises(TargetError):
        parse_target("12345", channel=Channel.CALL)
    with pytest.raises(TargetError):
        parse_target("not-an-email", channel=Channel.EMAIL)
    with pytest.raises(TargetError):
        parse_target("555 01")
    assert resolve_target(Channel.CALL, "+1 212 555 0777", EMPLOYED) == Target(TargetKind.PHONE, "+12125550777",
                                                                              TargetType.WORK)
    assert resolve_target(Channel.CALL, None, EMPLOYED) == Target(TargetKind.PHONE, "+12125550123", TargetType.CELL)
    assert resolve_target(Channel.LETTER, None, EMPLOYED) is None


@pytest.mark.parametrize(("email", "names", "domains", "work"), [
    ("a@acme.com", ["Acme Corp"], [], True),
    ("a@acmeanalytics.io", ["Acme Analytics LLC"], [], True),
    ("a@mail.acme.co.uk", ["ACME"], [], True),
    ("a@gmail.com", ["Gmail"], [], False),
    ("a@acme.com", [], ["https://www.acme.com/about"], True),
    ("a@notacme.com", [], ["acme.com"], False),
    ("a@zed.com", ["Acme Corp"], [], False),
])
def test_employer_email(email: str, names: list[str], domains: list[str], work: bool) -> None:
    assert is_employer_email(email, employer_domains=domains, employer_names=names) is work


def test_rule_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="window_start"):
        RuleConfig.model_validate({"window_start": "21:00", "window_end": "08:00"})
    with pytest.raises(ValueError):
        RuleConfig.model_validate({"call_frequency_limit": 0})
    with pytest.raises(ValueError):
        RuleConfig.model_validate({"no_such_rule": True})
    assert RuleConfig.model_validate({"window_end": "20:00"}).window_end.hour == 20


def test_state_rules_apply_to_us_residents_only() -> None:
    # Western Australia's "WA" and a Canadian lead with a stray US state are not US residents.
    assert LeadFacts(state="WA", country="AU").residence_states() == frozenset()
    assert LeadFacts(state="MA", postal_code="02134", country="CA").residence_states() == frozenset()
    assert LeadFacts(state="MA", postal_code="02134", country="US").residence_states() == frozenset({"MA"})
    assert LeadFacts(state="ma").residence_states() == frozenset({"MA"})  # no country: the US
