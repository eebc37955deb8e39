"""What a digest says, for a fixed data set on both databases: golden text and HTML, an e-mail lint, grouping
and caps, the guard's answer for today, the hourly-cap overflow, filters, "still open" and the manager's part."""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role, Team, User
from upswing.alert.models import Alert, AlertDelivery, AlertSignal, DeliveryStatus
from upswing.compliance import service as compliance
from upswing.compliance.rules import Flag
from upswing.detection.events import SignalType
from upswing.digest import preferences as prefs
from upswing.digest import service
from upswing.digest.content import guard_phrase
from upswing.digest.schemas import PreferencesUpdate
from upswing.escalation.models import Escalation
from upswing.lead.models import Lead
from upswing.settings import Settings
from upswing.signal.models import Signal

GOLDEN = Path(__file__).parent / "golden"
#: Tuesday 8 December 2026, 07:30 in New York: the agent's send time.
NOW = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)
SETTINGS = Settings(public_base_url="https://upswing.example.com", digest_max_items=3)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=token=)[\w-]+")


def _person(session: Session, username: str, name: str, role: Role, team: Team | None) -> User:
    user = make_user(session, role, team=team, username=username)
    user.full_name, user.email, user.timezone = name, f"{username}@lender.example", "America/New_York"
    return user


def _signal(session: Session, lead: Lead, kind: SignalType, *, title: str, organization: str, score: int,
            priority: str, detected: datetime, status: str = "new", **fields: Any) -> Signal:
    signal = session.get(Signal, make_signal(session, lead, kind, title=title, organization=organization,
                                             identity=f"{lead.external_id}|{title}"))
    assert signal is not None
    signal.score, signal.priority, signal.detected_at, signal.status = score, priority, detected, status
    signal.score_breakdown = {"strength": score * 0.6, "recency": score * 0.25, "balance": score * 0.15,
                              "outcomes": -2.0}
    signal.evidence_url = f"https://news.example.com/{lead.external_id.lower()}"
    signal.evidence_snippet = fields.pop("snippet", f"{lead.first_name} joins {organization} as {title}.")
    signal.effective_date = fields.pop("effective_date", date(2026, 12, 1))
    for name, value in fields.items():
        setattr(signal, name, value)
    session.flush()
    return signal


def _lead(session: Session, external_id: str, first: str, last: str, owner: User | None, team: Team | None,
          **fields: Any) -> Lead:
    return make_lead(session, make_portfolio(session, f"portfolio {external_id}"), external_id=external_id,
                     first_name=first, last_name=last, assignee_id=owner.id if owner else None,
                     team_id=team.id if team else None, email=f"{first.lower()}@mail.example",
                     emails=[f"{first.lower()}@mail.example"], **fields)


def fixed_data(session: Session) -> dict[str, Any]:
    north, south = make_team(session, "North"), make_team(session, "South")
    manager = _person(session, "maria", "Maria Lopez", Role.MANAGER, north)
    dana = _person(session, "dana", "Dana Whitfield", Role.AGENT, north)
    sam = _person(session, "sam", "Sam Okafor", Role.AGENT, north)
    other = _person(session, "olu", "Olu Adeyemi", Role.AGENT, south)
    yesterday = NOW - timedelta(hours=20)
    jordan = _lead(session, "L-1001", "Jordan", "Rivera", dana, north, city="Austin", state="TX",
                   postal_code="78701", timezone="America/Chicago")
    casey = _lead(session, "L-1002", "Casey", "Nguyen", dana, north, city="Denver", state="CO",
                  postal_code="80202", timezone="America/Denver")
    riley = _lead(session, "L-1003", "Riley", "Brooks", dana, north, city="Boston", state="MA",
                  postal_code="02108", timezone="America/New_York")
    avery = _lead(session, "L-1004", "Avery", "Patel", None, north, city="Miami", state="FL",
                  postal_code="33101", timezone="America/New_York")
    quinn = _lead(session, "L-2001", "Quinn", "Hale", other, south, city="Reno", state="NV",
                  postal_code="89501", timezone="America/Los_Angeles")
    signals = {
        "urgent": _signal(session, jordan, SignalType.NEW_EMPLOYMENT, title="Shift Supervisor", organization="H-E-B",
                          score=88, priority="urgent", detected=yesterday),
        "high": _signal(session, casey, SignalType.CERTIFICATION, title="Certified Nursing Assistant",
                        organization="Colorado Board of Nursing", score=61, priority="high",
                        detected=yesterday + timedelta(hours=2)),
        "cease": _signal(session, riley, SignalType.PROMOTION, title="Store Manager", organization="Target",
                         score=47, priority="medium", detected=yesterday + timedelta(hours=3)),
        "unassigned": _signal(session, avery, SignalType.BUSINESS_LAUNCH, title="Owner",
                              organization="Avery's Auto Detail", score=58, priority="high",
                              detected=yesterday + timedelta(hours=4)),
        "still_open": _signal(session, jordan, SignalType.AWARD, title="Employee of the Month",
                              organization="H-E-B", score=40, priority="medium",
                              detected=NOW - timedelta(days=3)),
        "other_team": _signal(session, quinn, SignalType.NEW_EMPLOYMENT, title="Line Cook", organization="Peppermill",
                              score=90, priority="urgent", detected=yesterday),
        "acted": _signal(session, casey, SignalType.EDUCATION, title="Associate of Applied Science",
                         organization="Red Rocks Community College", score=30, priority="low",
                         detected=yesterday + timedelta(hours=5), status="acknowledged",
                         first_action_at=yesterday + timedelta(hours=6)),
    }
    compliance.set_flag(session, riley, Flag.CEASE, active=True, actor="test", note="written request")
    session.flush()
    return {"manager": manager, "dana": dana, "sam": sam, "other": other, "signals": signals,
            "leads": {"jordan": jordan, "casey": casey, "riley": riley, "avery": avery, "quinn": quinn}}


