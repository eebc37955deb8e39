"""Sources as stored instances: creating them from the connector registry, their settings (secrets sealed),
budgets, health bookkeeping, and each lead's monitoring schedule. Never commits: the caller's boundary does.
"""

from __future__ import annotations

import hashlib
import math
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import CursorResult, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from upswing.audit import service as audit
from upswing.core.crypto import get_key_ring
from upswing.core.db import utcnow
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.core.http import HttpClient, HttpError, OutboundRefused, check_outbound_url
from upswing.settings import Settings, get_settings
from upswing.source.connector import Connector, ConnectorConfig, Health
from upswing.source.models import BudgetUsage, LeadSchedule, Source, SourceState
from upswing.source.registry import all_connectors, get_connector
from upswing.source.schemas import BudgetRead, SourceRead, SourceUpdate

SYSTEM = "system"
_SCHEDULE: Table = LeadSchedule.__table__  # type: ignore[assignment]
#: Transient failures in a row after which a source is marked degraded.
DEGRADED_AFTER = 3
#: The budget every LinkedIn-profile source spends (one unit per profile scraped).
LINKEDIN_PROFILES = "linkedin-profiles"

LEGAL_BASIS = {
    "apify-linkedin": "Legitimate interest in recovering a debt: public professional profile data of the "
                      "debtor, fetched through Apify at a limited daily rate.",
    "apify-linkedin-posts": "Legitimate interest in recovering a debt: the debtor's public posts.",
    "company-domain": "Public company information (web search results) about the debtor's employer.",
    "firecrawl-about": "Public company information (the employer's own About page).",
    "rss": "Public news and press releases.",
    "web-page": "Public web pages, fetched as robots.txt allows.",
    "file-replay": "Operator-supplied exports of public data.",
}


class SourceDisabledError(ValidationFailedError):
    """The source is switched off; an admin enables it with ``upswing sources configure SLUG --enable``."""


class SourceNotConfiguredError(ValidationFailedError):
    """The source's settings are incomplete or invalid (the errors name each setting)."""


# --------------------------------------------------------------------------------------------------
# Defaults from settings


def effective_budgets(source: Source, config: ConnectorConfig | None = None) -> dict[str, int]:
    """The connector's daily budgets (its defaults, e.g. 300 LinkedIn profile scrapes, from its settings)
    overlaid with the limits an admin set on this source."""
    defaults: dict[str, int] = {}
    connector = connector_of(source)
    if connector is not None:
        try:
            config = config or effective_config(source, connector)
            with HttpClient() as http:  # budgets() reads the config only; nothing is sent
                defaults = dict(connector(http).budgets(config))
        except SourceNotConfiguredError:
            pass
    return {**defaults, **(source.budgets or {})}


