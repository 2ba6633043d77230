"""report figures: indexes for the reporting area's aggregates

The figures read the approved reports of a period: day reports from their appointments
(``appointment (date, status)`` / ``(job_id, date)``, then ``uq_report_appointment``),
weekly reports by ``report (job_id, week_start)`` for a customer's jobs and by the new
``report (status, week_start)`` over all jobs; their answers by the existing
``report_answer (report_id, question_key)``.

Revision ID: 0018_report_figures
Revises: 0017_reporting
Create Date: 2026-12-01 17:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_report_figures"
down_revision = "0017_reporting"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_report_status_week", "report", ["status", "week_start"])


def downgrade():
    op.drop_index("ix_report_status_week", table_name="report")
