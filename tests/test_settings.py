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
