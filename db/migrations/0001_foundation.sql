-- Foundation: clinics, users and their roles, companion links, conversation state.
-- Times are UTC ISO-8601 strings; local dates are YYYY-MM-DD in the user's zone.

CREATE TABLE clinic (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    timezone      TEXT NOT NULL,
    mother_code   TEXT NOT NULL UNIQUE,
    reminder_days INTEGER,                       -- per-clinic override of the reminder window
    created_at    TEXT NOT NULL
);

CREATE TABLE midwife_code (
    code       TEXT PRIMARY KEY,
    clinic_id  INTEGER NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    used_by    INTEGER,
    used_at    TEXT
);

CREATE TABLE app_user (
    telegram_id INTEGER PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('mother', 'companion', 'midwife')),
    language    TEXT NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    consent_at  TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,       -- 0 once she blocked the bot
    created_at  TEXT NOT NULL
);

CREATE TABLE mother (
    user_id       INTEGER PRIMARY KEY REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    display_name  TEXT NOT NULL,
    delivery_date TEXT NOT NULL,
    first_child   INTEGER NOT NULL,
    timezone      TEXT NOT NULL,
    clinic_id     INTEGER REFERENCES clinic(id) ON DELETE SET NULL,
    pseudonym     TEXT NOT NULL UNIQUE,          -- used in exports instead of names or ids
    created_at    TEXT NOT NULL
);
CREATE INDEX mother_clinic ON mother(clinic_id);

CREATE TABLE companion_invite (
    code       TEXT PRIMARY KEY,
    mother_id  INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX companion_invite_mother ON companion_invite(mother_id);

CREATE TABLE companion_link (
    mother_id    INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    companion_id INTEGER NOT NULL REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    relation     TEXT NOT NULL CHECK (relation IN ('husband', 'family', 'cadre')),
    display_name TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    PRIMARY KEY (mother_id, companion_id)
);
CREATE INDEX companion_link_companion ON companion_link(companion_id);

CREATE TABLE midwife (
    user_id      INTEGER PRIMARY KEY REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    clinic_id    INTEGER NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    joined_at    TEXT NOT NULL
);

-- python-telegram-bot persistence: conversation states and per-user drafts.
CREATE TABLE conversation_state (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE user_draft (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);
