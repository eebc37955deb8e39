from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from upswing.account import clients, service, tokens
from upswing.account.deps import Admin, AnyUser, Authenticated, client_address
from upswing.account.models import ApiClient, User
from upswing.account.schemas import (
    AddressUnlock,
    AlertPreferences,
    ApiClientCreate,
    ApiClientRead,
    ApiClientSecret,
    ApiClientUpdate,
    BrowserToken,
    ClientToken,
    OAuthError,
    PasswordChange,
    RefreshRequest,
    TeamCreate,
    TeamRead,
    Token,
    UnlockResult,
    UserCreate,
    UserRead,
    UserUpdate,
)
from upswing.core.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/v1", tags=["auth"])

_BEARER = {"WWW-Authenticate": "Bearer"}


def _locked_out(seconds: int) -> HTTPException:
    # The same status, body and header whether or not the account exists.
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "Too many failed sign-in attempts; try again later",
                         headers={"Retry-After": str(seconds)})


@router.post("/auth/token", response_model=Token, operation_id="auth_token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession,
          settings: AppSettings) -> Token:
    result = service.sign_in(session, settings, form.username, form.password, address=client_address(request))
    session.commit()  # failures and lockouts count even though the request is refused
    if result.retry_after:
        raise _locked_out(result.retry_after)
    if result.tokens is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password", headers=_BEARER)
    return result.tokens


@router.post("/auth/refresh", response_model=Token, operation_id="auth_refresh")
def refresh(body: RefreshRequest, session: DbSession, settings: AppSettings) -> Token:
    issued = tokens.rotate(session, settings, body.refresh_token)
    session.commit()  # a reused refresh token revokes its family even though it is refused
    if issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid refresh token", headers=_BEARER)
    return issued


@router.post("/auth/logout", status_code=204, operation_id="auth_logout")
def logout(principal: Authenticated, session: DbSession) -> Response:
    """End this sign-in session: its refresh token and every access token issued with it stop working."""
    service.sign_out(session, principal.user, principal.session_id)
    session.commit()
    return Response(status_code=204)


@router.post("/auth/logout-all", status_code=204, operation_id="auth_logout_all")
def logout_all(principal: Authenticated, session: DbSession) -> Response:
    """End every session and token of the caller, on every device."""
    service.sign_out_everywhere(session, principal.user, actor=f"user:{principal.user.username}")
    session.commit()
    return Response(status_code=204)


# --------------------------------------------------------------------------------------------------
# Browser sessions (the dashboard): the refresh token in an HttpOnly, SameSite=Strict cookie scoped to these
# routes, never readable by scripts; a CSRF token (double submit: a readable cookie echoed in a header) guards the
# refresh, so another site cannot make a signed-in browser mint tokens.

REFRESH_COOKIE = "upswing_refresh"
CSRF_COOKIE = "upswing_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_PATH = "/api/v1/auth/session"


def _browser_token(response: Response, issued: Token, settings: AppSettings) -> BrowserToken:
    csrf = secrets.token_urlsafe(32)
    secure = settings.environment != "development"
    max_age = settings.refresh_token_days * 86400
    response.set_cookie(REFRESH_COOKIE, issued.refresh_token, max_age=max_age, path=_SESSION_PATH, httponly=True,
                        secure=secure, samesite="strict")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, path="/", httponly=False, secure=secure,
                        samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return BrowserToken(access_token=issued.access_token, expires_in=issued.expires_in, csrf_token=csrf)


def _clear_browser_cookies(response: Response) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=_SESSION_PATH)
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.post("/auth/session", response_model=BrowserToken, operation_id="auth_session_start")
def browser_login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, response: Response,
                  session: DbSession, settings: AppSettings) -> BrowserToken:
    """Sign in from the dashboard: like ``/auth/token``, with the refresh token set as an HttpOnly cookie."""
    return _browser_token(response, login(form, request, session, settings), settings)


