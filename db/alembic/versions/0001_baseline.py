"""Baseline: the schema of the legacy SQL files db/migrations/0001_foundation.sql … 0012_voice.sql.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-03

Every table, index and trigger those twelve files leave behind, for SQLite and PostgreSQL. A
legacy SQLite file that has all twelve is stamped with this revision instead (see db/migrate.py).
The files' backfills (reminder_pref and quiz_pair rows for existing mothers and attempts, the
copy of the old alert table) have nothing to do on a new, empty database, so they are not here.

Triggers: on SQLite exactly as in the SQL files; on PostgreSQL plpgsql functions with the same
effect (an AFTER … FOR EACH ROW trigger of PostgreSQL sees the table as it is after the whole
statement, SQLite's after each row: the rows they leave behind are the same). Text times are
ordered with COLLATE "C" there, the byte order SQLite uses.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision: str = '0001_baseline'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# A Telegram user, chat or message id: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
TELEGRAM_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('clinic',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('timezone', sa.Text(), nullable=False),
        sa.Column('mother_code', sa.Text(), nullable=False),
        sa.Column('reminder_days', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('district', sa.Text(), nullable=True),
        sa.Column('phone', sa.Text(), nullable=True),
        sa.Column('whatsapp', sa.Text(), nullable=True),
        sa.Column('hours_open', sa.Text(), server_default='07:00', nullable=False),
        sa.Column('hours_close', sa.Text(), server_default='16:00', nullable=False),
        sa.Column('hours_days', sa.Text(), server_default='123456', nullable=False),
        sa.Column('escalate_urgent_minutes', sa.Integer(), server_default=sa.text('15'), nullable=False),
        sa.Column('escalate_warning_hours', sa.Integer(), server_default=sa.text('24'), nullable=False),
        sa.Column('call_list_time', sa.Text(), server_default='07:00', nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic')),
        sa.UniqueConstraint('mother_code', name=op.f('uq_clinic_mother_code'))
    )

    op.create_table('midwife_code',
        sa.Column('code', sa.Text(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('used_by', TELEGRAM_ID, nullable=True),
        sa.Column('used_at', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_midwife_code_clinic_id_clinic'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_midwife_code'))
    )

    op.create_table('app_user',
        sa.Column('telegram_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('role', sa.Text(), nullable=False),
        sa.Column('language', sa.Text(), server_default='id', nullable=False),
        sa.Column('consent_at', sa.Text(), nullable=False),
        sa.Column('active', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.CheckConstraint("language IN ('id', 'en')", name=op.f('ck_app_user_language')),
        sa.CheckConstraint("role IN ('mother', 'companion', 'midwife')", name=op.f('ck_app_user_role')),
        sa.PrimaryKeyConstraint('telegram_id', name=op.f('pk_app_user'))
    )

    op.create_table('mother',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('display_name', sa.Text(), nullable=False),
        sa.Column('delivery_date', sa.Text(), nullable=False),
        sa.Column('first_child', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.Text(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=True),
        sa.Column('pseudonym', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('clinic_chosen_at', sa.Text(), nullable=True),
        sa.Column('birth_time', sa.Text(), nullable=True),
        sa.Column('care_status', sa.Text(), server_default='normal', nullable=False),
        sa.Column('care_status_at', sa.Text(), nullable=True),
        sa.Column('care_status_by', TELEGRAM_ID, nullable=True),
        sa.CheckConstraint("care_status IN ('normal', 'hospital', 'loss')", name=op.f('ck_mother_care_status')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_mother_clinic_id_clinic'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_mother_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_mother')),
        sa.UniqueConstraint('pseudonym', name=op.f('uq_mother_pseudonym'))
    )
    op.create_index('mother_clinic', 'mother', ['clinic_id'], unique=False)

    op.create_table('companion_invite',
        sa.Column('code', sa.Text(), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('revoked_at', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_companion_invite_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_companion_invite'))
    )
    op.create_index('companion_invite_mother', 'companion_invite', ['mother_id'], unique=False)

    op.create_table('companion_link',
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('companion_id', TELEGRAM_ID, nullable=False),
        sa.Column('relation', sa.Text(), nullable=False),
        sa.Column('display_name', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.CheckConstraint("relation IN ('husband', 'family', 'cadre')", name=op.f('ck_companion_link_relation')),
        sa.ForeignKeyConstraint(['companion_id'], ['app_user.telegram_id'], name=op.f('fk_companion_link_companion_id_app_user'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_companion_link_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mother_id', 'companion_id', name=op.f('pk_companion_link'))
    )
    op.create_index('companion_link_companion', 'companion_link', ['companion_id'], unique=False)

    op.create_table('midwife',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('display_name', sa.Text(), server_default='', nullable=False),
        sa.Column('joined_at', sa.Text(), nullable=False),
        sa.Column('coordinator', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('call_list_sent_on', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_midwife_clinic_id_clinic'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_midwife_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_midwife'))
    )

    op.create_table('conversation_state',
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'key', name=op.f('pk_conversation_state'))
    )

    op.create_table('user_draft',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_draft'))
    )

    op.create_table('massage_session',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('logged_by', TELEGRAM_ID, nullable=True),
        sa.Column('who', sa.Text(), nullable=True),
        sa.Column('slot_date', sa.Text(), nullable=False),
        sa.Column('slot', sa.Text(), nullable=False),
        sa.Column('started_at', sa.Text(), nullable=False),
        sa.Column('duration_s', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('completed', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('feeling', sa.Text(), nullable=True),
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.CheckConstraint("slot IN ('morning', 'evening')", name=op.f('ck_massage_session_slot')),
        sa.CheckConstraint("source IN ('guide', 'reminder', 'manual')", name=op.f('ck_massage_session_source')),
        sa.CheckConstraint("who IN ('self', 'husband', 'family', 'cadre')", name=op.f('ck_massage_session_who')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_massage_session_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_massage_session')),
        sa.UniqueConstraint('mother_id', 'slot_date', 'slot', name=op.f('uq_massage_session_mother_id_slot_date_slot'))
    )
    op.create_index('massage_session_mother', 'massage_session', ['mother_id', 'started_at'], unique=False)

    op.create_table('quiz_attempt',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('user_id', TELEGRAM_ID, nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('lang', sa.Text(), nullable=False),
        sa.Column('item_order', sa.Text(), nullable=False),
        sa.Column('started_at', sa.Text(), nullable=False),
        sa.Column('finished_at', sa.Text(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('option_order', sa.Text(), server_default='[]', nullable=False),
        sa.CheckConstraint("kind IN ('pre', 'post', 'practice')", name=op.f('ck_quiz_attempt_kind')),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_quiz_attempt_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempt'))
    )
    op.create_index('quiz_attempt_user', 'quiz_attempt', ['user_id', 'kind'], unique=False)
    op.create_index('quiz_attempt_user_finished', 'quiz_attempt', ['user_id', 'kind', 'finished_at'], unique=False)

    op.create_table('quiz_answer',
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Text(), nullable=False),
        sa.Column('chosen', sa.Integer(), nullable=False),
        sa.Column('correct', sa.Integer(), nullable=False),
        sa.Column('answered_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], name=op.f('fk_quiz_answer_attempt_id_quiz_attempt'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('attempt_id', 'item_id', name=op.f('pk_quiz_answer'))
    )

    op.create_table('reminder_pref',
        sa.Column('mother_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('morning', sa.Text(), nullable=True),
        sa.Column('evening', sa.Text(), nullable=True),
        sa.Column('paused_until', sa.Text(), nullable=True),
        sa.Column('next_check_at', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_reminder_pref_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mother_id', name=op.f('pk_reminder_pref'))
    )
    op.create_index('reminder_pref_next', 'reminder_pref', ['next_check_at'], unique=False, sqlite_where=sa.text('next_check_at IS NOT NULL'), postgresql_where=sa.text('next_check_at IS NOT NULL'))

    op.create_table('reminder_mute',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('until', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_reminder_mute_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_mute'))
    )

    op.create_table('reminder_delivery',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('recipient_id', TELEGRAM_ID, nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('slot_date', sa.Text(), nullable=False),
        sa.Column('slot', sa.Text(), nullable=False),
        sa.Column('due_at', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('snoozes', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('claim_token', sa.Text(), nullable=True),
        sa.Column('claimed_at', sa.Text(), nullable=True),
        sa.Column('message_id', TELEGRAM_ID, nullable=True),
        sa.Column('sent_at', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.Text(), nullable=False),
        sa.CheckConstraint("slot IN ('morning', 'evening')", name=op.f('ck_reminder_delivery_slot')),
        sa.CheckConstraint("status IN ('pending', 'claimed', 'sending', 'sent', 'failed', 'blocked', 'missed', 'skipped', 'snoozed', 'done')", name=op.f('ck_reminder_delivery_status')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_reminder_delivery_mother_id_mother'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recipient_id'], ['app_user.telegram_id'], name=op.f('fk_reminder_delivery_recipient_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_delivery')),
        sa.UniqueConstraint('recipient_id', 'mother_id', 'slot_date', 'slot', name=op.f('uq_reminder_delivery_recipient_id_mother_id_slot_date_slot'))
    )
    op.create_index('reminder_delivery_due', 'reminder_delivery', ['due_at'], unique=False, sqlite_where=sa.text("status IN ('pending', 'snoozed')"), postgresql_where=sa.text("status IN ('pending', 'snoozed')"))
    op.create_index('reminder_delivery_open', 'reminder_delivery', ['status'], unique=False, sqlite_where=sa.text("status IN ('claimed', 'sending')"), postgresql_where=sa.text("status IN ('claimed', 'sending')"))
    op.create_index('reminder_delivery_slot', 'reminder_delivery', ['mother_id', 'slot_date', 'slot'], unique=False)

    op.create_table('milk_report',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('reported_by', TELEGRAM_ID, nullable=True),
        sa.Column('reporter_role', sa.Text(), nullable=False),
        sa.Column('reported_at', sa.Text(), nullable=False),
        sa.Column('postpartum_day', sa.Integer(), nullable=False),
        sa.Column('phase', sa.Text(), nullable=False),
        sa.Column('milk_flow', sa.Text(), nullable=False),
        sa.Column('feeds_24h', sa.Integer(), nullable=True),
        sa.Column('wet_nappies_24h', sa.Integer(), nullable=True),
        sa.Column('breasts', sa.Text(), nullable=True),
        sa.Column('danger_signs', sa.Text(), nullable=True),
        sa.CheckConstraint("breasts IN ('soft', 'full', 'hard_painful')", name=op.f('ck_milk_report_breasts')),
        sa.CheckConstraint("milk_flow IN ('not_out', 'not_smooth', 'smooth')", name=op.f('ck_milk_report_milk_flow')),
        sa.CheckConstraint("phase IN ('pre', 'post')", name=op.f('ck_milk_report_phase')),
        sa.CheckConstraint("reporter_role IN ('mother', 'companion')", name=op.f('ck_milk_report_reporter_role')),
        sa.CheckConstraint('feeds_24h BETWEEN 0 AND 40', name=op.f('ck_milk_report_feeds_24h')),
        sa.CheckConstraint('wet_nappies_24h BETWEEN 0 AND 30', name=op.f('ck_milk_report_wet_nappies_24h')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_milk_report_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_milk_report'))
    )
    op.create_index('milk_report_mother_phase', 'milk_report', ['mother_id', 'phase', 'reported_at'], unique=False)
    op.create_index('milk_report_mother_time', 'milk_report', ['mother_id', 'reported_at'], unique=False)

    op.create_table('milk_pair',
        sa.Column('mother_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('first_pre', sa.Text(), nullable=True),
        sa.Column('latest_post', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_milk_pair_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mother_id', name=op.f('pk_milk_pair'))
    )

    op.create_table('alert',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('cause', sa.Text(), nullable=False),
        sa.Column('urgency', sa.Text(), server_default='warning', nullable=False),
        sa.Column('detail', sa.Text(), server_default='', nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('report_day', sa.Integer(), nullable=True),
        sa.Column('raised_by', TELEGRAM_ID, nullable=True),
        sa.Column('opened_at', sa.Text(), nullable=False),
        sa.Column('closed_at', sa.Text(), nullable=True),
        sa.Column('closed_by', TELEGRAM_ID, nullable=True),
        sa.Column('closed_how', sa.Text(), nullable=True),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.Column('notified_at', sa.Text(), nullable=True),
        sa.Column('taken_at', sa.Text(), nullable=True),
        sa.Column('taken_by', TELEGRAM_ID, nullable=True),
        sa.Column('escalated_at', sa.Text(), nullable=True),
        sa.CheckConstraint("closed_how IN ('midwife', 'resolved', 'seen')", name=op.f('ck_alert_closed_how')),
        sa.CheckConstraint("outcome IN ('seen', 'referred', 'unreachable')", name=op.f('ck_alert_outcome')),
        sa.CheckConstraint("urgency IN ('urgent', 'warning', 'info')", name=op.f('ck_alert_urgency')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_alert_mother_id_mother'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['milk_report.id'], name=op.f('fk_alert_report_id_milk_report'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
        sa.UniqueConstraint('mother_id', 'cause', name=op.f('uq_alert_mother_id_cause'))
    )
    op.create_index('alert_open', 'alert', ['mother_id'], unique=False, sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
    op.create_index('alert_untaken', 'alert', ['opened_at'], unique=False, sqlite_where=sa.text('closed_at IS NULL AND taken_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL AND taken_at IS NULL'))

    op.create_table('midwife_note',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('midwife_id', TELEGRAM_ID, nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_midwife_note_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_midwife_note'))
    )
    op.create_index('midwife_note_mother', 'midwife_note', ['mother_id', 'created_at'], unique=False)

    op.create_table('quiz_pair',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('first_pre', sa.Integer(), nullable=True),
        sa.Column('latest_post', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_quiz_pair_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_quiz_pair'))
    )

    op.create_table('safety_check',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('checked_by', TELEGRAM_ID, nullable=True),
        sa.Column('started_at', sa.Text(), nullable=False),
        sa.Column('next_question', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.Column('finished_at', sa.Text(), nullable=True),
        sa.Column('kind', sa.Text(), server_default='full', nullable=False),
        sa.CheckConstraint("kind IN ('full', 'short')", name=op.f('ck_safety_check_kind')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_safety_check_mother_id_mother'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_check'))
    )
    op.create_index('safety_check_mother', 'safety_check', ['mother_id', 'outcome'], unique=False)

    op.create_table('media_cache',
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.Text(), nullable=False),
        sa.Column('file_id', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'content_hash', name=op.f('pk_media_cache'))
    )

    op.create_table('guided_session',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('user_id', TELEGRAM_ID, nullable=False),
        sa.Column('chat_id', TELEGRAM_ID, nullable=False),
        sa.Column('message_id', TELEGRAM_ID, nullable=True),
        sa.Column('started_at', sa.Text(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('status', sa.Text(), server_default='running', nullable=False),
        sa.Column('shown_step', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_edit_at', sa.Text(), nullable=False),
        sa.Column('ended_at', sa.Text(), nullable=True),
        sa.Column('duration_s', sa.Integer(), nullable=True),
        sa.Column('completed', sa.Integer(), nullable=True),
        sa.Column('who', sa.Text(), nullable=True),
        sa.Column('feeling', sa.Text(), nullable=True),
        sa.CheckConstraint("feeling IN ('relaxed', 'same', 'uncomfortable')", name=op.f('ck_guided_session_feeling')),
        sa.CheckConstraint("status IN ('running', 'done', 'stopped')", name=op.f('ck_guided_session_status')),
        sa.CheckConstraint("who IN ('self', 'husband', 'family', 'cadre')", name=op.f('ck_guided_session_who')),
        sa.CheckConstraint('minutes > 0', name=op.f('ck_guided_session_minutes')),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_guided_session_mother_id_mother'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_guided_session_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_guided_session'))
    )
    op.create_index('guided_session_mother', 'guided_session', ['mother_id'], unique=False)
    op.create_index('guided_session_one_running', 'guided_session', ['user_id'], unique=True, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))
    op.create_index('guided_session_running', 'guided_session', ['status'], unique=False, sqlite_where=sa.text("status = 'running'"), postgresql_where=sa.text("status = 'running'"))

    op.create_table('guide_progress',
        sa.Column('user_id', TELEGRAM_ID, autoincrement=False, nullable=False),
        sa.Column('pretest_offered_at', sa.Text(), nullable=True),
        sa.Column('steps_finished_at', sa.Text(), nullable=True),
        sa.Column('posttest_offered_at', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.telegram_id'], name=op.f('fk_guide_progress_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_guide_progress'))
    )

    op.create_table('quiz_poll',
        sa.Column('poll_id', sa.Text(), nullable=False),
        sa.Column('attempt_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('chat_id', TELEGRAM_ID, nullable=False),
        sa.Column('message_id', TELEGRAM_ID, nullable=False),
        sa.Column('sent_at', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempt.id'], name=op.f('fk_quiz_poll_attempt_id_quiz_attempt'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_quiz_poll'))
    )
    op.create_index('quiz_poll_attempt', 'quiz_poll', ['attempt_id'], unique=False)

    op.create_table('alert_delivery',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', TELEGRAM_ID, nullable=True),
        sa.Column('recipient_kind', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), nullable=False),
        sa.Column('message_id', TELEGRAM_ID, nullable=True),
        sa.Column('at', sa.Text(), nullable=False),
        sa.CheckConstraint("recipient_kind IN ('midwife', 'admin', 'companion', 'mother')", name=op.f('ck_alert_delivery_recipient_kind')),
        sa.CheckConstraint("status IN ('sent', 'failed', 'blocked')", name=op.f('ck_alert_delivery_status')),
        sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_delivery_alert_id_alert'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_delivery'))
    )
    op.create_index('alert_delivery_alert', 'alert_delivery', ['alert_id'], unique=False)
    op.create_index('alert_delivery_recipient', 'alert_delivery', ['recipient_id'], unique=False)

    op.create_table('question',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('mother_id', TELEGRAM_ID, nullable=False),
        sa.Column('asked_by', TELEGRAM_ID, nullable=True),
        sa.Column('asker_role', sa.Text(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=True),
        sa.Column('asked_day', sa.Integer(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('outside_hours', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('asked_at', sa.Text(), nullable=False),
        sa.Column('taken_at', sa.Text(), nullable=True),
        sa.Column('taken_by', TELEGRAM_ID, nullable=True),
        sa.Column('answered_at', sa.Text(), nullable=True),
        sa.Column('answered_by', TELEGRAM_ID, nullable=True),
        sa.CheckConstraint("asker_role IN ('mother', 'companion')", name=op.f('ck_question_asker_role')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_question_clinic_id_clinic'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['mother_id'], ['mother.user_id'], name=op.f('fk_question_mother_id_mother'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['report_id'], ['milk_report.id'], name=op.f('fk_question_report_id_milk_report'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_question'))
    )
    op.create_index('question_clinic', 'question', ['clinic_id', 'asked_at'], unique=False)
    op.create_index('question_mother', 'question', ['mother_id', 'asked_at'], unique=False)
    op.create_index('question_open', 'question', ['asked_by', 'mother_id'], unique=False, sqlite_where=sa.text('answered_at IS NULL'), postgresql_where=sa.text('answered_at IS NULL'))

    op.create_table('question_message',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('sender_id', TELEGRAM_ID, nullable=True),
        sa.Column('part', sa.Text(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('file_id', sa.Text(), nullable=True),
        sa.Column('chat_message_id', TELEGRAM_ID, nullable=True),
        sa.Column('at', sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('text', 'photo', 'voice')", name=op.f('ck_question_message_kind')),
        sa.CheckConstraint("part IN ('question', 'addition', 'answer')", name=op.f('ck_question_message_part')),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_question_message_question_id_question'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_question_message'))
    )
    op.create_index('question_message_question', 'question_message', ['question_id'], unique=False)
    op.create_index('question_message_sender', 'question_message', ['sender_id'], unique=False)

    op.create_table('question_copy',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', TELEGRAM_ID, nullable=False),
        sa.Column('recipient_kind', sa.Text(), nullable=False),
        sa.Column('message_id', TELEGRAM_ID, nullable=False),
        sa.Column('header', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('at', sa.Text(), nullable=False),
        sa.CheckConstraint("recipient_kind IN ('midwife', 'admin')", name=op.f('ck_question_copy_recipient_kind')),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_question_copy_question_id_question'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_question_copy'))
    )
    op.create_index('question_copy_message', 'question_copy', ['recipient_id', 'message_id'], unique=True)
    op.create_index('question_copy_question', 'question_copy', ['question_id'], unique=False)

    op.create_table('dashboard_login',
        sa.Column('token_hash', sa.Text(), nullable=False),
        sa.Column('midwife_id', TELEGRAM_ID, nullable=False),
        sa.Column('created_at', sa.Text(), nullable=False),
        sa.Column('expires_at', sa.Text(), nullable=False),
        sa.Column('used_at', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['midwife_id'], ['midwife.user_id'], name=op.f('fk_dashboard_login_midwife_id_midwife'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_dashboard_login'))
    )
    op.create_index('dashboard_login_midwife', 'dashboard_login', ['midwife_id'], unique=False)

    op.create_table('clinic_voice',
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.Text(), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('file_id', sa.Text(), nullable=False),
        sa.Column('duration_s', sa.Integer(), nullable=True),
        sa.Column('recorded_by', TELEGRAM_ID, nullable=True),
        sa.Column('recorded_at', sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('voice', 'audio')", name=op.f('ck_clinic_voice_kind')),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_clinic_voice_clinic_id_clinic'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by'], ['app_user.telegram_id'], name=op.f('fk_clinic_voice_recorded_by_app_user'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('clinic_id', 'step', name=op.f('pk_clinic_voice'))
    )
    op.create_index('clinic_voice_recorder', 'clinic_voice', ['recorded_by'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table in TRIGGERS:
        if dialect == 'postgresql':
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.drop_table('clinic_voice')
    op.drop_table('dashboard_login')
    op.drop_table('question_copy')
    op.drop_table('question_message')
    op.drop_table('question')
    op.drop_table('alert_delivery')
    op.drop_table('quiz_poll')
    op.drop_table('guide_progress')
    op.drop_table('guided_session')
    op.drop_table('media_cache')
    op.drop_table('safety_check')
    op.drop_table('quiz_pair')
    op.drop_table('midwife_note')
    op.drop_table('alert')
    op.drop_table('milk_pair')
    op.drop_table('milk_report')
    op.drop_table('reminder_delivery')
    op.drop_table('reminder_mute')
    op.drop_table('reminder_pref')
    op.drop_table('quiz_answer')
    op.drop_table('quiz_attempt')
    op.drop_table('massage_session')
    op.drop_table('user_draft')
    op.drop_table('conversation_state')
    op.drop_table('midwife')
    op.drop_table('companion_link')
    op.drop_table('companion_invite')
    op.drop_table('mother')
    op.drop_table('app_user')
    op.drop_table('midwife_code')
    op.drop_table('clinic')


# --- triggers ------------------------------------------------------------------------------------

TRIGGERS = [  # (name, table); on PostgreSQL each trigger calls the function of the same name
    ('reminder_pref_for_new_mother', 'mother'),
    ('milk_pair_on_insert', 'milk_report'),
    ('milk_pair_on_update', 'milk_report'),
    ('milk_pair_on_delete', 'milk_report'),
    ('quiz_pair_on_insert', 'quiz_attempt'),
    ('quiz_pair_on_update', 'quiz_attempt'),
    ('quiz_pair_on_delete', 'quiz_attempt'),
]

# SQLite: as written in 0004_reminders.sql and 0005_reports.sql.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER reminder_pref_for_new_mother AFTER INSERT ON mother
BEGIN
    INSERT OR IGNORE INTO reminder_pref(mother_id, next_check_at, updated_at)
    VALUES (NEW.user_id, NEW.created_at, NEW.created_at);
END""",
    """CREATE TRIGGER milk_pair_on_insert AFTER INSERT ON milk_report
BEGIN
    INSERT INTO milk_pair(mother_id, first_pre, latest_post) VALUES (NEW.mother_id,
        (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'pre'
         ORDER BY reported_at, id LIMIT 1),
        (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'post'
         ORDER BY reported_at DESC, id DESC LIMIT 1))
    ON CONFLICT(mother_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END""",
    """CREATE TRIGGER milk_pair_on_update AFTER UPDATE OF phase, milk_flow, reported_at ON milk_report
BEGIN
    UPDATE milk_pair SET
        first_pre = (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'pre'
                     ORDER BY reported_at, id LIMIT 1),
        latest_post = (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'post'
                       ORDER BY reported_at DESC, id DESC LIMIT 1)
    WHERE mother_id = NEW.mother_id;
END""",
    """CREATE TRIGGER milk_pair_on_delete AFTER DELETE ON milk_report
BEGIN
    UPDATE milk_pair SET
        first_pre = (SELECT milk_flow FROM milk_report WHERE mother_id = OLD.mother_id AND phase = 'pre'
                     ORDER BY reported_at, id LIMIT 1),
        latest_post = (SELECT milk_flow FROM milk_report WHERE mother_id = OLD.mother_id AND phase = 'post'
                       ORDER BY reported_at DESC, id DESC LIMIT 1)
    WHERE mother_id = OLD.mother_id;
END""",
    """CREATE TRIGGER quiz_pair_on_insert AFTER INSERT ON quiz_attempt
BEGIN
    INSERT INTO quiz_pair(user_id, first_pre, latest_post) VALUES (NEW.user_id,
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'pre'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'post'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1))
    ON CONFLICT(user_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END""",
    """CREATE TRIGGER quiz_pair_on_update AFTER UPDATE OF kind, finished_at, score ON quiz_attempt
BEGIN
    INSERT INTO quiz_pair(user_id, first_pre, latest_post) VALUES (NEW.user_id,
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'pre'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'post'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1))
    ON CONFLICT(user_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END""",
    """CREATE TRIGGER quiz_pair_on_delete AFTER DELETE ON quiz_attempt
BEGIN
    UPDATE quiz_pair SET
        first_pre = (SELECT score FROM quiz_attempt WHERE user_id = OLD.user_id AND kind = 'pre'
                     AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        latest_post = (SELECT score FROM quiz_attempt WHERE user_id = OLD.user_id AND kind = 'post'
                       AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1)
    WHERE user_id = OLD.user_id;
END""",
]


