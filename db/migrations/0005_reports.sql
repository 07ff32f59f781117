-- Milk-flow self-reports (issue 5), the alerts they raise, and the midwives' notes.

-- One report by the mother or a companion on her behalf. `phase` is 'pre' when it was made
-- before the mother's first logged massage session, 'post' otherwise (kept right by
-- db/queries/reports.py::refresh_phases when a session is logged later with an earlier time).
CREATE TABLE milk_report (
    id              INTEGER PRIMARY KEY,
    mother_id       INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    reported_by     INTEGER,                           -- NULL once that companion deleted her data
    reporter_role   TEXT NOT NULL CHECK (reporter_role IN ('mother', 'companion')),
    reported_at     TEXT NOT NULL,                     -- UTC
    postpartum_day  INTEGER NOT NULL,                  -- day of birth = day 1, mother's local date
    phase           TEXT NOT NULL CHECK (phase IN ('pre', 'post')),
    milk_flow       TEXT NOT NULL CHECK (milk_flow IN ('not_out', 'not_smooth', 'smooth')),
    feeds_24h       INTEGER CHECK (feeds_24h BETWEEN 0 AND 40),
    wet_nappies_24h INTEGER CHECK (wet_nappies_24h BETWEEN 0 AND 30),
    breasts         TEXT CHECK (breasts IN ('soft', 'full', 'hard_painful')),
    danger_signs    TEXT                               -- NULL = not answered, '' = none, else ids joined by ','
);
-- first pre / latest post per mother (the before/after pairs), and her timeline
CREATE INDEX milk_report_mother_phase ON milk_report(mother_id, phase, reported_at);
CREATE INDEX milk_report_mother_time ON milk_report(mother_id, reported_at);

-- Each mother's before/after pair, kept by triggers so /ringkasan reads one row per mother
-- instead of searching her reports: the milk flow of her FIRST 'pre' report and of her LATEST
-- 'post' report (NULL while she has none). Every insert, change or removal of a report, from
-- any code path, recomputes her row.
CREATE TABLE milk_pair (
    mother_id   INTEGER PRIMARY KEY REFERENCES mother(user_id) ON DELETE CASCADE,
    first_pre   TEXT,
    latest_post TEXT
);
CREATE TRIGGER milk_pair_on_insert AFTER INSERT ON milk_report
BEGIN
    INSERT INTO milk_pair(mother_id, first_pre, latest_post) VALUES (NEW.mother_id,
        (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'pre'
         ORDER BY reported_at, id LIMIT 1),
        (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'post'
         ORDER BY reported_at DESC, id DESC LIMIT 1))
    ON CONFLICT(mother_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END;
CREATE TRIGGER milk_pair_on_update AFTER UPDATE OF phase, milk_flow, reported_at ON milk_report
BEGIN
    UPDATE milk_pair SET
        first_pre = (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'pre'
                     ORDER BY reported_at, id LIMIT 1),
        latest_post = (SELECT milk_flow FROM milk_report WHERE mother_id = NEW.mother_id AND phase = 'post'
                       ORDER BY reported_at DESC, id DESC LIMIT 1)
    WHERE mother_id = NEW.mother_id;
END;
-- an UPDATE, not an upsert: when the mother herself is being deleted her row is gone already
CREATE TRIGGER milk_pair_on_delete AFTER DELETE ON milk_report
BEGIN
    UPDATE milk_pair SET
        first_pre = (SELECT milk_flow FROM milk_report WHERE mother_id = OLD.mother_id AND phase = 'pre'
                     ORDER BY reported_at, id LIMIT 1),
        latest_post = (SELECT milk_flow FROM milk_report WHERE mother_id = OLD.mother_id AND phase = 'post'
                       ORDER BY reported_at DESC, id DESC LIMIT 1)
    WHERE mother_id = OLD.mother_id;
END;

-- One row per mother and cause. Open while closed_at IS NULL. The clinic's midwives are told
-- when it opens; it opens again (and they are told again) only for a new event after it was
-- closed. An open alert no midwife received yet (Telegram down, no midwife, no clinic yet) is
-- sent again by the hourly job. Causes are our own rules (domain/alerts.py), not a clinical
-- standard.
CREATE TABLE alert (
    id         INTEGER PRIMARY KEY,
    mother_id  INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    cause      TEXT NOT NULL CHECK (cause IN ('danger_sign', 'milk_not_out', 'few_wet_nappies', 'inactive')),
    detail     TEXT NOT NULL DEFAULT '',               -- e.g. danger sign ids, "3/5" wet nappies
    report_id  INTEGER REFERENCES milk_report(id) ON DELETE SET NULL,
    opened_at  TEXT NOT NULL,
    closed_at  TEXT,
    closed_by  INTEGER,                                -- the midwife; NULL when closed by the bot
    notified_at TEXT,                                  -- when a midwife of her clinic got it; NULL = retry
    UNIQUE (mother_id, cause)
);
CREATE INDEX alert_open ON alert(mother_id) WHERE closed_at IS NULL;

CREATE TABLE midwife_note (
    id         INTEGER PRIMARY KEY,
    mother_id  INTEGER NOT NULL REFERENCES mother(user_id) ON DELETE CASCADE,
    midwife_id INTEGER,                                -- NULL once the midwife deleted her account
    text       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX midwife_note_mother ON midwife_note(mother_id, created_at);

-- The same for the knowledge test (quiz_attempt, migration 0003): each person's score of her
-- FIRST finished pre-test and of her LATEST finished post-test, kept by triggers.
CREATE INDEX quiz_attempt_user_finished ON quiz_attempt(user_id, kind, finished_at);
CREATE TABLE quiz_pair (
    user_id     INTEGER PRIMARY KEY REFERENCES app_user(telegram_id) ON DELETE CASCADE,
    first_pre   INTEGER,
    latest_post INTEGER
);
CREATE TRIGGER quiz_pair_on_insert AFTER INSERT ON quiz_attempt
BEGIN
    INSERT INTO quiz_pair(user_id, first_pre, latest_post) VALUES (NEW.user_id,
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'pre'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'post'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1))
    ON CONFLICT(user_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END;
CREATE TRIGGER quiz_pair_on_update AFTER UPDATE OF kind, finished_at, score ON quiz_attempt
BEGIN
    INSERT INTO quiz_pair(user_id, first_pre, latest_post) VALUES (NEW.user_id,
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'pre'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        (SELECT score FROM quiz_attempt WHERE user_id = NEW.user_id AND kind = 'post'
         AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1))
    ON CONFLICT(user_id) DO UPDATE SET first_pre = excluded.first_pre, latest_post = excluded.latest_post;
END;
CREATE TRIGGER quiz_pair_on_delete AFTER DELETE ON quiz_attempt
BEGIN
    UPDATE quiz_pair SET
        first_pre = (SELECT score FROM quiz_attempt WHERE user_id = OLD.user_id AND kind = 'pre'
                     AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
        latest_post = (SELECT score FROM quiz_attempt WHERE user_id = OLD.user_id AND kind = 'post'
                       AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1)
    WHERE user_id = OLD.user_id;
END;
-- attempts made before this migration
INSERT INTO quiz_pair(user_id, first_pre, latest_post)
SELECT u.user_id,
    (SELECT score FROM quiz_attempt WHERE user_id = u.user_id AND kind = 'pre'
     AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at, id LIMIT 1),
    (SELECT score FROM quiz_attempt WHERE user_id = u.user_id AND kind = 'post'
     AND finished_at IS NOT NULL AND score IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1)
FROM (SELECT DISTINCT user_id FROM quiz_attempt) u;
