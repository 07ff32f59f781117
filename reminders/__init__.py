"""Morning and evening massage reminders for mothers and their companions.

- `planning`: which slots fall due for whom at an instant (plain logic, time zones, windows, grace).
- `preferences`: a mother's schedule from her settings; changing times, pausing, "next reminder".
- `messages`: the reminder's text and buttons, from the content files.
- `ratelimit`: global rate cap, per-chat spacing and 429 pauses for a wave.
- `dispatcher`: plan → claim (in a transaction) → concurrent senders → record each outcome.
- `jobs`: the JobQueue wake-up that runs the dispatcher.
- `http`: the aiohttp transport the dispatcher's Bot uses.
"""
