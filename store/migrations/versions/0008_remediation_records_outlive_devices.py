"""remediation records outlive their device: remediations.device_id becomes nullable, ON DELETE SET NULL

Before, deleting a device deleted every remediation made on it (the record of what was changed on a
customer's router, and by whom). Every existing row is kept as it is; only the foreign key changes.
SQLite cannot alter a foreign key, so the table is rebuilt (batch mode copies every row).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_FK = "fk_remediations_device_id_devices"


def _rebuild(ondelete: str, nullable: bool) -> None:
    # the reflected table's unnamed device FK is replaced: reflection is told the column without it, and the
    # FK is added back under a name with the wanted ON DELETE
    with op.batch_alter_table(
            "remediations", recreate="always",
            reflect_args=[sa.Column("device_id", sa.Integer(), nullable=nullable)],
            table_kwargs={"sqlite_autoincrement": False}) as batch:
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=nullable)
        batch.create_foreign_key(_FK, "devices", ["device_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _rebuild("SET NULL", True)


def downgrade() -> None:
    op.execute("DELETE FROM remediations WHERE device_id IS NULL")
    _rebuild("CASCADE", False)
