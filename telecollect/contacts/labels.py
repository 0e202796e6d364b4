"""How outcomes and channels are named on screen."""

from flask_babel import lazy_gettext as _l

OUTCOME_LABELS = {
    "no_answer": _l("No answer"),
    "busy": _l("Busy"),
    "unreachable": _l("Unreachable / off"),
    "wrong_number": _l("Wrong number"),
    "wrong_party": _l("Someone else answered"),
    "callback_requested": _l("Asked to be called back"),
    "promise_to_pay": _l("Promised to pay"),
    "already_paid": _l("Already paid"),
    "refused": _l("Refused"),
    "cannot_pay": _l("Cannot pay"),
    "interested_rehab": _l("Interested in REHAB"),
    "interested_autodebit": _l("Interested in autodebit"),
    "moved": _l("Moved away"),
    "deceased": _l("Deceased"),
    "not_at_home": _l("Not at home"),
    "whatsapp_sent": _l("WhatsApp sent, no reply yet"),
    "visited_explained": _l("Visited and explained"),
    "do_not_contact": _l("Does not want to be contacted"),
}
CHANNEL_LABELS = {
    "phone": _l("Phone"),
    "whatsapp": "WhatsApp",
    "visit": _l("Visit"),
    "sms": "SMS",
    "cadre_whatsapp": _l("WhatsApp from staff phones"),
}
CONSENT_LABELS = {"opted_in": _l("Agreed"), "opted_out": _l("Does not want to be contacted")}
CONSENT_SOURCE_LABELS = {
    "keyword": _l("Keyword from the participant"),
    "twilio": "Twilio",
    "outcome": _l("Recorded outcome"),
    "cadre": _l("Cadre's report"),
    "supervisor": _l("Supervisor"),
    "import": _l("Import file"),
    "inbound": _l("Message from the participant"),
    "migrated": _l("Earlier opt-out"),
}


def outcome_label(code: str) -> str:
    return OUTCOME_LABELS.get(code, code)


def channel_label(channel) -> str:
    value = getattr(channel, "value", channel)
    return CHANNEL_LABELS.get(value, value)
