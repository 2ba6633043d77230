"""index on appointment (status, date) for the pending-proposal count on every agency page

Revision ID: 0011_status_index
Revises: 0010
Create Date: 2026-12-01 11:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_status_index"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_appointment_status_date", "appointment", ["status", "date"])


def downgrade():
    op.drop_index("ix_appointment_status_date", table_name="appointment")
