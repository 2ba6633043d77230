"""reporting: questionnaires, reports, answers, files

Revision ID: 0017_reporting
Revises: 0016_export_jobs
Create Date: 2026-12-01 13:41:41.822878

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_reporting"
down_revision = "0016_export_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('day', 'week')", name="ck_questionnaire_kind"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questionnaire_name"), ["name"], unique=False)

    op.create_table(
        "questionnaire_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["questionnaire_id"], ["questionnaire.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
    )
    op.create_table(
        "questionnaire_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_de", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["questionnaire_version.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questionnaire_page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questionnaire_page_version_id"), ["version_id"], unique=False)

    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label_de", sa.String(length=300), nullable=False),
        sa.Column("label_en", sa.String(length=300), nullable=True),
        sa.Column("help_de", sa.Text(), nullable=True),
        sa.Column("help_en", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("min_count", sa.Integer(), nullable=True),
        sa.Column("max_count", sa.Integer(), nullable=True),
        sa.Column("choices", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('text', 'long_text', 'integer', 'decimal', 'yes_no', 'single_choice', 'multiple_choice', 'date', 'time', 'photo', 'file', 'group')",
            name="ck_question_kind",
        ),
        sa.CheckConstraint(
            "min_count IS NULL OR max_count IS NULL OR min_count <= max_count", name="ck_question_counts"
        ),
        sa.CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="ck_question_min_max"
        ),
        sa.ForeignKeyConstraint(["page_id"], ["questionnaire_page.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["question.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["questionnaire_version.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "key", name="uq_question_version_key"),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_page_id"), ["page_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=True),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("promoter_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actual_start", sa.Time(), nullable=True),
        sa.Column("actual_end", sa.Time(), nullable=True),
        sa.Column("break_minutes", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("return_comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(kind = 'day' AND appointment_id IS NOT NULL AND week_start IS NULL) OR (kind = 'week' AND appointment_id IS NULL AND week_start IS NOT NULL)",
            name="ck_report_target",
        ),
        sa.CheckConstraint("kind IN ('day', 'week')", name="ck_report_kind"),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'returned', 'approved')", name="ck_report_status"
        ),
        sa.CheckConstraint("break_minutes IS NULL OR break_minutes >= 0", name="ck_report_break"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["promoter_id"], ["promoter.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"], ["questionnaire_version.id"], ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["ab_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", name="uq_report_appointment"),
        sa.UniqueConstraint("job_id", "week_start", name="uq_report_job_week"),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_job_status", ["job_id", "status"], unique=False)
        batch_op.create_index("ix_report_promoter_status", ["promoter_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_questionnaire_version_id"), ["questionnaire_version_id"], unique=False
        )
        batch_op.create_index("ix_report_status_submitted", ["status", "submitted_at"], unique=False)

    op.create_table(
        "report_reminder",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("appointment_id"),
    )
    op.create_table(
        "report_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=60), nullable=False),
        sa.Column("group_key", sa.String(length=60), nullable=True),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_answer", schema=None) as batch_op:
        batch_op.create_index("ix_report_answer_report_key", ["report_id", "question_key"], unique=False)

    op.create_table(
        "report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=60), nullable=False),
        sa.Column("group_key", sa.String(length=60), nullable=True),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_key"),
    )
    with op.batch_alter_table("report_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_file_report_id"), ["report_id"], unique=False)

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_questionnaire_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("actual_start_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("actual_end_time", sa.Time(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_appointment_day_questionnaire_id"), ["day_questionnaire_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_appointment_day_questionnaire",
            "questionnaire",
            ["day_questionnaire_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_questionnaire_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("week_questionnaire_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_job_day_questionnaire_id"), ["day_questionnaire_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_job_week_questionnaire_id"), ["week_questionnaire_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_job_week_questionnaire",
            "questionnaire",
            ["week_questionnaire_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_job_day_questionnaire", "questionnaire", ["day_questionnaire_id"], ["id"], ondelete="RESTRICT"
        )

    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day_questionnaire_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("week_questionnaire_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_project_day_questionnaire_id"), ["day_questionnaire_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_week_questionnaire_id"), ["week_questionnaire_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_project_day_questionnaire",
            "questionnaire",
            ["day_questionnaire_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_foreign_key(
            "fk_project_week_questionnaire",
            "questionnaire",
            ["week_questionnaire_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint("fk_project_week_questionnaire", type_="foreignkey")
        batch_op.drop_constraint("fk_project_day_questionnaire", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_project_week_questionnaire_id"))
        batch_op.drop_index(batch_op.f("ix_project_day_questionnaire_id"))
        batch_op.drop_column("week_questionnaire_id")
        batch_op.drop_column("day_questionnaire_id")

    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint("fk_job_week_questionnaire", type_="foreignkey")
        batch_op.drop_constraint("fk_job_day_questionnaire", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_job_week_questionnaire_id"))
        batch_op.drop_index(batch_op.f("ix_job_day_questionnaire_id"))
        batch_op.drop_column("week_questionnaire_id")
        batch_op.drop_column("day_questionnaire_id")

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appointment_day_questionnaire", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_appointment_day_questionnaire_id"))
        batch_op.drop_column("actual_end_time")
        batch_op.drop_column("actual_start_time")
        batch_op.drop_column("day_questionnaire_id")

    with op.batch_alter_table("report_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_file_report_id"))

    op.drop_table("report_file")
    with op.batch_alter_table("report_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_report_answer_report_key")

    op.drop_table("report_answer")
    op.drop_table("report_reminder")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_status_submitted")
        batch_op.drop_index(batch_op.f("ix_report_questionnaire_version_id"))
        batch_op.drop_index("ix_report_promoter_status")
        batch_op.drop_index("ix_report_job_status")

    op.drop_table("report")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_parent_id"))
        batch_op.drop_index(batch_op.f("ix_question_page_id"))

    op.drop_table("question")
    with op.batch_alter_table("questionnaire_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_page_version_id"))

    op.drop_table("questionnaire_page")
    op.drop_table("questionnaire_version")
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_name"))

    op.drop_table("questionnaire")
