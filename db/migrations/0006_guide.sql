-- Massage guide (issue 3): safety checks, picture file ids, guided sessions with a timer,
-- each user's progress through the guide, and quiz details (option order, poll mapping).

-- One row per safety check of a mother; `outcome` is NULL while it is being answered, then
-- 'passed' or the id of the question answered "yes" (the reason to wait with the massage).
CREATE TABLE safety_check (
    id            INTEGER PRIMARY KEY,
    mother_id     INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    checked_by    INTEGER,                 -- mother or companion who answered; NULL once deleted
    started_at    TEXT NOT NULL,
    next_question INTEGER NOT NULL DEFAULT 0,
    outcome       TEXT,
    finished_at   TEXT
);
CREATE INDEX safety_check_mother ON safety_check(mother_id, outcome);

-- Telegram file ids of the guide's pictures: upload once, then send by id. Keyed by the
-- picture's name and a hash of its bytes, so a redrawn picture is uploaded again.
CREATE TABLE media_cache (
    name         TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (name, content_hash)
);

-- A massage with the timer: one message kept up to date while it runs. Ticks read this
-- table, so a restart resumes every running timer.
CREATE TABLE guided_session (
    id          INTEGER PRIMARY KEY,
    mother_id   INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER,                      -- the timer message (set right after it is sent)
    started_at  TEXT NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes > 0),
    status      TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'stopped')),
    shown_step  INTEGER NOT NULL DEFAULT 0,   -- the minute shown in the message (no edit without change)
    last_edit_at TEXT NOT NULL,
    ended_at    TEXT,
    duration_s  INTEGER,
    completed   INTEGER,
    who         TEXT CHECK (who IN ('self', 'husband', 'family', 'cadre')),
    feeling     TEXT CHECK (feeling IN ('relaxed', 'same', 'uncomfortable'))
);
CREATE INDEX guided_session_running ON guided_session(status) WHERE status = 'running';
CREATE UNIQUE INDEX guided_session_one_running ON guided_session(user_id) WHERE status = 'running';
CREATE INDEX guided_session_mother ON guided_session(mother_id);

-- Where a user (mother or companion) is with the guide and the quizzes it offers.
CREATE TABLE guide_progress (
    user_id           INTEGER PRIMARY KEY REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    pretest_offered_at TEXT,
    steps_finished_at TEXT,                  -- reached the last step of the guide
    posttest_offered_at TEXT
);

-- The order in which each item's options were shown: JSON list (one per asked item, same
-- order as item_order) of lists of option indexes as written in the content file.
ALTER TABLE quiz_attempt ADD COLUMN option_order TEXT NOT NULL DEFAULT '[]';

-- Practice mode: which attempt and item a Telegram quiz poll asks.
CREATE TABLE quiz_poll (
    poll_id    TEXT PRIMARY KEY,
    attempt_id INTEGER NOT NULL REFERENCES quiz_attempt(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    sent_at    TEXT NOT NULL
);
CREATE INDEX quiz_poll_attempt ON quiz_poll(attempt_id);
