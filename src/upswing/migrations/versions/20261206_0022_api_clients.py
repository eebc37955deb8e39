"""Machine clients of the API (OAuth 2.0 client credentials) and the assertion ids they have used.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('api_clients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('auth_method', sa.String(length=20), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('public_key', sa.Text(), nullable=True),
    sa.Column('scopes', JSON, nullable=False),
    sa.Column('allowed_ips', JSON, nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('name', name=op.f('uq_api_clients_name'))
    )
    op.create_table('api_client_assertions',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('jti', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_api_client_assertions_client_id_api_clients'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', 'jti', name=op.f('pk_api_client_assertions'))
    )


def downgrade() -> None:
    op.drop_table('api_client_assertions')
    op.drop_table('api_clients')
