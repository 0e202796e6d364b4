"""Operations: the probes, /metrics, the request log, and the reports' read replica (REPORTS_DATABASE_URL)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, event, select, text

from telecollect import create_app
from telecollect.db import Base
from telecollect.messaging.models import SmsKind
from telecollect.messaging.outbox import queue_sms
from telecollect.metrics import CLAIMS, OUTCOMES, count_on_commit
from telecollect.ops.logs import JsonFormatter
from telecollect.participants.models import Participant
from telecollect.queues.models import QueueName
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import MAKASSAR_PLACE, add_branch_with_hours, csv_bytes, row, run_import
from tests.helpers_queue import queue_up

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "scrape-me"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- probes ------------------------------------------------------------------


def test_healthz_and_readyz_answer_anyone_with_no_personal_data(client, db):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json == {"status": "ready"}


def test_readyz_is_503_while_the_database_is_behind_the_migrations(client, db):
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001_initial'"))
    db.session.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["reason"] == "migrations_behind" and answer.json["database"] == ["0001_initial"]
    assert client.get("/healthz").status_code == 200  # the process is fine: a restart would not help


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@127.0.0.1:1/nowhere", "sqlite:////nonexistent-telecollect-dir/x.db"]
)
def test_readyz_is_503_when_the_database_cannot_be_reached_and_healthz_stays_up(url):
    unreachable = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    client = unreachable.test_client()
    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json == {"status": "unavailable", "reason": "database_unreachable"}


# --- metrics -------------------------------------------------------------------


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return {"Authorization": f"Bearer {TOKEN}"}


def test_metrics_need_the_token_and_a_session_does_not_do(client, db, login, make_user, metrics_token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    login(make_user("admin"))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=metrics_token).status_code == 200


def test_request_latency_is_by_route_name_not_path(client, db, metrics_token):
    before = sample("telecollect_request_duration_seconds_count", route="ops.healthz", method="GET", status="200")
    client.get("/healthz")
    client.get("/healthz")
    after = sample("telecollect_request_duration_seconds_count", route="ops.healthz", method="GET", status="200")
    assert after - before == 2
    client.get("/participants/0000000000099")  # a path with a card number: labelled by its endpoint only
    page = client.get("/metrics", headers=metrics_token).text
    assert 'route="ops.healthz"' in page and "0000000000099" not in page


def test_claims_and_outcomes_are_counted_once_committed(clock, client, db, login, make_user):
    run_import(db, csv_bytes([row(card_no="0000000000001", phone="081200000001")]))
    queue_up(db, QueueName.telecollect)
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}
    claims = sample("telecollect_claims_total", queue="telecollect")
    outcomes = sample("telecollect_outcomes_total", outcome="no_answer", channel="phone")

    work = client.post("/api/v1/queue/claim", headers=headers).json["work_item"]
    recorded = client.post(
        f"/api/v1/work-items/{work['id']}/outcome", headers=headers, json={"outcome": "no_answer", "client_ref": "m1"}
    )
    assert recorded.status_code == 201
    again = client.post(  # the same outcome sent twice is one outcome
        f"/api/v1/work-items/{work['id']}/outcome", headers=headers, json={"outcome": "no_answer", "client_ref": "m1"}
    )
    assert again.status_code in (200, 201)
    assert sample("telecollect_claims_total", queue="telecollect") - claims == 1
    assert sample("telecollect_outcomes_total", outcome="no_answer", channel="phone") - outcomes == 1


def test_what_a_rolled_back_transaction_counted_is_forgotten(db):
    before = CLAIMS.labels("cadre")._value.get()
    count_on_commit(db.session, CLAIMS, "cadre")
    db.session.rollback()
    db.session.commit()
    assert CLAIMS.labels("cadre")._value.get() == before
    count_on_commit(db.session, OUTCOMES, "refused", "visit")
    count_on_commit(db.session, CLAIMS, "cadre", amount=2)
    db.session.commit()
    assert CLAIMS.labels("cadre")._value.get() == before + 2


def test_queue_depth_and_outbox_backlog_are_read_at_the_scrape(clock, client, db, metrics_token):
    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", phone="081200000001"),
                row(card_no="0000000000002", phone="081200000002"),
            ]
        ),
    )
    queue_up(db, QueueName.telecollect)
    member = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000001"))
    queue_sms(
        db.session, kind=SmsKind.due_reminder, key="ops:due", to_phone=member.phone, members=[member], timezone="WIB"
    )
    db.session.commit()
    page = client.get("/metrics", headers=metrics_token).text
    assert 'telecollect_queue_due{branch="0000",queue="telecollect",zone="WIB"} 2.0' in page
    assert 'telecollect_queue_callable{branch="0000",queue="telecollect",zone="WIB"} 2.0' in page  # 09:00 Tuesday
    assert 'telecollect_outbox_messages{channel="sms",status="queued"} 1.0' in page
    assert 'telecollect_outbox_messages{channel="sms",status="sending"} 0.0' in page
    assert 'telecollect_outbox_messages{channel="whatsapp",status="queued"} 0.0' in page


def test_queue_depth_is_each_branchs_under_its_own_calling_hours(clock, client, db, metrics_token):
    """At 09:00 WIB (10:00 in Makassar) North Jakarta's item is callable; Makassar's, whose own hours start at
    11:00, is due but not callable yet, though the installation's hours (08:00-20:00) are open there. A
    WhatsApp message waiting counts under WhatsApp."""
    from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
    from telecollect.branches.stamping import act_in_branch
    from telecollect.messaging.models import MessageChannel, SmsMessage

    makassar = add_branch_with_hours(db.session, "11:00-17:00")
    north = db.session.scalar(select(Branch.id).where(Branch.code == FIRST_BRANCH_CODE))
    for branch_id, card, place in ((north, "0000000000001", {}), (makassar.id, "7371000000001", MAKASSAR_PLACE)):
        act_in_branch(db.session(), branch_id)
        run_import(db, csv_bytes([row(card_no=card, phone="08120000" + card[-4:], **place)]))
        queue_up(db, QueueName.telecollect)
    member = db.session.scalar(select(Participant).where(Participant.card_no == "7371000000001"))
    message_id = queue_sms(
        db.session, kind=SmsKind.due_reminder, key="ops:wa", to_phone=member.phone, members=[member], timezone="WITA"
    )
    db.session.get(SmsMessage, message_id).channel = MessageChannel.whatsapp
    act_in_branch(db.session(), None)
    db.session.commit()
    page = client.get("/metrics", headers=metrics_token).text
    assert 'telecollect_queue_callable{branch="0000",queue="telecollect",zone="WIB"} 1.0' in page
    assert 'telecollect_queue_due{branch="1701",queue="telecollect",zone="WITA"} 1.0' in page
    assert 'telecollect_queue_callable{branch="1701",queue="telecollect",zone="WITA"} 0.0' in page
    assert 'telecollect_outbox_messages{channel="whatsapp",status="queued"} 1.0' in page
    assert 'telecollect_outbox_messages{channel="sms",status="queued"} 0.0' in page


def test_the_dispatch_job_counts_what_it_did_per_channel(clock, db):
    from telecollect.db import now_utc
    from telecollect.scheduler.jobs import dispatch_sms

    run_import(db, csv_bytes([row(card_no="0000000000001", phone="081200000001")]))
    member = db.session.scalar(select(Participant).where(Participant.card_no == "0000000000001"))
    queue_sms(
        db.session, kind=SmsKind.due_reminder, key="ops:held", to_phone=member.phone, members=[member], timezone="WIB"
    )
    db.session.commit()
    held = sample("telecollect_outbox_dispatched_total", channel="sms", outcome="held")
    assert dispatch_sms(now_utc())["held"] == 1  # SMS_BACKEND=outbox keeps it here
    assert sample("telecollect_outbox_dispatched_total", channel="sms", outcome="held") - held == 1


def test_scheduled_jobs_report_their_last_success_and_duration(app, db):
    from telecollect.scheduler.cli import _in_app

    def tidy(now):
        return {"tidied": 1}

    def broken(now):
        raise RuntimeError("boom")

    _in_app(app, "tidy_test", tidy)()
    assert sample("telecollect_job_last_success_timestamp_seconds", job="tidy_test") > 0
    assert REGISTRY.get_sample_value("telecollect_job_duration_seconds", {"job": "tidy_test"}) is not None
    failures = sample("telecollect_job_failures_total", job="broken_test")
    _in_app(app, "broken_test", broken)()  # logged, never raised: the scheduler goes on
    assert sample("telecollect_job_failures_total", job="broken_test") - failures == 1
    assert sample("telecollect_job_last_success_timestamp_seconds", job="broken_test") == 0


def test_scheduler_status_names_the_leader_or_says_sqlite_has_none(runner, engine_name):
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 0
    if engine_name == "sqlite":
        assert "no election" in result.output
    else:
        assert result.output.startswith("leader: none")


@pytest.mark.committing
def test_scheduler_status_shows_the_scheduler_holding_the_leader_lock(app, db, runner, engine_name):
    if engine_name != "postgresql":
        pytest.skip("leader election is PostgreSQL's (SQLite runs one scheduler)")
    from telecollect.scheduler.cli import _wait_for_leadership

    _wait_for_leadership(app)
    connection = app.extensions.pop("telecollect.leader_connection")
    try:
        result = runner.invoke(args=["scheduler", "status"])
        assert result.output.startswith("leader: telecollect-scheduler leader ")
        assert sample("telecollect_scheduler_leader", host=os.uname().nodename, pid=str(os.getpid()), role="scheduler")
    finally:
        connection.invalidate()  # the lock goes with its session: the connection is closed, not pooled
        connection.close()


# --- logs ------------------------------------------------------------------------------


def test_each_request_logs_one_event_with_its_request_id(client, db, login, make_user, caplog):
    user = make_user("supervisor")
    login(user)
    with caplog.at_level(logging.INFO, logger="telecollect.request"):
        answer = client.get("/holidays", headers={"X-Request-ID": "lb-123"})
        odd = client.get("/healthz", headers={"X-Request-ID": 'bad id" {"level":"x"}'})
    events = [r for r in caplog.records if r.name == "telecollect.request"]
    assert answer.headers["X-Request-ID"] == "lb-123"
    first = json.loads(JsonFormatter().format(events[0]))
    assert first["event"] == "request" and first["request_id"] == "lb-123"
    assert (first["user_id"], first["route"], first["status"]) == (user.id, "queue.holidays", 200)
    assert first["duration_ms"] >= 0
    assert user.branch_id is not None and first["branch"] == user.branch_id  # the user's branch
    generated = odd.headers["X-Request-ID"]
    assert len(generated) == 32 and "\n" not in generated and events[1].request_id == generated
    assert "\n" not in JsonFormatter().format(events[1])


def test_log_format_json_writes_one_json_object_per_line(tmp_path):
    script = (
        "from telecollect import create_app\n"
        "app = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite:///%s', 'SECRET_KEY': 'x' * 40})\n"
        "app.test_client().get('/healthz', headers={'X-Request-ID': 'r-1'})\n"
    ) % (tmp_path / "x.db")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "LOG_FORMAT": "json", "INSTANCE_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert {"event": "request", "request_id": "r-1", "route": "ops.healthz", "status": 200}.items() <= lines[-1].items()


def test_gunicorn_workers_add_up_in_multiprocess_mode(tmp_path):
    """Two processes answer requests; a third serves /metrics with both counts (PROMETHEUS_MULTIPROC_DIR)."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "INSTANCE_PATH": str(tmp_path)}
    app_line = (
        "from telecollect import create_app\n"
        f"app = create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'x.db'}', 'SECRET_KEY': 'x' * 40,"
        f" 'METRICS_TOKEN': '{TOKEN}'}})\n"
        "client = app.test_client()\n"
    )
    for requests in (2, 3):
        worker = app_line + f"for _ in range({requests}): client.get('/healthz')\n"
        subprocess.run([sys.executable, "-c", worker], cwd=ROOT, env=env, check=True, capture_output=True)
    scrape = app_line + f"print(client.get('/metrics', headers={{'Authorization': 'Bearer {TOKEN}'}}).text)\n"
    page = subprocess.run(
        [sys.executable, "-c", scrape], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    assert 'telecollect_request_duration_seconds_count{method="GET",route="ops.healthz",status="200"} 5.0' in page


# --- reports on a read replica ------------------------------------------------------------------


@pytest.fixture
def replica_url(app, tmp_path):
    """A second database with the schema and no rows: on SQLite a second file, on PostgreSQL a schema of
    its own (the search path names it), as a replica would be reached by a URL of its own."""
    main = app.config["SQLALCHEMY_DATABASE_URI"]
    if main.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'replica.db'}"
    else:
        admin = create_engine(main, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS tc_replica CASCADE"))
            connection.execute(text("CREATE SCHEMA tc_replica"))
        url = main + ("&" if "?" in main else "?") + "options=-csearch_path%3Dtc_replica"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    if not main.startswith("sqlite"):
        with admin.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS tc_replica CASCADE"))
        admin.dispose()


def test_report_pages_read_the_replica_when_reports_database_url_is_set(app, db, make_user, replica_url):
    from tests.conftest import IsolatedClient

    run_import(db, csv_bytes([row(card_no="0000000000001", arrears_amount="350000")]))  # the main database only
    admin = make_user("admin")
    settings = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "PASSWORD_HASH_METHOD")}
    reading = create_app({"TESTING": True, **settings, "REPORTS_DATABASE_URL": replica_url})
    statements = []
    with reading.app_context():
        replica_engine = db.engines["reports"]
    event.listen(replica_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def arrears_csv(flask_app):
        flask_app.test_client_class = IsolatedClient
        client = flask_app.test_client()
        page = client.get("/login")
        client.post(
            "/login", data={"username": admin.username, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
        )
        answer = client.get("/reports/arrears?by=segment&format=csv")
        assert answer.status_code == 200
        return answer.text.strip().splitlines()

    assert len(arrears_csv(app)) == 2  # the main database: a header and the participant's segment
    assert statements == []
    assert len(arrears_csv(reading)) == 1  # the replica: the header alone
    assert any("participants" in statement for statement in statements)
    with reading.app_context():  # `flask report` too (the test's own app context would be reused otherwise)
        cli = reading.test_cli_runner().invoke(args=["report", "arrears", "--by", "segment", "--format", "csv"])
    with reading.app_context():
        for engine in db.engines.values():
            engine.dispose()
    assert cli.exit_code == 0 and len(cli.output.strip().splitlines()) == 1
