"""Calls through the real `twilio` SDK against the fake Twilio, whose callbacks reach the app through the
Flask test client (signed, as Twilio signs them)."""

from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from telecollect.queues.models import QueueName, WorkItem
from telecollect.telephony.gateway import TwilioVoice
from tests.conftest import IsolatedClient, csrf_token
from tests.fake_twilio import FakeTwilio
from tests.helpers_queue import families, queue_up

RUNTIME = "telecollect.runtime"
AGENT_PHONE = "+6281299990001"


@pytest.fixture
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


@contextmanager
def voice_backend(app, fake, config):
    """The session's app placing calls through the fake (restored afterwards); Twilio's callbacks reach it
    through a test client of their own (no session: Twilio signs, it does not sign in)."""
    saved_config = {k: app.config.get(k) for k in config}
    saved_voice = app.extensions[RUNTIME]["voice"]
    app.config.update(config)
    app.extensions[RUNTIME]["voice"] = TwilioVoice(dict(app.config))
    app.test_client_class = IsolatedClient
    twilio_side = app.test_client()
    base = config["PUBLIC_BASE_URL"]

    def deliver(url, form, headers):
        assert url.startswith(base), url
        parts = urlsplit(url)
        answer = twilio_side.post(parts.path + (f"?{parts.query}" if parts.query else ""), data=form, headers=headers)
        return answer.status_code, answer.get_data(as_text=True)

    fake.deliver = deliver
    try:
        yield app
    finally:
        app.config.update(saved_config)
        app.extensions[RUNTIME]["voice"] = saved_voice


@pytest.fixture
def voice_app(app, db, fake):
    with voice_backend(app, fake, fake.voice_config()) as configured:
        yield configured


@pytest.fixture
def recording_app(app, db, fake):
    with voice_backend(app, fake, fake.voice_config(RECORD_CALLS=True, RECORDING_DAYS=30)) as configured:
        yield configured


@pytest.fixture
def desk(db, client, login, make_user):
    """A telecollector with a phone for calls, signed in, holding one family (Peserta 1, +6281200000001)."""

    def make(count=1, **changes):
        families(db, count, **changes)
        queue_up(db, QueueName.telecollect)
        agent = make_user("telecollector", agent_phone=AGENT_PHONE)
        login(agent)
        answer = client.post("/queue/next", data={"csrf_token": csrf_token(client.get("/queue").text)})
        assert answer.status_code == 302, answer.text
        item_id = int(answer.headers["Location"].rsplit("/", 1)[1])
        return agent, item_id

    return make


def switch(client, login, user):
    """Sign out whoever is signed in on `client`, and sign `user` in."""
    client.delete_cookie("session")
    login(user)


def csrf_of(client, item_id):
    return csrf_token(client.get(f"/queue/items/{item_id}").text)


def place(client, item_id, phone=None, *, token=None):
    """Press Panggil (the desktop's fetch: session cookie and X-CSRFToken)."""
    headers = {"X-CSRFToken": token or csrf_of(client, item_id)}
    return client.post(f"/api/v1/work-items/{item_id}/call", json={"phone": phone} if phone else {}, headers=headers)


def item(db, item_id) -> WorkItem:
    db.session.expire_all()
    return db.session.scalar(select(WorkItem).where(WorkItem.id == item_id))
