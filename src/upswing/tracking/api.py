"""tracking domain: the snippet, the calls it makes (public, by site key), profiles and sites.

Who may do what: ``/t.js`` and ``POST /api/v1/tracking/{page,track,identify}`` take no sign-in (a site key, the
site's allowed origins, a rate limit and a size limit); profiles are read by every signed-in user for the leads
they may see; sites and link tokens are for admins.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from upswing import __version__
from upswing.account.deps import Admin, AnyUser, client_address
from upswing.account.ratelimit import TokenBuckets
from upswing.core.deps import AppSettings, DbSession
from upswing.core.errors import PermissionDeniedError
from upswing.lead.access import visible_lead
from upswing.settings import Settings
from upswing.tracking import service
from upswing.tracking.models import TrackingSite
from upswing.tracking.schemas import (
    CallResult,
    IdentifyCall,
    PageCall,
    ProfileDetail,
    ProfileFilters,
    ProfilePage,
    SiteCreate,
    SiteCreated,
    SiteRead,
    SiteStats,
    TrackCall,
)
from upswing.tracking.snippet import SNIPPET

router = APIRouter(tags=["tracking"])
_PREFIX = "/api/v1/tracking"
_ETAG = '"' + hashlib.sha256(f"{__version__}:{SNIPPET}".encode()).hexdigest()[:20] + '"'
Call = TypeVar("Call", PageCall, TrackCall, IdentifyCall)


def _actor(user: Any) -> str:
    return f"user:{user.username}"


@router.get("/t.js", operation_id="tracking_snippet", response_class=Response,
            responses={200: {"content": {"application/javascript": {}}, "description": "The tracking snippet"},
                       304: {"description": "Not modified"}})
def snippet(request: Request) -> Response:
    """The tracking snippet (static: the site key is in the script tag's ``data-site``); cached for an hour."""
    headers = {"Cache-Control": "public, max-age=3600", "ETag": _ETAG, "X-Content-Type-Options": "nosniff",
               "Cross-Origin-Resource-Policy": "cross-origin"}
    if request.headers.get("if-none-match") == _ETAG:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(SNIPPET, media_type="application/javascript; charset=utf-8", headers=headers)


async def _body(request: Request) -> bytes:
    """The raw body, refused above ``UPSWING_TRACKING_MAX_BODY_BYTES`` (413) before it is read whole."""
    settings: Settings = request.app.state.settings
    limit = settings.tracking_max_body_bytes
    too_large = HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the tracking call is larger than {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


RawBody = Annotated[bytes, Depends(_body)]


def _parse(model: type[Call], body: bytes) -> Call:
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(_located(exc)) from exc


def _located(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors, located in the body as FastAPI reports them."""
    found: list[Any] = exc.errors()
    return [{**entry, "loc": ("body", *entry["loc"])} for entry in found]


def _limiter(request: Request, settings: Settings) -> TokenBuckets:
    limiter = getattr(request.app.state, "tracking_rate_limiter", None)
    if limiter is None:
        limiter = TokenBuckets(settings.tracking_rate_per_minute / 60, settings.tracking_burst)
        request.app.state.tracking_rate_limiter = limiter
    return limiter


def _admit(request: Request, response: Response, session: Any, settings: Settings, site_key: str) -> TrackingSite:
    """Rate limit per site key and address, the site's key and origin; CORS headers for the allowed origin."""
    decision = _limiter(request, settings).take(f"{site_key}|{client_address(request)}")
    if not decision.allowed:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many tracking calls: slow down",
                            headers=decision.headers)
    site = service.site_by_key(session, site_key)
    origin = request.headers.get("origin")
    if not service.origin_allowed(site, origin):
        raise PermissionDeniedError("this origin is not one of the site's allowed origins")
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return site


_BODY_DOC = {"description": "JSON (sent as text/plain by the snippet, so the browser makes no preflight)"}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Unknown site key, or an origin the site does not allow"},
    413: {"description": "Larger than UPSWING_TRACKING_MAX_BODY_BYTES"},
    422: {"description": "Invalid call: each error names its field"},
    429: {"description": "Rate limited (Retry-After)"},
}


def _extra(model: type[BaseModel]) -> dict[str, Any]:
    """The body's schema, inline (the endpoint reads the raw body, so FastAPI does not list the model)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {**_BODY_DOC, "required": True, "content": {
        "application/json": {"schema": schema}, "text/plain": {"schema": schema}}}}


@router.post(f"{_PREFIX}/page", response_model=CallResult, status_code=status.HTTP_202_ACCEPTED,
             operation_id="tracking_page", responses=_RESPONSES, openapi_extra=_extra(PageCall))
def page(request: Request, response: Response, session: DbSession, settings: AppSettings,
         body: RawBody) -> CallResult:
    """A page view: with consent, the visitor's event; without, only the anonymous daily count."""
    call = _parse(PageCall, body)
    site = _admit(request, response, session, settings, call.site_key)
    outcome = service.record_event(session, site, call, policy=service.current_policy(settings))
    session.commit()
    return CallResult(stored=outcome.stored, dropped_properties=outcome.dropped_properties)


@router.post(f"{_PREFIX}/track", response_model=CallResult, status_code=status.HTTP_202_ACCEPTED,
             operation_id="tracking_track", responses=_RESPONSES, openapi_extra=_extra(TrackCall))
def track(request: Request, response: Response, session: DbSession, settings: AppSettings,
          body: RawBody) -> CallResult:
    """A named action (``calculator_used``, ``plan_selected``…) with allow-listed properties."""
    call = _parse(TrackCall, body)
    site = _admit(request, response, session, settings, call.site_key)
    outcome = service.record_event(session, site, call, policy=service.current_policy(settings))
    session.commit()
    return CallResult(stored=outcome.stored, dropped_properties=outcome.dropped_properties)


@router.post(f"{_PREFIX}/identify", response_model=CallResult, status_code=status.HTTP_202_ACCEPTED,
             operation_id="tracking_identify", responses=_RESPONSES, openapi_extra=_extra(IdentifyCall))
def identify(request: Request, response: Response, session: DbSession, settings: AppSettings,
             body: RawBody) -> CallResult:
    """Link the consenting visitor to a lead (a signed link token, or the portal's login with ``user_hash``)."""
    call = _parse(IdentifyCall, body)
    site = _admit(request, response, session, settings, call.site_key)
    outcome = service.identify(session, site, call, policy=service.current_policy(settings), settings=settings)
    session.commit()
    return CallResult(stored=outcome.stored)


@router.options(f"{_PREFIX}/{{kind}}", include_in_schema=False)
def preflight(kind: str, request: Request, session: DbSession) -> Response:
    """CORS preflight (a call sent as application/json): allowed for the origins of the active sites only."""
    origin = request.headers.get("origin")
    if kind not in ("page", "track", "identify") or origin is None or not service.any_site_allows(session, origin):
        return Response(status_code=status.HTTP_403_FORBIDDEN)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={
        "Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"})


