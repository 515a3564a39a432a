"""tickets: the account summary and escalation a ticket stands in for
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("escalation", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_column("escalation")
        batch_op.drop_column("account")
