"""Geography: lead coordinates from offline geocoding (centroids of the ZIP code, city or state; docs/geo.md) and
the index of radius search's bounding-box prefilter. Existing leads get theirs from ``upswing geo backfill`` (the
``geo.backfill`` task): the migration itself does not geocode.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('leads', sa.Column('latitude', sa.Float(), nullable=True))
    op.add_column('leads', sa.Column('longitude', sa.Float(), nullable=True))
    op.add_column('leads', sa.Column('geo_precision', sa.String(length=8), nullable=True))
    op.create_index('ix_leads_latitude_longitude', 'leads', ['latitude', 'longitude'], unique=False,
                    postgresql_include=['id', 'merged_into_id', 'assignee_id', 'team_id'])


def downgrade() -> None:
    op.drop_index('ix_leads_latitude_longitude', table_name='leads')
    # Native DROP COLUMN (SQLite 3.35+), as in 0012: a batch drop would rebuild ``leads`` on SQLite.
    op.execute('ALTER TABLE leads DROP COLUMN geo_precision')
    op.execute('ALTER TABLE leads DROP COLUMN longitude')
    op.execute('ALTER TABLE leads DROP COLUMN latitude')
