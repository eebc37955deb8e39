"""Consented first-party tracking: the lender's sites, anonymous daily counts, consented visitors and their events
(docs/tracking.md).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
#: Row-level security: a linked visitor and its events belong to the lead (as 0016's lead-owned tables); visitors
#: not linked to anyone are seen by no signed-in agent (the public ingest runs without claims, as the system).
_SEES_ALL = "(SELECT upswing_rls_sees_all())"
_VISITOR = "EXISTS (SELECT 1 FROM leads l WHERE l.id = tracking_visitors.lead_id)"
_EVENT = ("EXISTS (SELECT 1 FROM tracking_visitors v JOIN leads l ON l.id = v.lead_id "
          "WHERE v.id = tracking_events.visitor_id)")


def upgrade() -> None:
    op.create_table('tracking_sites',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('site_key', sa.String(length=64), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('allowed_origins', JSON, nullable=False),
    sa.Column('portfolio_id', sa.Uuid(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_tracking_sites_portfolio_id_portfolios'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_sites')),
    sa.UniqueConstraint('name', name=op.f('uq_tracking_sites_name')),
    sa.UniqueConstraint('site_key', name=op.f('uq_tracking_sites_site_key'))
    )
    op.create_table('tracking_daily_counts',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('path_group', sa.String(length=40), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['tracking_sites.id'],
                            name=op.f('fk_tracking_daily_counts_site_id_tracking_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'day', 'path_group', name=op.f('pk_tracking_daily_counts'))
    )
    op.create_table('tracking_visitors',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('visitor_hash', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=True),
    sa.Column('consent', sa.String(length=10), nullable=False),
    sa.Column('link_method', sa.String(length=20), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("link_method IS NULL OR link_method IN ('link_token', 'login')",
                       name=op.f('ck_tracking_visitors_link_method')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_tracking_visitors_lead_id_leads'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['tracking_sites.id'],
                            name=op.f('fk_tracking_visitors_site_id_tracking_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_visitors'))
    )
    op.create_index('uq_tracking_visitors_open', 'tracking_visitors', ['site_id', 'visitor_hash'], unique=True,
                    postgresql_where=sa.text('superseded_at IS NULL'), sqlite_where=sa.text('superseded_at IS NULL'))
    op.create_index('ix_tracking_visitors_lead', 'tracking_visitors', ['lead_id', 'last_seen_at'], unique=False)
    op.create_index('ix_tracking_visitors_last_seen', 'tracking_visitors', ['last_seen_at'], unique=False)
    op.create_table('tracking_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('visitor_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('path_group', sa.String(length=40), nullable=False),
    sa.Column('properties', JSON, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('page', 'track')", name=op.f('ck_tracking_events_type')),
    sa.ForeignKeyConstraint(['visitor_id'], ['tracking_visitors.id'],
                            name=op.f('fk_tracking_events_visitor_id_tracking_visitors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events'))
    )
    op.create_index('ix_tracking_events_visitor', 'tracking_events', ['visitor_id', 'occurred_at'], unique=False)
    op.create_index('ix_tracking_events_occurred_at', 'tracking_events', ['occurred_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table, owned in (("tracking_visitors", _VISITOR), ("tracking_events", _EVENT)):
            op.execute(f"CREATE POLICY upswing_row_scope ON {table} USING ({_SEES_ALL} OR {owned}) "
                       f"WITH CHECK ({_SEES_ALL} OR {owned})")
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index('ix_tracking_events_occurred_at', table_name='tracking_events')
    op.drop_index('ix_tracking_events_visitor', table_name='tracking_events')
    op.drop_table('tracking_events')
    op.drop_index('ix_tracking_visitors_last_seen', table_name='tracking_visitors')
    op.drop_index('ix_tracking_visitors_lead', table_name='tracking_visitors')
    op.drop_index('uq_tracking_visitors_open', table_name='tracking_visitors')
    op.drop_table('tracking_visitors')
    op.drop_table('tracking_daily_counts')
    op.drop_table('tracking_sites')
