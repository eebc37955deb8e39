"""CRM connections (credentials encrypted), record links, pushes, inbound events and conflicts.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('crm_connections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('system', sa.String(length=20), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('field_ownership', JSON, nullable=False),
    sa.Column('owner_map', JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cursor', sa.String(length=500), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_push_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_pull_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('calls_today', sa.Integer(), nullable=False),
    sa.Column('calls_day', sa.Date(), nullable=True),
    sa.Column('daily_budget', sa.Integer(), nullable=False),
    sa.Column('info', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_connections')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_connections_name'))
    )
    op.create_table('crm_inbound_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('detail', JSON, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connections.id'], name=op.f('fk_crm_inbound_events_connection_id_crm_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_inbound_events')),
    sa.UniqueConstraint('connection_id', 'event_id', name='uq_crm_inbound_events_connection_event')
    )
    op.create_table('crm_conflicts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('upswing_value', sa.String(length=300), nullable=True),
    sa.Column('crm_value', sa.String(length=300), nullable=True),
    sa.Column('upswing_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('crm_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('winner', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connections.id'], name=op.f('fk_crm_conflicts_connection_id_crm_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_crm_conflicts_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_conflicts'))
    )
    with op.batch_alter_table('crm_conflicts', schema=None) as batch_op:
        batch_op.create_index('ix_crm_conflicts_open', ['connection_id', 'resolved_at'], unique=False)

    op.create_table('crm_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('remote_id', sa.String(length=100), nullable=False),
    sa.Column('written', JSON, nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connections.id'], name=op.f('fk_crm_links_connection_id_crm_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_crm_links_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_links')),
    sa.UniqueConstraint('connection_id', 'lead_id', name='uq_crm_links_connection_lead')
    )
    with op.batch_alter_table('crm_links', schema=None) as batch_op:
        batch_op.create_index('ix_crm_links_connection_remote', ['connection_id', 'remote_id'], unique=False)

    op.create_table('crm_pushes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=200), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remote_lead_id', sa.String(length=100), nullable=True),
    sa.Column('note_id', sa.String(length=100), nullable=True),
    sa.Column('task_id', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crm_connections.id'], name=op.f('fk_crm_pushes_connection_id_crm_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_crm_pushes_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_crm_pushes_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_pushes')),
    sa.UniqueConstraint('connection_id', 'signal_id', name='uq_crm_pushes_connection_signal')
    )
    with op.batch_alter_table('crm_pushes', schema=None) as batch_op:
        batch_op.create_index('ix_crm_pushes_due', ['status', 'run_after'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('crm_pushes', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_pushes_due')

    op.drop_table('crm_pushes')
    with op.batch_alter_table('crm_links', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_links_connection_remote')

    op.drop_table('crm_links')
    with op.batch_alter_table('crm_conflicts', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_conflicts_open')

    op.drop_table('crm_conflicts')
    op.drop_table('crm_inbound_events')
    op.drop_table('crm_connections')
