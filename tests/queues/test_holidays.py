"""Holidays: national ones and cuti bersama from the package, in Bahasa Indonesia, the setting, the page."""

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from telecollect.contacts.models import Channel
from telecollect.policy import rules as policy
from telecollect.policy.holidays import import_holidays
from telecollect.policy.rules import ContactRules, PolicyConfigError
from telecollect.queues.models import QueueName
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.helpers_queue import families, queue_up

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
LEASE = timedelta(minutes=15)
#: The eight cuti bersama of 2026 (SKB), all on a Monday to Saturday.
CUTI_BERSAMA_2026 = [
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
]
#: National holidays of 2026 on a Monday to Saturday (Idul Fitri, Independence Day, Christmas).
NATIONAL_2026 = [date(2026, 3, 21), date(2026, 8, 17), date(2026, 12, 25)]


def working_cuti_bersama() -> ContactRules:
    """The rules with CUTI_BERSAMA_BLOCKS_CONTACT off."""
    return replace(RULES, cuti_bersama_blocks=False)


def ten_wib(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


def at(text):
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def member(db):
    from telecollect.participants.models import Participant

    families(db, 1)
    return db.session.scalar(db.select(Participant))


@pytest.mark.parametrize("day", CUTI_BERSAMA_2026, ids=str)
def test_cuti_bersama_close_calls_visits_and_messages(db, member, day):
    window = policy.window_decision(db.session, RULES, "WIB", ten_wib(day))
    assert (window.allowed, window.code) == (False, "holiday")
    assert window.reason.startswith("hari libur nasional: Cuti Bersama ")
    for channel in (Channel.phone, Channel.whatsapp, Channel.sms, Channel.visit):
        decision = policy.decide(
            db.session,
            RULES,
            family_id=member.family_id,
            members=[member],
            zone="WIB",
            channel=channel,
            now=ten_wib(day),
        )
        assert decision.code == "holiday", channel


def test_the_package_gives_exactly_the_eight_cuti_bersama_of_2026():
    days = policy.built_in_holidays(2026).values()
    assert sorted(d.on for d in days if d.kind == policy.CUTI_BERSAMA) == CUTI_BERSAMA_2026
    assert sum(d.kind == policy.NATIONAL for d in days) == 17


def test_nobody_is_claimed_on_cuti_bersama(db, make_user):
    families(db, 2)
    user = make_user("telecollector")
    lebaran_leave = ten_wib(date(2026, 3, 23))
    queue_up(db, QueueName.telecollect, now=ten_wib(date(2026, 3, 2)))
    assert queue_work.claim(db.session, user, RULES, lease=LEASE, now=lebaran_leave) is None
    # 18 March is cuti bersama, then Nyepi, cuti bersama, Idul Fitri (Saturday), Sunday and two more days of leave.
    assert policy.next_opening(db.session, RULES, "WIB", ten_wib(date(2026, 3, 18))) == at("2026-03-25T08:00:00+07:00")
    assert queue_work.claim(db.session, user, working_cuti_bersama(), lease=LEASE, now=lebaran_leave) is not None


def test_with_the_setting_off_cuti_bersama_are_working_days_and_national_holidays_are_not(db, member):
    for day in CUTI_BERSAMA_2026:
        assert policy.window_decision(db.session, working_cuti_bersama(), "WIB", ten_wib(day)).allowed, day
    for day in NATIONAL_2026:
        decision = policy.decide(
            db.session,
            working_cuti_bersama(),
            family_id=member.family_id,
            members=[member],
            zone="WIB",
            channel=Channel.phone,
            now=ten_wib(day),
        )
        assert decision.code == "holiday", day
    # Nyepi (Thursday 19 March) is national: the next opening is the cuti bersama day after it.
    assert policy.next_opening(db.session, working_cuti_bersama(), "WIB", ten_wib(date(2026, 3, 19))) == at(
        "2026-03-20T08:00:00+07:00"
    )
    # The branch's own day off on a cuti bersama still closes it.
    import_holidays(db.session, io.StringIO("2026-12-24,Libur cabang Natal\n"))
    decision = policy.window_decision(db.session, working_cuti_bersama(), "WIB", ten_wib(date(2026, 12, 24)))
    assert decision.reason == "hari libur nasional: Libur cabang Natal"


def test_the_setting_comes_from_the_environment(monkeypatch):
    from telecollect.settings import load_config

    assert load_config()["CUTI_BERSAMA_BLOCKS_CONTACT"] is True
    assert ContactRules.from_config(load_config()).cuti_bersama_blocks
    monkeypatch.setenv("CUTI_BERSAMA_BLOCKS_CONTACT", "false")
    assert not ContactRules.from_config(load_config()).cuti_bersama_blocks
    assert not ContactRules.from_config({"CUTI_BERSAMA_BLOCKS_CONTACT": "0"}).cuti_bersama_blocks
    with pytest.raises(PolicyConfigError, match="CUTI_BERSAMA_BLOCKS_CONTACT"):
        ContactRules.from_config({"CUTI_BERSAMA_BLOCKS_CONTACT": "sometimes"})


@pytest.fixture
def english_server(monkeypatch):
    """The process runs with an English locale; the package would follow it unless told otherwise."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.setenv(name, "en_US.UTF-8")
    policy.built_in_holidays.cache_clear()
    yield
    policy.built_in_holidays.cache_clear()


def test_names_are_indonesian_whatever_the_server_locale_or_the_screen(db, english_server):
    idul_fitri = policy.window_decision(db.session, RULES, "WIB", ten_wib(date(2026, 3, 21)))
    assert idul_fitri.reason == "hari libur nasional: Hari Raya Idul Fitri"
    with force_locale("en"):
        leave = policy.window_decision(db.session, RULES, "WIB", ten_wib(date(2026, 3, 20)))
        assert leave.reason == "national holiday: Cuti Bersama Hari Raya Idul Fitri"
        christmas = policy.window_decision(db.session, RULES, "WIT", at("2026-12-25T10:00:00+09:00"))
        assert christmas.reason == "national holiday: Hari Raya Natal"


def test_an_estimated_date_is_marked_perkiraan(db, english_server):
    # Idul Fitri 2030 follows the lunar calendar: the package can only estimate it.
    estimated = policy.window_decision(db.session, RULES, "WIB", ten_wib(date(2030, 2, 4)))
    assert estimated.reason == "hari libur nasional: Hari Raya Idul Fitri (perkiraan)"
    day = policy.built_in_holidays(2030)[date(2030, 2, 4)]
    assert (day.name, day.is_estimated, day.kind) == ("Hari Raya Idul Fitri", True, policy.NATIONAL)
    # Decreed dates carry no mark.
    decreed = policy.built_in_holidays(2026)[date(2026, 3, 21)]
    assert (decreed.label, decreed.is_estimated) == ("Hari Raya Idul Fitri", False)
    assert not any(d.is_estimated for d in policy.built_in_holidays(2026).values())


def _rows(html: str) -> dict[str, list[str]]:
    """The holidays table's rows by ISO date: every row's opening tag and text."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r'<tr data-date="([\d-]+)"(.*?)</tr>', html, re.S):
        found.setdefault(match.group(1), []).append(re.sub(r"\s+", " ", match.group(2)))
    return found


def test_the_page_lists_the_years_holidays_cuti_bersama_and_branch_days(db, client, login, make_user):
    import_holidays(db.session, io.StringIO("date,name\n2026-11-25,Hari jadi Kantor Cabang\n"))
    db.session.commit()
    login(make_user("telecollector"))
    page = client.get("/holidays?year=2026")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert len(rows) == 17 + 8 + 1
    [leave] = rows["2026-03-20"]
    assert 'data-kind="cuti_bersama" data-blocked="yes"' in leave
    assert "20 Maret 2026" in leave and "Jumat" in leave and "Cuti Bersama Hari Raya Idul Fitri" in leave
    [branch] = rows["2026-11-25"]
    assert 'data-kind="branch" data-blocked="yes"' in branch and "Hari jadi Kantor Cabang" in branch
    assert "Rabu" in branch
    [independence] = rows["2026-08-17"]
    assert 'data-kind="national"' in independence and "Hari Kemerdekaan Republik Indonesia" in independence
    assert 'href="/holidays"' in page.text  # in the nav
    # An English screen keeps the names Indonesian; dates and weekdays follow the screen.
    client.post("/lang/en", data={"csrf_token": csrf_token(page.text), "next": "/holidays"})
    english = _rows(client.get("/holidays?year=2026").text)["2026-03-20"][0]
    assert "20 March 2026" in english and "Friday" in english and "Cuti Bersama Hari Raya Idul Fitri" in english


def test_the_page_marks_estimates_and_switches_years(db, client, login, make_user, clock):
    login(make_user("cadre"))
    this_year = _rows(client.get("/holidays").text)
    assert "2026-03-20" in this_year  # the clock stands in November 2026
    later = _rows(client.get("/holidays?year=2030").text)
    [idul_fitri] = later["2030-02-04"]
    assert 'data-estimated="yes"' in idul_fitri and "Hari Raya Idul Fitri (perkiraan)" in idul_fitri
    for bad in ("abc", "99999", "1999", "2026.5"):
        assert client.get(f"/holidays?year={bad}").status_code == 400, bad


def test_the_page_shows_cuti_bersama_open_when_the_setting_is_off(app, db, client, login, make_user, monkeypatch):
    settings = app.extensions["telecollect.runtime"]
    monkeypatch.setitem(settings, "rules", replace(settings["rules"], cuti_bersama_blocks=False))
    login(make_user("supervisor"))
    rows = _rows(client.get("/holidays?year=2026").text)
    assert 'data-blocked="no"' in rows["2026-12-24"][0] and 'data-blocked="yes"' in rows["2026-12-25"][0]


def test_the_page_is_for_signed_in_staff(client):
    assert client.get("/holidays").status_code == 302


def test_holiday_file_that_is_not_utf8_is_refused_naming_the_line(runner, db, tmp_path):
    path = tmp_path / "libur.csv"
    path.write_bytes(
        b"tanggal,nama\n2026-11-25,Hari jadi kota\n" + "2026-11-26,Pesta Lebaran Topat \xe0\n".encode("latin-1")
    )
    result = runner.invoke(args=["holidays", "import", str(path)])
    assert result.exit_code == 1
    assert "baris 3 bukan teks UTF-8" in result.stderr and "Traceback" not in result.output


def test_holiday_file_rows_are_imported_and_counted(runner, db, tmp_path):
    path = tmp_path / "libur.csv"
    path.write_text("tanggal,nama\n2026-11-25,Hari jadi kota\n")
    result = runner.invoke(args=["holidays", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 hari libur baru"
