"""The audit log is chained by a sealer, not by each writer: entries are appended without reading the previous
hash (no global lock on every write), and ``audit.seal`` links them in order (``seq``, ``prev_hash``, ``hash``).
The append-only guard now lets exactly that happen: an unsealed entry (empty hash) may be sealed once; nothing
else may change and nothing may be deleted.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEAL_ONLY = ("OLD.seq IS NULL AND NEW.seq IS NOT NULL AND OLD.hash = '' AND NEW.hash <> '' "
              "AND OLD.prev_hash = '' AND NEW.prev_hash <> '' AND NEW.id = OLD.id AND NEW.at = OLD.at "
              "AND NEW.actor = OLD.actor AND NEW.action = OLD.action AND NEW.entity_type = OLD.entity_type "
              "AND NEW.entity_id IS NOT DISTINCT FROM OLD.entity_id AND NEW.details = OLD.details")
POSTGRES_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'UPDATE' AND {_SEAL_ONLY} THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'audit_log is append-only'; END $$"
)
POSTGRES_OLD_GUARD = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
)
SQLITE_GUARD = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN NOT ("
    + _SEAL_ONLY.replace("IS NOT DISTINCT FROM", "IS")
    + ") BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
SQLITE_OLD_GUARD = ("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
    # Entries written so far were chained in id order by their writers: that order is their place in the chain.
    op.execute("UPDATE audit_log SET seq = id")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('uq_audit_log_seq', ['seq'], unique=True)
        batch_op.create_index('ix_audit_log_unsealed', ['id'], unique=False,
                              postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))
    if postgres:
        op.execute(POSTGRES_GUARD)
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    else:
        op.execute(SQLITE_GUARD)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(POSTGRES_OLD_GUARD)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_unsealed')
        batch_op.drop_index('uq_audit_log_seq')
    # A plain DROP COLUMN: a batch rebuild of the table would drop its other append-only trigger with it.
    op.execute("ALTER TABLE audit_log DROP COLUMN seq")
    if not postgres:
        op.execute(SQLITE_OLD_GUARD)
