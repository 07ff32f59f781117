-- Reminders (issue 4): each mother's reminder times, companions' own pauses, and the record of
-- every reminder delivery. The database is the source of truth for what is due; the scheduler
-- only wakes the dispatcher. Times are UTC ISO-8601; slot_date is the mother's local date.

-- One row per mother (created by the trigger below when she registers).
CREATE TABLE reminder_pref (
    mother_id     INTEGER PRIMARY KEY REFERENCES mother(user_id) ON DELETE CASCADE,
    morning       TEXT,          -- HH:MM local, before 12:00; NULL = the REMINDER_MORNING setting
    evening       TEXT,          -- HH:MM local, from 12:00; NULL = the REMINDER_EVENING setting
    paused_until  TEXT,          -- no reminders of her slots (to her or her companions) before this
    next_check_at TEXT,          -- instant of her next slot not yet planned; NULL: window over
    updated_at    TEXT NOT NULL
);
CREATE INDEX reminder_pref_next ON reminder_pref(next_check_at) WHERE next_check_at IS NOT NULL;

-- A companion's own pause: only his or her reminders stop, the mother's go on.
CREATE TABLE reminder_mute (
    user_id    INTEGER PRIMARY KEY REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    until      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per recipient, mother and slot: the key that makes a second send impossible.
-- pending  -> claimed (a dispatcher run reserved it; nothing sent yet)
--          -> sending (the request to Telegram is about to leave; outcome unknown until recorded)
--          -> sent (message_id recorded) | failed | blocked (403)
-- pending/snoozed -> missed (more than the grace period late: never sent late)
-- sent -> snoozed (due again at due_at) | skipped | done (the slot's massage was logged)
CREATE TABLE reminder_delivery (
    id           INTEGER PRIMARY KEY,
    recipient_id INTEGER NOT NULL REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    mother_id    INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    slot_date    TEXT NOT NULL,
    slot         TEXT NOT NULL CHECK (slot IN ('morning', 'evening')),
    due_at       TEXT NOT NULL,  -- when it is (next) due; a snooze moves it
    status       TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'sending', 'sent', 'failed',
                                                 'blocked', 'missed', 'skipped', 'snoozed', 'done')),
    reason       TEXT,           -- why skipped / failed / missed (short code, no personal data)
    attempts     INTEGER NOT NULL DEFAULT 0,
    snoozes      INTEGER NOT NULL DEFAULT 0,
    claim_token  TEXT,           -- which dispatcher run claimed it
    claimed_at   TEXT,
    message_id   INTEGER,        -- Telegram's id of the reminder message, once sent
    sent_at      TEXT,
    updated_at   TEXT NOT NULL,
    UNIQUE (recipient_id, mother_id, slot_date, slot)
);
CREATE INDEX reminder_delivery_due ON reminder_delivery(due_at)
    WHERE status IN ('pending', 'snoozed');
CREATE INDEX reminder_delivery_open ON reminder_delivery(status)
    WHERE status IN ('claimed', 'sending');
CREATE INDEX reminder_delivery_slot ON reminder_delivery(mother_id, slot_date, slot);

-- A new mother gets default reminders, planned from the moment she registered.
CREATE TRIGGER reminder_pref_for_new_mother AFTER INSERT ON mother
BEGIN
    INSERT OR IGNORE INTO reminder_pref(mother_id, next_check_at, updated_at)
    VALUES (NEW.user_id, NEW.created_at, NEW.created_at);
END;

-- Mothers registered before this migration start with the next slot from now on.
INSERT OR IGNORE INTO reminder_pref(mother_id, next_check_at, updated_at)
SELECT user_id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM mother;
