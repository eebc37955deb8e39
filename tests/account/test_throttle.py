"""Login throttling: failures per account name and per client address, growing lockouts, 429 + Retry-After, the
same answers for unknown names, and admins clearing a lockout (docs/security.md, "Login throttling")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import PASSWORD, auth, make_user
from upswing.account import service, throttle
from upswing.account.models import LoginThrottle, Role
from upswing.account.security import decode_token, verify_password
from upswing.account.service import SignIn
from upswing.account.tokens import check_access
from upswing.audit.models import AuditEntry
from upswing.core.db import transaction, utcnow
from upswing.settings import Settings, get_settings

ADDRESS = "203.0.113.5"
POLICY = throttle.Policy(max_failures=5, first_lockout_seconds=60, max_lockout_seconds=3600)


@pytest.mark.parametrize(("failures", "seconds"), [
    (0, 0), (4, 0),          # below the threshold: no lockout
    (5, 60), (6, 120), (7, 240), (8, 480), (10, 1920),  # doubling with each further failure
    (11, 3600), (12, 3600), (500, 3600),                 # capped (60 · 2⁶ = 3840 > 3600)
])
def test_lockout_grows_from_the_threshold_and_is_capped(failures: int, seconds: int) -> None:
    assert throttle.lockout_seconds(failures, POLICY) == seconds


def test_keys_are_keyed_hashes_that_never_hold_the_name_or_address(app: Any) -> None:
    settings: Settings = app.state.settings
    key = throttle.account_key(settings, "Maria")
    assert key == throttle.account_key(settings, " maria ") and "maria" not in key.lower()
    assert throttle.address_key(settings, ADDRESS) != throttle.account_key(settings, ADDRESS)
    assert ADDRESS not in throttle.address_key(settings, ADDRESS)
    other = settings.model_copy(update={"secret_key": settings.secret_key.__class__("x" * 40)})
    assert throttle.account_key(other, "maria") != key  # not computable without the secret


def _attempts(session: Session, settings: Settings, username: str, *, address: str = ADDRESS
              ) -> Callable[[str, datetime], SignIn]:
    def attempt(password: str, at: datetime) -> SignIn:
        return service.sign_in(session, settings, username, password, address=address, now=at)

    return attempt


def test_account_lockouts_grow_with_each_failure_and_a_success_ends_them(app: Any, db_session: Session) -> None:
    make_user(db_session, Role.AGENT, username="hal")
    attempt = _attempts(db_session, app.state.settings, "hal")
    t0 = utcnow()
    for second in range(5):  # the fifth failure starts the first lockout: 60 s
        assert attempt("wrong", t0 + timedelta(seconds=second)) == SignIn()
    assert attempt(PASSWORD, t0 + timedelta(seconds=5)) == SignIn(retry_after=59)  # not even the right password
    assert attempt(PASSWORD, t0 + timedelta(seconds=63.5)) == SignIn(retry_after=1)  # rounded up, never 0

    assert attempt("wrong", t0 + timedelta(seconds=65)) == SignIn()  # sixth failure: 120 s
    assert attempt(PASSWORD, t0 + timedelta(seconds=66)) == SignIn(retry_after=119)
    assert attempt("wrong", t0 + timedelta(seconds=186)) == SignIn()  # seventh: 240 s
    assert attempt(PASSWORD, t0 + timedelta(seconds=187)) == SignIn(retry_after=239)

    signed_in = attempt(PASSWORD, t0 + timedelta(seconds=427))
    assert signed_in.tokens is not None and signed_in.retry_after == 0
    # The success cleared the account's count: the next lockout is the first one again.
    for second in range(428, 433):
        assert attempt("wrong", t0 + timedelta(seconds=second)) == SignIn()
    assert attempt(PASSWORD, t0 + timedelta(seconds=433)) == SignIn(retry_after=59)

    lockouts = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.lockout")).all()
    assert [(entry.details["scope"], entry.details["failures"], entry.details["seconds"]) for entry in lockouts] == [
        ("account", 5, 60), ("account", 6, 120), ("account", 7, 240), ("account", 5, 60)]


def test_failures_are_forgotten_after_the_reset_period(app: Any, db_session: Session) -> None:
    settings: Settings = app.state.settings
    make_user(db_session, Role.AGENT, username="ida")
    attempt = _attempts(db_session, settings, "ida")
    t0 = utcnow()
    for second in range(4):
        assert attempt("wrong", t0 + timedelta(seconds=second)) == SignIn()
    later = t0 + timedelta(hours=settings.login_failure_reset_hours, seconds=10)
    assert attempt("wrong", later) == SignIn()  # counts as the first again, not the fifth
    row = db_session.get(LoginThrottle, throttle.account_key(settings, "ida"))
    assert row is not None and row.failures == 1 and row.locked_until is None
    assert attempt(PASSWORD, later + timedelta(seconds=1)).tokens is not None


def test_address_counts_failures_across_names_and_a_success_does_not_clear_it(app: Any, db_session: Session) -> None:
    settings = app.state.settings.model_copy(update={"login_address_max_failures": 3})
    make_user(db_session, Role.AGENT, username="jo")
    t0 = utcnow()
    assert service.sign_in(db_session, settings, "guess-1", "x", address=ADDRESS, now=t0) == SignIn()
    assert service.sign_in(db_session, settings, "guess-2", "x", address=ADDRESS, now=t0) == SignIn()
    # A success from the address (an attacker's own account, say) does not wipe the address's count …
    assert service.sign_in(db_session, settings, "jo", PASSWORD, address=ADDRESS, now=t0).tokens is not None
    assert service.sign_in(db_session, settings, "guess-3", "x", address=ADDRESS, now=t0) == SignIn()
    # … so the third failure locked the address, for every name, while other addresses go on.
    assert service.sign_in(db_session, settings, "jo", PASSWORD, address=ADDRESS, now=t0) == SignIn(retry_after=60)
    elsewhere = service.sign_in(db_session, settings, "jo", PASSWORD, address="198.51.100.9", now=t0)
    assert elsewhere.tokens is not None


def test_locked_out_answer_is_429_with_retry_after_and_the_same_for_unknown_names(
        client: Any, db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    make_user(db_session, Role.AGENT, username="maria")
    db_session.commit()
    frozen = utcnow()  # a slow hash on a busy machine must not turn "60" into "59"
    monkeypatch.setattr("upswing.account.service.utcnow", lambda: frozen)

    def login(username: str, password: str) -> tuple[int, Any, dict[str, str | None]]:
        response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        return (response.status_code, response.json(),
                {name: response.headers.get(name) for name in ("retry-after", "www-authenticate")})

    answers = {}
    for name in ("maria", "nobody-at-all"):
        refusals = [login(name, "wrong guess") for _ in range(5)]
        locked = [login(name, PASSWORD), login(name, "wrong guess")]
        answers[name] = (refusals, locked)
    assert answers["maria"] == answers["nobody-at-all"]
    refusals, locked = answers["maria"]
    assert refusals == [(401, {"detail": "Incorrect username or password"},
                         {"retry-after": None, "www-authenticate": "Bearer"})] * 5
    assert locked == [(429, {"detail": "Too many failed sign-in attempts; try again later"},
                       {"retry-after": "60", "www-authenticate": None})] * 2


def test_the_password_hash_runs_for_unknown_and_inactive_accounts(db_session: Session, app: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Similar timing: every checked attempt computes one argon2 verification, whatever the account."""
    make_user(db_session, Role.AGENT, username="kim")
    make_user(db_session, Role.AGENT, username="gone").is_active = False
    db_session.flush()
    calls: list[str] = []

    def spy(password: str, password_hash: str) -> bool:
        calls.append(password_hash)
        return verify_password(password, password_hash)

    monkeypatch.setattr("upswing.account.service.verify_password", spy)
    for name, password in (("kim", "wrong"), ("nobody", PASSWORD), ("gone", PASSWORD), ("kim", PASSWORD)):
        calls.clear()
        service.sign_in(db_session, app.state.settings, name, password, address=ADDRESS)
        assert len(calls) == 1 and calls[0].startswith("$argon2"), name


