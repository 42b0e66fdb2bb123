"""reach: customers from a CSV, outbound tickets, everyone affected (scale)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('affected_customers') as batch:
        batch.add_column(sa.Column('reference', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('amount', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=16), nullable=False,
                                   server_default='helpdesk'))
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('everyone', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('estimated_share', sa.Integer(), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('action', sa.String(length=16), nullable=False,
                                   server_default='reply'))
        batch.add_column(sa.Column('requester_email', sa.String(length=320), nullable=True))
        batch.add_column(sa.Column('requester_name', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('subject', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('external_ref', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('ticket_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        for column in ('ticket_url', 'external_ref', 'subject', 'requester_name',
                       'requester_email', 'action'):
            batch.drop_column(column)
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('estimated_share')
        batch.drop_column('everyone')
    with op.batch_alter_table('affected_customers') as batch:
        batch.drop_column('source')
        batch.drop_column('amount')
        batch.drop_column('reference')
