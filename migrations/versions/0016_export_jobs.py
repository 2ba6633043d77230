"""export jobs: large exports written in the background by the scheduler

Revision ID: 0016_export_jobs
Revises: 0014_staffing
Create Date: 2026-12-01 11:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_export_jobs"
down_revision = "0014_staffing"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('locations', 'contacts', 'projects', 'appointments')", name="ck_export_job_kind"
        ),
        sa.CheckConstraint("format IN ('csv', 'xlsx')", name="ck_export_job_format"),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="ck_export_job_state"),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_job_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_export_job_state_lease", ["state", "lease_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_export_job_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_job_user_id"))
        batch_op.drop_index("ix_export_job_state_lease")
        batch_op.drop_index(batch_op.f("ix_export_job_project_id"))
    op.drop_table("export_job")
