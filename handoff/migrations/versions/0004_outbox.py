"""outbox: webhook and email deliveries, retried until delivered or given up
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "handoff_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("ordering_key", sa.String(length=160), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("locked_by", sa.String(length=80), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("replayed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_handoff_outbox_event_id")),
    )
    with op.batch_alter_table("handoff_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_handoff_outbox_ordering_key", ["ordering_key", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_outbox_ordering_key")
        batch_op.drop_index("ix_handoff_outbox_status_next_attempt_at")
    op.drop_table("handoff_outbox")
