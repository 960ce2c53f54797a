"""request counters: unauthenticated and unrouted requests counted per minute and status, not logged row by row

Nothing existing changes: the table starts empty; the audit log keeps its rows (from now on capped at
AUDIT_LOG_MAX_ROWS, the oldest rolling out first).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_counters',
                    sa.Column('minute', sa.DateTime(), nullable=False),
                    sa.Column('kind', sa.String(length=20), nullable=False),
                    sa.Column('status_code', sa.Integer(), nullable=False),
                    sa.Column('count', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('minute', 'kind', 'status_code'))


def downgrade() -> None:
    op.drop_table('request_counters')
