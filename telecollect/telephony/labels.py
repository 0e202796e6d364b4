"""Words for a call's result and an agent's state, as supervisors read them."""

from flask_babel import lazy_gettext as _l

#: What a call came to: the participant's leg (DialCallStatus), else the agent's leg, else the call's status.
RESULT_LABELS = {
    "completed": _l("connected"),
    "busy": _l("busy"),
    "no-answer": _l("no answer"),
    "failed": _l("failed"),
    "canceled": _l("cancelled"),
    "requested": _l("being placed"),
    "placed": _l("ringing the agent"),
    "agent_answered": _l("agent answered"),
    "dialling": _l("dialling the participant"),
    "ended": _l("ended"),
}


def result_label(call) -> str:
    """The call's result in words: the participant's leg when it was dialled, else the agent's leg."""
    if call.dial_status:
        return str(RESULT_LABELS.get(call.dial_status, call.dial_status))
    if call.agent_leg_status and call.agent_leg_status != "completed":
        return str(_l("agent: %(result)s", result=RESULT_LABELS.get(call.agent_leg_status, call.agent_leg_status)))
    if call.status.value == "failed":
        return str(_l("not placed"))
    return str(RESULT_LABELS.get(call.status.value, call.status.value))


STATE_LABELS = {
    "ready": _l("Ready"),
    "on_call": _l("On a call"),
    "wrap_up": _l("Wrapping up"),
    "paused": _l("Paused"),
    None: _l("Not started"),
}


def state_label(state) -> str:
    return str(STATE_LABELS.get(getattr(state, "value", state), state))
