"""The dashboard's sign-in: the refresh token only in an HttpOnly, SameSite=Strict cookie, a CSRF check on refresh,
and logout revoking the session (both databases)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from factories import PASSWORD, make_user
from upswing.account.models import Role


def test_browser_session_cookies_csrf_and_logout(app: Any, db_session: Session) -> None:
    from fastapi.testclient import TestClient

    make_user(db_session, Role.AGENT, username="browser.agent")
    db_session.commit()
    client = TestClient(app, base_url="https://testserver")  # the cookies are Secure outside development
    signed_in = client.post("/api/v1/auth/session", data={"username": "browser.agent", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert "refresh_token" not in body and body["access_token"] and body["csrf_token"]
    cookies = signed_in.headers.get_list("set-cookie")
    refresh_cookie = next(c for c in cookies if c.startswith("upswing_refresh="))
    assert "HttpOnly" in refresh_cookie and "SameSite=strict" in refresh_cookie and "Secure" in refresh_cookie
    assert "Path=/api/v1/auth/session" in refresh_cookie
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
                      ).json()["username"] == "browser.agent"

    assert client.post("/api/v1/auth/session/refresh").status_code == 403  # no CSRF header
    assert client.post("/api/v1/auth/session/refresh", headers={"X-CSRF-Token": "forged"}).status_code == 403
    renewed = client.post("/api/v1/auth/session/refresh", headers={"X-CSRF-Token": body["csrf_token"]})
    assert renewed.status_code == 200 and renewed.json()["access_token"] != body["access_token"]

    assert client.post("/api/v1/auth/session/logout").status_code == 204
    old = renewed.json()["access_token"]
    assert client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    csrf = renewed.json()["csrf_token"]
    client.cookies.set("upswing_csrf", csrf)
    assert client.post("/api/v1/auth/session/refresh", headers={"X-CSRF-Token": csrf}).status_code == 401


def test_wrong_password_sets_no_cookie(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.AGENT, username="browser.other")
    db_session.commit()
    refused = client.post("/api/v1/auth/session", data={"username": "browser.other", "password": "nope-nope"})
    assert refused.status_code == 401 and "set-cookie" not in refused.headers


def test_the_app_is_served_for_deep_links_but_not_for_api_paths(client: Any) -> None:
    page = client.get("/leads/some-lead")
    assert page.status_code in (200, 503) and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] in ("no-cache", "no-store")
    assert client.get("/api/v1/no-such-thing").status_code == 404
