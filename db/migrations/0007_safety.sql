-- The safety loop (issue 8): every mother in a Puskesmas with a number to call, a danger sign
-- that pauses the massage until she has been seen, loss and hospital, alerts that follow the
-- facts and reach someone. Times are UTC ISO-8601 strings.

-- A clinic's district and the numbers shown on the danger screen, in advice and in /bantuan.
ALTER TABLE clinic ADD COLUMN district TEXT;
ALTER TABLE clinic ADD COLUMN phone TEXT;          -- e.g. +62 274 123456 (international form)
ALTER TABLE clinic ADD COLUMN whatsapp TEXT;       -- optional

-- clinic_chosen_at: when she chose her Puskesmas, or chose "I don't know yet" (clinic_id NULL);
-- NULL for a mother who was never asked.
ALTER TABLE mother ADD COLUMN clinic_chosen_at TEXT;
-- Time of birth, optional: 'HH:MM' local, or a part of the day: 'night' (00-06), 'morning'
-- (06-12), 'afternoon' (12-18), 'evening' (18-24); NULL = unknown (a day's grace).
ALTER TABLE mother ADD COLUMN birth_time TEXT;
-- normal | hospital (baby in hospital: baby questions paused) | loss (the baby has died).
ALTER TABLE mother ADD COLUMN care_status TEXT NOT NULL DEFAULT 'normal'
    CHECK (care_status IN ('normal', 'hospital', 'loss'));
ALTER TABLE mother ADD COLUMN care_status_at TEXT;
ALTER TABLE mother ADD COLUMN care_status_by INTEGER;  -- who set it (she, a companion, a midwife)
-- (A danger sign puts her "on hold" — massage reminders and the timer paused — for as long as
-- an urgent alert of hers is open: derived from `alert`, never stored twice.)
UPDATE mother SET clinic_chosen_at = created_at WHERE clinic_id IS NOT NULL;

-- Safety checks: 'full' (every caution) the first time and once a week, 'short' (three quick
-- questions) before every other massage.
ALTER TABLE safety_check ADD COLUMN kind TEXT NOT NULL DEFAULT 'full' CHECK (kind IN ('full', 'short'));

-- Alerts, rebuilt: causes are checked in domain/alerts.py (the list grows), each alert has an
-- urgency (urgent 🚨 = go now, warning ⚠️ = today), the day of life of the report that raised it,
-- and how it was closed: by a midwife (with an outcome for a danger alert, undoable), by the
-- bot when a later report no longer shows the cause ('resolved'), or by the mother confirming
-- she has been seen ('seen').
CREATE TABLE alert_new (
    id          INTEGER PRIMARY KEY,
    mother_id   INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    cause       TEXT NOT NULL,
    urgency     TEXT NOT NULL DEFAULT 'warning' CHECK (urgency IN ('urgent', 'warning', 'info')),
    detail      TEXT NOT NULL DEFAULT '',
    report_id   INTEGER REFERENCES milk_report(id) ON DELETE SET NULL,
    report_day  INTEGER,                               -- day of life the report was about
    raised_by   INTEGER,                               -- mother or companion; NULL for the bot's rules
    opened_at   TEXT NOT NULL,
    closed_at   TEXT,
    closed_by   INTEGER,                               -- the midwife; NULL when closed by the bot
    closed_how  TEXT CHECK (closed_how IN ('midwife', 'resolved', 'seen')),
    outcome     TEXT CHECK (outcome IN ('seen', 'referred', 'unreachable')),
    notified_at TEXT,                                  -- when a midwife (or an administrator) got it
    UNIQUE (mother_id, cause)
);
INSERT INTO alert_new(id, mother_id, cause, urgency, detail, report_id, opened_at, closed_at, closed_by,
                      closed_how, notified_at)
SELECT id, mother_id, cause, CASE WHEN cause = 'danger_sign' THEN 'urgent' ELSE 'warning' END, detail,
       report_id, opened_at, closed_at, closed_by,
       CASE WHEN closed_at IS NULL THEN NULL WHEN closed_by IS NULL THEN 'resolved' ELSE 'midwife' END,
       notified_at
FROM alert;
DROP TABLE alert;
ALTER TABLE alert_new RENAME TO alert;
CREATE INDEX alert_open ON alert(mother_id) WHERE closed_at IS NULL;

-- Who was sent an alert and whether it arrived: midwives of her clinic, administrators (when
-- she has no clinic, or no midwife could be reached), her companions, the mother herself.
CREATE TABLE alert_delivery (
    id           INTEGER PRIMARY KEY,
    alert_id     INTEGER NOT NULL REFERENCES alert(id) ON DELETE CASCADE,
    recipient_id INTEGER,                                -- NULL once that person deleted her data
    recipient_kind TEXT NOT NULL CHECK (recipient_kind IN ('midwife', 'admin', 'companion', 'mother')),
    status       TEXT NOT NULL CHECK (status IN ('sent', 'failed', 'blocked')),
    message_id   INTEGER,
    at           TEXT NOT NULL
);
CREATE INDEX alert_delivery_alert ON alert_delivery(alert_id);
CREATE INDEX alert_delivery_recipient ON alert_delivery(recipient_id);
