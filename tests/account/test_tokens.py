"""Sign-in sessions and revocation: a password change or reset ends every token, refresh tokens rotate and a reused
one revokes its family, logging out ends the session (docs/security.md, "Tokens and revocation")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from factories import PASSWORD, auth, make_user
from upswing.account import tokens
from upswing.account.models import AuthSession, RefreshToken, Role
from upswing.account.security import create_token, decode_token
from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow

NEW_PASSWORD = "a brand new passphrase"


def _login(client: Any, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _me(client: Any, access_token: str) -> int:
    return int(client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access_token}"}).status_code)


def _refresh(client: Any, refresh_token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def test_password_change_revokes_every_access_and_refresh_token(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.AGENT, username="ana")
    db_session.commit()
    laptop, phone = _login(client, "ana"), _login(client, "ana")
    assert _me(client, laptop["access_token"]) == _me(client, phone["access_token"]) == 200

    changed = client.post("/api/v1/users/me/password", headers=_bearer(laptop["access_token"]),
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    assert set(fresh) == {"access_token", "refresh_token", "token_type", "expires_in"}

    for old in (laptop, phone):  # the session that asked and the other one alike
        assert _me(client, old["access_token"]) == 401
        assert _refresh(client, old["refresh_token"]).status_code == 401
    assert _me(client, fresh["access_token"]) == 200  # the caller goes on with the tokens in the response
    assert _refresh(client, fresh["refresh_token"]).status_code == 200
    assert client.post("/api/v1/auth/token", data={"username": "ana", "password": PASSWORD}).status_code == 401
    _login(client, "ana", NEW_PASSWORD)
    reasons = db_session.scalars(select(AuthSession.revoked_reason).where(AuthSession.revoked_at.is_not(None)))
    assert list(reasons) == ["password_change", "password_change"]


def test_wrong_current_password_changes_nothing_and_counts_as_a_failure(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.AGENT, username="ben")
    db_session.commit()
    session = _login(client, "ben")
    refused = client.post("/api/v1/users/me/password", headers=_bearer(session["access_token"]),
                          json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert refused.status_code == 403
    assert _me(client, session["access_token"]) == 200
    _login(client, "ben")  # the password is unchanged
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "user")).all()
    assert "user.password_change_failed" in actions and "user.password_change" not in actions


def test_admin_password_reset_and_deactivation_revoke_the_users_tokens(app: Any, client: Any,
                                                                      db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    agent = make_user(db_session, Role.AGENT, username="cleo")
    db_session.commit()
    before = _login(client, "cleo")

    reset = client.patch(f"/api/v1/users/{agent.id}", headers=auth(app, admin), json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    assert _me(client, before["access_token"]) == 401
    assert _refresh(client, before["refresh_token"]).status_code == 401

    after = _login(client, "cleo", NEW_PASSWORD)
    assert client.patch(f"/api/v1/users/{agent.id}", headers=auth(app, admin),
                        json={"is_active": False}).status_code == 200
    assert client.patch(f"/api/v1/users/{agent.id}", headers=auth(app, admin),
                        json={"is_active": True}).status_code == 200
    # Reactivating the account does not bring back the tokens that deactivating it ended.
    assert _me(client, after["access_token"]) == 401
    assert _refresh(client, after["refresh_token"]).status_code == 401


def test_refresh_token_rotates_and_works_once(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.VIEWER, username="dev")
    db_session.commit()
    first = _login(client, "dev")

    second = _refresh(client, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert _me(client, rotated["access_token"]) == 200
    used = db_session.scalars(select(RefreshToken).where(RefreshToken.used_at.is_not(None))).all()
    assert len(used) == 1 and used[0].replaced_by is not None  # the chain of the family is kept

    assert _refresh(client, first["refresh_token"]).status_code == 401  # used already


def test_reused_refresh_token_revokes_its_whole_family(client: Any, db_session: Session) -> None:
    user = make_user(db_session, Role.AGENT, username="eve")
    db_session.commit()
    stolen = _login(client, "eve")
    other_device = _login(client, "eve")
    legitimate = _refresh(client, stolen["refresh_token"]).json()  # the rightful client rotates

    replay = _refresh(client, stolen["refresh_token"])  # the thief replays the old one
    assert replay.status_code == 401

    # Everything of that family is dead: the newest refresh token and the access tokens issued with it.
    assert _refresh(client, legitimate["refresh_token"]).status_code == 401
    assert _me(client, legitimate["access_token"]) == 401
    assert _me(client, stolen["access_token"]) == 401
    # Another sign-in of the same user is another family, untouched.
    assert _me(client, other_device["access_token"]) == 200
    assert _refresh(client, other_device["refresh_token"]).status_code == 200
    reuse = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.refresh_reuse")).all()
    assert [(entry.entity_id, entry.actor) for entry in reuse] == [(str(user.id), "anonymous")]
    assert db_session.scalar(select(AuthSession.revoked_reason)
                             .where(AuthSession.revoked_at.is_not(None))) == "refresh_reuse"


def test_logout_ends_the_session_and_only_that_one(client: Any, db_session: Session) -> None:
    make_user(db_session, Role.MANAGER, username="fay")
    db_session.commit()
    leaving, staying = _login(client, "fay"), _login(client, "fay")
    refreshed = _refresh(client, leaving["refresh_token"]).json()  # access tokens of every rotation go too

    assert client.post("/api/v1/auth/logout", headers=_bearer(refreshed["access_token"])).status_code == 204
    assert _me(client, refreshed["access_token"]) == 401
    assert _me(client, leaving["access_token"]) == 401
    assert _refresh(client, refreshed["refresh_token"]).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=_bearer(refreshed["access_token"])).status_code == 401
    assert _me(client, staying["access_token"]) == 200


def test_logout_all_ends_every_session_and_older_tokens(app: Any, client: Any, db_session: Session) -> None:
    user = make_user(db_session, Role.AGENT, username="gus")
    db_session.commit()
    one, two = _login(client, "gus"), _login(client, "gus")
    # A token minted without a session (as scripts with the secret key do), issued before the sign-out.
    minted = create_token(app.state.settings, user.id, user.role, "access", now=utcnow() - timedelta(minutes=1))
    assert _me(client, minted) == 200

    assert client.post("/api/v1/auth/logout-all", headers=_bearer(one["access_token"])).status_code == 204
    for access in (one["access_token"], two["access_token"], minted):
        assert _me(client, access) == 401
    for session in (one, two):
        assert _refresh(client, session["refresh_token"]).status_code == 401
    _login(client, "gus")  # signing in again works at once
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("auth.logout%"))).all()
    assert actions == ["auth.logout_all"]


def test_access_check_is_two_primary_key_look_ups(app: Any, db_session: Session) -> None:
    """The per-request cost: the user and the session, by primary key; a revoked session is refused."""
    user = make_user(db_session, Role.AGENT)
    issued = tokens.start_session(db_session, app.state.settings, user)
    db_session.commit()
    db_session.expunge_all()
    claims = decode_token(app.state.settings, issued.access_token, "access")
    statements: list[str] = []
    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
    checked = tokens.check_access(db_session, claims)
    assert checked is not None and checked[0].id == user.id and checked[1] is not None
    assert len(statements) == 2, statements
    assert "FROM users" in statements[0] and "FROM auth_sessions" in statements[1]

    assert tokens.revoke_session(db_session, checked[1], "logout")
    assert tokens.check_access(db_session, claims) is None
