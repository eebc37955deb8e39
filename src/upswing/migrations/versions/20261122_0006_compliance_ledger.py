"""Contact ledger, consents, suppressions and lead compliance flags.

New tables only (``contact_attempts``, ``contact_consents``, ``contact_suppressions``, ``lead_compliance_flags``,
``contact_blocked_windows``, ``compliance_settings``); ``leads`` is untouched.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _lead_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f(f"fk_{table}_lead_id_leads"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=True),
        sa.Column("target_type", sa.String(length=10), nullable=True),
        sa.Column("target_index", sa.String(length=64), nullable=True),
        sa.Column("target_encrypted", sa.Text(), nullable=True),
        sa.Column("target_hint", sa.String(length=80), nullable=True),
        sa.Column("autodialed", sa.Boolean(), nullable=False),
        sa.Column("conversation", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('call', 'sms', 'email', 'letter', 'social_dm', 'social_public')",
                           name=op.f("ck_contact_attempts_channel")),
        sa.CheckConstraint("direction IN ('outbound', 'inbound')", name=op.f("ck_contact_attempts_direction")),
        sa.CheckConstraint("source IN ('api', 'cli', 'import', 'crm')", name=op.f("ck_contact_attempts_source")),
        _lead_fk("contact_attempts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
    )
    op.create_index("ix_contact_attempts_lead_id_occurred_at", "contact_attempts", ["lead_id", "occurred_at"])

    op.create_table(
        "contact_consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("target_index", sa.String(length=64), nullable=False),
        sa.Column("target_encrypted", sa.Text(), nullable=False),
        sa.Column("target_hint", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("granted_by", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("reassigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reassigned_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _lead_fk("contact_consents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_consents")),
    )
    op.create_index("ix_contact_consents_lead_id_target_index", "contact_consents", ["lead_id", "target_index"])

    op.create_table(
        "contact_suppressions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_index", sa.String(length=64), nullable=False),
        sa.Column("target_hint", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("target_kind IN ('phone', 'email', 'address', 'social')",
                           name=op.f("ck_contact_suppressions_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_suppressions")),
        sa.UniqueConstraint("target_index", name=op.f("uq_contact_suppressions_target_index")),
    )

    op.create_table(
        "lead_compliance_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("flag", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=200), nullable=True),
        sa.Column("clear_note", sa.Text(), nullable=True),
        sa.CheckConstraint("flag IN ('cease', 'attorney', 'bankruptcy', 'deceased', 'dispute')",
                           name=op.f("ck_lead_compliance_flags_flag")),
        _lead_fk("lead_compliance_flags"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_compliance_flags")),
    )
    op.create_index("ix_lead_compliance_flags_lead_id_flag", "lead_compliance_flags", ["lead_id", "flag"])

    op.create_table(
        "contact_blocked_windows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("end_time", sa.String(length=5), nullable=False),
        sa.Column("days", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _lead_fk("contact_blocked_windows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_blocked_windows")),
    )
    op.create_index("ix_contact_blocked_windows_lead_id", "contact_blocked_windows", ["lead_id"])

    op.create_table(
        "compliance_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_compliance_settings")),
    )


def downgrade() -> None:
    op.drop_table("compliance_settings")
    op.drop_index("ix_contact_blocked_windows_lead_id", table_name="contact_blocked_windows")
    op.drop_table("contact_blocked_windows")
    op.drop_index("ix_lead_compliance_flags_lead_id_flag", table_name="lead_compliance_flags")
    op.drop_table("lead_compliance_flags")
    op.drop_table("contact_suppressions")
    op.drop_index("ix_contact_consents_lead_id_target_index", table_name="contact_consents")
    op.drop_table("contact_consents")
    op.drop_index("ix_contact_attempts_lead_id_occurred_at", table_name="contact_attempts")
    op.drop_table("contact_attempts")
