"""Request bodies are bounded per route: small everywhere, large only for imports by those allowed to import."""

import pytest

from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row

BIG = 1024 * 1024  # far above the 64 KB default, far below the upload limit


def post_multipart(client, path, fields, file: bytes):
    """A form with a file, encoded in memory (the test client would spool a large body to a temporary file
    it leaves open)."""
    boundary = "----telecollect-test"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(path, data=b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}")


def test_anonymous_login_with_a_large_body_is_refused_before_it_is_read(client):
    answer = client.post("/login", data={"username": "x" * BIG, "password": "y"})
    assert answer.status_code == 413


def test_a_small_form_still_works(client):
    page = client.get("/login")
    answer = client.post("/login", data={"username": "nobody", "password": "y", "csrf_token": csrf_token(page.text)})
    assert answer.status_code != 413


def test_json_api_bodies_are_small(client, runner, make_user):
    make_user("telecollector", username="tc.rina")
    headers = {"Authorization": f"Bearer {runner.invoke(args=['users', 'token', 'tc.rina']).output.strip()}"}
    answer = client.post(
        "/api/v1/queue/claim", data=b"{" + b" " * BIG + b"}", content_type="application/json", headers=headers
    )
    assert answer.status_code == 413
    # Without credentials the API answers 401 before reading any body.
    assert client.post("/api/v1/queue/claim", data=b"{" + b" " * BIG + b"}").status_code == 401


@pytest.mark.parametrize("role", [None, "telecollector", "cadre"])
def test_the_upload_limit_is_only_for_users_allowed_to_import(client, login, make_user, role):
    if role:
        login(make_user(role))
    answer = post_multipart(client, "/participants/import", {}, b"x" * BIG)
    assert answer.status_code == 413


def _participants_file() -> bytes:
    return csv_bytes([row(card_no=f"{n:013d}", address="x" * 400) for n in range(1, 2600)])


def _payments_file() -> bytes:
    lines = ["card_no,amount,paid_on,reference"] + [f"{n:013d},35000,2026-11-02,REF-{n:040d}" for n in range(1, 20000)]
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    ("path", "make_file"), [("/participants/import", _participants_file), ("/payments/import", _payments_file)]
)
def test_a_supervisor_may_upload_a_large_file(client, login, make_user, path, make_file):
    login(make_user("supervisor"))
    page = client.get(path)
    data = make_file()
    assert len(data) > BIG
    answer = post_multipart(client, path, {"csrf_token": csrf_token(page.text), "dry_run": "1"}, data)
    assert answer.status_code in (200, 422)  # read and judged row by row, not refused for its size


def test_a_large_body_elsewhere_is_refused_even_for_an_admin(client, login, make_user):
    login(make_user("admin"))
    page = client.get("/participants/import")
    answer = client.post("/logout", data={"csrf_token": csrf_token(page.text), "pad": "x" * BIG})
    assert answer.status_code == 413
