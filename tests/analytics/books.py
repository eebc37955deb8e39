"""The books the analytics tests count (both databases): known signals, outcomes, monitoring and sources, with the
figures each report must give for them (in the tests), and ``roll_up`` to build their days' rollups."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.analytics import rollup
from upswing.detection.events import SignalType
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.outcome.models import Outcome
from upswing.signal import service as signals
from upswing.signal.models import DismissReason, Evidence, LabelledExample, Signal, SignalAction, SignalOutcome
from upswing.source.models import BudgetUsage, LeadSchedule, Source
from upswing.source.service import file_source


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def signal_book(session: Session) -> dict[str, Any]:
    """Two teams; five signals detected in November (one more in October), worked to known stages at known
    times, and feedback on three of them.

    ========  =====  ==============  =======  ========  =====================================  ==============
    signal    lead   type            day      priority  worked                                 first action
    ========  =====  ==============  =======  ========  =====================================  ==============
    s1        a1     new_employment  Nov 2    urgent    acknowledged                           +30 min
    s2        a1     promotion       Nov 3    high      call → payment                         +90 min
    s3        a2     new_employment  Nov 3    urgent    dismissed                              +10 min
    s4        b1     new_employment  Nov 10   high      crm task → promise to pay              +60 min
    s6        a1     new_employment  Nov 4    low       —                                      —
    s5        b1     job_loss        Oct 20   medium    acknowledged (outside the range)       +5 min
    ========  =====  ==============  =======  ========  =====================================  ==============
    """
    suffix = uuid.uuid4().hex[:6]
    north, south = make_team(session, f"North {suffix}"), make_team(session, f"South {suffix}")
    a1, a2 = make_user(session, Role.AGENT, team=north), make_user(session, Role.AGENT, team=north)
    b1 = make_user(session, Role.AGENT, team=south)
    a1.full_name = "Ana Alvarez"
    admin = make_user(session, Role.ADMIN)
    portfolio = make_portfolio(session)
    leads = {user: make_lead(session, portfolio, assignee_id=user.id, team_id=user.team_id) for user in (a1, a2, b1)}
    plan = {  # name: (owner, type, detected, priority, minutes to first action)
        "s1": (a1, SignalType.NEW_EMPLOYMENT, at(2), "urgent", 30),
        "s2": (a1, SignalType.PROMOTION, at(3), "high", 90),
        "s3": (a2, SignalType.NEW_EMPLOYMENT, at(3, 23), "urgent", 10),
        "s4": (b1, SignalType.NEW_EMPLOYMENT, at(10), "high", 60),
        "s5": (b1, SignalType.JOB_LOSS, datetime(2026, 10, 20, 12, tzinfo=UTC), "medium", 5),
        "s6": (a1, SignalType.NEW_EMPLOYMENT, at(4), "low", None),
    }
    ids = {name: make_signal(session, leads[owner], type_, organization=f"Org {name}")  # one event each
           for name, (owner, type_, *_rest) in plan.items()}
    assert len(set(ids.values())) == len(plan)
    signals.acknowledge(session, ids["s1"], user=admin)
    signals.record_action(session, ids["s2"], SignalAction.CALL, user=admin)
    signals.record_outcome(session, ids["s2"], SignalOutcome.PAYMENT, user=admin)
    signals.dismiss(session, ids["s3"], DismissReason.NOT_RELEVANT, user=admin)
    signals.record_action(session, ids["s4"], SignalAction.CRM_TASK, user=admin)
    signals.record_outcome(session, ids["s4"], SignalOutcome.PROMISE_TO_PAY, user=admin)
    signals.acknowledge(session, ids["s5"], user=admin)
    for name, (_owner, _type, detected, priority, minutes) in plan.items():
        first = detected + timedelta(minutes=minutes) if minutes is not None else None
        session.execute(update(Signal).where(Signal.id == ids[name])
                        .values(detected_at=detected, priority=priority, first_action_at=first))
    # s2's evidence names a source a spreadsheet would run; s1 gains an earlier sighting from another source.
    session.execute(update(Evidence).where(Evidence.signal_id == ids["s2"]).values(source="=HYPERLINK(\"x\")"))
    session.execute(update(Evidence).where(Evidence.signal_id.in_([ids["s1"], ids["s3"], ids["s4"], ids["s6"]]))
                    .values(source="apify-linkedin"))
    add_earlier_sighting(session, ids["s1"], leads[a1].id)

    def example(signal: str | None, *, correct: bool, label: str, previous: str, kind: str = "person",
                when: datetime = at(12)) -> None:
        session.add(LabelledExample(text=f"text {uuid.uuid4()}", label=label, kind=kind, correct=correct,
                                    previous_label=previous, signal_id=ids[signal] if signal else None,
                                    created_at=when))

    example("s1", correct=True, label="new_employment", previous="new_employment")
    example("s1", correct=True, label="new_employment", previous="new_employment")  # two texts, one answer
    example("s3", correct=False, label="none", previous="new_employment")
    example("s4", correct=False, label="promotion", previous="new_employment")
    example(None, correct=True, label="growth", previous="growth", kind="company")  # its signal was deleted
    example("s2", correct=True, label="promotion", previous="promotion", when=datetime(2026, 12, 2, tzinfo=UTC))
    manager = make_user(session, Role.MANAGER, team=north)
    session.commit()
    return {"north": north, "south": south, "a1": a1, "a2": a2, "b1": b1, "admin": admin, "manager": manager,
            "viewer": make_user(session, Role.VIEWER), "ids": ids}


def roll_up(factory: sessionmaker[Session], first: date = date(2026, 10, 1), last: date = date(2026, 11, 30)) -> None:
    """Build every daily rollup of these days (as ``upswing analytics rollup --from --to`` does)."""
    for kind in rollup.DAILY_KINDS:
        assert rollup.rebuild(factory, kind, first, last) == (last - first).days + 1


def add_earlier_sighting(session: Session, signal_id: uuid.UUID, lead_id: uuid.UUID) -> None:
    """A second evidence item on the signal, observed before the first, from the source "news"."""
    observed = datetime(2026, 10, 30, tzinfo=UTC)  # the factory's sightings are of November 1st
    observation = Observation(source_id=file_source(session).id, lead_id=lead_id, kind="text", raw={},
                              normalized={}, content_hash=uuid.uuid4().hex * 2, observed_at=observed,
                              last_observed_at=observed)
    session.add(observation)
    session.flush()
    session.add(Evidence(signal_id=signal_id, observation_id=observation.id, kind="text", url=None, snippet=None,
                         source="news", confidence=0.8, observed_at=observed))


def day(n: int, month: int = 11) -> date:
    return date(2026, month, n)


def _placed(session: Session, people: dict[str, Any], owner: str, placed: date, **fields: Any) -> Lead:
    user = people[owner]
    lead = make_lead(session, people.setdefault("portfolio", make_portfolio(session)), assignee_id=user.id,
                     team_id=user.team_id, **fields)
    lead.created_at = datetime.combine(placed, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
    return lead


def _outcome(session: Session, lead: Lead, kind: str, on: date, amount: str | None = None, **fields: Any) -> Outcome:
    row = Outcome(lead_id=lead.id, kind=kind, occurred_on=on, amount=Decimal(amount) if amount else None,
                  source="import", external_id=f"t-{uuid.uuid4()}", created_by="test", **fields)
    session.add(row)
    return row


def outcome_book(session: Session, people: dict[str, Any]) -> dict[str, Lead]:
    """Payments and promises of four leads (Monday November 2nd starts a week; a1 owns L1, L2 and L4, b1 owns L3):

    ====  ========  ============================================  =======================================
    lead  placed    payments                                      promises
    ====  ========  ============================================  =======================================
    L1    Oct 6     Nov 3 $100, Nov 5 $50, Nov 10 $25             —
    L2    Oct 22    Nov 5 $200                                    Nov 2 (kept), Nov 12 (broken)
    L3    Nov 2     Nov 9 (recorded on a signal: no amount)       Nov 9 (pending)
    L4    Sep 1     Oct 15 $10, Nov 4 $30                         —
    ====  ========  ============================================  =======================================

    First payments in November: L1 after 28 days, L2 after 14, L3 after 7 (L4's first was in October). A dispute
    on Nov 3 counts nowhere."""
    leads = {"L1": _placed(session, people, "a1", day(6, 10)), "L2": _placed(session, people, "a1", day(22, 10)),
             "L3": _placed(session, people, "b1", day(2)), "L4": _placed(session, people, "a1", day(1, 9))}
    session.flush()
    for lead, on, amount in (("L1", day(3), "100"), ("L1", day(5), "50"), ("L1", day(10), "25"),
                             ("L2", day(5), "200"), ("L3", day(9), None), ("L4", day(15, 10), "10"),
                             ("L4", day(4), "30")):
        _outcome(session, leads[lead], "payment", on, amount)
    _outcome(session, leads["L2"], "promise", day(2), "200", due_on=day(9), promise_status="kept")
    _outcome(session, leads["L2"], "promise", day(12), "80", due_on=day(19), promise_status="broken")
    _outcome(session, leads["L3"], "promise", day(9), None, due_on=day(23), promise_status="pending")
    _outcome(session, leads["L1"], "dispute", day(3))
    session.commit()
    return leads


#: The instant the coverage book is seen from.
COVERAGE_NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def coverage_book(session: Session, people: dict[str, Any]) -> dict[str, Lead]:
    """Leads as monitoring left them at ``COVERAGE_NOW``:

    ====  =====  ===================================================  ==========  =================
    lead  owner  schedule / observations                              monitored   last looked at
    ====  =====  ===================================================  ==========  =================
    M1    a1     enabled source, checked 2 h ago, due again           yes         2 hours
    M2    a1     disabled source (due again), checked 3 days ago;     no          72 hours
                 an observation of 10 days ago
    M3    a1     an observation of 40 days ago                        no          960 hours
    M4    a1     nothing                                              no          never
    M5    b1     enabled source, checked 8 days ago, never due again  no          192 hours
    M6    a1     merged into M1                                       (left out)
    ====  =====  ===================================================  ==========  =================
    """
    now = COVERAGE_NOW
    enabled = Source(slug=f"watch-{uuid.uuid4().hex[:6]}", connector="test-watch", name="Watch", enabled=True,
                     config={}, budgets={})
    disabled = Source(slug=f"off-{uuid.uuid4().hex[:6]}", connector="test-watch", name="Off", enabled=False,
                      state="disabled", config={}, budgets={})
    session.add_all([enabled, disabled])
    leads = {name: _placed(session, people, owner, day(1)) for name, owner in (
        ("M1", "a1"), ("M2", "a1"), ("M3", "a1"), ("M4", "a1"), ("M5", "b1"), ("M6", "a1"))}
    session.flush()
    leads["M6"].merged_into_id = leads["M1"].id
    session.add_all([
        LeadSchedule(source_id=enabled.id, lead_id=leads["M1"].id, last_checked_at=now - timedelta(hours=2),
                     next_due_at=now + timedelta(days=1), checks=3),
        LeadSchedule(source_id=disabled.id, lead_id=leads["M2"].id, last_checked_at=now - timedelta(days=3),
                     next_due_at=now + timedelta(days=4), checks=1),
        LeadSchedule(source_id=enabled.id, lead_id=leads["M5"].id, last_checked_at=now - timedelta(days=8),
                     next_due_at=None, checks=1),
        LeadSchedule(source_id=enabled.id, lead_id=leads["M6"].id, last_checked_at=now - timedelta(hours=1),
                     next_due_at=now + timedelta(days=1), checks=1)])
    for name, ago in (("M2", timedelta(days=10)), ("M3", timedelta(days=40))):
        session.add(Observation(source_id=enabled.id, lead_id=leads[name].id, kind="profile", raw={}, normalized={},
                                content_hash=uuid.uuid4().hex * 2, observed_at=now - ago,
                                last_observed_at=now - ago, created_at=now - ago))
    session.commit()
    return leads


def source_book(session: Session, people: dict[str, Any], today: date) -> dict[str, Source]:
    """Two sources: ``good`` (ok, a budget of 300 "profiles" a day, 120 spent today) stored 3 observations of a1's
    lead (Nov 3, 3, 10) and 1 of b1's (Nov 4); ``bad`` (degraded, 3 failures in a row, its last error kept; 5
    "calls" spent today on no limit) stored 1 unlinked observation (Nov 5) and 1 on October 30th."""
    suffix = uuid.uuid4().hex[:6]
    good = Source(slug=f"good-{suffix}", connector="test-good", name="Good", enabled=True, config={},
                  budgets={"profiles": 300}, state="ok", last_run_at=datetime(2026, 11, 19, 8, tzinfo=UTC),
                  last_success_at=datetime(2026, 11, 19, 8, tzinfo=UTC))
    bad = Source(slug=f"bad-{suffix}", connector="test-bad", name="Bad", enabled=True, config={}, budgets={},
                 state="degraded", consecutive_failures=3, last_error="HttpError: 503 from https://example.test/feed",
                 last_error_at=datetime(2026, 11, 19, 9, tzinfo=UTC), last_run_at=datetime(2026, 11, 19, 9, tzinfo=UTC))
    session.add_all([good, bad])
    mine, theirs = _placed(session, people, "a1", day(1)), _placed(session, people, "b1", day(1))
    session.flush()
    for source, lead, stored in ((good, mine, day(3)), (good, mine, day(3)), (good, mine, day(10)),
                                 (good, theirs, day(4)), (bad, None, day(5)), (bad, None, day(30, 10))):
        at_ = datetime.combine(stored, datetime.min.time(), tzinfo=UTC) + timedelta(hours=11)
        session.add(Observation(source_id=source.id, lead_id=lead.id if lead else None, kind="text", raw={},
                                normalized={}, content_hash=uuid.uuid4().hex * 2, observed_at=at_,
                                last_observed_at=at_, created_at=at_))
    session.add_all([BudgetUsage(source_id=good.id, name="profiles", day=today, used=120),
                     BudgetUsage(source_id=bad.id, name="calls", day=today, used=5)])
    session.commit()
    return {"good": good, "bad": bad}
