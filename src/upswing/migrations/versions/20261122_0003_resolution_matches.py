"""Resolution: ``matches`` (every link decision, with its explanation), ``non_matches`` (known non-matches),
and the linker's blocking indexes on ``leads`` (a family name or a given name within a state, and the
other name).

The leads indexes are plain CREATE INDEX statements: no table rebuild on SQLite.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('observation_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('agreed', JSON, nullable=False),
    sa.Column('disagreed', JSON, nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('linked', 'review', 'unlinked', 'rejected', 'approved')", name=op.f('ck_matches_outcome')),
    sa.CheckConstraint("method IN ('deterministic', 'probabilistic')", name=op.f('ck_matches_method')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_matches_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_matches_observation_id_observations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches')),
    sa.UniqueConstraint('observation_id', 'lead_id', name=op.f('uq_matches_observation_id_lead_id'))
    )
    op.create_index('ix_matches_outcome_created', 'matches', ['outcome', 'created_at'], unique=False)
    op.create_index('ix_matches_lead_id', 'matches', ['lead_id'], unique=False)

    op.create_table('non_matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('subject_key', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_non_matches_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_non_matches')),
    sa.UniqueConstraint('lead_id', 'subject_key', name=op.f('uq_non_matches_lead_id_subject_key'))
    )
    op.create_index('ix_non_matches_subject_key', 'non_matches', ['subject_key'], unique=False)

    op.create_index('ix_leads_last_state_first', 'leads', ['last_name', 'state', 'first_name'], unique=False)
    op.create_index('ix_leads_first_state_last', 'leads', ['first_name', 'state', 'last_name'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_leads_first_state_last', table_name='leads')
    op.drop_index('ix_leads_last_state_first', table_name='leads')
    op.drop_index('ix_non_matches_subject_key', table_name='non_matches')
    op.drop_table('non_matches')
    op.drop_index('ix_matches_lead_id', table_name='matches')
    op.drop_index('ix_matches_outcome_created', table_name='matches')
    op.drop_table('matches')
