"""staffing edge cases: withdrawn requests, cancellation requests, throttled application mails

Revision ID: 0014_staffing
Revises: 0013_change_requests
Create Date: 2026-12-01 11:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_staffing"
down_revision = "0013_change_requests"
branch_labels = None
depends_on = None

OLD_BOOKING_STATUSES = "status IN ('requested', 'confirmed', 'declined', 'cancelled')"
NEW_BOOKING_STATUSES = "status IN ('requested', 'confirmed', 'declined', 'cancelled', 'withdrawn')"


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_mailed_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancel_answer", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("cancel_answered_at", sa.DateTime(), nullable=True))
        batch_op.drop_constraint("ck_booking_status", type_="check")
        batch_op.create_check_constraint("ck_booking_status", NEW_BOOKING_STATUSES)
        batch_op.create_check_constraint(
            "ck_booking_cancel_answer", "cancel_answer IN ('granted', 'refused')"
        )


def downgrade():
    op.execute("UPDATE booking SET status = 'cancelled' WHERE status = 'withdrawn'")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_constraint("ck_booking_cancel_answer", type_="check")
        batch_op.drop_constraint("ck_booking_status", type_="check")
        batch_op.create_check_constraint("ck_booking_status", OLD_BOOKING_STATUSES)
        batch_op.drop_column("cancel_answered_at")
        batch_op.drop_column("cancel_answer")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancel_requested_at")

    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("agency_mailed_at")
