"""Plain domain logic, free of Telegram and of the database: easy to test."""
