"""The SQLite store: schema, migrations and typed access; the only package that holds SQL."""

from .database import BUSY_TIMEOUT_MS, MIGRATIONS, Store, connect, utcnow

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "Store", "connect", "utcnow"]
