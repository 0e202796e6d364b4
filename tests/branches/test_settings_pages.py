"""A branch's own settings on the settings pages: contact rules, SMS and WhatsApp templates, reminders and
holidays. A branch's admin edits her branch's (never the installation's, never another branch's); an
installation administrator chooses the branch by its code."""

from datetime import date

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
from telecollect.branches.services import add_branch
from telecollect.branches.stamping import act_in_branch
from telecollect.contacts.models import Holiday
from telecollect.messaging import templates, whatsapp
from telecollect.messaging.models import MessageTemplate, ReminderSetting, SmsKind, WhatsappContent
from telecollect.messaging.reminder_settings import save_reminder, setting_of
from telecollect.policy.models import ContactSetting
from telecollect.policy.rules import branch_holidays
from telecollect.runtime import branch_rules
from tests.conftest import csrf_token

INHERITED = "Mengikuti pengaturan instalasi"
SID = "HX" + "b" * 32


@pytest.fixture
def two(db, make_user):
    """Jakarta Utara (the first branch) and Makassar, with an admin of Makassar and an installation admin."""
    first = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    mks = add_branch(db.session, code="1701", name="Makassar", zone="WITA")
    db.session.commit()
    return {
        "first": first,
        "mks": mks,
        "admin_mks": make_user("admin", username="admin.mks", branch_id=mks.id),
        "admin_first": make_user("admin", username="admin.jkt", branch_id=first.id),
        "boss": make_user("admin", username="boss", is_installation_admin=True),
    }


def _post(client, path, page_path, **data):
    page = client.get(page_path)
    assert page.status_code == 200, page_path
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data})


CONTACT = {
    "calling_hours": "09:00-16:00",
    "calling_days": "mon-fri",
    "max_per_day": "2",
    "max_per_week": "5",
    "cuti_bersama_closed": "1",
}


def test_a_branch_admin_saves_and_reverts_her_branchs_calling_hours(app, db, client, login, two):
    login(two["admin_mks"])
    page = client.get("/settings/contact")
    assert INHERITED in page.text and "settings-branch" not in page.text  # no chooser: one branch is hers
    assert _post(client, "/settings/contact", "/settings/contact", **CONTACT).status_code == 302
    rows = db.session.scalars(select(ContactSetting)).all()
    assert [(r.branch_id, r.calling_hours) for r in rows] == [(two["mks"].id, "09:00-16:00")]
    with app.app_context():
        assert branch_rules(db.session, two["mks"].id).start_minute == 9 * 60
        assert branch_rules(db.session, two["first"].id).start_minute == 8 * 60  # Jakarta keeps the installation's
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact_settings.update"))
    assert event.branch_id == two["mks"].id
    page = client.get("/settings/contact")
    assert INHERITED not in page.text and 'value="09:00-16:00"' in page.text
    assert _post(client, "/settings/contact/revert", "/settings/contact").status_code == 302
    assert db.session.scalars(select(ContactSetting)).all() == []
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "contact_settings.revert"))


def test_a_branch_admin_cannot_name_another_branch_nor_the_installation(db, client, login, two):
    login(two["admin_mks"])
    assert client.get("/settings/contact?branch=0000").status_code == 404
    answer = _post(client, "/settings/contact", "/settings/contact", branch="0000", **CONTACT)
    assert answer.status_code == 404
    assert db.session.scalars(select(ContactSetting)).all() == []
    # Jakarta's own holiday, and the installation's: not hers to remove.
    theirs = Holiday(on=date(2026, 12, 1), name="Hari jadi Jakarta Utara", branch_id=two["first"].id)
    national = Holiday(on=date(2026, 12, 2), name="Libur nasional", branch_id=None)
    db.session.add_all([theirs, national])
    db.session.commit()
    for holiday in (theirs, national):
        answer = _post(client, f"/settings/holidays/{holiday.id}/delete", "/settings/holidays")
        assert answer.status_code == 404
    assert len(db.session.scalars(select(Holiday)).all()) == 2


def test_the_installation_admin_chooses_the_branch_by_its_code(app, db, client, login, two):
    login(two["boss"])
    page = client.get("/settings/contact")
    assert 'data-testid="settings-branch"' in page.text and "Instalasi (bawaan)" in page.text
    unknown = client.get("/settings/contact?branch=9999")
    assert unknown.status_code == 400 and "Tidak ada cabang dengan kode &#39;9999&#39;" in unknown.text
    answer = _post(client, "/settings/contact", "/settings/contact?branch=1701", branch="1701", **CONTACT)
    assert answer.status_code == 302 and "branch=1701" in answer.headers["Location"]
    installation = _post(
        client, "/settings/contact", "/settings/contact", **{**CONTACT, "calling_hours": "07:00-18:00"}
    )
    assert installation.status_code == 302
    rows = {r.branch_id: r.calling_hours for r in db.session.scalars(select(ContactSetting))}
    assert rows == {two["mks"].id: "09:00-16:00", None: "07:00-18:00"}
    with app.app_context():
        assert branch_rules(db.session, two["first"].id).start_minute == 7 * 60  # Jakarta follows the installation


