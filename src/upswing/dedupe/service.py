"""Lead deduplication: find duplicate leads in a portfolio, propose, apply, reject and undo merges.

Finding uses the pure linker in ``resolution.dedupe`` (blocking, comparison levels, Fellegi–Sunter weights).
Applying a merge moves the merged lead's history to the survivor and keeps everything needed to undo it:

* every row of another table that points at the merged lead (observations, matches, known non-matches, …)
  moves to the survivor, unless the survivor already has the same row (a unique constraint would collide:
  that row stays with the merged lead);
* each of its signals moves too, except one that describes the same real event as a survivor's signal
  (same type, organization or title, dates within the corroboration window, as ``signal.service.same_event``
  decides): that one is combined into the survivor's signal (its evidence joins, the confidence and score
  are recomputed) and deleted;
* the merged lead gets ``merged_into_id`` (it leaves lead search) and keeps its own columns;
* ``lead_merges.snapshot`` records the merged lead's row, the ids of every row moved, the full rows of the
  signals (and evidence) it combined or deleted, and each signal's row before and after.

Undo puts every moved row back, re-creates the combined signals and their evidence, and restores each
signal row that nobody changed since the merge to exactly what it was. Services never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, Table, UniqueConstraint, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import Date, Numeric
from sqlalchemy.types import Uuid

import upswing.models  # noqa: F401 - every table is on the metadata (the merge moves rows of all of them)
from upswing.audit.service import record
from upswing.core.crypto import encrypted_columns
from upswing.core.db import Base, UTCDateTime, utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.core.pagination import capped_count
from upswing.dedupe import model as dedupe
from upswing.dedupe.schemas import DuplicateRead, LeadMergeRead, MergeFilters
from upswing.lead.models import Lead, LeadMerge, MergeStatus, Portfolio, full_name
from upswing.observation.models import Observation
from upswing.resolution.matching import explanation_labels
from upswing.settings import get_settings
from upswing.signal.models import Evidence, Signal

#: Default match probability from which ``leads dedupe`` proposes a merge.
DEFAULT_THRESHOLD = 0.8

_LEADS: Table = Lead.__table__  # type: ignore[assignment]
_SIGNALS: Table = Signal.__table__  # type: ignore[assignment]
_EVIDENCE: Table = Evidence.__table__  # type: ignore[assignment]
_OBSERVATION_ID = Observation.__table__.c.id
_ENCRYPTED_LEAD_COLUMNS = frozenset(encrypted_columns(_LEADS))
# Tables the merge treats itself rather than by the generic "re-point the lead reference" rule.
_OWN_TABLES = {"leads", "lead_merges", "signals"}

_LEAD_COLUMNS = (Lead.id, Lead.portfolio_id, Lead.external_id, Lead.first_name, Lead.middle_name, Lead.last_name,
                 Lead.email, Lead.emails, Lead.phone, Lead.phones, Lead.city, Lead.state, Lead.postal_code,
                 Lead.address, Lead.linkedin_public_id, Lead.employer, Lead.created_at)


# --------------------------------------------------------------------------------------------
# Finding duplicates
# --------------------------------------------------------------------------------------------


def lead_record(lead: Any) -> dict[str, Any]:
    """A lead (ORM object or row with the lead columns) as a dedupe record."""
    phones = [lead.phone, *((p or {}).get("number") for p in (lead.phones or []))]
    return dedupe.lead_record(
        first_name=lead.first_name, last_name=lead.last_name, middle_name=lead.middle_name,
        emails=[lead.email, *(lead.emails or [])], phones=phones, linkedin_public_id=lead.linkedin_public_id,
        city=lead.city, state=lead.state, postal_code=lead.postal_code, address=lead.address,
        employer=lead.employer)


def _name(lead: Any) -> str:
    return " ".join(p for p in (lead.first_name, lead.middle_name, lead.last_name) if p)


def _survivor_first(a: Any, b: Any) -> tuple[Any, Any]:
    """The lead imported first survives (then the smaller external id)."""
    return (a, b) if (a.created_at, a.external_id) <= (b.created_at, b.external_id) else (b, a)


def _portfolios(session: Session, name: str | None) -> list[Portfolio]:
    if name is None:
        return list(session.scalars(select(Portfolio).order_by(Portfolio.name)))
    portfolio = session.scalar(select(Portfolio).where(Portfolio.name == name))
    if portfolio is None:
        raise NotFoundError(f"portfolio '{name}' not found")
    return [portfolio]


def _pair(a: uuid.UUID, b: uuid.UUID) -> frozenset[uuid.UUID]:
    return frozenset((a, b))


def find_duplicates(session: Session, *, portfolio: str | None = None,
                    threshold: float = DEFAULT_THRESHOLD) -> list[DuplicateRead]:
    """Pairs of active (not merged) leads of one portfolio scoring at least ``threshold``, best first.

    Pairs a person rejected (``reject_pair``) are left out. Every portfolio when ``portfolio`` is None;
    leads are never paired across portfolios.
    """
    if not 0 < threshold <= 1:
        raise ValidationFailedError("the threshold is a match probability: more than 0 and at most 1")
    found: list[DuplicateRead] = []
    for book in _portfolios(session, portfolio):
        leads = session.execute(select(*_LEAD_COLUMNS).where(Lead.portfolio_id == book.id,
                                                             Lead.merged_into_id.is_(None))
                                .order_by(Lead.created_at, Lead.external_id)).all()
        if len(leads) < 2:
            continue
        records = [lead_record(lead) for lead in leads]
        model = dedupe.lead_model(len(records), records)
        pairs = dedupe.candidate_pairs(dedupe.lead_blocking_rules(), records)
        rejected, proposed = _decided_pairs(session, book.id)
        for scored in dedupe.score_pairs(model, records, records, pairs):
            if scored.probability < threshold:
                continue
            a, b = leads[scored.left], leads[scored.right]
            key = _pair(a.id, b.id)
            if key in rejected:
                continue
            survivor, merged = _survivor_first(a, b)
            left, right = records[scored.left], records[scored.right]
            if survivor is not a:
                left, right = right, left
            agreed, disagreed = dedupe.explain(model, scored.gamma, left, right)
            found.append(DuplicateRead(
                portfolio=book.name, survivor_id=survivor.id, survivor_external_id=survivor.external_id,
                survivor_name=_name(survivor), merged_id=merged.id, merged_external_id=merged.external_id,
                merged_name=_name(merged), score=round(scored.probability, 6), weight=round(scored.weight, 3),
                agreed=agreed, disagreed=disagreed, merge_id=proposed.get(key)))
    found.sort(key=lambda d: (-d.score, d.portfolio, d.survivor_external_id, d.merged_external_id))
    return found


def _decided_pairs(session: Session, portfolio_id: uuid.UUID) -> tuple[set[frozenset[uuid.UUID]],
                                                                      dict[frozenset[uuid.UUID], uuid.UUID]]:
    rejected: set[frozenset[uuid.UUID]] = set()
    proposed: dict[frozenset[uuid.UUID], uuid.UUID] = {}
    for merge_id, survivor_id, merged_id, status in session.execute(
        select(LeadMerge.id, LeadMerge.survivor_id, LeadMerge.merged_id, LeadMerge.status)
        .where(LeadMerge.portfolio_id == portfolio_id,
               LeadMerge.status.in_([MergeStatus.REJECTED.value, MergeStatus.PROPOSED.value]))
    ):
        if status == MergeStatus.REJECTED.value:
            rejected.add(_pair(survivor_id, merged_id))
        else:
            proposed[_pair(survivor_id, merged_id)] = merge_id
    return rejected, proposed


def propose_merges(session: Session, *, portfolio: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                   actor: str) -> list[DuplicateRead]:
    """``find_duplicates`` and store each pair as a ``proposed`` merge (an open proposal of the same pair
    is refreshed, not duplicated). One audit entry per portfolio with proposals."""
    duplicates = find_duplicates(session, portfolio=portfolio, threshold=threshold)
    now = utcnow()
    counts: dict[str, list[int]] = {}
    portfolio_ids = {p.name: p.id for p in _portfolios(session, portfolio)}
    for duplicate in duplicates:
        tally = counts.setdefault(duplicate.portfolio, [0, 0])
        explanation = {"weight": duplicate.weight, "agreed": explanation_labels(duplicate.agreed),
                       "disagreed": explanation_labels(duplicate.disagreed)}
        if duplicate.merge_id is not None:
            merge = session.get(LeadMerge, duplicate.merge_id)
            assert merge is not None
            merge.survivor_id, merge.merged_id = duplicate.survivor_id, duplicate.merged_id
            merge.score, merge.explanation = duplicate.score, explanation
            tally[1] += 1
            continue
        merge = LeadMerge(portfolio_id=portfolio_ids[duplicate.portfolio], survivor_id=duplicate.survivor_id,
                          merged_id=duplicate.merged_id, score=duplicate.score, explanation=explanation,
                          status=MergeStatus.PROPOSED.value, created_by=actor, created_at=now)
        session.add(merge)
        session.flush()
        duplicate.merge_id = merge.id
        tally[0] += 1
    for name, (new, refreshed) in counts.items():
        record(session, actor=actor, action="lead.dedupe", entity_type="portfolio", entity_id=portfolio_ids[name],
               details={"portfolio": name, "threshold": threshold, "proposed": new, "refreshed": refreshed})
    session.flush()
    return duplicates


def apply_duplicates(session: Session, duplicates: Sequence[DuplicateRead], *, actor: str) -> list[LeadMerge]:
    """Apply found duplicates, best first; each stored proposal becomes the applied merge. When a lead was
    already merged in this run, its survivor takes its place (A~B then B~C merges C into A)."""
    into: dict[uuid.UUID, uuid.UUID] = {}

    def current(lead_id: uuid.UUID) -> uuid.UUID:
        while lead_id in into:
            lead_id = into[lead_id]
        return lead_id

    merges: list[LeadMerge] = []
    for duplicate in sorted(duplicates, key=lambda d: -d.score):
        survivor_id, merged_id = current(duplicate.survivor_id), current(duplicate.merged_id)
        if survivor_id == merged_id:
            continue
        proposal = session.get(LeadMerge, duplicate.merge_id) if duplicate.merge_id else None
        linked_through = None
        if (survivor_id, merged_id) != (duplicate.survivor_id, duplicate.merged_id):
            survivor, merged = _survivor_first(*_load_leads(session, survivor_id, merged_id))
            survivor_id, merged_id = survivor.id, merged.id
            linked_through = (duplicate.survivor_id, duplicate.merged_id)
        merge = merge_leads(session, survivor_id=survivor_id, merged_id=merged_id, actor=actor, proposal=proposal,
                            linked_through=linked_through)
        into[merge.merged_id] = merge.survivor_id
        merges.append(merge)
    return merges


# --------------------------------------------------------------------------------------------
# Scoring one pair
# --------------------------------------------------------------------------------------------


def score_pair(session: Session, survivor: Lead, merged: Lead) -> tuple[float, dict[str, Any]]:
    """(probability, explanation) for two leads of one portfolio, with the portfolio's prior."""
    active = session.scalar(select(func.count()).select_from(Lead).where(
        Lead.portfolio_id == survivor.portfolio_id, Lead.merged_into_id.is_(None))) or 2
    model = dedupe.lead_model(active)
    left, right = lead_record(survivor), lead_record(merged)
    scored = dedupe.score_pairs(model, [left], [right], [(0, 0)])[0]
    agreed, disagreed = dedupe.explain(model, scored.gamma, left, right)
    # Stored with the merge: how each field compared, not the values (see ``explanation_labels``).
    return round(scored.probability, 6), {"weight": round(scored.weight, 3), "agreed": explanation_labels(agreed),
                                          "disagreed": explanation_labels(disagreed)}


