"""Benchmark the agent desktop: keys and clicks per routine call, and the time from "save" to the next family.

A telecollector makes about 100 calls a day on one screen, so what a routine call costs in key presses,
mouse clicks and waiting is the desktop's figure of merit. This drives Debian's Chromium (Playwright) at
1366×768 against a live server on a fresh SQLite database holding `--desk-calls` families in the call
queue, signed in as a telecollector, and works them as an agent would, counting every key press and click
the script makes (typing a value into a field is counted as one field entry, not as keys):

  no answer   `1`                                      (saved, and the next family opens)
  promise     `7` (the date field opens, focused), the date typed, Enter
  callback    `6` (the time field opens, focused), the time typed, Enter

and timing, for each call, the moment Enter is pressed to the moment the next family's call screen is
shown and listening for keys (`#outcome-form[data-ready]` with a new heading): median and worst.

Before issue 13 (commit a197196, by the steps the UX audit recorded, D3): every call began with N on the
start page (1 key), the shortcut picked the outcome (1 key), Enter did not save after a shortcut, so Save
was clicked (1 click); a promise or callback also needed a click into its field (the focus stayed on the
page). Saving went back to the start page, so the next family cost another N and two page loads.

    no answer   2 keys, 1 click          promise / callback   2 keys, 2 clicks, 1 field entry

Run from the repository root:  .venv/bin/python -m bench.desk --desk-calls 30
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import heading_line, koja_families_csv, positive, row_line

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "bench-password-1"
#: A Tuesday, 09:00 WIB: inside every default calling window (the server's clock is moved there).
WORKDAY_MORNING = "2026-11-24T02:00:00+00:00"
#: How far the server's clock moves per call (at least 60 s / READS per minute: 20 families a minute).
CALL_SECONDS = 5
#: What a routine call costs before issue 13 (see the module's docstring): keys, clicks, field entries.
BEFORE = {"no answer": (2, 1, 0), "promise": (2, 2, 1), "callback": (2, 2, 1)}

TABLE = (
    ("kind", "routine call", 13, "{}"),
    ("calls", "calls", 6, "{}"),
    ("keys_before", "keys before", 12, "{}"),
    ("clicks_before", "clicks before", 14, "{}"),
    ("keys", "keys now", 9, "{:.0f}"),
    ("clicks", "clicks now", 11, "{:.0f}"),
    ("fields", "fields", 7, "{:.0f}"),
    ("median_ms", "save→next median ms", 20, "{:.0f}"),
    ("worst_ms", "worst ms", 9, "{:.0f}"),
)


@dataclass
class Result:
    kind: str
    calls: int
    keys_before: int
    clicks_before: int
    keys: float
    clicks: float
    fields: float
    median_ms: float
    worst_ms: float


def _seed(url: str, families: int):
    import io

    from flask_migrate import upgrade

    from telecollect import create_app
    from telecollect.auth.services import create_user
    from telecollect.extensions import db
    from telecollect.imports.reader import TableReader
    from telecollect.queues.models import QueueName
    from telecollect.queues.services import AssignFilters, assign
    from telecollect.regions.services import ensure_provinces
    from telecollect.settings import Settings
    from telecollect.workflows.imports import import_participants

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "DEFAULT_LOCALE": "id",
            "SMS_BACKEND": "outbox",
        }
    )
    with app.app_context():
        upgrade()
        ensure_provinces(db.session)
        db.session.commit()
        reader = TableReader(io.BytesIO(koja_families_csv(families)), "peserta.csv")
        import_participants(db.session, reader, filename="peserta.csv", settings=Settings())
        db.session.commit()
        assign(db.session, queue=QueueName.telecollect, filters=AssignFilters())
        create_user(db.session, username="bench.tc", role="telecollector", name="TC Bench", password=PASSWORD)
        db.session.commit()
    return app


class Agent:
    """The page, with every key press and click the script makes counted."""

    def __init__(self, page):
        self.page, self.keys, self.clicks, self.fields = page, 0, 0, 0

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)

    def type_into_focused(self, text: str) -> None:
        """A value typed into the field that has the focus (one field entry)."""
        self.fields += 1
        self.page.evaluate(
            "v => { const f = document.activeElement; f.value = v; f.dispatchEvent(new Event('input')); }", text
        )

    def counts(self) -> tuple[int, int, int]:
        return self.keys, self.clicks, self.fields


def _heading(page) -> str:
    return page.locator("h1").inner_text()


def _save_and_time(agent: Agent, key: str = "Enter") -> float:
    """Press `key` (Enter: save) and wait for the next family's call screen, listening for keys; milliseconds."""
    page = agent.page
    before = _heading(page)
    started = time.perf_counter()
    agent.press(key)
    try:
        page.wait_for_function(
            "h => document.querySelector('#outcome-form[data-ready]') && document.querySelector('h1').innerText !== h",
            arg=before,
            timeout=20_000,
        )
    except Exception:
        alerts = page.locator("[role=alert]").all_inner_texts()
        alerts.append(
            page.evaluate(
                "() => Array.from(document.querySelectorAll('#outcome-form :invalid'))"
                ".map(e => e.name + ':' + e.validationMessage + ':' + e.value)"
            )
        )
        raise RuntimeError(f"no next family after saving on {page.url} ({before!r}): {alerts}") from None
    return (time.perf_counter() - started) * 1000


