"""Agents' states in words."""

from flask_babel import lazy_gettext as _l

STATE_LABELS = {
    "ready": _l("Ready"),
    "on_call": _l("On a call"),
    "wrap_up": _l("Wrapping up"),
    "paused": _l("Paused"),
    None: _l("Not started"),
}


def state_label(state) -> str:
    return str(STATE_LABELS.get(getattr(state, "value", state), state))
