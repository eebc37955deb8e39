"""Row-level security on PostgreSQL: each request's transactions carry the user's claims.

The services scope every query by role (``lead.access``); on PostgreSQL the database enforces the same rule
as well, so a query that forgets the filter still cannot return another agent's leads. Migration 0007
creates the policies (on ``leads`` and the tables whose rows belong to a lead) and the NOLOGIN role
``upswing_app``; at the start of each transaction of an authenticated request this module sets

* ``upswing.user_id``, ``upswing.role``, ``upswing.team_id`` (``set_config(…, true)``: transaction-local),
  which the policies read: admin, manager and viewer see every row, an agent the leads assigned to them or
  to their team (and those leads' signals, observations, evidence and matches), any other role nothing;
* the role ``UPSWING_DB_RLS_ROLE`` (default ``upswing_app``) when the connecting role may switch to it: a
  superuser (or a BYPASSRLS role) skips every policy, so the request must not run as one.

Without claims (the CLI, workers, migrations) a connection is the system and sees every row. The claims live
in ``session.info`` and an ``after_begin`` hook applies them again to every transaction the session starts
(after a commit too). SQLite has no row-level security: there the services' scoping is the only guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session, SessionTransaction

from upswing.settings import Settings, get_settings

_INFO_KEY = "upswing_rls_claims"

_APPLY_SQL = """
SELECT set_config('upswing.user_id', :user_id, true), set_config('upswing.role', :role, true),
       set_config('upswing.team_id', :team_id, true),
       CASE WHEN :db_role = '' THEN NULL
            WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :db_role) THEN NULL
            WHEN pg_has_role(session_user, :db_role, '{privilege}') THEN set_config('role', :db_role, true)
       END
"""
# PostgreSQL 16 split membership: a CREATEROLE (non-superuser) owner that created the role holds it WITH ADMIN
# but not SET (createrole_self_grant), so "MEMBER" no longer means "may SET ROLE"; 'SET' asks exactly that.
_APPLY = text(_APPLY_SQL.format(privilege="MEMBER"))
_APPLY_16 = text(_APPLY_SQL.format(privilege="SET"))
_CLEAR = text("""
SELECT set_config('upswing.user_id', '', true), set_config('upswing.role', '', true),
       set_config('upswing.team_id', '', true), set_config('role', 'none', true)
""")


@dataclass(frozen=True, slots=True)
class Claims:
    """Who the database is acting for (empty strings are "none"), and the role to run as."""

    user_id: str
    role: str
    team_id: str
    db_role: str = ""

    @classmethod
    def of(cls, user: Any, db_role: str = "") -> Claims:
        """The claims of a user (anything with ``id``, ``role`` and ``team_id``)."""
        team = getattr(user, "team_id", None)
        return cls(user_id=str(user.id), role=str(user.role), team_id=str(team) if team is not None else "",
                   db_role=db_role)


def claims_of(session: Session) -> Claims | None:
    claims = session.info.get(_INFO_KEY)
    return claims if isinstance(claims, Claims) else None


def act_as(session: Session, user: Any, settings: Settings | None = None) -> None:
    """From now on the session's transactions carry this user's claims (the current one too)."""
    settings = settings or get_settings()
    if not settings.db_row_level_security:
        return
    claims = Claims.of(user, settings.db_rls_role)
    session.info[_INFO_KEY] = claims
    if session.in_transaction():
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _apply(connection, claims)


def stop_acting(session: Session) -> None:
    """Forget the claims. A session bound to a connection whose transaction outlives it (a caller's, as in
    tests) also has them cleared there: committing a nested transaction hands its settings to the outer one."""
    if session.info.pop(_INFO_KEY, None) is None:
        return
    bind = session.bind
    if isinstance(bind, Connection) and bind.dialect.name == "postgresql" and bind.in_transaction():
        bind.execute(_CLEAR)


def _apply(connection: Connection, claims: Claims) -> None:
    version = connection.dialect.server_version_info or (0,)
    connection.execute(_APPLY_16 if version >= (16,) else _APPLY,
                       {"user_id": claims.user_id, "role": claims.role, "team_id": claims.team_id,
                        "db_role": claims.db_role})


@event.listens_for(Session, "after_begin")
def _claims_on_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    claims = session.info.get(_INFO_KEY)
    if claims is not None and connection.dialect.name == "postgresql":
        _apply(connection, claims)