def _normalised(body: str) -> str:
    body = _UUID.sub("<id>", body)
    return "\n".join(line.rstrip() for line in body.splitlines()).strip() + "\n"


def _normalised_html(body: str) -> str:
    """Tags one per line, whitespace collapsed: a diff of the golden file shows what changed."""
    body = _UUID.sub("<id>", body)
    body = re.sub(r"\s+", " ", body)
    return re.sub(r">\s*<", ">\n<", body).strip() + "\n"


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPSWING_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run with UPSWING_UPDATE_GOLDEN=1 once and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the committed golden file"


def test_agent_digest_matches_the_golden_text_and_html(db_session: Session) -> None:
    data = fixed_data(db_session)
    subject, text = service.preview(db_session, None, user_id=data["dana"].id, fmt="text", now=NOW,
                                    settings=SETTINGS)
    _, page = service.preview(db_session, None, user_id=data["dana"].id, fmt="html", now=NOW, settings=SETTINGS)
    assert subject == "1 urgent, 2 high, 1 medium, 1 low — Upswing digest for Tue 8 Dec"
    _golden("agent.txt", _normalised(text))
    _golden("agent.html", _normalised_html(page))


def test_manager_digest_matches_the_golden_text(db_session: Session) -> None:
    data = fixed_data(db_session)
    urgent = data["signals"]["urgent"]
    db_session.add(Escalation(signal_id=urgent.id, lead_id=urgent.lead_id, team_id=urgent.team_id, level=1,
                              user_id=data["manager"].id, priority="urgent", due_at=NOW - timedelta(hours=1),
                              created_at=NOW - timedelta(hours=1)))
    db_session.flush()
    subject, text = service.preview(db_session, None, user_id=data["manager"].id, fmt="text", now=NOW,
                                    settings=SETTINGS)
    assert subject.startswith("1 urgent, 2 high, 1 medium, 1 low — ")  # North only: its manager's team
    _golden("manager.txt", _normalised(text))


class _EmailLint(HTMLParser):
    """What breaks or leaks in mail clients: external resources, scripts, forms, <style> left un-inlined,
    images without alt text, links that are not http(s) or mailto."""

    FORBIDDEN = {"script", "link", "iframe", "object", "embed", "form", "input", "video", "audio", "style", "base"}

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.styled = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in self.FORBIDDEN:
            self.problems.append(f"<{tag}>")
        if tag == "img":
            if not values.get("alt"):
                self.problems.append("img without alt")
            if values.get("src", "").startswith(("http:", "https:", "//")):
                self.problems.append("remote image")
        if "url(" in values.get("style", "") or "@import" in values.get("style", ""):
            self.problems.append(f"resource in a style on <{tag}>")
        if "style" in values:
            self.styled += 1
        href = values.get("href")
        if tag == "a" and href is not None and not href.startswith(("https://", "http://", "mailto:")):
            self.problems.append(f"link {href!r}")
        if any(name.startswith("on") for name in values):
            self.problems.append(f"event handler on <{tag}>")


def test_digest_html_passes_the_email_lint(db_session: Session) -> None:
    data = fixed_data(db_session)
    _, page = service.preview(db_session, None, user_id=data["manager"].id, fmt="html", now=NOW, settings=SETTINGS)
    lint = _EmailLint()
    lint.feed(page)
    assert lint.problems == []
    assert lint.styled > 50  # the stylesheet was inlined into the elements
    assert 'role="presentation"' in page and "<table" in page  # laid out with tables (Outlook)
    assert len(page.encode()) < 102 * 1024  # Gmail clips larger messages


