"""Bahasa Indonesia is the default and complete; English is one click away."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHOD_MAP = [("telecollect/**.py", "python"), ("templates/**.html", "jinja2")]


def source_messages() -> set[str]:
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHOD_MAP, keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_string_has_an_indonesian_translation():
    with (ROOT / "telecollect/translations/id/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - translated)
    assert missing == [], "run pybabel extract/update and translate these"


def test_pages_default_to_indonesian_and_switch_to_english(client, login, make_user):
    from tests.conftest import csrf_token

    login(make_user("telecollector"))
    page = client.get("/participants")
    assert "Peserta menunggak" in page.text and '<html lang="id">' in page.text
    client.post("/lang/en", data={"csrf_token": csrf_token(page.text), "next": "/participants"})
    assert "Participants in arrears" in client.get("/participants").text
