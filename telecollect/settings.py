"""Settings: defaults read from environment variables, and where the app's files live.

Every setting is listed in the README. After these defaults `create_app` reads an
optional local override file (`local_config_file`), then its `overrides` dict
(the tests pass one). Nothing here imports the top-level `config.py`.

The app runs from a checkout (`telecollect/` beside `templates/`, `static/`,
`migrations/`) or installed as a package, whose wheel carries copies of those
folders in `telecollect/_bundle/` (see pyproject.toml). `resource_dir` decides.
"""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app

from telecollect.accounts import DEFAULT_PREFIX, VaPrefix, parse_prefixes
from telecollect.phones import InvalidPhone, normalize_mobile

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where an installed wheel keeps templates/, static/ and migrations/.
BUNDLE = "_bundle"


def is_installed(package_dir: Path = PACKAGE_DIR) -> bool:
    """True when running from an installed wheel (it has the bundle), False in a checkout."""
    return (package_dir / BUNDLE).is_dir()


def resource_dir(name: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """The folder `name` (templates, static or migrations): the wheel's bundled copy when installed,
    else the checkout's top-level folder beside the package.

    The bundle is looked for first: an installed package's parent is site-packages, where an unrelated
    distribution may have left a top-level `migrations/`.
    """
    return package_dir / BUNDLE / name if is_installed(package_dir) else package_dir.parent / name


def instance_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """`INSTANCE_PATH` when set; else `instance/` at the checkout's root, or in the current
    directory when installed (site-packages is no place for a database)."""
    if os.environ.get("INSTANCE_PATH"):
        return Path(os.environ["INSTANCE_PATH"]).resolve()
    if is_installed(package_dir):
        return Path.cwd() / "instance"
    return package_dir.parent / "instance"


def local_config_file(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The optional override file: `TELECOLLECT_CONFIG` when set (it must exist), else the
    checkout's top-level `config.py` if there is one; an installed package reads only the former."""
    named = os.environ.get("TELECOLLECT_CONFIG")
    if named:
        path = Path(named).resolve()
        if not path.is_file():
            raise RuntimeError(f"TELECOLLECT_CONFIG names {named}, which is not a file")
        return path
    if is_installed(package_dir):
        return None
    checkout_config = package_dir.parent / "config.py"
    return checkout_config if checkout_config.is_file() else None


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


#: The key this project once published as its default: never accepted outside debug and tests.
PUBLISHED_SECRET_KEYS = frozenset({"dev-only-change-me"})
#: Where `make run` keeps a generated key, in the instance folder (read when SECRET_KEY is unset).
SECRET_KEY_FILE = "secret_key"


def secret_key(instance_path: Path) -> str:
    """`SECRET_KEY` from the environment, else the key `make run` keeps in `instance/secret_key`, else ""."""
    from_env = os.environ.get("SECRET_KEY", "").strip()
    if from_env:
        return from_env
    kept = instance_path / SECRET_KEY_FILE
    return kept.read_text().strip() if kept.is_file() else ""


def check_secret_key(config: Mapping[str, Any], *, serving: bool = True) -> str:
    """The key to sign with. An app that serves requests refuses to start with no key or a published one
    (anyone could sign an admin's session cookie) unless it runs in debug or tests. Where a missing key
    cannot matter it becomes a random one for this process: in debug and tests (sessions end when it stops),
    and in a command that serves nothing (`flask db upgrade`, `flask import …`: they sign no cookie)."""
    key = config.get("SECRET_KEY") or ""
    if config.get("DEBUG") or config.get("TESTING"):
        return key or secrets.token_hex(32)
    if not serving and (not key or key in PUBLISHED_SECRET_KEYS):
        return secrets.token_hex(32)
    if not key or key in PUBLISHED_SECRET_KEYS:
        raise RuntimeError(
            "SECRET_KEY is not set (or is the published default): set the SECRET_KEY environment variable to a "
            "long random value (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`), or put one in "
            f"the instance folder's `{SECRET_KEY_FILE}` file (`make run` makes one)."
        )
    return key


def load_config(instance_path: Path | None = None) -> dict:
    """Build the settings dict from the environment at app creation (not import) time.

    The default SQLite database lives in `instance_path` (default: `instance_dir()`)."""
    instance_path = instance_dir() if instance_path is None else instance_path
    public_base_url = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{instance_path / 'telecollect.db'}"),
        "PUBLIC_BASE_URL": public_base_url,
        # Cookies travel only over HTTPS when the app is published over HTTPS.
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", public_base_url.startswith("https://")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int("SESSION_HOURS", 12) * 3600,
        # A CSRF token must outlive a working day, or a form left open over
        # lunch loses the outcome typed into it.
        "WTF_CSRF_TIME_LIMIT": _int("CSRF_HOURS", 14) * 3600,
        # CSRF is enforced by our own before_request hook (see security.py),
        # so that bearer-token API calls can be told apart from browser posts.
        "WTF_CSRF_CHECK_DEFAULT": False,
        #: Reverse proxies in front of the app whose X-Forwarded-For and -Proto are believed (0: none). With
        #: one (nginx), the sign-in limits see the client's address, and https is known (HSTS, secure cookies).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15),
        #: Failed sign-ins from one address (any usernames) per LOGIN_LOCKOUT_MINUTES: an office shares one.
        "LOGIN_MAX_FAILURES_PER_IP": _int("LOGIN_MAX_FAILURES_PER_IP", 50),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "id"),
        "BABEL_TRANSLATION_DIRECTORIES": str(PACKAGE_DIR / "translations"),
        "LANGUAGES": ["id", "en"],
        #: Time zone of staff who have not chosen one: WIB, WITA or WIT.
        "BRANCH_TIMEZONE": os.environ.get("BRANCH_TIMEZONE", "WIB"),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 200) * 1024 * 1024,
        "IMPORT_BATCH_SIZE": _int("IMPORT_BATCH_SIZE", 2000),
        #: SQLite page cache while an import writes (see db.bulk_write_cache).
        "IMPORT_SQLITE_CACHE_MB": _int("IMPORT_SQLITE_CACHE_MB", 64),
        #: How far an uploaded .xlsx may unpack before it is refused unopened (a zip bomb).
        "IMPORT_XLSX_MAX_UNZIPPED_MB": _int("IMPORT_XLSX_MAX_UNZIPPED_MB", 1024),
        "PAGE_SIZE": _int("PAGE_SIZE", 50),
        # Retention of personal data, in days (UU PDP 27/2022; SECURITY.md): `flask retention purge` and the
        # scheduler's daily job erase or delete what is older.
        "RETENTION_CONTACT_NOTES_DAYS": _int("RETENTION_CONTACT_NOTES_DAYS", 365),
        "RETENTION_SMS_DAYS": _int("RETENTION_SMS_DAYS", 180),
        "RETENTION_AUDIT_DAYS": _int("RETENTION_AUDIT_DAYS", 730),
        "RETENTION_LOGIN_ATTEMPTS_DAYS": _int("RETENTION_LOGIN_ATTEMPTS_DAYS", 90),
        "RETENTION_IMPORT_REJECTS_DAYS": _int("RETENTION_IMPORT_REJECTS_DAYS", 30),
        "RETENTION_THROTTLE_DAYS": _int("RETENTION_THROTTLE_DAYS", 2),
        "RETENTION_WHATSAPP_MEDIA_DAYS": _int("RETENTION_WHATSAPP_MEDIA_DAYS", 30),
        # Contact policy (telecollect.policy.rules): local time of the participant.
        "CALLING_HOURS": os.environ.get("CALLING_HOURS", "08:00-20:00"),
        "CALLING_DAYS": os.environ.get("CALLING_DAYS", "mon-sat"),
        "MAX_ATTEMPTS_PER_DAY": _int("MAX_ATTEMPTS_PER_DAY", 3),
        "MAX_ATTEMPTS_PER_WEEK": _int("MAX_ATTEMPTS_PER_WEEK", 7),
        #: Whether cuti bersama (collective leave days) close contact like national holidays.
        "CUTI_BERSAMA_BLOCKS_CONTACT": _bool("CUTI_BERSAMA_BLOCKS_CONTACT", True),
        #: Per-outcome waits before the next attempt, e.g. "no_answer=2h,busy=30m".
        "RETRY_DELAYS": os.environ.get("RETRY_DELAYS", ""),
        "QUEUE_LEASE_MINUTES": _int("QUEUE_LEASE_MINUTES", 15),
        "DAILY_CALL_TARGET": _int("DAILY_CALL_TARGET", 100),
        # Payments, promises and programs (telecollect.payments, telecollect.programs).
        "PROMISE_GRACE_DAYS": _int("PROMISE_GRACE_DAYS", 3),
        "ATTRIBUTION_DAYS": _int("ATTRIBUTION_DAYS", 30),
        "INSTALLMENT_DUE_DAY": _int("INSTALLMENT_DUE_DAY", 10),
        #: Virtual account prefixes (telecollect.participants.accounts): "88888" or "88888,Mandiri=89888".
        "VA_PREFIXES": os.environ.get("VA_PREFIXES", "88888"),
        #: The branch's WhatsApp number that SMS name for questions and stopping (SMS to Indonesia is one-way);
        #: empty: they name Care Center 165.
        "BRANCH_WHATSAPP_NUMBER": os.environ.get("BRANCH_WHATSAPP_NUMBER", ""),
        #: Families a cadre may open WhatsApp for in a day before her app warns (WhatsApp caps a personal
        #: number's messages to people who do not reply): a soft limit, never a block.
        "CADRE_WHATSAPP_DAILY_LIMIT": _int("CADRE_WHATSAPP_DAILY_LIMIT", 50),
        # SMS (telecollect.messaging): "outbox" keeps every message here; "twilio" sends them.
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "outbox"),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER", ""),
        #: Another API host (a staging or test server) instead of https://api.twilio.com.
        "TWILIO_API_BASE_URL": os.environ.get("TWILIO_API_BASE_URL", ""),
        "TWILIO_TIMEOUT_SECONDS": _int("TWILIO_TIMEOUT_SECONDS", 10),
        "SMS_BATCH_SIZE": _int("SMS_BATCH_SIZE", 100),
        # Telephony (telecollect.telephony): "none" keeps the desktop's tel: links; "twilio" places calls
        # through Twilio Voice (same account and API host as SMS).
        "VOICE_BACKEND": os.environ.get("VOICE_BACKEND", "none"),
        #: The number Twilio calls from (both legs): a Twilio number or a verified caller ID (the branch's line).
        "TWILIO_VOICE_CALLER_ID": os.environ.get("TWILIO_VOICE_CALLER_ID", ""),
        #: Seconds the participant's phone rings before the attempt is "no answer".
        "VOICE_DIAL_TIMEOUT": _int("VOICE_DIAL_TIMEOUT", 30),
        #: Record connected calls (a notice is played to the participant first); off by default.
        "RECORD_CALLS": _bool("RECORD_CALLS", False),
        #: Days after which recordings are deleted at Twilio (`flask calls purge-recordings`, the daily job).
        "RECORDING_DAYS": _int("RECORDING_DAYS", 30),
        # WhatsApp through Twilio (telecollect.messaging.whatsapp): the sender ("whatsapp:+62…"); empty: no
        # message goes by WhatsApp. With TWILIO_WHATSAPP_USE_MESSAGING_SERVICE=1 the messaging service sends
        # (its sender pool must hold the WhatsApp sender).
        "TWILIO_WHATSAPP_FROM": os.environ.get("TWILIO_WHATSAPP_FROM", ""),
        "TWILIO_WHATSAPP_USE_MESSAGING_SERVICE": os.environ.get("TWILIO_WHATSAPP_USE_MESSAGING_SERVICE", "") == "1",
        # Sending rates per sender, held across every dispatcher (a token bucket in the database): messages
        # per second (0: no limit), and the least seconds between two messages to one recipient (0: none).
        "SMS_RATE_PER_SECOND": _int("SMS_RATE_PER_SECOND", 10),
        "WHATSAPP_RATE_PER_SECOND": _int("WHATSAPP_RATE_PER_SECOND", 80),
        "SMS_PAIR_SECONDS": _int("SMS_PAIR_SECONDS", 0),
        "WHATSAPP_PAIR_SECONDS": _int("WHATSAPP_PAIR_SECONDS", 6),
        # A WhatsApp BERHENTI/STOP opts the number out of SMS too (and MULAI back in); 0: WhatsApp only.
        "WHATSAPP_STOP_ALSO_SMS": _bool("WHATSAPP_STOP_ALSO_SMS", True),
        # Supervisor reports (telecollect.reports).
        "CADRE_WEEKLY_TARGET": _int("CADRE_WEEKLY_TARGET", 10),
        "QUIET_DAYS": _int("QUIET_DAYS", 3),
        "BRANCH_NAME": os.environ.get("BRANCH_NAME", "BPJS Kesehatan Kantor Cabang Jakarta Utara"),
        "ASSIGNMENT_LETTER_DAYS": _int("ASSIGNMENT_LETTER_DAYS", 180),
        # Who signs the cadres' letters of assignment (name and title; a blank name leaves a line to sign).
        "LETTER_SIGNATORY_NAME": os.environ.get("LETTER_SIGNATORY_NAME", ""),
        "LETTER_SIGNATORY_TITLE": os.environ.get("LETTER_SIGNATORY_TITLE", "Kepala Bidang Penagihan dan Keuangan"),
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 30000),
        # Operations (telecollect.ops; README, "Deploying for many branches").
        #: "text" (`make run`) or "json": one JSON object per line, for a log shipper.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        #: The bearer token Prometheus sends to /metrics; unset, /metrics answers 404.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        #: A read replica the report pages and `flask report` read from; unset, they read the main database.
        "REPORTS_DATABASE_URL": os.environ.get("REPORTS_DATABASE_URL", ""),
        "REPORTS_WORK_MEM_MB": _int("REPORTS_WORK_MEM_MB", 128),
        #: HOST:PORT where `flask scheduler run` and `flask scheduler dispatch` serve their own metrics (jobs,
        #: leadership, sends) for Prometheus; empty: not served (with PROMETHEUS_MULTIPROC_DIR shared with
        #: the web workers of the same node, the web's /metrics carries them anyway).
        "SCHEDULER_METRICS_LISTEN": os.environ.get("SCHEDULER_METRICS_LISTEN", ""),
    }


