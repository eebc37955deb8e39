"""The monitoring engine: which leads are due, fetching for them within budget, storing what came back.

A run of one source:

1. **plan** (one short transaction): lock the source row, pick what is due — leads by their schedule
   (high-value daily, others weekly, each in its own slot of the period), new leads' companies to enrich
   once, or nothing for pull sources (feeds) — no more than the budget has left, and lease the picked leads
   so a concurrent run leaves them alone;
2. **fetch** a batch through the connector (no database access; the HTTP layer retries, rate-limits and
   spends the budget, in its own committed transactions);
3. **store** the batch in one transaction: profile items through the same ingest as the file import,
   text items through ``ingest_texts``, company domain / About page onto the leads, the leads' next due
   times and the cursor. A failure rolls the batch back whole; its leads are given back and come due
   again, and content hashes make a re-run store nothing twice;
4. **record** success, or the error: ``blocked`` when the service refuses us, ``degraded`` after repeated
   transient errors, ``ok`` again after a success.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Uuid, and_, func, literal, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from upswing.audit import service as audit
from upswing.core.db import session_factory, utcnow
from upswing.core.http import BudgetExhausted, BudgetStore, HttpClient, HttpError, InMemoryBudgetStore
from upswing.core.identifiers import normalize_linkedin_url
from upswing.core.logging import get_logger
from upswing.core.timeparse import parse_timestamp
from upswing.lead.models import Lead
from upswing.observation.text import TextItem
from upswing.pipeline.profiles import ProfileIngest
from upswing.pipeline.texts import ingest_texts
from upswing.settings import get_settings
from upswing.source import service
from upswing.source.connector import (
    Connector,
    ConnectorConfig,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
    Target,
)
from upswing.source.models import LeadSchedule, Source, SourceState
from upswing.source.registry import get_connector
from upswing.source.schemas import HealthRead, RunReport

log = get_logger(__name__)

#: An enrichment that found nothing is tried again after this long.
ENRICH_RETRY = timedelta(days=30)
DEFAULT_BATCH = 100

TargetKind = Literal["profiles", "company_domain", "company_about", "pull"]


@dataclass(frozen=True)
class Targeting:
    """How a source chooses what to fetch, and the budget its targets spend (one unit each)."""

    kind: TargetKind
    budget: str | None = None


#: Per connector slug; a connector not listed pulls with its cursor and no targets (feeds, file replay).
TARGETING: dict[str, Targeting] = {
    "apify-linkedin": Targeting("profiles", service.LINKEDIN_PROFILES),
    "apify-linkedin-posts": Targeting("profiles", "linkedin-post-profiles"),
    "company-domain": Targeting("company_domain"),
    "firecrawl-about": Targeting("company_about"),
}


def targeting_for(source: Source) -> Targeting:
    return TARGETING.get(source.connector, Targeting("pull"))


@dataclass
class Planned:
    """One target and the leads it answers for (several leads can share an employer or a domain)."""

    target: Target
    lead_ids: list[uuid.UUID]
    period: timedelta | None = None  # profiles: the lead's monitoring interval


@dataclass
class Plan:
    source_id: uuid.UUID
    slug: str
    connector: str
    targeting: Targeting
    config: ConnectorConfig
    budgets: dict[str, int]
    cursor: str | None
    items: list[Planned] = field(default_factory=list)
    budget_left: int | None = None


HttpFactory = Callable[[BudgetStore], HttpClient]


def default_http(budgets: BudgetStore) -> HttpClient:
    return HttpClient(budgets=budgets)


class MonitoringEngine:
    """Runs and checks sources. Owns its transactions (it is a task boundary, like a CLI command)."""

    def __init__(self, factory: sessionmaker[Session] | None = None, *, http_factory: HttpFactory = default_http,
                 batch_size: int = DEFAULT_BATCH, clock: Callable[[], datetime] = utcnow) -> None:
        self.factory = factory or session_factory()
        self.http_factory = http_factory
        self.batch_size = batch_size
        self.clock = clock
        #: Seconds from a batch's fetch start to its commit, once per lead in the batch (benchmarks read it).
        self.lead_latencies: list[float] = []

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self.factory() as session, session.begin():
            yield session

    # ---- running

    def run(self, slug: str, *, lead_ids: Sequence[uuid.UUID] | None = None, limit: int | None = None,
            max_targets: int | None = None, continuing: bool = False, actor: str = service.SYSTEM,
            scheduled: bool = False, progress: Callable[[int], None] | None = None,
            on_plan: Callable[[int], None] | None = None) -> RunReport:
        """Fetch what is due for source ``slug`` (or exactly ``lead_ids``, due or not).

        ``limit``: at most this many targets, and items from a pull source. ``max_targets``: at most this many
        targets (a part of a round; ``on_plan`` hears how many were taken, so a caller can queue the next part).
        ``continuing``: a later part of a round, whose first part put the leads new to the source on its schedule.
        ``scheduled``: skip quietly when the source is blocked (a person has to act first); an operator's
        run tries anyway, so it is how a fixed source is brought back.
        """
        report = RunReport(slug=slug)
        plan = self._plan(slug, lead_ids=lead_ids, limit=limit, max_targets=max_targets, enrol=not continuing,
                          scheduled=scheduled, report=report)
        if on_plan is not None:
            on_plan(len(plan.items) if plan is not None else 0)
        if plan is None:
            return report
        store = service.DbBudgetStore(self.factory, plan.source_id, plan.budgets)
        connector_cls = get_connector(plan.connector)
        failure: BaseException | None = None
        pending = list(plan.items)
        with self.http_factory(store) as http:
            connector: Connector[Any] = connector_cls(http)
            batches = [pending] if plan.targeting.kind == "pull" else _chunks(pending, self.batch_size)
            for batch in batches:
                started = time.perf_counter()
                try:
                    request = FetchRequest(targets=[p.target for p in batch], limit=limit)
                    result = connector.fetch(plan.config, plan.cursor, request)
                    deferred = self._store(plan, batch, result, report)
                except BudgetExhausted as exc:
                    report.stopped = "budget"
                    report.errors.append(str(exc))
                    break
                except Exception as exc:
                    failure = exc
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                    break
                finally:
                    report.budget_used = dict(store.spent)
                done = time.perf_counter() - started
                self.lead_latencies.extend([done] * sum(len(p.lead_ids) or 1 for p in batch))
                pending = deferred + pending[len(batch):]
                if progress is not None:
                    progress(len(batch) - len(deferred))
                if result.failure is not None:  # partial: what came back is stored, the rest is given back
                    failure = result.failure
                    report.errors.append(f"{type(failure).__name__}: {failure}")
                    break
                if deferred:  # the connector stopped early without an error: its budget is spent
                    report.stopped = "budget"
                    break
        if failure is not None:
            report.stopped = "blocked" if isinstance(failure, HttpError) and failure.blocks_source else "error"
        self._finish(plan, report, failure, unfetched=[lead for p in pending for lead in p.lead_ids], actor=actor)
        if failure is not None and not isinstance(failure, HttpError):
            raise failure  # a bug or a database error: the task runner retries, the CLI shows it
        return report

    def _plan(self, slug: str, *, lead_ids: Sequence[uuid.UUID] | None, limit: int | None,
              max_targets: int | None, enrol: bool, scheduled: bool, report: RunReport) -> Plan | None:
        now = self.clock()
        with self._transaction() as session:
            source = service.get_source(session, slug)
            report.state = source.state
            if not source.enabled:
                raise service.SourceDisabledError(
                    f"source {slug!r} is disabled; enable it with `upswing sources configure {slug} --enable`")
            if scheduled and source.state == SourceState.BLOCKED.value:
                report.stopped = "blocked"
                report.errors.append(f"source {slug!r} is blocked: {source.last_error}")
                return None
            config = service.effective_config(source)
            # Lock the source row first: concurrent runs of one source plan one after the other (on SQLite
            # this also takes the write lock before anything is read).
            session.execute(update(Source).where(Source.id == source.id).values(last_run_at=now)
                            .execution_options(synchronize_session=False))
            targeting = targeting_for(source)
            budgets = service.effective_budgets(source)
            plan = Plan(source.id, slug, source.connector, targeting, config, budgets, source.cursor)
            if targeting.budget is not None and targeting.budget in budgets:
                used = service.budget_usage(session, source).get(targeting.budget, 0)
                plan.budget_left = max(0, budgets[targeting.budget] - used)
            cap = min(x for x in (limit, max_targets, plan.budget_left, 1_000_000) if x is not None)
            if targeting.kind == "pull":
                plan.items = [Planned(Target(key=source.slug, value=source.slug), [])]
            elif cap == 0:
                report.stopped = "budget"
                report.errors.append(f"daily budget {targeting.budget!r} is spent "
                                     f"({budgets.get(targeting.budget or '')} a day); the next run continues")
                return None
            else:
                if lead_ids is None and enrol:
                    _enrol(session, source, targeting.kind)
                plan.items = _PLANNERS[targeting.kind](session, source, now, cap, lead_ids)
                service.lease(session, source, [lead for p in plan.items for lead in p.lead_ids], now=now)
            report.targets = 0 if targeting.kind == "pull" else len(plan.items)
            return plan

    def _store(self, plan: Plan, batch: list[Planned], result: FetchResult, report: RunReport) -> list[Planned]:
        """One batch in one transaction: everything it fetched, or nothing. Returns the targets the connector
        deferred (not done this time): their leads are not marked as checked."""
        now = self.clock()
        by_key = {p.target.key: p for p in batch}
        deferred_keys = set(result.deferred)
        deferred = [p for p in batch if p.target.key in deferred_keys]
        with self._transaction() as session:
            source = session.get(Source, plan.source_id)
            assert source is not None
            report.items += len(result.items)
            report.errors.extend(result.errors)
            profiles = [(n, item.payload) for n, item in enumerate(result.items, 1) if item.kind is ItemKind.PROFILE]
            if profiles:
                ingest = ProfileIngest(session, source, skip_invalid=True, lookback_days=get_settings().lookback_days)
                outcome = ingest.ingest(profiles)
                report.observations_created += outcome.observations_created
                report.duplicates += outcome.duplicates
                report.linked += outcome.linked
                report.unlinked += outcome.unlinked
                report.signals_created += outcome.signals_created
                report.signals_merged += outcome.signals_merged
                report.rejected += outcome.rejected
                report.errors.extend(f"item {e['row']}: {e['message']}" for e in outcome.errors)
            texts = [_text_item(item, by_key) for item in result.items if item.kind is ItemKind.TEXT]
            if texts:
                text_report = ingest_texts(session, texts, source_slug=source.slug)
                report.texts_stored += text_report.stored
                report.duplicates += text_report.duplicates
                report.linked += text_report.linked
                report.unlinked += text_report.unlinked
                report.signals_created += text_report.signals_created
                report.signals_merged += text_report.signals_updated
            found = _apply_company_items(session, result.items, by_key, report)
            checked = [service.Checked(lead_id, _next_due(plan.targeting, p, lead_id, now, found))
                       for p in batch if p.target.key not in deferred_keys for lead_id in p.lead_ids]
            service.mark_checked(session, source, checked, now=now)
            if result.next_cursor is not None:
                source.cursor = result.next_cursor
        return deferred

    def _finish(self, plan: Plan, report: RunReport, failure: BaseException | None, *,
                unfetched: list[uuid.UUID], actor: str) -> None:
        now = self.clock()
        with self._transaction() as session:
            # The source row before the schedule rows, as planning takes them: a failed run giving back its leads
            # first deadlocked with a run planning meanwhile (a scheduled run over a million leads, 2026-12-07).
            source = session.get(Source, plan.source_id, with_for_update=True)
            assert source is not None
            service.release(session, source, unfetched, now=now)
            if failure is None:
                service.record_success(session, source, now=now)
            else:
                service.record_failure(session, source, failure, now=now)
            report.state = source.state
            if report.targets or report.items or failure is not None:
                audit.record(session, actor=actor, action="source.run", entity_type="source", entity_id=source.id,
                             details=report.model_dump(exclude={"errors"}) | {"errors": report.errors[:20]})
        log.info("source.run", **report.model_dump(exclude={"errors"}), errors=len(report.errors))

    # ---- health

    def check(self, session: Session, slug: str, *, actor: str = service.SYSTEM) -> HealthRead:
        """Ask the service whether it answers and accepts our credentials, and record what it said in the
        caller's transaction (nothing is spent: a check is not counted against a budget)."""
        source = service.get_source(session, slug)
        try:
            config: ConnectorConfig | None = service.effective_config(source)
        except service.SourceNotConfiguredError as exc:
            config, health = None, Health(ok=False, detail=str(exc))
        if config is not None:
            with self.http_factory(InMemoryBudgetStore()) as http:
                try:
                    health = get_connector(source.connector)(http).check(config)
                except HttpError as exc:
                    health = Health(ok=False, detail=f"{type(exc).__name__}: {exc}", blocked=exc.blocks_source)
        service.record_check(session, source, health, actor=actor)
        return HealthRead(slug=slug, ok=health.ok, detail=health.detail, blocked=health.blocked, state=source.state)

    # ---- what is due

    def due_count(self, session: Session, source: Source) -> int | None:
        targeting = targeting_for(source)
        if targeting.kind == "pull":
            return None
        query = _DUE_QUERIES[targeting.kind](source, self.clock())
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0