# --------------------------------------------------------------------------------------------
# Row snapshots (JSON) and their restoration
# --------------------------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row_json(table: Table, row: Row[Any]) -> dict[str, Any]:
    mapping = row._mapping
    return {str(column.key): _dump(mapping[column]) for column in table.columns}


def _load_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Numeric) and kind.asdecimal:
        return Decimal(value)
    return value


def _row_values(table: Table, data: dict[str, Any]) -> dict[str, Any]:
    return {column.key: _load_value(column, data[column.key]) for column in table.columns if column.key in data}


def _rows(session: Session, table: Table, where: Any) -> list[Row[Any]]:
    return list(session.execute(select(table).where(where)))


def _keep_updated_at(table: Table) -> dict[str, Any]:
    """Moving a row is not an edit of it: keep ``updated_at`` as it is (no onupdate)."""
    return {"updated_at": table.c.updated_at} if "updated_at" in table.c else {}


# --------------------------------------------------------------------------------------------
# Moving rows that point at a lead
# --------------------------------------------------------------------------------------------


def _references(target: str, skip: Iterable[str]) -> list[tuple[Table, Column[Any]]]:
    """(table, column) for every column with a foreign key to ``target``, in tables not skipped."""
    skipped = set(skip)
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in skipped:
            continue
        for column in table.columns:
            if any(fk.column.table.name == target for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _unique_sets(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The other columns of each unique constraint or index that includes ``column``."""
    sets: list[list[Column[Any]]] = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and column.key in constraint.columns:
            sets.append([c for c in constraint.columns if c.key != column.key])
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and column.key in index.columns:
            sets.append([c for c in index.columns if c.key != column.key])
    return sets


def _move_references(session: Session, table: Table, column: Column[Any], source: uuid.UUID,
                     target: uuid.UUID) -> list[str]:
    """Re-point rows from ``source`` to ``target``, except rows the target already has (by a unique
    constraint); returns the primary keys moved."""
    key = next(iter(table.primary_key.columns))
    unique_sets = _unique_sets(table, column)
    moved: list[Any] = []
    for row in _rows(session, table, column == source):
        mapping = row._mapping
        collides = any(
            session.execute(select(key).where(column == target, *(c == mapping[c] for c in others)).limit(1)).first()
            for others in unique_sets
        )
        if not collides:
            moved.append(mapping[key])
    for start in range(0, len(moved), 500):
        chunk = moved[start:start + 500]
        session.execute(update(table).where(key.in_(chunk)).values({column.key: target, **_keep_updated_at(table)}))
    return [str(_dump(value)) for value in moved]


def _move_back(session: Session, table: Table, column: Column[Any], ids: Sequence[str], source: uuid.UUID,
               target: uuid.UUID) -> None:
    """Undo ``_move_references``: rows still on ``target`` go back to ``source``."""
    key = next(iter(table.primary_key.columns))
    values = [_load_value(key, value) for value in ids]
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        session.execute(update(table).where(key.in_(chunk), column == target)
                        .values({column.key: source, **_keep_updated_at(table)}))


# --------------------------------------------------------------------------------------------
# Merge, reject, undo
# --------------------------------------------------------------------------------------------


def _load_leads(session: Session, survivor_id: uuid.UUID, merged_id: uuid.UUID) -> tuple[Lead, Lead]:
    # Fresh from the database: merges change leads with Core updates the identity map does not see.
    survivor = session.get(Lead, survivor_id, populate_existing=True)
    merged = session.get(Lead, merged_id, populate_existing=True)
    if survivor is None:
        raise NotFoundError(f"lead {survivor_id} not found")
    if merged is None:
        raise NotFoundError(f"lead {merged_id} not found")
    return survivor, merged


def _check_pair(survivor: Lead, merged: Lead) -> None:
    if survivor.id == merged.id:
        raise ValidationFailedError("a lead cannot be merged into itself")
    if survivor.portfolio_id != merged.portfolio_id:
        raise ValidationFailedError("only leads of the same portfolio can be merged")


def _open_proposal(session: Session, survivor_id: uuid.UUID, merged_id: uuid.UUID) -> LeadMerge | None:
    return session.scalar(select(LeadMerge).where(
        LeadMerge.status == MergeStatus.PROPOSED.value,
        or_(and_(LeadMerge.survivor_id == survivor_id, LeadMerge.merged_id == merged_id),
            and_(LeadMerge.survivor_id == merged_id, LeadMerge.merged_id == survivor_id))))


@dataclass(slots=True)
class _Combined:
    merged_signal: dict[str, Any]
    into: str
    evidence_moved: list[str]
    evidence_dropped: list[dict[str, Any]]
    references: dict[str, list[str]]


def merge_leads(session: Session, *, survivor_id: uuid.UUID, merged_id: uuid.UUID, actor: str,
                proposal: LeadMerge | None = None,
                linked_through: tuple[uuid.UUID, uuid.UUID] | None = None) -> LeadMerge:
    """Merge the lead ``merged_id`` into ``survivor_id`` (see the module doc); audited, undoable.

    The open proposal of the pair (or ``proposal``, a proposal this merge settles: ``linked_through`` names
    the pair it was made for) becomes the applied merge; otherwise a new one is recorded with the pair's
    score. Raises ConflictError when either lead is already merged.
    """
    survivor, merged = _load_leads(session, survivor_id, merged_id)
    _check_pair(survivor, merged)
    if survivor.merged_into_id is not None or merged.merged_into_id is not None:
        raise ConflictError("one of these leads is already merged into another lead")
    now = utcnow()
    merge = proposal if proposal is not None and proposal.status == MergeStatus.PROPOSED.value else None
    merge = merge or _open_proposal(session, survivor.id, merged.id)
    if merge is None or _pair(merge.survivor_id, merge.merged_id) != _pair(survivor.id, merged.id):
        score, explanation = score_pair(session, survivor, merged)
        if linked_through is not None:
            explanation["linked_through"] = [str(i) for i in linked_through]
        if merge is None:
            merge = LeadMerge(portfolio_id=survivor.portfolio_id, created_by=actor, created_at=now)
            session.add(merge)
        merge.score, merge.explanation = score, explanation
    merge.survivor_id, merge.merged_id = survivor.id, merged.id

    merged_row = _rows(session, _LEADS, _LEADS.c.id == merged.id)[0]
    signals_before = {str(row.id): _row_json(_SIGNALS, row)
                      for row in _rows(session, _SIGNALS, _SIGNALS.c.lead_id.in_([survivor.id, merged.id]))}

    moved: dict[str, list[str]] = {}
    for table, column in _references("leads", _OWN_TABLES):
        ids = _move_references(session, table, column, merged.id, survivor.id)
        if ids:
            moved[f"{table.name}.{column.key}"] = ids
    moved_signals, combined = _move_signals(session, survivor.id, merged.id, signals_before, now)

    from upswing.signal.service import rescore

    rescore(session, lead_ids=[survivor.id], now=now)
    session.execute(update(_LEADS).where(_LEADS.c.id == merged.id)
                    .values(merged_into_id=survivor.id, updated_at=_LEADS.c.updated_at))
    signals_after = {str(row.id): _dump(row.updated_at)
                     for row in session.execute(select(Signal.id, Signal.updated_at)
                                                .where(Signal.lead_id == survivor.id))}
    merge.status = MergeStatus.APPLIED.value
    merge.applied_by, merge.applied_at = actor, now
    session.flush()
    # Other open proposals with the merged lead are moot (``leads dedupe`` proposes afresh after an undo).
    session.execute(delete(LeadMerge).where(
        LeadMerge.status == MergeStatus.PROPOSED.value, LeadMerge.id != merge.id,
        or_(LeadMerge.survivor_id == merged.id, LeadMerge.merged_id == merged.id)))
    merge.snapshot = {
        # Without the encrypted PII (nothing reads it back, and it must not sit in clear in a JSON column).
        "merged_lead": {k: v for k, v in _row_json(_LEADS, merged_row).items() if k not in _ENCRYPTED_LEAD_COLUMNS},
        "moved": moved,
        "signals_moved": moved_signals,
        "signals_combined": [_combined_json(c) for c in combined],
        "signals_before": signals_before,
        "signals_after": signals_after,
    }
    session.flush()
    session.expire_all()  # the rows moved with Core updates: loaded objects reload them
    counts = _moved_counts(merge.snapshot)
    record(session, actor=actor, action="lead.merge", entity_type="lead", entity_id=survivor.id,
           details={"merge_id": str(merge.id), "survivor_id": str(survivor.id), "merged_id": str(merged.id),
                    "merged_external_id": merged.external_id, "score": merge.score, "moved": counts,
                    "signals_combined": {c.merged_signal["id"]: c.into for c in combined}})
    return merge


def _combined_json(combined: _Combined) -> dict[str, Any]:
    return {"merged_signal": combined.merged_signal, "into": combined.into,
            "evidence_moved": combined.evidence_moved, "evidence_dropped": combined.evidence_dropped,
            "references": combined.references}


def _move_signals(session: Session, survivor_id: uuid.UUID, merged_id: uuid.UUID,
                  before: dict[str, dict[str, Any]], now: datetime) -> tuple[list[str], list[_Combined]]:
    """Move the merged lead's signals; combine each that is the same real event as a survivor's signal."""
    from upswing.signal.service import event_day, same_event

    window = get_settings().corroboration_window_days
    own = [row for row in before.values() if row["lead_id"] == str(survivor_id)]
    moving: list[str] = []
    combined: list[_Combined] = []
    for row in sorted((r for r in before.values() if r["lead_id"] == str(merged_id)), key=lambda r: r["created_at"]):
        values = _row_values(_SIGNALS, row)
        day = event_day(values["effective_date"], values["detected_at"])
        matches = []
        for target in own:
            target_values = _row_values(_SIGNALS, target)
            target_day = event_day(target_values["effective_date"], target_values["detected_at"])
            if target["type"] == row["type"] and same_event(target["title"], target["organization"], target_day,
                                                            row["title"], row["organization"], day,
                                                            window_days=window):
                distance = abs((target_day - day).days) if target_day and day else 0
                matches.append((distance, target["created_at"], target))
        if not matches:
            moving.append(row["id"])
            continue
        target = min(matches, key=lambda m: (m[0], m[1]))[2]
        combined.append(_combine(session, row, target, now))
    ids = [uuid.UUID(i) for i in moving]
    for start in range(0, len(ids), 500):
        session.execute(update(_SIGNALS).where(_SIGNALS.c.id.in_(ids[start:start + 500]))
                        .values(lead_id=survivor_id, updated_at=_SIGNALS.c.updated_at))
    return moving, combined


def _combine(session: Session, signal: dict[str, Any], target: dict[str, Any], now: datetime) -> _Combined:
    """Fold ``signal`` (a merged lead's) into ``target`` (the survivor's): evidence, observation ids, missing
    details and confidence; then delete it. Returns what undo needs."""
    from upswing.signal.scoring import combine_confidences
    from upswing.signal.service import source_key

    signal_id, target_id = uuid.UUID(signal["id"]), uuid.UUID(target["id"])
    target_observations = {row.observation_id for row in session.execute(
        select(Evidence.observation_id).where(Evidence.signal_id == target_id))}
    moved: list[str] = []
    dropped: list[dict[str, Any]] = []
    for row in _rows(session, _EVIDENCE, _EVIDENCE.c.signal_id == signal_id):
        if row.observation_id in target_observations:
            dropped.append(_row_json(_EVIDENCE, row))
        else:
            moved.append(str(row.id))
    if dropped:
        session.execute(delete(_EVIDENCE).where(_EVIDENCE.c.id.in_([uuid.UUID(r["id"]) for r in dropped])))
    if moved:
        session.execute(update(_EVIDENCE).where(_EVIDENCE.c.id.in_([uuid.UUID(i) for i in moved]))
                        .values(signal_id=target_id))
    references: dict[str, list[str]] = {}
    for table, column in _references("signals", {"evidence"}):
        ids = _move_references(session, table, column, signal_id, target_id)
        if ids:
            references[f"{table.name}.{column.key}"] = ids

    best: dict[str, float] = {}
    for kind, url, observation_id, confidence in session.execute(
            select(Evidence.kind, Evidence.url, Evidence.observation_id, Evidence.confidence)
            .where(Evidence.signal_id == target_id)):
        key = source_key(kind, url, observation_id)
        best[key] = max(best.get(key, 0.0), confidence)
    observation_ids = list(target["observation_ids"] or [])
    observation_ids += [oid for oid in signal["observation_ids"] or [] if oid not in observation_ids]
    values: dict[str, Any] = {
        "observation_ids": observation_ids, "updated_at": now,
        "confidence": combine_confidences(best.values()) if best else max(target["confidence"],
                                                                          signal["confidence"]),
    }
    for name in ("title", "organization", "effective_date", "evidence_url", "evidence_snippet"):
        if target[name] is None and signal[name] is not None:
            values[name] = _load_value(_SIGNALS.c[name], signal[name])
    session.execute(update(_SIGNALS).where(_SIGNALS.c.id == target_id).values(values))
    session.execute(delete(_SIGNALS).where(_SIGNALS.c.id == signal_id))
    return _Combined(signal, target["id"], moved, dropped, references)


def _moved_counts(snapshot: dict[str, Any] | None) -> dict[str, int]:
    if not snapshot:
        return {}
    counts = {name.split(".")[0]: len(ids) for name, ids in snapshot.get("moved", {}).items()}
    counts["signals"] = len(snapshot.get("signals_moved", []))
    counts["signals_combined"] = len(snapshot.get("signals_combined", []))
    return counts


def reject_pair(session: Session, *, survivor_id: uuid.UUID, merged_id: uuid.UUID, actor: str) -> LeadMerge:
    """Record that two leads are different people: ``find_duplicates`` no longer proposes the pair."""
    survivor, merged = _load_leads(session, survivor_id, merged_id)
    _check_pair(survivor, merged)
    now = utcnow()
    merge = _open_proposal(session, survivor.id, merged.id)
    if merge is None:
        score, explanation = score_pair(session, survivor, merged)
        merge = LeadMerge(portfolio_id=survivor.portfolio_id, survivor_id=survivor.id, merged_id=merged.id,
                          score=score, explanation=explanation, created_by=actor, created_at=now)
        session.add(merge)
    merge.status = MergeStatus.REJECTED.value
    merge.rejected_by, merge.rejected_at = actor, now
    session.flush()
    record(session, actor=actor, action="lead.merge_rejected", entity_type="lead", entity_id=survivor.id,
           details={"merge_id": str(merge.id), "survivor_id": str(survivor.id), "merged_id": str(merged.id),
                    "score": merge.score})
    return merge


def undo_merge(session: Session, merge_id: uuid.UUID, *, actor: str) -> LeadMerge:
    """Undo an applied merge (everything back where it was) or withdraw a rejection; audited."""
    merge = session.get(LeadMerge, merge_id)
    if merge is None:
        raise NotFoundError(f"merge {merge_id} not found")
    now = utcnow()
    if merge.status == MergeStatus.REJECTED.value:
        merge.status = MergeStatus.UNDONE.value
        merge.undone_by, merge.undone_at = actor, now
        session.flush()
        record(session, actor=actor, action="lead.merge_rejection_undone", entity_type="lead",
               entity_id=merge.survivor_id, details={"merge_id": str(merge.id)})
        return merge
    if merge.status != MergeStatus.APPLIED.value or merge.snapshot is None:
        raise ConflictError(f"merge {merge_id} is {merge.status}: only an applied merge or a rejection can be undone")
    survivor, merged = _load_leads(session, merge.survivor_id, merge.merged_id)
    if merged.merged_into_id != survivor.id:
        raise ConflictError(f"lead {merged.id} is no longer merged into {survivor.id}")
    if survivor.merged_into_id is not None:
        raise ConflictError(f"lead {survivor.id} was merged into {survivor.merged_into_id} since: "
                            "undo that merge first")

    snapshot = merge.snapshot
    tables = {f"{table.name}.{column.key}": (table, column) for table, column in _references("leads", _OWN_TABLES)}
    for name, ids in snapshot.get("moved", {}).items():
        table, column = tables[name]
        _move_back(session, table, column, ids, merged.id, survivor.id)
    moved_signals = [uuid.UUID(i) for i in snapshot.get("signals_moved", [])]
    for start in range(0, len(moved_signals), 500):
        session.execute(update(_SIGNALS).where(_SIGNALS.c.id.in_(moved_signals[start:start + 500]),
                                               _SIGNALS.c.lead_id == survivor.id)
                        .values(lead_id=merged.id, updated_at=_SIGNALS.c.updated_at))
    _restore_combined(session, snapshot.get("signals_combined", []))
    stale = _restore_signal_rows(session, snapshot)
    session.execute(update(_LEADS).where(_LEADS.c.id == merged.id)
                    .values(merged_into_id=None, updated_at=_LEADS.c.updated_at))
    if stale:
        from upswing.signal.service import rescore

        rescore(session, lead_ids=[survivor.id, merged.id], now=now)
    merge.status = MergeStatus.UNDONE.value
    merge.undone_by, merge.undone_at = actor, now
    session.flush()
    session.expire_all()  # the rows moved back with Core updates: loaded objects reload them
    record(session, actor=actor, action="lead.merge_undone", entity_type="lead", entity_id=survivor.id,
           details={"merge_id": str(merge.id), "survivor_id": str(survivor.id), "merged_id": str(merged.id),
                    "restored": _moved_counts(snapshot), "rescored": bool(stale)})
    return merge


def _restore_combined(session: Session, combined: list[dict[str, Any]]) -> None:
    """Re-create each combined signal with its evidence."""
    signal_refs = {f"{table.name}.{column.key}": (table, column)
                   for table, column in _references("signals", {"evidence"})}
    for item in combined:
        row = item["merged_signal"]
        signal_id, target_id = uuid.UUID(row["id"]), uuid.UUID(item["into"])
        if session.get(Signal, signal_id) is None:
            session.execute(insert(_SIGNALS).values(_row_values(_SIGNALS, row)))
        moved = [uuid.UUID(i) for i in item["evidence_moved"]]
        if moved:
            session.execute(update(_EVIDENCE).where(_EVIDENCE.c.id.in_(moved), _EVIDENCE.c.signal_id == target_id)
                            .values(signal_id=signal_id))
        for evidence in item["evidence_dropped"]:
            values = _row_values(_EVIDENCE, evidence)
            exists = session.execute(select(_EVIDENCE.c.id).where(_EVIDENCE.c.id == values["id"])).first()
            observation = session.execute(select(_OBSERVATION_ID).where(values["observation_id"] == _OBSERVATION_ID)
                                          ).first()
            if exists is None and observation is not None:
                session.execute(insert(_EVIDENCE).values(values))
        for name, ids in item.get("references", {}).items():
            table, column = signal_refs[name]
            _move_back(session, table, column, ids, signal_id, target_id)


def _restore_signal_rows(session: Session, snapshot: dict[str, Any]) -> set[str]:
    """Every signal of the two leads that nobody changed since the merge gets its row back exactly; returns
    the ids of those that changed (their combined observation ids are taken out, and they are rescored)."""
    before: dict[str, dict[str, Any]] = snapshot.get("signals_before", {})
    after: dict[str, str] = snapshot.get("signals_after", {})
    combined = {item["into"]: item for item in snapshot.get("signals_combined", [])}
    stale: set[str] = set()
    for signal_id, row in before.items():
        current = session.execute(select(_SIGNALS.c.updated_at, _SIGNALS.c.observation_ids)
                                  .where(_SIGNALS.c.id == uuid.UUID(signal_id))).first()
        if current is None:
            continue
        if signal_id in after and _dump(current.updated_at) != after[signal_id]:
            stale.add(signal_id)
            if signal_id in combined:
                added = set(combined[signal_id]["merged_signal"]["observation_ids"] or []) - set(
                    row["observation_ids"] or [])
                session.execute(update(_SIGNALS).where(_SIGNALS.c.id == uuid.UUID(signal_id)).values(
                    observation_ids=[oid for oid in current.observation_ids or [] if oid not in added]))
            continue
        values = _row_values(_SIGNALS, row)
        values.pop("id")
        session.execute(update(_SIGNALS).where(_SIGNALS.c.id == uuid.UUID(signal_id)).values(values))
    return stale


# --------------------------------------------------------------------------------------------
# Reading merges
# --------------------------------------------------------------------------------------------


def read_merge(merge: LeadMerge) -> LeadMergeRead:
    read = LeadMergeRead.model_validate(merge)
    read.moved = _moved_counts(merge.snapshot)
    return read


def get_merge(session: Session, merge_id: uuid.UUID) -> LeadMerge:
    merge = session.get(LeadMerge, merge_id)
    if merge is None:
        raise NotFoundError(f"merge {merge_id} not found")
    return merge


def list_merges(session: Session, filters: MergeFilters) -> tuple[list[LeadMergeRead], int]:
    query = select(LeadMerge)
    if filters.portfolio is not None:
        query = query.join(Portfolio, Portfolio.id == LeadMerge.portfolio_id).where(
            Portfolio.name == filters.portfolio)
    if filters.status is not None:
        query = query.where(LeadMerge.status == filters.status.value)
    total, _ = capped_count(session, query)
    merges = [read_merge(merge) for merge in session.scalars(
        query.order_by(LeadMerge.created_at.desc(), LeadMerge.id).limit(filters.limit).offset(filters.offset))]
    ids = {merge.survivor_id for merge in merges} | {merge.merged_id for merge in merges}
    names = {row.id: (row.external_id, full_name(row.first_name, row.middle_name, row.last_name))
             for row in session.execute(select(Lead.id, Lead.external_id, Lead.first_name, Lead.middle_name,
                                               Lead.last_name).where(Lead.id.in_(ids)))} if ids else {}
    for merge in merges:  # who the two leads are, for a person reading the list (one look-up for the page)
        merge.survivor_external_id, merge.survivor_name = names.get(merge.survivor_id, (None, None))
        merge.merged_external_id, merge.merged_name = names.get(merge.merged_id, (None, None))
    return merges, total
