"""report figures: indexes for the reporting area's aggregates

Revision ID: 0018_report_figures
Revises: 0017_reporting
Create Date: 2026-12-01 17:00:00

"""

# revision identifiers, used by Alembic.
revision = "0018_report_figures"
down_revision = "0017_reporting"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
