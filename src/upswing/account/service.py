from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from upswing.account import throttle, tokens
from upswing.account.models import AuthSession, RefreshToken, Role, Team, User
from upswing.account.schemas import AlertPreferences, Token, UnlockResult, UserCreate, UserUpdate
from upswing.account.security import hash_password, verify_password
from upswing.audit import service as audit
from upswing.core.db import utcnow
from upswing.core.errors import ConflictError, NotFoundError, ValidationFailedError
from upswing.settings import Settings

# A fixed hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = hash_password("not-a-real-password")


def get_or_create_team(session: Session, name: str, *, actor: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
        audit.record(session, actor=actor, action="team.create", entity_type="team", entity_id=team.id,
                     details={"name": name})
    return team


def get_team_by_name(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFoundError(f"team '{name}' does not exist")
    return team


def create_user(session: Session, data: UserCreate, *, actor: str) -> User:
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise ConflictError(f"user '{data.username}' already exists")
    team = get_or_create_team(session, data.team, actor=actor) if data.team else None
    user = User(username=data.username, email=data.email, full_name=data.full_name,
                password_hash=hash_password(data.password), role=data.role.value,
                team_id=team.id if team else None)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", entity_type="user", entity_id=user.id,
                 details={"username": user.username, "role": user.role, "team": data.team})
    return user


def update_user(session: Session, user_id: uuid.UUID, data: UserUpdate, *, actor: str) -> User:
    """Change a user's role, team, status or password (an admin's reset). A new password or a deactivation ends
    every token the user holds; a change that would leave no active admin is refused."""
    user = get_user(session, user_id)
    demoted = data.role is not None and data.role.value != Role.ADMIN.value
    if user.role == Role.ADMIN.value and user.is_active and (demoted or data.is_active is False):
        _keep_an_active_admin(session, user)
    changes: dict[str, object] = {}
    if data.role is not None and data.role.value != user.role:
        user.role = changes["role"] = data.role.value
    if data.team is not None:
        team = get_team_by_name(session, data.team)
        if team.id != user.team_id:
            user.team_id = team.id
            changes["team"] = team.name
    if data.is_active is not None and data.is_active != user.is_active:
        user.is_active = changes["is_active"] = data.is_active
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        changes["password"] = "changed"  # noqa: S105 - records that it changed, not the value
    if "email" in data.model_fields_set and data.email != user.email:
        user.email = data.email
        changes["email"] = "changed"
    if data.preferences is not None:
        changes.update(_apply_preferences(user, data.preferences))
    if changes:
        audit.record(session, actor=actor, action="user.update", entity_type="user", entity_id=user.id,
                     details=changes)
    if "password" in changes or changes.get("is_active") is False:
        tokens.revoke_all(session, user, "password_reset" if "password" in changes else "deactivated")
    session.flush()
    return user


def update_preferences(session: Session, user: User, preferences: AlertPreferences, *, actor: str) -> User:
    """Change a user's own alert preferences (time zone, quiet hours, days away, hourly cap)."""
    changes = _apply_preferences(user, preferences)
    if changes:
        audit.record(session, actor=actor, action="user.preferences", entity_type="user", entity_id=user.id,
                     details=changes)
    session.flush()
    return user


def _apply_preferences(user: User, preferences: AlertPreferences) -> dict[str, object]:
    changes: dict[str, object] = {}
    for name in sorted(preferences.model_fields_set):
        value = getattr(preferences, name)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changes[name] = value.isoformat() if hasattr(value, "isoformat") else value
    if user.away_from and user.away_until and user.away_until < user.away_from:
        raise ValidationFailedError("away_until is before away_from",
                                    [{"field": "away_until", "message": "is before away_from"}])
    if (user.quiet_hours_start is None) != (user.quiet_hours_end is None):
        raise ValidationFailedError("quiet_hours_start and quiet_hours_end go together",
                                    [{"field": "quiet_hours_end", "message": "set both quiet hours or neither"}])
    return changes


def _keep_an_active_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate ``user`` when no other active admin would be left.

    Every active admin's row is locked (on PostgreSQL; SQLite serializes writers) in one order, so two admins
    demoting each other at the same moment cannot both succeed: the second sees the first's change."""
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
                             .order_by(User.id).with_for_update()).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise ConflictError(f"'{user.username}' is the last active admin: make another user an admin first")


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def get_user_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user '{username}' not found")
    return user


def _check_password(session: Session, username: str, password: str) -> tuple[User | None, bool]:
    """The account of that name (if any) and whether the password opens it. The hash is computed every time
    (against a dummy for an unknown name, before looking at the account's status), so timing tells nothing."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None, False
    return user, verify_password(password, user.password_hash) and user.is_active


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of a sign-in attempt: tokens, or ``retry_after`` seconds of lockout (the credentials were not
    checked), or neither (refused)."""

    tokens: Token | None = None
    retry_after: int = 0


