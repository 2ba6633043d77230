"""report schedules: monthly campaign report by mail, outbox attachments

Revision ID: 0019_report_schedules
Revises: 0018_report_figures
Create Date: 2026-12-01 17:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_report_schedules"
down_revision = "0018_report_figures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_sent_month", sa.String(length=7), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id"),
    )
    op.create_table(
        "report_schedule_contact",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["schedule_id"], ["report_schedule.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("schedule_id", "contact_id"),
    )
    with op.batch_alter_table("report_schedule_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_schedule_contact_contact_id"), ["contact_id"], unique=False
        )
    op.create_table(
        "outbox_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_attachment_message_id"), ["message_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_attachment_message_id"))
    op.drop_table("outbox_attachment")
    with op.batch_alter_table("report_schedule_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_schedule_contact_contact_id"))
    op.drop_table("report_schedule_contact")
    op.drop_table("report_schedule")
