"""Login throttling: failed sign-ins counted per account name and per client address, in the database so that
every server process sees the same counts, with lockouts that grow (docs/security.md, "Login throttling").

``lockout_seconds`` is the policy: pure, no database and no clock. The rest keeps the counters in
``login_throttle``: one row per key, written by one upsert per failed sign-in (both keys in one statement) and
one update when a lockout starts; a successful sign-in deletes the account's row. Keys are keyed hashes
(``account_key``, ``address_key``): the table never holds a name someone typed (it may be a password typed in
the wrong field) nor an address. An unknown name is counted like a known one, so a lockout says nothing about
whether an account exists.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from upswing.account.models import LoginThrottle
from upswing.settings import Settings

ScopeName = Literal["account", "address"]


@dataclass(frozen=True, slots=True)
class Policy:
    """Failures before the first lockout, how long it lasts (doubling with each further failure) and its cap."""

    max_failures: int
    first_lockout_seconds: int
    max_lockout_seconds: int


def lockout_seconds(failures: int, policy: Policy) -> int:
    """How long ``failures`` failures in a row lock the key out: nothing below the threshold, the first lockout at
    it, twice as long with each failure after it, never longer than the cap."""
    if failures < policy.max_failures:
        return 0
    doublings = min(failures - policy.max_failures, 62)  # the cap is reached long before; keeps the int small
    return min(policy.first_lockout_seconds << doublings, policy.max_lockout_seconds)


@dataclass(frozen=True, slots=True)
class Scope:
    """What one sign-in attempt is counted against: its account name or its client address."""

    name: ScopeName
    key: str
    policy: Policy


@dataclass(frozen=True, slots=True)
class Lockout:
    scope: ScopeName
    key: str
    failures: int
    seconds: int


def _mac(settings: Settings, kind: str, value: str) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, f"login-throttle\0{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]


def account_key(settings: Settings, username: str) -> str:
    return "u:" + _mac(settings, "account", username.strip().casefold())


def address_key(settings: Settings, address: str) -> str:
    return "a:" + _mac(settings, "address", address.strip().lower())


def scopes(settings: Settings, *, username: str, address: str) -> tuple[Scope, Scope]:
    """The account and the address scope of a sign-in attempt, with their policies from the settings."""
    def policy(max_failures: int) -> Policy:
        return Policy(max_failures, settings.login_lockout_seconds, settings.login_lockout_max_seconds)

    return (Scope("account", account_key(settings, username), policy(settings.login_account_max_failures)),
            Scope("address", address_key(settings, address), policy(settings.login_address_max_failures)))


def retry_after(session: Session, keys: list[str], now: datetime) -> int:
    """Whole seconds until no key is locked out any more (0: none is)."""
    until = session.scalar(select(LoginThrottle.locked_until)
                           .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
                           .order_by(LoginThrottle.locked_until.desc()).limit(1))
    if until is None:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))  # rounded up: never "retry after 0 seconds"


def record_failure(session: Session, attempt: tuple[Scope, ...], now: datetime, *,
                   reset_after: timedelta) -> list[Lockout]:
    """Count a failed sign-in against each scope; returns the lockouts it starts.

    Atomic across processes: the counter is incremented by the database (an upsert), and a count whose last
    failure is older than ``reset_after`` starts again at 1."""
    insert: Any = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(
        [{"key": scope.key, "failures": 1, "last_failure_at": now, "locked_until": None} for scope in attempt])
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={"failures": case((LoginThrottle.last_failure_at < now - reset_after, 1),
                               else_=LoginThrottle.failures + 1),
              "last_failure_at": statement.excluded.last_failure_at},
    ).returning(LoginThrottle.key, LoginThrottle.failures)
    counts = {row.key: row.failures for row in session.execute(statement)}
    lockouts = []
    for scope in attempt:
        seconds = lockout_seconds(counts[scope.key], scope.policy)
        if seconds:
            session.execute(update(LoginThrottle).where(LoginThrottle.key == scope.key)
                            .values(locked_until=now + timedelta(seconds=seconds)))
            lockouts.append(Lockout(scope.name, scope.key, counts[scope.key], seconds))
    return lockouts


def forget(session: Session, key: str, now: datetime) -> tuple[int, bool]:
    """Clear a key's failures and lockout; returns the failures it had and whether it was locked out."""
    row = session.execute(delete(LoginThrottle).where(LoginThrottle.key == key)
                          .returning(LoginThrottle.failures, LoginThrottle.locked_until)).first()
    if row is None:
        return 0, False
    return row.failures, row.locked_until is not None and row.locked_until > now


def purge(session: Session, now: datetime, *, reset_after: timedelta) -> int:
    """Delete the rows whose failures are forgotten and whose lockout is over."""
    result = session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - reset_after,
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until <= now)))
    return int(getattr(result, "rowcount", 0) or 0)
