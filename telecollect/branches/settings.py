"""A branch's settings: the installation's (the environment), with what the branch set for itself.

The one owner of "which value applies in this branch": `branch_config` (the configuration mapping the
edge reads, e.g. CALLING_HOURS, DAILY_CALL_TARGET, TWILIO_FROM_NUMBER) and `branch_settings` (the kernel's
`Settings` built from it: zone, name, VA prefixes, grace days…). A key the branch did not set is the
installation's; BRANCH_TIMEZONE and BRANCH_NAME are the branch's zone and name (the first branch's empty
ones: the installation's).
"""

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecollect.branches.models import Branch
from telecollect.branches.queries import branch_overrides
from telecollect.branches.stamping import acting_branch_or_none
from telecollect.db import forget_read, read_once
from telecollect.errors import ServiceError
from telecollect.settings import Settings

#: The installation settings a branch may set for itself (`flask branches set`, the branch page). Other
#: issues add theirs here (WhatsApp senders and Content SIDs, say). Calling hours, days and caps are a
#: branch's own `contact_settings` row (telecollect.runtime.branch_rules), holidays its own `holidays` rows.
OVERRIDABLE = frozenset(
    {
        "VA_PREFIXES",
        "TWILIO_FROM_NUMBER",
        "TWILIO_MESSAGING_SERVICE_SID",
        "DAILY_CALL_TARGET",
        "CADRE_WEEKLY_TARGET",
        "PROMISE_GRACE_DAYS",
        "ATTRIBUTION_DAYS",
        "INSTALLMENT_DUE_DAY",
        "LETTER_SIGNATORY_NAME",
        "LETTER_SIGNATORY_TITLE",
        "QUIET_DAYS",
        "RETRY_DELAYS",
    }
)


def branch_config(config: Mapping[str, Any], branch: Branch) -> dict[str, Any]:
    """The installation's configuration as `branch` sees it."""
    merged = dict(config)
    for key, value in branch_overrides(branch).items():
        if key in OVERRIDABLE:
            merged[key] = _typed(config.get(key), value)
    if branch.zone:
        merged["BRANCH_TIMEZONE"] = branch.zone
    if branch.name:
        merged["BRANCH_NAME"] = branch.name
    return merged


def branch_of_receiving_number(session: Session, config: Mapping[str, Any], to_address: str) -> int | None:
    """The branch whose sender received a participant's SMS or WhatsApp message addressed to `to_address`
    (Twilio's `To`: "+62…" or "whatsapp:+62…"): the one owner of "which branch owns this receiving number".

    A branch's own sender (its TWILIO_FROM_NUMBER) names it. The installation's sender (TWILIO_FROM_NUMBER,
    TWILIO_WHATSAPP_FROM) is the sender of every branch without its own: it names a branch only when exactly
    one branch sends from it (an installation of one branch, say). With several, a message to it could be for
    any of them, and guessing would hide it from the branch it is for: None, and the row stays with no branch,
    seen by those who see every branch. None too for a number no sender has."""
    number = _sender_number(to_address)
    if not number:
        return None
    on_installation_number = []
    for branch in session.scalars(select(Branch).order_by(Branch.id)):
        own = branch_overrides(branch).get("TWILIO_FROM_NUMBER", "")
        if own and _sender_number(own) == number:
            return branch.id
        if not own:
            on_installation_number.append(branch.id)
    installation = {
        _sender_number(str(config.get(key) or "")) for key in ("TWILIO_FROM_NUMBER", "TWILIO_WHATSAPP_FROM")
    }
    if number in installation and len(on_installation_number) == 1:
        return on_installation_number[0]
    return None


def _sender_number(text: str) -> str:
    """A sender as Twilio writes it, without its channel and spacing ("whatsapp:+62 21 500400" → "+6221500400");
    "" for an alphanumeric sender ID (it receives nothing)."""
    number = text.strip().removeprefix("whatsapp:").replace(" ", "").replace("-", "")
    return number if number.lstrip("+").isdigit() else ""


def branch_settings(session: Session, branch: Branch | int | str, config: Mapping[str, Any] | None = None) -> Settings:
    """The kernel's `Settings` of one branch (a Branch, its id or its code): what jobs, imports and reports
    of that branch pass down instead of `installation()`. Built on the installation's settings (those of
    the running app, or of `config` when given), with the branch's zone, name and own values."""
    if config is None:
        from flask import current_app

        from telecollect.settings import installation

        base, config = installation(), current_app.config
    else:
        base = Settings.from_config(config)
    found = _branch(session, branch)
    changes: dict[str, Any] = {}
    if found.zone:
        changes["branch_timezone"] = found.zone
    if found.name:
        changes["branch_name"] = found.name
    own = set(branch_overrides(found)) & set(_SETTINGS_FIELDS)
    if own:
        built = Settings.from_config(branch_config(config, found))
        changes.update({_SETTINGS_FIELDS[key]: getattr(built, _SETTINGS_FIELDS[key]) for key in own})
    return replace(base, **changes)


