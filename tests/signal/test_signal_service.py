from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from factories import make_lead, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import pseudonym, verify_chain
from upswing.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from upswing.detection.events import CandidateEvent, SignalType
from upswing.lead.models import Lead
from upswing.observation.models import Observation
from upswing.signal import service
from upswing.signal.models import (
    DismissReason,
    Evidence,
    EvidenceKind,
    Signal,
    SignalAction,
    SignalOutcome,
    SignalStatus,
)
from upswing.signal.schemas import SignalFilters
from upswing.signal.service import SightedEvent, same_event
from upswing.source.service import file_source, get_or_create_source

OBSERVED = datetime(2026, 11, 1, tzinfo=UTC)


def _event(identity: str = "acme|analyst", confidence: float = 0.8, *, type_: SignalType = SignalType.NEW_EMPLOYMENT,
           title: str | None = "Analyst", organization: str | None = "Acme",
           effective_date: date | None = date(2026, 10, 1), snippet: str = "Experience: Analyst at Acme",
           ) -> CandidateEvent:
    return CandidateEvent(type=type_, identity=identity, confidence=confidence, snippet=snippet, title=title,
                          organization=organization, effective_date=effective_date)


def _observation(session: Session, lead: Lead, *, kind: str = "profile", source: str | None = None,
                 url: str | None = None, observed_at: datetime = OBSERVED, subject_key: str | None = None) -> uuid.UUID:
    src = file_source(session) if source is None else get_or_create_source(session, source, connector="test",
                                                                          name=source)
    observation = Observation(source_id=src.id, lead_id=lead.id, kind=kind, raw={}, normalized={}, url=url,
                              content_hash=uuid.uuid4().hex * 2, observed_at=observed_at,
                              last_observed_at=observed_at, subject_key=subject_key)
    session.add(observation)
    session.flush()
    return observation.id


def _profile(session: Session, lead: Lead, event: CandidateEvent, **options: Any) -> SightedEvent:
    url = "https://www.linkedin.com/in/someone"
    return SightedEvent(lead.id, _observation(session, lead, url=url), url, event, **options)


def _text(session: Session, lead: Lead, event: CandidateEvent, url: str, source: str = "news") -> SightedEvent:
    observation_id = _observation(session, lead, kind="text", source=source, url=url,
                                  observed_at=OBSERVED + timedelta(days=3))
    return SightedEvent(lead.id, observation_id, url, event, kind=EvidenceKind.TEXT)


def _signals(session: Session) -> list[Signal]:
    session.expire_all()
    return list(session.scalars(select(Signal).order_by(Signal.created_at, Signal.id)))


def _evidence(session: Session, signal_id: uuid.UUID) -> list[Evidence]:
    return list(session.scalars(select(Evidence).where(Evidence.signal_id == signal_id)
                                .order_by(Evidence.observed_at, Evidence.created_at)))


# --------------------------------------------------------------------------------------------------
# One signal per real event
# --------------------------------------------------------------------------------------------------


def test_same_event_seen_twice_is_one_signal_with_both_observations(db_session: Session) -> None:
    lead = make_lead(db_session)
    first_signal = make_signal(db_session, lead, identity="acme|analyst", confidence=0.8)
    observation_ids = db_session.scalar(select(Signal.observation_ids).where(Signal.id == first_signal))
    assert observation_ids is not None and len(observation_ids) == 1
    second_signal = make_signal(db_session, lead, identity="acme|analyst", confidence=0.95)

    assert second_signal == first_signal
    signal = db_session.get(Signal, first_signal)
    assert signal is not None
    db_session.refresh(signal)
    assert len(signal.observation_ids) == 2
    # Two sightings of one profile are one witness: the confidence is the better one, not combined.
    assert signal.confidence == pytest.approx(0.95)
    assert db_session.scalar(select(func.count()).select_from(Signal)) == 1
    evidence = _evidence(db_session, first_signal)
    assert [str(e.observation_id) for e in evidence] == signal.observation_ids
    assert {(e.kind, e.source) for e in evidence} == {("profile", "apify-file")}


def test_same_event_for_two_leads_is_two_signals(db_session: Session) -> None:
    first, second = make_lead(db_session), make_lead(db_session)
    assert make_signal(db_session, first, identity="x|y") != make_signal(db_session, second, identity="x|y")