# --------------------------------------------------------------------------------------------------
# Planning: what each kind of source fetches


def _schedule_join(source: Source) -> Any:
    return and_(LeadSchedule.lead_id == Lead.id, LeadSchedule.source_id == source.id)


#: The leads each kind of source fetches for, due or not.
_ELIGIBLE: dict[str, Callable[[], list[Any]]] = {
    "profiles": lambda: [or_(Lead.linkedin_url.is_not(None), Lead.linkedin_public_id.is_not(None)),
                         Lead.merged_into_id.is_(None)],
    "company_domain": lambda: [Lead.employer.is_not(None), Lead.employer != "", Lead.company_domain.is_(None),
                               Lead.merged_into_id.is_(None)],
    "company_about": lambda: [Lead.company_domain.is_not(None), Lead.company_about.is_(None),
                              Lead.merged_into_id.is_(None)],
}


def _due_query(kind: str, columns: Any, source: Source, now: datetime, enrolled: bool) -> Any:
    """``columns`` of the due leads. ``enrolled``: only leads with a schedule row (``_enrol`` gave every lead one),
    found through the index on ``(source_id, next_due_at)``; otherwise also leads without one (due since they were
    created), which takes a scan of the leads."""
    if enrolled:
        return columns.join(LeadSchedule, _schedule_join(source)).where(*_ELIGIBLE[kind](),
                                                                        LeadSchedule.next_due_at <= now)
    return columns.outerjoin(LeadSchedule, _schedule_join(source)).where(
        *_ELIGIBLE[kind](), or_(LeadSchedule.lead_id.is_(None), LeadSchedule.next_due_at <= now))