def test_grouping_caps_owner_scope_and_guard(db_session: Session) -> None:
    data = fixed_data(db_session)
    dana = data["dana"]
    for n in range(5):  # more high signals than the cap of 3 per section
        _signal(db_session, data["leads"]["casey"], SignalType.PROMOTION, title=f"Lead {n}", organization="Kroger",
                score=56 + n, priority="high", detected=NOW - timedelta(hours=n + 1))
    composed = service.compose(db_session, dana, prefs.effective(db_session, dana, SETTINGS),
                               local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                               settings=SETTINGS)
    groups = {group.priority: group for group in composed.context.groups}
    assert [group.priority for group in composed.context.groups] == ["urgent", "high", "medium", "low"]
    assert groups["high"].total == 7 and len(groups["high"].items) == 3 and groups["high"].more == 4
    assert [item.score for item in groups["high"].items] == [61, 60, 59]  # highest first
    urgent = groups["urgent"].items[0]
    # 06:30 in Austin: the guard allows contact from 8:00 am there.
    assert (urgent.lead_name, urgent.owner, urgent.contactable) == ("Jordan Rivera", "yours", True)
    assert urgent.guard in ("call after 8:00 am CT", "e-mail after 8:00 am CT", "text after 8:00 am CT")
    assert groups["medium"].items[0].guard == "do not contact: cease"
    assert not groups["medium"].items[0].contactable
    assert groups["low"].items[0].status == "acknowledged"
    listed = {item.lead_external_id for group in composed.context.groups for item in group.items}
    assert "L-2001" not in listed  # another team's lead: not Dana's to see
    assert composed.counts["still_open"] == 1 and composed.context.still_open[0].signal_label == "Award"


def test_filters_and_the_not_contactable_preference(db_session: Session) -> None:
    data = fixed_data(db_session)
    dana = data["dana"]

    def listed(**update: Any) -> set[str]:
        prefs.update(db_session, PreferencesUpdate.model_validate(update), actor="test", user_id=dana.id)
        composed = service.compose(db_session, dana, prefs.effective(db_session, dana, SETTINGS),
                                   local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                                   settings=SETTINGS)
        return {item.lead_external_id + ":" + item.priority for group in composed.context.groups
                for item in group.items}

    assert listed(min_priority="high") == {"L-1001:urgent", "L-1002:high", "L-1004:high"}
    assert listed(min_priority=None, signal_types=["certification"]) == {"L-1002:high"}
    assert listed(signal_types=None, portfolios=["portfolio L-1001"]) == {"L-1001:urgent"}
    assert listed(portfolios=None, include_not_contactable=False) == {
        "L-1001:urgent", "L-1002:high", "L-1004:high", "L-1002:low"}  # Riley (cease) left out


def test_signals_held_back_by_the_hourly_cap_are_in_the_digest(db_session: Session) -> None:
    data = fixed_data(db_session)
    dana, old = data["dana"], data["signals"]["still_open"]
    alert = Alert(id=uuid.uuid4(), user_id=dana.id, lead_id=old.lead_id, signal_id=old.id, kind="signal",
                  priority="medium", title="Award", guard={}, routed_by="assignee", window_ends_at=NOW,
                  created_at=NOW - timedelta(hours=2), updated_at=NOW - timedelta(hours=2))
    db_session.add(alert)
    db_session.add(AlertSignal(alert_id=alert.id, user_id=dana.id, signal_id=old.id))
    db_session.add(AlertDelivery(alert_id=alert.id, channel="email", user_id=dana.id,
                                 status=DeliveryStatus.DIGEST.value, note="hourly_cap",
                                 created_at=NOW - timedelta(hours=2), run_after=NOW))
    db_session.flush()
    composed = service.compose(db_session, dana, prefs.effective(db_session, dana, SETTINGS),
                               local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                               settings=SETTINGS)
    assert str(old.id) in composed.signal_ids  # detected three days ago, but capped yesterday


def test_manager_section_counts_the_team(db_session: Session) -> None:
    data = fixed_data(db_session)
    manager = data["manager"]
    composed = service.compose(db_session, manager, prefs.effective(db_session, manager, SETTINGS),
                               local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                               settings=SETTINGS)
    section = composed.context.manager
    assert section is not None and section.scope == "North"
    assert [item.lead_external_id for item in section.unassigned] == ["L-1004"]
    loads = {agent.name: agent for agent in section.agents}
    assert set(loads) == {"Dana Whitfield", "Sam Okafor"}  # not South's agent
    assert (loads["Dana Whitfield"].new, loads["Dana Whitfield"].in_progress) == (4, 1)
    assert loads["Dana Whitfield"].median_day == "1 h"  # detected, acknowledged an hour later
    assert loads["Sam Okafor"].median_week == "–"
    agent = data["dana"]
    agent_digest = service.compose(db_session, agent, prefs.effective(db_session, agent, SETTINGS),
                                   local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                                   settings=SETTINGS)
    assert agent_digest.context.manager is None


