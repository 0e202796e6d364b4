"""Signing in, throttling, CSRF, roles, the audit log, tokens and the users CLI."""

from sqlalchemy import select

from telecollect.audit.models import AuditEvent
from telecollect.auth.models import User
from tests.conftest import PASSWORD, csrf_token


def actions(db):
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_each_role_lands_on_its_home_page(client, login, make_user):
    homes = {"admin": "/admin/users", "supervisor": "/reports/dashboard", "telecollector": "/queue", "cadre": "/cadre"}
    for role, path in homes.items():
        user = make_user(role)
        response = login(user)
        assert response.status_code == 302
        assert client.get("/").headers["Location"] == path
        client.post("/logout", data={"csrf_token": csrf_token(client.get(path).text)})


def test_wrong_password_is_refused_and_audited(client, login, make_user, db):
    user = make_user("telecollector")
    response = login(user, password="salah-sekali")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in response.text
    assert client.get("/participants").status_code == 302  # still signed out
    assert actions(db) == ["user.create", "login_failed"]


def test_repeated_failures_throttle_even_the_right_password(app, client, login, make_user, db):
    user = make_user("telecollector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(user, password="tebak-tebak")
    response = login(user)  # right password, but locked for now
    assert response.status_code == 401
    assert "Terlalu banyak percobaan gagal" in response.text
    assert actions(db)[-1] == "login_throttled"


def test_success_resets_the_failure_count(app, client, login, make_user):
    user = make_user("telecollector")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(user, password="tebak-tebak")
    assert login(user).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(user, password="tebak-tebak")
    assert login(user).status_code == 302


def test_deactivated_user_cannot_sign_in(client, login, make_user, db):
    user = make_user("cadre")
    user.is_active = False
    db.session.commit()
    assert login(user).status_code == 401


def test_forms_without_csrf_token_are_refused(client, make_user):
    user = make_user("admin")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_lax(client, login, make_user):
    response = login(make_user("admin"))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    user = make_user("admin")
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/"


def test_admin_pages_are_admin_only(client, login, make_user):
    login(make_user("supervisor"))
    assert client.get("/admin/users").status_code == 403


def test_admin_creates_a_cadre_with_areas_and_deactivates_a_user(client, login, make_user, db):
    from tests.helpers import csv_bytes, row, run_import

    run_import(db, csv_bytes([row()]))
    login(make_user("admin", username="boss"))
    page = client.get("/admin/users/new")
    assert "Kec. Koja" in page.text and "Kel. Tugu Utara" in page.text
    from telecollect.regions.models import District

    koja = db.session.scalar(select(District))
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "kader.ani",
            "name": "Ani",
            "role": "cadre",
            "password": "kata-sandi-1",
            "timezone": "WIB",
            "is_active": "y",
            "areas": [f"d:{koja.id}"],
        },
    )
    assert response.status_code == 302, response.text
    ani = db.session.scalar(select(User).where(User.username == "kader.ani"))
    assert [a.district_id for a in ani.areas] == [koja.id]

    page = client.get(f"/admin/users/{ani.id}")
    response = client.post(
        f"/admin/users/{ani.id}",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "kader.ani",
            "name": "Ani W.",
            "role": "cadre",
            "timezone": "WITA",
            "areas": [],
        },
    )  # is_active unticked
    assert response.status_code == 302
    db.session.expire_all()
    ani = db.session.get(User, ani.id)
    assert (ani.name, ani.is_active, ani.timezone, ani.areas) == ("Ani W.", False, "WITA", [])


def test_admin_form_shows_service_errors_on_the_field(client, login, make_user):
    login(make_user("admin", username="boss"))
    page = client.get("/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "boss",
            "name": "Dup",
            "role": "telecollector",
            "password": "kata-sandi-1",
            "timezone": "WIB",
            "is_active": "y",
        },
    )
    assert response.status_code == 200
    assert "Nama pengguna boss sudah digunakan." in response.text


def test_cli_creates_users_with_areas_and_stdin_password(runner, db):
    from tests.helpers import csv_bytes, row, run_import

    run_import(db, csv_bytes([row()]))
    result = runner.invoke(
        args=[
            "users",
            "create",
            "kader.siti",
            "--role",
            "cadre",
            "--name",
            "Siti",
            "--area",
            "Kel. Tugu Utara",
            "--password-stdin",
        ],
        input="kata-sandi-1\n",
    )
    assert result.exit_code == 0, result.output
    siti = db.session.scalar(select(User).where(User.username == "kader.siti"))
    assert siti.areas[0].village.name == "Tugu Utara"
    bad = runner.invoke(
        args=["users", "create", "x1y", "--role", "cadre", "--area", "Atlantis", "--password-stdin"],
        input="kata-sandi-1\n",
    )
    assert bad.exit_code == 1 and "Atlantis" in bad.output
    ambiguous = runner.invoke(
        args=["users", "create", "kader.b", "--role", "cadre", "--area", "Koja", "--password-stdin"],
        input="kata-sandi-1\n",
    )
    assert ambiguous.exit_code == 0, ambiguous.output  # only the kecamatan Koja exists here


def test_token_is_printed_once_stored_hashed_and_authenticates_the_api(runner, client, make_user, db):
    user = make_user("supervisor", username="kabid")
    result = runner.invoke(args=["users", "token", "kabid"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("tc_")
    from telecollect.auth.models import ApiToken

    assert token not in {t.token_hash for t in db.session.scalars(select(ApiToken))}
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json == {"username": "kabid", "name": user.name, "role": "supervisor"}
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer tc_wrong"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_admin_reads_the_audit_log_filtered_by_user(client, login, make_user, db):
    from tests.helpers import csv_bytes, row, run_import

    run_import(db, csv_bytes([row()]))
    reader = make_user("telecollector", username="tc.rina")
    login(reader)
    client.get("/participants/0001234567890")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    login(make_user("admin", username="boss"))
    page = client.get("/admin/audit?user=tc.rina")
    assert page.status_code == 200
    table = page.text.split('data-testid="audit"')[1]
    assert "participant.view" in table and 'href="/participants/0001234567890"' in table and "login" in table
    assert "boss" not in table
    assert client.get("/admin/audit?action=participant.view").text.count("participant.view") >= 1
