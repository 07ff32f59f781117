"""Rows a user's update writes carry that update's id, so that handling it again does not repeat them.

Revision ID: 0003_update_keys
Revises: 0002_inbox
Create Date: 2026-12-04

A handler commits its rows before each Telegram request, the inbox row's `done` only when the
update ends (docs/crash-consistency.md): after a crash in between, the update is handled again.
The tables such a handler inserts into with a plain INSERT get a nullable `update_id` (Telegram's
id of the update that wrote the row; NULL for rows written otherwise and for older rows) with a
unique index, and their insert functions write `ON CONFLICT (update_id) DO NOTHING`, continuing
with the row the first attempt stored (see db/queries/replay.py):

- milk_report: the milk-flow answer of /lapor, of the report offer and of the baseline question;
- question_message: a question, an addition or a midwife's answer (one message, one part; the
  question row of a new question is found through its first part);
- midwife_note: a midwife's note on a mother's record;
- safety_check: the check started by a button of the guide or the timer.

The other tables a user's update inserts into are idempotent already (a unique key of their own:
alert per mother and cause, massage_session per slot, quiz_answer per attempt and item, ...).
A plain unique index: NULLs never collide, on SQLite and on PostgreSQL.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0003_update_keys'
down_revision: Union[str, Sequence[str], None] = '0002_inbox'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A Telegram id: BIGINT on PostgreSQL, INTEGER on SQLite (as in db/schema.py).
TELEGRAM_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

TABLES = ('milk_report', 'question_message', 'midwife_note', 'safety_check')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('update_id', TELEGRAM_ID, nullable=True))
        op.create_index(f'{table}_update', table, ['update_id'], unique=True)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f'{table}_update', table_name=table)
        op.drop_column(table, 'update_id')
