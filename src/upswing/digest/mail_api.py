"""HTTP endpoints of the digest's e-mail plumbing (thin): Brevo's event webhook, the admins' list of suppressed
addresses, and the one-click unsubscribe link (RFC 8058), which needs no sign-in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from upswing.account.deps import Admin
from upswing.account.models import User
from upswing.core.api_errors import error_body
from upswing.core.deps import AppSettings, DbSession
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.core.pagination import OffsetQuery
from upswing.digest import mail, unsubscribe
from upswing.digest.mail import BrevoEvent, EventOutcome, SuppressionRead, SuppressionReason

router = APIRouter(prefix="/api/v1", tags=["e-mail"])


def _actor(user: User) -> str:
    return f"user:{user.username}"


# --------------------------------------------------------------------------------------------------
# Brevo's event webhook


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/email/events/brevo", response_model=EventOutcome, operation_id="email_events_brevo",
             responses={401: {"description": "No token, or not the configured one"},
                        403: {"description": "Not from a configured network"},
                        422: {"description": "Not an event (the field is named)"},
                        503: {"description": "The webhook is not configured"}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": BrevoEvent.model_json_schema(by_alias=True)}}}})
def brevo_event(request: Request, body: Annotated[bytes, Depends(_raw_body)], session: DbSession,
                settings: AppSettings) -> EventOutcome:
    """One delivery event from Brevo (its transactional webhook; one JSON event per request). A hard bounce, a
    spam complaint, an unsubscribe or a block stops all e-mail to the address and alerts the admins; other events
    are accepted and ignored. Accepted only from ``UPSWING_BREVO_WEBHOOK_NETWORKS`` and with
    ``UPSWING_BREVO_WEBHOOK_TOKEN`` (``Authorization: Bearer``, or the password of HTTP Basic)."""
    refusal = mail.webhook_refusal(settings, request.headers.get("authorization"),
                                   request.client.host if request.client else None)
    if refusal is not None:
        status, detail = refusal
        headers = {"WWW-Authenticate": 'Bearer realm="brevo-webhook"'} if status == 401 else None
        raise HTTPException(status_code=status, detail=detail, headers=headers)
    event = _parse_event(body)
    outcome = mail.handle_brevo_event(session, event.model_dump(by_alias=True))
    session.commit()
    return outcome


def _parse_event(body: bytes) -> BrevoEvent:
    """The body as an event, read after the caller is known to be Brevo; a problem names the field."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise ValidationFailedError("invalid request: body: not a JSON object (one Brevo event)",
                                    [{"field": "body", "row": None, "message": "not a JSON object"}])
    try:
        return BrevoEvent.model_validate(data)
    except ValidationError as exc:
        errors: list[dict[str, object]] = [
            {"field": ".".join(["body", *(str(part) for part in error["loc"])]), "row": None,
             "message": error["msg"]} for error in exc.errors()]
        raise ValidationFailedError(f"invalid request: {errors[0]['field']}: {errors[0]['message']}",
                                    errors) from None


# --------------------------------------------------------------------------------------------------
# Suppressed addresses (admins)


@router.get("/email-suppressions", response_model=list[SuppressionRead], operation_id="email_suppressions_list")
def list_suppressions(_: Admin, session: DbSession, reason: SuppressionReason | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                      offset: OffsetQuery = 0) -> list[SuppressionRead]:
    """Addresses no e-mail goes to (a hard bounce, a spam complaint, an unsubscribe or a block), the latest
    first, with the users who have them."""
    return mail.list_suppressions(session, reason=reason.value if reason else None, limit=limit, offset=offset)


@router.delete("/email-suppressions/{address}", response_model=SuppressionRead,
               operation_id="email_suppressions_lift")
def lift_suppression(address: Annotated[str, Path(min_length=3, max_length=320)], user: Admin,
                     session: DbSession) -> SuppressionRead:
    """Let e-mail go to the address again (its owner fixed the mailbox); audited. A later bounce or complaint
    suppresses it again."""
    lifted = mail.lift_suppression(session, address, actor=_actor(user))
    session.commit()
    return lifted


# --------------------------------------------------------------------------------------------------
# One-click unsubscribe: no sign-in, the token is the authority


TokenQuery = Annotated[str, Query(min_length=1, max_length=200,
                                  description="The token of the digest's unsubscribe link")]
_REFUSED = {"description": "The token was altered or cut short, or its user no longer exists"}
#: A page reached by a link that carries a token: never cached, never indexed, never sent on as a Referer.
_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)


def _refused(request: Request, error: NotFoundError) -> Response:
    """A person who clicked the link (a browser) gets a page saying so; a program the usual JSON error."""
    if "text/html" in request.headers.get("accept", ""):
        return _page(unsubscribe.invalid_page(), 404)
    return JSONResponse(status_code=404, content=error_body(str(error)), headers=_PAGE_HEADERS)


@router.get("/digest/unsubscribe", response_class=HTMLResponse, operation_id="digest_unsubscribe_page",
            responses={404: _REFUSED})
def unsubscribe_page(token: TokenQuery, request: Request, session: DbSession, settings: AppSettings) -> Response:
    """The page an unsubscribe link opens, with a button that turns the digest off. Opening it changes nothing
    (mail scanners fetch links). No sign-in: the token is the authority."""
    try:
        unsubscribe.user_of(session, token, settings)
    except NotFoundError as error:
        return _refused(request, error)
    return _page(unsubscribe.confirm_page(token))


@router.post("/digest/unsubscribe", response_model=unsubscribe.UnsubscribeResult, operation_id="digest_unsubscribe",
             responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}, 404: _REFUSED})
def unsubscribe_now(token: TokenQuery, request: Request, session: DbSession, settings: AppSettings,
                    one_click: Annotated[Literal["One-Click"] | None, Form(
                        alias="List-Unsubscribe", description="RFC 8058: what a mail client posts")] = None,
                    ) -> Any:
    """Turn the digest off for the link's user: a mail client's one-click POST (RFC 8058), or the page's button.
    No sign-in: the token is the authority. A page, or JSON when asked for (``Accept: application/json``)."""
    try:
        user_id = unsubscribe.user_of(session, token, settings)
        unsubscribe.unsubscribe(session, user_id, "unsubscribe:one-click" if one_click else "unsubscribe:page")
    except NotFoundError as error:
        return _refused(request, error)
    session.commit()
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return unsubscribe.UnsubscribeResult()
    return _page(unsubscribe.done_page())
