"""Whether this node may take traffic: the database answers, and its schema is the code's (migrations at head)."""

from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import text

from telecollect.extensions import db
from telecollect.settings import resource_dir


@cache
def migration_heads() -> frozenset[str]:
    """The revisions the code expects (read once from migrations/)."""
    return frozenset(ScriptDirectory(str(resource_dir("migrations"))).get_heads())


def readiness() -> dict | None:
    """None when ready; else the reason, as a machine code with what helps (never personal data)."""
    try:
        current = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # any failure to ask is "unreachable" here: the driver's, the pool's, a missing table
        db.session.rollback()
        return {"reason": "database_unreachable"}
    finally:
        db.session.rollback()  # read only; ends the transaction so the pool gets the connection back
    heads = migration_heads()
    if current != heads:
        return {"reason": "migrations_behind", "database": sorted(current), "code": sorted(heads)}
    return None
