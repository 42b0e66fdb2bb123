"""jobs: work after Slack's ack, claimed with a lease by background workers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FRESH = sa.text("status = 'pending' AND attempts = 0")
UNFINISHED = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('after_id', sa.Integer(), nullable=True),
        sa.Column('run_after', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_fresh_kind_key', ['kind', 'key'], unique=True,
                              sqlite_where=FRESH, postgresql_where=FRESH)
        batch_op.create_index('ix_jobs_unfinished', ['priority', 'id'], unique=False,
                              sqlite_where=UNFINISHED, postgresql_where=UNFINISHED)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_unfinished')
        batch_op.drop_index('ix_jobs_fresh_kind_key')
    op.drop_table('jobs')
