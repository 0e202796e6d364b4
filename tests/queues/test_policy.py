"""The contact policy: windows per zone, holidays, caps, opt-outs, configuration."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from telecollect.contacts.models import Channel, ContactAttempt
from telecollect.errors import ServiceError
from telecollect.extensions import db as _db
from telecollect.policy import rules as policy
from telecollect.policy.holidays import import_holidays
from telecollect.policy.optouts import opt_out
from telecollect.policy.rules import ContactRules, PolicyConfigError, parse_days, parse_hours

RULES = ContactRules(8 * 60, 20 * 60, frozenset(range(6)), 3, 7)
UTC = UTC


def at(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def test_hours_and_days_parsing():
    assert parse_hours("08:00-20:00") == (480, 1200)
    assert parse_hours("07:30-24:00") == (450, 1440)
    assert parse_days("mon-sat") == frozenset(range(6))
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_days("mon-tue,sat") == frozenset({0, 1, 5})
    for bad in ("8-20", "20:00-08:00", "08:00-25:00", "08:61-20:00"):
        with pytest.raises(PolicyConfigError, match="CALLING_HOURS"):
            parse_hours(bad)
    for bad in ("monday", "sat-mon", ""):
        with pytest.raises(PolicyConfigError, match="CALLING_DAYS"):
            parse_days(bad)


def test_bad_policy_config_stops_the_app():
    from telecollect import create_app

    with pytest.raises(PolicyConfigError):
        create_app({"CALLING_HOURS": "nine to five", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_window_follows_the_participants_zone(db):
    # 19:30 in Jakarta is 20:30 in Makassar and 21:30 in Jayapura.
    moment = at("2026-11-24T19:30:00+07:00")
    assert policy.window_decision(db.session, RULES, "WIB", moment).allowed
    wita = policy.window_decision(db.session, RULES, "WITA", moment)
    assert (wita.allowed, wita.reason) == (False, "di luar jam telepon WITA")
    assert wita.retry_at == at("2026-11-25T08:00:00+08:00")
    assert policy.zones_open(db.session, RULES, moment) == ["WIB"]
    assert policy.zones_open(db.session, RULES, at("2026-11-24T07:30:00+07:00")) == ["WITA", "WIT"]


def test_sunday_and_national_holidays_are_closed(db):
    sunday = policy.window_decision(db.session, RULES, "WIB", at("2026-11-22T10:00:00+07:00"))
    assert sunday.code == "day" and sunday.retry_at == at("2026-11-23T08:00:00+07:00")
    independence = policy.window_decision(db.session, RULES, "WIB", at("2026-08-17T10:00:00+07:00"))
    assert independence.code == "holiday"
    # Christmas 2026 is a Friday: the next opening skips it to Saturday morning.
    opening = policy.next_opening(db.session, RULES, "WIT", at("2026-12-24T21:00:00+09:00"))
    assert opening == at("2026-12-26T08:00:00+09:00")


def test_branch_holidays_from_a_file(db):
    created = import_holidays(db.session, io.StringIO("date,name\n2026-11-25,Cuti bersama cabang\n"))
    assert created == 1
    decision = policy.window_decision(db.session, RULES, "WIB", at("2026-11-25T10:00:00+07:00"))
    assert decision.reason == "hari libur nasional: Cuti bersama cabang"
    with pytest.raises(ServiceError) as caught:
        import_holidays(db.session, io.StringIO("25/11/2026,Salah\n2026-11-26,\n"))
    assert caught.value.message.splitlines() == [
        "baris 1, date: harus tanggal dengan format YYYY-MM-DD, tertulis '25/11/2026'",
        "baris 2, name: wajib diisi",
    ]


@pytest.mark.committing  # the other worker's session must be its own connection
def test_a_holiday_imported_by_another_process_closes_contact_at_once(app, db, count_queries):
    """No process keeps a copy past its unit of work: a web worker sees another one's import on its next request."""
    morning = at("2026-11-25T10:00:00+07:00")
    with count_queries() as statements:
        assert policy.window_decision(db.session, RULES, "WIB", morning).allowed
        assert policy.window_decision(db.session, RULES, "WIB", morning).allowed
    assert sum("holidays" in statement for statement in statements) == 1, statements  # read once per unit of work
    db.session.rollback()  # this worker's request ends
    with app.app_context():  # another worker (its own session) imports, and commits
        import_holidays(_db.session, io.StringIO("date,name\n2026-11-25,Cuti bersama cabang\n"))
        _db.session.commit()
    decision = policy.window_decision(db.session, RULES, "WIB", morning)
    assert decision.reason == "hari libur nasional: Cuti bersama cabang"