def test_dedupe_key_depends_on_lead_type_and_identity(db_session: Session) -> None:
    lead = make_lead(db_session)
    key = service.dedupe_key(lead.id, _event())
    assert key == service.dedupe_key(lead.id, _event(confidence=0.1))
    assert key != service.dedupe_key(lead.id, _event(identity="other|analyst"))


def test_a_retyped_signal_still_absorbs_sightings_of_its_first_key(db_session: Session) -> None:
    # A correction changes a signal's type but not its dedupe key: the next sighting of the first type must
    # join it (the loader only loads the sightings' types, so it looks such keys up apart), never fail on
    # the key's uniqueness or make a second signal.
    lead = make_lead(db_session)
    signal_id = make_signal(db_session, lead, identity="acme|analyst")
    db_session.execute(update(Signal).where(Signal.id == signal_id).values(type=SignalType.PROMOTION.value))
    result = service.upsert_events(db_session, [_profile(db_session, lead, _event())])
    assert (result.created, result.merged) == (0, 1)
    assert [(s.id, s.type) for s in _signals(db_session)] == [(signal_id, SignalType.PROMOTION.value)]


def test_new_signals_score_the_outcomes_of_the_leads_other_types(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    worked, fresh = make_lead(db_session), make_lead(db_session)
    for lead in (worked, fresh):
        make_signal(db_session, lead, SignalType.CERTIFICATION, identity="c|d")
    certification = db_session.scalar(select(Signal.id).where(Signal.lead_id == worked.id))
    assert certification is not None
    service.record_action(db_session, certification, SignalAction.CALL, user=manager)
    service.record_outcome(db_session, certification, SignalOutcome.PROMISE_TO_PAY, user=manager)
    service.upsert_events(db_session, [_profile(db_session, lead, _event()) for lead in (worked, fresh)])
    breakdown = dict(db_session.execute(select(Signal.lead_id, Signal.score_breakdown).where(
        Signal.type == SignalType.NEW_EMPLOYMENT.value)).all())
    assert breakdown[worked.id]["outcomes"] > breakdown[fresh.id]["outcomes"]


def test_same_observation_twice_adds_no_evidence(db_session: Session) -> None:
    lead = make_lead(db_session)
    sighting = _profile(db_session, lead, _event())
    assert service.upsert_events(db_session, [sighting]).created == 1
    again = service.upsert_events(db_session, [sighting, sighting])
    assert (again.created, again.merged, again.evidence) == (0, 0, 0)
    assert len(_evidence(db_session, _signals(db_session)[0].id)) == 1


def test_a_news_item_corroborates_the_profile_signal(db_session: Session) -> None:
    lead = make_lead(db_session)
    profile = _event("acme corp|senior analyst", 0.9, title="Sr. Analyst", organization="Acme Corp.")
    service.upsert_events(db_session, [_profile(db_session, lead, profile)])
    [before] = _signals(db_session)
    before_id, before_score, before_corroboration = before.id, before.score, before.score_breakdown["corroboration"]

    news = _event("text:acme|senior analyst", 0.6, title="Senior Analyst", organization="ACME Corporation",
                  effective_date=date(2026, 10, 20), snippet="Local firm Acme hires Jordan as senior analyst")
    result = service.upsert_events(db_session, [_text(db_session, lead, news, "https://news.example/acme-hires")])

    assert (result.created, result.merged, result.corroborated, result.evidence) == (0, 1, 1, 1)
    [after] = _signals(db_session)
    assert after.id == before_id
    assert after.confidence == pytest.approx(1 - 0.1 * 0.4)  # noisy-OR of 0.9 and 0.6
    assert after.score > before_score
    assert after.score_breakdown["corroboration"] > 0 == before_corroboration
    evidence = _evidence(db_session, after.id)
    assert [(e.kind, e.source, e.url) for e in evidence] == [
        ("profile", "apify-file", "https://www.linkedin.com/in/someone"),
        ("text", "news", "https://news.example/acme-hires")]
    assert evidence[1].snippet == "Local firm Acme hires Jordan as senior analyst"
    assert evidence[1].observed_at == OBSERVED + timedelta(days=3)
    assert after.evidence_url == "https://www.linkedin.com/in/someone"  # the first evidence stays the headline


def test_corroboration_needs_the_window_the_identity_and_the_type(db_session: Session) -> None:
    lead = make_lead(db_session)
    service.upsert_events(db_session, [_profile(db_session, lead, _event("acme|analyst", 0.9))])

    def sight(event: CandidateEvent, **options: Any) -> service.UpsertResult:
        return service.upsert_events(db_session, [_text(db_session, lead, event, f"https://n.example/{uuid.uuid4()}")],
                                     **options)

    late = _event("t1", 0.6, effective_date=date(2026, 10, 1) + timedelta(days=46))
    assert sight(late).created == 1  # outside the default 45-day window: another event
    assert sight(_event("t2", 0.6, effective_date=date(2026, 12, 1)), window_days=90).merged == 1
    assert sight(_event("t3", 0.6, title="Senior Analyst")).created == 1  # another title: another event
    assert sight(_event("t4", 0.6, organization="Globex")).created == 1
    assert sight(_event("t5", 0.6, type_=SignalType.PROMOTION)).created == 1
    assert sight(_event("t6", 0.6, title=None, organization="ACME Inc")).merged == 1  # no title: the employer decides
    assert sight(_event("t7", 0.6, title=None, organization=None)).created == 1  # nothing to compare


def test_same_event_rules() -> None:
    day = date(2026, 10, 1)
    assert same_event("Sr. Analyst", "The Acme Corp", day, "senior analyst", "ACME", day + timedelta(days=45),
                      window_days=45)
    assert not same_event("Analyst", "Acme", day, "Analyst", "Acme", day + timedelta(days=46), window_days=45)
    assert same_event("Analyst", "Acme", None, "Analyst", "Acme", day, window_days=0)
    assert not same_event("Analyst", None, day, None, "Acme", day, window_days=45)
    assert not same_event(None, None, day, None, None, day, window_days=45)


def test_sightings_of_one_event_in_one_batch_become_one_signal(db_session: Session) -> None:
    lead = make_lead(db_session)
    result = service.upsert_events(db_session, [
        _profile(db_session, lead, _event("acme|analyst", 0.8)),
        _text(db_session, lead, _event("post", 0.7, organization="Acme LLC"), "https://posts.example/1"),
        _text(db_session, lead, _event("news", 0.5), "https://news.example/2"),
    ])
    assert (result.created, result.merged, result.evidence) == (1, 0, 3)
    [signal] = _signals(db_session)
    assert signal.confidence == pytest.approx(1 - 0.2 * 0.3 * 0.5)
    assert len(signal.observation_ids) == 3 and len(_evidence(db_session, signal.id)) == 3


def test_corroboration_fills_in_what_the_signal_did_not_know(db_session: Session) -> None:
    lead = make_lead(db_session)
    service.upsert_events(db_session, [_profile(db_session, lead, _event("acme|analyst", 0.9, effective_date=None))])
    service.upsert_events(db_session, [_text(db_session, lead, _event("n", 0.6, effective_date=date(2026, 10, 28)),
                                             "https://news.example/x")])
    [signal] = _signals(db_session)
    assert signal.effective_date == date(2026, 10, 28)


def test_merges_with_and_without_filled_fields_in_one_batch(db_session: Session) -> None:
    first, second = make_lead(db_session), make_lead(db_session)
    service.upsert_events(db_session, [_profile(db_session, first, _event("acme|analyst", 0.9, effective_date=None)),
                                       _profile(db_session, second, _event("acme|analyst", 0.9))])
    result = service.upsert_events(db_session, [
        _text(db_session, first, _event("n1", 0.6, effective_date=date(2026, 10, 28)), "https://news.example/1"),
        _text(db_session, second, _event("n2", 0.6), "https://news.example/2"),
        # Within one batch, a new signal also takes what a later sighting adds.
        _profile(db_session, second, _event("globex|analyst", 0.9, organization="Globex", title=None)),
        _text(db_session, second, _event("n3", 0.6, organization="Globex"), "https://news.example/3"),
    ])
    assert (result.created, result.merged, result.corroborated) == (1, 2, 2)
    by_org = {(s.lead_id, s.organization): s for s in _signals(db_session)}
    assert by_org[(first.id, "Acme")].effective_date == date(2026, 10, 28)
    assert by_org[(second.id, "Acme")].confidence == pytest.approx(0.96)
    assert by_org[(second.id, "Globex")].title == "Analyst"


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_upsert_is_bulk_whatever_the_batch_size(db_session: Session) -> None:
    def run(leads: int) -> int:
        batch = []
        for _ in range(leads):
            lead = make_lead(db_session)
            make_signal(db_session, lead, identity="acme|analyst")  # each lead has a signal to merge into
            batch.append(_profile(db_session, lead, _event("acme|analyst", 0.9)))
            batch.append(_text(db_session, lead, _event("new", 0.5, organization="Initech"), "https://n.example/a"))
        db_session.flush()
        with _statements(db_session) as statements:
            result = service.upsert_events(db_session, batch)
        assert (result.created, result.merged) == (leads, leads)
        return len([s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])

    assert run(3) == run(40)


def test_score_is_computed_on_create_and_reflects_the_lead(db_session: Session) -> None:
    rich = make_lead(db_session, balance=Decimal("45000"), days_delinquent=200)
    poor = make_lead(db_session, balance=Decimal("300"), days_delinquent=10)
    signals = {make_signal(db_session, lead, identity="x|y") for lead in (rich, poor)}
    by_lead = {s.lead_id: s for s in _signals(db_session) if s.id in signals}
    assert by_lead[rich.id].score > by_lead[poor.id].score
    for signal in by_lead.values():
        assert signal.priority in ("urgent", "high", "medium", "low") and signal.scored_at is not None
        assert abs(sum(signal.score_breakdown.values()) - signal.score) <= 0.5


def test_rescore_decays_with_time(db_session: Session) -> None:
    lead = make_lead(db_session)
    signal_id = make_signal(db_session, lead, effective_date=date.today())
    fresh = db_session.get(Signal, signal_id)
    assert fresh is not None
    fresh_score = fresh.score
    result = service.rescore(db_session, now=datetime.now(UTC) + timedelta(days=90))
    assert result.signals >= 1 and result.changed >= 1
    db_session.expire_all()
    later = db_session.get(Signal, signal_id)
    assert later is not None and later.score < fresh_score
    assert service.rescore(db_session, lead_ids=[lead.id], now=datetime.now(UTC) + timedelta(days=90)).changed == 0


# --------------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------------


def _audit(session: Session, signal_id: uuid.UUID) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(signal_id))
                                .order_by(AuditEntry.id)))


