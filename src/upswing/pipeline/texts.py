"""Text ingest: store each text (post, news item, page) as an observation, link it, classify it, make signals.

``ingest_texts`` is the one entry point for every connector that brings text: it stores each item as a
text observation (content-hashed, so the same post seen twice is one row), links it to its lead and runs
text detection, turning what it finds into signals with evidence.

Linking, for a text about a person: the ``lead_id`` the source gives (a merged lead's survivor), else the
author's LinkedIn public id through the resolution layer's deterministic steps (a lead with that public id,
or the lead that profile was linked to before; a name alone never links a text), else the text is kept
unlinked, and classified when a later sighting of it finds its lead. A text about a company
(``about="company"``) is linked to no one lead: its intent becomes a signal on every lead who works there
(``Lead.company_domain`` equal to the text's domain, or ``Lead.employer`` equal to its company name once
both are normalized: "The Acme Corp." = "ACME").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.orm import Session

from upswing.audit import service as audit
from upswing.core.bulk import bulk_insert
from upswing.core.crypto import get_key_ring
from upswing.core.db import utcnow
from upswing.core.errors import ValidationFailedError
from upswing.core.logging import get_logger
from upswing.core.names import company_key
from upswing.detection.text import Classifier, TextKind, analyze_texts, to_candidate_events
from upswing.lead.models import Lead
from upswing.observation.models import Observation, ObservationKind
from upswing.observation.snapshot import ProfileSnapshot
from upswing.observation.text import (
    TextIngestReport,
    TextItem,
    classified_text,
    content_hash,
    normalize_domain,
    normalized_payload,
    subject_key_for,
)
from upswing.privacy import policy as privacy_policy
from upswing.privacy.sealing import seal_observation
from upswing.privacy.tombstones import ErasedFilter
from upswing.resolution import service as resolution
from upswing.settings import get_settings
from upswing.signal.models import EvidenceKind
from upswing.signal.service import SightedEvent, upsert_events
from upswing.source.models import Source
from upswing.source.service import get_or_create_source

log = get_logger(__name__)
_OBSERVATIONS: Table = Observation.__table__  # type: ignore[assignment]
#: Texts classified per classifier call.
CHUNK_SIZE = 500


@dataclass(slots=True)
class _Work:
    """One text that needs classifying: where it is stored and whose leads its signals go to."""

    observation_id: uuid.UUID
    normalized: dict[str, Any]
    url: str | None
    observed_at: datetime
    lead_ids: list[uuid.UUID]


def ingest_texts(session: Session, items: Sequence[TextItem], *, source_slug: str,
                 observed_at: datetime | None = None, classifier: dict[str, Classifier] | None = None,
                 ) -> TextIngestReport:
    """Store, link and classify text items; does not commit (the caller's boundary does).

    ``classifier`` maps ``person``/``company`` to a classifier to use instead of the current model (tests).
    Refuses the whole batch (``ValidationFailedError`` naming each item) when a text is empty.
    """
    report = TextIngestReport()
    errors = [{"row": number, "field": "text", "message": "text is empty"}
              for number, item in enumerate(items, start=1) if not item.text or not item.text.strip()]
    errors += [{"row": number, "field": "about", "message": f"must be person or company, not {item.about!r}"}
               for number, item in enumerate(items, start=1) if item.about not in ("person", "company")]
    if errors:
        raise ValidationFailedError(f"{len(errors)} text item(s) cannot be stored; nothing was ingested", errors)
    if not items:
        return report
    source = _source(session, source_slug)
    # The privacy mode decides whether this source may be collected from and which fields are kept.
    privacy = privacy_policy.current()
    privacy.check_legal_basis(source.slug, source.legal_basis)
    ring = get_key_ring()
    items = _drop_erased(session, items, report)
    now = utcnow()
    when = observed_at or now
    prepared = [(item, normalized_payload(item)) for item in items]
    hashes = {content_hash(normalized) for _, normalized in prepared}
    known = {row.content_hash: row for row in session.execute(
        select(Observation.id, Observation.content_hash, Observation.lead_id, Observation.last_observed_at)
        .where(Observation.content_hash.in_(hashes)))}
    person_leads = _link_people(session, [(item, n) for item, n in prepared if item.about == "person"])
    company_leads = _company_leads(session, [n for item, n in prepared if item.about == "company"])

    rows: list[dict[str, Any]] = []
    relinks: list[dict[str, Any]] = []
    seen_again: list[dict[str, Any]] = []
    work: dict[TextKind, list[_Work]] = {"person": [], "company": []}
    in_batch: set[str] = set()
    for item, normalized in prepared:
        digest = content_hash(normalized)
        stored = known.get(digest)
        if digest in in_batch:
            report.duplicates += 1
            continue
        in_batch.add(digest)
        if item.about == "company":
            lead_ids = company_leads.get(_company_identity(normalized), [])
            lead_id = None
        else:
            lead_id = person_leads.get(id(item))
            lead_ids = [lead_id] if lead_id else []
        if stored is not None:
            report.duplicates += 1
            report.observation_ids.append(stored.id)
            if when > stored.last_observed_at:
                seen_again.append({"id": stored.id, "last_observed_at": when})
            if item.about == "person" and stored.lead_id is None and lead_id is not None:
                # Stored unlinked before; now we know whose it is: link it and detect.
                relinks.append({"id": stored.id, "lead_id": lead_id})
                report.linked += 1
                work["person"].append(_Work(stored.id, normalized, item.url, when, lead_ids))
            continue
        observation_id = uuid.uuid4()
        raw, stored_normalized = privacy.prepare_observation(item.raw, normalized)
        raw, stored_normalized, identifiers = seal_observation(raw, stored_normalized, ring)
        report.stored += 1
        report.observation_ids.append(observation_id)
        if lead_ids:
            report.linked += 1
            work[item.about].append(_Work(observation_id, normalized, item.url, when, lead_ids))
        else:
            report.unlinked += 1
        rows.append({
            "id": observation_id, "source_id": source.id, "lead_id": lead_id, "kind": ObservationKind.TEXT.value,
            "subject_key": None if item.lead_id is not None else subject_key_for(normalized),
            "shape": f"text:{item.about}", "schema_version": 1,
            "version": None, "url": item.url, "raw": raw, "normalized": stored_normalized,
            "identifier_index": identifiers, "content_hash": digest,
            "observed_at": when, "last_observed_at": when, "created_at": now,
        })
    if rows:
        bulk_insert(session, _OBSERVATIONS, rows)
    if relinks:
        session.execute(update(Observation), relinks)
    if seen_again:
        session.execute(update(Observation), seen_again)
    for kind, pending in work.items():
        for start in range(0, len(pending), CHUNK_SIZE):
            _detect(session, pending[start:start + CHUNK_SIZE], kind, source.slug, report,
                    (classifier or {}).get(kind))
    return report


def _drop_erased(session: Session, items: Sequence[TextItem], report: TextIngestReport) -> Sequence[TextItem]:
    """Texts by a person erased on request are never stored again."""
    check = ErasedFilter(session)
    if not check.active:
        return items
    for number, item in enumerate(items):
        if item.about == "person" and item.author_public_id:
            check.add(number, linkedin_public_id=item.author_public_id)
    erased = check.erased()
    report.suppressed += len(erased)
    return [item for number, item in enumerate(items) if number not in erased]


def _source(session: Session, slug: str) -> Source:
    return get_or_create_source(session, slug, connector="text_file", name=f"Texts ({slug})",
                                legal_basis="Operator-supplied public texts; see compliance settings.")


def _link_people(session: Session, items: list[tuple[TextItem, dict[str, Any]]]) -> dict[int, uuid.UUID]:
    """id(item) → lead for every person text whose lead is known (given, or found by public id)."""
    linked: dict[int, uuid.UUID] = {}
    given = {item.lead_id for item, _ in items if item.lead_id is not None}
    survivors: dict[uuid.UUID, uuid.UUID] = {}
    if given:
        for lead_id, merged_into in session.execute(select(Lead.id, Lead.merged_into_id).where(Lead.id.in_(given))):
            survivors[lead_id] = merged_into or lead_id
    subjects: dict[str, ProfileSnapshot] = {}
    for item, normalized in items:
        if item.lead_id is not None:
            if item.lead_id in survivors:
                linked[id(item)] = survivors[item.lead_id]
            continue
        public_id = normalized.get("author_public_id")
        if public_id:
            # Only the public id goes to the resolver: a text's author name alone must never link it.
            subjects[f"li:{public_id}"] = ProfileSnapshot(
                actor="text", public_identifier=public_id, linkedin_url=f"https://www.linkedin.com/in/{public_id}")
    if subjects:
        decisions = resolution.resolve(session, subjects)
        for item, normalized in items:
            if item.lead_id is None and normalized.get("author_public_id"):
                decision = decisions.get(f"li:{normalized['author_public_id']}")
                if decision is not None and decision.lead_id is not None:
                    linked[id(item)] = decision.lead_id
    return linked


def _company_identity(normalized: dict[str, Any]) -> tuple[str | None, str]:
    return normalized.get("company_domain"), company_key(normalized.get("company_name"))


def _company_leads(session: Session, payloads: list[dict[str, Any]]) -> dict[tuple[str | None, str], list[uuid.UUID]]:
    """For each company (domain, name key): the leads who work there (merged leads left out)."""
    wanted = {_company_identity(n) for n in payloads}
    wanted.discard((None, ""))
    if not wanted:
        return {}
    domains = {d for d, _ in wanted if d}
    keys = {k for _, k in wanted if k}
    conditions = []
    if domains:
        conditions.append(func.lower(Lead.company_domain).in_(domains | {f"www.{d}" for d in domains}))
    # Employers compare normalized in Python; SQL narrows to names containing the key's first word.
    conditions += [func.lower(Lead.employer).like(f"%{key.split()[0]}%") for key in keys]
    by_domain: dict[str, list[uuid.UUID]] = {}
    by_employer: dict[str, list[uuid.UUID]] = {}
    for lead_id, domain, employer in session.execute(
        select(Lead.id, Lead.company_domain, Lead.employer)
        .where(or_(*conditions), Lead.merged_into_id.is_(None)).order_by(Lead.created_at, Lead.id)
    ):
        if domain and normalize_domain(domain) in domains:
            by_domain.setdefault(normalize_domain(domain) or "", []).append(lead_id)
        if employer and company_key(employer) in keys:
            by_employer.setdefault(company_key(employer), []).append(lead_id)
    result: dict[tuple[str | None, str], list[uuid.UUID]] = {}
    for domain, key in wanted:
        leads = list(dict.fromkeys([*(by_domain.get(domain, []) if domain else []),
                                    *(by_employer.get(key, []) if key else [])]))
        result[(domain, key)] = leads
    return result


def _detect(session: Session, pending: list[_Work], kind: TextKind, source_slug: str, report: TextIngestReport,
            classifier: Classifier | None) -> None:
    if not pending:
        return
    settings = get_settings()
    references: list[date | None] = [_reference_date(w) for w in pending]
    analyses = analyze_texts([classified_text(w.normalized) for w in pending], kind=kind,
                             reference_dates=references, classifier=classifier)
    report.classified += len(pending)
    sightings: list[SightedEvent] = []
    guesses: list[dict[str, Any]] = []
    for work, analysis in zip(pending, analyses, strict=True):
        # Below its type's threshold a text is no signal, but its guess waits for a person on the low-confidence
        # list (and their label trains the model).
        guessed = analysis.below_threshold
        guesses.append({"id": work.observation_id, "guess_label": analysis.best_label if guessed else None,
                        "guess_confidence": analysis.confidence if guessed else None})
        events = to_candidate_events(analysis, min_confidence=settings.text_min_confidence,
                                     observed_on=work.observed_at.date(),
                                     organization=work.normalized.get("company_name")
                                     or work.normalized.get("company_domain"))
        if events:
            report.detected += 1
        published = _published_on(work)
        for event in events:
            if event.effective_date is None and published is not None:
                # The post announcing an event the text does not date dates it: the event is no later than
                # the post. Undated, it would be scored as old (signal.scoring).
                event = replace(event, effective_date=published)
            sightings.extend(SightedEvent(lead_id, work.observation_id, work.url, event, kind=EvidenceKind.TEXT,
                                          source=source_slug, observed_at=work.observed_at)
                             for lead_id in work.lead_ids)
    session.execute(update(Observation), guesses)
    report.below_threshold += sum(1 for guess in guesses if guess["guess_label"] is not None)
    outcome = upsert_events(session, sightings)
    report.signals_created += outcome.created
    report.signals_updated += outcome.merged


def _published_on(work: _Work) -> date | None:
    published = work.normalized.get("published_at")
    if published:
        try:
            return datetime.fromisoformat(published).date()
        except ValueError:
            pass
    return None


def _reference_date(work: _Work) -> date:
    return _published_on(work) or work.observed_at.date()


def record_audit(session: Session, report: TextIngestReport, *, actor: str, source_slug: str,
                 file: str | None = None) -> None:
    log.info("text_ingest.finished", source=source_slug, file=file, **report.as_dict())
    audit.record(session, actor=actor, action="observation.ingest_texts", entity_type="source",
                 entity_id=source_slug, details={**report.as_dict(), "source": source_slug, "file": file})
