"""Lead dedupe on the database: duplicates across imports, merges that move the history, exact undo."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from factories import make_lead, make_portfolio, make_signal, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import verify_chain
from upswing.core.db import Base
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.dedupe import service
from upswing.dedupe.schemas import MergeFilters
from upswing.detection.events import SignalType
from upswing.lead.models import Lead, LeadMerge, MergeStatus
from upswing.lead.schemas import LeadFilters
from upswing.lead.service import import_leads, search_leads
from upswing.observation.models import Observation
from upswing.resolution.models import Match, NonMatch
from upswing.signal.models import Evidence, Signal
from upswing.source.service import file_source

ACTOR = "user:tester"
# Every table a merge may touch (lead_merges and audit_log only grow).
COMPARED_TABLES = ("leads", "signals", "evidence", "observations", "matches", "non_matches")

FIRST_IMPORT = [
    {"external_id": "ACC-1", "first_name": "Robert", "last_name": "Kowalski", "email": "rk@example.com",
     "phone": "(512) 555-0100", "city": "Austin", "state": "TX", "postal_code": "78701", "employer": "Acme Corp"},
    {"external_id": "ACC-2", "first_name": "Maria", "last_name": "Garcia", "email": "maria@example.com",
     "city": "Austin", "state": "TX", "postal_code": "78701"},
    # A namesake: same name, another state, other contacts and employer.
    {"external_id": "ACC-3", "first_name": "Robert", "last_name": "Kowalski", "email": "bob.k@example.org",
     "phone": "(503) 555-0199", "city": "Portland", "state": "OR", "postal_code": "97201", "employer": "Nike"},
]
SECOND_IMPORT = [
    # The same person as ACC-1 from another creditor: another id, a nickname, the same e-mail.
    {"external_id": "NEW-77", "first_name": "Bob", "last_name": "Kowalski", "email": "RK@example.com",
     "city": "Austin", "state": "TX", "employer": "ACME"},
    {"external_id": "NEW-78", "first_name": "Aiko", "last_name": "Tanaka", "city": "Austin", "state": "TX"},
]


def _two_imports(session: Session, portfolio: str = "book") -> dict[str, Lead]:
    import_leads(session, FIRST_IMPORT, portfolio_name=portfolio, actor=ACTOR)
    import_leads(session, SECOND_IMPORT, portfolio_name=portfolio, actor=ACTOR)
    return {lead.external_id: lead for lead in session.scalars(select(Lead))}


def _table_rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of the compared tables, as plain values, in a stable order."""
    session.flush()
    session.expire_all()
    state: dict[str, list[dict[str, Any]]] = {}
    for name in COMPARED_TABLES:
        table: Table = Base.metadata.tables[name]
        rows = [dict(row._mapping) for row in session.execute(select(table))]
        state[name] = sorted(rows, key=lambda r: str(r["id"]))
    return state


def _observation(session: Session, lead: Lead, subject_key: str | None = None) -> Observation:
    observed = datetime(2026, 10, 1, tzinfo=UTC)
    observation = Observation(source_id=file_source(session).id, lead_id=lead.id, kind="profile", raw={},
                              normalized={}, content_hash=uuid.uuid4().hex * 2, subject_key=subject_key,
                              observed_at=observed, last_observed_at=observed)
    session.add(observation)
    session.flush()
    return observation


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --------------------------------------------------------------------------------------------------- finding


def test_dedupe_finds_the_same_person_across_two_imports_and_not_the_namesake(db_session: Session) -> None:
    leads = _two_imports(db_session)
    duplicates = service.find_duplicates(db_session, portfolio="book")
    assert [(d.survivor_external_id, d.merged_external_id) for d in duplicates] == [("ACC-1", "NEW-77")]
    found = duplicates[0]
    assert found.survivor_id == leads["ACC-1"].id and found.merged_id == leads["NEW-77"].id
    assert found.score > 0.99 and found.portfolio == "book"
    assert found.agreed["first_name"] == "nickname: robert / bob"
    assert found.agreed["email"] == "exact: rk@example.com / rk@example.com"
    assert found.disagreed == {}
    assert found.merge_id is None
    # A lower threshold still never pairs the namesake in Portland with the Austin lead.
    low = service.find_duplicates(db_session, threshold=0.05)
    assert not any("ACC-3" in (d.survivor_external_id, d.merged_external_id) for d in low)


