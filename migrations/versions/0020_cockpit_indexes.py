"""cockpit: indexes for the unanswered-request and cancellation-request counts

Revision ID: 0020_cockpit_indexes
Revises: 0019_report_schedules
Create Date: 2026-12-01 17:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020_cockpit_indexes"
down_revision = "0019_report_schedules"
branch_labels = None
depends_on = None

REQUESTED = "status = 'requested'"
PENDING_CANCEL = "cancel_requested_at IS NOT NULL AND cancel_answer IS NULL"


def upgrade():
    op.create_index(
        "ix_booking_requested_created",
        "booking",
        ["created_at"],
        sqlite_where=sa.text(REQUESTED),
        postgresql_where=sa.text(REQUESTED),
    )
    op.create_index(
        "ix_booking_cancel_pending",
        "booking",
        ["appointment_id"],
        sqlite_where=sa.text(PENDING_CANCEL),
        postgresql_where=sa.text(PENDING_CANCEL),
    )


def downgrade():
    op.drop_index("ix_booking_cancel_pending", table_name="booking")
    op.drop_index("ix_booking_requested_created", table_name="booking")
