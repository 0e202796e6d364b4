"""Configuration, read from environment variables with documented defaults.

Every setting is listed in the README. `create_app(overrides)` may replace any
of them (the tests do).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def load_config() -> dict:
    """Build the settings dict from the environment at app creation (not import) time."""
    public_base_url = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'telecollect.db'}"
        ),
        "PUBLIC_BASE_URL": public_base_url,
        # Cookies travel only over HTTPS when the app is published over HTTPS.
        "SESSION_COOKIE_SECURE": _bool(
            "SESSION_COOKIE_SECURE", public_base_url.startswith("https://")
        ),
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
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCKOUT_MINUTES": _int("LOGIN_LOCKOUT_MINUTES", 15),
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "id"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "telecollect" / "translations"),
        "LANGUAGES": ["id", "en"],
        #: Time zone of staff who have not chosen one: WIB, WITA or WIT.
        "BRANCH_TIMEZONE": os.environ.get("BRANCH_TIMEZONE", "WIB"),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 200) * 1024 * 1024,
        "IMPORT_BATCH_SIZE": _int("IMPORT_BATCH_SIZE", 2000),
        #: SQLite page cache while an import writes (see db.bulk_write_cache).
        "IMPORT_SQLITE_CACHE_MB": _int("IMPORT_SQLITE_CACHE_MB", 64),
        "PAGE_SIZE": _int("PAGE_SIZE", 50),
        # Contact policy (telecollect.queues.policy): local time of the participant.
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
        # Supervisor reports (telecollect.reports).
        "CADRE_WEEKLY_TARGET": _int("CADRE_WEEKLY_TARGET", 10),
        "QUIET_DAYS": _int("QUIET_DAYS", 3),
        "BRANCH_NAME": os.environ.get("BRANCH_NAME", "BPJS Kesehatan Kantor Cabang Jakarta Utara"),
        "ASSIGNMENT_LETTER_DAYS": _int("ASSIGNMENT_LETTER_DAYS", 180),
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 30000),
    }
