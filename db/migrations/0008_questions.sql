-- "Tanya bidan" (issue 10.1): a mother or a companion asks the midwives of her Puskesmas a
-- question (text, photo, voice note); the first midwife to take it answers. Times are UTC
-- ISO-8601 strings.

-- The clinic's service hours, in the clinic's own time zone: outside them the asker is told
-- when to expect an answer (and the numbers to call). Days: ISO weekdays it is open,
-- 1 = Monday ... 7 = Sunday; Puskesmas usually open Monday to Saturday.
ALTER TABLE clinic ADD COLUMN hours_open TEXT NOT NULL DEFAULT '07:00';
ALTER TABLE clinic ADD COLUMN hours_close TEXT NOT NULL DEFAULT '16:00';
ALTER TABLE clinic ADD COLUMN hours_days TEXT NOT NULL DEFAULT '123456';

-- One question about one mother. Open until answered; only the midwife who took it answers.
-- The day of life and the latest milk report at the time of asking are kept, so the message
-- to the midwives can be shown again (edited) the same way later.
CREATE TABLE question (
    id           INTEGER PRIMARY KEY,
    mother_id    INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    asked_by     INTEGER,                     -- the mother or a companion; NULL once he deleted his data
    asker_role   TEXT NOT NULL CHECK (asker_role IN ('mother', 'companion')),
    clinic_id    INTEGER REFERENCES clinic(id) ON DELETE SET NULL,   -- her clinic when she asked
    asked_day    INTEGER,                     -- the baby's day of life when asked
    report_id    INTEGER REFERENCES milk_report(id) ON DELETE SET NULL,  -- her latest report then
    outside_hours INTEGER NOT NULL DEFAULT 0, -- asked outside the clinic's hours
    asked_at     TEXT NOT NULL,
    taken_at     TEXT,
    taken_by     INTEGER,                     -- the midwife (or administrator); NULL once she deleted her data
    answered_at  TEXT,
    answered_by  INTEGER
);
CREATE INDEX question_mother ON question(mother_id, asked_at);
CREATE INDEX question_open ON question(asked_by, mother_id) WHERE answered_at IS NULL;
CREATE INDEX question_clinic ON question(clinic_id, asked_at);

-- What was said: the question, additions ("Tambahan") and the answer, as text or a photo /
-- voice note (Telegram's file id; the message in the sender's chat, for copyMessage).
CREATE TABLE question_message (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL REFERENCES question(id) ON DELETE CASCADE,
    sender_id   INTEGER,                      -- NULL once the sender deleted her data
    part        TEXT NOT NULL CHECK (part IN ('question', 'addition', 'answer')),
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'photo', 'voice')),
    text        TEXT,                         -- the text, or the caption of a photo
    file_id     TEXT,
    chat_message_id INTEGER,
    at          TEXT NOT NULL
);
CREATE INDEX question_message_question ON question_message(question_id);
CREATE INDEX question_message_sender ON question_message(sender_id);

-- The copies sent to each midwife (or administrator): `header` = the message with the
-- buttons, edited to "taken by / answered by"; a reply in Telegram to any copy answers.
CREATE TABLE question_copy (
    id           INTEGER PRIMARY KEY,
    question_id  INTEGER NOT NULL REFERENCES question(id) ON DELETE CASCADE,
    recipient_id INTEGER NOT NULL,
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('midwife', 'admin')),
    message_id   INTEGER NOT NULL,
    header       INTEGER NOT NULL DEFAULT 0,
    at           TEXT NOT NULL
);
CREATE INDEX question_copy_question ON question_copy(question_id);
CREATE UNIQUE INDEX question_copy_message ON question_copy(recipient_id, message_id);
