"""Services catalog (``services``: the team's programs and offers, their eligibility and need profile) and
matchmaking (``service_matches``: a lead's score per service, the points per factor and the reasons, a status).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
#: Row-level security: the matches of the leads the user sees (as 0016's lead-owned tables).
_SEES_ALL = "(SELECT upswing_rls_sees_all())"
_CATEGORIES = ("'repayment_plan', 'rehabilitation', 'settlement', 'hardship_forbearance', 'refinancing', "
               "'consolidation', 'business_loan'")


def upgrade() -> None:
    op.create_table('services',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('external_id', sa.String(length=160), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('states', JSON, nullable=False),
    sa.Column('region_codes', JSON, nullable=False),
    sa.Column('local_radius_km', sa.Float(), nullable=True),
    sa.Column('center_latitude', sa.Float(), nullable=True),
    sa.Column('center_longitude', sa.Float(), nullable=True),
    sa.Column('balance_min', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('balance_max', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('days_delinquent_min', sa.Integer(), nullable=True),
    sa.Column('days_delinquent_max', sa.Integer(), nullable=True),
    sa.Column('employment_states', JSON, nullable=False),
    sa.Column('signal_types', JSON, nullable=False),
    sa.Column('industries', JSON, nullable=False),
    sa.Column('need_profile', JSON, nullable=False),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f'category IN ({_CATEGORIES})', name=op.f('ck_services_category')),
    sa.CheckConstraint('local_radius_km IS NULL OR local_radius_km > 0', name=op.f('ck_services_local_radius_km')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('name', name=op.f('uq_services_name'))
    )
    op.create_index('uq_services_external_id', 'services', ['external_id'], unique=True,
                    postgresql_where=sa.text('external_id IS NOT NULL'),
                    sqlite_where=sa.text('external_id IS NOT NULL'))
    op.create_table('service_matches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('breakdown', JSON, nullable=False),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_by', sa.String(length=200), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'accepted', 'rejected', 'converted')",
                       name=op.f('ck_service_matches_status')),
    sa.CheckConstraint('score >= 0 AND score <= 100', name=op.f('ck_service_matches_score')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_service_matches_lead_id_leads'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_service_matches_service_id_services'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_matches')),
    sa.UniqueConstraint('lead_id', 'service_id', name=op.f('uq_service_matches_lead_id_service_id'))
    )
    op.create_index('ix_service_matches_service_score', 'service_matches', ['service_id', 'score'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        exists = "EXISTS (SELECT 1 FROM leads l WHERE l.id = service_matches.lead_id)"
        op.execute(f"CREATE POLICY upswing_row_scope ON service_matches USING ({_SEES_ALL} OR {exists}) "
                   f"WITH CHECK ({_SEES_ALL} OR {exists})")
        op.execute("ALTER TABLE service_matches ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE service_matches FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index('ix_service_matches_service_score', table_name='service_matches')
    op.drop_table('service_matches')
    op.drop_index('uq_services_external_id', table_name='services')
    op.drop_table('services')
