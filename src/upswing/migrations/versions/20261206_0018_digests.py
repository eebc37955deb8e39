"""Digests and escalation: digest preferences (users' and teams' defaults), the digests made, e-mail
suppressions (bounces and complaints), escalation policies (seeded with the defaults), escalations, team business
calendars and holidays; a prepared message on alert deliveries; each signal's first action and escalation level.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

#: (priority, level, delay, unit, target): urgent unacknowledged 2 business hours → the team's manager, 1 business
#: day → the admins; high 1 business day → the manager.
DEFAULT_POLICIES = (
    ("urgent", 1, 2, "business_hours", "manager"),
    ("urgent", 2, 1, "business_days", "admin"),
    ("high", 1, 1, "business_days", "manager"),
)


def upgrade() -> None:
    op.create_table('email_suppressions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_suppressions')),
    sa.UniqueConstraint('address', name=op.f('uq_email_suppressions_address'))
    )
    op.create_table('escalation_policies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('delay_value', sa.Integer(), nullable=False),
    sa.Column('delay_unit', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('priority', 'level', name=op.f('uq_escalation_policies_priority_level'))
    )
    op.create_table('business_calendars',
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('weekdays', JSON, nullable=False),
    sa.Column('holiday_country', sa.String(length=2), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_business_calendars_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_business_calendars'))
    )
    op.create_table('holidays',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_holidays_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays'))
    )
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.create_index('ix_holidays_day', ['day'], unique=False)

    op.create_table('digest_preferences',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('frequency', sa.String(length=10), nullable=True),
    sa.Column('send_time', sa.String(length=5), nullable=True),
    sa.Column('weekly_day', sa.Integer(), nullable=True),
    sa.Column('signal_types', JSON, nullable=True),
    sa.Column('min_priority', sa.String(length=10), nullable=True),
    sa.Column('portfolios', JSON, nullable=True),
    sa.Column('teams', JSON, nullable=True),
    sa.Column('include_not_contactable', sa.Boolean(), nullable=True),
    sa.Column('format', sa.String(length=10), nullable=True),
    sa.Column('send_empty', sa.Boolean(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_digest_preferences_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_preferences')),
    sa.UniqueConstraint('team_id', name=op.f('uq_digest_preferences_team_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_digest_preferences_user_id'))
    )
    op.create_table('escalations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_escalations_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_escalations_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['escalation_policies.id'], name=op.f('fk_escalations_policy_id_escalation_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_escalations_signal_id_signals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_escalations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('signal_id', 'level', 'user_id', name=op.f('uq_escalations_signal_id_level_user_id'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index('ix_escalations_team_created', ['team_id', 'created_at'], unique=False)
        batch_op.create_index('ix_escalations_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('signal_ids', JSON, nullable=False),
    sa.Column('delivery_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['alert_deliveries.id'], name=op.f('fk_digests_delivery_id_alert_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests'))
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index('ix_digests_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('uq_digests_user_local_date', ['user_id', 'local_date'], unique=True, postgresql_where=sa.text('NOT forced'), sqlite_where=sa.text('NOT forced'))

    # Plain ADD COLUMN (no batch): SQLite adds these in place, keeping the signals' triggers (migration 0016).
    op.add_column('alert_deliveries', sa.Column('content', sa.Text(), nullable=True))
    op.add_column('signals', sa.Column('first_action_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('signals', sa.Column('escalation_level', sa.Integer(), server_default=sa.text('0'),
                                       nullable=False))
    op.add_column('signals', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_signals_escalation', 'signals', ['status', 'priority', 'escalation_level', 'detected_at'],
                    unique=False)
    # Signals already worked: the latest change is the best record of a first action there is.
    op.execute("UPDATE signals SET first_action_at = status_changed_at "
               "WHERE status <> 'new' AND status_changed_at IS NOT NULL")
    policies = sa.table('escalation_policies', sa.column('id', sa.Uuid()), sa.column('priority', sa.String()),
                        sa.column('level', sa.Integer()), sa.column('delay_value', sa.Integer()),
                        sa.column('delay_unit', sa.String()), sa.column('target', sa.String()),
                        sa.column('enabled', sa.Boolean()), sa.column('updated_at', sa.DateTime(timezone=True)),
                        sa.column('updated_by', sa.String()))
    now = datetime.now(UTC)
    op.bulk_insert(policies, [{"id": uuid.uuid4(), "priority": priority, "level": level, "delay_value": delay,
                               "delay_unit": unit, "target": target, "enabled": True, "updated_at": now,
                               "updated_by": "migration"}
                              for priority, level, delay, unit, target in DEFAULT_POLICIES])


def downgrade() -> None:
    op.drop_index('ix_signals_escalation', table_name='signals')
    for column in ('escalated_at', 'escalation_level', 'first_action_at'):
        op.drop_column('signals', column)
    op.drop_column('alert_deliveries', 'content')

    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index('uq_digests_user_local_date', postgresql_where=sa.text('NOT forced'), sqlite_where=sa.text('NOT forced'))
        batch_op.drop_index('ix_digests_user_created')

    op.drop_table('digests')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_user_created')
        batch_op.drop_index('ix_escalations_team_created')

    op.drop_table('escalations')
    op.drop_table('digest_preferences')
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.drop_index('ix_holidays_day')

    op.drop_table('holidays')
    op.drop_table('business_calendars')
    op.drop_table('escalation_policies')
    op.drop_table('email_suppressions')
