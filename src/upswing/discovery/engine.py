"""One discovery run: search the web for companies in an area, fetch their pages, classify, create prospects.

1. **Search** through the ``company-domain`` source's providers (Google Custom Search, then Firecrawl search when
   Google is out of quota or closed), with that source's settings and daily budgets (``google-cse-queries``,
   ``firecrawl-searches``) counted in ``source_budget_usage`` like every source run: a page of results per query.
2. **Fetch** each company site's page the search named, directly through the core HTTP client's ``get_page``:
   robots.txt is checked first (a disallowed page is never requested and is reported), and every fetch spends
   one unit of the ``discovery-pages`` budget of the same source (200 a day unless an admin sets it).
3. **Classify** the page's main text with the company-intent classifier; a site whose intent is one the run's
   category asks for becomes a **prospect lead** (``kind=company``, ``discovered``, ``review_state=pending``) and
   its text goes through the normal text path (``ingest_texts``): an observation, and an ``intent_<label>`` signal
   with the page as evidence — held out of every channel until a manager approves the prospect.

Progress (counts, budget used, errors) is committed after every site, so ``GET /api/v1/discover/{id}`` shows a
live run. A spent budget ends the run as ``stopped_budget`` naming the budget; nothing found so far is lost.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from upswing.audit import service as audit
from upswing.core.db import session_factory, utcnow
from upswing.core.errors import NotFoundError
from upswing.core.http import BudgetExhausted, BudgetStore, Disallowed, HttpClient, HttpError
from upswing.core.logging import get_logger
from upswing.detection.text import Classifier, TextAnalysis, analyze_texts
from upswing.discovery.models import DiscoveryRun, Prospect, ReviewState, RunStatus
from upswing.geo.geocode import geocode, tables
from upswing.lead.models import Lead, Portfolio
from upswing.observation.text import TextItem
from upswing.pipeline.texts import ingest_texts
from upswing.source import service as sources
from upswing.source.connectors.company_domain import CompanyDomainConfig, CompanyDomainConnector
from upswing.source.connectors.company_domain.matching import SearchResult, is_not_own_domain
from upswing.source.connectors.web_page import extract_main_text

log = get_logger(__name__)

SEARCH_SOURCE = "company-domain"
PAGES_BUDGET = "discovery-pages"
DEFAULT_PAGES_PER_DAY = 200
PORTFOLIO = "Discovered prospects"
MIN_TEXT_CHARS = 80
MAX_TEXT_CHARS = 8000
#: Search result pages per run at most (10 results each).
MAX_SEARCH_PAGES = 10

#: Lead category → the company intents (classifier labels) that make a site a prospect of it.
CATEGORY_INTENTS: dict[str, tuple[str, ...]] = {
    "loan": ("loan_need",),
    "consulting": ("consulting_need",),
    "growth": ("growth",),
    "expansion": ("expansion",),
    "distress": ("financial_distress",),
    "any": ("loan_need", "consulting_need", "growth", "expansion", "financial_distress"),
}
#: Words added to the query per category (what such companies' pages tend to say).
CATEGORY_WORDS: dict[str, str] = {
    "loan": "business financing loan", "consulting": "consulting help", "growth": "growing hiring",
    "expansion": "expansion new location", "distress": "restructuring", "any": "",
}
_SIZE_WORDS = {"1-10": "small business", "11-50": "small business", "51-200": "mid-size company",
               "201-1000": "company", "1000+": "large company", "any": ""}
_TITLE_SEPARATORS = (" | ", " - ", " — ", " – ", ": ", " · ")

HttpFactory = Callable[[BudgetStore], HttpClient]


def default_http(budgets: BudgetStore) -> HttpClient:
    return HttpClient(budgets=budgets)


@dataclass(frozen=True)
class Area:
    text: str  # what the search says ("Austin, TX")
    city: str | None
    state: str | None
    latitude: float | None
    longitude: float | None


def resolve_area(area: str, lat_lng: tuple[float, float] | None) -> Area:
    """The area as a place name for the search and, when it is known, its centre (offline geocoding)."""
    if lat_lng is not None:
        city, state = nearest_city(*lat_lng)
        text = f"{city}, {state}" if city and state else area
        return Area(text, city, state, lat_lng[0], lat_lng[1])
    city, _, state = area.rpartition(",")
    city, state = city.strip(), state.strip().upper()
    if city and len(state) == 2 and state.isalpha():
        point = geocode(city, state, None)
        return Area(area, city, state, point.latitude if point else None, point.longitude if point else None)
    return Area(area, None, None, None, None)


def nearest_city(latitude: float, longitude: float) -> tuple[str | None, str | None]:
    """The nearest known US place to a point (a search needs a name), from the shipped geocoding tables."""
    t = tables()
    best: tuple[float, tuple[str, str]] | None = None
    for key, (lat, lng) in t.cities.items():
        distance = (lat - latitude) ** 2 + (lng - longitude) ** 2
        if best is None or distance < best[0]:
            best = (distance, key)
    if best is None or best[0] > 4.0:  # more than ~2 degrees away: not in the US
        return None, None
    state, city_key = best[1]
    return t.city_names.get(best[1], city_key.title()), state


def build_query(criteria: dict[str, Any], area: Area) -> str:
    parts = [_SIZE_WORDS.get(str(criteria.get("company_size") or "any"), ""),
             str(criteria.get("industry") or "") or "companies",
             CATEGORY_WORDS.get(str(criteria.get("category") or "any"), ""), "in", area.text]
    return " ".join(part for part in parts if part)


def site_of(url: str) -> tuple[str, str | None] | None:
    """``(site key, company domain)`` of a result URL: the host without ``www.`` (its domain); a bare address has
    no domain, and its sites are told apart by port and first path segment."""
    parts = urlsplit(url)
    host = (parts.hostname or "").casefold().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        domain = host.removeprefix("www.")
        return domain, domain
    segment = parts.path.strip("/").split("/", 1)[0]
    return f"{host}:{parts.port or ''}/{segment}", None


def company_name(result: SearchResult, domain: str | None) -> str:
    """The company's name from the result's title (its first part: "Acme Tools | Austin's …" → "Acme Tools")."""
    title = " ".join(result.title.split())
    for separator in _TITLE_SEPARATORS:
        title = title.split(separator, 1)[0]
    title = title.strip(" -|:")
    if title:
        return title[:120]
    return (domain or urlsplit(result.url).hostname or "Unknown company")[:120]


class DiscoveryEngine:
    """Runs discovery runs. Owns its transactions (it is a task boundary, like the monitoring engine)."""

    def __init__(self, factory: sessionmaker[Session] | None = None, *, http_factory: HttpFactory = default_http,
                 classifier: Classifier | None = None) -> None:
        self.factory = factory or session_factory()
        self.http_factory = http_factory
        self.classifier = classifier

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self.factory() as session, session.begin():
            yield session

    def run(self, run_id: uuid.UUID, *, on_progress: Callable[[RunProgress], None] | None = None) -> RunStatus:
        """Execute a queued run (claimed atomically: the CLI running it in-process and the task runner never both
        do); a run already claimed or finished is left alone and its status returned."""
        with self._transaction() as session:
            claimed = cast(CursorResult[Any], session.execute(
                update(DiscoveryRun).where(DiscoveryRun.id == run_id, DiscoveryRun.status == RunStatus.QUEUED.value)
                .values(status=RunStatus.RUNNING.value, started_at=utcnow())
                .execution_options(synchronize_session=False))).rowcount == 1
            run = session.get(DiscoveryRun, run_id)
            if run is None:
                raise NotFoundError(f"discovery run {run_id} not found")
            if not claimed:
                return RunStatus(run.status)
            criteria = dict(run.criteria)
            area = Area(run.area or criteria["area"], criteria.get("city"), criteria.get("state"), run.latitude,
                        run.longitude)
            source = sources.get_source(session, SEARCH_SOURCE)
            problem = None
            if not source.enabled:
                problem = (f"the {SEARCH_SOURCE} source (web search) is disabled; an admin enables it with "
                           f"`upswing sources configure {SEARCH_SOURCE} --enable`")
            else:
                try:
                    config = sources.effective_config(source)
                except sources.SourceNotConfiguredError as exc:
                    problem = str(exc)
            if problem is not None:
                self._end(session, run, RunStatus.FAILED, problem)
                return RunStatus.FAILED
            assert isinstance(config, CompanyDomainConfig)
            budgets = {PAGES_BUDGET: DEFAULT_PAGES_PER_DAY, **sources.effective_budgets(source, config)}
            source_id = source.id
        store = sources.DbBudgetStore(self.factory, source_id, budgets)
        progress = RunProgress(on_change=on_progress)
        status = RunStatus.DONE
        reason: str | None = None
        try:
            with self.http_factory(store) as http:
                status, reason = self._search_and_fetch(run_id, config, area, criteria, http, store, progress)
        except Exception as exc:  # a bug or the database: recorded on the run, not retried
            log.exception("discovery.failed", run_id=str(run_id))
            status, reason = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        with self._transaction() as session:
            run = session.get(DiscoveryRun, run_id)
            assert run is not None
            progress.apply(run, store)
            self._end(session, run, status, reason)
        return status

    def _search_and_fetch(self, run_id: uuid.UUID, config: CompanyDomainConfig, area: Area, criteria: dict[str, Any],
                          http: HttpClient, store: sources.DbBudgetStore,
                          progress: RunProgress) -> tuple[RunStatus, str | None]:
        connector = CompanyDomainConnector(http)
        providers = connector.providers(config)
        if not providers:
            return RunStatus.FAILED, (f"the {SEARCH_SOURCE} source has no search provider configured "
                                      "(google_api_key + google_cx, or firecrawl_api_key)")
        wanted = CATEGORY_INTENTS[str(criteria.get("category") or "any")]
        limit = int(criteria.get("max_companies") or 20)
        query = build_query(criteria, area)
        seen: set[str] = set()
        looked_at = 0
        for page in range(MAX_SEARCH_PAGES):
            try:
                provider, results = connector.search(config, providers, query, start=1 + page * 10)
            except BudgetExhausted as exc:
                return RunStatus.STOPPED_BUDGET, _budget_reason(exc)
            except HttpError as exc:
                progress.errors.append(f"search: {type(exc).__name__}: {exc}")
                return (RunStatus.FAILED if looked_at == 0 else RunStatus.DONE), f"search failed: {exc}"
            if not results:
                break
            for result in results:
                if looked_at >= limit:
                    break
                site = site_of(result.url)
                if site is None or is_not_own_domain(result.url) or site[0] in seen:
                    continue
                seen.add(site[0])
                looked_at += 1
                progress.found += 1
                try:
                    self._one(run_id, result, site, provider, query, wanted, area, http, progress)
                except BudgetExhausted as exc:
                    self._save(run_id, progress, store)
                    return RunStatus.STOPPED_BUDGET, _budget_reason(exc)
                self._save(run_id, progress, store)
            if looked_at >= limit or len(results) < 10:
                break
        return RunStatus.DONE, None

    def _one(self, run_id: uuid.UUID, result: SearchResult, site: tuple[str, str | None], provider: str, query: str,
             wanted: tuple[str, ...], area: Area, http: HttpClient, progress: RunProgress) -> None:
        key, domain = site
        with self._transaction() as session:
            if session.scalar(select(Prospect.lead_id).where(Prospect.site == key)) is not None:
                progress.skipped += 1  # found by an earlier run: its review stands
                return
        try:
            response = http.get_page(result.url, budget=PAGES_BUDGET)
        except Disallowed:
            progress.skipped += 1
            progress.errors.append(f"{key}: robots.txt disallows {result.url}; not fetched")
            return
        except BudgetExhausted:
            raise
        except HttpError as exc:
            progress.skipped += 1
            progress.errors.append(f"{key}: {type(exc).__name__}: {exc}")
            return
        text, metadata = extract_main_text(response.text, result.url)
        progress.fetched += 1
        text = text.strip()[:MAX_TEXT_CHARS]
        if len(text) < MIN_TEXT_CHARS:
            progress.skipped += 1
            progress.errors.append(f"{key}: too little text on {result.url}")
            return
        analysis = analyze_texts([text], kind="company", classifier=self.classifier)[0]
        progress.classified += 1
        if analysis.label not in wanted:
            progress.skipped += 1
            return
        name = company_name(result, domain)
        with self._transaction() as session:
            _, signals = add_prospect(session, run_id, site=site, name=name, url=result.url,
                                      title=metadata.get("title") or result.title, text=text, analysis=analysis,
                                      found_by={"provider": provider, "query": query, "title": result.title[:300],
                                                "snippet": result.snippet[:500]},
                                      area=area, classifier=self.classifier)
            progress.signals += signals
        progress.created += 1

    def _save(self, run_id: uuid.UUID, progress: RunProgress, store: sources.DbBudgetStore) -> None:
        """Commit the counts so far: the status endpoint shows a live run."""
        with self._transaction() as session:
            run = session.get(DiscoveryRun, run_id)
            if run is not None:
                progress.apply(run, store)
        if progress.on_change is not None:
            progress.on_change(progress)

    def _end(self, session: Session, run: DiscoveryRun, status: RunStatus, reason: str | None) -> None:
        run.status, run.stop_reason, run.finished_at = status.value, reason, utcnow()
        if reason and status is RunStatus.FAILED and reason not in run.errors:
            run.errors = [*run.errors, reason][-50:]
        audit.record(session, actor="task:discovery.run", action="discovery.run", entity_type="discovery_run",
                     entity_id=run.id, details={"status": run.status, "found": run.found, "created": run.created,
                                                "budget_used": run.budget_used, "stop_reason": reason})
        log.info("discovery.run", run_id=str(run.id), status=run.status, found=run.found, created=run.created)


@dataclass
class RunProgress:
    """A run's counts as it goes (committed after every site; ``on_change`` is told, e.g. a progress bar)."""

    found: int = 0
    fetched: int = 0
    classified: int = 0
    created: int = 0
    skipped: int = 0
    signals: int = 0
    errors: list[str] = field(default_factory=list)
    on_change: Callable[[RunProgress], None] | None = None

    def apply(self, run: DiscoveryRun, store: sources.DbBudgetStore) -> None:
        run.found, run.fetched, run.classified = self.found, self.fetched, self.classified
        run.created, run.skipped = self.created, self.skipped
        run.budget_used = dict(store.spent)
        run.errors = self.errors[-50:]


