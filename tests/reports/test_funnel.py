"""A scripted month of work whose every report figure is computed by hand."""

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from telecollect.contacts.models import Channel
from telecollect.contacts.outcomes import OUTCOMES
from telecollect.contacts.services import OutcomeInput
from telecollect.imports.reader import TableReader
from telecollect.participants.models import Family
from telecollect.policy.rules import ContactRules
from telecollect.queues import lifecycle
from telecollect.queues.models import QueueName, WorkItem
from telecollect.reports.funnel import CALL_COLUMNS, RATES, Period, Scope, outcome_funnel, totals
from telecollect.reports.routes import FUNNEL_COLUMNS
from telecollect.workflows.imports import import_payments
from telecollect.workflows.queue_work import record_outcome
from tests.helpers import SETTINGS, csv_bytes, row, run_import
from tests.helpers_queue import queue_up

RULES = ContactRules(0, 1440, frozenset(range(7)), 50, 50)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "WIB")
#: Kecamatan are labelled with their city: names repeat across regencies.
JAKARTA_UTARA = " — Kota Administrasi Jakarta Utara"
KOJA = f"Koja{JAKARTA_UTARA}"


def at(day: int, hour_wib: int = 10) -> datetime:
    return datetime(2026, 11, day, hour_wib - 7, tzinfo=UTC)


@pytest.fixture
def month(db, make_user):
    """Three families: A and B in Koja (A owes 6 months, B 2), C in Cilincing (12 months).

    rina (telecollector): A no answer (3 Nov), A promise Rp70.000 by 10 Nov (4 Nov), B busy (4 Nov),
        B promise Rp35.000 by 12 Nov (5 Nov).
    agus (telecollector): C refused (5 Nov), C promise Rp420.000 by 20 Nov (18 Nov).
    Payments: A pays Rp70.000 on 9 Nov (kept, credited to rina); C pays Rp100.000 on 21 Nov
    (partly kept, credited to agus); B pays nothing (broken); C's Rp420.000 + current month on 28 Nov
    clears C (reactivated, credited to agus).
    """
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    family_id="A",
                    kecamatan="Koja",
                    kelurahan="Lagoa",
                    phone="081200000001",
                    months_in_arrears="6",
                    arrears_amount="210000",
                    **{"class": "3"},
                    as_of="2026-10-31",
                ),
                row(
                    card_no="0000000000002",
                    family_id="B",
                    kecamatan="Koja",
                    kelurahan="Tugu Utara",
                    phone="081200000002",
                    months_in_arrears="2",
                    arrears_amount="70000",
                    **{"class": "3"},
                    as_of="2026-10-31",
                ),
                row(
                    card_no="0000000000003",
                    family_id="C",
                    kecamatan="Cilincing",
                    kelurahan="Marunda",
                    phone="081200000003",
                    months_in_arrears="12",
                    arrears_amount="420000",
                    **{"class": "3"},
                    as_of="2026-10-31",
                ),
            ]
        ),
    )
    rina, agus = make_user("telecollector", username="rina"), make_user("telecollector", username="agus")
    queue_up(db, QueueName.telecollect, user=rina, kecamatan="Koja", now=at(1))
    queue_up(db, QueueName.telecollect, user=agus, kecamatan="Cilincing", now=at(1))
    items = {i.family.key: i for i in db.session.scalars(select(WorkItem))}

    def record(user, family, code, day, **promise):
        given = OutcomeInput(kind=OUTCOMES[code], channel=Channel.phone, **promise)
        lifecycle.hold(items[family], user, at(day) + timedelta(minutes=15))  # the holder records
        record_outcome(
            db.session, items[family], user, given, rules=RULES, retry_delays={}, now=at(day), settings=SETTINGS
        )
        db.session.commit()

    record(rina, "A", "no_answer", 3)
    record(rina, "A", "promise_to_pay", 4, promise_date=date(2026, 11, 10), promise_amount=70_000)
    record(rina, "B", "busy", 4)
    record(rina, "B", "promise_to_pay", 5, promise_date=date(2026, 11, 12), promise_amount=35_000)
    record(agus, "C", "refused", 5)
    record(agus, "C", "promise_to_pay", 18, promise_date=date(2026, 11, 20), promise_amount=420_000)
    payments = csv_bytes(
        [
            {"card_no": "0000000000001", "amount": "70000", "paid_on": "2026-11-09", "reference": "P1"},
            {"card_no": "0000000000003", "amount": "100000", "paid_on": "2026-11-21", "reference": "P2"},
            {"card_no": "0000000000003", "amount": "355000", "paid_on": "2026-11-28", "reference": "P3"},
        ],
        columns=("card_no", "amount", "paid_on", "reference"),
    )
    import_payments(
        db.session,
        TableReader(io.BytesIO(payments), "p.csv"),
        filename="p.csv",
        today=date(2026, 11, 30),
        settings=SETTINGS,
    )
    return rina, agus


