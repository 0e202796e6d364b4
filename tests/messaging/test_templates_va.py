"""Issue 14, items 5 and 6: every reminder names the family's virtual account and where to ask or stop (SMS to
Indonesia is one-way), fits one GSM-7 segment for the widest family, carries no NIK, and goes only to a number
registered on the family."""

import importlib.util
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from telecollect.accounts import parse_prefixes
from telecollect.errors import ServiceError
from telecollect.messaging import templates
from telecollect.messaging.encoding import encoding_of, segment_count
from telecollect.messaging.models import TEMPLATED_KINDS, MessageTemplate, SmsKind, SmsMessage
from telecollect.messaging.outbox import TEMPLATE_OF, queue_sms
from telecollect.messaging.reminders import plan_reminders
from telecollect.participants.models import Participant
from telecollect.settings import Settings, load_config
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.messaging.test_reminders import RULES
from tests.messaging.test_sms import fake, signed_post, twilio_app  # noqa: F401 (fixtures)

THIRTY = "Ni Luh Putu Ayu Kusumawardhani"
#: The branch name an unconfigured installation names in the pre-call message (the longest default).
DEFAULT_BRANCH = load_config(Path("/nonexistent"))["BRANCH_NAME"]
INSTALLATION = {
    "cabang": DEFAULT_BRANCH,
    "kanal": templates.OFFICIAL_CHANNELS,
    "rehab": templates.SMS_SNIPPETS["rehab"],
    "autodebit": templates.SMS_SNIPPETS["autodebit"],
}


@pytest.fixture
def settings_with(app, monkeypatch):
    """Run the test with some installation settings changed (they are built once, at app creation)."""

    def change(**values):
        built = app.extensions["telecollect.settings"]
        monkeypatch.setitem(app.extensions, "telecollect.settings", replace(built, **values))

    return change


def _family(db, *, name=THIRTY, amount="Rp99.999.999", months="24", **changes):
    run_import(
        db,
        csv_bytes(
            [
                row(
                    card_no="0009876543210",
                    family_id="0009876543210",
                    nik="3172015708850001",
                    name=name,
                    phone="0812-3456-7890",
                    months_in_arrears=months,
                    arrears_amount=amount,
                    **changes,
                ),
                row(
                    card_no="0001111111111",
                    family_id="0009876543210",
                    nik="3172014707900002",
                    name="Anak",
                    phone="",
                    months_in_arrears=months,
                    arrears_amount="0",
                ),
            ]
        ),
    )
    return db.session.scalars(select(Participant).order_by(Participant.card_no)).all()


def _queue_every_kind(db, members, to_phone="+6281234567890"):
    values = {
        SmsKind.due_reminder: {"jatuh_tempo": date(2026, 12, 28)},
        SmsKind.promise_reminder: {"tanggal_janji": date(2026, 12, 28)},
        SmsKind.promise_broken: {"tanggal_janji": date(2026, 12, 28)},
        SmsKind.installment_reminder: {"jatuh_tempo": date(2026, 12, 28), "cicilan": "Rp99.999.999"},
    }
    for kind in TEMPLATED_KINDS:
        queue_sms(
            db.session,
            kind=kind,
            key=f"test:{kind.value}",
            to_phone=to_phone,
            members=members,
            timezone="WIB",
            **values.get(kind, {}),
        )
    db.session.flush()
    return {m.kind: m for m in db.session.scalars(select(SmsMessage))}


@pytest.mark.parametrize("kontak", [templates.CARE_CENTER, "WA 0812345678901"])
@pytest.mark.parametrize("key", list(templates.SMS_DEFAULTS))
def test_every_default_fits_one_gsm7_segment_for_the_widest_family(key, kontak):
    body = templates.render(templates.SMS_DEFAULTS[key], {**templates.WIDEST, **INSTALLATION, "kontak": kontak})
    assert len(templates.WIDEST["nama"]) == 30 and THIRTY in body
    assert not re.search(r"{\w*}", body)
    assert encoding_of(body) == "GSM-7"
    assert segment_count(body) == 1, f"{key}: {len(body)} characters"


