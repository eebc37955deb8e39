"""Linking observations to leads: deterministic keys, then probabilistic matching, then a review queue.

``resolve`` decides, for a chunk of profile snapshots, which lead each belongs to, in this order:

1. LinkedIn public id equal to a lead's (the earliest such lead);
2. the same profile (subject key) linked to a lead before, by any route: a person's approval sticks;
3. e-mail: one lead with that address links; several leads sharing it go to review, never auto-linked;
4. probabilistic: candidates found by blocking (family name or given name within the state, see
   ``records.block_keys``) scored with ``matching.compare``; above ``link_threshold`` links when no other
   candidate is even plausible, between the thresholds (or beside another plausible lead: namesakes) goes
   to review, below stays unlinked. A lead that already has a LinkedIn profile (in its file, or linked
   before) counts the profile's other public id as a disagreement: a person has one profile.

Phones are a deterministic key in ``compare`` but profile snapshots carry none, so step 3 has no phone
counterpart yet. A known non-match (``NonMatch``: a rejected review, or a signal dismissed as "wrong
person") removes that lead from every step for that subject. Leads merged into another (lead dedupe) are
never candidates: the merge moved their observations to the survivor, where step 2 finds them (they are
dropped from the rows read, not filtered in SQL: with ``merged_into_id IS NULL`` in the WHERE clause SQLite
drives the look-up from that index, through every lead). Each step is one query for the whole chunk, and
only the items the earlier steps left open reach the later ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, String, and_, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from upswing.audit import service as audit
from upswing.core.crypto import EncryptedType
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError
from upswing.core.pagination import capped_count
from upswing.lead.models import Lead
from upswing.lead.pii import email_index
from upswing.observation.models import Observation
from upswing.observation.snapshot import ProfileSnapshot
from upswing.resolution.matching import PersonRecord, compare, explanation_labels
from upswing.resolution.models import Match, MatchMethod, MatchOutcome, NonMatch
from upswing.resolution.records import BlockKey, block_keys, lead_matches_key, lead_record, snapshot_record
from upswing.resolution.schemas import MatchDecision, MatchPage, MatchRead
from upswing.settings import get_settings

SYSTEM = "system"
MAX_REVIEW_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    lead_id: uuid.UUID
    score: float
    method: MatchMethod
    agreed: dict[str, str] = field(default_factory=dict)
    disagreed: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolution:
    """``linked``: ``candidates[0]`` is the lead; ``review``: every candidate waits for a person."""

    outcome: MatchOutcome
    candidates: tuple[Candidate, ...] = ()

    @property
    def lead_id(self) -> uuid.UUID | None:
        return self.candidates[0].lead_id if self.outcome is MatchOutcome.LINKED else None


UNLINKED = Resolution(MatchOutcome.UNLINKED)

_LEAD_COLUMNS = (Lead.id, Lead.first_name, Lead.middle_name, Lead.last_name, Lead.email, Lead.phone, Lead.city,
                 Lead.state, Lead.country, Lead.employer, Lead.linkedin_public_id)


# --------------------------------------------------------------------------------------------------
# resolve
# --------------------------------------------------------------------------------------------------


def resolve(session: Session, subjects: Mapping[str, ProfileSnapshot], *, link_threshold: float | None = None,
            review_threshold: float | None = None) -> dict[str, Resolution]:
    """Decide the lead of each subject (subject key → its snapshot). Subjects left out of the result are unlinked."""
    if not subjects:
        return {}
    settings = get_settings()
    link_at = settings.link_threshold if link_threshold is None else link_threshold
    review_at = settings.review_threshold if review_threshold is None else review_threshold
    blocked = known_non_matches(session, subjects)
    results: dict[str, Resolution] = {}

    _by_public_id(session, subjects, blocked, results)
    open_ = {k: s for k, s in subjects.items() if k not in results}
    if open_:
        _by_history(session, open_, blocked, results)
        open_ = {k: s for k, s in open_.items() if k not in results}
    if open_:
        _by_email(session, open_, blocked, results)
        open_ = {k: s for k, s in open_.items() if k not in results}
    if open_:
        _by_score(session, open_, blocked, results, link_at=link_at, review_at=review_at)
    return results


def _one_of(session: Session, column: InstrumentedAttribute[Any], values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY(array)``, one parameter instead of one per value, which
    cost most of these look-ups' time with a thousand values."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    return column.in_(values)


def known_non_matches(session: Session, subject_keys: Iterable[str]) -> dict[str, set[uuid.UUID]]:
    keys = list(subject_keys)
    blocked: dict[str, set[uuid.UUID]] = {}
    if keys:
        for key, lead_id in session.execute(
            select(NonMatch.subject_key, NonMatch.lead_id).where(_one_of(session, NonMatch.subject_key, keys))
        ):
            blocked.setdefault(key, set()).add(lead_id)
    return blocked


def _linked(lead_id: uuid.UUID, agreed: dict[str, str], *, score: float = 1.0,
            method: MatchMethod = MatchMethod.DETERMINISTIC, disagreed: dict[str, str] | None = None) -> Resolution:
    return Resolution(MatchOutcome.LINKED, (Candidate(lead_id, score, method, agreed, disagreed or {}),))


def _by_public_id(session: Session, subjects: Mapping[str, ProfileSnapshot], blocked: dict[str, set[uuid.UUID]],
                  results: dict[str, Resolution]) -> None:
    public_ids = {s.public_identifier for s in subjects.values() if s.public_identifier}
    if not public_ids:
        return
    by_public_id: dict[str, list[uuid.UUID]] = {}
    for public_id, lead_id, merged_into in session.execute(
        select(Lead.linkedin_public_id, Lead.id, Lead.merged_into_id)
        .where(_one_of(session, Lead.linkedin_public_id, public_ids)).order_by(Lead.created_at)
    ):
        if public_id is not None and merged_into is None:
            by_public_id.setdefault(public_id, []).append(lead_id)
    for key, snapshot in subjects.items():
        refused = blocked.get(key, ())
        for lead_id in by_public_id.get(snapshot.public_identifier or "", ()):
            if lead_id not in refused:
                results[key] = _linked(lead_id, {"linkedin": f"same public id: {snapshot.public_identifier}"})
                break


def _by_history(session: Session, subjects: Mapping[str, ProfileSnapshot], blocked: dict[str, set[uuid.UUID]],
                results: dict[str, Resolution]) -> None:
    rows = session.execute(
        select(Observation.subject_key, Observation.lead_id)
        .where(_one_of(session, Observation.subject_key, subjects), Observation.lead_id.is_not(None))
        .order_by(Observation.observed_at.desc())
    )
    for key, lead_id in rows:
        if key is None or lead_id is None or key in results or lead_id in blocked.get(key, ()):
            continue
        results[key] = _linked(lead_id, {"subject": "this profile was linked to this lead before"})


def _by_email(session: Session, subjects: Mapping[str, ProfileSnapshot], blocked: dict[str, set[uuid.UUID]],
              results: dict[str, Resolution]) -> None:
    # E-mails are encrypted: the look-up goes through their blind index (the same address in any case).
    index = {e: email_index(e) for s in subjects.values() for e in s.emails}
    if not index:
        return
    by_index: dict[str, set[uuid.UUID]] = {}
    for email_bidx, lead_id, merged_into in session.execute(
        select(Lead.email_bidx, Lead.id, Lead.merged_into_id)
        .where(_one_of(session, Lead.email_bidx, set(index.values())))
    ):
        if email_bidx is not None and merged_into is None:
            by_index.setdefault(email_bidx, set()).add(lead_id)
    shared: dict[str, tuple[set[uuid.UUID], str]] = {}
    for key, snapshot in subjects.items():
        refused = blocked.get(key, set())
        owners = [(email, by_index.get(index[email], set()) - refused) for email in snapshot.emails]
        unique = next(((email, leads) for email, leads in owners if len(leads) == 1), None)
        if unique is not None:
            results[key] = _linked(next(iter(unique[1])), {"email": f"exact: {unique[0]}"})
            continue
        ambiguous = next(((email, leads) for email, leads in owners if len(leads) > 1), None)
        if ambiguous is not None:
            shared[key] = (ambiguous[1], ambiguous[0])
    if not shared:
        return
    # Two leads sharing an address is not proof of identity: every one goes to review, scored for the reviewer.
    lead_ids = {lead_id for leads, _ in shared.values() for lead_id in leads}
    rows = {row.id: row for row in session.execute(select(*_LEAD_COLUMNS).where(Lead.id.in_(lead_ids)))}
    for key, (leads, email) in shared.items():
        record = snapshot_record(subjects[key])
        candidates = []
        for lead_id in sorted(leads, key=str):
            result = compare(record, lead_record(rows[lead_id]))
            agreed = {**result.agreed, "email": f"shared by {len(leads)} leads: {email}"}
            candidates.append(Candidate(lead_id, result.score, MatchMethod.DETERMINISTIC, agreed, result.disagreed))
        candidates.sort(key=lambda c: -c.score)
        results[key] = Resolution(MatchOutcome.REVIEW, tuple(candidates))


# The blocking query. The key rows travel as one parameter (a JSON array on SQLite, arrays on PostgreSQL), so
# the statement text never changes and both databases reuse its plan: a VALUES list of a new length per chunk
# was prepared anew each time, which cost several times the look-up itself.
_BLOCK_KEYS_SQLITE = (
    "WITH k AS (SELECT json_extract(value, '$[0]') AS col, json_extract(value, '$[1]') AS val, "
    "json_extract(value, '$[2]') AS st, json_extract(value, '$[3]') AS lo, json_extract(value, '$[4]') AS hi "
    "FROM json_each(:keys)) "
)
_BLOCK_KEYS_POSTGRESQL = (
    "WITH k AS (SELECT * FROM unnest(%(col)s::text[], %(val)s::text[], %(st)s::text[], %(lo)s::text[], "
    "%(hi)s::text[]) AS t (col, val, st, lo, hi)) "
)
# Each key row names a family name (or a given name) in a state and a range of the other name's first letter,
# so every look-up is an index range scan on (last_name, state, first_name) or (first_name, state, last_name):
# only candidates are read from the table. Keys without a state look up the family name anywhere.
_BLOCK_LEGS = (
    "SELECT leads.id, leads.first_name, leads.middle_name, leads.last_name, leads.email, leads.phone, leads.city, "
    "leads.state, leads.country, leads.employer, leads.linkedin_public_id, leads.merged_into_id, k.col, k.val, k.st "
    "FROM k JOIN leads ON leads.last_name = k.val AND leads.state = k.st "
    "AND leads.first_name >= k.lo AND leads.first_name < k.hi "
    "WHERE k.col = 'last_name' AND k.st <> '' "
    "UNION ALL "
    "SELECT leads.id, leads.first_name, leads.middle_name, leads.last_name, leads.email, leads.phone, leads.city, "
    "leads.state, leads.country, leads.employer, leads.linkedin_public_id, leads.merged_into_id, k.col, k.val, k.st "
    "FROM k JOIN leads ON leads.first_name = k.val AND leads.state = k.st "
    "AND leads.last_name >= k.lo AND leads.last_name < k.hi "
    "WHERE k.col = 'first_name' AND k.st <> '' "
    "UNION ALL "
    "SELECT leads.id, leads.first_name, leads.middle_name, leads.last_name, leads.email, leads.phone, leads.city, "
    "leads.state, leads.country, leads.employer, leads.linkedin_public_id, leads.merged_into_id, k.col, k.val, k.st "
    "FROM k JOIN leads ON leads.last_name = k.val "
    "AND leads.first_name >= k.lo AND leads.first_name < k.hi WHERE k.col = 'last_name' AND k.st = ''"
)
_BLOCKING_SQL = {"sqlite": _BLOCK_KEYS_SQLITE + _BLOCK_LEGS, "postgresql": _BLOCK_KEYS_POSTGRESQL + _BLOCK_LEGS}


def _ranges(initial: str) -> list[tuple[str, str]]:
    """The other name starts with this letter, in either case: two half-open ranges (any collation)."""
    return [(letter, chr(ord(letter) + 1)) for letter in dict.fromkeys((initial.upper(), initial.lower()))]


def _blocking_rows(session: Session, keys: set[BlockKey]) -> dict[tuple[str, str, str], list[Any]]:
    """Candidate leads by (column, value, state): one statement for the whole chunk.

    The initial is checked as a range here and exactly again by ``lead_matches_key``."""
    key_rows = sorted({(k.column, k.value, k.state, lo, hi) for k in keys for lo, hi in _ranges(k.initial)})
    found: dict[tuple[str, str, str], list[Any]] = {}
    if not key_rows:
        return found
    connection = session.connection()
    dialect = connection.dialect.name
    params: dict[str, Any]
    if dialect == "postgresql":
        params = {name: [row[i] for row in key_rows] for i, name in enumerate(("col", "val", "st", "lo", "hi"))}
    else:
        params = {"keys": orjson.dumps(key_rows).decode()}
    seen: set[tuple[Any, ...]] = set()
    for row in connection.exec_driver_sql(_BLOCKING_SQL[dialect], params):
        if row.merged_into_id is not None:
            continue
        lead = _BlockedLead(*row[:11])  # e-mail and phone still encrypted: see ``with_contacts``
        marker = (row.col, row.val, row.st, lead.id)
        if marker not in seen:  # a lead in both case ranges (case-insensitive collations)
            seen.add(marker)
            found.setdefault((row.col, row.val, row.st), []).append(lead)
    return found


_LEAD_EMAIL = cast(EncryptedType, Lead.__table__.c.email.type)
_LEAD_PHONE = cast(EncryptedType, Lead.__table__.c.phone.type)


@dataclass(slots=True)
class _BlockedLead:
    """A candidate lead as the blocking query returns it (the columns ``records.lead_record`` reads)."""

    id: uuid.UUID
    first_name: str
    middle_name: str | None
    last_name: str
    email: str | None
    phone: str | None
    city: str | None
    state: str | None
    country: str | None
    employer: str | None
    linkedin_public_id: str | None

    def __post_init__(self) -> None:
        if not isinstance(self.id, uuid.UUID):  # SQLite returns the stored hex text
            self.id = uuid.UUID(str(self.id))

    def with_contacts(self, wanted: bool) -> _BlockedLead:
        """The e-mail and phone decrypted when ``wanted`` (the profile has one to compare: ``compare`` skips
        them otherwise), else left out: decrypting every candidate's would cost more than the look-up."""
        if not wanted:
            return replace(self, email=None, phone=None)
        return replace(self, email=_LEAD_EMAIL.open(self.email), phone=_LEAD_PHONE.open(self.phone))

