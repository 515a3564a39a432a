"""outbox: the lease of the action server that is forwarding an entry

Revision ID: 0002_outbox_claims
Revises: 0001_accounts
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_outbox_claims"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_outbox") as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_outbox") as batch_op:
        batch_op.drop_column("claimed_until")
