"""Sign-in limits: per (username, address) and per address, counted atomically; no lock a stranger can put
on someone else's account; an unknown username costs the same password check as a known one."""

from datetime import UTC, datetime, timedelta

import pytest

from telecollect.auth import services
from telecollect.auth.services import SignInLimits, authenticate
from telecollect.extensions import db as _db
from tests.conftest import PASSWORD, csrf_token
from tests.queues.test_concurrency import run_together


def sign_in_from(client, address: str, username: str, password: str):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        environ_base=environ,
    )


def test_a_stranger_guessing_cannot_lock_the_user_out(app, client, make_user):
    user = make_user("telecollector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] * 2):
        sign_in_from(client, "203.0.113.66", user.username, "tebak-tebak")
    stranger = sign_in_from(client, "203.0.113.66", user.username, PASSWORD)
    assert stranger.status_code == 401 and "Terlalu banyak percobaan gagal" in stranger.text
    assert sign_in_from(client, "10.1.2.3", user.username, PASSWORD).status_code == 302


def test_one_address_guessing_many_usernames_is_stopped(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 8)
    user = make_user("telecollector")
    for n in range(8):
        assert sign_in_from(client, "198.51.100.7", f"orang{n}", "tebak-tebak").status_code == 401
    refused = sign_in_from(client, "198.51.100.7", user.username, PASSWORD)
    assert refused.status_code == 401 and "Terlalu banyak percobaan gagal" in refused.text
    assert sign_in_from(client, "198.51.100.8", user.username, PASSWORD).status_code == 302


def test_successes_from_a_shared_office_address_do_not_use_up_its_limit(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_IP", 3)
    for _ in range(6):
        user = make_user("telecollector")
        assert sign_in_from(client, "192.0.2.1", user.username, PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})


def test_an_unknown_username_costs_a_password_check_like_a_known_one(client, make_user, monkeypatch):
    checks = []
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    user = make_user("telecollector")
    sign_in_from(client, "10.9.9.9", user.username, "tebak-tebak")
    sign_in_from(client, "10.9.9.9", "tidak.ada", "tebak-tebak")
    assert len(checks) == 2
    assert checks[1].split("$")[0] == checks[0].split("$")[0]  # the same hash method and cost


@pytest.mark.committing
def test_concurrent_guesses_do_not_pass_the_limit(app, db, make_user):
    user = make_user("telecollector")
    limits = SignInLimits(per_username_and_ip=5, per_ip=50, window=timedelta(minutes=15))
    now = datetime.now(UTC)

    def guess():
        attempt = authenticate(_db.session, user.username, "tebak-tebak", "203.0.113.9", limits=limits, now=now)
        _db.session.commit()
        return attempt.problem

    problems = run_together(app, [guess] * 12)
    assert problems.count("invalid") == 5
    assert problems.count("throttled") == 7
