"""messages: the widget's client id and the pending relay to the bot; conversations: the lease
of the agent_handled tracker event
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("relay", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("relay_metadata", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_handoff_messages_relay"), ["relay"], unique=False)
        batch_op.create_index("uq_handoff_messages_client_id", ["conversation_id", "client_id"], unique=True)
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracker_event_claimed_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.drop_column("tracker_event_claimed_until")
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index("uq_handoff_messages_client_id")
        batch_op.drop_index(batch_op.f("ix_handoff_messages_relay"))
        batch_op.drop_column("relay_metadata")
        batch_op.drop_column("relay")
        batch_op.drop_column("client_id")