def test_lifecycle_new_acknowledged_actioned_resolved_is_audited(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)

    with pytest.raises(ConflictError, match="action"):
        service.record_outcome(db_session, signal_id, SignalOutcome.PAYMENT, user=agent)
    assert service.acknowledge(db_session, signal_id, user=agent).status is SignalStatus.ACKNOWLEDGED
    assert service.acknowledge(db_session, signal_id, user=agent).status is SignalStatus.ACKNOWLEDGED  # idempotent
    called = service.record_action(db_session, signal_id, SignalAction.CALL, user=agent, note="voicemail")
    assert (called.status, called.action, called.actioned_by, called.status_reason) == (
        SignalStatus.ACTIONED, SignalAction.CALL, agent.id, "voicemail")
    emailed = service.record_action(db_session, signal_id, SignalAction.EMAIL, user=agent)  # a follow-up
    assert emailed.action is SignalAction.EMAIL
    with pytest.raises(ConflictError):
        service.acknowledge(db_session, signal_id, user=agent)
    with pytest.raises(ConflictError):
        service.dismiss(db_session, signal_id, DismissReason.NOT_RELEVANT, user=agent)
    no_answer = service.record_outcome(db_session, signal_id, SignalOutcome.NO_RESPONSE, user=agent)
    assert (no_answer.status, no_answer.outcome, no_answer.outcome_by) == (
        SignalStatus.RESOLVED, SignalOutcome.NO_RESPONSE, agent.id)
    paid = service.record_outcome(db_session, signal_id, SignalOutcome.PAYMENT, user=agent, note="paid $500")
    assert paid.outcome is SignalOutcome.PAYMENT and paid.outcome_at is not None
    assert service.record_outcome(db_session, signal_id, SignalOutcome.PAYMENT, user=agent).outcome_at == \
        paid.outcome_at  # the same outcome again changes nothing

    entries = _audit(db_session, signal_id)
    assert [e.action for e in entries] == ["signal.acknowledged", "signal.actioned", "signal.actioned",
                                           "signal.outcome", "signal.outcome"]
    assert {e.actor for e in entries} == {f"user:{agent.username}"}
    assert entries[1].details == {"from": "acknowledged", "to": "actioned", "action": "call", "note": "voicemail",
                                  "lead_id": str(lead.id)}
    assert entries[-1].details["previous_outcome"] == "no_response"
    assert verify_chain(db_session) is None


