"""What the edge hands to the workflows, built once at app creation from the settings: the contact rules, the
retry delays, the claim lease and the SMS gateway (a bad value stops the start). Delivery code only: views,
commands and jobs read these and pass them down."""

import functools
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from telecollect.branches.models import Branch
from telecollect.branches.settings import (
    acting_branch_config,
    acting_branch_settings,
    branch_config,
    check_override,
    config_of,
    settings_of,
)
from telecollect.branches.stamping import acting_branch_or_none, own_or_installation
from telecollect.contacts.outcomes import parse_retry_delays
from telecollect.db import read_once
from telecollect.errors import ServiceError
from telecollect.extensions import db
from telecollect.messaging.gateways import TwilioGateway, gateway_from_config
from telecollect.policy.models import ContactSetting
from telecollect.policy.rules import ContactRules
from telecollect.policy.services import RULES_KEY
from telecollect.settings import Settings
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
    return rules_of_branch(acting_branch_or_none(session))


def rules_of_branch(branch_id: int | None) -> ContactRules:
    """The contact rules of branch `branch_id` (None: the installation's), read once per unit of work: for
    a webhook or job about a row of a branch that is not the acting one (a call, a message of branch X)."""
    session = db.session()
    by_branch: dict[int | None, ContactRules] = read_once(session, RULES_KEY, dict)
    if branch_id not in by_branch:
        by_branch[branch_id] = branch_rules(session, branch_id)
    return by_branch[branch_id]


def acting_settings() -> Settings:
    """The settings of this unit of work: its acting branch's (`branch_settings`: its zone, VA prefixes,
    grace days…), or the installation's when no branch acts (a webhook, a command over every branch). Read
    once per request, command or job and branch: at most one query, none when the session holds the branch.
    What views, the API and commands pass down wherever a branch's value applies."""
    return acting_branch_settings(db.session())


def settings_of_branch(branch_id: int | None) -> Settings:
    """The settings of the branch a row belongs to (a call, a message of branch X, whoever acts), read once
    per unit of work and branch; None: the installation's."""
    return settings_of(db.session(), branch_id)


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


class BranchSenders:
    """For one dispatcher run: each branch's SMS gateway (its own sender: TWILIO_FROM_NUMBER or
    TWILIO_MESSAGING_SERVICE_SID through `branch_config`) and its contact rules (quiet hours), built once per
    branch. A branch that sets no sender of its own sends through the installation's gateway."""

    SENDER_KEYS = ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID")

    def __init__(self, session, config, gateway=None):
        self.session, self.config = session, config
        self.gateway = gateway if gateway is not None else sms_gateway()
        self._gateways: dict[int | None, object] = {}
        self._rules: dict[int | None, ContactRules] = {}

    def gateway_of(self, branch_id: int | None):
        if branch_id not in self._gateways:
            self._gateways[branch_id] = self._build(branch_id)
        return self._gateways[branch_id]

    def rules_of(self, branch_id: int | None) -> ContactRules:
        # Its own copy, not `rules_of_branch`: that one lives one transaction, and the dispatcher commits
        # after every message.
        if branch_id not in self._rules:
            self._rules[branch_id] = branch_rules(self.session, branch_id)
        return self._rules[branch_id]

    def __call__(self, branch_id: int | None):
        """(gateway, rules) a message of branch `branch_id` is sent with."""
        return self.gateway_of(branch_id), self.rules_of(branch_id)

    def _build(self, branch_id: int | None):
        branch = self.session.get(Branch, branch_id) if branch_id is not None else None
        if branch is None or not isinstance(self.gateway, TwilioGateway):
            return self.gateway  # the outbox backend: nothing leaves, whoever the sender
        own = branch_config(self.config, branch)
        sets = {key for key in self.SENDER_KEYS if own.get(key) != self.config.get(key)}
        if not sets:
            return self.gateway
        if sets == {"TWILIO_FROM_NUMBER"}:
            # Its own number is its SMS sender, also where the installation sends through a messaging service.
            own["TWILIO_MESSAGING_SERVICE_SID"] = ""
        gateway = TwilioGateway(own)
        if sets == {"TWILIO_FROM_NUMBER"}:
            gateway.whatsapp_sender = self.gateway.whatsapp_sender  # WhatsApp: the installation's sender
        return gateway


def retry_delays() -> dict[str, timedelta]:
    """The acting branch's retry delays: its own RETRY_DELAYS where it set them, else the installation's."""
    return _retry_delays_in(acting_branch_config(db.session()))


def retry_delays_of_branch(branch_id: int | None) -> dict[str, timedelta]:
    """The retry delays of the branch a row belongs to (a call's, in its webhook)."""
    return _retry_delays_in(config_of(db.session(), branch_id))


def _retry_delays_in(config: Mapping[str, Any]) -> dict[str, timedelta]:
    if config["RETRY_DELAYS"] == current_app.config["RETRY_DELAYS"]:
        return current_app.extensions[_KEY]["retry_delays"]  # parsed (and checked) at start
    return _parsed_retry_delays(config["RETRY_DELAYS"])


@functools.lru_cache(maxsize=256)
def _parsed_retry_delays(text: str) -> dict[str, timedelta]:
    return parse_retry_delays(text)


def check_branch_setting(key: str, value: str) -> None:
    """`check_override`, and a branch's RETRY_DELAYS parsed as the installation's is at start: a bad one is
    refused when set, never found when a call needs it. (Here, at the edge: the branches domain may not
    read the contacts domain's outcome codes.)"""
    check_override(key, value)
    if key.upper() == "RETRY_DELAYS":
        try:
            parse_retry_delays(value)
        except ValueError as exc:
            raise ServiceError("branch_setting_invalid", key.lower(), key=key, value=value) from exc


def acting_config() -> Mapping[str, Any]:
    """The configuration as this unit of work's acting branch sees it (its targets, letter signatory,
    quiet days…), else the installation's: for views reading a value a branch may set for itself."""
    return acting_branch_config(db.session())


def lease() -> timedelta:
    return current_app.extensions[_KEY]["lease"]
