"""Alerts: rules, alerts, deliveries, suppressions, webhook subscriptions, the round-robin pointer, the live
stream's events, and each user's alert preferences. Seeds the default rules (docs/alerts.md): urgent and high
signals to the lead's assignee in-app and by e-mail; job loss to the assignee in-app.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

DEFAULT_RULES = (
    ("Urgent and high signals", "high_score", {"min_priority": "high"}, ["in_app", "email"]),
    ("Job loss", "job_loss", {"signal_types": ["job_loss"]}, ["in_app"]),
)


def upgrade() -> None:
    op.create_table('stream_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stream_events'))
    )
    op.create_index('ix_stream_events_user_id_id', 'stream_events', ['user_id', 'id'], unique=False)
    op.create_table('alert_rules',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rule_type', sa.String(length=20), nullable=False),
    sa.Column('conditions', JSON, nullable=False),
    sa.Column('channels', JSON, nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=True),
    sa.Column('recipients', JSON, nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_alert_rules_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules'))
    )
    op.create_table('team_rotations',
    sa.Column('team_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_rotations_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_team_rotations'))
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('event_types', JSON, nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=300), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_webhook_subscriptions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('signal_id', sa.Uuid(), nullable=True),
    sa.Column('rule_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('actionable', sa.Boolean(), nullable=False),
    sa.Column('guard', JSON, nullable=False),
    sa.Column('routed_by', sa.String(length=20), nullable=False),
    sa.Column('signal_count', sa.Integer(), nullable=False),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_alerts_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alerts_rule_id_alert_rules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_alerts_signal_id_signals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alerts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    op.create_index('ix_alerts_lead_id', 'alerts', ['lead_id'], unique=False)
    op.create_index('ix_alerts_signal_id', 'alerts', ['signal_id'], unique=False)
    op.create_index('ix_alerts_user_created', 'alerts', ['user_id', 'created_at'], unique=False)
    op.create_index('ix_alerts_user_lead_window', 'alerts', ['user_id', 'lead_id', 'window_ends_at'], unique=False)
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('subscription_id', sa.Uuid(), nullable=True),
    sa.Column('payload', JSON, nullable=True),
    sa.Column('event_type', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=60), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=200), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_id', sa.String(length=300), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('replay_of', sa.Uuid(), nullable=True),
    sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_deliveries_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_alert_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries'))
    )
    op.create_index('ix_alert_deliveries_alert_id', 'alert_deliveries', ['alert_id'], unique=False)
    op.create_index('ix_alert_deliveries_due', 'alert_deliveries', ['status', 'run_after'], unique=False)
    op.create_index('ix_alert_deliveries_subscription_created', 'alert_deliveries', ['subscription_id', 'created_at'], unique=False)
    op.create_index('ix_alert_deliveries_user_channel_created', 'alert_deliveries', ['user_id', 'channel', 'created_at'], unique=False)
    op.create_table('alert_signals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('alert_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('signal_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_signals_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_alert_signals_signal_id_signals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_signals_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_signals')),
    sa.UniqueConstraint('user_id', 'signal_id', name=op.f('uq_alert_signals_user_id_signal_id'))
    )
    op.create_index('ix_alert_signals_alert_id', 'alert_signals', ['alert_id'], unique=False)
    op.create_table('alert_suppressions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('signal_id', sa.Uuid(), nullable=True),
    sa.Column('rule_id', sa.Uuid(), nullable=True),
    sa.Column('alert_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_suppressions_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_alert_suppressions_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alert_suppressions_rule_id_alert_rules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_alert_suppressions_signal_id_signals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_suppressions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_suppressions'))
    )
    op.create_index('ix_alert_suppressions_signal_id', 'alert_suppressions', ['signal_id'], unique=False)
    op.create_index('ix_alert_suppressions_user_created', 'alert_suppressions', ['user_id', 'created_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('away_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('away_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('alert_hourly_cap', sa.Integer(), nullable=True))
    rules = sa.table('alert_rules', sa.column('id', sa.Uuid()), sa.column('name', sa.String()),
                     sa.column('rule_type', sa.String()), sa.column('conditions', JSON),
                     sa.column('channels', JSON), sa.column('priority', sa.String()), sa.column('recipients', JSON),
                     sa.column('team_id', sa.Uuid()), sa.column('enabled', sa.Boolean()),
                     sa.column('is_default', sa.Boolean()), sa.column('created_by', sa.String()),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('updated_at', sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    owner = {"to": "owner", "users": [], "teams": []}
    op.bulk_insert(rules, [{"id": uuid.uuid4(), "name": name, "rule_type": kind, "conditions": conditions,
                            "channels": channels, "priority": None, "recipients": owner, "team_id": None,
                            "enabled": True, "is_default": True, "created_by": "system", "created_at": now,
                            "updated_at": now}
                           for name, kind, conditions, channels in DEFAULT_RULES])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('alert_hourly_cap')
        batch_op.drop_column('away_until')
        batch_op.drop_column('away_from')
        batch_op.drop_column('quiet_hours_end')
        batch_op.drop_column('quiet_hours_start')
        batch_op.drop_column('timezone')
    for table in ('alert_suppressions', 'alert_signals', 'alert_deliveries', 'alerts', 'webhook_subscriptions',
                  'team_rotations', 'alert_rules', 'stream_events'):
        op.drop_table(table)