@router.post("/auth/session/refresh", response_model=BrowserToken, operation_id="auth_session_refresh")
def browser_refresh(request: Request, response: Response, session: DbSession, settings: AppSettings,
                    csrf: Annotated[str | None, Header(alias=CSRF_HEADER)] = None) -> BrowserToken:
    """A new access token for the dashboard, from the refresh cookie; the CSRF header must match its cookie."""
    cookie_csrf = request.cookies.get(CSRF_COOKIE)
    if not csrf or not cookie_csrf or not hmac.compare_digest(csrf, cookie_csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{CSRF_HEADER} missing or not this browser's")
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    issued = tokens.rotate(session, settings, refresh_token) if refresh_token else None
    session.commit()  # a reused refresh token revokes its family even though it is refused
    if issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not signed in (no valid session)", headers=_BEARER)
    return _browser_token(response, issued, settings)


@router.post("/auth/session/logout", status_code=204, operation_id="auth_session_logout")
def browser_logout(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Sign out of the dashboard: the session is revoked (its refresh and access tokens stop working) and the
    cookies are cleared."""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    session_id = tokens.session_of_refresh(settings, refresh_token) if refresh_token else None
    if session_id is not None:
        tokens.revoke_session(session, session_id, "logout")
        session.commit()
    response = Response(status_code=204)
    _clear_browser_cookies(response)
    return response


@router.post("/auth/unlock-address", response_model=UnlockResult, operation_id="auth_unlock_address")
def unlock_address(body: AddressUnlock, admin: Admin, session: DbSession, settings: AppSettings) -> UnlockResult:
    result = service.unlock_address(session, settings, body.address, actor=f"user:{admin.username}")
    session.commit()
    return result


@router.post("/users/me/password", response_model=Token, operation_id="users_change_password", tags=["users"])
def change_password(body: PasswordChange, principal: Authenticated, request: Request, session: DbSession,
                    settings: AppSettings) -> Token:
    """Change one's own password: every session and token ends; the response holds this client's new ones."""
    result = service.change_password(session, settings, principal.user, body.current_password, body.new_password,
                                     address=client_address(request))
    session.commit()
    if result.retry_after:
        raise _locked_out(result.retry_after)
    if result.tokens is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Current password is incorrect")
    return result.tokens


@router.get("/users/me", response_model=UserRead, operation_id="users_me", tags=["users"])
def me(user: AnyUser) -> User:
    return user


@router.patch("/users/me", response_model=UserRead, operation_id="users_update_me", tags=["users"])
def update_me(body: AlertPreferences, user: AnyUser, session: DbSession) -> User:
    """Your alert preferences: time zone, quiet hours, days away, hourly cap."""
    service.update_preferences(session, user, body, actor=f"user:{user.username}")
    session.commit()
    return user


@router.get("/users", response_model=list[UserRead], operation_id="users_list", tags=["users"])
def list_users(_: Admin, session: DbSession) -> list[User]:
    return service.list_users(session)


@router.post("/users", response_model=UserRead, status_code=201, operation_id="users_create", tags=["users"])
def create_user(body: UserCreate, admin: Admin, session: DbSession) -> User:
    user = service.create_user(session, body, actor=f"user:{admin.username}")
    session.commit()
    return user


@router.patch("/users/{user_id}", response_model=UserRead, operation_id="users_update", tags=["users"])
def update_user(user_id: uuid.UUID, body: UserUpdate, admin: Admin, session: DbSession) -> User:
    user = service.update_user(session, user_id, body, actor=f"user:{admin.username}")
    session.commit()
    return user


@router.post("/users/{user_id}/unlock", response_model=UnlockResult, operation_id="users_unlock", tags=["users"])
def unlock_user(user_id: uuid.UUID, admin: Admin, session: DbSession, settings: AppSettings) -> UnlockResult:
    """Clear the user's failed sign-ins and lockout."""
    result = service.unlock_user(session, settings, service.get_user(session, user_id),
                                 actor=f"user:{admin.username}")
    session.commit()
    return result


@router.get("/teams", response_model=list[TeamRead], operation_id="teams_list", tags=["users"])
def list_teams(_: AnyUser, session: DbSession) -> list[object]:
    return list(service.list_teams(session))


@router.post("/teams", response_model=TeamRead, status_code=201, operation_id="teams_create", tags=["users"])
def create_team(body: TeamCreate, admin: Admin, session: DbSession) -> object:
    team = service.get_or_create_team(session, body.name, actor=f"user:{admin.username}")
    session.commit()
    return team


# --------------------------------------------------------------------------------------------------
# Machine clients: OAuth 2.0 client credentials (account/clients.py; docs/security.md, "Machine clients")

TOKEN_PATH = "/api/v1/oauth/token"  # noqa: S105 - a path, not a secret
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(exc: clients.OAuthError, basic: bool) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="upswing"' if basic else "Bearer"
    body = OAuthError(error=exc.error, error_description=exc.description, detail=exc.description)
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)


@router.post("/oauth/token", response_model=ClientToken, operation_id="oauth_token", tags=["oauth"],
             responses={400: {"model": OAuthError}, 401: {"model": OAuthError}})
def oauth_token(request: Request, session: DbSession, settings: AppSettings,
                grant_type: Annotated[str | None, Form()] = None,
                scope: Annotated[str | None, Form(description="Space-separated; default: every scope of the client")]
                = None,
                client_id: Annotated[str | None, Form()] = None,
                client_secret: Annotated[str | None, Form()] = None,
                client_assertion_type: Annotated[str | None, Form()] = None,
                client_assertion: Annotated[str | None, Form()] = None) -> Response:
    """An access token for a machine client (``grant_type=client_credentials``), authenticated by its secret
    (HTTP Basic or in the form) or a signed JWT (``private_key_jwt``, RFC 7523). Errors follow RFC 6749 §5.2."""
    token_request = clients.TokenRequest(
        grant_type=grant_type, scope=scope, client_id=client_id, client_secret=client_secret,
        client_assertion_type=client_assertion_type, client_assertion=client_assertion,
        authorization=request.headers.get("authorization"))
    audiences = [settings.public_base_url.rstrip("/") + TOKEN_PATH, str(request.url.replace(query=""))]
    try:
        issued = clients.issue_token(session, settings, token_request, address=client_address(request),
                                     audiences=audiences)
    except clients.OAuthError as exc:
        return _oauth_error(exc, basic=(token_request.authorization or "").lower().startswith("basic "))
    session.commit()
    return JSONResponse(issued.model_dump(), headers=_NO_STORE)


def _with_secret(client: ApiClient, secret: str | None) -> ApiClientSecret:
    return ApiClientSecret.model_validate({**ApiClientRead.model_validate(client).model_dump(),
                                           "client_secret": secret})


@router.get("/api-clients", response_model=list[ApiClientRead], operation_id="api_clients_list",
            tags=["api-clients"])
def list_api_clients(_: Admin, session: DbSession) -> list[ApiClient]:
    return clients.list_clients(session)


@router.post("/api-clients", response_model=ApiClientSecret, status_code=201, operation_id="api_clients_create",
             tags=["api-clients"])
def create_api_client(body: ApiClientCreate, admin: Admin, session: DbSession, response: Response,
                      settings: AppSettings) -> ApiClientSecret:
    """Register a machine client; its secret (when it has no public key) is in this answer and never again."""
    client, secret = clients.create_client(session, settings, body, actor=f"user:{admin.username}")
    session.commit()
    response.headers.update(_NO_STORE)
    return _with_secret(client, secret)


@router.get("/api-clients/{client_id}", response_model=ApiClientRead, operation_id="api_clients_get",
            tags=["api-clients"])
def get_api_client(client_id: uuid.UUID, _: Admin, session: DbSession) -> ApiClient:
    return clients.get_client(session, client_id)


@router.patch("/api-clients/{client_id}", response_model=ApiClientRead, operation_id="api_clients_update",
              tags=["api-clients"])
def update_api_client(client_id: uuid.UUID, body: ApiClientUpdate, admin: Admin, session: DbSession) -> ApiClient:
    """Change a client's name, scopes, addresses or key, or disable it (its tokens stop working)."""
    client = clients.update_client(session, client_id, body, actor=f"user:{admin.username}")
    session.commit()
    return client


@router.post("/api-clients/{client_id}/rotate-secret", response_model=ApiClientSecret,
             operation_id="api_clients_rotate_secret", tags=["api-clients"])
def rotate_api_client_secret(client_id: uuid.UUID, admin: Admin, session: DbSession, response: Response,
                             settings: AppSettings) -> ApiClientSecret:
    """A new secret, shown once: the old one and the tokens issued with it stop working."""
    client, secret = clients.rotate_secret(session, settings, client_id, actor=f"user:{admin.username}")
    session.commit()
    response.headers.update(_NO_STORE)
    return _with_secret(client, secret)


@router.delete("/api-clients/{client_id}", status_code=204, operation_id="api_clients_delete",
               tags=["api-clients"])
def delete_api_client(client_id: uuid.UUID, admin: Admin, session: DbSession) -> Response:
    clients.delete_client(session, client_id, actor=f"user:{admin.username}")
    session.commit()
    return Response(status_code=204)
