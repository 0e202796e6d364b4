"""How message kinds, delivery statuses and replies are named on screen (the codes stay in data and CSV)."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "due_reminder": _l("Due-date reminder"),
    "promise_reminder": _l("Promise reminder"),
    "promise_broken": _l("Missed promise"),
    "installment_reminder": _l("Installment reminder"),
    "autodebit_prompt": _l("Autodebit invitation"),
    "pre_call": _l("Notice before a call"),
    "info_reply": _l("Reply with arrears"),
}
STATUS_LABELS = {
    "queued": _l("waiting to be sent"),
    "sending": _l("being sent"),
    "held": _l("kept in the outbox (not sent)"),
    "accepted": _l("accepted by the provider"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "undelivered": _l("not delivered"),
    "failed": _l("failed"),
    "canceled": _l("canceled"),
    "unknown": _l("outcome unknown: check"),
}
REPLY_LABELS = {"stop": _l("stop"), "start": _l("start again"), "info": _l("asked for info"), "other": _l("other text")}


def kind_label(kind) -> str:
    value = getattr(kind, "value", kind)
    return str(KIND_LABELS.get(value, value))


def status_label(status) -> str:
    value = getattr(status, "value", status)
    return str(STATUS_LABELS.get(value, value))


def reply_label(action: str) -> str:
    return str(REPLY_LABELS.get(action.lower(), action))
