"""The SMS and WhatsApp template editors (issue 13, D22 and D23)."""

import html

from sqlalchemy import select

from telecollect.messaging.models import ReminderSetting, SmsKind
from tests.conftest import csrf_token


def _block(page: str, kind: str) -> str:
    return page.split(f'data-testid="template-{kind}"')[1].split("</form>")[0]


def test_days_written_in_words_are_refused_and_what_was_typed_stays(db, client, login, make_user):
    login(make_user("supervisor"))
    token = csrf_token(client.get("/sms/templates").text)
    data = {"csrf_token": token, "key": "sms_due_reminder", "body": "Yth. {nama}, ubah", "days_before": "tiga"}
    refused = client.post("/sms/templates", data=data)
    assert refused.status_code == 400
    block = _block(refused.text, "due_reminder")
    assert 'value="tiga"' in block and "Yth. {nama}, ubah" in block
    assert "'tiga'" in html.unescape(refused.text)  # the sentence names what was refused
    assert db.session.scalar(select(ReminderSetting).where(ReminderSetting.kind == SmsKind.due_reminder)) is None
    for wrong in ("10", "-1", "٣", "2.5"):
        answer = client.post("/sms/templates", data={**data, "body": "Yth. {nama}", "days_before": wrong})
        assert answer.status_code == 400, wrong
    saved = client.post("/sms/templates", data={**data, "days_before": "5", "enabled": "1"})
    assert saved.status_code == 302
    row = db.session.scalar(select(ReminderSetting).where(ReminderSetting.kind == SmsKind.due_reminder))
    assert row.days_before == 5


def test_days_show_only_where_they_mean_something_and_say_what_they_count(db, client, login, make_user):
    login(make_user("supervisor"))
    page = client.get("/sms/templates").text
    for kind in ("due_reminder", "promise_reminder", "installment_reminder", "promise_broken"):
        assert 'data-testid="days"' in _block(page, kind), kind
    for kind in ("autodebit_prompt", "pre_call"):
        assert 'data-testid="days"' not in _block(page, kind), kind
    assert "<h2>due_reminder</h2>" not in page  # the kind in words, not its code


def test_one_segment_is_singular(db, client, login, make_user):
    login(make_user("supervisor"))
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/sms/templates").text
    assert "1 segment ·" in page and "1 segments" not in page


def test_the_whatsapp_editor_previews_what_the_participant_reads(db, client, login, make_user):
    login(make_user("supervisor", name="Bu Supervisor"))
    page = client.get("/queue/templates")
    preview = page.text.split('data-testid="wa-preview"')[1].split("</div>")[0]
    assert "Siti Aminah" in preview and "{nama}" not in preview
    token = csrf_token(page.text)
    refused = client.post("/queue/templates", data={"csrf_token": token, "body": "Halo {nama} {jumlah}"})
    assert refused.status_code == 400 and "Halo {nama} {jumlah}" in refused.text
    assert 'src="/static/template-preview.js' in page.text
