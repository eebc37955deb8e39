"""Field-level encryption of lead PII with blind indexes; PostgreSQL row-level security.

* ``leads.email``, ``emails``, ``phone``, ``phones``, ``address`` and the new ``birth_date`` hold AES-GCM
  ciphertexts (TEXT); the new ``email_bidx``, ``phone_bidx`` and ``contact_bidx`` hold blind indexes. Existing
  rows are encrypted here with the key ring of the settings (``UPSWING_ENCRYPTION_KEYS``).
* SQLite cannot change a column's type, and rebuilding ``leads`` (batch mode) would DROP it, which cascades
  to every lead's signals and observations with foreign keys on: the new type goes into a new column, the old
  one is dropped with the native ``ALTER TABLE … DROP COLUMN`` and the new one renamed (no rebuild).
* PostgreSQL: row-level security on ``leads`` and the tables that belong to a lead (docs/security.md), and a
  NOLOGIN role ``upswing_app`` that requests switch to, so policies also hold when the app connects as a
  superuser. Roles belong to the whole server: downgrade leaves the role in place (other databases may use it).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from upswing.core.crypto import EncryptedJSON, EncryptedText, EncryptedType, get_key_ring
from upswing.lead.pii import blind_indexes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BATCH = 2000
#: The encrypted lead columns and their types (the contexts are the model's: ``leads.<column>``).
ENCRYPTED: dict[str, EncryptedType] = {
    "email": EncryptedText("leads.email"), "emails": EncryptedJSON("leads.emails"),
    "phone": EncryptedText("leads.phone"), "phones": EncryptedJSON("leads.phones"),
    "address": EncryptedText("leads.address"),
}
#: Columns whose SQL type changes, with their type before this migration.
RETYPED: dict[str, sa.types.TypeEngine[Any]] = {
    "email": sa.String(length=320), "emails": JSON, "phone": sa.String(length=32), "phones": JSON,
}
#: Tables whose rows belong to a lead, and how a row names its lead (the policy's condition).
LEAD_OWNED = {
    "signals": "lead_id IN (SELECT id FROM leads)",
    "observations": "lead_id IN (SELECT id FROM leads)",
    "matches": "lead_id IN (SELECT id FROM leads)",
    "non_matches": "lead_id IN (SELECT id FROM leads)",
    "evidence": "signal_id IN (SELECT id FROM signals)",
    # The contact ledger and the guard's records (migration 0006).
    "contact_attempts": "lead_id IN (SELECT id FROM leads)",
    "contact_consents": "lead_id IN (SELECT id FROM leads)",
    "lead_compliance_flags": "lead_id IN (SELECT id FROM leads)",
    "contact_blocked_windows": "lead_id IN (SELECT id FROM leads)",
}


def _leads(*columns: str) -> sa.TableClause:
    return sa.table("leads", sa.column("id", sa.Uuid()), *(sa.column(name, sa.Text()) for name in columns))


def _batches(columns: Sequence[str]) -> Iterator[list[sa.Row[Any]]]:
    """Every lead's id and these columns (raw text), a batch at a time, in id order."""
    leads = _leads(*columns)
    bind = op.get_bind()
    last = None
    while True:
        query = sa.select(leads).order_by(leads.c.id).limit(BATCH)
        if last is not None:
            query = query.where(leads.c.id > last)
        rows = list(bind.execute(query))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text else []


def _encrypt_rows(targets: dict[str, str]) -> None:
    """Encrypt every lead's PII (``targets``: source column → column the ciphertext goes to) and set the
    blind indexes."""
    ring = get_key_ring()
    sources = list(ENCRYPTED)
    leads = _leads(*targets.values(), "email_bidx", "phone_bidx")
    contact = sa.table("leads", sa.column("id", sa.Uuid()), sa.column("contact_bidx", JSON))
    for rows in _batches(sources):
        updates, contacts = [], []
        for row in rows:
            plain = {name: getattr(row, name) for name in sources}
            plain["emails"], plain["phones"] = _json(plain["emails"]), _json(plain["phones"])
            values = {targets[name]: ENCRYPTED[name].seal(plain[name], ring) for name in sources}
            indexes = blind_indexes(plain["email"], plain["emails"], plain["phone"], plain["phones"], ring)
            values.update(_id=row.id, email_bidx=indexes["email_bidx"], phone_bidx=indexes["phone_bidx"])
            updates.append(values)
            contacts.append({"_id": row.id, "contact_bidx": indexes["contact_bidx"]})
        op.get_bind().execute(leads.update().where(leads.c.id == sa.bindparam("_id"))
                              .values({name: sa.bindparam(name) for name in updates[0] if name != "_id"}), updates)
        op.get_bind().execute(contact.update().where(contact.c.id == sa.bindparam("_id"))
                              .values(contact_bidx=sa.bindparam("contact_bidx")), contacts)


