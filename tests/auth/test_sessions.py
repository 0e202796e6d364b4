"""Sessions that end (sign-out, a new password, 12 hours after sign-in), a fresh session at sign-in, API tokens
that expire and can be revoked, and CSRF skipped only for a request a valid token authenticates."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import ApiToken
from telecollect.auth.services import update_user
from tests.conftest import csrf_token

PAGE = "/participants"


def signed_in_cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, login, make_user):
    login(make_user("telecollector"))
    copied = signed_in_cookie(client)
    assert with_cookie(app, copied).get(PAGE).status_code == 200
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get(PAGE).text)})
    client.post("/logout", data={"csrf_token": csrf_token(client.get(PAGE).text)})
    assert with_cookie(app, copied).get(PAGE).status_code == 302
    assert client.get("/participants").status_code == 302
    with client.session_transaction() as session:
        assert session["lang"] == "en"  # the language stays, nothing of the sign-in does
        assert not {"_user_id", "session_version", "signed_in_at"} & set(session)


def test_a_new_password_ends_the_users_sessions(app, db, client, login, make_user):
    user = make_user("telecollector")
    login(user)
    copied = signed_in_cookie(client)
    admin = make_user("admin")
    update_user(
        db.session,
        user,
        name=user.name,
        role="telecollector",
        is_active=True,
        timezone="WIB",
        daily_call_target=None,
        areas=[],
        password="kata-sandi-baru",
        actor=admin,
    )
    db.session.commit()
    assert client.get(PAGE).status_code == 302
    assert with_cookie(app, copied).get(PAGE).status_code == 302
    assert login(user, password="kata-sandi-baru").status_code == 302
    assert client.get(PAGE).status_code == 200


def test_a_session_ends_twelve_hours_after_sign_in_whatever_the_activity(clock, client, login, make_user):
    login(make_user("telecollector"))
    start = datetime.fromisoformat("2026-11-24T02:00:00+00:00")
    for hours in (3, 6, 9, 11.9):
        clock.move_to(start + timedelta(hours=hours))
        assert client.get(PAGE).status_code == 200, hours
    clock.move_to(start + timedelta(hours=12, minutes=1))
    assert client.get(PAGE).status_code == 302


def test_sign_in_starts_a_fresh_session_keeping_only_the_language(client, login, make_user):
    client.post("/lang/en", data={"csrf_token": csrf_token(client.get("/login").text)})
    with client.session_transaction() as planted:
        planted["planted"] = "by someone else"
        planted["csrf_token"] = "known-to-the-attacker"
    login(make_user("telecollector"))
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != "known-to-the-attacker"
        assert session["lang"] == "en"


def test_tokens_expire_after_ninety_days_or_the_days_given(clock, runner, client, make_user):
    make_user("telecollector", username="tc.rina")
    default = runner.invoke(args=["users", "token", "tc.rina"]).output.strip()
    short = runner.invoke(args=["users", "token", "tc.rina", "--days", "1"]).output.strip()
    start = datetime.fromisoformat("2026-11-24T02:00:00+00:00")

    def status(token):
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    assert (status(default), status(short)) == (200, 200)
    clock.move_to(start + timedelta(days=1, minutes=1))
    assert (status(default), status(short)) == (200, 401)
    clock.move_to(start + timedelta(days=90, minutes=1))
    assert status(default) == 401
    assert runner.invoke(args=["users", "token", "tc.rina", "--days", "0"]).exit_code != 0


def test_revoke_token_by_id_or_all_of_a_users(runner, client, make_user, db):
    make_user("telecollector", username="tc.rina")
    tokens = [runner.invoke(args=["users", "token", "tc.rina"]).output.strip() for _ in range(3)]
    ids = [t.id for t in db.session.scalars(select(ApiToken).order_by(ApiToken.id))]
    listed = runner.invoke(args=["users", "tokens", "tc.rina"]).output
    assert all(str(i) in listed for i in ids)

    def status(token):
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

    result = runner.invoke(args=["users", "revoke-token", str(ids[0])])
    assert result.exit_code == 0, result.output
    assert [status(t) for t in tokens] == [401, 200, 200]
    assert runner.invoke(args=["users", "revoke-token", "99999999999999999999"]).exit_code != 0
    result = runner.invoke(args=["users", "revoke-token", "--user", "tc.rina"])
    assert result.exit_code == 0 and "2" in result.output
    assert [status(t) for t in tokens] == [401, 401, 401]
    assert [e.action for e in db.session.scalars(select(AuditEvent))].count("token.revoke") == 3


def test_the_admin_sees_a_users_tokens_and_revokes_one(runner, client, login, make_user, db):
    rina = make_user("telecollector", username="tc.rina")
    token = runner.invoke(args=["users", "token", "tc.rina"]).output.strip()
    token_id = db.session.scalar(select(ApiToken.id))
    login(make_user("admin"))
    page = client.get(f"/admin/users/{rina.id}")
    tokens = page.text.split('data-testid="tokens"')[1]
    assert f"#{token_id}" in tokens and f'data-testid="revoke-{token_id}"' in tokens
    response = client.post(
        f"/admin/users/{rina.id}/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    other = make_user("telecollector")
    assert (
        client.post(f"/admin/users/{other.id}/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page.text)})
    ).status_code == 404


def test_a_garbage_bearer_header_does_not_switch_off_csrf_for_the_cookie(client, login, make_user):
    login(make_user("telecollector"))
    garbage = {"Authorization": "Bearer not-a-token"}
    response = client.post("/api/v1/queue/claim", headers=garbage)
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/queue/claim").status_code == 400  # the cookie alone: CSRF is checked
    headers = {"X-CSRFToken": csrf_token(client.get(PAGE).text)}
    assert client.post("/api/v1/queue/claim", headers=headers).status_code in (200, 204)


def test_a_valid_token_needs_no_csrf_token(runner, client, make_user):
    make_user("telecollector", username="tc.rina")
    token = runner.invoke(args=["users", "token", "tc.rina"]).output.strip()
    response = client.post("/api/v1/queue/claim", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 204)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/queue/claim",
        "/api/v1/work-items/1/outcome",
        "/api/v1/work-items/1/release",
        "/api/v1/work-items/1/renew",
    ],
)
def test_the_api_answers_401_json_to_a_post_without_credentials(client, path):
    response = client.post(path, json={})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_expiry_is_stored_for_every_token(runner, make_user, db):
    make_user("telecollector", username="tc.rina")
    runner.invoke(args=["users", "token", "tc.rina", "--days", "30"])
    token = db.session.scalar(select(ApiToken))
    assert timedelta(days=29) < token.expires_at - datetime.now(UTC) <= timedelta(days=30)
