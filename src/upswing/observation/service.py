"""Profile ingest: raw Actor items → stored observations → linked to leads → diffed → signals.

Works in chunks with a handful of bulk queries per chunk (existing hashes, lead keys, previous
snapshots, signal keys), so throughput stays in the thousands of snapshots per second on both
databases. The caller owns the transaction: a failure anywhere leaves nothing half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from upswing.audit import service as audit
from upswing.core.bulk import bulk_insert
from upswing.core.db import utcnow
from upswing.core.errors import ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.runtime import gc_paused
from upswing.detection.profile_diff import diff_profiles
from upswing.lead.models import Lead
from upswing.observation.apify import ActorShape, normalize_item
from upswing.observation.models import Observation, ObservationKind
from upswing.observation.reader import item_timestamp
from upswing.observation.schemas import IngestReport
from upswing.observation.snapshot import ProfileSnapshot
from upswing.signal.service import SightedEvent, upsert_events
from upswing.source.models import Source

log = get_logger(__name__)
CHUNK_SIZE = 1000
_OBSERVATIONS: Table = Observation.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class _Pending:
    number: int
    raw: dict[str, Any]
    snapshot: ProfileSnapshot
    content_hash: str
    observed_at: datetime


@dataclass(slots=True)
class _Known:
    """The latest snapshot we hold for a lead."""

    snapshot: ProfileSnapshot
    observed_at: datetime
    version: int


def get_or_create_source(session: Session, slug: str, *, connector: str, name: str,
                         legal_basis: str | None = None) -> Source:
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        source = Source(slug=slug, connector=connector, name=name, legal_basis=legal_basis, config={})
        session.add(source)
        session.flush()
    return source


def subject_key(snapshot: ProfileSnapshot) -> str | None:
    if snapshot.public_identifier:
        return f"li:{snapshot.public_identifier}"
    if snapshot.urn:
        return f"urn:{snapshot.urn}"
    if snapshot.emails:
        return f"email:{snapshot.emails[0]}"
    return None


class ProfileIngest:
    """One ingest run. Feed it items with ``ingest``; read the figures from ``report``."""

    def __init__(self, session: Session, source: Source, *, shape: ActorShape | None = None,
                 observed_at: datetime | None = None, lookback_days: int = 90, skip_invalid: bool = False,
                 progress: Callable[[int], None] | None = None) -> None:
        self.session = session
        self.source = source
        self.shape = shape
        self.observed_at = observed_at
        self.lookback_days = lookback_days
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.report = IngestReport()
        self._latest: dict[uuid.UUID, _Known] = {}
        self._run_started = utcnow()

    def ingest(self, items: Iterable[tuple[int, dict[str, Any]]]) -> IngestReport:
        iterator = iter(items)
        with gc_paused():
            while chunk := list(islice(iterator, CHUNK_SIZE)):
                self._ingest_chunk(chunk)
                if self.progress:
                    self.progress(len(chunk))
        return self.report

    def _normalize(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[_Pending]:
        pending: list[_Pending] = []
        for number, raw in chunk:
            self.report.items += 1
            try:
                snapshot = normalize_item(raw, self.shape)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                self.report.rejected += 1
                self.report.errors.append({"row": number, "field": None, "message": str(exc)})
                continue
            if subject_key(snapshot) is None:
                self.report.rejected += 1
                self.report.errors.append({"row": number, "field": "publicIdentifier",
                                           "message": "item has no public identifier, URN or e-mail"})
                continue
            observed_at = self.observed_at or item_timestamp(raw) or self._run_started
            pending.append(_Pending(number, raw, snapshot, snapshot.content_hash(), observed_at))
        if self.report.errors and not self.skip_invalid:
            raise ValidationFailedError(
                f"{self.report.rejected} item(s) could not be read; nothing was ingested", self.report.errors)
        return pending

    def _ingest_chunk(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        pending = self._normalize(chunk)
        session = self.session
        hashes = {p.content_hash for p in pending}
        known_hashes = {
            row.content_hash: row
            for row in session.execute(
                select(Observation.id, Observation.content_hash, Observation.lead_id, Observation.observed_at)
                .where(Observation.content_hash.in_(hashes))
            )
        }
        leads = self._link(pending)
        # Earlier chunks are in the database now; keeping their snapshots would only grow memory.
        self._latest.clear()

        to_insert: list[dict[str, Any]] = []
        relinks: list[dict[str, Any]] = []
        seen_updates: list[dict[str, Any]] = []
        sightings: list[SightedEvent] = []
        seen_in_chunk: set[str] = set()
        self._load_latest({lead for lead in leads.values() if lead not in self._latest})

        for item in pending:
            known = known_hashes.get(item.content_hash)
            if item.content_hash in seen_in_chunk or (known is not None and known.lead_id is not None):
                self.report.duplicates += 1
                if known is not None and item.observed_at > known.observed_at:
                    seen_updates.append({"id": known.id, "last_observed_at": item.observed_at})
                continue
            seen_in_chunk.add(item.content_hash)
            lead_id = leads.get(subject_key(item.snapshot) or "")
            if known is not None and lead_id is None:
                self.report.duplicates += 1  # stored before, still nobody to link it to
                continue
            observation_id = known.id if known is not None else uuid.uuid4()
            version = None
            if lead_id is not None:
                self.report.linked += 1
                previous = self._latest.get(lead_id)
                if previous is not None and item.observed_at < previous.observed_at:
                    previous = self._previous_before(lead_id, item.observed_at)
                    version = None  # an older export arriving late does not move the latest pointer
                else:
                    version = (previous.version + 1) if previous else 1
                    self._latest[lead_id] = _Known(item.snapshot, item.observed_at, version)
                events = diff_profiles(
                    previous.snapshot if previous else None, item.snapshot, observed_at=item.observed_at,
                    previous_observed_at=previous.observed_at if previous else None,
                    lookback_days=self.lookback_days)
                sightings.extend(SightedEvent(lead_id, observation_id, item.snapshot.linkedin_url, event)
                                 for event in events)
            else:
                self.report.unlinked += 1
            if known is not None:  # stored unlinked earlier; a lead for it exists now
                relinks.append({"id": known.id, "lead_id": lead_id, "version": version})
                continue
            self.report.observations_created += 1
            now = utcnow()
            to_insert.append({
                "id": observation_id, "source_id": self.source.id, "lead_id": lead_id,
                "kind": ObservationKind.PROFILE.value, "subject_key": subject_key(item.snapshot),
                "shape": item.snapshot.actor, "schema_version": item.snapshot.schema_version,
                "version": version, "url": item.snapshot.linkedin_url, "raw": item.raw,
                "normalized": item.snapshot.model_dump(mode="json"), "content_hash": item.content_hash,
                "observed_at": item.observed_at, "last_observed_at": item.observed_at, "created_at": now,
            })
        if to_insert:
            bulk_insert(session, _OBSERVATIONS, to_insert)
        if relinks:
            session.execute(update(Observation), relinks)
        if seen_updates:
            session.execute(update(Observation), seen_updates)
        outcome = upsert_events(session, sightings)
        self.report.signals_created += outcome.created
        self.report.signals_merged += outcome.merged

    def _link(self, pending: list[_Pending]) -> dict[str, uuid.UUID]:
        """Map subject keys to leads: LinkedIn public id first, else an exact, unambiguous e-mail."""
        public_ids = {p.snapshot.public_identifier for p in pending if p.snapshot.public_identifier}
        by_public_id: dict[str, uuid.UUID] = {}
        if public_ids:
            rows = self.session.execute(
                select(Lead.linkedin_public_id, Lead.id).where(Lead.linkedin_public_id.in_(public_ids))
                .order_by(Lead.created_at)
            )
            for public_id, lead_id in rows:
                if public_id is not None:
                    by_public_id.setdefault(public_id, lead_id)
        emails = {e for p in pending for e in p.snapshot.emails
                  if p.snapshot.public_identifier not in by_public_id}
        by_email: dict[str, set[uuid.UUID]] = {}
        if emails:
            for email, lead_id in self.session.execute(
                select(Lead.email, Lead.id).where(Lead.email.in_(emails))
            ):
                if email is not None:
                    by_email.setdefault(email, set()).add(lead_id)
        links: dict[str, uuid.UUID] = {}
        for item in pending:
            key = subject_key(item.snapshot)
            if key is None:
                continue
            snapshot = item.snapshot
            if snapshot.public_identifier and snapshot.public_identifier in by_public_id:
                links[key] = by_public_id[snapshot.public_identifier]
                continue
            candidates = {lead for e in snapshot.emails for lead in by_email.get(e, ())}
            if len(candidates) == 1:  # two leads sharing an address is not proof of identity
                links[key] = candidates.pop()
        return links

    def _load_latest(self, lead_ids: set[uuid.UUID]) -> None:
        if not lead_ids:
            return
        ranked = (
            select(Observation.lead_id, Observation.normalized, Observation.observed_at, Observation.version,
                   func.row_number().over(partition_by=Observation.lead_id,
                                          order_by=Observation.observed_at.desc()).label("rank"))
            .where(Observation.lead_id.in_(lead_ids), Observation.kind == ObservationKind.PROFILE.value)
            .subquery()
        )
        for row in self.session.execute(select(ranked).where(ranked.c.rank == 1)):
            self._latest[row.lead_id] = _Known(ProfileSnapshot.model_validate(row.normalized),
                                               _aware(row.observed_at), row.version or 1)

    def _previous_before(self, lead_id: uuid.UUID, observed_at: datetime) -> _Known | None:
        row = self.session.execute(
            select(Observation.normalized, Observation.observed_at, Observation.version)
            .where(Observation.lead_id == lead_id, Observation.kind == ObservationKind.PROFILE.value,
                   Observation.observed_at < observed_at)
            .order_by(Observation.observed_at.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return _Known(ProfileSnapshot.model_validate(row.normalized), _aware(row.observed_at), row.version or 1)

    def record_audit(self, *, actor: str, file: str | None) -> None:
        self.report.file = file
        log.info("profile_ingest.finished", source=self.source.slug, file=file,
                 **self.report.model_dump(exclude={"errors", "file"}))
        audit.record(self.session, actor=actor, action="observation.ingest", entity_type="source",
                     entity_id=self.source.id,
                     details={**self.report.model_dump(exclude={"errors"}), "source": self.source.slug})


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def list_unlinked(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[Observation], int]:
    query = select(Observation).where(Observation.lead_id.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Observation.observed_at.desc()).limit(limit).offset(offset))
    return list(rows), total


FILE_SOURCE_SLUG = "apify-file"


def file_source(session: Session) -> Source:
    """The source that saved Apify dataset exports are replayed through."""
    return get_or_create_source(
        session, FILE_SOURCE_SLUG, connector="file_replay", name="Apify dataset export (file)",
        legal_basis="Operator-supplied export of public profile data; see compliance settings.")
