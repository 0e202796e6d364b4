"""The letter of assignment: a number, issue date, signatory and a QR code to a public page that tells
an RT head whether it is valid; numbers cannot be made up; deactivating the cadre revokes it (issue 13,
build item 3)."""

import re
from datetime import timedelta

import pytest
from flask import current_app

from telecollect import letters
from tests.helpers import csv_bytes, row, run_import


def _today(cadre):
    from telecollect.clock import ZONES
    from telecollect.db import now_utc

    return now_utc().astimezone(ZONES[cadre.timezone]).date()


def _number(page: str) -> str:
    return re.search(r'data-testid="letter-number">[^<]*<code[^>]*>([^<]+)</code>', page).group(1)


def test_the_letter_has_a_number_a_signatory_and_a_qr_to_its_check_page(db, client, login, make_user, app):
    app.config["LETTER_SIGNATORY_NAME"] = "Dr. Hana Putri"
    login(make_user("cadre", name="Siti Kader"))
    page = client.get("/cadre/letter").text
    number = _number(page)
    assert "Dr. Hana Putri" in page and "<svg" in page.split('data-testid="letter-qr"')[1]
    assert f"/surat/{number}" in page
    from sqlalchemy import select

    from telecollect.audit.models import AuditEvent

    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "letter.issue")) == number
    client.post("/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    check = client.get(f"/surat/{number}")
    assert check.status_code == 200 and 'data-verdict="valid"' in check.text
    assert "Siti Kader" in check.text and current_app.config["BRANCH_NAME"] in check.text


def test_the_check_page_shows_no_participant(db, client, login, make_user):
    run_import(db, csv_bytes([row(name="Peserta Rahasia")]))
    cadre = make_user("cadre")
    with client.application.test_request_context():
        number = letters.issue(cadre, _today(cadre)).number
    page = client.get(f"/surat/{number}").text
    assert "Peserta Rahasia" not in page and "0001234567890" not in page


@pytest.mark.parametrize("number", ["1-20261130", "1-20261130.AAAAAAAAAAAAAAAAAAAAAAAAAAA", "2", "x" * 300])
def test_a_made_up_number_is_not_valid(db, client, make_user, number):
    make_user("cadre")
    answer = client.get(f"/surat/{number}")
    assert answer.status_code == 404 and 'data-verdict="unknown"' in answer.text


def test_deactivating_the_cadre_revokes_her_letters_and_an_old_one_expires(db, client, make_user, app):
    cadre = make_user("cadre", name="Dewi Kader")
    with app.test_request_context():
        today = letters.issue(cadre, _today(cadre)).number
        old = letters.issue(cadre, _today(cadre) - timedelta(days=app.config["ASSIGNMENT_LETTER_DAYS"] + 2)).number
    assert 'data-verdict="expired"' in client.get(f"/surat/{old}").text
    cadre.is_active = False
    db.session.commit()
    revoked = client.get(f"/surat/{today}").text
    assert 'data-verdict="revoked"' in revoked
