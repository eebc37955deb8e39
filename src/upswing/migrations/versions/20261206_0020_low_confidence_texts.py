"""The low-confidence list: a text's top guess when it did not clear its type's confidence threshold.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite): observations keep their indexes and triggers.
    op.add_column('observations', sa.Column('guess_label', sa.String(length=40), nullable=True))
    op.add_column('observations', sa.Column('guess_confidence', sa.Float(), nullable=True))
    op.create_index('ix_observations_guess', 'observations', ['guess_label', 'observed_at'], unique=False,
                    postgresql_where=sa.text('guess_label IS NOT NULL'),
                    sqlite_where=sa.text('guess_label IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_observations_guess', table_name='observations')
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_column('guess_confidence')
        batch_op.drop_column('guess_label')