def test_dedupe_stays_within_a_portfolio(db_session: Session) -> None:
    import_leads(db_session, FIRST_IMPORT, portfolio_name="creditor-a", actor=ACTOR)
    import_leads(db_session, SECOND_IMPORT, portfolio_name="creditor-b", actor=ACTOR)
    assert service.find_duplicates(db_session) == []
    with pytest.raises(NotFoundError):
        service.find_duplicates(db_session, portfolio="nope")
    with pytest.raises(ValidationFailedError):
        service.find_duplicates(db_session, threshold=0)


def test_propose_stores_proposals_once_and_audits(db_session: Session) -> None:
    _two_imports(db_session)
    first = service.propose_merges(db_session, portfolio="book", actor=ACTOR)
    again = service.propose_merges(db_session, portfolio="book", actor=ACTOR)
    assert first[0].merge_id is not None and again[0].merge_id == first[0].merge_id
    merges = list(db_session.scalars(select(LeadMerge)))
    assert [(m.status, m.created_by) for m in merges] == [("proposed", ACTOR)]
    assert merges[0].explanation["agreed"]["last_name"] == "exact"
    details = list(db_session.scalars(select(AuditEntry.details).where(AuditEntry.action == "lead.dedupe")))
    assert [(d["proposed"], d["refreshed"]) for d in details] == [(1, 0), (0, 1)]
    page, total = service.list_merges(db_session, MergeFilters(portfolio="book", status=MergeStatus.PROPOSED))
    assert total == 1 and page[0].id == first[0].merge_id


# --------------------------------------------------------------------------------------------------- merging


def _history(session: Session, leads: dict[str, Lead]) -> dict[str, Any]:
    """Signals, observations, evidence, matches and non-matches on both leads, with a colliding signal."""
    survivor, merged = leads["ACC-1"], leads["NEW-77"]
    # The survivor saw the job change; the merged lead saw it too (another observation), and a promotion.
    kept = make_signal(session, survivor, title="Analyst", organization="Acme", effective_date=date(2026, 3, 1),
                       confidence=0.7)
    combined = make_signal(session, merged, title="Analyst", organization="ACME Inc.",
                           effective_date=date(2026, 3, 9), confidence=0.8, subject_key="in/bob-k")
    moved = make_signal(session, merged, SignalType.PROMOTION, title="Director", organization="Globex",
                        effective_date=date(2026, 6, 1), identity="globex|director")
    # The merged lead's signal also cites the survivor's observation: that evidence item is a duplicate.
    kept_observation = session.scalar(select(Evidence.observation_id).where(Evidence.signal_id == kept))
    session.add(Evidence(signal_id=combined, observation_id=kept_observation, kind="profile", confidence=0.6,
                         observed_at=datetime(2026, 11, 1, tzinfo=UTC)))
    plain = _observation(session, merged, "in/bob-k")
    session.add(Match(observation_id=plain.id, lead_id=merged.id, score=0.97, outcome="linked",
                      method="probabilistic", agreed={"name": "exact"}, disagreed={}))
    session.add_all([NonMatch(lead_id=merged.id, subject_key="in/stranger", reason="wrong_person", created_by=ACTOR),
                     NonMatch(lead_id=merged.id, subject_key="in/shared", reason="wrong_person", created_by=ACTOR),
                     NonMatch(lead_id=survivor.id, subject_key="in/shared", reason="wrong_person", created_by=ACTOR)])
    session.flush()
    return {"kept": kept, "combined": combined, "moved": moved, "plain": plain.id}


