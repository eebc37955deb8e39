"""Discovery of prospect companies: runs (criteria, progress, budget used), prospects (where each was found, its
intents, its review), and on ``leads`` the lead's kind (person or company), ``discovered`` and ``review_state``.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
#: Row-level security of ``discovery_prospects``: the rows of the leads the user sees (as 0016's lead-owned tables).
_SEES_ALL = "(SELECT upswing_rls_sees_all())"
_LEAD_EXISTS = "EXISTS (SELECT 1 FROM leads l WHERE l.id = discovery_prospects.lead_id)"


def upgrade() -> None:
    op.add_column('leads', sa.Column('kind', sa.String(length=10), server_default=sa.text("'person'"),
                                     nullable=False))
    op.add_column('leads', sa.Column('discovered', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('leads', sa.Column('review_state', sa.String(length=10), nullable=True))
    op.create_index('ix_leads_review_state', 'leads', ['review_state'], unique=False,
                    postgresql_where=sa.text('review_state IS NOT NULL'),
                    sqlite_where=sa.text('review_state IS NOT NULL'))
    op.create_table('discovery_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('criteria', JSON, nullable=False),
    sa.Column('area', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('radius_km', sa.Float(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=True),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('fetched', sa.Integer(), nullable=False),
    sa.Column('classified', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('budget_used', JSON, nullable=False),
    sa.Column('errors', JSON, nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('task_run_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'stopped_budget', 'failed')",
                       name=op.f('ck_discovery_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discovery_runs'))
    )
    op.create_index('ix_discovery_runs_created_at', 'discovery_runs', ['created_at'], unique=False)
    op.create_table('discovery_prospects',
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.Column('site', sa.String(length=300), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('found_by', JSON, nullable=False),
    sa.Column('intents', JSON, nullable=False),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_discovery_prospects_lead_id_leads'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['discovery_runs.id'],
                            name=op.f('fk_discovery_prospects_run_id_discovery_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('lead_id', name=op.f('pk_discovery_prospects'))
    )
    op.create_index('ix_discovery_prospects_run_id', 'discovery_prospects', ['run_id'], unique=False)
    op.create_index('ix_discovery_prospects_site', 'discovery_prospects', ['site'], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE POLICY upswing_row_scope ON discovery_prospects USING ({_SEES_ALL} OR {_LEAD_EXISTS}) "
                   f"WITH CHECK ({_SEES_ALL} OR {_LEAD_EXISTS})")
        op.execute("ALTER TABLE discovery_prospects ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE discovery_prospects FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index('ix_discovery_prospects_site', table_name='discovery_prospects')
    op.drop_index('ix_discovery_prospects_run_id', table_name='discovery_prospects')
    op.drop_table('discovery_prospects')
    op.drop_index('ix_discovery_runs_created_at', table_name='discovery_runs')
    op.drop_table('discovery_runs')
    op.drop_index('ix_leads_review_state', table_name='leads')
    # Native DROP COLUMN (SQLite 3.35+), as in 0024: a batch drop would rebuild ``leads`` on SQLite.
    op.execute('ALTER TABLE leads DROP COLUMN review_state')
    op.execute('ALTER TABLE leads DROP COLUMN discovered')
    op.execute('ALTER TABLE leads DROP COLUMN kind')