def test_dismiss_takes_a_reason_and_a_note(db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    dismissed = service.dismiss(db_session, signal_id, DismissReason.DUPLICATE, user=agent, note="same as #12")
    assert (dismissed.status, dismissed.dismiss_reason, dismissed.status_reason) == (
        SignalStatus.DISMISSED, DismissReason.DUPLICATE, "same as #12")
    assert service.dismiss(db_session, signal_id, DismissReason.DUPLICATE, user=agent).status is SignalStatus.DISMISSED
    with pytest.raises(ConflictError):
        service.acknowledge(db_session, signal_id, user=agent)
    with pytest.raises(ConflictError):
        service.record_action(db_session, signal_id, SignalAction.CALL, user=agent)
    assert [e.action for e in _audit(db_session, signal_id)] == ["signal.dismissed"]


def test_change_status_needs_the_transition_argument(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    signal_id = make_signal(db_session, make_lead(db_session))
    with pytest.raises(ConflictError, match="without"):
        service.change_status(db_session, signal_id, SignalStatus.ACTIONED, user=manager)
    actioned = service.change_status(db_session, signal_id, SignalStatus.ACTIONED, user=manager,
                                     action=SignalAction.LETTER)
    assert actioned.action is SignalAction.LETTER


def test_an_outcome_moves_the_score_of_the_leads_other_signals(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session)
    first = make_signal(db_session, lead, identity="a|b")
    second = make_signal(db_session, lead, SignalType.CERTIFICATION, identity="c|d")
    before = service.get_signal(db_session, second, user=manager).score
    service.record_action(db_session, first, SignalAction.CALL, user=manager)
    service.record_outcome(db_session, first, SignalOutcome.PROMISE_TO_PAY, user=manager)
    after = service.get_signal(db_session, second, user=manager)
    assert after.score > before and after.score_breakdown["outcomes"] > 0


def test_wrong_person_tells_the_linker(db_session: Session, monkeypatch: pytest.MonkeyPatch,
                                       deliver_events: Callable[[], Any]) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("upswing.resolution.tasks.record_non_match",
                        lambda session, **kwargs: calls.append(kwargs))
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    other = make_signal(db_session, lead, SignalType.AWARD, identity="prize|x")
    dismissed = make_signal(db_session, lead, subject_key="li:namesake-1", organization="Initech")
    outcome = make_signal(db_session, lead, subject_key="li:namesake-2", organization="Globex")
    quiet = make_signal(db_session, lead, organization="Hooli")  # no subject on its observation: nothing to report
    assert len({other, dismissed, outcome, quiet}) == 4
    before = service.get_signal(db_session, other, user=agent).score

    service.dismiss(db_session, dismissed, DismissReason.WRONG_PERSON, user=agent)
    service.record_action(db_session, outcome, SignalAction.CALL, user=agent)
    service.record_outcome(db_session, outcome, SignalOutcome.WRONG_PERSON, user=agent)
    service.dismiss(db_session, quiet, DismissReason.WRONG_PERSON, user=agent)
    service.dismiss(db_session, other, DismissReason.NOT_RELEVANT, user=agent)
    assert calls == []  # the linker hears of it through the outbox, after the change commits
    deliver_events()

    actor = f"user:{agent.username}"
    assert calls == [
        {"lead_id": lead.id, "subject_key": "li:namesake-1", "actor": actor, "reason": "wrong_person"},
        {"lead_id": lead.id, "subject_key": "li:namesake-2", "actor": actor, "reason": "wrong_person"},
    ]
    assert service.get_signal(db_session, other, user=agent).score < before  # a wrong person on this lead
    with pytest.raises(ConflictError, match="wrong_person"):
        service.record_outcome(db_session, outcome, SignalOutcome.PAYMENT, user=agent)


def test_wrong_person_reaches_the_real_linker(db_session: Session, deliver_events: Callable[[], Any]) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = make_signal(db_session, lead, subject_key="li:namesake-real")
    service.dismiss(db_session, signal_id, DismissReason.WRONG_PERSON, user=agent)
    assert deliver_events().done >= 1
    non_match = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "resolution.non_match")).one()
    assert (non_match.entity_id, non_match.actor, non_match.details["subject_key"]) == (
        str(lead.id), f"user:{agent.username}", pseudonym("li:namesake-real"))  # the audit log keeps no PII