def test_merge_moves_history_combines_colliding_signals_and_undo_restores_every_row(db_session: Session) -> None:
    leads = _two_imports(db_session)
    survivor, merged = leads["ACC-1"], leads["NEW-77"]
    history = _history(db_session, leads)
    kept_before = db_session.get(Signal, history["kept"])
    assert kept_before is not None
    kept_confidence = kept_before.confidence
    before = _table_rows(db_session)

    merge = service.merge_leads(db_session, survivor_id=survivor.id, merged_id=merged.id, actor=ACTOR)
    db_session.expire_all()

    assert merge.status == "applied" and merge.applied_by == ACTOR and merge.applied_at is not None
    assert merge.score > 0.99 and merge.explanation["agreed"]["first_name"] == "nickname"
    assert db_session.get(Lead, merged.id).merged_into_id == survivor.id  # type: ignore[union-attr]
    # Every observation, match and (non-colliding) non-match of the merged lead is now the survivor's.
    assert db_session.scalar(select(func.count()).select_from(Observation)
                             .where(Observation.lead_id == merged.id)) == 0
    assert db_session.scalar(select(Match.lead_id).where(Match.observation_id == history["plain"])) == survivor.id
    non_matches = {(n.lead_id, n.subject_key) for n in db_session.scalars(select(NonMatch))}
    assert non_matches == {(survivor.id, "in/stranger"), (survivor.id, "in/shared"), (merged.id, "in/shared")}
    # The promotion moved; the job change seen by both is now one signal with the evidence of both.
    signals = {s.id: s for s in db_session.scalars(select(Signal))}
    assert set(signals) == {history["kept"], history["moved"]}
    assert signals[history["moved"]].lead_id == survivor.id
    kept = signals[history["kept"]]
    evidence = list(db_session.scalars(select(Evidence).where(Evidence.signal_id == kept.id)))
    assert len(evidence) == 2 and len(kept.observation_ids) == 2
    assert kept.confidence > kept_confidence
    assert merge.snapshot is not None and len(merge.snapshot["signals_combined"]) == 1
    assert service.read_merge(merge).moved == {"observations": 3, "matches": 1, "non_matches": 1, "signals": 1,
                                               "signals_combined": 1}
    # Merged leads leave lead search; the survivor stays.
    admin = make_user(db_session, Role.ADMIN)
    found, total = search_leads(db_session, LeadFilters(q="kowalski"), user=admin)
    assert {lead.external_id for lead in found} == {"ACC-1", "ACC-3"} and total == 2
    # It is no longer proposed.
    assert service.find_duplicates(db_session, portfolio="book") == []
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.merge")).one()
    assert entry.entity_id == str(survivor.id)
    assert entry.details["merged_external_id"] == "NEW-77"
    assert entry.details["signals_combined"] == {str(history["combined"]): str(history["kept"])}

    undone = service.undo_merge(db_session, merge.id, actor="user:other")
    assert undone.status == "undone" and undone.undone_by == "user:other" and undone.undone_at is not None
    assert _table_rows(db_session) == before
    assert _actions(db_session)[-2:] == ["lead.merge", "lead.merge_undone"]
    assert verify_chain(db_session) is None
    with pytest.raises(ConflictError):
        service.undo_merge(db_session, merge.id, actor=ACTOR)
    # Undone, the pair is a duplicate again, and can be merged again.
    assert len(service.find_duplicates(db_session, portfolio="book")) == 1
    again = service.merge_leads(db_session, survivor_id=survivor.id, merged_id=merged.id, actor=ACTOR)
    assert again.id != merge.id and again.status == "applied"


def test_undo_after_later_changes_keeps_them_and_rescores(db_session: Session) -> None:
    leads = _two_imports(db_session)
    survivor, merged = leads["ACC-1"], leads["NEW-77"]
    history = _history(db_session, leads)
    ids_before = {key: list(db_session.get(Signal, history[key]).observation_ids)  # type: ignore[union-attr]
                  for key in ("kept", "combined")}
    merge = service.merge_leads(db_session, survivor_id=survivor.id, merged_id=merged.id, actor=ACTOR)
    # After the merge a new observation joins the combined signal, and a moved signal is acknowledged.
    kept = db_session.get(Signal, history["kept"])
    moved = db_session.get(Signal, history["moved"])
    assert kept is not None and moved is not None
    assert kept.observation_ids == ids_before["kept"] + ids_before["combined"]
    later = _observation(db_session, survivor)
    kept.observation_ids = [*kept.observation_ids, str(later.id)]
    moved.status = "acknowledged"
    db_session.flush()

    service.undo_merge(db_session, merge.id, actor=ACTOR)
    kept = db_session.get(Signal, history["kept"])
    moved = db_session.get(Signal, history["moved"])
    combined = db_session.get(Signal, history["combined"])
    assert kept is not None and moved is not None and combined is not None
    # The later observation stays; the merged signal's observations went back with it (and it was rescored).
    assert kept.observation_ids == [*ids_before["kept"], str(later.id)]
    assert combined.observation_ids == ids_before["combined"] and combined.lead_id == merged.id
    assert kept.scored_at is not None and merge.applied_at is not None and kept.scored_at > merge.applied_at
    assert moved.lead_id == merged.id and moved.status == "acknowledged"


