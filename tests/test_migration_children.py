"""SQLite rebuilds a table to alter it; the rebuild must not delete its children through ON DELETE CASCADE.

0024 (branches) rebuilds sms_messages to add its branch: a message's delivery history (sms_events, ON DELETE
CASCADE) must come through, with the message's branch."""

from sqlalchemy import text


def test_altering_a_parent_table_keeps_its_childrens_rows_on_sqlite(tmp_path):
    from flask_migrate import upgrade

    from telecollect import create_app

    url = f"sqlite:///{tmp_path / 'children.db'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        from telecollect.extensions import db

        upgrade(revision="0023")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sms_messages (idempotency_key, kind, template_key, body, to_phone, timezone,"
                    " scheduled_at, next_attempt_at, status, attempts, encoding, segments, created_at, updated_at,"
                    " channel) VALUES ('k1', 'due_reminder', 'sms_due_reminder', 'Yth.', '+6281200000001', 'WIB',"
                    " '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00', 'delivered', 1, 'GSM-7', 1,"
                    " '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00', 'sms')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO sms_events (message_id, status, at) SELECT id, 'delivered',"
                    " '2026-11-01 00:05:00+00:00' FROM sms_messages"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM sms_events")).scalar()
            branch = connection.execute(
                text("SELECT b.code FROM sms_messages m JOIN branches b ON b.id = m.branch_id")
            ).scalar()
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
        assert (events, branch) == (1, "0000")
        assert foreign_keys == 1  # the app's connections still check foreign keys
        db.engine.dispose()