def _decrypt_rows(targets: dict[str, str]) -> None:
    """Undo ``_encrypt_rows``: plaintext (JSON text for the lists) into ``targets``' columns."""
    ring = get_key_ring()
    sources = list(ENCRYPTED)
    leads = _leads(*targets.values())
    for rows in _batches(sources):
        updates = []
        for row in rows:
            values: dict[str, Any] = {"_id": row.id}
            for name in sources:
                value = ENCRYPTED[name].open(getattr(row, name), ring)
                if name in ("emails", "phones"):
                    value = orjson.dumps(value or []).decode()
                values[targets[name]] = value
            updates.append(values)
        op.get_bind().execute(leads.update().where(leads.c.id == sa.bindparam("_id"))
                              .values({name: sa.bindparam(name) for name in updates[0] if name != "_id"}), updates)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_leads_email", table_name="leads")
    op.add_column("leads", sa.Column("birth_date", sa.Text(), nullable=True))
    op.add_column("leads", sa.Column("email_bidx", sa.String(length=32), nullable=True))
    op.add_column("leads", sa.Column("phone_bidx", sa.String(length=32), nullable=True))
    op.add_column("leads", sa.Column("contact_bidx", JSON, server_default=sa.text("'[]'"), nullable=False))
    if dialect == "postgresql":
        op.execute("ALTER TABLE leads ALTER COLUMN email TYPE TEXT, ALTER COLUMN phone TYPE TEXT, "
                   "ALTER COLUMN emails TYPE TEXT USING emails::text, ALTER COLUMN phones TYPE TEXT USING phones::text")
        _encrypt_rows({name: name for name in ENCRYPTED})
    else:
        for name in RETYPED:
            not_null = " NOT NULL DEFAULT '[]'" if name in ("emails", "phones") else ""
            op.execute(f"ALTER TABLE leads ADD COLUMN {name}__new TEXT{not_null}")
        _encrypt_rows({name: f"{name}__new" if name in RETYPED else name for name in ENCRYPTED})
        _swap_columns("__new")
    op.create_index("ix_leads_email_bidx", "leads", ["email_bidx"], unique=False)
    op.create_index("ix_leads_phone_bidx", "leads", ["phone_bidx"], unique=False)
    if dialect == "postgresql":
        _enable_row_level_security()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _disable_row_level_security()
    op.drop_index("ix_leads_phone_bidx", table_name="leads")
    op.drop_index("ix_leads_email_bidx", table_name="leads")
    if dialect == "postgresql":
        _decrypt_rows({name: name for name in ENCRYPTED})
        op.execute("ALTER TABLE leads ALTER COLUMN email TYPE VARCHAR(320), ALTER COLUMN phone TYPE VARCHAR(32), "
                   "ALTER COLUMN emails TYPE JSONB USING emails::jsonb, "
                   "ALTER COLUMN phones TYPE JSONB USING phones::jsonb")
    else:
        for name, kind in RETYPED.items():
            declared = kind.compile(dialect=op.get_bind().dialect)
            not_null = " NOT NULL DEFAULT '[]'" if name in ("emails", "phones") else ""
            op.execute(f"ALTER TABLE leads ADD COLUMN {name}__old {declared}{not_null}")
        _decrypt_rows({name: f"{name}__old" if name in RETYPED else name for name in ENCRYPTED})
        _swap_columns("__old")
    for name in ("contact_bidx", "phone_bidx", "email_bidx", "birth_date"):
        _drop_column(name)
    op.create_index("ix_leads_email", "leads", ["email"], unique=False)


def _drop_column(name: str) -> None:
    # Native DROP COLUMN on SQLite (3.35+): alembic's would rebuild the table (see the module doc).
    op.execute(f"ALTER TABLE leads DROP COLUMN {name}")


