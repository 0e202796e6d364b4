"""Migration 0022_whatsapp carries every opt-out into the consent ledger (and back down), on both engines."""

import os

import pytest
from sqlalchemy import create_engine, text


def _carry_over(url: str) -> None:
    from flask_migrate import downgrade, upgrade

    from telecollect import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        from telecollect.extensions import db

        upgrade(revision="0021")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO opt_outs (phone, channel, reason, created_at) VALUES"
                    " ('+6281200000001', 'sms', 'replied STOP', '2025-01-02 03:04:05+00:00'),"
                    " ('+6281200000002', 'whatsapp', 'by kabid', '2025-02-03 04:05:06+00:00')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            consents = connection.execute(
                text("SELECT phone, channel, state, source, reason FROM consents ORDER BY phone")
            ).all()
            history = connection.execute(text("SELECT count(*) FROM consent_events")).scalar()
        assert [tuple(c) for c in consents] == [
            ("+6281200000001", "sms", "opted_out", "migrated", "replied STOP"),
            ("+6281200000002", "whatsapp", "opted_out", "migrated", "by kabid"),
        ]
        assert history == 2
        downgrade(revision="0021")
        with db.engine.connect() as connection:
            back = connection.execute(text("SELECT phone, channel, reason FROM opt_outs ORDER BY phone")).all()
        assert [tuple(b) for b in back] == [
            ("+6281200000001", "sms", "replied STOP"),
            ("+6281200000002", "whatsapp", "by kabid"),
        ]
        db.engine.dispose()


def test_opt_outs_become_consents_on_sqlite(tmp_path):
    _carry_over(f"sqlite:///{tmp_path / 'consents.db'}")


def test_opt_outs_become_consents_on_postgresql():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL half: set TEST_DATABASE_URL (CI always does)")
    name = url.rsplit("/", 1)[1] + "_consents"
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _carry_over(url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
