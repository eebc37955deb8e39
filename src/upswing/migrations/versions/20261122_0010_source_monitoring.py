"""Sources: connector state, budgets, cursors, monitoring schedule and task runs.

New columns on ``sources`` are plain ADD COLUMNs with server defaults (no table rebuild on SQLite: other
tables reference ``sources``); the budget, schedule and task tables are new.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('sources', sa.Column('secrets', sa.Text(), nullable=True))
    op.add_column('sources', sa.Column('cursor', sa.Text(), nullable=True))
    op.add_column('sources', sa.Column('budgets', JSON, server_default=sa.text("'{}'"), nullable=False))
    op.add_column('sources', sa.Column('consecutive_failures', sa.Integer(), server_default=sa.text('0'),
                                       nullable=False))
    op.add_column('sources', sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('sources', sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('source_budget_usage',
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_budget_usage_source_id_sources'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'name', 'day', name=op.f('pk_source_budget_usage'))
    )
    op.create_table('source_lead_schedule',
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_lead_schedule_source_id_sources'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_source_lead_schedule_lead_id_leads'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'lead_id', name=op.f('pk_source_lead_schedule'))
    )
    op.create_index('ix_source_lead_schedule_source_id_next_due_at', 'source_lead_schedule',
                    ['source_id', 'next_due_at'], unique=False)

    op.create_table('task_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('args', JSON, nullable=False),
    sa.Column('kwargs', JSON, nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=200), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_runs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_task_runs_idempotency_key'))
    )
    op.create_index('ix_task_runs_status_run_after', 'task_runs', ['status', 'run_after'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_task_runs_status_run_after', table_name='task_runs')
    op.drop_table('task_runs')
    op.drop_index('ix_source_lead_schedule_source_id_next_due_at', table_name='source_lead_schedule')
    op.drop_table('source_lead_schedule')
    op.drop_table('source_budget_usage')
    # SQLite 3.35+ drops a plain column without a table rebuild
    for column in ('last_error_at', 'last_run_at', 'consecutive_failures', 'budgets', 'cursor', 'secrets'):
        op.drop_column('sources', column)
