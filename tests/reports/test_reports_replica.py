"""REPORTS_DATABASE_URL: the report pages and commands read from a read replica when one is set."""

from flask_migrate import upgrade

from telecollect import create_app
from telecollect.extensions import db, reports_session
from tests.helpers import csv_bytes, row, run_import


def _app(primary: str, replica: str | None = None):
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": primary, "SECRET_KEY": "test-secret"}
    if replica:
        config["REPORTS_DATABASE_URL"] = replica
    return create_app(config)


def test_reports_read_the_replica_when_one_is_set(tmp_path):
    primary, replica = (f"sqlite:///{tmp_path / name}.db" for name in ("primary", "replica"))
    for url in (primary, replica):  # the replica: the same schema, a moment behind (here: still empty)
        app = _app(url)
        with app.app_context():
            upgrade()
            db.engine.dispose()
    app = _app(primary)
    with app.app_context():
        run_import(db, csv_bytes([row(kecamatan="Koja")]))
        db.session.commit()
        assert reports_session() is db.session
        assert "Koja" in app.test_cli_runner().invoke(args=["report", "arrears", "--by", "kecamatan"]).output
        db.engine.dispose()

    app = _app(primary, replica)
    with app.app_context():
        assert str(reports_session().get_bind().url) == replica
        result = app.test_cli_runner().invoke(args=["report", "arrears", "--by", "kecamatan"])
        assert result.exit_code == 0, result.output
        assert "Koja" not in result.output
        for engine in db.engines.values():
            engine.dispose()
