"""agents: presence (online/away, last seen, max concurrent) and their console sockets across
instances; conversations: back at the head of the queue, the waiting user's acknowledgement, the
first-response alert
"""
from alembic import op
import sqlalchemy as sa

revision = "0100"
down_revision = "0300"


def upgrade() -> None:
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=8), nullable=False, server_default="away"))
        batch_op.add_column(sa.Column("max_concurrent", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
    op.create_table(
        "handoff_agent_sockets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=80), nullable=False),
        sa.Column("connected_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent"], ["handoff_agents.username"],
                                name="fk_handoff_agent_sockets_agent_handoff_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_agent_sockets"),
    )
    op.create_index("ix_handoff_agent_sockets_agent_last_seen_at", "handoff_agent_sockets",
                    ["agent", "last_seen_at"])
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_head", sa.Boolean(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("waiting_ack_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_response_alerted_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_handoff_conversations_status_agent", ["status", "agent"])


def downgrade() -> None:
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_conversations_status_agent")
        batch_op.drop_column("first_response_alerted_at")
        batch_op.drop_column("waiting_ack_at")
        batch_op.drop_column("queue_head")
    op.drop_index("ix_handoff_agent_sockets_agent_last_seen_at", table_name="handoff_agent_sockets")
    op.drop_table("handoff_agent_sockets")
    with op.batch_alter_table("handoff_agents", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("max_concurrent")
        batch_op.drop_column("status")