def by(rows, key):
    return {r[key]: r for r in rows}


def test_funnel_by_user(db, month):
    rows = by(outcome_funnel(db.session, "user", NOVEMBER), "user")
    rina, agus = rows["rina"], rows["agus"]
    assert (rina["families_attempted"], rina["attempts"], rina["contacts"], rina["rpc"]) == (2, 4, 2, 2)
    assert (rina["promises"], rina["promised_amount"]) == (2, 105_000)
    assert (rina["promises_due"], rina["promises_kept"], rina["promises_broken"]) == (2, 1, 1)
    assert (rina["payments"], rina["collected_amount"], rina["reactivated"]) == (1, 70_000, 0)
    assert (rina["families_assigned"], rina["arrears_assigned"]) == (2, 280_000)
    rates = (rina["contact_rate"], rina["ptp_rate"], rina["kept_rate"], rina["attempts_per_family"])
    assert rates == (0.5, 1.0, 0.5, 2.0)
    assert rina["recovery_rate"] == round(70_000 / 280_000, 4)
    assert (agus["attempts"], agus["contacts"], agus["rpc"], agus["promises"]) == (2, 2, 2, 1)
    assert (agus["promises_due"], agus["promises_partly_kept"], agus["promises_broken"]) == (1, 1, 0)
    assert (agus["payments"], agus["collected_amount"], agus["reactivated"]) == (2, 455_000, 1)


def test_funnel_by_district_day_week_month_and_bucket(db, month):
    koja = by(outcome_funnel(db.session, "kecamatan", NOVEMBER), "kecamatan")[KOJA]
    assert (koja["attempts"], koja["promises"], koja["collected_amount"]) == (4, 2, 70_000)
    days = by(outcome_funnel(db.session, "day", NOVEMBER), "day")
    assert days["2026-11-04"]["attempts"] == 2 and days["2026-11-28"]["collected_amount"] == 355_000
    weeks = by(outcome_funnel(db.session, "week", NOVEMBER), "week")
    assert weeks["2026-11-02"]["attempts"] == 5  # Monday 2 Nov: attempts on the 3rd, 4th (×2), 5th (×2)
    assert weeks["2026-11-16"]["attempts"] == 1
    assert by(outcome_funnel(db.session, "month", NOVEMBER), "month")["2026-11"]["attempts"] == 6
    buckets = by(outcome_funnel(db.session, "bucket", NOVEMBER), "bucket")
    assert (buckets["4-6"]["attempts"], buckets["1-3"]["attempts"], buckets["7-12"]["attempts"]) == (2, 2, 2)
    villages = by(outcome_funnel(db.session, "kelurahan", NOVEMBER), "kelurahan")
    assert sum(r["attempts"] for r in villages.values()) == 6
    assert set(villages) == {
        f"Lagoa — Koja, {JAKARTA_UTARA[3:]}",
        f"Tugu Utara — Koja, {JAKARTA_UTARA[3:]}",
        f"Marunda — Cilincing, {JAKARTA_UTARA[3:]}",
    }


def test_a_telecollector_sees_only_her_own_figures(db, month):
    rina, _agus = month
    rows = outcome_funnel(db.session, "kecamatan", NOVEMBER, Scope(user_id=rina.id))
    assert [r["kecamatan"] for r in rows] == [KOJA]
    assert totals(rows)["attempts"] == 4


