"""The OpenAPI 3.1 description of the JSON API (`GET /api/v1/openapi.json`).

Written by hand next to `api.routes` and `api.serializers`; field names follow
what the serializers produce. Enumerations are taken from the code (outcome
codes, channels, states, …) so that they cannot fall behind it, and
`tests/api/test_openapi.py` checks that every route is described and nothing
else is.

The server holds bodies to this document (`api.validation`), and Schemathesis checks the two agree
(`tests/api/test_schemathesis.py`). What a caller may send depends on their role (a telecollector records
phone and WhatsApp contacts, a cadre visits too): read with credentials, the document describes the
caller's role; read anonymously, every role's, each named in the descriptions.
"""

from telecollect.api.converters import MAX_ID
from telecollect.auth.models import Role
from telecollect.contacts.models import Channel
from telecollect.contacts.outcomes import CADRE_OUTCOMES, OUTCOMES
from telecollect.contacts.services import CLOCK_SKEW, HAND_CHANNELS, MAX_DAYS_AHEAD, MAX_HOURS_OFFLINE
from telecollect.formatting import ZONES
from telecollect.money import MAX_RUPIAH
from telecollect.participants.models import Segment
from telecollect.queues.models import FollowUp, QueueName, WorkState
from telecollect.workflows.queue_work import SKIP_REASONS

#: The queue each working role records in; other roles record nothing.
QUEUE_OF_ROLE = {Role.telecollector: QueueName.telecollect, Role.cadre: QueueName.cadre}

API_PREFIX = "/api/v1"
JSON = "application/json"

# What each error status means; operations list the ones that apply to them.
BAD_REQUEST_CSRF = (
    "A cookie-authenticated POST without a valid `X-CSRFToken` header (requests with a bearer token need none)."
)
BAD_REQUEST_BODY = (
    "The body is not what this document describes (a type, a value outside an enumeration, a length, a "
    "format) or a rule refuses it; `field` names the input (code `invalid_json`, `json_field_*`, or the "
    "rule's code, e.g. `promise_date_out_of_range`). Or the CSRF header is missing."
)
UNAUTHORIZED = "No valid bearer token and no signed-in session (code `unauthorized`)."
FORBIDDEN_ROLE = (
    "Wrong role (code `forbidden`): supervisors and admins see work items but record "
    "nothing; telecollectors work the call queue only."
)
NOT_FOUND_ITEM = (
    "No such work item (code `not_found`). Items outside a cadre's areas, or assigned "
    "to another cadre, do not exist for her."
)
TOO_MANY_READS = (
    "Too many different work items or participants opened in a short time (code `too_many_reads`); "
    "the `Retry-After` header says in how many seconds to try again."
)
WORK_ERRORS = {400: BAD_REQUEST_CSRF, 401: UNAUTHORIZED, 403: FORBIDDEN_ROLE, 404: NOT_FOUND_ITEM}


# --- small builders -----------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    """JSON Schema 2020-12 style: the type may also be null."""
    return {**schema, "type": [schema["type"], "null"]}


def _string(description: str | None = None, **extra) -> dict:
    return _described({"type": "string", **extra}, description)


def _integer(description: str | None = None, **extra) -> dict:
    return _described({"type": "integer", **extra}, description)


def _boolean(description: str | None = None) -> dict:
    return _described({"type": "boolean"}, description)


def _enum(values, description: str | None = None) -> dict:
    return _string(description, enum=list(values))


def _datetime(description: str | None = None) -> dict:
    return _nullable(_string(description, format="date-time"))


def _described(schema: dict, description: str | None) -> dict:
    return {**schema, "description": description} if description else schema


def _object(properties: dict, *, optional: tuple[str, ...] = (), description: str | None = None) -> dict:
    """An object whose properties are all present (values may be null) unless listed as optional."""
    return _described(
        {
            "type": "object",
            "properties": properties,
            "required": [name for name in properties if name not in optional],
        },
        description,
    )


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _json(schema: dict) -> dict:
    return {JSON: {"schema": schema}}


