-- Knowledge tests (issue 3): every attempt and every answer, for pre/post comparison.
CREATE TABLE quiz_attempt (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('pre', 'post', 'practice')),
    lang        TEXT NOT NULL,
    item_order  TEXT NOT NULL,          -- JSON list of item ids in the order asked
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    score       INTEGER                 -- 0-100 once finished
);
CREATE INDEX quiz_attempt_user ON quiz_attempt(user_id, kind);

CREATE TABLE quiz_answer (
    attempt_id  INTEGER NOT NULL REFERENCES quiz_attempt(id) ON DELETE CASCADE,
    item_id     TEXT NOT NULL,
    chosen      INTEGER NOT NULL,       -- option index as written in the content file
    correct     INTEGER NOT NULL,       -- 1 if right
    answered_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, item_id)
);
