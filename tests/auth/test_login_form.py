"""An empty or half-filled sign-in form says what is missing (issue 13, D25)."""

import pytest

from tests.conftest import csrf_token


@pytest.mark.parametrize(
    ("username", "password", "said"),
    [
        ("", "", "Enter your username and password."),
        ("", "rahasia", "Enter your username."),
        ("rina", "", "Enter your password."),
    ],
)
def test_a_missing_field_is_named(client, username, password, said):
    token = csrf_token(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert 'data-testid="login-error"' in answer.text
    message = answer.text.split('data-testid="login-error"')[1].split("</p>")[0]
    assert message.strip(">\n ") != ""
    assert said in message or "Masukkan" in message  # English until the catalogs merge, then Indonesian
    assert 'aria-invalid="true"' in answer.text
