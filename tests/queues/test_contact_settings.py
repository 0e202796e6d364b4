"""The contact rules a supervisor edits: a row read once per unit of work, the environment's until saved."""

import re

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.extensions import db as _db
from telecollect.policy.models import ContactSetting
from tests.conftest import csrf_token


def save(client, **fields):
    page = client.get("/settings/contact")
    form = {
        "calling_hours": "08:00-20:00",
        "calling_days": "mon-sat",
        "max_per_day": "3",
        "max_per_week": "7",
        "cuti_bersama_closed": "1",
        **fields,
    }
    return client.post("/settings/contact", data={"csrf_token": csrf_token(page.text), **form})


def ticked(html: str) -> list[str]:
    return re.findall(r'name="calling_days" value="(\w+)" checked', html)


def test_the_days_are_ticked_by_name_and_kept_after_a_refusal(db, client, login, make_user):
    """A day is a box named in words (UX audit D17: the field took codes, "mon-sat"), and a refusal elsewhere
    keeps the ticked days."""
    login(make_user("supervisor"))
    page = client.get("/settings/contact")
    assert re.search(r'value="mon" checked> Senin', page.text)
    token = csrf_token(page.text)
    form = {"csrf_token": token, "calling_hours": "bad", "calling_days": ["mon", "wed", "fri"]}
    form |= {"max_per_day": "3", "max_per_week": "7"}
    refused = client.post("/settings/contact", data=form)
    assert refused.status_code == 400 and ticked(refused.text) == ["mon", "wed", "fri"]
    form["calling_hours"] = "09:00-17:00"
    assert client.post("/settings/contact", data=form).status_code == 302
    assert ticked(client.get("/settings/contact").text) == ["mon", "wed", "fri"]


def test_no_day_ticked_is_refused_with_its_own_reason(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/settings/contact")
    form = {"csrf_token": csrf_token(page.text), "calling_hours": "08:00-20:00", "max_per_day": "3"}
    answer = client.post("/settings/contact", data=form | {"max_per_week": "7"})
    assert answer.status_code == 400 and 'data-testid="settings-error"' in answer.text
    assert db.session.scalar(select(ContactSetting)) is None


def test_until_saved_the_environments_rules_apply_and_the_page_shows_them(app, db, client, login, make_user):
    from telecollect.runtime import contact_rules

    login(make_user("supervisor"))
    page = client.get("/settings/contact")
    assert page.status_code == 200
    assert 'value="08:00-20:00"' in page.text and ticked(page.text) == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert "Senin, Selasa, Rabu, Kamis, Jumat, Sabtu" in page.text  # the defaults in words, not mon,tue,…
    with app.test_request_context():
        assert contact_rules() == app.extensions["telecollect.runtime"]["rules"]


def test_a_saved_row_is_the_rules_of_the_next_request(app, db, client, login, make_user):
    from telecollect.branches.stamping import act_in_branch
    from telecollect.runtime import contact_rules

    supervisor = make_user("supervisor")
    login(supervisor)
    answer = save(client, calling_hours="09:00-17:00", calling_days="mon-fri", max_per_day="2", cuti_bersama_closed="")
    assert answer.status_code == 302
    with app.test_request_context():
        act_in_branch(db.session(), supervisor.branch_id)  # a supervisor's settings are her branch's own
        rules = contact_rules()
    assert (rules.start_minute, rules.end_minute, sorted(rules.days)) == (540, 1020, [0, 1, 2, 3, 4])
    assert (rules.max_per_day, rules.max_per_week, rules.cuti_bersama_blocks) == (2, 7, False)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact_settings.update"))
    assert event.user_id == supervisor.id and "09:00-17:00" in event.detail
    again = save(client, calling_hours="07:00-19:00")  # the same row is updated, not a second one
    assert again.status_code == 302
    assert len(db.session.scalars(select(ContactSetting)).all()) == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("calling_hours", "8 sampai 20", "jam menghubungi ditulis seperti 08:00-20:00"),
        ("calling_hours", "20:00-08:00", "jam menghubungi ditulis seperti 08:00-20:00"),
        ("calling_days", "senin-sabtu", "hari menghubungi adalah mon…sun"),
        ("max_per_day", "0", "harus 1–20, tertulis 0"),
        ("max_per_week", "banyak", "harus bilangan bulat, tertulis"),
    ],
)
def test_a_bad_value_is_refused_in_indonesian_and_what_was_typed_stays(
    db, client, login, make_user, field, value, message
):
    login(make_user("supervisor"))
    answer = save(client, **{field: value, "calling_days": "mon-fri" if field != "calling_days" else value})
    assert answer.status_code == 400
    assert message in answer.text
    if field == "calling_days":  # one box per day: nothing typed to keep, and no box ticked for a wrong day
        assert ticked(answer.text) == []
    else:
        assert f'value="{value}"' in answer.text
    assert db.session.scalar(select(ContactSetting)) is None


def test_only_supervisors_and_admins_change_the_rules(db, client, login, make_user):
    login(make_user("telecollector"))
    assert client.get("/settings/contact").status_code == 403
    assert client.post("/settings/contact", data={"calling_hours": "00:00-24:00"}).status_code in (400, 403)
    assert db.session.scalar(select(ContactSetting)) is None


@pytest.mark.committing  # another worker's commit must reach this test's own connection
def test_another_workers_change_reaches_the_next_unit_of_work(app, db):
    from telecollect.runtime import contact_rules

    with app.app_context():
        first = contact_rules()
        with app.app_context():  # the settings page, saved in another worker
            _db.session.add(
                ContactSetting(
                    branch_id=None,
                    calling_hours="10:00-12:00",
                    calling_days="sat",
                    max_attempts_per_day=1,
                    max_attempts_per_week=1,
                    is_cuti_bersama_closed=True,
                )
            )
            _db.session.commit()
        assert contact_rules() == first  # this unit of work keeps what it read
        _db.session.rollback()  # its next unit of work
        assert contact_rules().start_minute == 600
