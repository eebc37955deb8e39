"""Signal scoring and lifecycle columns; the evidence table (several evidence items per signal).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('priority', sa.String(length=10), server_default=sa.text("'low'"), nullable=False))
        batch_op.add_column(sa.Column('score_breakdown', JSON, server_default=sa.text("'{}'"), nullable=False))
        batch_op.add_column(sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('actioned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('actioned_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('dismiss_reason', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(op.f('fk_signals_actioned_by_users'), 'users', ['actioned_by'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key(op.f('fk_signals_outcome_by_users'), 'users', ['outcome_by'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_signals_score', ['score'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_signals_priority'), "priority IN ('urgent', 'high', 'medium', 'low')")
        batch_op.create_check_constraint(
            op.f('ck_signals_action'), "action IS NULL OR action IN ('call', 'email', 'letter', 'crm_task')")
        batch_op.create_check_constraint(
            op.f('ck_signals_outcome'),
            "outcome IS NULL OR outcome IN ('promise_to_pay', 'payment', 'no_response', 'dispute', 'wrong_person')")
        batch_op.create_check_constraint(
            op.f('ck_signals_dismiss_reason'),
            "dismiss_reason IS NULL OR dismiss_reason IN ('wrong_person', 'not_relevant', 'duplicate')")

    op.create_table('evidence',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('observation_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('snippet', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=120), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('profile', 'text')", name=op.f('ck_evidence_kind')),
    sa.ForeignKeyConstraint(['observation_id'], ['observations.id'], name=op.f('fk_evidence_observation_id_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_evidence_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('signal_id', 'observation_id', name=op.f('uq_evidence_signal_id_observation_id'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_observation_id', ['observation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_observation_id')
    op.drop_table('evidence')
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_signals_dismiss_reason'), type_='check')
        batch_op.drop_constraint(op.f('ck_signals_outcome'), type_='check')
        batch_op.drop_constraint(op.f('ck_signals_action'), type_='check')
        batch_op.drop_constraint(op.f('ck_signals_priority'), type_='check')
        batch_op.drop_index('ix_signals_score')
        batch_op.drop_constraint(op.f('fk_signals_outcome_by_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_signals_actioned_by_users'), type_='foreignkey')
        batch_op.drop_column('dismiss_reason')
        batch_op.drop_column('outcome_by')
        batch_op.drop_column('outcome_at')
        batch_op.drop_column('outcome')
        batch_op.drop_column('actioned_by')
        batch_op.drop_column('actioned_at')
        batch_op.drop_column('action')
        batch_op.drop_column('scored_at')
        batch_op.drop_column('score_breakdown')
        batch_op.drop_column('priority')
        batch_op.drop_column('score')