def _settings_defaults(slug: str, fields: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Config values a deployment sets in the environment (``UPSWING_APIFY_TOKEN`` …) for the fields this
    connector has; ``UPSWING_SOURCE_DEFAULTS`` gives any other per-source default."""
    candidates: dict[str, Any] = {}
    if slug.startswith("apify") and settings.apify_token is not None:
        token = settings.apify_token.get_secret_value()
        candidates.update(token=token, api_token=token, apify_token=token)
    if settings.firecrawl_api_key is not None:
        key = settings.firecrawl_api_key.get_secret_value()
        candidates.update(firecrawl_api_key=key)
        if slug.startswith("firecrawl"):
            candidates.update(api_key=key)
    if settings.google_cse_api_key is not None:
        key = settings.google_cse_api_key.get_secret_value()
        candidates.update(google_api_key=key, google_cse_api_key=key)
    if settings.google_cse_id is not None:
        candidates.update(google_cx=settings.google_cse_id, google_cse_id=settings.google_cse_id,
                          cse_id=settings.google_cse_id, cx=settings.google_cse_id)
    candidates.update(daily_profile_budget=settings.linkedin_daily_profile_budget)
    defaults = {name: value for name, value in candidates.items() if name in fields}
    defaults.update(settings.source_defaults.get(slug, {}))
    return defaults


# --------------------------------------------------------------------------------------------------
# Creating and finding sources


def ensure_sources(session: Session) -> list[Source]:
    """Every registered connector has its source row (created on first use; see ``_ready`` for whether it
    starts enabled); returns all sources by slug."""
    existing = {source.slug: source for source in session.scalars(select(Source))}
    for slug, connector in all_connectors().items():
        if slug not in existing:
            existing[slug] = _create(session, slug, connector)
    return [existing[slug] for slug in sorted(existing)]


def _create(session: Session, slug: str, connector: type[Connector[Any]]) -> Source:
    source = Source(slug=slug, connector=slug, name=connector.title, legal_basis=LEGAL_BASIS.get(slug),
                    config={}, budgets={}, state=SourceState.OK.value, consecutive_failures=0, enabled=True)
    if not _ready(source, connector):  # nothing to run with yet: an admin configures and enables it
        source.enabled, source.state = False, SourceState.DISABLED.value
    try:
        with session.begin_nested():  # another process may create it at the same moment
            session.add(source)
    except IntegrityError:
        found = session.scalar(select(Source).where(Source.slug == slug))
        assert found is not None
        return found
    return source


def _ready(source: Source, connector: type[Connector[Any]]) -> bool:
    """A new source starts enabled only when the deployment configured it (a credential in the environment,
    or an ``UPSWING_SOURCE_DEFAULTS`` entry) and its settings are complete: fetching from a service is an
    admin's decision (and needs a legal basis), not a side effect of installing a connector."""
    try:
        config = effective_config(source, connector)
    except SourceNotConfiguredError:
        return False
    if source.slug in get_settings().source_defaults:
        return True
    return any(getattr(config, name, None) is not None for name in secret_fields(connector.config_model))


def get_source(session: Session, slug: str) -> Source:
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is not None:
        return source
    try:
        connector = get_connector(slug)
    except KeyError:
        known = ", ".join(sorted({*all_connectors(), *session.scalars(select(Source.slug))}))
        raise NotFoundError(f"no source {slug!r}; known: {known}") from None
    return _create(session, slug, connector)


def connector_of(source: Source) -> type[Connector[Any]] | None:
    try:
        return get_connector(source.connector)
    except KeyError:
        return None


# --------------------------------------------------------------------------------------------------
# Settings: public values in ``config``, secrets sealed in ``secrets``


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return origin in (list, tuple, set, frozenset)


def secret_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, info in model.model_fields.items() if _is_secret(info.annotation)}


def _context(source: Source) -> str:
    return f"source:{source.slug}"


def stored_secrets(source: Source) -> dict[str, Any]:
    return get_key_ring().decrypt_json(source.secrets, context=_context(source)) if source.secrets else {}


