"""SQLite storage: connection, migrations and one module of queries per subject."""
from db.database import Database

__all__ = ["Database"]
