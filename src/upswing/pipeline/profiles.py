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
from upswing.core.crypto import get_key_ring
from upswing.core.db import utcnow
from upswing.core.errors import ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.runtime import gc_paused
from upswing.detection.profile_diff import diff_profiles
from upswing.observation.apify import ActorShape, missing_identity_message, normalize_item
from upswing.observation.models import Observation, ObservationKind
from upswing.observation.reader import item_timestamp
from upswing.observation.schemas import IngestReport
from upswing.observation.service import subject_key
from upswing.observation.snapshot import ProfileSnapshot
from upswing.privacy import policy as privacy_policy
from upswing.privacy.sealing import seal_observation
from upswing.privacy.tombstones import ErasedFilter
from upswing.resolution import service as resolution
from upswing.resolution.models import Match, MatchOutcome
from upswing.settings import get_settings
from upswing.signal.service import SightedEvent, UpsertResult, upsert_events
from upswing.source.models import Source

log = get_logger(__name__)


CHUNK_SIZE = 1000


_OBSERVATIONS: Table = Observation.__table__  # type: ignore[assignment]


_MATCHES: Table = Match.__table__  # type: ignore[assignment]


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


class _LeadHistory:
    """Each lead's latest snapshot, and the step every newly linked observation goes through: its version,
    and the diff against the lead's previous snapshot that yields candidate events."""

    def __init__(self, session: Session, lookback_days: int, source_slug: str | None = None) -> None:
        self.session = session
        self.lookback_days = lookback_days
        self.source_slug = source_slug  # when known, spares the signal service a look-up per batch
        self.latest: dict[uuid.UUID, _Known] = {}

    def load(self, lead_ids: set[uuid.UUID]) -> None:
        lead_ids = {lead for lead in lead_ids if lead not in self.latest}
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
            self.latest[row.lead_id] = _Known(ProfileSnapshot.model_validate(row.normalized),
                                              row.observed_at, row.version or 1)

    def previous_before(self, lead_id: uuid.UUID, observed_at: datetime) -> _Known | None:
        row = self.session.execute(
            select(Observation.normalized, Observation.observed_at, Observation.version)
            .where(Observation.lead_id == lead_id, Observation.kind == ObservationKind.PROFILE.value,
                   Observation.observed_at < observed_at)
            .order_by(Observation.observed_at.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return _Known(ProfileSnapshot.model_validate(row.normalized), row.observed_at, row.version or 1)

    def sight(self, lead_id: uuid.UUID, observation_id: uuid.UUID, snapshot: ProfileSnapshot,
              observed_at: datetime) -> tuple[int | None, list[SightedEvent]]:
        """One observation linked to a lead: its version (None for an export older than the lead's latest)
        and the candidate events of the diff against the lead's previous snapshot."""
        previous = self.latest.get(lead_id)
        if previous is not None and observed_at < previous.observed_at:
            previous = self.previous_before(lead_id, observed_at)
            version = None  # an older export arriving late does not move the latest pointer
        else:
            version = (previous.version + 1) if previous else 1
            self.latest[lead_id] = _Known(snapshot, observed_at, version)
        events = diff_profiles(
            previous.snapshot if previous else None, snapshot, observed_at=observed_at,
            previous_observed_at=previous.observed_at if previous else None, lookback_days=self.lookback_days)
        return version, [SightedEvent(lead_id, observation_id, snapshot.linkedin_url, event,
                                      source=self.source_slug, observed_at=observed_at) for event in events]


def link_observation(session: Session, observation: Observation, lead_id: uuid.UUID, *,
                     lookback_days: int = 90) -> UpsertResult:
    """Link a stored, unlinked profile observation to a lead and detect its signals, as the ingest does.

    The review queue's approval calls this.
    """
    history = _LeadHistory(session, lookback_days)
    history.load({lead_id})
    snapshot = ProfileSnapshot.model_validate(observation.normalized)
    version, sightings = history.sight(lead_id, observation.id, snapshot, observation.observed_at)
    observation.lead_id, observation.version = lead_id, version
    session.flush()
    return upsert_events(session, sightings)


class ProfileIngest:
    """One ingest run. Feed it items with ``ingest``; read the figures from ``report``."""

    def __init__(self, session: Session, source: Source, *, shape: ActorShape | None = None,
                 observed_at: datetime | None = None, lookback_days: int = 90, skip_invalid: bool = False,
                 progress: Callable[[int], None] | None = None, link_threshold: float | None = None,
                 review_threshold: float | None = None) -> None:
        self.session = session
        self.source = source
        self.shape = shape
        self.observed_at = observed_at
        self.lookback_days = lookback_days
        self.skip_invalid = skip_invalid
        self.progress = progress
        self.report = IngestReport()
        self._history = _LeadHistory(session, lookback_days, source.slug)
        self._run_started = utcnow()
        settings = get_settings()
        self.link_threshold = settings.link_threshold if link_threshold is None else link_threshold
        self.review_threshold = settings.review_threshold if review_threshold is None else review_threshold
        # Privacy mode (privacy/policy.py), enforced on every write of this run: a legal basis for the source
        # when the mode requires one, and only the fields the mode keeps.
        self.privacy = privacy_policy.current()
        self.privacy.check_legal_basis(source.slug, source.legal_basis)
        self.ring = get_key_ring()  # e-mails and phones inside stored payloads are sealed (privacy.sealing)

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
                # Say which shape read it and where it looked: a misread shape is the usual cause.
                message = missing_identity_message(raw, ActorShape(snapshot.actor), named=self.shape is not None)
                self.report.rejected += 1
                self.report.errors.append({"row": number, "field": "publicIdentifier", "message": message})
                continue
            observed_at = self.observed_at or item_timestamp(raw) or self._run_started
            pending.append(_Pending(number, raw, snapshot, snapshot.content_hash(), observed_at))
        if self.report.errors and not self.skip_invalid:
            raise ValidationFailedError(
                f"{self.report.rejected} item(s) could not be read; nothing was ingested", self.report.errors)
        return pending

    def _drop_erased(self, pending: list[_Pending]) -> list[_Pending]:
        """Items about a person erased on request are never stored again (privacy tombstones)."""
        check = ErasedFilter(self.session)
        if not check.active:
            return pending
        for number, item in enumerate(pending):
            check.add(number, linkedin_public_id=item.snapshot.public_identifier)
            for email in item.snapshot.emails:
                check.add(number, email=email)
        erased = check.erased()
        self.report.suppressed += len(erased)
        return [item for number, item in enumerate(pending) if number not in erased]

    def _ingest_chunk(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        pending = self._drop_erased(self._normalize(chunk))
        session = self.session
        hashes = {p.content_hash for p in pending}
        known_hashes = {
            row.content_hash: row
            for row in session.execute(
                select(Observation.id, Observation.content_hash, Observation.lead_id, Observation.observed_at)
                .where(Observation.content_hash.in_(hashes))
            )
        }
        decisions = self._resolve(pending, known_hashes)
        # Earlier chunks are in the database now; keeping their snapshots would only grow memory.
        self._history.latest.clear()
        self._history.load({d.lead_id for d in decisions.values() if d.lead_id is not None})

        to_insert: list[dict[str, Any]] = []
        relinks: list[dict[str, Any]] = []
        seen_updates: list[dict[str, Any]] = []
        sightings: list[SightedEvent] = []
        matches: list[dict[str, Any]] = []
        decided_again: list[uuid.UUID] = []  # stored earlier without a lead, decided anew now
        seen_in_chunk: set[str] = set()
        now = utcnow()

        for item in pending:
            known = known_hashes.get(item.content_hash)
            if item.content_hash in seen_in_chunk or (known is not None and known.lead_id is not None):
                self.report.duplicates += 1
                if known is not None and item.observed_at > known.observed_at:
                    seen_updates.append({"id": known.id, "last_observed_at": item.observed_at})
                continue
            seen_in_chunk.add(item.content_hash)
            decision = decisions.get(subject_key(item.snapshot) or "", resolution.UNLINKED)
            lead_id = decision.lead_id
            observation_id = known.id if known is not None else uuid.uuid4()
            matches.extend(resolution.match_rows(observation_id, decision, now))
            if decision.outcome is MatchOutcome.REVIEW:
                self.report.review += 1
            if known is not None:
                decided_again.append(known.id)
                if lead_id is None:
                    self.report.duplicates += 1  # stored before, still nobody to link it to
                    continue
            version = None
            if lead_id is not None:
                self.report.linked += 1
                version, sighted = self._history.sight(lead_id, observation_id, item.snapshot, item.observed_at)
                sightings.extend(sighted)
            else:
                self.report.unlinked += 1
            if known is not None:  # stored unlinked earlier; a lead for it exists now
                relinks.append({"id": known.id, "lead_id": lead_id, "version": version})
                continue
            self.report.observations_created += 1
            raw, normalized = self.privacy.prepare_observation(item.raw, item.snapshot.model_dump(mode="json"))
            raw, normalized, identifiers = seal_observation(raw, normalized, self.ring)
            to_insert.append({
                "id": observation_id, "source_id": self.source.id, "lead_id": lead_id,
                "kind": ObservationKind.PROFILE.value, "subject_key": subject_key(item.snapshot),
                "shape": item.snapshot.actor, "schema_version": item.snapshot.schema_version,
                "version": version, "url": item.snapshot.linkedin_url, "raw": raw,
                "normalized": normalized, "identifier_index": identifiers, "content_hash": item.content_hash,
                "observed_at": item.observed_at, "last_observed_at": item.observed_at, "created_at": now,
            })
        if to_insert:
            bulk_insert(session, _OBSERVATIONS, to_insert)
        if relinks:
            session.execute(update(Observation), relinks)
        if seen_updates:
            session.execute(update(Observation), seen_updates)
        self._record_matches(matches, decided_again, now)
        outcome = upsert_events(session, sightings)
        self.report.signals_created += outcome.created
        self.report.signals_merged += outcome.merged

    def _resolve(self, pending: list[_Pending], known_hashes: dict[str, Any]) -> dict[str, resolution.Resolution]:
        """Decide the lead of every subject in the chunk that needs it (all but repeats of linked content)."""
        subjects: dict[str, ProfileSnapshot] = {}
        for item in pending:
            known = known_hashes.get(item.content_hash)
            if known is not None and known.lead_id is not None:
                continue
            key = subject_key(item.snapshot)
            if key is not None:
                subjects.setdefault(key, item.snapshot)
        return resolution.resolve(self.session, subjects, link_threshold=self.link_threshold,
                                  review_threshold=self.review_threshold)

    def _record_matches(self, rows: list[dict[str, Any]], decided_again: list[uuid.UUID], now: datetime) -> None:
        """Store the chunk's link decisions. An observation decided before keeps its rows: a review that now
        links becomes linked, its other pending reviews close, and a review seen again is not repeated."""
        if decided_again and rows:
            existing = resolution.matches_for_observations(self.session, decided_again)
            again = set(decided_again)
            now_linked = [r["observation_id"] for r in rows
                          if r["observation_id"] in again and r["outcome"] == MatchOutcome.LINKED.value]
            if now_linked:
                self.session.execute(
                    update(Match).where(Match.observation_id.in_(now_linked),
                                        Match.outcome == MatchOutcome.REVIEW.value)
                    .values(outcome=MatchOutcome.UNLINKED.value, decided_by=resolution.SYSTEM, decided_at=now)
                    .execution_options(synchronize_session=False))
            fresh, updates = [], []
            for row in rows:
                match_id = existing.get((row["observation_id"], row["lead_id"]))
                if match_id is None:
                    fresh.append(row)
                elif row["outcome"] == MatchOutcome.LINKED.value:
                    updates.append({"id": match_id, "score": row["score"], "outcome": row["outcome"],
                                    "method": row["method"], "agreed": row["agreed"],
                                    "disagreed": row["disagreed"], "decided_by": row["decided_by"],
                                    "decided_at": row["decided_at"]})
            if updates:
                self.session.execute(update(Match), updates)
            rows = fresh
        if rows:
            bulk_insert(self.session, _MATCHES, rows)

    def record_audit(self, *, actor: str, file: str | None) -> None:
        self.report.file = file
        log.info("profile_ingest.finished", source=self.source.slug, file=file,
                 **self.report.model_dump(exclude={"errors", "file"}))
        audit.record(self.session, actor=actor, action="observation.ingest", entity_type="source",
                     entity_id=self.source.id,
                     details={**self.report.model_dump(exclude={"errors"}), "source": self.source.slug})