def test_cli_csv_columns(runner, db, month):
    result = runner.invoke(
        args=["report", "outcomes", "--by", "user", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == (
        "user,families_attempted,attempts,contacts,rpc,promises,promised_amount,promises_due,"
        "promises_kept,promises_broken,payments,collected_amount,reactivated"
    )
    assert "agus,1,2,2,2,1,420000,1,0,0,2,455000,1" in lines
    assert "rina,2,4,2,2,2,105000,2,1,1,1,70000,0" in lines
    bad = runner.invoke(args=["report", "outcomes", "--by", "user", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert bad.exit_code == 2 and "--from" in bad.output


def test_dashboard_csv_xlsx_and_page_agree(db, client, login, make_user, month):
    login(make_user("supervisor"))
    query = "from=2026-11-01&to=2026-11-30&by=user"
    page = client.get(f"/reports/dashboard?{query}").text
    table = page.split('data-testid="funnel"')[1].split("</table>")[0]
    assert "rina" in table and "Rp105.000" in table and "Rp455.000" in table
    csv_text = client.get(f"/reports/dashboard.csv?{query}").text
    assert "rina,2,2,4,2,2,2,105000,2,1,0,1,1,70000,0,0.5,0.5,1.0,0.5,0.25,2.0" in csv_text.replace("\r", "")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/dashboard.xlsx?{query}").data))
    sheet = workbook.active
    assert "01-11-2026" in sheet["A1"].value and "30-11-2026" in sheet["A1"].value  # the report and its period
    columns = ["user", *FUNNEL_COLUMNS, *RATES, *CALL_COLUMNS]  # no calls through the system in that month
    assert len([c.value for c in sheet[2]]) == len(columns) and sheet["B2"].value != "families_assigned"
    xlsx_rows = {r[0]: dict(zip(columns, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert xlsx_rows["rina"]["collected_amount"] == 70_000 and xlsx_rows["agus"]["reactivated"] == 1
    assert xlsx_rows["rina"]["contact_rate"] == 0.5  # a number, shown as a percentage
    rina = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == "rina")
    assert rina[columns.index("collected_amount")].number_format == "#,##0"
    assert rina[columns.index("contact_rate")].number_format == "0.0%"
    assert csv_text.splitlines()[0].split(",")[1] == sheet["B2"].value == "Keluarga ditugaskan"  # in Indonesian


def test_drill_down_lists_the_families_behind_a_figure(db, client, login, make_user, month):
    login(make_user("supervisor"))
    rina_id = db.session.scalar(select(WorkItem.assigned_user_id).join(Family).where(Family.key == "A"))
    page = client.get(
        f"/reports/families?metric=promises_broken&by=user&key={rina_id}&from=2026-11-01&to=2026-11-30"
    ).text
    listed = page.split('data-testid="families"')[1]
    assert "0000000000002" in listed and "0000000000001" not in listed


def test_drill_down_on_promises_shows_each_familys_promise_date_amount_and_state(db, client, login, make_user, month):
    """D14: one row a family, with the promise behind the figure."""
    login(make_user("supervisor"))
    rina_id = db.session.scalar(select(WorkItem.assigned_user_id).join(Family).where(Family.key == "A"))
    page = client.get(f"/reports/families?metric=promises&by=user&key={rina_id}&from=2026-11-01&to=2026-11-30").text
    listed = page.split('data-testid="families"')[1].split("</table>")[0]
    assert listed.count('data-testid="family-row"') == 2
    assert "12-11-2026" in listed and "Rp35.000" in listed and "10-11-2026" in listed and "Rp70.000" in listed


def test_drill_down_lists_one_row_a_family_with_its_members(db, client, login, make_user):
    """D14: the header counts families and so does the table (a family of three is one row)."""
    run_import(
        db,
        csv_bytes(
            [
                row(card_no=f"000000000010{n}", family_id="F", name=f"Anggota {n}", phone=f"08120000010{n}")
                for n in range(3)
            ]
        ),
    )
    tc = make_user("telecollector", username="tc.drill")
    queue_up(db, QueueName.telecollect, user=tc, now=at(1))
    login(make_user("supervisor"))
    page = client.get(f"/reports/families?metric=families_assigned&by=user&key={tc.id}&from=2026-11-01&to=2026-11-30")
    listed = page.text.split('data-testid="families"')[1].split("</table>")[0]
    assert listed.count('data-testid="family-row"') == 1
    assert "Anggota 0" in listed and "Anggota 2" in listed


def test_telecollectors_cannot_see_others_figures(db, client, login, make_user, month):
    rina, _agus = month
    from tests.conftest import PASSWORD  # noqa: F401

    login(rina)
    page = client.get("/reports/dashboard?from=2026-11-01&to=2026-11-30&by=user").text
    table = page.split('data-testid="funnel"')[1].split("</table>")[0]
    assert "rina" in table and "agus" not in table


def test_arrears_totals_per_import_agree_with_the_raw_rows_and_show_the_change(db, client, login, make_user):
    from sqlalchemy import func

    from telecollect.participants.models import Participant
    from telecollect.regions.models import District
    from telecollect.reports.dashboard import arrears_by_district_with_change
    from telecollect.reports.models import ArrearsDistrictTotal

    run_import(
        db,
        csv_bytes(
            [
                row(card_no="0000000000001", kecamatan="Koja", arrears_amount="100000"),
                row(card_no="0000000000002", kecamatan="Koja", arrears_amount="50000"),
                row(card_no="0000000000003", kecamatan="Cilincing", arrears_amount="70000"),
            ]
        ),
    )
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0000000000001",
                    kecamatan="Koja",
                    arrears_amount="0",
                    months_in_arrears="0",
                    as_of="2026-12-01",
                ),
                row(card_no="0000000000004", kecamatan="Cilincing", arrears_amount="30000", as_of="2026-12-01"),
            ]
        ),
    )
    # The stored totals of the last import equal a recomputation from the participants table.
    last_run = db.session.scalar(select(func.max(ArrearsDistrictTotal.import_run_id)))
    stored = {
        d: (p, a)
        for d, p, a in db.session.execute(
            select(
                ArrearsDistrictTotal.district_id, ArrearsDistrictTotal.participants, ArrearsDistrictTotal.amount
            ).where(ArrearsDistrictTotal.import_run_id == last_run)
        )
    }
    raw = {
        d: (p, a)
        for d, p, a in db.session.execute(
            select(Participant.district_id, func.count(), func.sum(Participant.arrears_amount))
            .where(Participant.arrears_amount > 0)
            .group_by(Participant.district_id)
        )
    }
    assert stored == raw
    change = {
        r["kecamatan"]: (r["participants"], r["participants_change"], r["amount_change"])
        for r in arrears_by_district_with_change(db.session)
    }
    assert change == {KOJA: (1, -1, -100_000), f"Cilincing{JAKARTA_UTARA}": (2, 1, 30_000)}
    login(make_user("supervisor"))
    page = client.get("/reports/dashboard").text
    assert "-Rp100.000" in page.split('data-testid="arrears-change"')[1]
    assert db.session.scalar(select(District.id).where(District.name == "Koja"))


def test_namesake_kecamatan_are_separate_rows_labelled_with_their_city(db, client, login, make_user):
    """Batu Ampar in Kota Batam (Kepulauan Riau, WIB) and in Kabupaten Kutai Timur (Kalimantan Timur, WITA)."""
    from telecollect.reports.dashboard import arrears_by_district_with_change

    places = [
        ("Kepulauan Riau", "Kota Batam"),
        ("Kalimantan Timur", "Kabupaten Kutai Timur"),
        ("Kalimantan Timur", "Kabupaten Kutai Timur"),
    ]
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no=f"00000000000{n}{n}",
                    phone=f"08120000000{n}",
                    province=province,
                    city=city,
                    kecamatan="Batu Ampar",
                    kelurahan="",
                    arrears_amount=f"{n}00000",
                    as_of="2026-10-31",
                )
                for n, (province, city) in enumerate(places, start=1)
            ]
        ),
    )
    queue_up(db, QueueName.telecollect, user=make_user("telecollector"), now=at(1))
    funnel = {r["kecamatan"]: r["families_assigned"] for r in outcome_funnel(db.session, "kecamatan", NOVEMBER)}
    assert funnel == {"Batu Ampar — Kota Batam": 1, "Batu Ampar — Kabupaten Kutai Timur": 2}
    panel = [
        (r["kecamatan"], r["participants"], r["arrears_amount"]) for r in arrears_by_district_with_change(db.session)
    ]
    assert panel == [("Batu Ampar — Kabupaten Kutai Timur", 2, 500_000), ("Batu Ampar — Kota Batam", 1, 100_000)]
    login(make_user("supervisor"))
    page = client.get("/reports/dashboard?from=2026-11-01&to=2026-11-30&by=kecamatan").text
    assert "Batu Ampar — Kota Batam" in page.split('data-testid="funnel"')[1].split("</table>")[0]
    assert "Batu Ampar — Kabupaten Kutai Timur" in page.split('data-testid="arrears-change"')[1]