@router.get(f"{_PREFIX}/profiles", response_model=ProfilePage, operation_id="tracking_profiles")
def profiles(user: AnyUser, session: DbSession, filters: Annotated[ProfileFilters, Query()]) -> ProfilePage:
    """Visitors linked to leads the user may see, most recently seen first, with their counts."""
    if filters.lead_id is not None:
        visible_lead(session, filters.lead_id, user)
    items = service.page_profiles(session, filters, user=user)
    return ProfilePage(items=items, limit=filters.limit, offset=filters.offset)


@router.get(f"{_PREFIX}/profiles/{{profile_id}}", response_model=ProfileDetail, operation_id="tracking_profile")
def profile(profile_id: uuid.UUID, user: AnyUser, session: DbSession) -> ProfileDetail:
    """One linked visitor's behaviour timeline (newest first) and the lead's engagement."""
    return service.get_profile(session, profile_id, user=user)


@router.get(f"{_PREFIX}/sites", response_model=list[SiteRead], operation_id="tracking_sites_list")
def sites(_: Admin, session: DbSession) -> list[SiteRead]:
    return [SiteRead.model_validate(site) for site in service.list_sites(session)]


@router.post(f"{_PREFIX}/sites", response_model=SiteCreated, status_code=status.HTTP_201_CREATED,
             operation_id="tracking_sites_create")
def create_site(body: SiteCreate, admin: Admin, session: DbSession, request: Request) -> SiteCreated:
    """A site of the lender's own (its origins): the answer holds its secret, shown once, and the script tag."""
    site, secret = service.create_site(session, body, actor=_actor(admin))
    session.commit()
    base = str(request.base_url).rstrip("/")
    return SiteCreated(**SiteRead.model_validate(site).model_dump(), secret=secret,
                       snippet=service.snippet_tag(site.site_key, base))


@router.get(f"{_PREFIX}/sites/{{site_id}}/stats", response_model=SiteStats, operation_id="tracking_site_stats")
def site_stats(site_id: uuid.UUID, _: Admin, session: DbSession) -> SiteStats:
    """The site's anonymous daily counts (30 days) and how many consented visitors and events are kept."""
    return service.site_stats(session, site_id)


class LinkTokenRequest(BaseModel):
    lead_id: uuid.UUID
    days: int = Field(default=30, ge=1, le=90, description="How long the link identifies the lead")


class LinkToken(BaseModel):
    token: str = Field(description="Put it in the portal link as ?upswing_t=TOKEN")
    days: int


@router.post(f"{_PREFIX}/link-tokens", response_model=LinkToken, operation_id="tracking_link_token")
def link_token(body: LinkTokenRequest, admin: Admin, session: DbSession, settings: AppSettings) -> LinkToken:
    """A signed token for a link to the portal (an e-mail or letter to the borrower): it identifies the lead."""
    visible_lead(session, body.lead_id, admin)
    return LinkToken(token=service.make_link_token(body.lead_id, days=body.days, settings=settings), days=body.days)
