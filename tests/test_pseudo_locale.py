"""Every word on screen comes from the catalogue or from data (issue 13, item 3; UX audit D17, D18).

A pseudo-locale (`eo`, built here from the catalogue) wraps every msgstr as ⟦msgid⟧. Every page of every
role (the GET routes of the role-and-ownership matrix, tests/test_route_matrix.py, in its seeded world), the
error pages and a refused sign-in are rendered in it; their visible text (text nodes and the attributes a
user sees or hears) with the marked parts and the world's data taken out must hold no word: a word left is an
English literal in a template, an exception's text or a raw internal code shown to a user.

Data is what the world seeded: names of people, users and places, numbers, dates, amounts and codes. A few
words are the same in every language (`ALLOWED`).

Pages that other parts of issue 13 rework are listed in `KNOWN` (page, word) with a strict xfail: the merger
removes the mark when the rework lands.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User
from telecollect.contacts.models import Holiday
from telecollect.messaging import templates
from telecollect.messaging.models import MessageTemplate, SmsMessage
from telecollect.messaging.routes import SAMPLE
from telecollect.participants.models import Participant
from telecollect.policy.rules import built_in_holidays
from telecollect.programs.models import ReliefProgram
from telecollect.regions.models import City, District, Province, Village
from telecollect.settings import PACKAGE_DIR
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import BASE_ROW, csv_bytes, row
from tests.test_route_matrix import ADMIN, ANON, CADRE, ROWS, SUPERVISOR, TC, TC_OTHER, Row, build_world

PSEUDO = "eo"
OPEN, CLOSE = "⟦", "⟧"
#: Names and abbreviations that are the same in every language; the language switch names each language in
#: its own words.
ALLOWED = (
    "Telecollect",
    "WhatsApp",
    "Mobile JKN",
    "JKN-KIS",
    "JKN",
    "KIS",
    "BPJS Kesehatan",
    "BPJS",
    "REHAB",
    "SMS",
    "CSV",
    "XLSX",
    "WIB",
    "WITA",
    "WIT",
    "RT",
    "RW",
    "Bahasa Indonesia",
    "English",
    # the official abbreviations of the JKN: identity number, membership segments
    "NIK",
    "PBPU",
    "PPU",
    "PBI",
    "BP",
    # places and addresses are written the Indonesian way in every language
    "Kel.",
    "Kec.",
    "Kab.",
    "Kota Administrasi",
    "Kota",
    "Jl.",
    "No.",
    # names of the SMS provider, its message id and the GSM alphabet
    "Twilio SID",
    "Twilio",
    "GSM",
    # keys on the keyboard, a time standard, an address on the internet
    "Enter",
    "Esc",
    "UTC",
    "IP",
)
SCANNED = (ANON, ADMIN, SUPERVISOR, TC, CADRE)
#: Not pages: machine endpoints (the API, webhooks, probes and metrics for the operators' tools) and downloads.
NOT_PAGES = (
    "/api/",
    "/static/",
    "/sw.js",
    "/twilio/",
    "/healthz",
    "/readyz",
    "/metrics",
    ".csv",
    ".json",
    ".<fmt>",
)
#: Attributes a user sees or a screen reader says (data-warning: the sign-out warning a script shows).
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "data-warning")

#: (page label, word) pairs a part of issue 13 is reworking; each is xfailed strictly below.
#: Per page, the words it shows today that the rework of its part must turn into catalogue sentences.
_KNOWN_WORDS: dict[tuple[str, str], str] = {}
_ACTORS_OF = {
    "GET /queue/items/<int:item_id> [call queue]": ("admin", "supervisor", "telecollector"),
    "GET /admin/audit": ("admin",),
    "GET /cadre/letter": ("cadre",),
}
KNOWN: dict[tuple[str, str], str] = {
    (f"{page} as {actor}", word): reason
    for (page, reason), words in _KNOWN_WORDS.items()
    for actor in _ACTORS_OF.get(page, ("admin", "supervisor"))
    for word in words.split()
}


class VisibleText(HTMLParser):
    """The text a user sees: text nodes outside script/style/template, the shown attributes, and the texts a page
    hands its script as JSON (<script type="application/json">)."""

    SKIPPED = frozenset({"script", "style", "template", "noscript"})
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.handed: list[str] | None = None
        #: Open elements, each with whether it is content people wrote, not the interface: `translate="no"`
        #: (HTML's own mark for text a translator must leave alone: a message preview, the call script, an
        #: audit event's detail) — data, like a participant's name.
        self.open: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and values.get("type") == "application/json" and values.get("translate") != "no":
            self.handed = []  # texts a page hands to its script, shown by it later
        if tag in self.SKIPPED:
            self.skipping += 1
        if tag not in self.VOID:
            untranslated = values.get("translate") == "no"
            self.open.append((tag, untranslated))
            self.skipping += untranslated
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1
        if any(name == tag for name, _ in self.open):
            while self.open:
                name, untranslated = self.open.pop()
                self.skipping -= untranslated
                if name == tag:
                    break
        if tag == "script" and self.handed is not None:
            self.parts.extend(_strings(json.loads("".join(self.handed))))
            self.handed = None

    def handle_data(self, data):
        if self.handed is not None:
            self.handed.append(data)
        elif not self.skipping:
            self.parts.append(data)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [part.strip() for part in parser.parts if part.strip()]


MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
#: A word: letters, with inner underscores (a raw code such as card_no is one word), hyphens or apostrophes.
WORD = re.compile(r"[^\W\d_](?:[^\W\d]|[-'’](?=[^\W\d_]))*")


ALLOWED_PHRASES = re.compile("|".join(rf"(?<!\w){re.escape(phrase)}(?!\w)" for phrase in ALLOWED))


#: Data by its form: an amount (Rp1.234.567) and a message template's variable ({nama}, as a supervisor types it).
DATA_FORMS = re.compile(r"Rp-?[\d.]+|\{[a-z_]*\}")


def unmarked_words(text: str, data: set[str]) -> list[str]:
    """Words of `text` outside the markers that are neither words of data nor allowed."""
    while True:  # innermost first: a marked sentence may hold a marked label
        stripped = MARKED.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    text = ALLOWED_PHRASES.sub(" ", text)
    text = DATA_FORMS.sub(" ", text)
    return [word for word in WORD.findall(text) if len(word) > 1 and word not in data]


@pytest.fixture(scope="session")
def pseudo_catalogue(tmp_path_factory) -> str:
    """The `eo` catalogue's folder: every message of the source (extracted as tools/translate.py does, so a
    string not yet in the Indonesian catalogue counts too) with its msgstr the msgid between ⟦ ⟧."""
    folder = tmp_path_factory.mktemp("pseudo")
    pot = folder / "messages.pot"
    root = PACKAGE_DIR.parent
    pybabel = Path(sys.executable).parent / "pybabel"
    command = [pybabel, "extract", "-F", root / "babel.cfg", "-k", "_l", "-o", pot, root]
    subprocess.run(command, check=True, capture_output=True)
    catalog = Catalog(locale=PSEUDO)
    for path in (pot, PACKAGE_DIR / "translations" / "id" / "LC_MESSAGES" / "messages.po"):
        with path.open("rb") as po_file:
            for message in read_po(po_file):
                if not message.id or message.id in catalog:
                    continue
                if isinstance(message.id, tuple | list):
                    string = tuple(f"{OPEN}{part}{CLOSE}" for part in message.id)
                else:
                    string = f"{OPEN}{message.id}{CLOSE}"
                catalog.add(message.id, string, flags=message.flags)
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as mo_file:
        write_mo(mo_file, catalog)
    return str(folder)


@pytest.fixture
def pseudo(app, pseudo_catalogue, monkeypatch):
    """The pseudo-locale, known to the app for this test."""
    babel_config = app.extensions["babel"]
    directories = [*babel_config.translation_directories, pseudo_catalogue]
    monkeypatch.setattr(babel_config, "translation_directories", directories)
    monkeypatch.setitem(app.config, "LANGUAGES", [*app.config["LANGUAGES"], PSEUDO])
    return PSEUDO


def _path(r: Row, world) -> str:
    if r.item:
        return r.rule.replace("<int:item_id>", str(getattr(world, r.item)))
    return r.path(world) if r.path else r.rule


def pages_of(actor: str, world) -> list[tuple[str, str, str]]:
    """(label, who, path) for every page `actor` is shown, error pages included."""
    found = []
    for r in ROWS:
        if r.method != "GET" or any(part in r.rule for part in NOT_PAGES):
            continue
        who = actor
        if actor == TC and r.expect[TC] != 200 and r.expect[TC_OTHER] == 200:
            who = TC_OTHER
        if r.expect[who] == 200:
            found.append((f"{r.id} as {actor}", who, _path(r, world)))
    if actor != ANON:
        found.append((f"404 page as {actor}", actor, "/participants/0000000009999"))
    if actor == TC:
        found.append(("403 page as telecollector", TC, "/admin/users"))
    return found


def world_data(db, app) -> set[str]:
    """The words of the seeded world's text: names of people, users, places, holidays and programs, addresses,
    message bodies and templates, audit details, the branch's name, and the pseudo-locale's month and day names."""
    texts: list[str] = [app.config["BRANCH_NAME"]]
    columns = (
        Participant.name,
        Participant.address,
        User.name,
        User.username,
        Holiday.name,
        ReliefProgram.name,
        AuditEvent.detail,
        MessageTemplate.body,
        SmsMessage.body,
        *(place.name for place in (Province, City, District, Village)),
    )
    for column in columns:
        texts.extend(value for value in db.session.scalars(select(column)) if value)
    texts.extend(templates.DEFAULTS.values())  # the message templates a branch has not edited yet
    texts.extend(templates.SMS_SNIPPETS.values())
    texts.extend(SAMPLE.values())  # the sample family of the SMS template previews
    for year in range(2025, 2029):
        texts.extend(day.name for day in built_in_holidays(year).values())
    locale = Locale.parse(PSEUDO)
    for names in (locale.months, locale.days):
        for width in names.get("format", {}).values():
            texts.extend(width.values())
    return set(WORD.findall(" ".join(texts)))


def _sign_in(client, user):
    page = client.get("/login")
    answer = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 302


#: Each actor's scan, once per engine: the strict xfail tests read the pairs the main test found.
_SCANS: dict[tuple[str, str], dict[tuple[str, str], str]] = {}


def scan(actor: str, client, db, make_user) -> dict[tuple[str, str], str]:
    key = (db.engine.dialect.name, actor)
    if key not in _SCANS:
        _SCANS[key] = _scan(actor, client, db, make_user)
    return _SCANS[key]


def _scan(actor: str, client, db, make_user) -> dict[tuple[str, str], str]:
    world = build_world(db, make_user)
    data = world_data(db, current_app)
    failures: dict[tuple[str, str], str] = {}
    signed_in_as = None
    for label, who, path in pages_of(actor, world):
        if who != signed_in_as and who != ANON:
            if signed_in_as is not None:
                client.post("/logout", data={"csrf_token": csrf_token(client.get("/holidays").text)})
            _sign_in(client, world.users[who])
            signed_in_as = who
        with client.session_transaction() as session:
            session["lang"] = PSEUDO
        answer = client.get(path)
        assert answer.status_code in (200, 403, 404), f"{label}: {answer.status_code}"
        assert answer.mimetype == "text/html", label
        for part in visible_text(answer.get_data(as_text=True)):
            for word in unmarked_words(part, data):
                failures.setdefault((label, word), part[:120])
    return failures


def test_the_pseudo_locale_marks_the_catalogue_and_finds_a_bare_word(client, db, pseudo):
    """The test's own instruments: the page speaks the pseudo-locale, and a bare word is caught."""
    with client.session_transaction() as session:
        session["lang"] = pseudo
    page = client.get("/login")
    assert f"{OPEN}Sign in{CLOSE}" in page.text
    assert unmarked_words(f"{OPEN}Hello {OPEN}Rina{CLOSE}{CLOSE} row 3, card_no", set()) == ["row", "card_no"]
    handed = '<script type="application/json">{"a": "⟦Saved.⟧", "b": ["Sent"]}</script><p data-warning="Sure?"></p>'
    assert visible_text(handed) == ["⟦Saved.⟧", "Sent", "Sure?"]
    assert unmarked_words("Peserta Satu · Rp900.000 · 24-11-2026 · RT 001/RW 002", {"Peserta", "Satu"}) == []


