"""How roles are named on screen."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "telecollector": _l("Telecollector"),
    "cadre": _l("JKN-KIS cadre"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "regional_supervisor": _l("Regional supervisor (read-only)"),
    "national_viewer": _l("National viewer (read-only)"),
}