def test_address_lockout_spares_other_addresses_and_an_admin_clears_it(app: Any, client: Any,
                                                                       db_session: Session) -> None:
    app.state.settings = app.state.settings.model_copy(update={"login_address_max_failures": 3})
    admin = make_user(db_session, Role.ADMIN)
    make_user(db_session, Role.AGENT, username="lou")
    db_session.commit()
    for guess in ("a", "b", "c"):  # the default test client's address: "testclient"
        assert client.post("/api/v1/auth/token", data={"username": f"guess-{guess}", "password": "x"}
                           ).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "lou", "password": PASSWORD}).status_code == 429
    with TestClient(app, client=("198.51.100.9", 50000)) as other:
        assert other.post("/api/v1/auth/token", data={"username": "lou", "password": PASSWORD}).status_code == 200

    cleared = client.post("/api/v1/auth/unlock-address", headers=auth(app, admin), json={"address": "testclient"})
    assert cleared.status_code == 200 and cleared.json() == {"was_locked": True, "failures": 3}
    assert client.post("/api/v1/auth/token", data={"username": "lou", "password": PASSWORD}).status_code == 200
    lockout = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.lockout")).one()
    assert lockout.entity_type == "client_address" and lockout.details["scope"] == "address"
    assert "testclient" not in str(lockout.details)