@pytest.mark.parametrize("actor", SCANNED)
def test_every_word_on_every_page_is_translated(actor, client, db, make_user, pseudo, clock):
    failures = scan(actor, client, db, make_user)
    unexpected = {key: text for key, text in failures.items() if key not in KNOWN}
    assert unexpected == {}, "\n".join(f"{label}: {word!r} in {text!r}" for (label, word), text in unexpected.items())


def test_a_refused_sign_in_speaks_the_users_language(client, db, pseudo):
    """UX audit D25: an empty sign-in form; every sentence of the refusal comes from the catalogue."""
    with client.session_transaction() as session:
        session["lang"] = pseudo
    page = client.get("/login")
    refused = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(page.text)})
    words = [word for part in visible_text(refused.get_data(as_text=True)) for word in unmarked_words(part, set())]
    assert words == []


def _known_cases():
    for (label, word), reason in KNOWN.items():
        yield pytest.param(label, word, id=f"{label} — {word}", marks=pytest.mark.xfail(strict=True, reason=reason))


if KNOWN:  # defined while a pair is listed, so that an empty list runs no empty, skipped test

    @pytest.mark.parametrize(("label", "word"), list(_known_cases()))
    def test_known_untranslated_word_is_gone(label, word, client, db, make_user, pseudo, clock):
        actor = label.rsplit(" as ", 1)[1]
        assert (label, word) not in scan(actor, client, db, make_user)


