"""reach: customers from a CSV, outbound tickets, everyone affected, status posts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
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
    with op.batch_alter_table('customer_messages') as batch:
        batch.add_column(sa.Column('public_title', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('public_body', sa.Text(), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('action', sa.String(length=16), nullable=False,
                                   server_default='reply'))
        batch.add_column(sa.Column('requester_email', sa.String(length=320), nullable=True))
        batch.add_column(sa.Column('requester_name', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('subject', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('external_ref', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('ticket_url', sa.Text(), nullable=True))
    op.create_table(
        'status_posts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('incident_status', sa.String(length=32), nullable=False),
        sa.Column('impact', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('external_id', sa.String(length=64), nullable=True),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_status_posts_incident_id_incidents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_posts')),
        sa.UniqueConstraint('key', 'provider', name='uq_status_posts_key'),
    )
    with op.batch_alter_table('status_posts') as batch:
        batch.create_index('ix_status_posts_status_next', ['status', 'next_attempt_at'])
        batch.create_index('ix_status_posts_incident', ['incident_id'])


def downgrade() -> None:
    op.drop_table('status_posts')
    with op.batch_alter_table('outbox') as batch:
        for column in ('ticket_url', 'external_ref', 'subject', 'requester_name',
                       'requester_email', 'action'):
            batch.drop_column(column)
    with op.batch_alter_table('customer_messages') as batch:
        batch.drop_column('public_body')
        batch.drop_column('public_title')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('estimated_share')
        batch.drop_column('everyone')
    with op.batch_alter_table('affected_customers') as batch:
        batch.drop_column('source')
        batch.drop_column('amount')
        batch.drop_column('reference')