def test_a_wit_branch_counts_an_attempt_on_its_own_local_day(app, db, runner, make_user):
    """23:30 in Jakarta (16:30 UTC) is already 01:30 the next day in Jayapura (WIT): the branch's day counts."""
    run_import(db, csv_bytes([row(card_no="0000000000001")]))
    family = db.session.scalar(select(Family))
    from telecollect.contacts.models import ContactAttempt

    db.session.add(
        ContactAttempt(
            family_id=family.id,
            user_id=make_user("telecollector").id,
            channel=Channel.phone,
            outcome="no_answer",
            is_reached=False,
            is_right_party=False,
            at=datetime(2026, 11, 10, 16, 30, tzinfo=UTC),
        )
    )
    db.session.commit()
    from dataclasses import replace

    built = app.extensions["telecollect.settings"]  # the settings are built once, at app creation
    app.extensions["telecollect.settings"] = replace(built, branch_timezone="WIT")
    # A branch's settings are read from the configuration (the one branch's zone: BRANCH_TIMEZONE).
    app.config["BRANCH_TIMEZONE"] = "WIT"
    try:
        result = runner.invoke(
            args=["report", "outcomes", "--by", "day", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"]
        )
    finally:
        app.extensions["telecollect.settings"] = built
        app.config["BRANCH_TIMEZONE"] = built.branch_timezone
    assert result.exit_code == 0, result.output
    days = {line.split(",")[0]: line.split(",")[2] for line in result.output.splitlines()[1:]}
    assert days == {"2026-11-11": "1"}


def funnel_runs(statements: list[str]) -> int:
    """How many times the outcome funnel ran: each run reads the attempts once, counting families and RPCs."""
    import re

    counts_families = re.compile(r"count\(distinct\W*contact_attempts\.family_id", re.IGNORECASE)
    return sum(1 for s in statements if counts_families.search(s) and "is_right_party" in s)


@pytest.mark.parametrize(
    "by, runs",
    [
        ("user", 4),  # the table (also the chart by person), the trend, this month and the month before
        ("day", 4),  # the table is the trend too; the chart by person reads the attempts alone
        ("week", 5),
    ],
)
def test_the_dashboard_reads_each_funnel_once(db, client, login, make_user, month, count_queries, by, runs):
    login(make_user("supervisor"))
    query = f"from=2026-11-01&to=2026-11-30&by={by}"
    with count_queries() as statements:
        page = client.get(f"/reports/dashboard?{query}")
    assert page.status_code == 200 and 'data-testid="funnel"' in page.text
    assert funnel_runs(statements) == runs


def test_the_dashboard_speaks_indonesian_numbers_and_words(db, client, login, make_user, month):
    """UX audit D13, D17, D18, D19: attempts per family read "2,0" (never "2.0", which reads as two
    thousand), no English column header, no raw state or queue codes, no label left dangling."""
    login(make_user("supervisor"))
    page = client.get("/reports/dashboard?from=2026-11-01&to=2026-11-30&by=user").text
    funnel = page.split('data-testid="funnel"')[1].split("</table>")[0]
    assert ">2,0<" in funnel and ">2.0<" not in funnel
    people = page.split('data-testid="people"')[1].split("</section>")[0]
    assert "Panggilan ulang saya" not in people and "Panggilan ulang menunggu" in people
    programs = page.split('data-testid="programs"')[1].split("</section>")[0]
    assert "tidak ada pada periode ini" in programs  # no plans, no replies: said, not left blank
    assert "tidak dilaporkan penyedia" in programs
    assert ">telecollect<" not in page and "antrean telepon" in page


def test_attempts_per_family_and_rates_are_written_the_indonesian_way():
    from telecollect.reports.labels import decimal, percent

    assert (decimal(1.663), decimal(1.1587), decimal(2), decimal(None)) == ("1,7", "1,2", "2,0", "—")
    assert decimal(1234.5, 2) == "1.234,50"
    assert percent(0.557) == "55,7%"