def _response(description: str, schema: dict | None = None) -> dict:
    return {"description": description, **({"content": _json(schema)} if schema else {})}


def _path_parameter(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


ITEM_ID = _path_parameter(
    "item_id", _integer(minimum=0, maximum=MAX_ID), "The work item's id (a larger number is 404)."
)
CALL_ID = _path_parameter("call_id", _integer(minimum=0, maximum=MAX_ID), "The call's id (a larger number is 404).")
CARD_NO = _path_parameter("card_no", _string(pattern=r"^\d{13}$"), "JKN card number (13 digits, leading zeros kept).")


def _operation(
    operation_id: str,
    summary: str,
    ok: dict,
    *,
    errors: dict[int, str] | None = None,
    parameters: tuple = (),
    body: dict | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict:
    """One operation; `ok` maps success statuses to responses, `errors` maps error statuses to their meaning."""
    responses = {str(status): response for status, response in ok.items()}
    responses.update({str(status): _response(text, _ref("Error")) for status, text in sorted((errors or {}).items())})
    operation = {"operationId": operation_id, "summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    if public:
        operation["security"] = []
    return operation


def _work_item_response(description: str) -> dict:
    return _response(description, _object({"work_item": _ref("WorkItem")}))


# --- components ---------------------------------------------------------------


def _person_fields(*, phone_description: str) -> dict:
    """What a participant and a family member have in common."""
    return {
        "card_no": _string("JKN card number, 13 digits."),
        "name": _string(),
        "nik": _nullable(_string("NIK; masked except for supervisors and admins.")),
        "phone": _nullable(_string(phone_description)),
        "opted_out_channels": _described(
            {"type": "array", "items": _enum(c.value for c in Channel)},
            "Channels the number asked not to be contacted on: start no call or message there (the call "
            "screen and the cadre list show no button for them). Empty when none, or when no number is shown.",
        ),
        "segment": _enum(s.value for s in Segment),
        "class": _nullable(_integer("Care class.", minimum=1, maximum=3)),
        "months_in_arrears": _integer(minimum=0),
        "arrears_amount": _integer("Whole Rupiah.", minimum=0),
        "autodebit": _boolean(),
    }


def _participant_schema() -> dict:
    fields = _person_fields(phone_description="E.164 mobile number; null when it was found invalid.")
    return _object(
        {
            **fields,
            "province": _string(),
            "city": _string(),
            "kecamatan": _string(),
            "kelurahan": _nullable(_string()),
            "rt": _nullable(_string()),
            "rw": _nullable(_string()),
            "arrears_as_of": _nullable(_string(format="date")),
        },
        description="A participant with their place and arrears.",
    )


def _family_member_schema() -> dict:
    return _object(
        _person_fields(phone_description="E.164 mobile number; null when it was found invalid."),
        description="A member of the work item's family.",
    )


def _work_item_schema() -> dict:
    states = [s.value for s in WorkState] + ["claimed"]
    return _object(
        {
            "id": _integer(),
            "queue": _enum(q.value for q in QueueName),
            "state": _enum(states, "`claimed` while someone holds a live lease."),
            "close_reason": _nullable(_string("Why it closed: an outcome code, no_arrears, unassigned, no_phone.")),
            "assigned_to": _nullable(_string("Username of the owner; null for the queue's team pool.")),
            "lease_expires_at": _datetime(),
            "next_action_at": _datetime("Not offered before this time."),
            "follow_up": _enum(f.value for f in FollowUp),
            "timezone": _enum(ZONES, "The family's zone."),
            "attempts": _integer(minimum=0),
            "contacts": _integer(minimum=0),
            "last_contact_at": _datetime(),
            "priority": _integer("Higher is worked first."),
            "priority_parts": _object(
                {part: _integer() for part in ("amount", "months", "staleness", "reach")},
                description="The points the priority is made of.",
            ),
            "family_arrears_amount": _integer("Whole Rupiah.", minimum=0),
            "family_months_in_arrears": _integer(minimum=0),
            "family": _array(_ref("FamilyMember")),
        },
        description="A family in a queue.",
    )


def _attempt_schema() -> dict:
    return _object(
        {
            "id": _integer(),
            "work_item_id": _nullable(_integer()),
            "outcome": _enum(sorted(OUTCOMES)),
            "channel": _enum(c.value for c in Channel),
            "reached": _boolean("Someone answered."),
            "right_party": _boolean("The participant or a family member who can pay."),
            "phone": _nullable(_string("The number dialled or messaged (E.164).")),
            "note": _nullable(_string()),
            "callback_at": _datetime(),
            "at": _string(format="date-time", description="When the contact happened."),
            "outside_policy": _nullable(
                _enum(
                    ["day", "holiday", "hours", "daily_cap", "weekly_cap", "opt_out", None],
                    "Set when the contact happened outside the contact policy: recorded all the same, flagged "
                    "and audited.",
                )
            ),
            "client_ref": _nullable(_string()),
        },
        description="One recorded contact attempt.",
    )


def _hand_channels(role: Role | None) -> list[str]:
    """Channels `role` can record (SMS are sent by the system), in order; every role's for None."""
    queues = [QUEUE_OF_ROLE[role]] if role in QUEUE_OF_ROLE else list(HAND_CHANNELS)
    return list(dict.fromkeys(c.value for queue in queues for c in HAND_CHANNELS[queue]))


def _channels_description() -> str:
    per_role = "; ".join(
        f"{role.value}s: {', '.join(c.value for c in HAND_CHANNELS[queue])}" for role, queue in QUEUE_OF_ROLE.items()
    )
    return (
        f"How the contact was made. Each role records its own channels ({per_role}); another is refused with "
        "400 `invalid_channel`. Defaults to the role's first channel."
    )


def _outcome_request_schema(role: Role | None) -> dict:
    fields = {
        "outcome": _enum(
            sorted(OUTCOMES),
            "What happened. A cadre's sheet offers "
            f"{', '.join(o.code for o in CADRE_OUTCOMES)}; the visit and WhatsApp outcomes "
            f"({', '.join(o.code for o in OUTCOMES.values() if not o.call)}) are refused on the call queue "
            "with 400 `invalid_outcome`.",
        ),
        "channel": _enum(_hand_channels(role), _channels_description()),
        "note": _string(maxLength=1000),
        "whatsapp_opt_in": {
            "type": "boolean",
            "description": "The participant agreed to WhatsApp messages from the branch: recorded in the consent "
            "ledger for the number used (WhatsApp reminders go only to numbers with a recorded opt-in).",
        },
        "phone": _string(
            "The number dialled: one of the family's own numbers, in any usual writing (0812-…, +62 812 …); "
            "stored as E.164. Defaults to the family's first number that may be contacted on the channel."
        ),
        "occurred_at": _string(
            "Cadre queue only: when the contact happened, by the phone's clock (an entry saved offline is sent "
            f"later). The contact is recorded at that time and its dates are checked against it. At most "
            f"{MAX_HOURS_OFFLINE} hours back (400 `occurred_at_too_old`); ahead of the server by more than "
            f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes is refused (400 `occurred_at_in_future`), by less "
            "counts as now. Without an offset, the family's local time.",
            format="date-time",
        ),
        "recorded_at": _string(
            "Deprecated: the former name of `occurred_at`, with the same meaning and checks "
            "(used when `occurred_at` is absent).",
            format="date-time",
        ),
        "promise_date": _string(
            f"Required with promise_to_pay; today to {MAX_DAYS_AHEAD} days ahead (participant's local date).",
            format="date",
        ),
        "promise_amount": _described(
            {"type": ["number", "string"], "minimum": 1, "maximum": MAX_RUPIAH},
            "Required with promise_to_pay; whole Rupiah, as a number or written "
            "(`1500000`, `1.500.000`, `Rp 1.500.000,00`); a part below one Rupiah "
            "is refused (400 `amount_fraction`).",
        ),
        "callback_at": _string(
            f"Required with callback_requested; within {MAX_DAYS_AHEAD} days. A time outside the calling "
            "window is moved to its next opening. ISO 8601; a time without offset is the participant's local time.",
            pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$",
        ),
        "client_ref": _string(
            "Makes the submission idempotent: the same ref again returns the first result "
            "with 200 and `duplicate: true`.",
            maxLength=64,
        ),
    }
    return _object(
        fields, optional=tuple(name for name in fields if name != "outcome"), description="A contact's outcome."
    )


def _error_schema() -> dict:
    return _object(
        {
            "error": _object(
                {
                    "code": _string("Machine-readable code, e.g. not_found, claim_lost, invalid_outcome."),
                    "message": _string("Readable message."),
                    "field": _nullable(_string("The input the error belongs to, if any.")),
                }
            )
        }
    )


def _rehab_quote_schema() -> dict:
    option = _object(
        {
            "installments": _integer(minimum=2),
            "amount_per_installment": _integer("The first installment, whole Rupiah.", minimum=0),
            "amounts": _array(_integer(minimum=0)),
            "total": _integer("What the installments add up to exactly.", minimum=0),
        }
    )
    return _object(
        {
            "program": _nullable(_string("The program's code, e.g. REHAB-2022.")),
            "program_name": _nullable(_string()),
            "eligible": _boolean("Segment and months in arrears qualify."),
            "reasons": _array(_string()),
            "months_in_arrears": _integer(minimum=0),
            "family_arrears_amount": _integer(minimum=0),
            "max_installments": _integer(minimum=0),
            "registration_open": _boolean("The day falls in the registration window."),
            "options": _array(option),
        }
    )


def _call_schema() -> dict:
    return _object(
        {
            "id": _integer(),
            "work_item_id": _integer(),
            "status": _enum(
                ("requested", "placed", "agent_answered", "dialling", "ended", "failed"),
                "Only moves forward: requested (not yet sent to Twilio), placed (the agent's phone rings), "
                "agent_answered, dialling (she pressed 1), ended, failed (Twilio refused or was not reached).",
            ),
            "twilio_sid": _nullable(_string()),
            "phone": _string("The participant's number dialled, in full (the showing is audited)."),
            "agent_leg_status": _nullable(_string("Twilio's final status of the agent's own leg.")),
            "dial_status": _nullable(
                _string("The participant's leg (DialCallStatus): completed, busy, no-answer, failed, canceled.")
            ),
            "talk_seconds": _nullable(_integer("Talk time of a connected call.", minimum=0)),
            "disposition": _nullable(
                _enum(
                    ("pending", "recorded", "not_recorded"),
                    "A connected call's outcome: pending until the agent records it (she is given no other family).",
                )
            ),
            "outcome": _nullable(_string("The outcome code of the attempt this call recorded, once there is one.")),
            "started_at": _string(format="date-time"),
            "answered_at": _datetime("When the agent's leg answered."),
            "ended_at": _datetime(),
            "is_recorded": _boolean(),
            "recording_seconds": _nullable(_integer(minimum=0)),
        }
    )


def _components(role: Role | None) -> dict:
    return {
        "schemas": {
            "WorkItem": _work_item_schema(),
            "FamilyMember": _family_member_schema(),
            "Attempt": _attempt_schema(),
            "OutcomeRequest": _outcome_request_schema(role),
            "SkipRequest": _object(
                {
                    "reason": _enum(
                        SKIP_REASONS, "Why the family is skipped; each has its delay before it is offered again."
                    )
                }
            ),
            "Error": _error_schema(),
            "CallRequest": _object(
                {
                    "phone": _string(
                        "One of the leased family's own numbers (E.164 or as written); left out: the best one. "
                        "Any other number is refused: the server dials only the family's numbers.",
                        maxLength=40,
                    )
                },
                optional=("phone",),
            ),
            "Call": _call_schema(),
            "Participant": _participant_schema(),
            "RehabQuote": _rehab_quote_schema(),
        },
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal token from `flask users token USERNAME`.",
            },
            "cookieSession": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "A signed-in browser session. POSTs must also send the `X-CSRFToken` header.",
            },
        },
    }


