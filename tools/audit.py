"""`make audit`: the locked dependencies against PyPI's vulnerability data, through pip-audit.

Usage: python tools/audit.py [--warn-if-unreachable] LOCK...

Exit 0: no known vulnerability in what the lock installs (or only ones acknowledged in
`audit-ignore.txt`, one `ID  reason` a line). Exit 1: a known vulnerability, listed with its
fixed versions: bump the pin (`make lock LOCK_ARGS="--upgrade-package NAME"`) or, when no fix
exists, acknowledge it in audit-ignore.txt with the reason it does not touch us. Exit 3: the
vulnerability service could not be reached (nothing was learned); with --warn-if-unreachable (CI)
that is a warning and exit 0. Exit 2: anything else (a lock pip-audit cannot read).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE_FILE = ROOT / "audit-ignore.txt"
#: What requests and urllib3 raise when a host cannot be reached (no network, DNS, proxy, TLS, timeout).
UNREACHABLE = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "SSLError",
    "Max retries exceeded",
    "NameResolutionError",
    "Temporary failure in name resolution",
    "Connection refused",
)


def acknowledged() -> dict[str, str]:
    """Vulnerability ids someone decided do not touch us, with the reason written beside each."""
    if not IGNORE_FILE.exists():
        return {}
    entries = {}
    for line in IGNORE_FILE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            vuln_id, _, reason = line.partition(" ")
            entries[vuln_id] = reason.strip()
    return entries


def audit(lock: str, ignored: dict[str, str]) -> tuple[int, str]:
    """Run pip-audit on one lock; (exit status, what to print)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--require-hashes"]
        command += ["--disable-pip", "-r", lock, "-f", "json", "-o", str(report)]
        for vuln_id in ignored:
            command += ["--ignore-vuln", vuln_id]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if not report.exists():
            return failure(lock, done.stderr + done.stdout)
        return verdict(lock, json.loads(report.read_text()), len(ignored))


def failure(lock: str, output: str) -> tuple[int, str]:
    """pip-audit wrote no report: the service was unreachable (3), or something else went wrong (2)."""
    if any(word in output for word in UNREACHABLE):
        last = output.strip().splitlines()[-1] if output.strip() else ""
        return 3, f"the vulnerability service could not be reached: {last[:300]}"
    return 2, f"pip-audit failed on {lock}:\n{output}"


def verdict(lock: str, report: dict, acknowledged_count: int = 0) -> tuple[int, str]:
    """What pip-audit's JSON report says: known vulnerabilities (1), nothing could be checked (3: the
    service answered for no package, as when it is not reachable), or clean (0; packages it could not
    check are named as a warning)."""
    packages = report["dependencies"]
    skipped = [d for d in packages if d.get("skip_reason")]
    lines = [
        f"  {d['name']} {d['version']}: {v['id']}"
        + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else " (no fixed version yet)")
        + (f" [{', '.join(v['aliases'])}]" if v.get("aliases") else "")
        for d in packages
        for v in d.get("vulns") or []
    ]
    if lines:
        return 1, f"KNOWN VULNERABILITIES in {lock} ({len(packages) - len(skipped)} packages checked):\n" + "\n".join(
            lines
        )
    if packages and len(skipped) == len(packages):
        return (
            3,
            f"no vulnerability data for any of the {len(packages)} packages in {lock} ({skipped[0]['skip_reason']})",
        )
    message = f"{lock}: {len(packages) - len(skipped)} packages checked, no known vulnerability"
    if acknowledged_count:
        message += f" ({acknowledged_count} acknowledged in audit-ignore.txt)"
    if skipped:
        message += f"\nWARNING: {len(skipped)} not checked: " + ", ".join(d["name"] for d in skipped)
    return 0, message


def main(argv: list[str]) -> int:
    warn_only = "--warn-if-unreachable" in argv
    locks = [a for a in argv if not a.startswith("--")]
    ignored = acknowledged()
    statuses = set()
    for lock in locks:
        status, message = audit(lock, ignored)
        if status == 3 and warn_only:
            print(f"WARNING: dependency audit skipped: {message}", file=sys.stderr)
            continue
        print(message, file=sys.stderr if status else sys.stdout)
        statuses.add(status)
    # A vulnerability found outweighs a lock that could not be read, which outweighs an unreachable service.
    return next((s for s in (1, 2, 3) if s in statuses), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
