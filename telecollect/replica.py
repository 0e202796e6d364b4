"""The session the report pages and `flask report` read through: a read replica when
`REPORTS_DATABASE_URL` names one, else the main database's session.

A replica lags its primary by a moment (asynchronous streaming replication: usually well under a second),
so a report may miss the last few outcomes; reports never write, and nothing else reads here.
"""

from flask import Flask, current_app, g
from sqlalchemy import text
from sqlalchemy.orm import Session

from telecollect.db import is_postgresql
from telecollect.extensions import db

#: The Flask-SQLAlchemy bind (`SQLALCHEMY_BINDS`) that REPORTS_DATABASE_URL becomes.
REPORTS_BIND = "reports"
_SESSION = "telecollect_reports_session"
#: session.info key: the transaction that already has the reports' work_mem.
_SORT_MEMORY_FOR = "telecollect_reports_work_mem_for"


def register_reports_bind(app: Flask) -> None:
    """Before `db.init_app`: REPORTS_DATABASE_URL becomes the `reports` bind (an engine of its own)."""
    url = app.config.get("REPORTS_DATABASE_URL") or ""
    if url:
        app.config["SQLALCHEMY_BINDS"] = {**(app.config.get("SQLALCHEMY_BINDS") or {}), REPORTS_BIND: url}

    @app.teardown_appcontext
    def close_reports_session(_exc: BaseException | None) -> None:
        session = g.pop(_SESSION, None)
        if session is not None:
            session.close()


def uses_replica() -> bool:
    return REPORTS_BIND in (current_app.config.get("SQLALCHEMY_BINDS") or {})


def reports_session() -> Session:
    """This request's (or command's) reading session: on the replica when there is one, with the reports'
    memory for sorts (`_with_sort_memory`)."""
    return _with_sort_memory(_reading_session())


def _reading_session() -> Session:
    if not uses_replica():
        return db.session()
    session = g.get(_SESSION)
    if session is None:
        session = Session(bind=db.engines[REPORTS_BIND], autoflush=False, expire_on_commit=False)
        setattr(g, _SESSION, session)
    # The branches the reader may see (and the acting branch) live in the main session's info, where the request
    # or command entered them (`auth.scoping`): the replica's reads are filtered by the same scope.
    session.info.update(db.session().info)
    return session


def _with_sort_memory(session: Session) -> Session:
    """On PostgreSQL, the reading transaction's sorts and hashes get REPORTS_WORK_MEM_MB each (`SET LOCAL`:
    gone when the transaction ends, set again in the next one; 0 keeps the server's `work_mem`).

    A nation-month's funnel counts distinct families among millions of attempts: PostgreSQL sorts their ids
    per region, and with its default 4 MB the sort spills to disk."""
    megabytes = int(current_app.config.get("REPORTS_WORK_MEM_MB") or 0)
    if megabytes <= 0 or not is_postgresql(session):
        return session
    transaction = session.get_transaction()
    if transaction is None or session.info.get(_SORT_MEMORY_FOR) is not transaction:
        session.execute(text(f"SET LOCAL work_mem = '{megabytes}MB'"))
        session.info[_SORT_MEMORY_FOR] = session.get_transaction()
    return session
