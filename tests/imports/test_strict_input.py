"""Import input is read strictly: only ASCII digits, dates within reason, no control characters, and a
bad cell is a row error, never a crash (issue 12, item 13)."""

import io
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telecollect.imports import fields
from telecollect.imports.fields import FieldError
from telecollect.money import MAX_RUPIAH, parse_rupiah
from telecollect.participants.importing import COLUMNS, validate_row
from telecollect.phones import normalize_mobile
from telecollect.reasons import Refusal
from tests.conftest import csrf_token
from tests.helpers import BASE_ROW, csv_bytes, row, run_import

TODAY = date(2026, 11, 30)
#: Decimal digits of every script but ASCII: fullwidth, Arabic-Indic, Devanagari, …
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda ch: not ch.isascii())
#: Digit-like characters str.isdigit() accepts that are not decimal digits: superscripts, circled digits.
DIGIT_LIKE = st.sampled_from("²³¹⁰①⑨")
NOT_ASCII_DIGITS = st.lists(st.one_of(OTHER_DIGITS, DIGIT_LIKE, st.sampled_from("0123456789")), min_size=1).filter(
    lambda chars: not all(ch.isascii() for ch in chars)
)


@given(NOT_ASCII_DIGITS.map("".join))
def test_only_ascii_digits_are_digits(written):
    with pytest.raises(Refusal):
        parse_rupiah(written)
    with pytest.raises(Refusal):
        normalize_mobile(written)
    with pytest.raises(FieldError):
        fields.card_no(written)
    with pytest.raises(FieldError):
        fields.whole_number(written, 0, 600)
    with pytest.raises(FieldError):
        fields.digits(written, len(written), "nik_digits")


@given(st.text())
def test_an_amount_is_read_or_refused_never_a_crash(written):
    try:
        amount = parse_rupiah(written)
    except Refusal:
        return
    assert 0 <= amount <= MAX_RUPIAH


@given(st.integers(min_value=10**12, max_value=10**40))
def test_amounts_beyond_the_limit_are_refused(number):
    for written in (str(number), number, float(number)):
        with pytest.raises(Refusal) as refused:
            parse_rupiah(written)
        assert refused.value.code in ("amount_too_large", "amount_format")


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(COLUMNS), st.one_of(st.text(max_size=40), st.integers(), st.none())))
def test_a_participant_row_is_valid_or_refused_never_a_crash(cells):
    validated, errors = validate_row(2, {**BASE_ROW, **cells}, TODAY)
    assert (validated is None) == bool(errors)


@pytest.mark.parametrize(
    ("changes", "column", "code"),
    [
        ({"arrears_amount": "²"}, "arrears_amount", "amount_format"),
        ({"arrears_amount": "12345678901234567890"}, "arrears_amount", "amount_too_large"),
        ({"arrears_amount": "１２３"}, "arrears_amount", "amount_format"),
        ({"card_no": "٠٠٠١٢٣٤٥٦٧٨٩٠"}, "card_no", "card_no_digits"),
        ({"nik": "３１７２０１５７０８８５０００１"}, "nik", "nik_digits"),
        ({"months_in_arrears": "²"}, "months_in_arrears", "whole_number"),
        ({"name": "Siti\x00Aminah"}, "name", "control_character"),
        ({"kecamatan": "Ko\x00ja"}, "kecamatan", "control_character"),
        ({"family_id": "F\x01"}, "family_id", "control_character"),
        ({"as_of": "9999-12-31"}, "as_of", "as_of_future"),
        ({"as_of": "2013-12-31"}, "as_of", "date_too_early"),
        ({"as_of": "0001-01-01"}, "as_of", "date_too_early"),
    ],
)
def test_bad_cells_are_row_errors_on_both_engines(db, changes, column, code):
    report = run_import(db, csv_bytes([row(**changes)]))
    assert report.rejected == 1 and report.created == 0
    assert [(e.column, e.code) for e in report.errors] == [(column, code)]


def test_an_arrears_list_may_be_dated_a_few_days_ahead(db):
    today = TODAY
    ahead = today + fields.AS_OF_MARGIN
    report = run_import(db, csv_bytes([row(as_of=ahead.isoformat())]), today=today)
    assert report.created == 1
    report = run_import(db, csv_bytes([row(as_of=(ahead + timedelta(days=1)).isoformat())]), today=today)
    assert [e.code for e in report.errors] == ["as_of_future"]


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        ("0001234567890,²,2026-11-01,R1", "amount_format"),
        ("0001234567890,12345678901234567890,2026-11-01,R1", "amount_too_large"),
        ("0001234567890,1000,2026-11-01,R\x001", "control_character"),
        ("0001234567890,1000,2013-12-31,R1", "date_too_early"),
    ],
)
def test_bad_payment_cells_are_row_errors(db, cells, code):
    from telecollect.imports.reader import TableReader
    from telecollect.workflows.imports import import_payments
    from tests.helpers import SETTINGS

    run_import(db, csv_bytes([row()]))
    data = f"card_no,amount,paid_on,reference\n{cells}\n".encode()
    report = import_payments(
        db.session, TableReader(io.BytesIO(data), "b.csv"), filename="b.csv", settings=SETTINGS, today=TODAY
    )
    assert report.rejected == 1 and [e.code for e in report.errors] == [code]


def test_a_nul_byte_is_kept_out_of_the_rejects_file(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/participants/import")
    data = csv_bytes([row(name="Siti\x00Aminah"), row(card_no="0000000000002")])
    answer = client.post(
        "/participants/import",
        data={"csrf_token": csrf_token(page.text), "file": (io.BytesIO(data), "f.csv"), "skip_invalid": "1"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    link = answer.text.split('href="/participants/imports/')[1].split('"')[0]
    rejects = client.get(f"/participants/imports/{link}").text
    assert "Siti\ufffdAminah" in rejects and "\x00" not in rejects
