"""`pip install .` gives a working app: a wheel of this checkout, installed elsewhere, migrates,
seeds and serves its pages in Bahasa Indonesia, with the checkout nowhere on the path."""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SERVE = r"""
import json, sys
from sqlalchemy import func, select
import telecollect
from telecollect import create_app
from telecollect.auth.models import User
from telecollect.extensions import db

app = create_app()
client = app.test_client()
login = client.get("/login")
css = client.get("/static/app.css")
with app.app_context():
    users = db.session.scalar(select(func.count(User.id)))
print(json.dumps({
    "file": telecollect.__file__, "path": sys.path, "status": login.status_code,
    "body": login.get_data(as_text=True), "css": css.status_code, "users": users,
    "templates": app.template_folder, "instance": app.instance_path,
}))
"""


@pytest.mark.packaging
def test_an_installed_wheel_migrates_seeds_and_serves(tmp_path):
    wheels, site, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    work.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", wheels, ROOT],
        check=True,
        capture_output=True,
        timeout=120,
    )
    [wheel] = wheels.glob("telecollect-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in (
        "telecollect/regions/kemendagri_cities.csv",
        "telecollect/_bundle/templates/auth/login.html",
        "telecollect/_bundle/static/app.css",
        "telecollect/_bundle/migrations/env.py",
        "telecollect/translations/id/LC_MESSAGES/messages.po",
        "telecollect/translations/id/LC_MESSAGES/messages.mo",
    ):
        assert expected in names
    assert not [
        n
        for n in names
        if n.split("/")[0] in ("tests", "bench", "tools", "config.py", "wsgi.py")
        or "__pycache__" in n
        or n.endswith(".pyc")
    ]
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "-q", "--target", site, wheel],
        check=True,
        capture_output=True,
        timeout=120,
    )

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "FLASK_APP", "TELECOLLECT_CONFIG", "INSTANCE_PATH", "DATABASE_URL"}
    }
    # The installed copy first; the dependencies from this interpreter's site-packages.
    env["PYTHONPATH"] = os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])
    env["DATABASE_URL"] = f"sqlite:///{work / 'telecollect.db'}"

    def run(*command):
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    script = site / "bin" / "telecollect"
    run(script, "db", "upgrade")
    assert "kader.dewi" in run(script, "demo", "seed", "--participants", "20", "--no-activity")
    served = json.loads(run(sys.executable, "-c", SERVE))

    assert Path(served["file"]).resolve().is_relative_to(site.resolve())
    assert not [entry for entry in served["path"] if entry and Path(entry).resolve() == ROOT]
    assert Path(served["templates"]).resolve().is_relative_to(site.resolve())
    assert served["status"] == 200 and "<h1>Masuk</h1>" in served["body"]
    assert served["css"] == 200
    assert served["users"] == 6
    assert Path(served["instance"]) == work / "instance"
