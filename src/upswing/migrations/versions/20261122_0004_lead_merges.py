"""Lead deduplication: ``leads.merged_into_id`` and the ``lead_merges`` table (proposals, merges, undo).

``merged_into_id`` is a plain column added with ADD COLUMN, without a foreign key: on SQLite a foreign key
means a batch rebuild of ``leads``, whose DROP TABLE (foreign keys on) would cascade to every lead's signals
and observations. ``lead_merges`` is new and has its foreign keys.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('leads', sa.Column('merged_into_id', sa.Uuid(), nullable=True))
    op.create_index('ix_leads_merged_into_id', 'leads', ['merged_into_id'], unique=False)

    op.create_table('lead_merges',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('portfolio_id', sa.Uuid(), nullable=False),
    sa.Column('survivor_id', sa.Uuid(), nullable=False),
    sa.Column('merged_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('explanation', JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('snapshot', JSON, nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_by', sa.String(length=200), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejected_by', sa.String(length=200), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'applied', 'undone', 'rejected')", name=op.f('ck_lead_merges_status')),
    sa.CheckConstraint('survivor_id <> merged_id', name=op.f('ck_lead_merges_distinct_leads')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_lead_merges_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survivor_id'], ['leads.id'], name=op.f('fk_lead_merges_survivor_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_id'], ['leads.id'], name=op.f('fk_lead_merges_merged_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_merges'))
    )
    op.create_index('ix_lead_merges_portfolio_id_status', 'lead_merges', ['portfolio_id', 'status'], unique=False)
    op.create_index('ix_lead_merges_survivor_id', 'lead_merges', ['survivor_id'], unique=False)
    op.create_index('ix_lead_merges_merged_id', 'lead_merges', ['merged_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lead_merges_merged_id', table_name='lead_merges')
    op.drop_index('ix_lead_merges_survivor_id', table_name='lead_merges')
    op.drop_index('ix_lead_merges_portfolio_id_status', table_name='lead_merges')
    op.drop_table('lead_merges')
    op.drop_index('ix_leads_merged_into_id', table_name='leads')
    op.drop_column('leads', 'merged_into_id')  # SQLite 3.35+ drops a plain column without a table rebuild
