"""``company-domain``: find the company's own web domain (fills ``companyDomain``).

Google Custom Search JSON API first, Firecrawl search second. Google closes this API on 1 January 2027
(and to new projects already), so ``provider`` switches it off, ``google_until`` retires it by date, and
any quota or access refusal from Google (429 ``RESOURCE_EXHAUSTED``, 403 ``dailyLimitExceeded`` or
"does not have the access") moves the rest of the run to Firecrawl. The choice among the results is the
pure :func:`~upswing.source.connectors.company_domain.matching.choose_company_domain`.

Targets: key = whom it is for (a lead or company key), value = the company name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator

from upswing.core.http import (
    Blocked,
    BudgetExhausted,
    HttpClient,
    HttpError,
    MalformedResponse,
    RateLimited,
    RetryPolicy,
)
from upswing.source.connector import (
    Capability,
    Connector,
    ConnectorConfig,
    FetchRequest,
    FetchResult,
    Health,
    ItemKind,
    RawItem,
    Target,
)
from upswing.source.connectors._firecrawl import FirecrawlApi
from upswing.source.connectors.company_domain.matching import SearchResult, choose_company_domain

GOOGLE_BUDGET = "google-cse-queries"
FIRECRAWL_BUDGET = "firecrawl-searches"
GOOGLE_API = "google-cse"
# One retry at most: a daily quota does not come back in seconds, Firecrawl is the better next step.
_GOOGLE_RETRY = RetryPolicy(max_retries=1, retry_after_cap_s=10.0)


class CompanyDomainConfig(ConnectorConfig):
    provider: Literal["auto", "google", "firecrawl"] = Field(
        default="auto", description="auto: Google first, Firecrawl when Google is out of quota or closed")
    google_api_key: SecretStr | None = Field(default=None, description="Google API key (Custom Search JSON API)")
    google_cx: str | None = Field(default=None, description="Programmable Search Engine id (cx)")
    google_base_url: str = "https://www.googleapis.com"
    google_until: date = Field(default=date(2027, 1, 1), description="Google is not used from this day on")
    firecrawl_api_key: SecretStr | None = Field(default=None, description="Firecrawl API key (fc-…)")
    firecrawl_base_url: str = "https://api.firecrawl.dev"
    firecrawl_api_version: Literal["v2", "v1"] = "v2"
    results_per_query: int = Field(default=10, ge=1, le=10)
    query_suffix: str = Field(default="official website", description="Added to the company name in the query")
    min_score: float = Field(default=75.0, ge=0, le=100, description="Lowest match score accepted")
    daily_google_budget: int = Field(default=100, ge=0, description="Google queries per day (100 are free)")
    daily_firecrawl_budget: int = Field(default=500, ge=0, description="Firecrawl searches per day")

    @field_validator("google_base_url", "firecrawl_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class _GoogleUnavailable(Exception):
    """Google refused (quota, closed, budget): the rest of this run goes to Firecrawl."""


class CompanyDomainConnector(Connector[CompanyDomainConfig]):
    slug: ClassVar[str] = "company-domain"
    title: ClassVar[str] = "Company domain (Google CSE, Firecrawl search)"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.SEARCH})
    config_model: ClassVar[type[CompanyDomainConfig]] = CompanyDomainConfig

    def __init__(self, http: HttpClient, *, today: date | None = None) -> None:
        super().__init__(http)
        self._today = today

    def budgets(self, config: CompanyDomainConfig) -> dict[str, int]:
        return {GOOGLE_BUDGET: config.daily_google_budget, FIRECRAWL_BUDGET: config.daily_firecrawl_budget}

    def providers(self, config: CompanyDomainConfig) -> list[str]:
        """The providers to ask, in order, for this configuration and day."""
        today = self._today or datetime.now(UTC).date()
        retired = config.provider == "auto" and today >= config.google_until
        google = (config.google_api_key is not None and config.google_cx is not None
                  and config.provider in ("auto", "google") and not retired)
        firecrawl = config.firecrawl_api_key is not None and config.provider in ("auto", "firecrawl")
        return [name for name, usable in (("google", google), ("firecrawl", firecrawl)) if usable]

    def check(self, config: CompanyDomainConfig) -> Health:
        providers = self.providers(config)
        if not providers:
            return Health(False, "no search provider configured (google_api_key + google_cx, or firecrawl_api_key)")
        try:
            hits = self._search(config, providers[0], "Upswing health check")
        except _GoogleUnavailable as exc:
            return Health(len(providers) > 1, f"Google unavailable ({exc}); Firecrawl is next")
        except Blocked as exc:
            return Health(False, str(exc), blocked=True)
        except HttpError as exc:
            return Health(False, str(exc))
        return Health(True, f"{providers[0]} answers ({len(hits)} results for a test query)")

    def fetch(self, config: CompanyDomainConfig, cursor: str | None, request: FetchRequest) -> FetchResult:
        providers = self.providers(config)
        if not providers:
            raise Blocked("company-domain: no search provider configured", url=None, status=401)
        items: list[RawItem] = []
        errors: list[str] = []
        usage = {GOOGLE_BUDGET: 0, FIRECRAWL_BUDGET: 0}
        targets = list(request.targets)[: request.limit] if request.limit is not None else list(request.targets)
        for done, target in enumerate(targets):
            try:
                item = self._one(config, providers, target, errors, usage)
            except HttpError as exc:
                if done == 0:
                    raise
                failure = None if isinstance(exc, BudgetExhausted) else exc
                return FetchResult(items, cursor, usage, errors, [t.key for t in targets[done:]], failure)
            if item is not None:
                items.append(item)
        return FetchResult(items, cursor, usage, errors)

    def _one(self, config: CompanyDomainConfig, providers: list[str], target: Target, errors: list[str],
             usage: dict[str, int]) -> RawItem | None:
        company = target.value.strip()
        if not company:
            errors.append(f"{target.key}: no company name")
            return None
        query = f"{company} {config.query_suffix}".strip()
        while providers:
            provider = providers[0]
            try:
                results = self._search(config, provider, query)
            except _GoogleUnavailable as exc:
                providers.pop(0)  # for the rest of this run
                errors.append(f"Google search unavailable ({exc}); using {providers[0] if providers else 'nothing'}")
                if not providers:
                    raise exc.__cause__ if isinstance(exc.__cause__, HttpError) else Blocked(
                        str(exc), url=None, status=429) from exc
                continue
            usage[GOOGLE_BUDGET if provider == "google" else FIRECRAWL_BUDGET] += 1
            choice = choose_company_domain(company, results, min_score=config.min_score)
            if choice is None:
                errors.append(f"{target.key}: no result looks like the own site of {company!r}")
                return None
            evidence = {"provider": provider, "query": query, "title": choice.title, "url": choice.url,
                        "snippet": choice.snippet, "score": choice.score, "domain_score": choice.domain_score,
                        "title_score": choice.title_score, "results": len(results)}
            return RawItem(kind=ItemKind.COMPANY_DOMAIN, target_key=target.key, url=choice.url,
                           payload={"company": company, "domain": choice.domain, "evidence": evidence})
        return None

    def search(self, config: CompanyDomainConfig, providers: list[str], query: str, *,
               start: int = 1) -> tuple[str, list[SearchResult]]:
        """A web search (discovery's): ``(provider, results)`` from the first provider that answers; Google's
        refusal (quota, closed, budget) moves this and later searches to Firecrawl (``providers`` is changed in
        place). ``start`` pages Google (1, 11, 21 …); Firecrawl has one page. Raises ``BudgetExhausted`` when
        every provider's budget is spent, other ``HttpError``s as they come."""
        while providers:
            provider = providers[0]
            if provider != "google" and start > 1:
                return provider, []
            try:
                return provider, self._search(config, provider, query, start=start)
            except _GoogleUnavailable as exc:
                providers.pop(0)
                if not providers:
                    raise exc.__cause__ if isinstance(exc.__cause__, HttpError) else Blocked(
                        str(exc), url=None, status=429) from exc
        raise Blocked("company-domain: no search provider configured", url=None, status=401)

    def _search(self, config: CompanyDomainConfig, provider: str, query: str, *, start: int = 1) -> list[SearchResult]:
        if provider == "google":
            return self._google(config, query, start=start)
        assert config.firecrawl_api_key is not None
        api = FirecrawlApi(self.http, config.firecrawl_api_key, config.firecrawl_base_url, config.firecrawl_api_version)
        self.http.spend(FIRECRAWL_BUDGET)
        return [SearchResult(hit.title, hit.url, hit.snippet)
                for hit in api.search(query, limit=config.results_per_query)]

    def _google(self, config: CompanyDomainConfig, query: str, *, start: int = 1) -> list[SearchResult]:
        assert config.google_api_key is not None
        params = {"key": config.google_api_key.get_secret_value(), "cx": config.google_cx, "q": query,
                  "num": config.results_per_query, "start": start}
        try:
            body = self.http.request("GET", f"{config.google_base_url}/customsearch/v1", params=params,
                                     api=GOOGLE_API, budget=GOOGLE_BUDGET, retry=_GOOGLE_RETRY).json()
        except (RateLimited, Blocked, BudgetExhausted) as exc:
            raise _GoogleUnavailable(_google_reason(exc)) from exc
        if not isinstance(body, dict):
            raise MalformedResponse("Google CSE: the answer is not a JSON object")
        items = body.get("items", [])  # absent, not empty, when there are no results
        if not isinstance(items, list):
            raise MalformedResponse("Google CSE: 'items' is not a list")
        return [SearchResult(str(item.get("title") or ""), str(item["link"]), str(item.get("snippet") or ""))
                for item in items if isinstance(item, dict) and isinstance(item.get("link"), str)]


def _google_reason(exc: HttpError) -> str:
    if isinstance(exc, BudgetExhausted):
        return str(exc)
    payload = exc.payload() if isinstance(exc, RateLimited | Blocked) else None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
        return f"{error.get('code')} {error.get('status') or ''} {','.join(r for r in reasons if r)}: " \
               f"{error.get('message', '')}".strip()
    return str(exc)
