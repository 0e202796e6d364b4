"""Agents' phones (validator, CLI, admin page) and the voice settings (a half-configured backend stops the start)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from telecollect import create_app
from telecollect.auth.models import User
from telecollect.phones import InvalidPhone, normalize_agent_phone
from telecollect.telephony.gateway import NoVoice, TwilioVoice, voice_from_config
from tests.conftest import csrf_token
from tests.fake_twilio import FakeTwilio


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("021-4301234", "+62214301234"),  # a Jakarta desk line
        ("+62 21 430 1234", "+62214301234"),
        ("0812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("sip:ani@kc-jakut.sip.twilio.com", "sip:ani@kc-jakut.sip.twilio.com"),
        ("sip:ani@pbx.example.id;transport=tls", "sip:ani@pbx.example.id;transport=tls"),
    ],
)
def test_agent_phones_are_indonesian_numbers_or_sip_addresses(written, stored):
    assert normalize_agent_phone(written) == stored


@pytest.mark.parametrize("written", ["+1 415 555 0100", "12", "sip:nobody", "sip:a@b c", "abc", "", "0812 atau 0813"])
def test_anything_else_is_refused(written):
    with pytest.raises(InvalidPhone) as refused:
        normalize_agent_phone(written)
    assert refused.value.code == "agent_phone_invalid"


@given(st.text(max_size=40))
def test_the_validator_either_refuses_or_gives_e164_or_sip(text):
    try:
        phone = normalize_agent_phone(text)
    except InvalidPhone:
        return
    assert phone.startswith(("+62", "sip:", "sips:"))


def test_users_create_with_phone_and_set_phone(db, runner):
    created = runner.invoke(
        args=["users", "create", "ani", "--role", "telecollector", "--phone", "0812-1111-2222", "--password-stdin"],
        input="rahasia-sekali\n",
    )
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(User.agent_phone).where(User.username == "ani")) == "+6281211112222"
    changed = runner.invoke(args=["users", "set-phone", "ani", "sip:ani@kc-jakut.sip.twilio.com"])
    assert changed.exit_code == 0 and "sip:ani@kc-jakut.sip.twilio.com" in changed.output
    refused = runner.invoke(args=["users", "set-phone", "ani", "+14155550100"])
    assert refused.exit_code != 0 and "nomor Indonesia" in refused.output
    db.session.expire_all()
    kept = db.session.scalar(select(User.agent_phone).where(User.username == "ani"))
    assert kept == "sip:ani@kc-jakut.sip.twilio.com"


def test_an_admin_sets_the_phone_on_the_user_page(db, client, login, make_user):
    agent = make_user("telecollector")
    login(make_user("admin"))
    page = client.get(f"/admin/users/{agent.id}")
    assert 'name="agent_phone"' in page.text
    form = {
        "csrf_token": csrf_token(page.text),
        "name": agent.name,
        "role": "telecollector",
        "timezone": "WIB",
        "is_active": "y",
        "agent_phone": "+1 415 555 0100",
    }
    refused = client.post(f"/admin/users/{agent.id}", data=form)
    assert refused.status_code == 200 and "nomor Indonesia" in refused.text
    saved = client.post(f"/admin/users/{agent.id}", data={**form, "agent_phone": "(021) 430-1234"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, agent.id).agent_phone == "+62214301234"


def test_voice_backends_from_the_settings():
    fake = FakeTwilio()  # not started: only its settings
    assert isinstance(voice_from_config({"VOICE_BACKEND": "none"}), NoVoice)
    assert isinstance(voice_from_config(fake.voice_config()), TwilioVoice)
    with pytest.raises(ValueError, match="TWILIO_VOICE_CALLER_ID"):
        voice_from_config(fake.voice_config(TWILIO_VOICE_CALLER_ID=""))
    with pytest.raises(ValueError, match="TWILIO_VOICE_CALLER_ID must be a number"):
        voice_from_config(fake.voice_config(TWILIO_VOICE_CALLER_ID="BPJS"))
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        voice_from_config(fake.voice_config(TWILIO_AUTH_TOKEN=""))
    with pytest.raises(ValueError, match="must be none or twilio"):
        voice_from_config({"VOICE_BACKEND": "asterisk"})
    fake._server.server_close()


def test_a_half_configured_voice_backend_stops_the_app_at_start(tmp_path):
    with pytest.raises(ValueError, match="VOICE_BACKEND=twilio needs TWILIO_VOICE_CALLER_ID"):
        create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                "SECRET_KEY": "x",
                "VOICE_BACKEND": "twilio",
                "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                "TWILIO_AUTH_TOKEN": "t",
            }
        )
