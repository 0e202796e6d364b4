"""Fixtures: one app per database engine, a clean database per test, users, clients.

Every test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set
(CI always sets it: there a missing PostgreSQL fails the run instead of
skipping it). The schema is built by the migrations, once per engine.

A test's writes are rolled back at its end (`db`): the test, its requests and its
CLI commands share one connection inside one outer transaction, and every commit
the code makes only releases a savepoint. Tests whose commits another connection
must see (threads, a live server, another process) are marked `committing`: they
commit for real and every table is emptied afterwards.
"""

import contextvars
import os
import re
from contextlib import contextmanager

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from telecollect import create_app
from telecollect.auth.services import areas_named, create_user
from telecollect.extensions import db as _db
from telecollect.regions.services import ensure_provinces


def _this_workers_database(url: str | None) -> str | None:
    """With `pytest -n N` (pytest-xdist) every worker has a PostgreSQL database of its own: the test database's
    name plus the worker's (telecollect_test_gw0, ...). The environment is updated too, so the tests that
    derive scratch databases from TEST_DATABASE_URL (migrations, partitions) never meet another worker's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    url = f"{url}_{worker}"
    os.environ["TEST_DATABASE_URL"] = url
    return url


TEST_DATABASE_URL = _this_workers_database(os.environ.get("TEST_DATABASE_URL"))
ENGINES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
PASSWORD = "rahasia-123"
#: Reference data the migrations or setup load once; kept between tests.
REFERENCE_TABLES = {"provinces", "relief_programs", "pause_reasons"}
#: The installation's first branch (the migration's "0000") is kept too; other branches are emptied.
FIRST_BRANCH = "0000"


def pytest_configure(config):
    if os.environ.get("CI") and not TEST_DATABASE_URL:
        raise pytest.UsageError("CI must run the PostgreSQL half: set TEST_DATABASE_URL")
    # Outside tests the app refuses to start without a secret key; the `flask` processes some tests start
    # (the scheduler, an installed wheel) inherit this one.
    os.environ.setdefault("SECRET_KEY", "test-secret-for-subprocesses")
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # under xdist the controller compiles them, once
        _compile_catalogs()


def _compile_catalogs() -> None:
    """`make test` compiles them too; this keeps a bare `pytest` run honest."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("telecollect/translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)


def _fresh_postgres_schema(url: str) -> None:
    _create_database_if_missing(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # make a missing server fail loudly, never skip
        raise RuntimeError(f"PostgreSQL at {url} is not usable: {exc}") from exc
    finally:
        engine.dispose()


def _create_database_if_missing(url: str) -> None:
    """A worker's database (see _this_workers_database) is made on first use; CI makes the shared one."""
    server, name = url.rsplit("/", 1)
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # make a missing server fail loudly, never skip
        raise RuntimeError(f"PostgreSQL at {server} is not usable: {exc}") from exc
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=ENGINES)
def app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = TEST_DATABASE_URL
        _fresh_postgres_schema(url)
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashes: tests create many users
            "SQLITE_BUSY_TIMEOUT_MS": 30000,
        }
    )
    from flask_migrate import upgrade

    with application.app_context():
        upgrade()
        ensure_provinces(_db.session)
        _db.session.commit()
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(request, app):
    """The database for one test, left as it was found: rolled back, or (marked `committing`) emptied."""
    with app.app_context():
        if request.node.get_closest_marker("committing"):
            yield from _emptied_afterwards()
        else:
            yield from _rolled_back_afterwards()


def _emptied_afterwards():
    """Real commits, for tests where another connection must see them; every table (but the reference
    data) is emptied afterwards."""
    yield _db
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as connection:
        for table in reversed(_db.metadata.sorted_tables):
            if table.name == "branches":
                connection.execute(table.update().values(deputy_region_id=None, settings="{}", zone=None, name=""))
                connection.execute(table.delete().where(table.c.code != FIRST_BRANCH))
            elif table.name not in REFERENCE_TABLES:
                connection.execute(table.delete())


def _rolled_back_afterwards():
    """Every session of the test (its own, each request's, each CLI command's) joins one connection's
    outer transaction with a savepoint, so a commit releases a savepoint, and the outer transaction is
    rolled back at the end (SQLAlchemy's "Joining a Session into an External Transaction").

    Flask-SQLAlchemy's sessions ask `get_bind` for an engine and ignore a configured `bind`, so the
    test swaps `get_bind` for the session class of this extension.

    SQLite: pysqlite's own transaction handling (BEGIN only before a write) does not fit SAVEPOINT, so,
    as SQLAlchemy's pysqlite notes advise, this one connection runs with the driver's transaction
    handling off (isolation_level None) and its BEGIN is emitted here. The driver then reports a
    transaction in progress, so `lock_for` adds no BEGIN IMMEDIATE: with one connection there is no
    other writer to wait for. The engine's other connections keep the driver's defaults, so the
    `committing` tests, which test `lock_for` between connections, see it as a server does.
    """
    connection = _db.engine.connect()
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection
    if sqlite:
        driver.isolation_level = None
    outer = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    session_class = _db.session.session_factory.class_
    options = _db.session.session_factory.kw
    session_class.get_bind = lambda _session, *args, **kwargs: connection
    options["join_transaction_mode"] = "create_savepoint"
    _db.session.remove()
    try:
        yield _db
    finally:
        _db.session.remove()
        del session_class.get_bind
        del options["join_transaction_mode"]
        outer.rollback()
        if sqlite:
            driver.isolation_level = ""
        connection.close()


@pytest.fixture
def count_queries(db):
    """`with count_queries() as statements:` lists the SQL statements run inside (requests included),
    to pin how many queries a hot path runs."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(_connection, _cursor, statement, _parameters, _context, _executemany):
            if "SAVEPOINT" not in statement:  # the rolled-back test's commits, not the code's statements
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def engine_name(db):
    return db.engine.dialect.name


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as a real server does.

    The `db` fixture keeps an app context open for the test body; Flask would
    reuse it for test requests, sharing `g` (the signed-in user) and the
    database session between requests and the test. Clearing the context
    variable in a copied context gives every request a fresh one.
    """

    def open(self, *args, **kwargs):
        def fresh_request():
            _cv_app.set(None)
            return FlaskClient.open(self, *args, **kwargs)

        return contextvars.copy_context().run(fresh_request)


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make_user(db):
    def make(role: str, username: str | None = None, areas=(), **kwargs):
        user = create_user(
            db.session,
            username=username or f"{role}{make.count}",
            role=role,
            name=kwargs.pop("name", f"{role.title()} Test"),
            password=PASSWORD,
            areas=areas_named(db.session, list(areas)),
            **kwargs,
        )
        make.count += 1
        db.session.commit()
        return user

    make.count = 1
    return make


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(client):
    """Sign `client` in as `user` through the real login form (with CSRF)."""

    def sign_in(user, password: str = PASSWORD):
        page = client.get("/login")
        return client.post(
            "/login", data={"username": user.username, "password": password, "csrf_token": csrf_token(page.text)}
        )

    return sign_in


#: A Tuesday morning in Jakarta (09:00 WIB), inside every default calling window.
WORKDAY_MORNING = "2026-11-24T02:00:00+00:00"


@pytest.fixture
def clock():
    """Freeze time (ticking) at a known workday morning; `clock.move_to(...)` jumps."""
    import time_machine

    with time_machine.travel(WORKDAY_MORNING, tick=True) as traveller:
        yield traveller
