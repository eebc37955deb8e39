"""Outcomes per lead (payments, promises, arrangements, disputes, complaints, closures) and holdout experiments
(assignments; the control group's leads and signals flagged ``holdout``).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
#: Row-level security: the rows of the leads the user sees (as 0016's lead-owned tables).
_SEES_ALL = "(SELECT upswing_rls_sees_all())"
_LEAD_OWNED = ("outcomes", "experiment_assignments")


def upgrade() -> None:
    op.create_table('experiments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('control_share', sa.Float(), nullable=False),
    sa.Column('population', JSON, nullable=False),
    sa.Column('conversion_days', sa.Integer(), nullable=False),
    sa.Column('planned_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('control_share > 0 AND control_share < 1', name=op.f('ck_experiments_control_share')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments')),
    sa.UniqueConstraint('name', name=op.f('uq_experiments_name'))
    )
    op.create_table('experiment_assignments',
    sa.Column('experiment_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('arm', sa.String(length=10), nullable=False),
    sa.Column('stratum', sa.String(length=200), nullable=False),
    sa.Column('draw', sa.Float(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exposed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'],
                            name=op.f('fk_experiment_assignments_experiment_id_experiments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_experiment_assignments_lead_id_leads'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('experiment_id', 'lead_id', name=op.f('pk_experiment_assignments'))
    )
    op.create_index('ix_experiment_assignments_lead', 'experiment_assignments', ['lead_id'], unique=False)
    op.create_table('outcomes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('promise_status', sa.String(length=10), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('external_id', sa.String(length=160), nullable=True),
    sa.Column('signal_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('payment', 'promise', 'arrangement', 'dispute', 'complaint', 'closure')",
                       name=op.f('ck_outcomes_kind')),
    sa.CheckConstraint("promise_status IS NULL OR promise_status IN ('pending', 'kept', 'broken')",
                       name=op.f('ck_outcomes_promise_status')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_outcomes_amount')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_outcomes_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_outcomes_signal_id_signals'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes'))
    )
    op.create_index('ix_outcomes_kind_occurred_on', 'outcomes', ['kind', 'occurred_on'], unique=False)
    op.create_index('ix_outcomes_lead', 'outcomes', ['lead_id', 'occurred_on'], unique=False)
    op.create_index('ix_outcomes_updated_at', 'outcomes', ['updated_at', 'id'], unique=False)
    op.create_index('uq_outcomes_external_id', 'outcomes', ['external_id'], unique=True,
                    postgresql_where=sa.text('external_id IS NOT NULL'),
                    sqlite_where=sa.text('external_id IS NOT NULL'))
    # A constant default: no table rewrite on either database, even at ten million signals.
    op.add_column('leads', sa.Column('holdout', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('signals', sa.Column('holdout', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        for table in _LEAD_OWNED:
            exists = f"EXISTS (SELECT 1 FROM leads l WHERE l.id = {table}.lead_id)"  # noqa: S608 - our table names
            op.execute(f"CREATE POLICY upswing_row_scope ON {table} USING ({_SEES_ALL} OR {exists}) "
                       f"WITH CHECK ({_SEES_ALL} OR {exists})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+), as in 0007: a batch drop would rebuild the tables on SQLite.
    op.execute('ALTER TABLE signals DROP COLUMN holdout')
    op.execute('ALTER TABLE leads DROP COLUMN holdout')
    op.drop_index('uq_outcomes_external_id', table_name='outcomes')
    op.drop_index('ix_outcomes_updated_at', table_name='outcomes')
    op.drop_index('ix_outcomes_lead', table_name='outcomes')
    op.drop_index('ix_outcomes_kind_occurred_on', table_name='outcomes')
    op.drop_table('outcomes')
    op.drop_index('ix_experiment_assignments_lead', table_name='experiment_assignments')
    op.drop_table('experiment_assignments')
    op.drop_table('experiments')