def test_guard_phrase_in_words() -> None:
    from upswing.compliance.rules import Channel, GuardDecision

    lead = Lead(external_id="x", first_name="A", last_name="B", timezone="America/Chicago", state="TX",
                country="US")
    at_eight = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)  # 8:00 am CST
    wait = GuardDecision(False, ["time_window"], at_eight)
    assert guard_phrase(lead, {Channel.CALL: wait}, None, NOW, "America/New_York") == ("call after 8:00 am CT",
                                                                                       True)
    ok = GuardDecision(True, [], None)
    assert guard_phrase(lead, {Channel.CALL: ok, Channel.EMAIL: ok}, None, NOW, "UTC") == ("call or e-mail now",
                                                                                          True)
    tomorrow = GuardDecision(False, ["call_frequency_7in7"], at_eight + timedelta(days=1))
    assert guard_phrase(lead, {Channel.CALL: tomorrow}, None, NOW, "UTC") == (
        "no contact today; next: call Wed 9 Dec 8:00 am CT", False)
    never = GuardDecision(False, ["opted_out"], None)
    assert guard_phrase(lead, {Channel.SMS: never}, None, NOW, "UTC") == ("not contactable: opted_out", False)
    assert guard_phrase(lead, {Channel.CALL: ok}, "cease", NOW, "UTC") == ("do not contact: cease", False)


@pytest.mark.parametrize("update", [{"send_time": "7:30"}, {"frequency": "hourly"}, {"min_priority": "top"},
                                    {"weekly_day": 9}, {"colour": "red"}])
def test_bad_preferences_are_refused_naming_the_field(update: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        PreferencesUpdate.model_validate(update)
    assert caught.value.errors()[0]["loc"][0] == next(iter(update))


def test_preferences_inherit_user_then_team_then_settings(db_session: Session) -> None:
    data = fixed_data(db_session)
    dana, north = data["dana"], db_session.scalar(select(Team).where(Team.name == "North"))
    assert north is not None
    prefs.update(db_session, PreferencesUpdate(frequency="weekdays", min_priority="high"), actor="admin",
                 team_id=north.id)
    prefs.update(db_session, PreferencesUpdate(send_time="06:45", min_priority=None), actor="dana",
                 user_id=dana.id)
    effective = prefs.effective(db_session, dana, SETTINGS)
    assert (effective.frequency.value, effective.send_time, effective.min_priority) == ("weekdays", "06:45", "high")
    assert effective.sources["frequency"] == "team" and effective.sources["send_time"] == "user"
    assert effective.sources["format"] == "default" and effective.timezone == "America/New_York"
    from upswing.core.errors import ValidationFailedError

    with pytest.raises(ValidationFailedError) as caught:
        prefs.update(db_session, PreferencesUpdate(teams=["North", "Nowhere"]), actor="dana", user_id=dana.id)
    assert caught.value.errors[0]["field"] == "teams[1]"


def test_a_full_digest_stays_under_the_gmail_clip(db_session: Session) -> None:
    data = fixed_data(db_session)
    dana, casey = data["dana"], data["leads"]["casey"]
    for priority, base in (("urgent", 80), ("high", 60), ("medium", 40), ("low", 10)):
        for n in range(30):
            _signal(db_session, casey, SignalType.PROMOTION, title=f"Shift Lead {priority} {n}",
                    organization="Walgreens Pharmacy Distribution Center", score=base + n % 10, priority=priority,
                    detected=NOW - timedelta(hours=1, minutes=n),
                    snippet="Excited to share that I have been promoted to shift lead at the distribution center "
                            "after two years on the floor; thank you to my whole team for the support. " * 2)
    settings = SETTINGS.model_copy(update={"digest_max_items": 25})
    composed = service.compose(db_session, dana, prefs.effective(db_session, dana, settings),
                               local_date=date(2026, 12, 8), since=NOW - timedelta(days=1), now=NOW,
                               settings=settings)
    listed = sum(len(group.items) for group in composed.context.groups) + len(composed.context.still_open)
    assert listed == settings.digest_max_total_items == 60
    assert [len(group.items) for group in composed.context.groups] == [25, 25, 10, 0]  # highest priority first
    assert [group.total for group in composed.context.groups] == [31, 32, 31, 31]  # still counted in full
    _, page, _ = service.render(composed, prefs.effective(db_session, dana, settings))
    assert page is not None and len(page.encode()) < 102 * 1024