def _budget_reason(exc: BudgetExhausted) -> str:
    return (f"budget: {exc}; the search stopped there (what was found so far is kept); the budget renews "
            f"tomorrow (UTC), or an admin raises it with `upswing sources configure {SEARCH_SOURCE} --budget …`")


def add_prospect(session: Session, run_id: uuid.UUID | None, *, site: tuple[str, str | None], name: str, url: str,
                 title: str, text: str, analysis: TextAnalysis, found_by: dict[str, Any], area: Area,
                 classifier: Classifier | None = None, actor: str = "task:discovery.run") -> tuple[Lead, int]:
    """A prospect lead for a company site whose page showed ``analysis``'s intent, pending review, and its text
    through the normal text path (an observation and an intent signal with the page as evidence, held out until the
    prospect is approved). Returns the lead and the signals created."""
    key, domain = site
    portfolio = session.scalar(select(Portfolio).where(Portfolio.name == PORTFOLIO))
    if portfolio is None:
        portfolio = Portfolio(name=PORTFOLIO)
        session.add(portfolio)
        session.flush()
    lead = Lead(portfolio_id=portfolio.id, external_id=f"DISC-{hashlib.sha256(key.encode()).hexdigest()[:16]}",
                first_name=name, last_name="", employer=name[:200], company_domain=domain,
                company_about=text[:4000], city=area.city, state=area.state,
                country="US" if area.state else None, kind="company", discovered=True,
                review_state=ReviewState.PENDING.value)
    session.add(lead)
    session.flush()
    session.add(Prospect(lead_id=lead.id, run_id=run_id, site=key, website=url[:500], found_by=found_by,
                         intents=[{"intent": analysis.label, "confidence": round(analysis.confidence, 4),
                                   "snippet": analysis.snippet, "url": url}]))
    session.flush()
    report = ingest_texts(session, [TextItem(
        text=text, raw={"url": url, "title": title, "search": found_by}, about="company", url=url, title=title,
        company_name=name, company_domain=domain)], source_slug="discovery",
        classifier={"company": classifier} if classifier is not None else None)
    audit.record(session, actor=actor, action="discovery.prospect", entity_type="lead", entity_id=lead.id,
                 details={"run_id": str(run_id) if run_id else None, "site": key,
                          "provider": found_by.get("provider")})
    return lead, report.signals_created
