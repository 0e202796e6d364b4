"""The reports' reading transactions sort with REPORTS_WORK_MEM_MB of memory on PostgreSQL (a nation-month's
distinct families spill to disk with the server's default 4 MB); SQLite has no such setting."""

from sqlalchemy import text

from telecollect.replica import reports_session


def test_a_reports_transaction_gets_the_reports_sort_memory(app, db, engine_name, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_WORK_MEM_MB", 0)
    session = reports_session()
    if engine_name != "postgresql":
        assert session is db.session()  # nothing to set, nothing run
        return
    server_default = session.scalar(text("SHOW work_mem"))
    assert server_default != "96MB"
    monkeypatch.setitem(app.config, "REPORTS_WORK_MEM_MB", 96)
    assert reports_session().scalar(text("SHOW work_mem")) == "96MB"
