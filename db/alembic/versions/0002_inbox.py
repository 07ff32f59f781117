"""The update inbox: every Telegram update is stored before it is confirmed to Telegram.

Revision ID: 0002_inbox
Revises: 0001_baseline
Create Date: 2026-12-03

`update_inbox` holds one row per update (`update_id`, Telegram's id) from the moment the poller
received it until a while after it was handled (`done` rows are pruned: the newest 10,000, at
most a day). `chat_id` is the chat (or user) whose updates must be handled in order; `status`
goes new -> claimed (by `claimed_by`, a worker id, at `claimed_at`) -> done in the unit of work of
the handler; `attempts` counts the claims (an update claimed 3 times without finishing is given
up). See bot/inbox.py and docs/crash-consistency.md.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0002_inbox'
down_revision: Union[str, Sequence[str], None] = '0001_baseline'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A Telegram id: BIGINT on PostgreSQL, INTEGER on SQLite (as in db/schema.py).
TELEGRAM_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('update_inbox',
        sa.Column('update_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('chat_id', TELEGRAM_ID, nullable=True),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('received_at', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), server_default='new', nullable=False),
        sa.Column('claimed_by', sa.Text(), nullable=True),
        sa.Column('claimed_at', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.CheckConstraint("status IN ('new', 'claimed', 'done')", name=op.f('ck_update_inbox_status')),
        sa.PrimaryKeyConstraint('update_id', name=op.f('pk_update_inbox')),
    )
    # the claim: unfinished rows in order; pruning: done rows
    op.create_index('update_inbox_status', 'update_inbox', ['status', 'update_id'], unique=False)
    # one chat's rows (is an older one unfinished, is one claimed?)
    op.create_index('update_inbox_chat', 'update_inbox', ['chat_id', 'update_id'], unique=False)


def downgrade() -> None:
    op.drop_index('update_inbox_chat', table_name='update_inbox')
    op.drop_index('update_inbox_status', table_name='update_inbox')
    op.drop_table('update_inbox')
