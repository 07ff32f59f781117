-- The desk dashboard (issue 11.2): one-time login links for a midwife's desktop browser.
-- Only the SHA-256 of the token is stored; a link is valid 10 minutes and works once.
CREATE TABLE dashboard_login (
    token_hash  TEXT PRIMARY KEY,
    midwife_id  INTEGER NOT NULL REFERENCES midwife(user_id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX dashboard_login_midwife ON dashboard_login(midwife_id);
