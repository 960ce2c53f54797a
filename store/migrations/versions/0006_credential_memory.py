"""credential memory: which weak-list entry a gentle credential test last saw accepted, per device key

Only the entry's position in the weak-password list is kept (never the password); the next test tries it
first. Nothing existing changes: the table starts empty, and the first test after the upgrade tries the
list in its order, as before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credential_memory',
                    sa.Column('device_key', sa.String(length=120), nullable=False),
                    sa.Column('accepted_index', sa.Integer(), nullable=False),
                    sa.Column('remembered_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('device_key'))


def downgrade() -> None:
    op.drop_table('credential_memory')
