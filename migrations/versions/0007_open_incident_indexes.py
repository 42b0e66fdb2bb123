"""indexes for open incidents, promised updates and recent chases

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state != 'closed'")


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_open_declared', ['declared_at'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table('customer_messages', schema=None) as batch_op:
        batch_op.create_index('ix_customer_messages_incident_status',
                              ['incident_id', 'status', 'next_update_at'], unique=False)
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.create_index('ix_chases_received_at', ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chases', schema=None) as batch_op:
        batch_op.drop_index('ix_chases_received_at')
    with op.batch_alter_table('customer_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_messages_incident_status')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_open_declared')
