"""Must show: ``upswing audit verify`` fails on a tampered row. Tampering needs the append-only triggers out of
the way: on SQLite the test drops and re-creates them, on PostgreSQL it disables them (as superuser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from upswing.audit.service import record, seal_all, verify
from upswing.core.db import make_engine
from upswing.settings import get_settings


def tamper(connection: Connection, statement: str, entry_id: int) -> None:
    """Run an UPDATE/DELETE of one entry (``:id``) behind the triggers' back, then put them back."""
    if connection.dialect.name == "sqlite":
        triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                           "AND tbl_name = 'audit_log'")).all()
        for name, _ in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text(statement), {"id": entry_id})
        for _, sql in triggers:
            connection.execute(text(sql))
    else:
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER ALL"))
        connection.execute(text(statement), {"id": entry_id})
        connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER ALL"))


def _refused(session: Session, statement: str, entry_id: int) -> None:
    nested = session.begin_nested()
    try:
        session.execute(text(statement), {"id": entry_id})
        raise AssertionError(f"went through: {statement}")
    except Exception as exc:  # either driver's error
        assert "append-only" in str(exc), exc
    nested.rollback()


def test_the_triggers_refuse_edits_but_sealing(db_session: Session) -> None:
    entry = record(db_session, actor="cli:test", action="lead.update", entity_type="lead", entity_id="x")
    db_session.commit()
    _refused(db_session, "UPDATE audit_log SET actor = 'someone else' WHERE id = :id", entry.id)
    _refused(db_session, "DELETE FROM audit_log WHERE id = :id", entry.id)
    # Sealing while changing the content is not sealing.
    _refused(db_session, "UPDATE audit_log SET seq = 999999, prev_hash = 'a', hash = 'b', action = 'x' "
                         "WHERE id = :id", entry.id)
    assert seal_all(db_session) == 1
    # A sealed entry stays as it was sealed.
    _refused(db_session, "UPDATE audit_log SET prev_hash = 'a', hash = 'b' WHERE id = :id", entry.id)
    _refused(db_session, "UPDATE audit_log SET seq = NULL, prev_hash = '', hash = '' WHERE id = :id", entry.id)


def test_verify_names_the_first_tampered_entry(db_session: Session) -> None:
    entries = [record(db_session, actor="user:ann", action="lead.view", entity_type="lead", entity_id=str(n))
               for n in range(5)]
    seal_all(db_session)
    for entry in entries:
        db_session.refresh(entry)
    report = verify(db_session)
    assert report.intact and report.first_broken_id is None and report.last_id == entries[-1].id
    assert report.entries >= 5 and report.last_hash == entries[-1].hash

    tamper(db_session.connection(), "UPDATE audit_log SET actor = 'user:eve' WHERE id = :id", entries[2].id)
    broken = verify(db_session)
    assert (broken.intact, broken.first_broken_id) == (False, entries[2].id)


def test_verify_detects_a_deleted_entry(db_session: Session) -> None:
    entries = [record(db_session, actor="user:ann", action="lead.view", entity_type="lead", entity_id=str(n))
               for n in range(3)]
    seal_all(db_session)
    tamper(db_session.connection(), "DELETE FROM audit_log WHERE id = :id", entries[1].id)
    assert verify(db_session).first_broken_id == entries[2].id  # its link to the previous entry is gone


def test_cli_verify_exit_codes(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        assert cli("privacy", "dsar", "create", "--type", "access", "--email", email).exit_code == 0
    intact = cli("audit", "verify")
    assert intact.exit_code == 0 and "audit log intact: 3 entries" in intact.output

    engine = make_engine(get_settings().sqlalchemy_url)
    with engine.begin() as connection:
        second = connection.execute(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1")).scalar_one()
        tamper(connection, "UPDATE audit_log SET action = 'privacy.dsar.erase' WHERE id = :id", second)
    engine.dispose()
    tampered = cli("audit", "verify")
    assert tampered.exit_code == 1
    assert f"first broken entry id {second}" in tampered.output
