"""Privacy: the data-subject request queue and erasure tombstones.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("regime", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("subject_lead_ids", JSON, nullable=False),
        sa.Column("subject_encrypted", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("outcome", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("type IN ('access', 'erasure', 'correction', 'opt_out')",
                           name=op.f("ck_privacy_requests_type")),
        sa.CheckConstraint("status IN ('received', 'acknowledged', 'in_progress', 'completed', 'rejected')",
                           name=op.f("ck_privacy_requests_status")),
        sa.CheckConstraint("regime IN ('gdpr', 'ccpa')", name=op.f("ck_privacy_requests_regime")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index("ix_privacy_requests_status_due", "privacy_requests", ["status", "due_at"], unique=False)
    op.create_table(
        "privacy_tombstones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value_index", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('email', 'phone', 'linkedin', 'name_birth_date')",
                           name=op.f("ck_privacy_tombstones_kind")),
        sa.ForeignKeyConstraint(["request_id"], ["privacy_requests.id"],
                                name=op.f("fk_privacy_tombstones_request_id_privacy_requests"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_tombstones")),
        sa.UniqueConstraint("kind", "value_index", name=op.f("uq_privacy_tombstones_kind_value_index")),
    )


def downgrade() -> None:
    op.drop_table("privacy_tombstones")
    op.drop_index("ix_privacy_requests_status_due", table_name="privacy_requests")
    op.drop_table("privacy_requests")