def _milk(row: str) -> tuple[str, str]:
    """The milk flow of the mother's first 'pre' and latest 'post' report (NULL if none)."""
    return (f"""(SELECT milk_flow FROM milk_report WHERE mother_id = {row}.mother_id AND phase = 'pre'
             ORDER BY reported_at COLLATE "C", id LIMIT 1)""",
            f"""(SELECT milk_flow FROM milk_report WHERE mother_id = {row}.mother_id AND phase = 'post'
             ORDER BY reported_at COLLATE "C" DESC, id DESC LIMIT 1)""")


def _quiz(row: str) -> tuple[str, str]:
    """The score of the person's first finished pre-test and latest finished post-test."""
    return (f"""(SELECT score FROM quiz_attempt WHERE user_id = {row}.user_id AND kind = 'pre'
             AND finished_at IS NOT NULL AND score IS NOT NULL
             ORDER BY finished_at COLLATE "C", id LIMIT 1)""",
            f"""(SELECT score FROM quiz_attempt WHERE user_id = {row}.user_id AND kind = 'post'
             AND finished_at IS NOT NULL AND score IS NOT NULL
             ORDER BY finished_at COLLATE "C" DESC, id DESC LIMIT 1)""")


def _function(name: str, body: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    {body.strip()}
    RETURN NULL;
END
$body$"""


def _upsert(table: str, key: str, row: str, pair: tuple[str, str]) -> str:
    return f"""INSERT INTO {table}({key}, first_pre, latest_post) VALUES ({row}.{key},
        {pair[0]},
        {pair[1]})
    ON CONFLICT ({key}) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;"""


def _refresh(table: str, key: str, row: str, pair: tuple[str, str]) -> str:
    """An UPDATE, not an upsert: when the person herself is being deleted her row is gone."""
    return f"""UPDATE {table} SET
        first_pre = {pair[0]},
        latest_post = {pair[1]}
    WHERE {key} = {row}.{key};"""


POSTGRESQL_TRIGGERS = [
    _function('reminder_pref_for_new_mother', """
    INSERT INTO reminder_pref(mother_id, next_check_at, updated_at)
    VALUES (NEW.user_id, NEW.created_at, NEW.created_at)
    ON CONFLICT DO NOTHING;"""),
    """CREATE TRIGGER reminder_pref_for_new_mother AFTER INSERT ON mother
    FOR EACH ROW EXECUTE FUNCTION reminder_pref_for_new_mother()""",

    _function('milk_pair_on_insert', _upsert('milk_pair', 'mother_id', 'NEW', _milk('NEW'))),
    """CREATE TRIGGER milk_pair_on_insert AFTER INSERT ON milk_report
    FOR EACH ROW EXECUTE FUNCTION milk_pair_on_insert()""",
    _function('milk_pair_on_update', _refresh('milk_pair', 'mother_id', 'NEW', _milk('NEW'))),
    """CREATE TRIGGER milk_pair_on_update AFTER UPDATE OF phase, milk_flow, reported_at ON milk_report
    FOR EACH ROW EXECUTE FUNCTION milk_pair_on_update()""",
    _function('milk_pair_on_delete', _refresh('milk_pair', 'mother_id', 'OLD', _milk('OLD'))),
    """CREATE TRIGGER milk_pair_on_delete AFTER DELETE ON milk_report
    FOR EACH ROW EXECUTE FUNCTION milk_pair_on_delete()""",

    _function('quiz_pair_on_insert', _upsert('quiz_pair', 'user_id', 'NEW', _quiz('NEW'))),
    """CREATE TRIGGER quiz_pair_on_insert AFTER INSERT ON quiz_attempt
    FOR EACH ROW EXECUTE FUNCTION quiz_pair_on_insert()""",
    # an upsert, as on SQLite (0005_reports.sql)
    _function('quiz_pair_on_update', _upsert('quiz_pair', 'user_id', 'NEW', _quiz('NEW'))),
    """CREATE TRIGGER quiz_pair_on_update AFTER UPDATE OF kind, finished_at, score ON quiz_attempt
    FOR EACH ROW EXECUTE FUNCTION quiz_pair_on_update()""",
    _function('quiz_pair_on_delete', _refresh('quiz_pair', 'user_id', 'OLD', _quiz('OLD'))),
    """CREATE TRIGGER quiz_pair_on_delete AFTER DELETE ON quiz_attempt
    FOR EACH ROW EXECUTE FUNCTION quiz_pair_on_delete()""",
]
