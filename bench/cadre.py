"""Benchmark the cadre's work list: its first screen (`GET /cadre`) and the whole list as compact data
(`GET /cadre/list.json`, which the phone keeps for offline use), at 150, 1,000 and 46,000 families.

For each database engine and size it builds a database (migrations, then the real participant import
of that many one-member families in one kecamatan, all put in the cadre queue's pool with
`queues.assign`), makes one cadre covering that kecamatan, signs her in through the login form and
times both requests in-process (Flask's test client: no server, no network), `--repeat` tries after
one warm-up: median and best, the statements run, and the bytes sent. The first screen's bytes are the
page plus its stylesheet and scripts (app.css, page.js, cadre.js, outbox-guard.js, as served); the
list's bytes are the JSON as sent (no compression in the app) and gzipped (what a proxy compressing it
would send); an unchanged list costs a 304 (the service worker asks with its ETag).

Issue 12 found the list hitting the worker timeout (30 s) at 46,000 families. Issue 13 made the page
its first screen (queues.queries.CADRE_FIRST_SCREEN families) and the list compact data, cut at
queues.queries.CADRE_LIST_MAX families (the most urgent).

Run from the repository root (the PostgreSQL database is emptied first):
    .venv/bin/python -m bench.cadre --cadre-families 150,1000 --engines sqlite,postgresql
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, text

from bench.common import engine_names, heading_line, koja_families_csv, positive, row_line, sizes

#: The PostgreSQL database the benchmark empties and fills (`--pg-url`).
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tc_h5"
ENGINES = ("sqlite", "postgresql")
PASSWORD = "bench-password-1"

TABLE = (
    ("engine", "engine", 10, "{}"),
    ("families", "families", 9, "{:,}"),
    ("seed_s", "seed s", 7, "{:.1f}"),
    ("page_ms", "page ms", 8, "{:.0f}"),
    ("page_queries", "queries", 8, "{}"),
    ("cards", "cards", 6, "{:,}"),
    ("first_screen_kb", "1st screen KB", 14, "{:,.1f}"),
    ("list_ms", "list ms", 8, "{:.0f}"),
    ("list_best_ms", "best ms", 8, "{:.0f}"),
    ("list_queries", "queries", 8, "{}"),
    ("listed", "listed", 7, "{:,}"),
    ("list_kb", "list KB", 8, "{:,.1f}"),
    ("list_gzip_kb", "gzip KB", 8, "{:,.1f}"),
    ("not_modified_ms", "304 ms", 7, "{:.0f}"),
)
#: What the first screen loads besides the page (cadre.html's stylesheet and scripts).
ASSETS = ("app.css", "page.js", "cadre.js", "outbox-guard.js")


@dataclass
class Result:
    engine: str
    families: int
    seed_s: float
    page_ms: float
    page_queries: int
    cards: int
    first_screen_kb: float
    list_ms: float
    list_best_ms: float
    list_queries: int
    listed: int
    list_kb: float
    list_gzip_kb: float
    not_modified_ms: float


def _app(url: str):
    from telecollect import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "DEFAULT_LOCALE": "en",
        }
    )


def _fresh(engine: str, workdir: Path, pg_url: str) -> str:
    if engine == "sqlite":
        path = workdir / "cadre.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    admin.dispose()
    return pg_url


def _seed(app, families: int) -> None:
    from flask_migrate import upgrade

    from telecollect.auth.services import areas_named, create_user
    from telecollect.extensions import db
    from telecollect.imports.reader import TableReader
    from telecollect.queues.models import QueueName
    from telecollect.queues.services import AssignFilters, assign
    from telecollect.regions.services import ensure_provinces
    from telecollect.settings import Settings
    from telecollect.workflows.imports import import_participants

    with app.app_context():
        upgrade()
        ensure_provinces(db.session)
        db.session.commit()
        reader = TableReader(io.BytesIO(koja_families_csv(families)), "peserta.csv")
        import_participants(db.session, reader, filename="peserta.csv", settings=Settings())
        db.session.commit()
        assign(db.session, queue=QueueName.cadre, filters=AssignFilters())
        create_user(
            db.session,
            username="bench.kader",
            role="cadre",
            name="Kader Bench",
            password=PASSWORD,
            areas=areas_named(db.session, ["Kec. Koja"]),
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))


def _timed(client, path: str, repeat: int, statements: list, **kwargs):
    """`repeat` tries: (median ms, best ms, statements of the last, the last response)."""
    times, response = [], None
    for _ in range(repeat):
        statements.clear()
        started = time.perf_counter()
        response = client.get(path, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 304), (path, response.status_code)
    assert response is not None
    return statistics.median(times), min(times), len(statements), response


def measure(engine: str, workdir: Path, families: int, repeat: int, pg_url: str = PG_URL) -> Result:
    import gzip

    from telecollect.extensions import db

    url = _fresh(engine, workdir, pg_url)
    app = _app(url)
    started = time.perf_counter()
    _seed(app, families)
    seed_s = time.perf_counter() - started
    client = app.test_client()
    assert client.post("/login", data={"username": "bench.kader", "password": PASSWORD}).status_code == 302
    client.get("/cadre")  # warm-up: templates compiled, connections open
    client.get("/cadre/list.json")
    statements: list = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    page_ms, _best, page_queries, page = _timed(client, "/cadre", repeat, statements)
    assets = sum(len(client.get(f"/static/{name}").data) for name in ASSETS)
    list_ms, list_best, list_queries, data = _timed(client, "/cadre/list.json", repeat, statements)
    not_modified_ms, _best, _queries, unchanged = _timed(
        client, "/cadre/list.json", repeat, statements, headers={"If-None-Match": data.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    return Result(
        engine,
        families,
        seed_s,
        page_ms,
        page_queries,
        page.text.count('data-testid="family"'),
        (len(page.data) + assets) / 1024,
        list_ms,
        list_best,
        list_queries,
        len(data.json["families"]),
        len(data.data) / 1024,
        len(gzip.compress(data.data)) / 1024,
        not_modified_ms,
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench.cadre", description=__doc__.split("\n")[0])
    parser.add_argument("--cadre-families", dest="families", type=sizes, default=[150, 1_000, 46_000])
    parser.add_argument("--repeat", type=positive(), default=5)
    parser.add_argument("--engines", type=engine_names(ENGINES), default=list(ENGINES))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL database the benchmark may empty")
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        print(heading_line(TABLE), flush=True)
        for engine in args.engines:
            for families in args.families:
                print(row_line(measure(engine, workdir, families, args.repeat, args.pg_url), TABLE), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
