-- Massage sessions: logged by the guide's timer or by a reminder's "sudah dipijat".
-- One row per mother and slot: whoever logs first, it counts once.
CREATE TABLE massage_session (
    id           INTEGER PRIMARY KEY,
    mother_id    INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    logged_by    INTEGER,                                -- NULL once that user deleted her data
    who          TEXT CHECK (who IN ('self', 'husband', 'family', 'cadre')),
    slot_date    TEXT NOT NULL,                          -- local date of the mother
    slot         TEXT NOT NULL CHECK (slot IN ('morning', 'evening')),
    started_at   TEXT NOT NULL,
    duration_s   INTEGER NOT NULL DEFAULT 0,
    completed    INTEGER NOT NULL DEFAULT 1,
    feeling      TEXT,
    source       TEXT NOT NULL CHECK (source IN ('guide', 'reminder', 'manual')),
    created_at   TEXT NOT NULL,
    UNIQUE (mother_id, slot_date, slot)
);
CREATE INDEX massage_session_mother ON massage_session(mother_id, started_at);
