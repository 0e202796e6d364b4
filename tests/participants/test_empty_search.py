"""UX audit D24: an empty participant search showed "Halaman 1 dari 0"."""

from tests.helpers import csv_bytes, row, run_import


def test_an_empty_search_shows_no_pager(client, login, make_user, db):
    run_import(db, csv_bytes([row(card_no="0000000000001", name="Peserta Satu")]))
    login(make_user("supervisor"))
    empty = client.get("/participants?q=tidak-ada-yang-cocok")
    assert empty.status_code == 200
    assert "dari 0" not in empty.text
    assert 'class="pager"' not in empty.text
    one_page = client.get("/participants")
    assert "Peserta Satu" in one_page.text and 'class="pager"' not in one_page.text
