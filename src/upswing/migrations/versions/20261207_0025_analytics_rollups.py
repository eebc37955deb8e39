"""Analytics daily rollups: signals per day/team/type/source and per day/agent/type/source (funnel and outcomes),
response times per day/owner/priority (a histogram of minutes), recovery per day/owner (payments, promises, days to first payment),
observations per day/source/owner, coverage snapshots per day/owner; which days are built or dirty; and an index
on observations by the time they were stored (source health).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The histograms' lower bounds as of this revision (analytics/histogram.py): one count column per bucket.
RESPONSE_MINUTES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 75, 90, 105, 120, 150,
                    180, 210, 240, 300, 360, 420, 480, 540, 600, 660, 720, 960, 1200, 1440, 2160, 2880, 3600, 4320,
                    5760, 7200, 8640, 10080, 20160, 30240, 40320)
FIRST_PAYMENT_DAYS = (0, 1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 112, 140, 168, 196, 224, 252,
                      280, 308, 336, 364, 455, 546, 637, 728, 819, 910, 1001, 1092)
AGE_HOURS = (0, 1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24, 36, 48, 60, 72, 96, 120, 144, 168, 240, 360, 480, 600, 720,
             1440, 2160, 4320, 8760)
OUTCOMES = ('promise_to_pay', 'payment', 'no_response', 'dispute', 'wrong_person', 'conversation')
ROLLUPS = ('analytics_response_daily', 'analytics_recovery_daily', 'analytics_source_daily',
           'analytics_coverage_daily')
SIGNAL_COUNTS = ('signals', 'acknowledged', 'actioned', 'dismissed', *(f'outcome_{o}' for o in OUTCOMES))


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def _keys() -> list[sa.Column[object]]:
    return [sa.Column('day', sa.Date(), nullable=False), sa.Column('team_id', sa.Uuid(), nullable=False),
            sa.Column('assignee_id', sa.Uuid(), nullable=False)]


def upgrade() -> None:
    op.create_table('analytics_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    *_counts(*SIGNAL_COUNTS),
    sa.PrimaryKeyConstraint('day', 'team_id', 'type', 'source', name=op.f('pk_analytics_daily'))
    )
    op.create_index('ix_analytics_daily_team_day', 'analytics_daily', ['team_id', 'day'], unique=False)
    op.create_table('analytics_agent_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('assignee_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    *_counts(*SIGNAL_COUNTS),
    sa.PrimaryKeyConstraint('day', 'assignee_id', 'type', 'source', name=op.f('pk_analytics_agent_daily'))
    )
    op.create_index('ix_analytics_agent_daily_assignee_day', 'analytics_agent_daily', ['assignee_id', 'day'],
                    unique=False)
    op.create_table('analytics_response_daily',
    *_keys(),
    sa.Column('priority', sa.String(length=10), nullable=False),
    *_counts('signals', 'responded', *(f'rt_{b}' for b in RESPONSE_MINUTES)),
    sa.PrimaryKeyConstraint('day', 'team_id', 'assignee_id', 'priority', name=op.f('pk_analytics_response_daily'))
    )
    op.create_table('analytics_recovery_daily',
    *_keys(),
    *_counts('payments'),
    sa.Column('recovered', sa.Numeric(precision=16, scale=2), nullable=False),
    *_counts('payers', 'week_first_payers', 'week_last_payers', 'promises', 'promises_kept', 'promises_broken',
             'first_payers', *(f'fp_{b}' for b in FIRST_PAYMENT_DAYS)),
    sa.PrimaryKeyConstraint('day', 'team_id', 'assignee_id', name=op.f('pk_analytics_recovery_daily'))
    )
    op.create_table('analytics_source_daily',
    *_keys(),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    *_counts('observations'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_analytics_source_daily_source_id_sources'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'team_id', 'assignee_id', 'source_id', name=op.f('pk_analytics_source_daily'))
    )
    op.create_table('analytics_coverage_daily',
    *_keys(),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    *_counts('leads', 'monitored', 'never', *(f'age_{b}' for b in AGE_HOURS)),
    sa.PrimaryKeyConstraint('day', 'team_id', 'assignee_id', name=op.f('pk_analytics_coverage_daily'))
    )
    for table in ROLLUPS:
        op.create_index(f'ix_{table}_team_day', table, ['team_id', 'day'], unique=False)
        op.create_index(f'ix_{table}_assignee_day', table, ['assignee_id', 'day'], unique=False)
    op.create_table('analytics_rollup_days',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dirty_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'day', name=op.f('pk_analytics_rollup_days'))
    )
    op.create_table('analytics_rollup_cursors',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_analytics_rollup_cursors'))
    )
    op.create_index('ix_observations_created_at_source', 'observations', ['created_at', 'source_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_observations_created_at_source', table_name='observations')
    op.drop_table('analytics_rollup_cursors')
    op.drop_table('analytics_rollup_days')
    for table in reversed(ROLLUPS):
        op.drop_index(f'ix_{table}_assignee_day', table_name=table)
        op.drop_index(f'ix_{table}_team_day', table_name=table)
        op.drop_table(table)
    op.drop_index('ix_analytics_agent_daily_assignee_day', table_name='analytics_agent_daily')
    op.drop_table('analytics_agent_daily')
    op.drop_index('ix_analytics_daily_team_day', table_name='analytics_daily')
    op.drop_table('analytics_daily')
