"""on-call overrides

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:08:57.337648
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oncall_overrides',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('start', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_overrides'))
    )


def downgrade() -> None:
    op.drop_table('oncall_overrides')
