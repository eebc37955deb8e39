"""Text observations: classifier feedback (labelled examples).

Text observations need no new columns (``observations.kind = 'text'``); the feedback on signals that
people confirm or correct is kept as labelled examples for retraining.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "labelled_examples",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("previous_label", sa.String(length=40), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=True),
        sa.Column("observation_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'company')", name=op.f("ck_labelled_examples_kind")),
        sa.ForeignKeyConstraint(["signal_id"], ["signals.id"], name=op.f("fk_labelled_examples_signal_id_signals"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["observation_id"], ["observations.id"],
                                name=op.f("fk_labelled_examples_observation_id_observations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_labelled_examples_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labelled_examples")),
    )
    op.create_index("ix_labelled_examples_kind_created_at", "labelled_examples", ["kind", "created_at"])
    op.create_index("ix_labelled_examples_signal_id", "labelled_examples", ["signal_id"])
    op.create_index("ix_labelled_examples_observation_id", "labelled_examples", ["observation_id"])


def downgrade() -> None:
    op.drop_index("ix_labelled_examples_observation_id", table_name="labelled_examples")
    op.drop_index("ix_labelled_examples_signal_id", table_name="labelled_examples")
    op.drop_index("ix_labelled_examples_kind_created_at", table_name="labelled_examples")
    op.drop_table("labelled_examples")