def _swap_columns(suffix: str) -> None:
    for name in RETYPED:
        _drop_column(name)
        op.execute(f"ALTER TABLE leads RENAME COLUMN {name}{suffix} TO {name}")


# --------------------------------------------------------------------------------------------------
# PostgreSQL row-level security (see upswing.core.rls)
# --------------------------------------------------------------------------------------------------

_FUNCTIONS = {
    # No claims (CLI, workers, migrations) is the system, which sees every row; so do these roles.
    "upswing_rls_sees_all() RETURNS boolean":
        "SELECT coalesce(current_setting('upswing.role', true), '') IN ('', 'system', 'admin', 'manager', 'viewer')",
    "upswing_rls_is_agent() RETURNS boolean":
        "SELECT coalesce(current_setting('upswing.role', true), '') = 'agent'",
    "upswing_rls_user_id() RETURNS uuid": "SELECT nullif(current_setting('upswing.user_id', true), '')::uuid",
    "upswing_rls_team_id() RETURNS uuid": "SELECT nullif(current_setting('upswing.team_id', true), '')::uuid",
}
# Each function is wrapped in a sub-select so it is evaluated once per statement, not once per row.
_LEAD_POLICY = ("(SELECT upswing_rls_sees_all()) OR ((SELECT upswing_rls_is_agent()) AND "
                "(assignee_id = (SELECT upswing_rls_user_id()) OR team_id = (SELECT upswing_rls_team_id())))")


def _enable_row_level_security() -> None:
    for signature, body in _FUNCTIONS.items():
        op.execute(f"CREATE OR REPLACE FUNCTION {signature} LANGUAGE sql STABLE AS $$ {body} $$")
    op.execute(f"CREATE POLICY upswing_row_scope ON leads USING ({_LEAD_POLICY})")
    for table, condition in LEAD_OWNED.items():
        # Reading needs a visible lead; writing may also leave a row without one (an unlinked observation).
        op.execute(f"CREATE POLICY upswing_row_scope ON {table} USING ((SELECT upswing_rls_sees_all()) OR "
                   f"{condition}) WITH CHECK ((SELECT upswing_rls_sees_all()) OR "
                   f"{condition.split(' IN ')[0]} IS NULL OR {condition})")
    for table in ("leads", *LEAD_OWNED):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # The role requests run as (``upswing.core.rls``). CREATE ROLE races with a concurrent migration of another
    # database on the same server (tests), and a migrating role without CREATEROLE cannot make it at all.
    op.execute("""
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 160000 THEN
        -- A CREATEROLE (non-superuser) creator may then also SET ROLE to what it creates (PostgreSQL 16+).
        PERFORM set_config('createrole_self_grant', 'set', true);
    END IF;
    CREATE ROLE upswing_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create role upswing_app: row-level security then relies on the app connecting as a '
                     'role that is neither superuser nor BYPASSRLS (see docs/security.md)';
END $$""")
    op.execute("""
DO $$
DECLARE
    may_set boolean;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'upswing_app') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO upswing_app', current_schema());
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO upswing_app',
                       current_schema());
        EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO upswing_app', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES '
                       'TO upswing_app', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES '
                       'TO upswing_app', current_schema());
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO upswing_app', current_database());
        -- PostgreSQL 16+: the CREATEROLE owner that created the role holds it WITH ADMIN but not SET; only
        -- 'SET' says requests may switch to it ('SET' is unknown before 16, hence the two branches).
        IF current_setting('server_version_num')::int >= 160000 THEN
            may_set := pg_has_role(session_user, 'upswing_app', 'SET');
        ELSE
            may_set := pg_has_role(session_user, 'upswing_app', 'MEMBER');
        END IF;
        IF NOT may_set THEN
            BEGIN
                EXECUTE format('GRANT upswing_app TO %I', session_user);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot grant upswing_app to %: requests will not switch to it', session_user;
            END;
        END IF;
    END IF;
END $$""")


def _disable_row_level_security() -> None:
    for table in ("leads", *LEAD_OWNED):
        op.execute(f"DROP POLICY IF EXISTS upswing_row_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for signature in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature.split(' RETURNS ')[0]}")
    op.execute("""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'upswing_app') THEN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM upswing_app', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM upswing_app',
                       current_schema());
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM upswing_app', current_schema());
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM upswing_app', current_schema());
        EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM upswing_app', current_schema());
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM upswing_app', current_database());
    END IF;
END $$""")
