"""The desk dashboard for midwives: a Telegram Mini App, also reachable in a desktop browser
(issue 11.2). `web.server` serves it, `web.auth` checks who is looking, `web.pages` renders."""
