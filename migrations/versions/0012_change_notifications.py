"""change notifications: appointment changes, notices per contact, the contact's change-mail
setting, the promoter's mail language

Revision ID: 0012_change_notifications
Revises: 0011_status_index
Create Date: 2026-12-01 11:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_change_notifications"
down_revision = "0011_status_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("change_mail", sa.String(length=10), nullable=False, server_default="immediate")
        )
        batch_op.create_check_constraint(
            "ck_contact_change_mail", "change_mail IN ('immediate', 'daily', 'weekly')"
        )

    with op.batch_alter_table("promoter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="de"))
        batch_op.create_check_constraint("ck_promoter_language", "language IN ('de', 'en')")

    op.create_table(
        "appointment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("before_date", sa.Date(), nullable=True),
        sa.Column("before_start_time", sa.Time(), nullable=True),
        sa.Column("before_end_time", sa.Time(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('planned', 'moved', 'cancelled')", name="ck_appointment_change_kind"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_change_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "change_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["appointment_change.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("change_id", "contact_id", name="uq_change_notice_once"),
    )
    with op.batch_alter_table("change_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_notice_change_id"), ["change_id"], unique=False)
        batch_op.create_index("ix_change_notice_contact_sent", ["contact_id", "sent_at"], unique=False)


def downgrade():
    with op.batch_alter_table("change_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_change_notice_contact_sent")
        batch_op.drop_index(batch_op.f("ix_change_notice_change_id"))
    op.drop_table("change_notice")

    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_change_appointment_id"))
    op.drop_table("appointment_change")

    with op.batch_alter_table("promoter", schema=None) as batch_op:
        batch_op.drop_constraint("ck_promoter_language", type_="check")
        batch_op.drop_column("language")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint("ck_contact_change_mail", type_="check")
        batch_op.drop_column("change_mail")