#: `read_once`'s key of the settings of each branch this unit of work asked for ({branch id: Settings}).
_READ_KEY = "telecollect.branch_settings"


def settings_of(session: Session, branch_id: int | None) -> Settings:
    """The settings that apply to rows of branch `branch_id` (None: no branch named, the installation's):
    `branch_settings`, read once per unit of work (request, command, job) and branch, so a page, a webhook
    or the dispatcher serving several branches builds each one's once. At most one query (the branch row,
    none when the session holds it already)."""
    if branch_id is None:
        from telecollect.settings import installation

        return installation()
    by_branch: dict[int, Settings] = read_once(session, _READ_KEY, dict)
    if branch_id not in by_branch:
        by_branch[branch_id] = branch_settings(session, branch_id)
    return by_branch[branch_id]


def acting_branch_settings(session: Session) -> Settings:
    """The settings of the branch acting in `session` (`act_in_branch`: the signed-in user's, the command's
    --branch, the job's), else the installation's. Delivery calls `telecollect.runtime.acting_settings()`;
    this is for the views that may not import the runtime (reports)."""
    return settings_of(session, acting_branch_or_none(session))


#: `read_once`'s key of the configuration each branch sees ({branch id: mapping}).
_CONFIG_KEY = "telecollect.branch_config"


def config_of(session: Session, branch_id: int | None) -> Mapping[str, Any]:
    """The configuration as branch `branch_id` sees it (`branch_config`: its targets, letter signatory,
    retry delays, quiet days… where it set its own), read once per unit of work and branch; None: the
    installation's. For the values the kernel's `Settings` does not hold."""
    from flask import current_app

    if branch_id is None:
        return current_app.config
    by_branch: dict[int, Mapping[str, Any]] = read_once(session, _CONFIG_KEY, dict)
    if branch_id not in by_branch:
        by_branch[branch_id] = branch_config(current_app.config, _branch(session, branch_id))
    return by_branch[branch_id]


def acting_branch_config(session: Session) -> Mapping[str, Any]:
    """`config_of` the branch acting in `session`, else the installation's."""
    return config_of(session, acting_branch_or_none(session))


def forget_branch_settings(session: Session) -> None:
    """This unit of work changed a branch's zone, name or own settings: `settings_of` and `config_of` read
    them again."""
    forget_read(session, _READ_KEY)
    forget_read(session, _CONFIG_KEY)


#: The overridable keys the kernel's Settings holds, by field.
_SETTINGS_FIELDS = {
    "VA_PREFIXES": "va_prefixes",
    "PROMISE_GRACE_DAYS": "promise_grace_days",
    "ATTRIBUTION_DAYS": "attribution_days",
    "INSTALLMENT_DUE_DAY": "installment_due_day",
}


def _branch(session: Session, branch: Branch | int | str) -> Branch:
    if isinstance(branch, Branch):
        return branch
    if isinstance(branch, int):
        found = session.get(Branch, branch)
        if found is None:
            raise ServiceError("unknown_branch", "branch", code=str(branch))
        return found
    from telecollect.branches.queries import branch_by_code

    return branch_by_code(session, branch)


def _typed(default: Any, value: str) -> Any:
    """An override written as text, in the type of the installation's value."""
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "ya", "on")
    if isinstance(default, int):
        return int(value)
    return value


def check_override(key: str, value: str) -> None:
    """Refuse a key a branch may not set, or a value the settings refuse."""
    if key.upper() not in OVERRIDABLE:
        raise ServiceError("branch_setting_unknown", key.lower(), key=key)
    try:
        counts = ("DAILY_CALL_TARGET", "CADRE_WEEKLY_TARGET", "PROMISE_GRACE_DAYS", "ATTRIBUTION_DAYS")
        if key.upper() in counts and int(value) < 0:
            raise ValueError(value)
        if key.upper() == "VA_PREFIXES":
            from telecollect.accounts import parse_prefixes

            parse_prefixes(value)
        if key.upper() == "INSTALLMENT_DUE_DAY" and not 1 <= int(value) <= 28:
            raise ValueError(value)
    except ValueError as exc:
        raise ServiceError("branch_setting_invalid", key.lower(), key=key, value=value) from exc
