"""Out-of-range input answers 400 (or 404 for an id nothing can have) with a reason, never a 500; every
/api/ path answers errors as JSON."""

import pytest

from tests.conftest import PASSWORD, csrf_token

HUGE_ID = "16016262927962148864"  # beyond 64 bits


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/work-items/{HUGE_ID}",
        f"/queue/items/{HUGE_ID}",
        f"/admin/users/{HUGE_ID}",
        f"/sms/messages/{HUGE_ID}",
        f"/participants/imports/{HUGE_ID}/rejects.csv",
    ],
)
def test_an_id_beyond_64_bits_is_not_found(client, login, make_user, path):
    login(make_user("admin"))
    assert client.get(path).status_code == 404


def test_a_renew_of_an_id_beyond_64_bits_is_a_json_404(client, login, make_user):
    login(make_user("telecollector"))
    headers = {"X-CSRFToken": csrf_token(client.get("/participants").text)}
    response = client.post(f"/api/v1/work-items/{HUGE_ID}/renew", headers=headers)
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize(
    "path",
    [
        "/participants?page=99999999999999999999999",
        "/admin/audit?page=99999999999999999999999",
        "/sms/outbox?day=0001-01-01",
        "/sms/outbox?day=9999-12-31",
        "/sms/outbox?district=99999999999999999999999",
    ],
)
def test_numbers_and_dates_out_of_range_are_a_400_with_a_reason(client, login, make_user, path):
    login(make_user("admin"))
    response = client.get(path)
    assert response.status_code == 400
    assert 'data-testid="reason"' in response.text


def test_a_nul_character_in_a_sign_in_is_a_400_with_a_reason(client, make_user):
    user = make_user("telecollector")
    page = client.get("/login")
    response = client.post(
        "/login", data={"username": "ad\x00min", "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 400 and 'data-testid="reason"' in response.text
    response = client.post(
        "/login", data={"username": user.username, "password": "x\x00", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 400
    assert client.get("/participants?q=a%00b").status_code in (302, 400)  # signed out: the sign-in page first


def test_a_nul_character_in_api_json_is_a_json_400(runner, client, make_user):
    make_user("telecollector", username="tc.rina")
    token = runner.invoke(args=["users", "token", "tc.rina"]).output.strip()
    response = client.post(
        "/api/v1/work-items/1/outcome", json={"outcome": "no_answer\x00"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "nul_character"


def test_api_errors_are_json_404_405_413_and_500(app, client, runner, make_user, monkeypatch):
    make_user("telecollector", username="tc.rina")
    headers = {"Authorization": f"Bearer {runner.invoke(args=['users', 'token', 'tc.rina']).output.strip()}"}
    missing = client.get("/api/v1/no-such-thing", headers=headers)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "404"
    wrong_method = client.delete("/api/v1/me", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.is_json
    monkeypatch.setitem(app.config, "MAX_BODY_BYTES", 1000)
    too_big = client.post("/api/v1/queue/claim", data="x" * 5000, headers=headers, content_type="application/json")
    assert too_big.status_code == 413 and too_big.is_json
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "api.me", lambda: 1 / 0)
    broken = client.get("/api/v1/me", headers=headers)
    assert broken.status_code == 500 and broken.json["error"]["code"] == "500"
