"""Lead regions: ``leads.region`` (the state, province or region as the import file gave it, any country) and
``leads.region_code`` (its ISO 3166-2 code, e.g. ``CA-ON``). ``leads.state`` stays the USPS code of US leads.

Nullable columns only: on SQLite the batch is a plain ADD COLUMN (no table rebuild), so rows referring to
``leads`` are untouched. Existing leads get their region on their next import (which then counts them as
updated once).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+), as in 0007: a batch drop would rebuild ``leads`` on SQLite.
    op.execute('ALTER TABLE leads DROP COLUMN region_code')
    op.execute('ALTER TABLE leads DROP COLUMN region')
