"""initial: conversations, messages, tickets, agents, agent actions
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None


def upgrade() -> None:
    op.create_table('handoff_agent_actions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_agent_actions'))
    )
    with op.batch_alter_table('handoff_agent_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_agent_actions_agent'), ['agent'], unique=False)
        batch_op.create_index(batch_op.f('ix_handoff_agent_actions_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('handoff_agents',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_handoff_agents'))
    )
    op.create_table('handoff_tickets',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('user_id', sa.String(length=128), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('transcript', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_tickets'))
    )
    op.create_table('handoff_conversations',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=16), nullable=True),
    sa.Column('priority', sa.String(length=4), nullable=True),
    sa.Column('prioritized', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('account', sa.JSON(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_due', sa.DateTime(), nullable=True),
    sa.Column('restoration_due', sa.DateTime(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('first_response_warned_at', sa.DateTime(), nullable=True),
    sa.Column('restoration_warned_at', sa.DateTime(), nullable=True),
    sa.Column('tracker_event_pending', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent'], ['handoff_agents.username'], name=op.f('fk_handoff_conversations_agent_handoff_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_conversations'))
    )
    with op.batch_alter_table('handoff_conversations', schema=None) as batch_op:
        batch_op.create_index('ix_handoff_conversations_status_queue', ['status', 'queue'], unique=False)

    op.create_table('handoff_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('sender', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons', sa.JSON(), nullable=True),
    sa.Column('handoff', sa.JSON(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['handoff_conversations.id'], name=op.f('fk_handoff_messages_conversation_id_handoff_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_messages'))
    )
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_messages_conversation_id'), ['conversation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_messages_conversation_id'))

    op.drop_table('handoff_messages')
    with op.batch_alter_table('handoff_conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_handoff_conversations_status_queue')

    op.drop_table('handoff_conversations')
    op.drop_table('handoff_tickets')
    op.drop_table('handoff_agents')
    with op.batch_alter_table('handoff_agent_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_agent_actions_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_handoff_agent_actions_agent'))

    op.drop_table('handoff_agent_actions')
