"""customer change requests (cancel or move an appointment)

Revision ID: 0013_change_requests
Revises: 0012_change_notifications
Create Date: 2026-12-01 11:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_change_requests"
down_revision = "0012_change_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "change_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("new_date", sa.Date(), nullable=True),
        sa.Column("new_start_time", sa.Time(), nullable=True),
        sa.Column("new_end_time", sa.Time(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('cancel', 'move')", name="ck_change_request_kind"),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="ck_change_request_status"),
        sa.CheckConstraint(
            "kind = 'cancel' OR (new_date IS NOT NULL AND new_start_time IS NOT NULL "
            "AND new_end_time IS NOT NULL AND new_end_time > new_start_time)",
            name="ck_change_request_move",
        ),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.create_index("ix_change_request_appointment_id", ["appointment_id"], unique=False)
        batch_op.create_index("ix_change_request_status", ["status"], unique=False)
        batch_op.create_index("ix_change_request_requested_by_id", ["requested_by_id"], unique=False)
        batch_op.create_index(
            "uq_change_request_pending",
            ["appointment_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade():
    with op.batch_alter_table("change_request", schema=None) as batch_op:
        batch_op.drop_index("uq_change_request_pending")
        batch_op.drop_index("ix_change_request_requested_by_id")
        batch_op.drop_index("ix_change_request_status")
        batch_op.drop_index("ix_change_request_appointment_id")
    op.drop_table("change_request")