# --- paths --------------------------------------------------------------------


def _paths() -> dict:
    me = _object({"username": _string(), "name": _string(), "role": _enum(r.value for r in Role)})
    participant = _object(
        {
            "participant": _ref("Participant"),
            "family": _object(
                {
                    "key": _string(),
                    "arrears_amount": _integer("Whole Rupiah.", minimum=0),
                    "months_in_arrears": _integer(minimum=0),
                    "members": _array(_ref("Participant")),
                }
            ),
        }
    )
    recorded = _object(
        {
            "attempt": _ref("Attempt"),
            "duplicate": _boolean("True when client_ref was seen before and the first result is returned."),
            "claimed_by_other": _boolean("Someone else held the claim: the attempt is kept, their claim untouched."),
            "work_item": _ref("WorkItem"),
        }
    )
    return {
        "/me": {
            "get": _operation(
                "getMe", "Who the token belongs to.", {200: _response("The caller.", me)}, errors={401: UNAUTHORIZED}
            )
        },
        "/participants/{card_no}": {
            "get": _operation(
                "getParticipant",
                "One participant with their family's arrears; the read is audited.",
                {200: _response("The participant and their family.", participant)},
                parameters=(CARD_NO,),
                errors={
                    401: UNAUTHORIZED,
                    404: "No participant with this card number, or one outside a cadre's areas.",
                    429: TOO_MANY_READS,
                },
            )
        },
        "/participants/{card_no}/rehab": {
            "get": _operation(
                "getRehabQuote",
                "Whether the participant's family may join REHAB on a date, and its options.",
                {200: _response("The quote.", _ref("RehabQuote"))},
                parameters=(
                    CARD_NO,
                    {
                        "name": "on",
                        "in": "query",
                        "required": False,
                        "schema": _string(format="date"),
                        "description": "The day (default today).",
                    },
                ),
                errors={
                    400: "`on` is not a date (YYYY-MM-DD).",
                    401: UNAUTHORIZED,
                    404: "No participant with this card number, or one outside a cadre's areas.",
                },
            )
        },
        "/queue/claim": {
            "post": _operation(
                "claimWorkItem",
                "Claim the best work item the caller may work now.",
                {
                    200: _work_item_response("The claimed item (the one already held, if any)."),
                    204: _response("Nothing may be worked now."),
                },
                errors={
                    400: BAD_REQUEST_CSRF,
                    401: UNAUTHORIZED,
                    403: "Only telecollectors and cadres work a queue (code `no_queue`).",
                },
            )
        },
        "/work-items/{item_id}": {
            "get": _operation(
                "getWorkItem",
                "One work item with its family.",
                {200: _work_item_response("The work item.")},
                parameters=(ITEM_ID,),
                errors={401: UNAUTHORIZED, 403: FORBIDDEN_ROLE, 404: NOT_FOUND_ITEM, 429: TOO_MANY_READS},
            )
        },
        "/work-items/{item_id}/outcome": {
            "post": _operation(
                "recordOutcome",
                "Record a contact's outcome; the same client_ref twice records once.",
                {
                    201: _response("Recorded.", recorded),
                    200: _response("A duplicate client_ref: the first result, with `duplicate: true`.", recorded),
                },
                parameters=(ITEM_ID,),
                body=_ref("OutcomeRequest"),
                errors={
                    **WORK_ERRORS,
                    400: BAD_REQUEST_BODY,
                    409: "Not recordable on this family now: on the call queue, a family the caller does not hold "
                    "(codes `outcome_not_claimed`, `outcome_claimed_by_other`, `outcome_lease_lapsed`); on the "
                    "cadre queue, a contact dated before the family was on her list (code `outcome_before_listed`).",
                },
            )
        },
        "/work-items/{item_id}/renew": {
            "post": _operation(
                "renewClaim",
                "Extend the claim's lease while the call screen is open.",
                {200: _response("The new lease end.", _object({"lease_expires_at": _string(format="date-time")}))},
                parameters=(ITEM_ID,),
                errors={**WORK_ERRORS, 409: "The claim was lost (code `claim_lost`): claim again."},
            )
        },
        "/work-items/{item_id}/release": {
            "post": _operation(
                "releaseClaim",
                "Give the claimed item back without an outcome.",
                {200: _work_item_response("The released item.")},
                parameters=(ITEM_ID,),
                errors={**WORK_ERRORS, 409: "The caller has not claimed this item (code `not_claimed`)."},
            )
        },
        "/work-items/{item_id}/skip": {
            "post": _operation(
                "skipWorkItem",
                "Give the claimed family back with a reason, counting no attempt; it is not offered again for a "
                "while (the reason's delay). `needs_visit` also opens it on the cadre queue in its kelurahan. "
                "Claim the next family with /queue/claim.",
                {200: _work_item_response("The skipped item, free again.")},
                parameters=(ITEM_ID,),
                body=_ref("SkipRequest"),
                errors={
                    **WORK_ERRORS,
                    400: BAD_REQUEST_BODY,
                    409: "Only the holder of the live claim skips (codes `outcome_not_claimed`, "
                    "`outcome_claimed_by_other`, `outcome_lease_lapsed`).",
                },
            )
        },
        "/work-items/{item_id}/call": {
            "post": _operation(
                "placeCall",
                "Panggil: Twilio rings the caller's own phone, then (when she presses 1) dials the family's number. "
                "Re-checked now: the caller holds the family's live claim, the number is the family's own, not "
                "invalid nor opted out, and the contact policy (hours, day, holidays, caps) allows a call.",
                {201: _response("The call, placed at Twilio.", _object({"call": _ref("Call")}))},
                parameters=(ITEM_ID,),
                body=_ref("CallRequest"),
                errors={
                    **WORK_ERRORS,
                    409: "Refused, with the reason in Bahasa Indonesia: calls are off (`voice_disabled`), the caller "
                    "has no phone for calls (`agent_phone_missing`), owes a connected call's outcome "
                    "(`outcome_owed`) or has a call going (`call_in_progress`), does not hold the family "
                    "(`outcome_not_claimed`, `outcome_claimed_by_other`, `outcome_lease_lapsed`), the number is "
                    "not the family's, invalid or opted out (`call_phone_not_in_family`, `call_phone_invalid`, "
                    "`call_phone_opted_out`, `call_no_phone`), or not now (`call_not_now`).",
                    502: "Twilio refused the call, or could not be reached (`call_twilio_refused`, "
                    "`call_twilio_unreachable`); nothing rings.",
                    504: "Twilio did not answer in time (`call_twilio_unknown`): the phone may ring all the same.",
                },
            )
        },
        "/calls/{call_id}": {
            "get": _operation(
                "getCall",
                "One call: its status, the participant's leg, talk time and the outcome recorded.",
                {200: _response("The call.", _object({"call": _ref("Call")}))},
                parameters=(CALL_ID,),
                errors={
                    401: UNAUTHORIZED,
                    404: "No such call, or another agent's (supervisors and admins see every call).",
                    429: TOO_MANY_READS,
                },
            )
        },
        "/openapi.json": {
            "get": _operation(
                "getOpenApi",
                "The OpenAPI 3.1 description of this API.",
                {200: _response("This document.", {"type": "object"})},
                public=True,
            )
        },
    }


def openapi_document(role: Role | None = None) -> dict:
    """The document; for a signed-in `role`, what that role may send (see the module's docstring)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telecollect API",
            "version": "1",
            "description": "Work queues and contact outcomes for JKN-KIS arrears collection. Errors are "
            '`{"error": {"code", "message", "field"}}` with a 4xx status. Times are ISO 8601. No text may '
            "hold the NUL character: a request with one is refused with 400 `nul_character`.",
        },
        "servers": [{"url": API_PREFIX}],
        "security": [{"bearerAuth": []}, {"cookieSession": []}],
        "paths": _paths(),
        "components": _components(role),
    }
