"""UX audit D25: an empty sign-in form came back with no message at all."""

from sqlalchemy import func, select

from telecollect.auth.models import LoginAttempt
from tests.conftest import csrf_token


def test_an_empty_sign_in_form_says_what_is_missing_and_counts_nothing(client, db):
    page = client.get("/login")
    answer = client.post("/login", data={"username": "", "password": "", "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 400
    assert 'class="flash error" role="alert"' in answer.text  # "Isi nama pengguna dan kata sandi Anda."
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_a_missing_password_is_refused_the_same_way(client, db, make_user):
    user = make_user("telecollector")
    page = client.get("/login")
    form = {"username": user.username, "password": "", "csrf_token": csrf_token(page.text)}
    answer = client.post("/login", data=form)
    assert answer.status_code == 400
    assert 'role="alert"' in answer.text
