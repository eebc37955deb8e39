"""The API for sync: idempotency keys, leads' ids in outside systems, the updated_at order of leads and signals,
and webhook subscriptions owned by machine clients.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Row-level security of ``lead_crm_ids``: the rows of the leads the user sees (as 0016's lead-owned tables).
_SEES_ALL = "(SELECT upswing_rls_sees_all())"
_LEAD_EXISTS = "EXISTS (SELECT 1 FROM leads l WHERE l.id = lead_crm_ids.lead_id)"


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_headers', sa.Text(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('scope', 'key', name='uq_idempotency_keys_scope_key')
    )
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'], unique=False)
    op.create_table('lead_crm_ids',
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('crm_id', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_crm_ids_lead_id_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lead_id', 'system', name=op.f('pk_lead_crm_ids')),
    sa.UniqueConstraint('system', 'crm_id', name='uq_lead_crm_ids_system_crm_id')
    )
    op.create_index('ix_leads_updated_at', 'leads', ['updated_at', 'id'], unique=False)
    op.create_index('ix_signals_updated_at', 'signals', ['updated_at', 'id'], unique=False)
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('owner_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_webhook_subscriptions_client_id_api_clients'), 'api_clients',
                                    ['client_id'], ['id'], ondelete='CASCADE')
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE POLICY upswing_row_scope ON lead_crm_ids USING ({_SEES_ALL} OR {_LEAD_EXISTS}) "
                   f"WITH CHECK ({_SEES_ALL} OR {_LEAD_EXISTS})")
        op.execute("ALTER TABLE lead_crm_ids ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE lead_crm_ids FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.execute("DELETE FROM webhook_subscriptions WHERE owner_id IS NULL")
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_webhook_subscriptions_client_id_api_clients'), type_='foreignkey')
        batch_op.alter_column('owner_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('client_id')
    op.drop_index('ix_signals_updated_at', table_name='signals')
    op.drop_index('ix_leads_updated_at', table_name='leads')
    op.drop_table('lead_crm_ids')
    op.drop_index('ix_idempotency_keys_created_at', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