def _refused(session: Session, settings: Settings, user: User | None, attempt: tuple[throttle.Scope, ...],
             now: datetime, *, actor: str = "anonymous", action: str = "auth.login_failed") -> None:
    """Count a failed attempt against the account name and the address; audit it and the lockouts it starts."""
    audit.record(session, actor=actor, action=action, entity_type="user", entity_id=user.id if user else None)
    reset_after = timedelta(hours=settings.login_failure_reset_hours)
    for lockout in throttle.record_failure(session, attempt, now, reset_after=reset_after):
        account = lockout.scope == "account"
        audit.record(session, actor="system", action="auth.lockout",
                     entity_type="user" if account else "client_address",
                     entity_id=(user.id if user else None) if account else lockout.key,
                     details={"scope": lockout.scope, "key": lockout.key, "failures": lockout.failures,
                              "seconds": lockout.seconds})


def sign_in(session: Session, settings: Settings, username: str, password: str, *, address: str,
            now: datetime | None = None) -> SignIn:
    """The password sign-in, throttled per account name and per client address (``throttle``). A locked-out
    attempt is answered without checking anything, the same way for every name; an unknown name is counted
    and answered like a wrong password."""
    now = now or utcnow()
    attempt = throttle.scopes(settings, username=username, address=address)
    wait = throttle.retry_after(session, [scope.key for scope in attempt], now)
    if wait:
        return SignIn(retry_after=wait)
    user, ok = _check_password(session, username, password)
    if user is None or not ok:
        _refused(session, settings, user, attempt, now)
        return SignIn()
    throttle.forget(session, attempt[0].key, now)  # an account's failures end with a success; an address's decay
    audit.record(session, actor=f"user:{user.username}", action="auth.login", entity_type="user",
                 entity_id=user.id)
    return SignIn(tokens=tokens.start_session(session, settings, user, now=now))


def change_password(session: Session, settings: Settings, user: User, current_password: str, new_password: str,
                    *, address: str, now: datetime | None = None) -> SignIn:
    """A user changes their own password. The current one is checked like a sign-in (a wrong one counts as a
    failure, a lockout refuses); then every token the user holds ends and a new session starts for the caller."""
    now = now or utcnow()
    attempt = throttle.scopes(settings, username=user.username, address=address)
    wait = throttle.retry_after(session, [scope.key for scope in attempt], now)
    if wait:
        return SignIn(retry_after=wait)
    if not verify_password(current_password, user.password_hash):
        _refused(session, settings, user, attempt, now, actor=f"user:{user.username}",
                 action="user.password_change_failed")
        return SignIn()
    user.password_hash = hash_password(new_password)
    revoked = tokens.revoke_all(session, user, "password_change", now=now)
    audit.record(session, actor=f"user:{user.username}", action="user.password_change", entity_type="user",
                 entity_id=user.id, details={"sessions_revoked": revoked})
    return SignIn(tokens=tokens.start_session(session, settings, user, now=now))


def sign_out(session: Session, user: User, session_id: uuid.UUID | None) -> None:
    """End one sign-in session: its refresh tokens and access tokens stop working."""
    if session_id is not None:
        tokens.revoke_session(session, session_id, "logout")
    audit.record(session, actor=f"user:{user.username}", action="auth.logout", entity_type="user",
                 entity_id=user.id, details={"session_id": str(session_id) if session_id else None})


def sign_out_everywhere(session: Session, user: User, *, actor: str) -> int:
    """End every session and token of ``user``; returns the number of sessions revoked."""
    revoked = tokens.revoke_all(session, user, "logout_all")
    audit.record(session, actor=actor, action="auth.logout_all", entity_type="user", entity_id=user.id,
                 details={"sessions_revoked": revoked})
    return revoked


def _unlock(session: Session, key: str, *, actor: str, entity_type: str, entity_id: object,
            scope: str) -> UnlockResult:
    failures, was_locked = throttle.forget(session, key, utcnow())
    audit.record(session, actor=actor, action="auth.unlock", entity_type=entity_type, entity_id=entity_id,
                 details={"scope": scope, "key": key, "failures": failures, "was_locked": was_locked})
    return UnlockResult(was_locked=was_locked, failures=failures)


def unlock_user(session: Session, settings: Settings, user: User, *, actor: str) -> UnlockResult:
    """Clear the failed sign-ins and any lockout of ``user``'s account name."""
    return _unlock(session, throttle.account_key(settings, user.username), actor=actor, entity_type="user",
                   entity_id=user.id, scope="account")


def unlock_address(session: Session, settings: Settings, address: str, *, actor: str) -> UnlockResult:
    """Clear the failed sign-ins and any lockout of a client address."""
    key = throttle.address_key(settings, address)
    return _unlock(session, key, actor=actor, entity_type="client_address", entity_id=key, scope="address")


def purge_expired(session: Session, settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what no longer decides anything: refresh tokens past their expiry (a used one is kept until then,
    to recognize its reuse), sessions expired or revoked a day ago (their tokens are refused without them), and
    throttle rows whose failures are forgotten and lockout over."""
    now = now or utcnow()
    return {
        "refresh_tokens": _deleted(session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now))),
        "sessions": _deleted(session.execute(delete(AuthSession).where(
            (AuthSession.expires_at < now) | (AuthSession.revoked_at < now - timedelta(days=1))))),
        "login_throttle": throttle.purge(session, now, reset_after=timedelta(hours=settings.login_failure_reset_hours)),
    }


def _deleted(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))