def _profiles_query(source: Source, now: datetime, enrolled: bool = False) -> Any:
    columns = select(Lead.id, Lead.linkedin_url, Lead.linkedin_public_id, Lead.balance)
    return _due_query("profiles", columns, source, now, enrolled)


def _company_domain_query(source: Source, now: datetime, enrolled: bool = False) -> Any:
    return _due_query("company_domain", select(Lead.id, Lead.employer), source, now, enrolled)


def _company_about_query(source: Source, now: datetime, enrolled: bool = False) -> Any:
    return _due_query("company_about", select(Lead.id, Lead.company_domain, Lead.employer), source, now, enrolled)


def _enrol(session: Session, source: Source, kind: str) -> int:
    """Give every lead the source could fetch for and has not seen a schedule row, due since the lead was created;
    returns how many.

    Run by the first part of a round (under the source row's lock), so every part plans from the schedule's
    index; a lead that arrives in mid-round waits for the next round (15 minutes). Concurrent writers of the
    same rows (a run marking its own leads checked) win: their row stays as they wrote it."""
    missing = ~select(LeadSchedule.lead_id).where(LeadSchedule.source_id == source.id,
                                                  LeadSchedule.lead_id == Lead.id).exists()
    rows = select(literal(source.id, Uuid), Lead.id, Lead.created_at, literal(0)).where(*_ELIGIBLE[kind](), missing)
    postgres = session.get_bind().dialect.name == "postgresql"
    insert: Any = postgresql.insert if postgres else sqlite.insert
    if postgres:
        # A hash anti-join reads the schedule once. Planned from statistics that show it (nearly) empty, a nested
        # loop re-read the whole schedule for each lead while this statement filled it: over 3 minutes at a
        # million leads instead of 22 s.
        previous = session.scalar(text("SELECT current_setting('enable_nestloop')"))
        session.execute(text("SELECT set_config('enable_nestloop', 'off', true)"))
    result = session.execute(insert(LeadSchedule).from_select(
        ["source_id", "lead_id", "next_due_at", "checks"], rows).on_conflict_do_nothing())
    enrolled = max(0, result.rowcount or 0)  # type: ignore[attr-defined]
    if postgres:
        session.execute(text("SELECT set_config('enable_nestloop', :value, true)"), {"value": previous})
        if enrolled >= 10_000:  # the parts' due queries plan from the schedule's statistics: bring them up to date
            session.execute(text("ANALYZE source_lead_schedule"))
    if enrolled:
        log.info("source.enrolled", source=source.slug, leads=enrolled)
    return enrolled


