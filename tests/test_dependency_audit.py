"""`make audit` (tools/audit.py): what pip-audit's report means for CI. A known vulnerability fails with
its package, id and fixed versions; a service that answered for no package is "unreachable" (CI warns);
packages it could not check are named. The locks pin every package with hashes."""

import re
from pathlib import Path

from tools.audit import failure, verdict

ROOT = Path(__file__).resolve().parents[1]


def test_a_known_vulnerability_fails_and_says_what_to_upgrade():
    report = {
        "dependencies": [
            {"name": "flask", "version": "3.1.3", "vulns": []},
            {
                "name": "urllib3",
                "version": "1.26.5",
                "vulns": [
                    {"id": "PYSEC-2023-192", "fix_versions": ["1.26.17", "2.0.6"], "aliases": ["CVE-2023-43804"]}
                ],
            },
        ]
    }
    status, message = verdict("requirements-dev.lock", report)
    assert status == 1
    assert "urllib3 1.26.5: PYSEC-2023-192 (fixed in 1.26.17, 2.0.6) [CVE-2023-43804]" in message


def test_no_data_for_any_package_is_unreachable_and_a_clean_report_passes():
    skipped = {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"}
    assert verdict("x.lock", {"dependencies": [skipped, {**skipped, "name": "twilio"}]})[0] == 3
    status, message = verdict(
        "x.lock", {"dependencies": [{"name": "twilio", "version": "9.13.0", "vulns": []}, skipped]}
    )
    assert status == 0 and "1 packages checked" in message and "WARNING: 1 not checked: flask" in message


def test_a_network_failure_is_unreachable_anything_else_is_an_error():
    refused = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org'): Max retries exceeded"
    assert failure("x.lock", refused)[0] == 3
    assert failure("x.lock", "pip_audit: error: invalid requirement 'flask=='")[0] == 2


def test_every_locked_package_is_pinned_with_a_hash():
    for name in ("requirements.lock", "requirements-dev.lock"):
        entries = [e for e in (ROOT / name).read_text().split("\n") if e and not e.startswith((" ", "#"))]
        assert entries and all("==" in e and e.rstrip().endswith("\\") for e in entries), name
    runtime = {e.split(" ")[0] for e in (ROOT / "requirements.lock").read_text().split("\n") if "==" in e}
    dev = {e.split(" ")[0] for e in (ROOT / "requirements-dev.lock").read_text().split("\n") if "==" in e}
    assert runtime <= dev  # the dev lock installs the runtime pins, the same versions


def test_every_pin_asked_for_is_the_one_locked():
    """Editing requirements*.txt without `make lock` would install the old pins silently: this fails instead."""

    def pins(name: str) -> dict[str, str]:
        found = {}
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
            if "==" in line:
                package, version = line.split("==")
                found[re.sub(r"[-_.]+", "-", package.split("[")[0]).lower()] = version.strip()
        return found

    for asked, locked in (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")):
        wanted, have = pins(asked), pins(locked)
        assert {p: v for p, v in wanted.items() if have.get(p) != v} == {}, f"run `make lock` ({asked})"
