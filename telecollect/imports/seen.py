"""Keys already met in the file being imported, kept in a temporary table.

A set in memory would grow with the file; the temporary table keeps an
import's memory flat and is dropped (or vanishes with the transaction).
"""

from sqlalchemy import bindparam, text

from telecollect.db import is_postgresql


class SeenKeys:
    def __init__(self, session, table: str):
        self.session = session
        self.table = table
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
        suffix = " ON COMMIT DROP" if is_postgresql(session) else ""
        session.execute(text(f"CREATE TEMPORARY TABLE {table} (key VARCHAR(64) PRIMARY KEY){suffix}"))

    def add_and_find_repeats(self, keys: list[str]) -> set[str]:
        """Remember `keys`; return those already remembered (from earlier batches)."""
        repeats = set(
            self.session.scalars(
                text(f"SELECT key FROM {self.table} WHERE key IN :keys").bindparams(bindparam("keys", expanding=True)),
                {"keys": keys},
            )
        )
        fresh = [(key,) for key in set(keys) - repeats]
        if fresh:
            placeholder = "%s" if is_postgresql(self.session) else "?"
            self.session.connection().exec_driver_sql(f"INSERT INTO {self.table} (key) VALUES ({placeholder})", fresh)
        return repeats

    def drop(self):
        if not is_postgresql(self.session):
            self.session.execute(text(f"DROP TABLE IF EXISTS {self.table}"))
