"""What the edge hands to the workflows, built once at app creation from the settings: the contact rules, the
retry delays, the claim lease and the SMS gateway (a bad value stops the start). Delivery code only: views,
commands and jobs read these and pass them down."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from telecollect.branches.stamping import acting_branch_or_none, own_or_installation
from telecollect.contacts.services import parse_retry_delays
from telecollect.db import read_once
from telecollect.extensions import db
from telecollect.messaging.gateways import gateway_from_config
from telecollect.policy.models import ContactSetting
from telecollect.policy.rules import ContactRules
from telecollect.policy.services import RULES_KEY
from telecollect.telephony.gateway import voice_from_config

_KEY = "telecollect.runtime"


def register_queue_settings(app) -> None:
    app.extensions[_KEY] = {
        "rules": ContactRules.from_config(app.config),
        "retry_delays": parse_retry_delays(app.config["RETRY_DELAYS"]),
        "lease": timedelta(minutes=app.config["QUEUE_LEASE_MINUTES"]),
        "sms_gateway": gateway_from_config(app.config),
        "voice": voice_from_config(app.config),
    }


def voice():
    """The voice backend (NoVoice when VOICE_BACKEND=none)."""
    return current_app.extensions[_KEY]["voice"]


def sms_gateway():
    return current_app.extensions[_KEY]["sms_gateway"]


def contact_rules() -> ContactRules:
    """The contact rules of this unit of work, in its acting branch (`branch_rules`): read once per request,
    command or job, so a change reaches every process at its next one."""
    session = db.session()
    branch_id = acting_branch_or_none(session)
    by_branch: dict[int | None, ContactRules] = read_once(session, RULES_KEY, dict)
    if branch_id not in by_branch:
        by_branch[branch_id] = branch_rules(session, branch_id)
    return by_branch[branch_id]


def branch_rules(session, branch_id: int | None) -> ContactRules:
    """A branch's contact rules (calling hours and days, caps, cuti bersama): its own `contact_settings` row,
    else the installation's (the settings page), else the environment's. One query. For the per-branch
    jobs: `branch_rules(session, branch.id)`."""
    mine, first = own_or_installation(ContactSetting.branch_id, branch_id)
    row = session.scalar(select(ContactSetting).where(mine).order_by(first).limit(1))
    return ContactRules.from_setting(row) if row is not None else default_contact_rules()


def default_contact_rules() -> ContactRules:
    """The environment's rules, built at app creation: what applies until someone saves the settings page."""
    return current_app.extensions[_KEY]["rules"]


def retry_delays() -> dict[str, timedelta]:
    return current_app.extensions[_KEY]["retry_delays"]


def lease() -> timedelta:
    return current_app.extensions[_KEY]["lease"]