def test_defaults_name_the_virtual_account_and_where_to_ask_never_reply_stop():
    payment = {"sms_due_reminder", "sms_promise_reminder", "sms_promise_broken", "sms_installment_reminder"}
    for key, body in templates.SMS_DEFAULTS.items():
        assert "{kontak}" in body, key  # the branch's WhatsApp or Care Center 165
        assert not re.search(r"\b(balas|reply|ketik)\b", body, re.IGNORECASE), key
        if key in payment | {"sms_info_reply"}:
            assert "{va}" in body, key
    assert "{va}" in templates.DEFAULTS[templates.CALL_SCRIPT]


def test_every_reminder_rendered_for_a_real_family_fits_one_segment_and_names_its_account(db):
    members = _family(db)
    sent = _queue_every_kind(db, members)
    assert set(sent) == set(TEMPLATED_KINDS)
    for kind, message in sent.items():
        assert message.encoding == "GSM-7" and message.segments == 1, f"{kind}: {message.body!r}"
        assert "Tanya/stop: Care Center 165" in message.body
    # The family id is the head's card: 88888 and its last 11 digits.
    for kind in (SmsKind.due_reminder, SmsKind.promise_reminder, SmsKind.installment_reminder, SmsKind.info_reply):
        assert "VA 8888809876543210" in sent[kind].body, sent[kind].body
    assert "Rp99.999.999" in sent[SmsKind.info_reply].body


def test_no_nik_in_any_message_and_no_template_may_ask_for_one(db, make_user):
    members = _family(db)
    sent = _queue_every_kind(db, members)
    niks = {m.nik for m in members}
    for message in sent.values():
        digits = re.sub(r"\D", "", message.body)
        assert not any(nik in digits for nik in niks), message.body
    supervisor = make_user("supervisor")
    for key in (*templates.SMS_DEFAULTS, templates.CADRE_WHATSAPP, templates.CALL_SCRIPT):
        with pytest.raises(ServiceError) as refused:
            templates.save_template(db.session, key, "Yth. {nama}, NIK {nik}", supervisor)
        assert refused.value.code == "unknown_variable"


def test_a_family_message_goes_only_to_a_number_registered_on_that_family(db):
    members = _family(db, phone2="0813-1111-2222")
    with pytest.raises(ServiceError) as refused:
        queue_sms(
            db.session,
            kind=SmsKind.info_reply,
            key="info:stranger",
            to_phone="+6285799999999",
            members=members,
            timezone="WIB",
        )
    assert refused.value.code == "sms_not_family_number"
    assert db.session.scalar(select(SmsMessage)) is None
    # The member's second number is the family's too.
    assert queue_sms(
        db.session, kind=SmsKind.info_reply, key="info:2", to_phone="+6281311112222", members=members, timezone="WIB"
    )


def test_the_info_reply_to_an_unknown_number_carries_no_amount(db, client, twilio_app, fake):  # noqa: F811
    _family(db)
    signed_post(
        client,
        twilio_app,
        "/twilio/sms/inbound",
        {"MessageSid": "SMx", "From": "+6285799999999", "Body": "CEK"},
        fake.auth_token,
    )
    bodies = db.session.scalars(select(SmsMessage.body)).all()
    assert not any("Rp" in body or "88888" in body for body in bodies)


def test_kontak_names_the_branch_whatsapp_number_when_set(db, settings_with):
    members = _family(db)
    settings_with(branch_whatsapp="+6281199998888")
    queue_sms(db.session, kind=SmsKind.pre_call, key="k", to_phone="+6281234567890", members=members, timezone="WIB")
    assert db.session.scalar(select(SmsMessage.body)).endswith("Tanya/stop: WA 081199998888")


def test_the_branch_whatsapp_number_is_checked_at_start():
    config = load_config(Path("/nonexistent"))
    assert Settings.from_config({**config, "BRANCH_WHATSAPP_NUMBER": "0811-9999-8888"}).branch_whatsapp == (
        "+6281199998888"
    )
    with pytest.raises(ValueError, match="BRANCH_WHATSAPP_NUMBER"):
        Settings.from_config({**config, "BRANCH_WHATSAPP_NUMBER": "021-555-1234"})  # a landline
    with pytest.raises(ValueError, match="CADRE_WHATSAPP_DAILY_LIMIT"):
        Settings.from_config({**config, "CADRE_WHATSAPP_DAILY_LIMIT": "0"})


