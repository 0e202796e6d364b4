"""Recording (off by default): the notice to the participant, the SID and length kept, played through the
app by supervisors only (audited), and deleted at Twilio after RECORDING_DAYS."""

from datetime import timedelta

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.telephony.cli import purge_recordings
from telecollect.telephony.models import Call
from tests.fake_twilio import VoiceScript
from tests.telephony.conftest import place, switch


def test_a_recorded_call_plays_the_notice_and_keeps_the_recordings_sid(
    clock, db, client, login, make_user, recording_app, fake, desk
):
    _agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.default_voice_script = VoiceScript(dial="completed", talk_seconds=95)
    fake.run_call(next(iter(fake.calls)))
    connect = next(d for d in fake.delivered if "/voice/connect" in d.url)
    assert 'record="record-from-answer-dual"' in connect.body and "/twilio/voice/notice?call=" in connect.body
    notice = next(d for d in fake.delivered if "/voice/notice" in d.url)
    assert "direkam" in notice.body  # played to the participant before the conversation
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    [recording_sid] = fake.recordings
    assert (call.is_recorded, call.recording_sid, call.recording_seconds) == (True, recording_sid, 95)

    # The agent cannot play it; a supervisor plays it through the app (never Twilio's URL), audited.
    assert client.get(f"/calls/{call_id}/recording").status_code in (302, 403)
    boss = make_user("supervisor")
    switch(client, login, boss)
    page = client.get("/calls").text
    assert f"/calls/{call_id}/recording" in page and "api.twilio.com" not in page and fake.url not in page
    audio = client.get(f"/calls/{call_id}/recording")
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg" and recording_sid.encode() in audio.data
    played = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "call.recording_play"))
    assert (played.user_id, played.detail) == (boss.id, recording_sid)

    # The job deletes it at Twilio once it is older than RECORDING_DAYS, not before.
    assert purge_recordings(call.started_at + timedelta(days=29)) == {"deleted": 0, "failed": 0}
    assert purge_recordings(call.started_at + timedelta(days=31)) == {"deleted": 1, "failed": 0}
    assert fake.deleted_recordings == [recording_sid]
    db.session.expire_all()
    assert db.session.get(Call, call_id).is_recording_deleted
    assert client.get(f"/calls/{call_id}/recording").status_code == 404
    assert purge_recordings(call.started_at + timedelta(days=32)) == {"deleted": 0, "failed": 0}


def test_recording_is_off_by_default(clock, db, client, voice_app, fake, desk):
    _agent, item_id = desk()
    call_id = place(client, item_id).get_json()["call"]["id"]
    fake.run_call(next(iter(fake.calls)))
    assert not any("/voice/notice" in d.url for d in fake.delivered) and fake.recordings == {}
    db.session.expire_all()
    assert db.session.get(Call, call_id).recording_sid is None
