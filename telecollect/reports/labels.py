"""How report figures and groupings are named on screen."""

from flask_babel import lazy_gettext as _l

METRIC_LABELS = {
    "families_assigned": _l("Families assigned"),
    "arrears_assigned": _l("Arrears assigned"),
    "families_attempted": _l("Families attempted"),
    "attempts": _l("Attempts"),
    "contacts": _l("Contacts"),
    "rpc": _l("Right-party contacts"),
    "promises": _l("Promises"),
    "promised_amount": _l("Promised (Rp)"),
    "promises_due": _l("Promises due"),
    "promises_kept": _l("Kept"),
    "promises_partly_kept": _l("Partly kept"),
    "promises_broken": _l("Broken"),
    "payments": _l("Payments credited"),
    "collected_amount": _l("Collected (Rp)"),
    "reactivated": _l("Reactivated"),
    "contact_rate": _l("Contact rate"),
    "rpc_rate": _l("RPC rate"),
    "ptp_rate": _l("PTP rate"),
    "kept_rate": _l("Kept rate"),
    "recovery_rate": _l("Recovery rate"),
    "attempts_per_family": _l("Attempts per family"),
    # issue 15: calls placed through the system (durations in seconds in the downloads)
    "dials": _l("Dials"),
    "connects": _l("Connects"),
    "talk_seconds": _l("Talk time (s)"),
    "avg_handle_seconds": _l("Average handle time (s)"),
    "wrap_up_seconds": _l("Wrap-up time (s)"),
    "wrap_ups": _l("Wrap-ups"),
}
#: The call figures' headings on the page, which shows durations as h:mm:ss (the downloads keep seconds).
CALL_PAGE_LABELS = {
    "dials": _l("Dials"),
    "connects": _l("Connects"),
    "talk_seconds": _l("Talk time"),
    "avg_handle_seconds": _l("Average handle time"),
    "wrap_up_seconds": _l("Wrap-up time"),
}
GROUP_LABELS = {
    "user": _l("person"),
    "kecamatan": _l("district (kecamatan)"),
    "kelurahan": _l("village (kelurahan)"),
    "day": _l("day"),
    "week": _l("week"),
    "month": _l("month"),
    "bucket": _l("months in arrears"),
    "branch": _l("branch"),
    "deputy": _l("regional deputy"),
}
PLAN_STATE_LABELS = {"active": _l("active"), "completed": _l("completed"), "broken": _l("broken off")}
INSTALLMENT_STATE_LABELS = {"pending": _l("not yet due"), "paid": _l("paid"), "missed": _l("missed")}
QUEUE_LABELS = {"telecollect": _l("call queue"), "cadre": _l("cadre lists")}


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def decimal(value, places: int = 1) -> str:
    """A fraction as Indonesians read it: 1,7 (a dot would read as a thousands separator: "1.663")."""
    if value is None:
        return "—"
    text = f"{value:,.{places}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
