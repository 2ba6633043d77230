"""customer calendar feed token, promoter postcode, reason of a declined request

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_contact_feed_token", ["feed_token"])

    with op.batch_alter_table("promoter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postcode", sa.String(length=10), nullable=True))

    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("decline_reason")

    with op.batch_alter_table("promoter", schema=None) as batch_op:
        batch_op.drop_column("postcode")

    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint("uq_contact_feed_token", type_="unique")
        batch_op.drop_column("feed_token")