def test_va_all_names_each_bank_and_va_is_the_first(db, settings_with):
    prefixes = parse_prefixes("88888,Mandiri=89888")
    assert templates.va_values(["8888809876543210", "8988809876543210"], prefixes) == {
        "va": "8888809876543210",
        "va_all": "8888809876543210, Mandiri 8988809876543210",
    }
    members = _family(db)
    settings_with(va_prefixes=prefixes)
    supervisor_body = "Yth. {nama}, VA {va_all}. BPJS Kesehatan"
    db.session.add(MessageTemplate(key="sms_due_reminder", body=supervisor_body))
    queue_sms(
        db.session, kind=SmsKind.due_reminder, key="d", to_phone="+6281234567890", members=members, timezone="WIB"
    )
    assert "VA 8888809876543210, Mandiri 8988809876543210." in db.session.scalar(select(SmsMessage.body))


def test_a_planned_reminder_carries_the_family_virtual_account(db):
    _family(db, name="Siti Aminah", amount="Rp210.000", months="6")
    planned = plan_reminders(db.session, RULES, datetime(2026, 12, 7, 3, tzinfo=UTC), "WIB", due_day=10)
    assert planned["due_reminder"] == 1
    body = db.session.scalar(select(SmsMessage.body))
    assert body.startswith("Yth. Siti Aminah, iuran JKN-KIS jatuh tempo 10-12-2026. Bayar ke VA 8888809876543210")


def test_the_templates_page_warns_when_a_kind_exceeds_one_segment(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/sms/templates")
    assert page.status_code == 200 and 'data-testid="over-budget"' not in page.text  # every default fits
    long_body = templates.SMS_DEFAULTS["sms_due_reminder"] + " Abaikan jika sudah membayar."
    saved = client.post(
        "/sms/templates",
        data={
            "csrf_token": csrf_token(page.text),
            "key": "sms_due_reminder",
            "body": long_body,
            "enabled": "1",
            "days_before": "3",
        },
    )
    assert saved.status_code == 302  # a warning, not a refusal: the supervisor decides
    again = client.get("/sms/templates").text
    form = again[again.index('data-testid="template-due_reminder"') :]
    form = form[: form.index("</form>")]
    assert 'data-testid="over-budget"' in form and "2 segmen" in form
    assert again.count('data-testid="over-budget"') == 1


def _migration():
    path = Path(__file__).resolve().parents[2] / "migrations/versions/0019_templates_va.py"
    spec = importlib.util.spec_from_file_location("migration_0020", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_swaps_exactly_the_previous_and_current_defaults():
    changed = _migration().CHANGED
    for key, (old, new) in changed.items():
        if key == templates.CALL_SCRIPT:
            assert (old, new) == (templates.PREVIOUS_CALL_SCRIPT, templates.DEFAULTS[key])
        else:
            assert (old, new) == (templates.PREVIOUS_SMS_DEFAULTS[key], templates.SMS_DEFAULTS[key])
    assert set(changed) == {*templates.SMS_DEFAULTS, templates.CALL_SCRIPT}


@pytest.mark.committing
def test_the_migration_updates_unedited_defaults_and_keeps_edits(app, db):
    """Down to the revision before, two stored rows (one still the old default, one a supervisor's edit), up
    again: only the first changes. On the test database itself, so on both engines."""
    from flask_migrate import downgrade, upgrade

    edited = "Yth. {nama}, mohon bayar iuran. BPJS Kesehatan"
    downgrade(revision=_migration().down_revision)
    try:
        db.session.add_all(
            [
                MessageTemplate(key="sms_due_reminder", body=templates.PREVIOUS_SMS_DEFAULTS["sms_due_reminder"]),
                MessageTemplate(key="sms_promise_reminder", body=edited),
                MessageTemplate(key="call_script", body=templates.PREVIOUS_CALL_SCRIPT),
            ]
        )
        db.session.commit()
    finally:
        upgrade()
    stored = dict(db.session.execute(select(MessageTemplate.key, MessageTemplate.body)).all())
    assert stored == {
        "sms_due_reminder": templates.SMS_DEFAULTS["sms_due_reminder"],
        "sms_promise_reminder": edited,
        "call_script": templates.DEFAULTS["call_script"],
    }
    assert TEMPLATE_OF[SmsKind.due_reminder] == "sms_due_reminder"
