-- Her own voice (issue 11.3): a midwife records a voice note for one step of the massage
-- guide, or for the danger screen; the mothers of her Puskesmas (and their companions, who
-- massage) hear it right after that step's picture. The voice belongs to the clinic, not to
-- the midwife: it stays when she leaves, without her id. Times are UTC ISO-8601 strings.
CREATE TABLE clinic_voice (
    clinic_id   INTEGER NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    step        TEXT NOT NULL,            -- a step id of guide.yaml (prepare ... finish) or 'danger'
    kind        TEXT NOT NULL CHECK (kind IN ('voice', 'audio')),   -- a voice note or an audio file
    file_id     TEXT NOT NULL,            -- Telegram's file id: sent again by id, never downloaded
    duration_s  INTEGER,
    -- the midwife who recorded it; NULL once she left (removed, or deleted her data)
    recorded_by INTEGER REFERENCES app_user(telegram_id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (clinic_id, step)
);
CREATE INDEX clinic_voice_recorder ON clinic_voice(recorded_by);
