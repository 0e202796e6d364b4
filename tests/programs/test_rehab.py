"""REHAB rule tables: segment × months × date, and the quote API."""

from datetime import date

import pytest
from sqlalchemy import select

from telecollect.participants.models import Participant
from telecollect.programs.models import ReliefProgram
from telecollect.programs.rules import max_installments, registration_open, rehab_quote, split
from tests.helpers import csv_bytes, row, run_import


def rehab(db):
    return db.session.scalar(select(ReliefProgram).where(ReliefProgram.code == "REHAB-2022"))


@pytest.mark.parametrize("months, expected", [(3, 1), (4, 2), (5, 2), (9, 4), (23, 11), (24, 12), (25, 12), (40, 12)])
def test_max_installments_is_min_12_and_half_the_months(db, months, expected):
    assert max_installments(rehab(db), months) == expected


@pytest.mark.parametrize(
    "day, is_open",
    [
        (date(2026, 3, 1), True),
        (date(2026, 3, 28), True),
        (date(2026, 3, 29), False),
        (date(2026, 3, 31), False),
        (date(2026, 2, 27), True),
        (date(2026, 2, 28), False),  # common year
        (date(2028, 2, 27), True),
        (date(2028, 2, 28), False),
        (date(2028, 2, 29), False),  # leap year
    ],
)
def test_registration_window(db, day, is_open):
    assert registration_open(rehab(db), day) is is_open


def family_of(db, segment="PBPU", months=8, amount=None, klass="3", members=1):
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"{n:013d}",
                    family_id="0000000000001",
                    segment=segment,
                    months_in_arrears=str(months),
                    arrears_amount=str(amount if amount is not None else months * 35_000),
                    **{"class": klass},
                )
                for n in range(1, members + 1)
            ]
        ),
    )
    return db.session.scalars(select(Participant).order_by(Participant.card_no)).all()


@pytest.mark.parametrize(
    "segment, months, on, eligible, is_open, options",
    [
        ("PBPU", 3, date(2026, 3, 10), False, True, []),
        ("PBPU", 4, date(2026, 3, 10), True, True, [2]),
        ("BP", 24, date(2026, 3, 28), True, True, list(range(2, 13))),
        ("PBPU", 25, date(2026, 3, 10), False, True, []),
        ("PPU", 8, date(2026, 3, 10), False, True, []),
        ("PBI", 8, date(2026, 3, 10), False, True, []),
        ("PBPU", 8, date(2026, 3, 29), True, False, [2, 3, 4]),
        ("PBPU", 8, date(2026, 2, 28), True, False, [2, 3, 4]),
        ("PBPU", 8, date(2028, 2, 27), True, True, [2, 3, 4]),
    ],
)
def test_quote_rule_table(db, segment, months, on, eligible, is_open, options):
    members = family_of(db, segment=segment, months=months)
    quote = rehab_quote(db.session, members, on)
    assert (quote.eligible, quote.registration_open) == (eligible, is_open)
    assert [o["installments"] for o in quote.options] == options
    assert bool(quote.reasons) == (not eligible or not is_open)


def test_reasons_are_readable_indonesian(db):
    quote = rehab_quote(db.session, family_of(db, segment="PPU", months=3), date(2026, 3, 29))
    assert [str(reason) for reason in quote.reasons] == [
        "Segmen PPU tidak termasuk: program ini untuk BP, PBPU.",
        "Tunggakan 3 bulan: program ini untuk tunggakan 4 sampai 24 bulan.",
        "Pendaftaran dibuka tanggal 1–28 setiap bulan (1–27 di bulan Februari).",
    ]


def test_installments_add_up_exactly_for_the_whole_family(db):
    members = family_of(db, months=7, amount=1_000_001, members=3)
    quote = rehab_quote(db.session, members, date(2026, 3, 10))
    assert quote.family_arrears_amount == 3_000_003
    for option in quote.options:
        assert sum(option["amounts"]) == 3_000_003 == option["total"]
        assert max(option["amounts"]) - min(option["amounts"]) <= 1
    assert split(100, 3) == [34, 33, 33]


def test_program_rules_are_data_with_dates(db, runner):
    result = runner.invoke(
        args=[
            "programs",
            "add",
            "REHAB-2.0",
            "--name",
            "New REHAB 2.0",
            "--from",
            "2025-02-01",
            "--min-months",
            "2",
            "--max-months",
            "24",
            "--max-installments",
            "36",
            "--divisor",
            "1",
            "--last-day",
            "28",
            "--last-day-february",
            "27",
            "--includes-current-month",
        ]
    )
    try:
        assert result.exit_code == 0, result.output
        members = family_of(db, months=3)
        before = rehab_quote(db.session, members, date(2024, 6, 10))
        after = rehab_quote(db.session, members, date(2026, 6, 10))
        assert (before.program.code, before.eligible) == ("REHAB-2022", False)
        assert (after.program.code, after.eligible, after.max_installments) == ("REHAB-2.0", True, 3)
        assert after.options[0]["total"] == 3 * 35_000 + 35_000  # the current month is in the plan
    finally:
        db.session.query(ReliefProgram).filter_by(code="REHAB-2.0").delete()
        db.session.commit()


def test_quote_api(db, client, login, make_user):
    family_of(db, months=6)
    login(make_user("telecollector"))
    answer = client.get("/api/v1/participants/0000000000001/rehab?on=2026-03-10").json
    assert answer["program"] == "REHAB-2022" and answer["eligible"] is True
    assert answer["max_installments"] == 3 and answer["family_arrears_amount"] == 210_000
    assert [(o["installments"], o["amount_per_installment"]) for o in answer["options"]] == [(2, 105_000), (3, 70_000)]
    assert client.get("/api/v1/participants/0000000000001/rehab?on=10-03-2026").json["error"]["field"] == "on"
    assert client.get("/api/v1/participants/9999999999999/rehab").status_code == 404