def test_admin_unlocks_a_locked_account(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN, username="root")
    maria = make_user(db_session, Role.AGENT, username="maria")
    db_session.commit()
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "maria", "password": "wrong"})
    assert client.post("/api/v1/auth/token", data={"username": "maria", "password": PASSWORD}).status_code == 429

    cleared = client.post(f"/api/v1/users/{maria.id}/unlock", headers=auth(app, admin))
    assert cleared.status_code == 200 and cleared.json() == {"was_locked": True, "failures": 5}
    assert client.post("/api/v1/auth/token", data={"username": "maria", "password": PASSWORD}).status_code == 200
    again = client.post(f"/api/v1/users/{maria.id}/unlock", headers=auth(app, admin))
    assert again.json() == {"was_locked": False, "failures": 0}

    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action.in_(("auth.lockout", "auth.unlock")))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor, e.entity_id, e.details["scope"]) for e in entries] == [
        ("auth.lockout", "system", str(maria.id), "account"),
        ("auth.unlock", "user:root", str(maria.id), "account"),
        ("auth.unlock", "user:root", str(maria.id), "account"),
    ]


def test_purge_deletes_only_what_no_longer_decides_anything(app: Any, db_session: Session) -> None:
    settings: Settings = app.state.settings
    make_user(db_session, Role.AGENT, username="max")
    long_ago = utcnow() - timedelta(days=30)
    service.sign_in(db_session, settings, "max", "wrong", address=ADDRESS, now=long_ago)  # forgotten by now
    old = service.sign_in(db_session, settings, "max", PASSWORD, address="198.51.100.1", now=long_ago)
    recent = service.sign_in(db_session, settings, "max", PASSWORD, address=ADDRESS)
    service.sign_in(db_session, settings, "someone", "wrong", address="198.51.100.2")  # a fresh failure
    assert old.tokens is not None and recent.tokens is not None

    purged = service.purge_expired(db_session, settings)
    assert purged == {"refresh_tokens": 1, "sessions": 1, "login_throttle": 1}  # the 30-day-old ones
    assert service.purge_expired(db_session, settings) == {"refresh_tokens": 0, "sessions": 0, "login_throttle": 0}
    assert db_session.scalar(select(LoginThrottle.failures).where(
        LoginThrottle.key == throttle.account_key(settings, "someone"))) == 1


def test_cli_unlock_password_and_logout(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("users", "create", "boss", "--role", "admin", UPSWING_NEW_USER_PASSWORD="long-password-1"
               ).exit_code == 0
    settings = get_settings()
    now = utcnow()
    with transaction() as session:
        for _ in range(5):
            service.sign_in(session, settings, "boss", "wrong", address=ADDRESS, now=now)
        assert service.sign_in(session, settings, "boss", "long-password-1", address=ADDRESS, now=now
                               ).retry_after == 60

    unlocked = cli("users", "unlock", "boss")
    assert unlocked.exit_code == 0 and "boss: was locked out; 5 failed sign-in(s) cleared" in unlocked.output
    assert cli("users", "unlock").exit_code == 1  # neither a name nor an address
    with transaction() as session:
        issued = service.sign_in(session, settings, "boss", "long-password-1", address=ADDRESS).tokens
    assert issued is not None
    claims = decode_token(settings, issued.access_token, "access")

    reset = cli("users", "password", "boss", UPSWING_NEW_USER_PASSWORD="another-password-2")
    assert reset.exit_code == 0, reset.output
    with transaction() as session:
        assert check_access(session, claims) is None  # the reset ended the session
        assert service.sign_in(session, settings, "boss", "long-password-1", address="198.51.100.3") == SignIn()
        again = service.sign_in(session, settings, "boss", "another-password-2", address="198.51.100.3").tokens
    assert again is not None

    signed_out = cli("users", "logout", "boss")
    assert signed_out.exit_code == 0 and "out of 1 session(s)" in signed_out.output
    with transaction() as session:
        assert check_access(session, decode_token(settings, again.access_token, "access")) is None
    assert cli("users", "unlock", "nobody").exit_code == 1
