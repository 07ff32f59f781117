-- The midwife's daily call list (issue 10): when, in the clinic's own time, it is sent each
-- morning, and the local date each midwife last got it (so it is sent once a day, also after
-- a restart or downtime).
ALTER TABLE clinic ADD COLUMN call_list_time TEXT NOT NULL DEFAULT '07:00';
ALTER TABLE midwife ADD COLUMN call_list_sent_on TEXT;
