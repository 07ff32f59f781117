-- Alerts that are acknowledged (issue 10): the first midwife who takes an alert ("Saya tangani"),
-- when, and when an alert nobody took was sent again to every midwife, the clinic's coordinator
-- and the administrators. Per clinic: after how long (urgent: 15 minutes; others: a day).
ALTER TABLE alert ADD COLUMN taken_at TEXT;
ALTER TABLE alert ADD COLUMN taken_by INTEGER;        -- the midwife; NULL once she deleted her data
ALTER TABLE alert ADD COLUMN escalated_at TEXT;
ALTER TABLE clinic ADD COLUMN escalate_urgent_minutes INTEGER NOT NULL DEFAULT 15;
ALTER TABLE clinic ADD COLUMN escalate_warning_hours INTEGER NOT NULL DEFAULT 24;
ALTER TABLE midwife ADD COLUMN coordinator INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alert_untaken ON alert(opened_at) WHERE closed_at IS NULL AND taken_at IS NULL;
