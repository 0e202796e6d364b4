"""How payment channels are named on screen (the codes stay in data, files and CSV)."""

from flask_babel import lazy_gettext as _l

CHANNEL_LABELS = {
    "bank": _l("bank"),
    "atm": _l("ATM"),
    "minimarket": _l("minimarket"),
    "mobile_jkn": "Mobile JKN",
    "autodebit": _l("autodebit"),
    "post_office": _l("post office"),
    "branch": _l("branch office"),
    "other": _l("other channel"),
}


def payment_channel_label(channel) -> str:
    value = getattr(channel, "value", channel)
    return str(CHANNEL_LABELS.get(value, value))
