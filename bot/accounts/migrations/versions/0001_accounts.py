"""accounts, users, technical account managers, outbox
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_accounts"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "technical_account_managers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column(
            "technical_account_manager_id", sa.Integer(),
            sa.ForeignKey("technical_account_managers.id", ondelete="SET NULL"), nullable=True,
        ),
    )
    op.create_table(
        "account_users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
    )
    op.create_index("ix_account_users_account_id", "account_users", ["account_id"])
    op.create_table(
        "action_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(16), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_action_outbox_conversation_id", "action_outbox", ["conversation_id"])
    op.create_index("ix_action_outbox_delivered_at", "action_outbox", ["delivered_at"])


def downgrade() -> None:
    op.drop_table("action_outbox")
    op.drop_index("ix_account_users_account_id", table_name="account_users")
    op.drop_table("account_users")
    op.drop_table("accounts")
    op.drop_table("technical_account_managers")
