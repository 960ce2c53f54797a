"""audit health: per device, whether the audit reached it and on which channels

Audits recorded before this revision keep health NULL: nobody knows any more what they reached, and a
reader shows that as "not recorded" rather than inventing a list.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_column('health')
