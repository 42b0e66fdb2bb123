"""remedies: what each customer is offered (rule 7), internal notes and tags in the outbox,
and the customer's answer to a remedy on the call list

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'remedies',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('helpdesk', sa.String(length=32), nullable=False),
        sa.Column('customer_external_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('amount', sa.String(length=32), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('percent', sa.String(length=16), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.String(length=32), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_by', sa.String(length=32), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_remedies_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_remedies')),
        sa.UniqueConstraint('incident_id', 'helpdesk', 'customer_external_id',
                            name='uq_remedies_customer'),
    )
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('visibility', sa.String(length=16), nullable=False,
                                   server_default='public'))
        batch.add_column(sa.Column('extra_tags', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('remedy_ref', sa.String(length=32), nullable=True))
    with op.batch_alter_table('call_tasks') as batch:
        batch.add_column(sa.Column('remedy_response', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('remedy_ref', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call_tasks') as batch:
        batch.drop_column('remedy_ref')
        batch.drop_column('remedy_response')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('remedy_ref')
        batch.drop_column('extra_tags')
        batch.drop_column('visibility')
    op.drop_table('remedies')