_DUE_QUERIES: dict[str, Callable[..., Any]] = {
    "profiles": _profiles_query, "company_domain": _company_domain_query, "company_about": _company_about_query}


def _plan_profiles(session: Session, source: Source, now: datetime, cap: int,
                   lead_ids: Sequence[uuid.UUID] | None) -> list[Planned]:
    query = (_profiles_query(source, now, enrolled=True) if lead_ids is None
             else _forced(_profiles_query, source, now, lead_ids))
    rows = session.execute(_ordered(query, enrolled=lead_ids is None).limit(cap)).all()
    planned = []
    for row in rows:
        url = row.linkedin_url or f"https://www.linkedin.com/in/{row.linkedin_public_id}"
        planned.append(Planned(Target(key=str(row.id), value=url), [row.id], service.interval_for(row.balance)))
    return planned


def _plan_company_domain(session: Session, source: Source, now: datetime, cap: int,
                         lead_ids: Sequence[uuid.UUID] | None) -> list[Planned]:
    query = (_company_domain_query(source, now, enrolled=True) if lead_ids is None
             else _forced(_company_domain_query, source, now, lead_ids))
    # Several leads often share an employer: one search answers all of them.
    groups: dict[str, Planned] = {}
    for row in session.execute(_ordered(query, enrolled=lead_ids is None).limit(cap * 20)):
        name = " ".join(row.employer.split())
        group = groups.get(name.casefold())
        if group is None:
            if len(groups) >= cap:
                continue
            group = groups[name.casefold()] = Planned(Target(key=str(row.id), value=name), [])
        group.lead_ids.append(row.id)
    return list(groups.values())


