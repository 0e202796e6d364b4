"""The audit log's actions in words (the codes stay in the log; people read these)."""

from flask_babel import lazy_gettext as _l

#: Each action code the app writes, in words; `action_label` also reads the suffixed import codes.
ACTION_LABELS = {
    "login": _l("signed in"),
    "login_failed": _l("failed sign-in"),
    "login_throttled": _l("sign-in blocked (too many failures)"),
    "logout": _l("signed out"),
    "participant.view": _l("opened a participant"),
    "participant.search": _l("searched participants"),
    "participant.update": _l("changed a participant"),
    "work_item.view": _l("opened a call screen"),
    "cadre_list.view": _l("opened a cadre list"),
    "contact.outside_policy": _l("contact outside the calling rules"),
    "contact_settings.update": _l("changed the calling rules"),
    "phone_of": _l("recorded a phone number"),
    "messaging.message": _l("opened an SMS"),
    "sms.mark_sent": _l("SMS marked as sent"),
    "sms.send_again": _l("SMS sent again"),
    "queue.assign": _l("assigned families"),
    "queue.unassign": _l("sent families back to the pool"),
    "queue.undo": _l("undid an assignment"),
    "user.create": _l("created an account"),
    "user.update": _l("changed an account"),
    "token.issue": _l("issued an app token"),
    "token.revoke": _l("revoked an app token"),
    "retention.purge": _l("deleted old records"),
    "import.participants": _l("imported participants"),
    "import.payments": _l("imported payments"),
    "letter.issue": _l("issued a letter of assignment"),
    "contact_settings.revert": _l("set a branch's calling rules back to the installation's"),
    "template.update": _l("changed a message template"),
    "template.revert": _l("set a branch's message template back to the installation's"),
    "reminder_settings.update": _l("changed a reminder's settings"),
    "reminder_settings.revert": _l("set a branch's reminder settings back to the installation's"),
    "whatsapp_content.update": _l("changed a WhatsApp template"),
    "whatsapp_content.revert": _l("set a branch's WhatsApp template back to the installation's"),
    "holiday.save": _l("saved a holiday"),
    "holiday.delete": _l("removed a holiday"),
}
#: The ending of an import that changed nothing (`import.<kind>.<status>`).
IMPORT_ENDINGS = {
    "dry_run": _l("trial run, nothing written"),
    "rejected": _l("refused, nothing written"),
    "running": _l("stopped, nothing written"),
}


def action_label(code: str) -> str:
    """The action in words; a code this list does not know yet is shown as itself."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    base, _, ending = code.rpartition(".")
    if base in ACTION_LABELS:
        return f"{ACTION_LABELS[base]} ({IMPORT_ENDINGS.get(ending, ending)})"
    return code