@dataclass(frozen=True)
class Retention:
    """How many days each kind of personal data is kept before the purge erases it (SECURITY.md)."""

    #: Contact attempts' notes and dialled numbers (the attempt's outcome and time stay for reports and credit).
    contact_notes_days: int = 365
    #: Outgoing SMS (body, number, delivery events) once finished, and participants' replies.
    sms_days: int = 180
    #: Audit events (disclosures, sign-ins, changes).
    audit_days: int = 730
    #: Sign-in attempts (username, IP).
    login_attempts_days: int = 90
    #: Rows an import rejected, kept as they were for download.
    import_rejects_days: int = 30
    #: Throttle counters (keys hold IPs and usernames).
    throttle_days: int = 2
    #: Links to the photos and files participants send on WhatsApp (KTP, family card).
    whatsapp_media_days: int = 30

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 1 <= value <= 36_500:
                raise ValueError(f"RETENTION_{name.removesuffix('_days').upper()}_DAYS must be 1-36500, got {value}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Retention":
        defaults = cls()
        return cls(
            **{
                name: int(config.get(f"RETENTION_{name.removesuffix('_days').upper()}_DAYS", default))
                for name, default in vars(defaults).items()
            }
        )


@dataclass(frozen=True)
class Settings:
    """The installation's settings the domains use, built once in `create_app` from the configuration and
    passed explicitly from the edge (request, command, job) to the workflows and services that need them.

    A bad value stops the start. What a person edits at run time (calling hours, templates, reminder
    switches…) is not here: it lives in the database."""

    #: The branch's zone: its local day for settling, reports and imports ("WIB", "WITA" or "WIT").
    branch_timezone: str = "WIB"
    branch_name: str = ""
    #: Days after a promised date during which a payment still keeps the promise.
    promise_grace_days: int = 3
    #: Days before a payment during which the last contact that reached the family is credited with it.
    attribution_days: int = 30
    #: The day of the month a REHAB installment falls due.
    installment_due_day: int = 10
    import_batch_size: int = 2000
    import_sqlite_cache_mb: int = 64
    #: Days each kind of personal data is kept (SECURITY.md, "Retention"); the purge erases what is older.
    retention: Retention = field(default_factory=Retention)
    #: How far an uploaded .xlsx may unpack (its zip members together) before it is refused unopened.
    import_xlsx_max_unzipped_mb: int = 1024
    #: The virtual account prefixes reminders, the desktop and the cadre card name (the first is the main one).
    va_prefixes: tuple[VaPrefix, ...] = (VaPrefix(DEFAULT_PREFIX),)
    #: The branch's WhatsApp number (E.164) SMS name for questions and stopping; "" names Care Center 165.
    branch_whatsapp: str = ""
    #: Families a cadre opens WhatsApp for in her day before her app warns (a soft limit).
    cadre_whatsapp_daily_limit: int = 50
    #: A WhatsApp BERHENTI/STOP opts the number out of SMS too (and MULAI back in).
    whatsapp_stop_also_sms: bool = True

    def __post_init__(self) -> None:
        if self.branch_timezone not in ("WIB", "WITA", "WIT"):
            raise ValueError(f"BRANCH_TIMEZONE must be WIB, WITA or WIT, got {self.branch_timezone!r}")
        if not 1 <= self.installment_due_day <= 28:
            raise ValueError(f"INSTALLMENT_DUE_DAY must be 1-28, got {self.installment_due_day}")
        if self.promise_grace_days < 0 or self.attribution_days < 0:
            raise ValueError("PROMISE_GRACE_DAYS and ATTRIBUTION_DAYS must be 0 or more")
        if self.import_batch_size < 1 or self.import_sqlite_cache_mb < 1:
            raise ValueError("IMPORT_BATCH_SIZE and IMPORT_SQLITE_CACHE_MB must be above 0")
        if self.cadre_whatsapp_daily_limit < 1:
            raise ValueError(f"CADRE_WHATSAPP_DAILY_LIMIT must be 1 or more, got {self.cadre_whatsapp_daily_limit}")

    @property
    def import_xlsx_max_unzipped_bytes(self) -> int:
        return self.import_xlsx_max_unzipped_mb * 1024 * 1024

    @property
    def promise_grace(self) -> timedelta:
        return timedelta(days=self.promise_grace_days)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return cls(
            branch_timezone=config["BRANCH_TIMEZONE"],
            branch_name=config.get("BRANCH_NAME", ""),
            promise_grace_days=int(config["PROMISE_GRACE_DAYS"]),
            attribution_days=int(config["ATTRIBUTION_DAYS"]),
            installment_due_day=int(config["INSTALLMENT_DUE_DAY"]),
            import_batch_size=int(config["IMPORT_BATCH_SIZE"]),
            import_sqlite_cache_mb=int(config["IMPORT_SQLITE_CACHE_MB"]),
            retention=Retention.from_config(config),
            import_xlsx_max_unzipped_mb=int(config.get("IMPORT_XLSX_MAX_UNZIPPED_MB", 1024)),
            va_prefixes=parse_prefixes(config.get("VA_PREFIXES", DEFAULT_PREFIX)),
            branch_whatsapp=_whatsapp_number(config.get("BRANCH_WHATSAPP_NUMBER", "")),
            cadre_whatsapp_daily_limit=int(config.get("CADRE_WHATSAPP_DAILY_LIMIT", 50)),
            whatsapp_stop_also_sms=bool(config.get("WHATSAPP_STOP_ALSO_SMS", True)),
        )


def _whatsapp_number(written: str) -> str:
    """BRANCH_WHATSAPP_NUMBER in E.164, "" when unset; a number that is not an Indonesian mobile stops the start
    (every SMS would send people to it)."""
    if not str(written or "").strip():
        return ""
    try:
        return normalize_mobile(written)
    except InvalidPhone:
        raise ValueError(f"BRANCH_WHATSAPP_NUMBER {written!r} is not an Indonesian mobile number") from None


_SETTINGS_KEY = "telecollect.settings"


def register(app: Flask) -> None:
    """Build the settings once, at app creation."""
    app.extensions[_SETTINGS_KEY] = Settings.from_config(app.config)


def installation() -> Settings:
    """The running app's settings: for the edge (views, commands, jobs) to pass down."""
    return cast(Settings, current_app.extensions[_SETTINGS_KEY])
