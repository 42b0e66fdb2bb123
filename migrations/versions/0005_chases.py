"""chases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 03:57:38.383644
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('helpdesk', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('comment_id', sa.String(length=128), nullable=False),
    sa.Column('excerpt', sa.String(length=300), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('our_last_update_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_chases_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chases')),
    sa.UniqueConstraint('helpdesk', 'comment_id', name='uq_chases_comment')
    )
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.create_index('ix_chases_incident', ['incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.drop_index('ix_chases_incident')

    op.drop_table('chases')