def _by_score(session: Session, subjects: Mapping[str, ProfileSnapshot], blocked: dict[str, set[uuid.UUID]],
              results: dict[str, Resolution], *, link_at: float, review_at: float) -> None:
    records: dict[str, PersonRecord] = {}
    keys_of: dict[str, set[BlockKey]] = {}
    for key, snapshot in subjects.items():
        record = snapshot_record(snapshot)
        keys = block_keys(record)
        if keys:
            records[key], keys_of[key] = record, keys
    if not records:
        return
    found = _blocking_rows(session, set().union(*keys_of.values()))
    profiles = _known_profiles(session, {lead.id for leads in found.values() for lead in leads
                                         if not lead.linkedin_public_id})
    for key, record in records.items():
        refused = blocked.get(key, set())
        rows: dict[uuid.UUID, Any] = {}
        for block in keys_of[key]:
            for row in found.get((block.column, block.value, block.state), ()):
                if row.id not in refused and lead_matches_key(row, block):
                    rows.setdefault(row.id, row)
        scored = []
        with_contacts = bool(record.emails or record.phones)
        for lead_id, row in rows.items():
            lead = lead_record(row.with_contacts(with_contacts))
            other = profiles.get(lead_id, set()) - {record.linkedin_id}
            if other and not lead.linkedin_id:  # the lead has a profile already: this one is someone else's
                lead = replace(lead, linkedin_id=min(other))
            result = compare(record, lead)
            scored.append(Candidate(lead_id, result.score, MatchMethod.PROBABILISTIC, result.agreed,
                                    result.disagreed))
        decision = choose(scored, link_at=link_at, review_at=review_at)
        if decision.outcome is not MatchOutcome.UNLINKED:
            results[key] = decision


