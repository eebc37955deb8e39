"""Identifiers out of places they do not belong: observations get ``identifier_index`` (the blind indexes of the
e-mails and phones sealed inside them; null marks one stored before sealing, which the ``privacy.seal`` task
seals in batches), and stored match and merge explanations keep how each field compared, not its values.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _labels(explanation: Any) -> Any:
    # As resolution.matching.explanation_labels (a migration keeps its own copy of what it runs).
    if not isinstance(explanation, dict):
        return explanation
    return {name: text.split(":", 1)[0].strip() if isinstance(text, str) else text
            for name, text in explanation.items()}


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identifier_index', JSON, nullable=True))
    connection = op.get_bind()
    matches = sa.table('matches', sa.column('id'), sa.column('agreed', JSON), sa.column('disagreed', JSON))
    rows = connection.execute(sa.select(matches.c.id, matches.c.agreed, matches.c.disagreed)).all()
    updates = [{"match_id": row.id, "agreed": _labels(_load(row.agreed)), "disagreed": _labels(_load(row.disagreed))}
               for row in rows]
    if updates:
        connection.execute(matches.update().where(matches.c.id == sa.bindparam("match_id"))
                           .values(agreed=sa.bindparam("agreed"), disagreed=sa.bindparam("disagreed")), updates)
    merges = sa.table('lead_merges', sa.column('id'), sa.column('explanation', JSON))
    merge_updates = []
    for row in connection.execute(sa.select(merges.c.id, merges.c.explanation)).all():
        explanation = _load(row.explanation) or {}
        if isinstance(explanation, dict):
            explanation = {**explanation, "agreed": _labels(explanation.get("agreed", {})),
                           "disagreed": _labels(explanation.get("disagreed", {}))}
        merge_updates.append({"merge_id": row.id, "explanation": explanation})
    if merge_updates:
        connection.execute(merges.update().where(merges.c.id == sa.bindparam("merge_id"))
                           .values(explanation=sa.bindparam("explanation")), merge_updates)


def downgrade() -> None:
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_column('identifier_index')