REFUSALS = [
    pytest.param(
        "/settings/contact",
        {"calling_hours": "8 sampai 20", "calling_days": "senin-sabtu", "max_per_day": "0", "max_per_week": "x"},
        None,
        id="contact rules, every field wrong",
    ),
    pytest.param("/participants/import", {}, ("peserta.csv", b"nama;nomor\nA;1\n"), id="import, wrong file"),
    pytest.param(
        "/participants/import",
        {},
        ("peserta.csv", csv_bytes([row(card_no="123", arrears_amount="banyak"), row(card_no="1234567890123")])),
        id="import, bad rows",
    ),
    pytest.param("/payments/import", {}, ("bayar.csv", b"x\n1\n"), id="payments import, wrong file"),
]


@pytest.mark.parametrize(("path", "form", "upload"), REFUSALS)
def test_a_refused_form_speaks_the_users_language(path, form, upload, client, db, make_user, pseudo):
    """UX audit D17: an exception's text or a code on the page of a refused form, in sentences from the catalogue."""
    user = make_user("supervisor")
    _sign_in(client, user)
    with client.session_transaction() as session:
        session["lang"] = pseudo
    data = {**form, "csrf_token": csrf_token(client.get(path).text)}
    if upload:
        data["file"] = (io.BytesIO(upload[1]), upload[0])
    answer = client.post(path, data=data, content_type="multipart/form-data" if upload else None)
    assert answer.status_code in (200, 400, 422), answer.status_code
    typed = ["senin sabtu sampai banyak nama nomor peserta csv", *map(str, BASE_ROW.values())]  # what was sent
    data_words = world_data(db, current_app) | set(WORD.findall(" ".join(typed)))
    words = {w for part in visible_text(answer.get_data(as_text=True)) for w in unmarked_words(part, data_words)}
    assert words == set(), [
        p for p in visible_text(answer.get_data(as_text=True)) if set(unmarked_words(p, data_words))
    ]
