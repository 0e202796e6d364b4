"""What the edge hands to the workflows, built once at app creation from the settings: the contact rules, the
retry delays, the claim lease and the SMS gateway (a bad value stops the start). Delivery code only: views,
commands and jobs read these and pass them down."""

from datetime import timedelta

from flask import current_app

from telecollect.contacts.services import parse_retry_delays
from telecollect.messaging.gateways import gateway_from_config
from telecollect.policy.rules import ContactRules

_KEY = "telecollect.runtime"


def register_queue_settings(app) -> None:
    app.extensions[_KEY] = {
        "rules": ContactRules.from_config(app.config),
        "retry_delays": parse_retry_delays(app.config["RETRY_DELAYS"]),
        "lease": timedelta(minutes=app.config["QUEUE_LEASE_MINUTES"]),
        "sms_gateway": gateway_from_config(app.config),
    }


def sms_gateway():
    return current_app.extensions[_KEY]["sms_gateway"]


def contact_rules() -> ContactRules:
    return current_app.extensions[_KEY]["rules"]


def retry_delays() -> dict[str, timedelta]:
    return current_app.extensions[_KEY]["retry_delays"]


def lease() -> timedelta:
    return current_app.extensions[_KEY]["lease"]