def test_viewer_cannot_change_and_stranger_cannot_see(db_session: Session) -> None:
    viewer = make_user(db_session, Role.VIEWER)
    stranger = make_user(db_session, Role.AGENT)
    signal_id = make_signal(db_session, make_lead(db_session))
    with pytest.raises(PermissionDeniedError):
        service.acknowledge(db_session, signal_id, user=viewer)
    with pytest.raises(PermissionDeniedError):
        service.record_action(db_session, signal_id, SignalAction.CALL, user=viewer)
    with pytest.raises(NotFoundError):
        service.get_signal(db_session, signal_id, user=stranger)
    with pytest.raises(NotFoundError):
        service.dismiss(db_session, signal_id, DismissReason.DUPLICATE, user=stranger)


def test_list_filters_by_type_status_priority_and_lead_and_sorts_by_score(db_session: Session) -> None:
    manager = make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session)
    other = make_lead(db_session, balance=Decimal("10"), days_delinquent=1)
    make_signal(db_session, lead, SignalType.PROMOTION)
    certification = make_signal(db_session, lead, SignalType.CERTIFICATION)
    make_signal(db_session, other, SignalType.PROMOTION)
    service.acknowledge(db_session, certification, user=manager)

    def listed(**filters: object) -> tuple[list[Any], int]:
        return service.list_signals(db_session, SignalFilters.model_validate(filters), user=manager)

    assert listed()[1] == 3
    assert listed(type="promotion")[1] == 2
    assert listed(status="acknowledged")[1] == 1
    assert listed(lead_id=lead.id)[1] == 2
    assert listed(lead_external_id=other.external_id, type="promotion")[1] == 1
    assert listed(since="2999-01-01T00:00:00Z")[1] == 0
    by_score = listed(sort="score")[0]
    assert [s.score for s in by_score] == sorted((s.score for s in by_score), reverse=True)
    priorities = {s.priority.value for s in by_score}
    for priority in priorities:
        assert {s.priority.value for s in listed(priority=priority)[0]} == {priority}
    assert sum(listed(priority=p)[1] for p in priorities) == 3
    assert all(len(s.evidence) == 1 for s in by_score)