def _plan_company_about(session: Session, source: Source, now: datetime, cap: int,
                        lead_ids: Sequence[uuid.UUID] | None) -> list[Planned]:
    query = (_company_about_query(source, now, enrolled=True) if lead_ids is None
             else _forced(_company_about_query, source, now, lead_ids))
    groups: dict[str, Planned] = {}
    for row in session.execute(_ordered(query, enrolled=lead_ids is None).limit(cap * 20)):
        domain = row.company_domain.strip().casefold()
        group = groups.get(domain)
        if group is None:
            if len(groups) >= cap:
                continue
            extra = {"company": row.employer} if row.employer else {}
            group = groups[domain] = Planned(Target(key=str(row.id), value=domain, extra=extra), [])
        group.lead_ids.append(row.id)
    return list(groups.values())


def _forced(build: Callable[..., Any], source: Source, now: datetime,
            lead_ids: Sequence[uuid.UUID]) -> Any:
    """The due query without its "due" condition, for leads an operator named."""
    far_future = now + timedelta(days=365 * 100)
    return build(source, far_future).where(Lead.id.in_(list(lead_ids)))


def _ordered(query: Any, *, enrolled: bool) -> Any:
    # Longest overdue first; a lead never fetched is due since it was created (enrolled with that time).
    if enrolled:
        return query.order_by(LeadSchedule.next_due_at, LeadSchedule.lead_id)
    return query.order_by(func.coalesce(LeadSchedule.next_due_at, Lead.created_at), Lead.id)


