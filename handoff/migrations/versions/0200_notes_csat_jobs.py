"""notes, CSAT ratings, the once-across-instances job table; indexes for a user's data
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa

revision = "0200"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "handoff_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["handoff_conversations.id"],
                                name=op.f("fk_handoff_notes_conversation_id_handoff_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_notes")),
    )
    with op.batch_alter_table("handoff_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_notes_conversation_id"), ["conversation_id"], unique=False)
    op.create_table(
        "handoff_csat",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["handoff_conversations.id"],
                                name=op.f("fk_handoff_csat_conversation_id_handoff_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_csat")),
    )
    with op.batch_alter_table("handoff_csat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_csat_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_csat_at"), ["at"], unique=False)
    jobs = op.create_table(
        "handoff_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=False),
        sa.Column("last_run_by", sa.String(length=80), nullable=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_handoff_jobs")),
    )
    # The row exists before any instance starts, so claiming a run is one conditional UPDATE.
    op.bulk_insert(jobs, [{"name": "retention_purge", "next_run_at": datetime(2000, 1, 1)}])
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_conversations_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_tickets_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("handoff_agent_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_agent_actions_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handoff_agent_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_agent_actions_at"))
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_tickets_user_id"))
    with op.batch_alter_table("handoff_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_conversations_user_id"))
    op.drop_table("handoff_jobs")
    op.drop_table("handoff_csat")
    op.drop_table("handoff_notes")
