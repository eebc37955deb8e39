"""The event outbox (events and per-consumer receipts); signal actions by SMS and the conversation outcome; contact-ledger entries that
record the signal they came from and any guard override.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
OLD_ACTIONS = "action IS NULL OR action IN ('call', 'email', 'letter', 'crm_task')"
NEW_ACTIONS = "action IS NULL OR action IN ('call', 'sms', 'email', 'letter', 'crm_task')"
OLD_OUTCOMES = ("outcome IS NULL OR outcome IN ('promise_to_pay', 'payment', 'no_response', 'dispute', "
                "'wrong_person')")
NEW_OUTCOMES = ("outcome IS NULL OR outcome IN ('promise_to_pay', 'payment', 'no_response', 'dispute', "
                "'wrong_person', 'conversation')")


def upgrade() -> None:
    op.create_table('outbox_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_events_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_outbox_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('outbox_receipts',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('consumer', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=200), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_outbox_receipts_event_id_outbox_events'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'consumer', name=op.f('pk_outbox_receipts'))
    )
    with op.batch_alter_table('outbox_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_receipts_consumer_status_run_after', ['consumer', 'status', 'run_after'],
                              unique=False)

    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_signals_action'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signals_action'), NEW_ACTIONS)
        batch_op.drop_constraint(op.f('ck_signals_outcome'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signals_outcome'), NEW_OUTCOMES)

    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signal_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('overridden_reasons', JSON, nullable=True))
        batch_op.create_foreign_key(op.f('fk_contact_attempts_signal_id_signals'), 'signals', ['signal_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_contact_attempts_signal_id', ['signal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_attempts_signal_id')
        batch_op.drop_constraint(op.f('fk_contact_attempts_signal_id_signals'), type_='foreignkey')
        batch_op.drop_column('overridden_reasons')
        batch_op.drop_column('override_reason')
        batch_op.drop_column('signal_id')
    op.execute("UPDATE signals SET action = 'call' WHERE action = 'sms'")
    op.execute("UPDATE signals SET outcome = 'no_response' WHERE outcome = 'conversation'")
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_signals_action'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signals_action'), OLD_ACTIONS)
        batch_op.drop_constraint(op.f('ck_signals_outcome'), type_='check')
        batch_op.create_check_constraint(op.f('ck_signals_outcome'), OLD_OUTCOMES)
    op.drop_table('outbox_receipts')
    op.drop_table('outbox_events')