def _call(agent: Agent, kind: str) -> float:
    agent.page.wait_for_selector("#outcome-form[data-ready]")
    if kind == "no answer":
        return _save_and_time(agent, "1")
    if kind == "promise":
        agent.press("7")
        agent.type_into_focused("2026-11-28")
    else:
        agent.press("6")
        agent.type_into_focused("2026-11-24T15:00")
    return _save_and_time(agent)


def measure(calls: int, workdir: Path) -> list[Result]:
    import time_machine
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would bury the table
    kinds = ("no answer", "promise", "callback")
    path = workdir / "desk.db"
    path.unlink(missing_ok=True)
    with time_machine.travel(WORKDAY_MORNING, tick=True) as clock:
        app = _seed(f"sqlite:///{path}", calls * len(kinds) + 2)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(
                    base_url=f"http://127.0.0.1:{server.server_port}",
                    locale="id-ID",
                    viewport={"width": 1366, "height": 768},
                )
                page = context.new_page()
                page.goto("/login")
                page.fill("input[name=username]", "bench.tc")
                page.fill("input[name=password]", PASSWORD)
                page.press("input[name=password]", "Enter")
                page.wait_for_url("**/queue")
                page.keyboard.press("n")  # the day's first family (not counted: once a day, not per call)
                results = []
                for kind in kinds:
                    agent = Agent(page)
                    times = []
                    for _ in range(calls):
                        # A real call lasts longer than the script's: the server's clock moves on by
                        # CALL_SECONDS, so the opening throttle (audit.disclosure.READS) sees an agent's pace.
                        clock.shift(CALL_SECONDS)
                        times.append(_call(agent, kind))
                    keys, clicks, fields = agent.counts()
                    before_keys, before_clicks, _before_fields = BEFORE[kind]
                    results.append(
                        Result(
                            kind,
                            calls,
                            before_keys,
                            before_clicks,
                            keys / calls,
                            clicks / calls,
                            fields / calls,
                            statistics.median(times),
                            max(times),
                        )
                    )
                browser.close()
        finally:
            server.shutdown()
            thread.join(10)
    return results


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench.desk", description=__doc__.split("\n")[0])
    parser.add_argument("--desk-calls", dest="calls", type=positive(), default=20, help="calls of each kind")
    parser.add_argument("--workdir", type=Path, default=None)
    return parser.parse_known_args(argv)[0]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.exists(CHROMIUM):
        print(f"bench.desk: {CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        print(heading_line(TABLE), flush=True)
        for result in measure(args.calls, workdir):
            print(row_line(result, TABLE), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