def test_audit_log_is_append_only(db_session: Session) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    make_user(db_session, Role.ADMIN)
    from upswing.audit.service import record

    record(db_session, actor="test", action="thing.happened", entity_type="thing")
    db_session.flush()
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_log"))


def test_check_constraints_refuse_unknown_values(db_session: Session) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    signal_id = make_signal(db_session, make_lead(db_session))
    for column, value in (("dismiss_reason", "bored"), ("action", "fax"), ("outcome", "maybe"),
                          ("priority", "critical")):
        with pytest.raises(IntegrityError), db_session.begin_nested():
            db_session.execute(update(Signal).where(Signal.id == signal_id).values({column: value}))


def test_signals_carry_their_leads_owner_through_every_change(db_session: Session) -> None:
    """Who may see a signal is answered from the signal's own columns: they follow the lead on every write path
    (a new signal, a reassignment through the ORM or a bulk UPDATE, a signal moved to another lead)."""
    from sqlalchemy import update as sql_update

    from upswing.lead.models import Lead
    from upswing.signal.models import Signal

    team, other_team = make_team(db_session), make_team(db_session)
    agent, other = make_user(db_session, Role.AGENT, team=team), make_user(db_session, Role.AGENT, team=other_team)
    lead = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    second = make_lead(db_session, assignee_id=other.id, team_id=other_team.id)
    signal_id = make_signal(db_session, lead)

    def owner() -> tuple[Any, Any]:
        db_session.flush()
        row = db_session.execute(select(Signal.assignee_id, Signal.team_id).where(Signal.id == signal_id)).one()
        return row.assignee_id, row.team_id

    assert owner() == (agent.id, team.id)
    lead.assignee_id, lead.team_id = other.id, other_team.id
    assert owner() == (other.id, other_team.id)
    db_session.execute(sql_update(Lead).where(Lead.id == lead.id).values(assignee_id=None, team_id=None))
    assert owner() == (None, None)
    db_session.execute(sql_update(Signal).where(Signal.id == signal_id).values(lead_id=second.id))
    assert owner() == (other.id, other_team.id)
