"""slack message subject: which customer message a delivery-progress message follows

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('slack_messages') as batch:
        batch.add_column(sa.Column('subject', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('slack_messages') as batch:
        batch.drop_column('subject')
