"""The clock lives in `domain.clock` (plain code that db/ and domain/ may use); kept here for
the application's imports."""
from domain.clock import Clock, FakeClock, iso, parse_iso  # noqa: F401
