"""One telecollector's calls from the desktop through the system (issue 15): Panggil (or the P key), her phone
rings (the fake Twilio plays the call over HTTP against the live server, signed like Twilio), she presses 1,
the participant answers; the desktop follows the call and forces the outcome. Then an unanswered call is
recorded without typing, and Next moves on."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from telecollect.contacts.models import ContactAttempt
from telecollect.queues.models import QueueName
from telecollect.telephony.models import Call, Disposition
from tests.fake_twilio import FakeTwilio, VoiceScript
from tests.helpers_queue import families, queue_up
from tests.telephony.conftest import AGENT_PHONE, voice_backend

pytestmark = pytest.mark.browser


@pytest.fixture
def calling(app, live_server):
    fake = FakeTwilio().start()
    fake.runs_calls_at_once = True  # Twilio calls back on its own, over HTTP, to the live server
    with voice_backend(app, fake, fake.voice_config(PUBLIC_BASE_URL=live_server)):
        from tests.fake_twilio import http_deliver

        fake.deliver = http_deliver
        yield fake
    fake.wait_for_calls()
    fake.stop()


def test_a_call_from_the_desktop_connected_then_one_unanswered(clock, page, sign_in, make_user, db, calling):
    families(db, 3)
    queue_up(db, QueueName.telecollect)
    agent = make_user("telecollector", agent_phone=AGENT_PHONE)
    sign_in(agent)
    page.get_by_test_id("next").click()
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)
    expect(page.locator("a[href^='tel:']")).to_have_count(0)  # calls go through the system now
    calling.default_voice_script = VoiceScript(dial="completed", talk_seconds=75)

    page.keyboard.press("p")  # Panggil, by key
    panel = page.get_by_test_id("call-panel")
    expect(panel).to_contain_text("tersambung selesai (01:15)")
    [call] = db.session.scalars(select(Call)).all()
    assert call.disposition == Disposition.pending and call.talk_seconds == 75
    first_family = page.url

    # Next brings her back to this family until she records the outcome.
    page.goto("/queue")
    assert page.url == first_family
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)
    page.keyboard.press("9")  # refused: saved, and the next family opens
    expect(page).not_to_have_url(first_family)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    attempt = db.session.get(ContactAttempt, call.attempt_id)
    assert call.disposition == Disposition.recorded and attempt.outcome == "refused"

    # The next family: the participant does not answer. Recorded without typing; Next moves on.
    expect(page.locator("#outcome-form[data-ready]")).to_have_count(1)
    calling.default_voice_script = VoiceScript(dial="no-answer")
    second_family = page.url
    page.locator("button[data-place-call]").first.click()
    expect(panel).to_contain_text("Tidak dijawab: tercatat tanpa mengetik")
    page.get_by_test_id("call-next").click()
    expect(page).not_to_have_url(second_family)
    expect(page).to_have_url(re.compile(r"/queue/items/\d+$"))
    db.session.expire_all()
    outcomes = db.session.scalars(select(ContactAttempt.outcome).order_by(ContactAttempt.id)).all()
    assert outcomes == ["refused", "no_answer"]
    # What Twilio was told to do came from the server: her phone, then the family's number.
    assert [r["To"] for r in calling.call_requests] == [AGENT_PHONE, AGENT_PHONE]
    assert all(d.status in (200, 204) for d in calling.delivered), [(d.url, d.status) for d in calling.delivered]