_PLANNERS: dict[str, Callable[[Session, Source, datetime, int, Sequence[uuid.UUID] | None], list[Planned]]] = {
    "profiles": _plan_profiles, "company_domain": _plan_company_domain, "company_about": _plan_company_about}


def _next_due(targeting: Targeting, planned: Planned, lead_id: uuid.UUID, now: datetime,
              found: set[str]) -> datetime | None:
    if targeting.kind == "profiles":
        return service.next_due(lead_id, now, planned.period or timedelta(days=7))
    if planned.target.key in found:
        return None  # enriched: never again
    return now + ENRICH_RETRY


# --------------------------------------------------------------------------------------------------
# Storing what came back


def _chunks(items: list[Planned], size: int) -> list[list[Planned]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _apply_company_items(session: Session, items: Sequence[RawItem], by_key: dict[str, Planned],
                         report: RunReport) -> set[str]:
    """Company domains and About pages onto every lead their target answered for; returns the keys of the
    targets that found what they looked for."""
    found: set[str] = set()
    for item in items:
        if item.kind not in (ItemKind.COMPANY_DOMAIN, ItemKind.COMPANY_ABOUT) or item.target_key is None:
            continue
        planned = by_key.get(item.target_key)
        if planned is None or not planned.lead_ids:
            continue
        if item.kind is ItemKind.COMPANY_DOMAIN:
            domain = _first_text(item.payload, "domain", "companyDomain", "company_domain")
            if not domain:
                continue
            session.execute(update(Lead).where(Lead.id.in_(planned.lead_ids), Lead.company_domain.is_(None))
                            .values(company_domain=domain[:255]).execution_options(synchronize_session=False))
            report.domains_filled += len(planned.lead_ids)
        else:
            about = _first_text(item.payload, "markdown", "about", "companyAbout", "company_about", "text")
            if not about:
                continue
            session.execute(update(Lead).where(Lead.id.in_(planned.lead_ids), Lead.company_about.is_(None))
                            .values(company_about=about).execution_options(synchronize_session=False))
            report.abouts_filled += len(planned.lead_ids)
        found.add(item.target_key)
    return found


def _first_text(payload: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _text_item(item: RawItem, by_key: dict[str, Planned]) -> TextItem:
    """A fetched post, news item or page as ``ingest_texts`` takes it. Connectors put the cleaned text
    under ``text``; the rest is read from the common field names of the services we use."""
    payload = item.payload
    planned = by_key.get(item.target_key) if item.target_key is not None else None
    lead_id = planned.lead_ids[0] if planned is not None and len(planned.lead_ids) == 1 else None
    author: dict[str, Any] = payload["author"] if isinstance(payload.get("author"), dict) else {}
    published = item.observed_at
    if published is None:
        for key in ("publishedAt", "published_at", "postedAt", "date"):
            value = payload.get(key)
            if isinstance(value, dict):
                value = value.get("date") or value.get("timestamp")
            published = parse_timestamp(str(value)) if value else None
            if published is not None:
                break
    about: Literal["person", "company"] = (
        "company" if payload.get("about") == "company" or (lead_id is None and not author) else "person")
    subject = normalize_linkedin_url(item.subject_url) if item.subject_url else None
    return TextItem(
        text=_first_text(payload, "text", "content", "markdown", "description", "summary") or "",
        raw=payload, about=about, url=item.url or _first_text(payload, "url", "linkedinUrl", "link"),
        title=_first_text(payload, "title", "headline"), published_at=published, lead_id=lead_id,
        author_public_id=(subject[1] if subject else None) or _first_text(payload, "authorPublicIdentifier")
        or _first_text(author, "publicIdentifier"),
        author_name=_first_text(payload, "authorName") or _first_text(author, "name"),
        company_name=_first_text(payload, "company", "company_name", "companyName"),
        company_domain=_first_text(payload, "company_domain", "companyDomain", "domain"))
