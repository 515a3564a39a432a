"""agent sessions that can end: signed-out tokens, and the moment an agent's tokens were revoked
"""
from alembic import op
import sqlalchemy as sa

revision = "0300"
down_revision = "0200"


def upgrade() -> None:
    op.create_table(
        "handoff_revoked_sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(op.f("ix_handoff_revoked_sessions_expires_at"), "handoff_revoked_sessions",
                    ["expires_at"], unique=False)
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sessions_revoked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.drop_column("sessions_revoked_at")
    op.drop_index(op.f("ix_handoff_revoked_sessions_expires_at"), table_name="handoff_revoked_sessions")
    op.drop_table("handoff_revoked_sessions")
