from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import PASSWORD, make_user
from upswing.account.models import Role
from upswing.audit.models import AuditEntry


def _login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_password_login_gives_working_access_and_refresh_tokens(client: Any, db_session: Session) -> None:
    user = make_user(db_session, Role.MANAGER, username="maria")
    db_session.commit()
    assert user.password_hash.startswith("$argon2")

    response = _login(client, "maria", PASSWORD)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == "maria"

    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    # A refresh token is not an access token, and vice versa.
    assert client.get("/api/v1/users/me",
                      headers={"Authorization": f"Bearer {tokens['refresh_token']}"}).status_code == 401
    assert client.post("/api/v1/auth/refresh",
                       json={"refresh_token": tokens["access_token"]}).status_code == 401


def test_wrong_password_unknown_user_and_inactive_user_are_refused(client: Any, db_session: Session) -> None:
    user = make_user(db_session, Role.AGENT, username="sam")
    make_user(db_session, Role.AGENT, username="gone").is_active = False
    db_session.commit()
    assert _login(client, "sam", "wrong password").status_code == 401
    assert _login(client, "nobody", PASSWORD).status_code == 401
    assert _login(client, "gone", PASSWORD).status_code == 401
    assert _login(client, user.username, PASSWORD).status_code == 200


def test_tampered_token_is_refused(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.ADMIN, username="root-admin")
    db_session.commit()
    token = _login(client, "root-admin", PASSWORD).json()["access_token"]
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[::-1]}"
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_admin_creates_user_and_it_is_audited(app: Any, client: Any, db_session: Session) -> None:
    from factories import auth

    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    created = client.post("/api/v1/users", headers=auth(app, admin),
                          json={"username": "new.agent", "password": "s3cret-enough", "role": "agent",
                                "team": "east"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "agent"
    assert _login(client, "new.agent", "s3cret-enough").status_code == 200
    duplicate = client.post("/api/v1/users", headers=auth(app, admin),
                            json={"username": "new.agent", "password": "s3cret-enough", "role": "agent"})
    assert duplicate.status_code == 409
    actions = db_session.scalars(select(AuditEntry.action)).all()
    assert "user.create" in actions and "team.create" in actions