def effective_config(source: Source, connector: type[Connector[Any]] | None = None) -> ConnectorConfig:
    """The connector's config: settings defaults, then the stored values, then the stored secrets."""
    connector = connector or connector_of(source)
    if connector is None:
        raise SourceNotConfiguredError(f"source {source.slug!r}: no connector {source.connector!r} is installed")
    model = connector.config_model
    values = {**_settings_defaults(source.slug, model.model_fields, get_settings()), **(source.config or {}),
              **stored_secrets(source)}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise SourceNotConfiguredError(
            f"source {source.slug!r} is not configured: " + "; ".join(_describe(e) for e in exc.errors()),
            [{"row": None, "field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()],
        ) from None


def _describe(error: Mapping[str, Any]) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "config"
    if error["type"] == "missing":
        return f"{field} is required (set it with `upswing sources configure SLUG --set {field}=…`)"
    return f"{field}: {error['msg']}"


def public_config(source: Source) -> dict[str, Any]:
    """The settings in effect without the secrets (defaults included), for showing."""
    connector = connector_of(source)
    if connector is None:
        return dict(source.config or {})
    secrets = secret_fields(connector.config_model)
    try:
        config = effective_config(source, connector)
        shown = config.model_dump(mode="json", exclude=secrets)
    except SourceNotConfiguredError:  # incomplete: show what is there
        shown = {**_settings_defaults(source.slug, connector.config_model.model_fields, get_settings()),
                 **(source.config or {})}
        shown = {k: v for k, v in shown.items() if k not in secrets}
    return {k: (v.get_secret_value() if isinstance(v, SecretStr) else v) for k, v in shown.items()}


def secrets_set(source: Source) -> list[str]:
    connector = connector_of(source)
    if connector is None:
        return []
    names = set(stored_secrets(source))
    defaults = _settings_defaults(source.slug, connector.config_model.model_fields, get_settings())
    return sorted((names | set(defaults)) & secret_fields(connector.config_model))


def parse_assignments(source: Source, assignments: Iterable[str]) -> dict[str, Any]:
    """``key=value`` pairs from the command line; list settings take comma-separated values."""
    connector = connector_of(source)
    fields = connector.config_model.model_fields if connector else {}
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValidationFailedError(f"--set expects key=value, got {assignment!r}")
        info = fields.get(key)
        if info is not None and _is_sequence(info.annotation):
            values[key] = [part.strip() for part in value.split(",") if part.strip()]
        else:
            values[key] = value
    return values


def configure(session: Session, slug: str, change: SourceUpdate, *, actor: str) -> Source:
    """Apply an admin's change; validates every setting it names and records what changed (never a
    secret's value) in the audit log."""
    source = get_source(session, slug)
    connector = connector_of(source)
    if connector is None:
        raise NotFoundError(f"source {slug!r} has no installed connector {source.connector!r}")
    model = connector.config_model
    secrets_names = secret_fields(model)
    changed: dict[str, Any] = {}

    if change.config:
        unknown = sorted(set(change.config) - set(model.model_fields))
        if unknown:
            raise ValidationFailedError(
                f"source {slug!r} has no setting(s) {', '.join(unknown)}; it has: {', '.join(model.model_fields)}",
                [{"row": None, "field": name, "message": "unknown setting"} for name in unknown])
        public = dict(source.config or {})
        secret = stored_secrets(source)
        for key, value in change.config.items():
            target = secret if key in secrets_names else public
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value.get_secret_value() if isinstance(value, SecretStr) else value
        _check_values(model, {**public, **secret}, set(change.config))
        _check_urls(public, set(change.config))
        source.config = public
        source.secrets = (get_key_ring().encrypt_json(secret, context=_context(source)) if secret else None)
        changed["config"] = sorted(change.config)  # names only: values may be secrets or PII
    if change.budgets is not None:
        budgets = dict(source.budgets or {})
        for name, limit in change.budgets.items():
            if limit is None:
                budgets.pop(name, None)
            elif limit < 0:
                raise ValidationFailedError(f"budget {name!r} must not be negative",
                                            [{"row": None, "field": f"budgets.{name}", "message": "below 0"}])
            else:
                budgets[name] = limit
        source.budgets = budgets
        changed["budgets"] = budgets
    if change.legal_basis is not None:
        source.legal_basis = change.legal_basis.strip() or None
        changed["legal_basis"] = source.legal_basis
    if change.enabled is not None and change.enabled != source.enabled:
        if change.enabled:
            effective_config(source, connector)  # refuses to enable a source that cannot run
            source.state = SourceState.OK.value
            source.consecutive_failures = 0
        else:
            source.state = SourceState.DISABLED.value
        source.enabled = change.enabled
        changed["enabled"] = change.enabled
    session.flush()
    if changed:
        audit.record(session, actor=actor, action="source.configure", entity_type="source", entity_id=source.id,
                     details={"slug": slug, **changed})
    return source


def _check_values(model: type[BaseModel], values: dict[str, Any], named: set[str]) -> None:
    """Errors about the settings this change names; a required setting still missing is fine here (an
    admin may set the base URL before the token), it is reported when the source runs or is enabled."""
    try:
        model.model_validate(values)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["type"] != "missing" and e["loc"] and e["loc"][0] in named]
        if errors:
            raise ValidationFailedError(
                "invalid setting(s): " + "; ".join(_describe(e) for e in errors),
                [{"row": None, "field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in errors],
            ) from None


def _check_urls(values: Mapping[str, Any], named: set[str]) -> None:
    """The URLs among the settings this change names (``base_url``, each of ``feeds`` or ``urls`` …) must be ones
    the HTTP layer would fetch: not pointing at a private, loopback, link-local (cloud metadata), multicast,
    reserved or unspecified address unless allow-listed (``core.http.check_outbound_url``). Every fetch checks
    again; this says so when the admin saves, naming the setting (``feeds.1`` for a list's second URL)."""
    errors: list[dict[str, object]] = []
    for name in sorted(named):
        value = values.get(name)
        items = [(name, value)] if isinstance(value, str) else (
            [(f"{name}.{index}", item) for index, item in enumerate(value)] if isinstance(value, list | tuple) else [])
        for field, item in items:
            if isinstance(item, str) and "://" in item:
                try:
                    check_outbound_url(item.strip())
                except OutboundRefused as exc:
                    errors.append({"row": None, "field": field, "message": str(exc)})
    if errors:
        raise ValidationFailedError("refused URL(s): " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                                    errors)


# --------------------------------------------------------------------------------------------------
# Health


def record_success(session: Session, source: Source, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    previous = source.state
    source.last_run_at = source.last_success_at = now
    source.consecutive_failures = 0
    if source.state in (SourceState.DEGRADED.value, SourceState.BLOCKED.value):
        source.state = SourceState.OK.value
    session.flush()
    if previous != source.state:
        _record_state_change(session, source, previous, "a run succeeded")


def record_failure(session: Session, source: Source, error: BaseException, *, now: datetime | None = None) -> None:
    """Blocked (the service refuses us) → ``blocked``; repeated transient errors → ``degraded``."""
    now = now or utcnow()
    previous = source.state
    source.last_run_at = source.last_error_at = now
    source.last_error = f"{type(error).__name__}: {error}"[:2000]
    source.consecutive_failures = (source.consecutive_failures or 0) + 1
    if source.state != SourceState.DISABLED.value:
        if isinstance(error, HttpError) and error.blocks_source:
            source.state = SourceState.BLOCKED.value
        elif source.consecutive_failures >= DEGRADED_AFTER and source.state != SourceState.BLOCKED.value:
            source.state = SourceState.DEGRADED.value
    session.flush()
    if previous != source.state:
        _record_state_change(session, source, previous, source.last_error)


def record_check(session: Session, source: Source, health: Health, *, actor: str) -> None:
    """A health check's answer: refused → ``blocked``; healthy → a blocked or degraded source is ``ok``
    again (an admin fixed it); a transient problem is only noted as the last error."""
    previous = source.state
    now = utcnow()
    if health.ok:
        if source.state in (SourceState.BLOCKED.value, SourceState.DEGRADED.value):
            source.state = SourceState.OK.value
            source.consecutive_failures = 0
    else:
        source.last_error, source.last_error_at = f"check: {health.detail}"[:2000], now
        if health.blocked and source.state != SourceState.DISABLED.value:
            source.state = SourceState.BLOCKED.value
    session.flush()
    audit.record(session, actor=actor, action="source.check", entity_type="source", entity_id=source.id,
                 details={"slug": source.slug, "ok": health.ok, "blocked": health.blocked,
                          "detail": health.detail[:500]})
    if previous != source.state:
        _record_state_change(session, source, previous, f"check: {health.detail}")


def _record_state_change(session: Session, source: Source, previous: str, reason: str | None) -> None:
    audit.record(session, actor=SYSTEM, action="source.state", entity_type="source", entity_id=source.id,
                 details={"slug": source.slug, "from": previous, "to": source.state, "reason": reason})


# --------------------------------------------------------------------------------------------------
# Budgets


def today() -> date:
    return datetime.now(UTC).date()


def budget_usage(session: Session, source: Source, day: date | None = None) -> dict[str, int]:
    rows = session.execute(select(BudgetUsage.name, BudgetUsage.used)
                           .where(BudgetUsage.source_id == source.id, BudgetUsage.day == (day or today())))
    return {row.name: row.used for row in rows}


class DbBudgetStore:
    """The HTTP layer's ``BudgetStore`` backed by ``source_budget_usage``: every spend is its own short,
    committed transaction, so units spent on a run that later fails still count, and two workers never
    spend the same units (the conditional UPDATE is atomic on both databases)."""

    def __init__(self, factory: sessionmaker[Session], source_id: uuid.UUID, limits: Mapping[str, int], *,
                 day: Callable[[], date] = today) -> None:
        self.factory = factory
        self.source_id = source_id
        self.limits = dict(limits)
        self.day = day
        self.spent: dict[str, int] = {}  # by this store (this run)

    def try_spend(self, name: str, units: int) -> bool:
        if units < 0:
            raise ValueError("units must not be negative")
        day = self.day()
        limit = self.limits.get(name)
        with self.factory() as session, session.begin():
            if session.get(BudgetUsage, (self.source_id, name, day)) is None:
                try:
                    with session.begin_nested():
                        session.add(BudgetUsage(source_id=self.source_id, name=name, day=day, used=0))
                except IntegrityError:
                    pass  # another worker created today's row first
            spend = (update(BudgetUsage)
                     .where(BudgetUsage.source_id == self.source_id, BudgetUsage.name == name, BudgetUsage.day == day)
                     .values(used=BudgetUsage.used + units).execution_options(synchronize_session=False))
            if limit is not None:
                spend = spend.where(BudgetUsage.used + units <= limit)
            granted = cast(CursorResult[Any], session.execute(spend)).rowcount == 1
        if granted:
            self.spent[name] = self.spent.get(name, 0) + units
        return granted

    def used(self, name: str) -> int:
        with self.factory() as session:
            used = session.scalar(select(BudgetUsage.used).where(
                BudgetUsage.source_id == self.source_id, BudgetUsage.name == name, BudgetUsage.day == self.day()))
        return used or 0

    def limit(self, name: str) -> int | None:
        return self.limits.get(name)

    def left(self, name: str) -> int | None:
        limit = self.limit(name)
        return None if limit is None else max(0, limit - self.used(name))


# --------------------------------------------------------------------------------------------------
# Monitoring schedule: each lead by tier, spread over the period


def interval_for(balance: Decimal | float | None, settings: Settings | None = None) -> timedelta:
    """High-value leads (balance at or above the threshold) daily, the others weekly (both configurable)."""
    settings = settings or get_settings()
    high = balance is not None and float(balance) >= settings.monitor_high_value_balance
    hours = settings.monitor_high_value_every_hours if high else settings.monitor_default_every_hours
    return timedelta(hours=hours)


def phase_of(lead_id: uuid.UUID, period: timedelta) -> float:
    """A fixed offset within the period, from the lead id: leads spread evenly over the day (or week)
    instead of all coming due at once, and the same lead keeps its slot."""
    digest = int.from_bytes(hashlib.sha256(lead_id.bytes).digest()[:8], "big")
    return float(digest % max(1, int(period.total_seconds())))


def next_due(lead_id: uuid.UUID, checked_at: datetime, period: timedelta) -> datetime:
    """The first time of the lead's slot at least half a period after ``checked_at`` (so the gap between
    two fetches stays between half and one and a half periods, and is one period on average)."""
    seconds = period.total_seconds()
    earliest = checked_at.timestamp() + seconds / 2
    phase = phase_of(lead_id, period)
    periods = math.ceil((earliest - phase) / seconds)
    return datetime.fromtimestamp(periods * seconds + phase, UTC)


#: How long a run holds the leads it picked before another run may take them (a crashed run's leads
#: come due again after this).
LEASE = timedelta(hours=2)


@dataclass(frozen=True)
class Checked:
    lead_id: uuid.UUID
    next_due_at: datetime | None


def _set_schedule(session: Session, source: Source, values: Mapping[uuid.UUID, dict[str, Any]]) -> None:
    """Insert or update each lead's schedule row (a portable upsert). ``values`` holds, per lead, the
    columns to set: ``next_due_at``, optionally ``last_checked_at``, and ``checks: True`` to count a fetch."""
    if not values:
        return
    # Every writer of schedule rows goes in lead-id order: a run leasing its leads and another marking its own as
    # checked deadlocked when each went in its own order (a scheduled run's lease at a million leads, retried).
    ids = sorted(values, key=str)
    existing: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        existing.update(session.scalars(select(LeadSchedule.lead_id).where(
            LeadSchedule.source_id == source.id, LeadSchedule.lead_id.in_(ids[start:start + 500]))))
    fresh = [{"source_id": source.id, "lead_id": lead_id, "last_checked_at": values[lead_id].get("last_checked_at"),
              "next_due_at": values[lead_id]["next_due_at"], "checks": 1 if values[lead_id].get("checks") else 0}
             for lead_id in ids if lead_id not in existing]
    if fresh:
        session.execute(_SCHEDULE.insert(), fresh)
    # One statement per shape of change, executed for many rows at once.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for lead_id in ids:
        if lead_id not in existing:
            continue
        row = values[lead_id]
        params = {f"b_{k}": v for k, v in row.items() if k != "checks"}
        groups.setdefault(tuple(sorted(row)), []).append({"b_lead_id": lead_id, **params})
    table = _SCHEDULE
    for columns, rows in groups.items():
        assignments: dict[str, Any] = {c: bindparam(f"b_{c}") for c in columns if c != "checks"}
        if "checks" in columns:
            assignments["checks"] = table.c.checks + 1
        statement = (table.update().where(table.c.source_id == source.id, table.c.lead_id == bindparam("b_lead_id"))
                     .values(**assignments))
        session.execute(statement, rows)


def lease(session: Session, source: Source, lead_ids: Iterable[uuid.UUID], *, now: datetime) -> None:
    """Hold these leads for this run (a concurrent run skips them until the lease ends)."""
    _set_schedule(session, source, {lead_id: {"next_due_at": now + LEASE} for lead_id in lead_ids})


def release(session: Session, source: Source, lead_ids: Iterable[uuid.UUID], *, now: datetime) -> None:
    """Give leads a failed run could not fetch back: they are due at once."""
    _set_schedule(session, source, {lead_id: {"next_due_at": now} for lead_id in lead_ids})


def mark_checked(session: Session, source: Source, checked: Iterable[Checked], *, now: datetime) -> None:
    """Record that the source fetched for these leads now, and when each is due again."""
    _set_schedule(session, source, {c.lead_id: {"last_checked_at": now, "next_due_at": c.next_due_at,
                                                "checks": True} for c in checked})


def watched_leads(session: Session, source: Source) -> int:
    return session.scalar(select(func.count()).select_from(LeadSchedule)
                          .where(LeadSchedule.source_id == source.id, LeadSchedule.checks > 0)) or 0


# --------------------------------------------------------------------------------------------------
# Reading


def describe(session: Session, source: Source, *, due_leads: int | None = None) -> SourceRead:
    connector = connector_of(source)
    used = budget_usage(session, source)
    budgets = effective_budgets(source)
    names = sorted(set(budgets) | set(used))
    return SourceRead(
        slug=source.slug, connector=source.connector, name=source.name,
        title=connector.title if connector else None,
        capabilities=sorted(c.value for c in connector.capabilities) if connector else [],
        enabled=source.enabled, legal_basis=source.legal_basis, state=source.state,
        config=public_config(source), secrets_set=secrets_set(source),
        budgets=[BudgetRead(name=n, limit=budgets.get(n), used_today=used.get(n, 0)) for n in names],
        cursor=source.cursor, consecutive_failures=source.consecutive_failures or 0,
        last_run_at=source.last_run_at, last_success_at=source.last_success_at, last_error=source.last_error,
        last_error_at=source.last_error_at, watched_leads=watched_leads(session, source), due_leads=due_leads)


def get_or_create_source(session: Session, slug: str, *, connector: str, name: str,
                         legal_basis: str | None = None) -> Source:
    source = session.scalar(select(Source).where(Source.slug == slug))
    if source is None:
        source = Source(slug=slug, connector=connector, name=name, legal_basis=legal_basis, config={})
        session.add(source)
        session.flush()
    return source


FILE_SOURCE_SLUG = "apify-file"


def file_source(session: Session) -> Source:
    """The source that saved Apify dataset exports are replayed through."""
    return get_or_create_source(
        session, FILE_SOURCE_SLUG, connector="file_replay", name="Apify dataset export (file)",
        legal_basis="Operator-supplied export of public profile data; see compliance settings.")