def test_end_of_day_may_be_midnight(db):
    late = ContactRules(8 * 60, 1440, frozenset(range(7)), 3, 7)
    assert policy.window_decision(db.session, late, "WIB", at("2026-11-24T23:59:00+07:00")).allowed


def _attempts(db, family_id, user_id, times):
    for moment in times:
        db.session.add(
            ContactAttempt(
                family_id=family_id,
                user_id=user_id,
                channel=Channel.phone,
                outcome="no_answer",
                is_reached=False,
                is_right_party=False,
                at=moment,
            )
        )
    db.session.flush()


def test_daily_and_weekly_caps(db, make_user):
    from tests.helpers_queue import families

    families(db, 1)
    user = make_user("telecollector")
    from telecollect.participants.models import Family

    family = db.session.scalar(db.select(Family))
    now = at("2026-11-24T15:00:00+07:00")
    _attempts(db, family.id, user.id, [now - timedelta(hours=h) for h in (1, 2, 3)])
    daily = policy.cap_decision(db.session, RULES, family.id, "WIB", now)
    assert (daily.code, daily.reason) == ("daily_cap", "batas 3 percobaan hari ini")
    assert daily.retry_at == at("2026-11-25T08:00:00+07:00")

    later = at("2026-11-27T10:00:00+07:00")  # the three are 3 days old now
    _attempts(
        db,
        family.id,
        user.id,
        [
            at("2026-11-25T09:00:00+07:00"),
            at("2026-11-26T09:00:00+07:00"),
            at("2026-11-26T10:00:00+07:00"),
            at("2026-11-27T09:00:00+07:00"),
        ],
    )
    weekly = policy.cap_decision(db.session, RULES, family.id, "WIB", later)
    assert weekly.code == "weekly_cap" and weekly.reason == "batas 7 percobaan dalam 7 hari"
    assert weekly.retry_at == at("2026-12-01T12:00:00+07:00")  # oldest (24 Nov 12:00) + 7 days


def test_opt_outs_and_invalid_numbers(db):
    from tests.helpers_queue import families

    families(db, 1)
    from telecollect.participants.models import Participant

    member = db.session.scalar(db.select(Participant))
    now = at("2026-11-24T10:00:00+07:00")

    def decide(channel):
        return policy.decide(
            db.session, RULES, family_id=member.family_id, members=[member], zone="WIB", channel=channel, now=now
        )

    assert decide(Channel.phone).allowed
    opt_out(db.session, member.phone, Channel.phone, "")
    db.session.flush()
    refused = decide(Channel.phone)
    assert refused.code == "no_phone" and refused.retry_at is None
    assert decide(Channel.whatsapp).allowed  # opted out of calls, not of WhatsApp
    member.is_phone_invalid = True
    assert decide(Channel.whatsapp).code == "no_phone"
    assert decide(Channel.visit).allowed
    closed = policy.decide(
        db.session,
        RULES,
        family_id=member.family_id,
        members=[member],
        zone="WIB",
        channel=Channel.visit,
        now=now,
        is_closed=True,
    )
    assert closed.code == "closed"


def test_cli_holidays_import(runner, tmp_path):
    path = tmp_path / "libur.csv"
    path.write_text("2026-12-24,Cuti bersama Natal\n")
    result = runner.invoke(args=["holidays", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 hari libur baru" in result.output
