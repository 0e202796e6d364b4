"""The declarative base and the column helpers every domain shares."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# In place before the first migration, so that every constraint has a stable
# name and SQLite batch migrations can drop or alter it later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A datetime that is always time-zone aware UTC in Python.

    SQLite has no time zone type and hands back naive values; storing UTC and
    re-attaching the zone on the way out gives the same behaviour on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def is_postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_for(session, name: str) -> None:
    """Serialise one kind of bulk work (an import) across processes.

    PostgreSQL takes a transaction-scoped advisory lock, released at commit or
    rollback. SQLite needs nothing: it already admits one writer at a time and
    the busy timeout makes the second writer wait.
    """
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
