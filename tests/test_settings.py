"""Where the app finds its files in a checkout and when installed, and how a local file overrides
the defaults."""

from pathlib import Path

import pytest

from telecollect import create_app
from telecollect.settings import instance_dir, local_config_file, resource_dir

ROOT = Path(__file__).resolve().parent.parent


def checkout(tmp_path) -> Path:
    package = tmp_path / "checkout" / "telecollect"
    package.mkdir(parents=True)
    return package


def installed(tmp_path) -> Path:
    package = tmp_path / "site-packages" / "telecollect"
    (package / "_bundle" / "templates").mkdir(parents=True)
    (package.parent / "migrations").mkdir()  # some other distribution's top-level folder
    return package


def test_a_checkout_uses_its_top_level_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("INSTANCE_PATH", raising=False)
    package = checkout(tmp_path)
    assert resource_dir("templates", package) == package.parent / "templates"
    assert resource_dir("migrations", package) == package.parent / "migrations"
    assert instance_dir(package) == package.parent / "instance"


def test_an_installed_package_uses_its_bundle_and_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("INSTANCE_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    package = installed(tmp_path)
    assert resource_dir("templates", package) == package / "_bundle" / "templates"
    assert resource_dir("migrations", package) == package / "_bundle" / "migrations"
    assert instance_dir(package) == tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "data"))
    assert instance_dir(package) == tmp_path / "data"


def test_this_checkout_serves_its_own_templates_and_migrations(app):
    assert Path(app.template_folder) == ROOT / "templates"
    assert Path(app.static_folder) == ROOT / "static"
    assert Path(app.extensions["migrate"].directory) == ROOT / "migrations"


def test_the_override_file_is_the_checkouts_config_py_or_the_named_one(tmp_path, monkeypatch):
    monkeypatch.delenv("TELECOLLECT_CONFIG", raising=False)
    package = checkout(tmp_path)
    assert local_config_file(package) is None
    (package.parent / "config.py").write_text("BRANCH_NAME = 'Cabang Uji'\n")
    assert local_config_file(package) == package.parent / "config.py"
    assert local_config_file(installed(tmp_path)) is None  # installed: never a stray config.py
    named = tmp_path / "elsewhere.py"
    named.write_text("")
    monkeypatch.setenv("TELECOLLECT_CONFIG", str(named))
    assert local_config_file(package) == named
    monkeypatch.setenv("TELECOLLECT_CONFIG", str(tmp_path / "missing.py"))
    with pytest.raises(RuntimeError, match=r"missing\.py"):
        local_config_file(package)


def test_the_override_file_beats_the_environment_and_loses_to_the_callers_overrides(tmp_path, monkeypatch):
    override = tmp_path / "local.py"
    override.write_text("BRANCH_NAME = 'Kantor Cabang Uji'\nPAGE_SIZE = 7\nlowercase = 'ignored'\n")
    monkeypatch.setenv("TELECOLLECT_CONFIG", str(override))
    monkeypatch.setenv("BRANCH_NAME", "from the environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "PAGE_SIZE": 9})
    assert app.config["BRANCH_NAME"] == "Kantor Cabang Uji"
    assert app.config["PAGE_SIZE"] == 9
    assert "lowercase" not in app.config


def _bare_app(tmp_path, **overrides):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", **overrides})


def test_without_a_secret_key_the_app_refuses_to_start_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _bare_app(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "dev-only-change-me")  # the default this project once published
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _bare_app(tmp_path)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _bare_app(tmp_path, SECRET_KEY="dev-only-change-me")


def test_debug_and_tests_start_without_a_key_and_make_runs_key_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    assert len(_bare_app(tmp_path, TESTING=True).secret_key) == 64  # a random key for this process
    assert _bare_app(tmp_path, DEBUG=True).secret_key != _bare_app(tmp_path, DEBUG=True).secret_key
    (tmp_path / "secret_key").write_text("a1b2c3d4e5f6" * 5 + "\n")
    assert _bare_app(tmp_path).secret_key == "a1b2c3d4e5f6" * 5
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-wins")
    assert _bare_app(tmp_path).secret_key == "from-the-environment-wins"


def test_behind_a_trusted_proxy_the_clients_address_and_https_are_seen(tmp_path):
    forwarded = {"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}

    def seen_by(app):
        seen = {}

        @app.route("/_who")
        def who():
            from flask import request

            seen.update(ip=request.remote_addr, secure=request.is_secure)
            return "ok"

        response = app.test_client().get("/_who", headers=forwarded)
        return seen, "Strict-Transport-Security" in response.headers

    assert seen_by(_bare_app(tmp_path, TESTING=True, TRUSTED_PROXIES=1)) == (
        {"ip": "203.0.113.5", "secure": True},
        True,
    )
    assert seen_by(_bare_app(tmp_path, TESTING=True)) == ({"ip": "127.0.0.1", "secure": False}, False)


def _flask(tmp_path, *args, timeout=120):
    """A `flask` command as a new user types it in a fresh checkout: no SECRET_KEY, a fresh SQLite database."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG", "TELECOLLECT_CONFIG")}
    env |= {"FLASK_APP": "wsgi.py", "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"}
    root = Path(__file__).resolve().parent.parent
    flask = [sys.executable, "-m", "flask", *args]
    return subprocess.run(flask, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def test_commands_that_serve_nothing_need_no_secret_key(tmp_path):
    """`flask db upgrade` and `flask db check` on a fresh checkout: they sign no cookie, so a missing key is no
    reason to refuse (it was, and a new database could not even be made)."""
    upgraded = _flask(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    checked = _flask(tmp_path, "db", "check")
    assert checked.returncode == 0 and "No new upgrade operations detected" in checked.stdout + checked.stderr
    assert not (tmp_path / "secret_key").exists()  # nothing kept: the random key lived for that command only


def test_flask_run_still_refuses_to_serve_without_a_secret_key(tmp_path):
    served = _flask(tmp_path, "run", "--port", "5987", timeout=60)
    assert served.returncode != 0 and "SECRET_KEY is not set" in served.stderr
