"""agents: roles (e.g. supervisor), beside their tiers
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("roles", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.drop_column("roles")
