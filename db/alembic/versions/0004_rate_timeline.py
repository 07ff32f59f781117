"""The bot token's rate budget shared by every process on one database.

Revision ID: 0004_rate_timeline
Revises: 0003_update_keys
Create Date: 2026-12-03

Telegram's overall cap (30 messages a second) is per bot token, not per process. With several
workers each would otherwise pace itself at the full cap. `rate_timeline` holds the next free
slot of the shared timeline (seconds since the epoch, by the database server's clock) and the end
of a 429 pause; each send reserves its slot with one UPDATE (reminders/cluster_ratelimit.py).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0004_rate_timeline'
down_revision: Union[str, Sequence[str], None] = '0003_update_keys'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rate_timeline',
        sa.Column('name', sa.Text(), primary_key=True),
        sa.Column('next_at', sa.Float(), nullable=False, server_default=sa.text('0')),
        sa.Column('paused_until', sa.Float(), nullable=False, server_default=sa.text('0')),
    )


def downgrade() -> None:
    op.drop_table('rate_timeline')