def test_a_branch_template_and_reminder_start_from_the_installations(app, db, client, login, two):
    save_reminder(db.session, SmsKind.due_reminder, None, user=two["boss"], channel_order="sms", days_before=5)
    db.session.commit()
    login(two["admin_mks"])
    page = client.get("/sms/templates")
    assert page.text.count(INHERITED) >= 2
    answer = _post(
        client,
        "/sms/templates",
        "/sms/templates",
        key="sms_due_reminder",
        body="Yth. {nama}, iuran {jumlah} di Makassar. {kontak}",
        enabled="1",
        days_before="2",
    )
    assert answer.status_code == 302
    mine = db.session.scalar(select(ReminderSetting).where(ReminderSetting.branch_id == two["mks"].id))
    assert (mine.days_before, mine.channel_order) == (2, "sms")  # the installation's order came along
    assert setting_of(db.session, SmsKind.due_reminder, two["first"].id) == (True, 5)
    assert "Makassar" in templates.template_body_of(db.session, "sms_due_reminder", two["mks"].id)
    assert "Makassar" not in templates.template_body_of(db.session, "sms_due_reminder", two["first"].id)
    assert db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.branch_id.is_(None))) is None
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "template.update"))
    revert = _post(client, "/sms/templates/revert", "/sms/templates", key="sms_due_reminder", what="template")
    assert revert.status_code == 302
    assert templates.own_template_keys(db.session, two["mks"].id) == set()
    revert = _post(client, "/sms/templates/revert", "/sms/templates", key="sms_due_reminder", what="reminder")
    assert revert.status_code == 302
    assert setting_of(db.session, SmsKind.due_reminder, two["mks"].id) == (True, 5)


def test_a_branch_saves_its_own_whatsapp_template(db, client, login, two):
    login(two["admin_mks"])
    answer = _post(
        client,
        "/sms/whatsapp-templates",
        "/sms/whatsapp-templates",
        kind="due_reminder",
        content_sid=SID,
        variables=",".join(whatsapp.DEFAULTS[SmsKind.due_reminder][1]),
        body=whatsapp.DEFAULTS[SmsKind.due_reminder][0],
        category="utility",
        channel_order="whatsapp,sms",
    )
    assert answer.status_code == 302
    assert [r.branch_id for r in db.session.scalars(select(WhatsappContent))] == [two["mks"].id]
    assert whatsapp.content_of(db.session, SmsKind.due_reminder, two["first"].id).content_sid is None
    assert whatsapp.content_of(db.session, SmsKind.due_reminder, two["mks"].id).content_sid == SID
    assert "origin-own" in client.get("/sms/whatsapp-templates").text
    revert = _post(
        client, "/sms/whatsapp-templates/revert", "/sms/whatsapp-templates", kind="due_reminder", what="content"
    )
    assert revert.status_code == 302
    assert db.session.scalars(select(WhatsappContent)).all() == []


def test_a_branch_adds_a_regional_holiday_to_the_national_calendar(app, db, client, login, two):
    db.session.add(Holiday(on=date(2026, 12, 2), name="Libur instalasi", branch_id=None))
    db.session.commit()
    login(two["admin_mks"])
    page = client.get("/settings/holidays")
    assert "Libur instalasi" in page.text and INHERITED in page.text
    answer = _post(client, "/settings/holidays", "/settings/holidays", on="2026-12-10", name="Hari jadi Makassar")
    assert answer.status_code == 302
    mine = db.session.scalar(select(Holiday).where(Holiday.branch_id == two["mks"].id))
    assert mine.name == "Hari jadi Makassar"

    act_in_branch(db.session(), two["mks"].id)
    assert set(branch_holidays(db.session, 2026).values()) == {"Libur instalasi", "Hari jadi Makassar"}
    act_in_branch(db.session(), two["first"].id)
    assert set(branch_holidays(db.session, 2026).values()) == {"Libur instalasi"}
    act_in_branch(db.session(), None)
    refused = _post(client, "/settings/holidays", "/settings/holidays", on="10-12-2026", name="Salah")
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.text
    assert _post(client, f"/settings/holidays/{mine.id}/delete", "/settings/holidays").status_code == 302
    assert db.session.scalar(select(Holiday.id).where(Holiday.branch_id == two["mks"].id)) is None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("holiday.%"))))
    assert actions == {"holiday.save", "holiday.delete"}


def test_the_call_script_and_the_cadres_message_are_a_branchs_own_too(db, client, login, two):
    login(two["admin_mks"])
    answer = _post(client, "/queue/call-script", "/queue/call-script", body="Selamat pagi dari Makassar, {nama}.")
    assert answer.status_code == 302
    assert templates.own_template_keys(db.session, two["mks"].id) == {templates.CALL_SCRIPT}
    assert "Makassar" not in templates.template_body_of(db.session, templates.CALL_SCRIPT, two["first"].id)
    page = client.get("/queue/call-script")
    assert "origin-own" in page.text and "Makassar" in page.text
    back = _post(client, "/sms/templates/revert", "/queue/call-script", key=templates.CALL_SCRIPT, what="template")
    assert back.status_code == 302 and back.headers["Location"].endswith("/queue/call-script")
    assert templates.own_template_keys(db.session, two["mks"].id) == set()
    assert INHERITED in client.get("/queue/templates").text