def test_merge_refuses_bad_pairs(db_session: Session) -> None:
    leads = _two_imports(db_session)
    other = make_lead(db_session, make_portfolio(db_session))
    a, b, c = leads["ACC-1"], leads["NEW-77"], leads["ACC-2"]
    with pytest.raises(ValidationFailedError):
        service.merge_leads(db_session, survivor_id=a.id, merged_id=a.id, actor=ACTOR)
    with pytest.raises(ValidationFailedError):
        service.merge_leads(db_session, survivor_id=a.id, merged_id=other.id, actor=ACTOR)
    with pytest.raises(NotFoundError):
        service.merge_leads(db_session, survivor_id=a.id, merged_id=uuid.uuid4(), actor=ACTOR)
    first = service.merge_leads(db_session, survivor_id=a.id, merged_id=b.id, actor=ACTOR)
    with pytest.raises(ConflictError):
        service.merge_leads(db_session, survivor_id=c.id, merged_id=b.id, actor=ACTOR)
    # A merge whose survivor was merged since cannot be undone before that later merge.
    second = service.merge_leads(db_session, survivor_id=c.id, merged_id=a.id, actor=ACTOR)
    with pytest.raises(ConflictError, match="undo that merge first"):
        service.undo_merge(db_session, first.id, actor=ACTOR)
    service.undo_merge(db_session, second.id, actor=ACTOR)
    service.undo_merge(db_session, first.id, actor=ACTOR)
    with pytest.raises(NotFoundError):
        service.undo_merge(db_session, uuid.uuid4(), actor=ACTOR)


def test_rejected_pairs_are_not_proposed_again_until_the_rejection_is_undone(db_session: Session) -> None:
    leads = _two_imports(db_session)
    proposal = service.propose_merges(db_session, portfolio="book", actor=ACTOR)[0]
    rejection = service.reject_pair(db_session, survivor_id=leads["NEW-77"].id, merged_id=leads["ACC-1"].id,
                                    actor=ACTOR)
    assert rejection.id == proposal.merge_id and rejection.status == "rejected" and rejection.rejected_by == ACTOR
    assert service.find_duplicates(db_session, portfolio="book") == []
    service.undo_merge(db_session, rejection.id, actor=ACTOR)
    assert len(service.find_duplicates(db_session, portfolio="book")) == 1
    assert _actions(db_session)[-2:] == ["lead.merge_rejected", "lead.merge_rejection_undone"]


def test_apply_follows_chains_of_duplicates(db_session: Session) -> None:
    portfolio = make_portfolio(db_session, "chain")
    common = {"city": "Austin", "state": "TX", "postal_code": "78701"}
    a = make_lead(db_session, portfolio, first_name="Katherine", last_name="Oduya", email="k.oduya@example.com",
                  emails=["k.oduya@example.com"], **common)
    b = make_lead(db_session, portfolio, first_name="Kate", last_name="Oduya", email="k.oduya@example.com",
                  emails=["k.oduya@example.com"], phones=[{"number": "+15125550142", "type": "mobile"}], **common)
    c = make_lead(db_session, portfolio, first_name="Katie", last_name="Oduya", email="kitty@example.net",
                  emails=["kitty@example.net"], phones=[{"number": "+15125550142", "type": "mobile"}], **common)
    duplicates = service.propose_merges(db_session, portfolio="chain", actor=ACTOR)
    assert len(duplicates) >= 2
    merges = service.apply_duplicates(db_session, duplicates, actor=ACTOR)
    db_session.expire_all()
    assert {m.merged_id for m in merges} == {b.id, c.id}
    assert {m.survivor_id for m in merges} == {a.id}
    assert db_session.get(Lead, c.id).merged_into_id == a.id  # type: ignore[union-attr]
    assert all(m.status == "applied" for m in db_session.scalars(select(LeadMerge)))