def _known_profiles(session: Session, lead_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """LinkedIn public ids of the profiles already linked to these leads (for leads whose file has none)."""
    known: dict[uuid.UUID, set[str]] = {}
    if lead_ids:
        for lead_id, key in session.execute(
            select(Observation.lead_id, Observation.subject_key).distinct()
            .where(Observation.lead_id.in_(lead_ids), Observation.subject_key.like("li:%"))
        ):
            if lead_id is not None and key is not None:
                known.setdefault(lead_id, set()).add(key.removeprefix("li:"))
    return known


def choose(scored: Iterable[Candidate], *, link_at: float, review_at: float) -> Resolution:
    """The decision for one subject from its scored candidates: link the best one when it clears the link
    threshold and no other lead is even plausible (above the review threshold); send the plausible ones to
    review otherwise (a close call, or two leads that might both be the person: namesakes); else unlinked."""
    kept = sorted((c for c in scored if c.score >= review_at), key=lambda c: (-c.score, str(c.lead_id)))
    if not kept:
        return UNLINKED
    if kept[0].score >= link_at and len(kept) == 1:
        return Resolution(MatchOutcome.LINKED, (kept[0],))
    return Resolution(MatchOutcome.REVIEW, tuple(kept[:MAX_REVIEW_CANDIDATES]))


def match_rows(observation_id: uuid.UUID, resolution: Resolution, now: datetime) -> list[dict[str, Any]]:
    """The ``matches`` rows recording a decision (none for ``unlinked``), ready for a bulk insert."""
    if resolution.outcome is MatchOutcome.UNLINKED:
        return []
    decided = resolution.outcome is MatchOutcome.LINKED
    return [{
        "id": uuid.uuid4(), "observation_id": observation_id, "lead_id": c.lead_id, "score": round(c.score, 6),
        "outcome": resolution.outcome.value, "method": c.method.value, "agreed": explanation_labels(c.agreed),
        "disagreed": explanation_labels(c.disagreed), "decided_by": SYSTEM if decided else None,
        "decided_at": now if decided else None,
        "created_at": now,
    } for c in resolution.candidates]


# --------------------------------------------------------------------------------------------------
# Known non-matches
# --------------------------------------------------------------------------------------------------


def _store_non_match(session: Session, *, lead_id: uuid.UUID, subject_key: str, actor: str, reason: str) -> bool:
    exists = session.scalar(
        select(NonMatch.id).where(NonMatch.lead_id == lead_id, NonMatch.subject_key == subject_key))
    if exists is not None:
        return False
    session.add(NonMatch(lead_id=lead_id, subject_key=subject_key, reason=reason, created_by=actor))
    now = utcnow()
    pending = select(Observation.id).where(Observation.subject_key == subject_key)
    session.execute(
        update(Match).where(Match.lead_id == lead_id, Match.outcome == MatchOutcome.REVIEW.value,
                            Match.observation_id.in_(pending))
        .values(outcome=MatchOutcome.REJECTED.value, decided_by=actor, decided_at=now)
        .execution_options(synchronize_session=False))
    session.flush()
    return True


def record_non_match(session: Session, *, lead_id: uuid.UUID, subject_key: str, actor: str,
                     reason: str = "wrong_person") -> None:
    """Remember that this subject is not this lead: the linker never links them again (audited).

    Pending reviews of that pair are closed as rejected. Links made earlier stay as they are: the signal
    workflow that reports a wrong person deals with what was already shown.
    """
    if _store_non_match(session, lead_id=lead_id, subject_key=subject_key, actor=actor, reason=reason):
        audit.record(session, actor=actor, action="resolution.non_match", entity_type="lead", entity_id=lead_id,
                     details={"subject_key": subject_key, "reason": reason})


# --------------------------------------------------------------------------------------------------
# Review queue
# --------------------------------------------------------------------------------------------------


def _current_position(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(title, company) of a profile's first current position, if it has one."""
    for experience in data.get("experiences") or ():
        if isinstance(experience, dict) and experience.get("current"):
            return experience.get("title"), experience.get("company")
    return None, None


def _read(match: Match, observation: Observation, lead: Lead) -> MatchRead:
    data = observation.normalized or {}
    name = data.get("full_name") or " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    title, company = _current_position(data)
    return MatchRead(
        profile_title=title, profile_company=company, lead_title=lead.title,
        id=match.id, observation_id=match.observation_id, lead_id=match.lead_id, score=match.score,
        outcome=MatchOutcome(match.outcome), method=MatchMethod(match.method), agreed=match.agreed,
        disagreed=match.disagreed, decided_by=match.decided_by, decided_at=match.decided_at,
        created_at=match.created_at, subject_key=observation.subject_key, profile_url=observation.url,
        profile_name=name or None, profile_headline=data.get("headline"), profile_location=data.get("location"),
        observed_at=observation.observed_at, lead_external_id=lead.external_id, lead_name=lead.full_name,
        lead_city=lead.city, lead_state=lead.state, lead_employer=lead.employer,
    )


def list_review(session: Session, *, limit: int = 100, offset: int = 0) -> MatchPage:
    """Matches waiting for a person, best score first."""
    query = select(Match, Observation, Lead).join(Observation, Observation.id == Match.observation_id).join(
        Lead, Lead.id == Match.lead_id).where(Match.outcome == MatchOutcome.REVIEW.value)
    total, _ = capped_count(session, select(Match.id).where(Match.outcome == MatchOutcome.REVIEW.value))
    rows = session.execute(query.order_by(Match.score.desc(), Match.created_at, Match.id).limit(limit).offset(offset))
    return MatchPage(items=[_read(m, o, lead) for m, o, lead in rows], total=total, limit=limit, offset=offset)


def list_for_lead(session: Session, lead_id: uuid.UUID, *, linked_only: bool = False, limit: int = 100,
                  offset: int = 0) -> MatchPage:
    """Every link decision about one lead (linked, approved, rejected, waiting…), newest first: why its profiles
    are (or are not) this person. ``linked_only``: only those whose profile is linked to the lead (what an agent
    may see: a profile linked to nobody, or to another lead, is not theirs; PostgreSQL's row policies agree)."""
    where = Match.lead_id == lead_id
    if linked_only:
        where = and_(where, Match.observation_id.in_(select(Observation.id).where(Observation.lead_id == lead_id)))
    total, _ = capped_count(session, select(Match.id).where(where))
    rows = session.execute(select(Match, Observation, Lead).join(Observation, Observation.id == Match.observation_id)
                           .join(Lead, Lead.id == Match.lead_id).where(where)
                           .order_by(Match.created_at.desc(), Match.id).limit(limit).offset(offset))
    return MatchPage(items=[_read(m, o, lead) for m, o, lead in rows], total=total, limit=limit, offset=offset)


def _pending(session: Session, match_id: uuid.UUID) -> tuple[Match, Observation]:
    match = session.get(Match, match_id)
    if match is None:
        raise NotFoundError(f"match {match_id} not found")
    if match.outcome != MatchOutcome.REVIEW.value:
        raise ConflictError(f"match {match_id} is {match.outcome}, not waiting for review")
    observation = session.get(Observation, match.observation_id)
    assert observation is not None  # the foreign key cascades
    return match, observation


def _same_subject_reviews(session: Session, match: Match, observation: Observation) -> list[tuple[Match, Observation]]:
    """The pending reviews of this lead for every unlinked observation of the same profile, oldest first."""
    if observation.subject_key is None:
        return [(match, observation)]
    rows = session.execute(
        select(Match, Observation).join(Observation, Observation.id == Match.observation_id)
        .where(Match.lead_id == match.lead_id, Match.outcome == MatchOutcome.REVIEW.value,
               Observation.subject_key == observation.subject_key, Observation.lead_id.is_(None))
        .order_by(Observation.observed_at, Observation.id)
    ).all()
    return [(m, o) for m, o in rows] or [(match, observation)]


#: Links a stored observation to a lead and detects its signals; returns (signals created, signals merged).
#: The pipeline supplies it (``pipeline.review.approve``): detection sits above this domain.
LinkObservation = Callable[[Observation, uuid.UUID], tuple[int, int]]


def approve(session: Session, match_id: uuid.UUID, *, actor: str, link: LinkObservation) -> MatchDecision:
    """Link the observation (and the profile's other snapshots waiting for this lead) with ``link``."""
    match, observation = _pending(session, match_id)
    if observation.lead_id is not None:
        raise ConflictError(f"observation {observation.id} is already linked to a lead")
    now = utcnow()
    created = merged = 0
    linked: list[str] = []
    for pending_match, pending_observation in _same_subject_reviews(session, match, observation):
        created_now, merged_now = link(pending_observation, pending_match.lead_id)
        created += created_now
        merged += merged_now
        pending_match.outcome, pending_match.decided_by, pending_match.decided_at = (
            MatchOutcome.APPROVED.value, actor, now)
        linked.append(str(pending_observation.id))
        # The other candidates for that observation are not it.
        session.execute(
            update(Match).where(Match.observation_id == pending_observation.id, Match.id != pending_match.id,
                                Match.outcome == MatchOutcome.REVIEW.value)
            .values(outcome=MatchOutcome.UNLINKED.value, decided_by=actor, decided_at=now)
            .execution_options(synchronize_session=False))
    session.flush()
    audit.record(session, actor=actor, action="match.approve", entity_type="match", entity_id=match.id,
                 details={"lead_id": str(match.lead_id), "observations": linked, "score": match.score,
                          "signals_created": created, "signals_merged": merged})
    lead = session.get(Lead, match.lead_id)
    assert lead is not None
    return MatchDecision(match=_read(match, observation, lead), observations_linked=len(linked),
                         signals_created=created, signals_merged=merged)


def reject(session: Session, match_id: uuid.UUID, *, actor: str, reason: str = "rejected in review") -> MatchDecision:
    """Not this lead: close the review and record a known non-match, so no later ingest links them."""
    match, observation = _pending(session, match_id)
    now = utcnow()
    match.outcome, match.decided_by, match.decided_at = MatchOutcome.REJECTED.value, actor, now
    if observation.subject_key is not None:
        _store_non_match(session, lead_id=match.lead_id, subject_key=observation.subject_key, actor=actor,
                         reason=reason)
    session.flush()
    audit.record(session, actor=actor, action="match.reject", entity_type="match", entity_id=match.id,
                 details={"lead_id": str(match.lead_id), "observation_id": str(observation.id),
                          "subject_key": observation.subject_key, "score": match.score, "reason": reason})
    lead = session.get(Lead, match.lead_id)
    assert lead is not None
    return MatchDecision(match=_read(match, observation, lead), observations_linked=0, signals_created=0,
                         signals_merged=0)


def matches_for_observations(session: Session,
                             observation_ids: Sequence[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
    """Existing (observation, lead) → match id, for observations seen again by an ingest."""
    if not observation_ids:
        return {}
    return {(row.observation_id, row.lead_id): row.id for row in session.execute(
        select(Match.id, Match.observation_id, Match.lead_id).where(Match.observation_id.in_(observation_ids)))}
