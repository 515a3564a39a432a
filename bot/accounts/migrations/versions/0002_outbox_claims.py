"""outbox: the lease of the action server that is forwarding an entry
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_outbox_claims"
down_revision = "0001_accounts"


def upgrade() -> None:
    with op.batch_alter_table("action_outbox") as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_outbox") as batch_op:
        batch_op.drop_column("claimed_until")
