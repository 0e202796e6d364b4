"""How message kinds, delivery statuses and replies are named on screen (the codes stay in data and CSV)."""

from flask_babel import lazy_gettext as _l

from telecollect.messaging.events import parse
from telecollect.messaging.models import TWILIO_STATUS

KIND_LABELS = {
    "due_reminder": _l("Due-date reminder"),
    "promise_reminder": _l("Promise reminder"),
    "promise_broken": _l("Missed promise"),
    "installment_reminder": _l("Installment reminder"),
    "autodebit_prompt": _l("Autodebit invitation"),
    "pre_call": _l("Notice before a call"),
    "info_reply": _l("Reply with arrears"),
    "agent_reply": _l("Telecollector's reply"),
}
STATUS_LABELS = {
    "queued": _l("waiting to be sent"),
    "sending": _l("being sent"),
    "held": _l("kept in the outbox (not sent)"),
    "accepted": _l("accepted by the provider"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "read": _l("read"),
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


#: How each history line reads (telecollect.messaging.events); a kind's code is shown as its label.
EVENT_TEXTS = {
    "created": _l("created: %(kind)s"),
    "attempt": _l("handed to the provider (attempt %(ref)s)"),
    "held": _l("kept in the outbox: this installation sends no SMS (SMS_BACKEND=outbox)"),
    "provider_status": _l("the provider answered: %(status)s (%(sid)s)"),
    "no_answer": _l("the provider did not answer (%(error)s): its list is checked before anything is resent"),
    "list_unreadable": _l("the provider's list could not be read (%(error)s): asked again later"),
    "list_unreadable_give_up": _l("the provider's list could not be read for a day (%(error)s): a supervisor decides"),
    "reconciled_found": _l("found in the provider's list: %(status)s (%(sid)s)"),
    "reconciled_several_fit": _l("%(count)s messages in the provider's list fit (%(sids)s): a supervisor decides"),
    "reconciled_others_since": _l(
        "%(count)s other messages of ours reached this number since (%(sids)s): a supervisor decides"
    ),
    "reconciled_absent": _l("not in the provider's list: it never left, so it is sent now"),
    "opted_out": _l("not sent: the number opted out of SMS"),
    "number_invalid": _l("not sent: the number is marked invalid"),
    "waits": _l("waits: %(reason)s"),
    "retry_http": _l("the provider refused for now (HTTP %(status)s, code %(code)s): tried again later"),
    "failed_http": _l("the provider refused it (HTTP %(status)s, code %(code)s): %(message)s"),
    "callback_attempt": _l("the provider's report names this attempt (%(ref)s): %(sid)s"),
    "callback_status": _l("the provider reports: %(status)s"),
    "marked_sent": _l("marked as sent by %(by)s"),
    "send_again": _l("to be sent again, decided by %(by)s"),
    "whatsapp_opted_out": _l("not sent: the number opted out of WhatsApp"),
    "no_whatsapp_opt_in": _l("not sent by WhatsApp: the number never agreed to WhatsApp messages"),
    "no_content_sid": _l("not sent by WhatsApp: this kind has no approved template (Content SID)"),
    "needs_template": _l(
        "WhatsApp refused free text outside the 24 hours after the participant's last message: "
        "send an approved template"
    ),
    "fallback_sms": _l("an SMS goes instead (message %(id)s): %(why)s"),
}


def event_text(stored: str | None) -> str:
    """One history line in the reader's language; an old free-text line as it was written."""
    parsed = parse(stored)
    if parsed is None:
        return kind_label(stored) if stored else ""
    code, params = parsed
    sentence = EVENT_TEXTS.get(code)
    if sentence is None:
        return code
    if "kind" in params:
        params["kind"] = kind_label(params["kind"])
    if "status" in params:  # the provider's status, in our words
        params["status"] = status_label(TWILIO_STATUS.get(params["status"], params["status"]))
    text = str(sentence) % params if params else str(sentence)
    if code == "callback_status" and params.get("error"):
        text += f" ({params['error']})"
    return text
