"""Security headers on every answer; no-store on what a signed-in user or the API receives."""

from pathlib import Path

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent


def test_pages_carry_csp_frame_nosniff_and_referrer_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(client):
    response = client.get("/login", base_url="https://telecollect.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_signed_in_pages_and_the_api_are_not_stored(client, login, make_user):
    login(make_user("telecollector"))
    assert client.get("/participants").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    with client.get("/static/app.css") as css:
        assert "no-store" not in css.headers.get("Cache-Control", "")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/participants").text)})
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_script_or_handler():
    """The policy forbids inline scripts: a template with one would break in the browser."""
    import re

    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        inline = [m for m in re.findall(r"<script([^>]*)>", text) if "src=" not in m and "application/json" not in m]
        assert not inline, template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "style=" not in text and "<style" not in text, template
