"""HTTP endpoints of the digest: preferences, preview, send now, history (thin)."""

from __future__ import annotations

import uuid
from datetime import date
from email.header import Header
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from upswing.account.deps import Admin, AnyUser
from upswing.account.models import User
from upswing.core.deps import AppSettings, DbSession
from upswing.core.errors import NotFoundError
from upswing.digest import preferences as prefs
from upswing.digest import service
from upswing.digest.schemas import DigestRead, PreferencesRead, PreferencesUpdate, SendRequest

router = APIRouter(prefix="/api/v1", tags=["digest"])


def _actor(user: User) -> str:
    return f"user:{user.username}"


@router.get("/digest/preferences", response_model=PreferencesRead, operation_id="digest_preferences_get")
def my_preferences(user: AnyUser, session: DbSession, settings: AppSettings) -> PreferencesRead:
    """Your digest preferences in force, where each comes from, and the ones you set yourself."""
    return prefs.read_user(session, user, settings)


@router.patch("/digest/preferences", response_model=PreferencesRead, operation_id="digest_preferences_update")
def update_my_preferences(body: PreferencesUpdate, user: AnyUser, session: DbSession,
                          settings: AppSettings) -> PreferencesRead:
    """Set your own preferences (``null`` inherits your team's default again)."""
    prefs.update(session, body, actor=_actor(user), user_id=user.id)
    session.commit()
    return prefs.read_user(session, user, settings)


@router.get("/digest/preferences/users/{user_id}", response_model=PreferencesRead,
            operation_id="digest_preferences_user_get")
def user_preferences(user_id: uuid.UUID, admin: Admin, session: DbSession, settings: AppSettings) -> PreferencesRead:
    target = session.get(User, user_id)
    if target is None:
        raise NotFoundError(f"user {user_id} not found")
    return prefs.read_user(session, target, settings)


@router.patch("/digest/preferences/users/{user_id}", response_model=PreferencesRead,
              operation_id="digest_preferences_user_update")
def update_user_preferences(user_id: uuid.UUID, body: PreferencesUpdate, admin: Admin, session: DbSession,
                            settings: AppSettings) -> PreferencesRead:
    target = session.get(User, user_id)
    if target is None:
        raise NotFoundError(f"user {user_id} not found")
    prefs.update(session, body, actor=_actor(admin), user_id=target.id)
    session.commit()
    return prefs.read_user(session, target, settings)


@router.get("/digest/preferences/teams/{team_id}", response_model=PreferencesRead,
            operation_id="digest_preferences_team_get")
def team_defaults(team_id: uuid.UUID, admin: Admin, session: DbSession) -> PreferencesRead:
    """A team's defaults (its members inherit each field they do not set)."""
    return prefs.read_team(session, team_id)


@router.patch("/digest/preferences/teams/{team_id}", response_model=PreferencesRead,
              operation_id="digest_preferences_team_update")
def update_team_defaults(team_id: uuid.UUID, body: PreferencesUpdate, admin: Admin,
                         session: DbSession) -> PreferencesRead:
    prefs.update(session, body, actor=_actor(admin), team_id=team_id)
    session.commit()
    return prefs.read_team(session, team_id)


def subject_header(subject: str) -> str:
    """The subject as an HTTP header value: RFC 2047 encoded words (headers are ASCII), on one line. A folded value
    ("\n " between words) is not a valid HTTP header (the server drops the connection); decoders ignore the space
    between encoded words."""
    return Header(subject, "utf-8").encode(linesep="")


@router.get("/digest/preview", operation_id="digest_preview", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}, "text/plain": {}}}})
def preview(user: AnyUser, session: DbSession, settings: AppSettings,
            format: Annotated[Literal["html", "text"], Query(description="html or text")] = "html",
            on: Annotated[date | None, Query(alias="date", description="As of this local date's send time")] = None,
            of: Annotated[str | None, Query(alias="user", description="Whose: a username or user id (managers: "
                                                                       "their team's; admins: anyone's)")] = None,
            ) -> Response:
    """The digest as it would be sent now (or on ``date``); nothing is sent. The subject is in ``X-Subject``
    (RFC 2047 encoded)."""
    subject, body = service.preview(session, user, user_id=service.user_named(session, of), local_date=on, fmt=format,
                                    settings=settings)
    headers = {"X-Subject": subject_header(subject)}
    if format == "text":
        return PlainTextResponse(body, headers=headers)
    return HTMLResponse(body, headers=headers)


@router.post("/digest/send", response_model=DigestRead, status_code=201, operation_id="digest_send")
def send(body: SendRequest, user: AnyUser, session: DbSession, settings: AppSettings) -> DigestRead:
    """Make today's digest now and queue its e-mail (409 if it was made today already, unless ``force``)."""
    digest = service.send_now(session, user, user_id=body.user_id, force=body.force, settings=settings)
    session.commit()
    return service.read(session, [digest])[0]


@router.get("/digests", response_model=list[DigestRead], operation_id="digests_list")
def list_digests(user: AnyUser, session: DbSession,
                 of: Annotated[str | None, Query(alias="user", description="Whose: a username or user id "
                                                                           "(default: yours)")] = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[DigestRead]:
    """Digests made, newest first, with their e-mail's state."""
    return service.list_digests(session, user, user_id=service.user_named(session, of), limit=limit)
