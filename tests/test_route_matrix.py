"""Who may do what, on every route: the role-and-ownership matrix.

The table below is built against the app's URL map: every (rule, method) the app
serves must have at least one row, and every row must name a rule the app serves, so a
route added without deciding who may use it fails `test_every_route_is_classified`.

Actors: anonymous, one user of each role, and for the two roles that own work a second
user who does not own the object: a telecollector who does not hold the claim, and a
cadre whose area is another kecamatan. Each (row, actor) is one test, in a fresh world
(rolled back), so a write by one actor never changes what another sees.

Expected answers are the correct ones; a route a later issue adds gets its row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from telecollect import create_app
from telecollect.audit.models import AuditEvent
from telecollect.contacts.models import ContactAttempt
from telecollect.imports.models import ImportRun, ImportStatus
from telecollect.messaging.conversations import handle_whatsapp_inbound
from telecollect.messaging.models import Conversation, InboundMedia, SmsKind, SmsMessage
from telecollect.messaging.outbox import queue_sms
from telecollect.participants.models import Participant
from telecollect.programs.models import InstallmentPlan
from telecollect.queues.models import CadreWhatsappOpen, QueueName, WorkItem
from telecollect.runtime import contact_rules, lease
from telecollect.telephony.models import Call, CallStatus
from telecollect.workflows import queue_work
from tests.conftest import csrf_token
from tests.helpers import csv_bytes, row, run_import
from tests.helpers_queue import queue_up

ANON, ADMIN, SUPERVISOR, TC, TC_OTHER, CADRE, CADRE_OUTSIDE = (
    "anonymous",
    "admin",
    "supervisor",
    "telecollector",
    "telecollector_not_holder",
    "cadre",
    "cadre_outside_area",
)
ACTORS = (ANON, ADMIN, SUPERVISOR, TC, TC_OTHER, CADRE, CADRE_OUTSIDE)
SIGNED_IN = ACTORS[1:]
ROLE_OF = {ADMIN: "admin", SUPERVISOR: "supervisor", TC: "telecollector", TC_OTHER: "telecollector"}
ROLE_OF |= {CADRE: "cadre", CADRE_OUTSIDE: "cadre"}

#: A page refusing an anonymous visitor sends them to sign in.
LOGIN = "login"
#: A refused write: any refusal status, and nothing recorded (see `Row.nothing_written`).
REFUSED = frozenset({302, 403, 404, 409})
#: A refused API write: an error status, and nothing recorded.
API_REFUSED = frozenset({403, 404, 409})

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # a Tuesday, 09:00 WIB

HOLDER_CARD, CADRE_CARD, SPLIT_HEAD_CARD, SPLIT_MEMBER_CARD = (
    "0000000000001",
    "0000000000002",
    "0000000000003",
    "0000000000004",
)
SPLIT_HEAD_PHONE, SPLIT_MEMBER_PHONE = "+6281200000003", "+6281200000004"
HOLDER_NAME, CADRE_NAME, SPLIT_HEAD_NAME = "Peserta Satu", "Peserta Dua", "Kepala Tiga"


@dataclass
class World:
    """The objects the routes are asked about."""

    users: dict[str, object]
    tc_item: int  #: a call-queue item claimed by TC
    cadre_item: int  #: a cadre-queue item in Kec. Koja assigned to CADRE
    run_id: int  #: an import run with a rejects file
    message_id: int  #: an SMS in the outbox
    call_id: int  #: TC's call on tc_item, an hour old, the line busy (closing it is refused: nothing owed)
    reason_id: int = 0  #: a pause reason (istirahat)
    conversation_id: int = 0  #: a WhatsApp conversation with the holder's family (inside the 24-hour window)
    media_id: int = 0  #: a photo the holder sent on WhatsApp
    holiday_id: int = 0  #: a regional holiday of the first branch (its own)
    national_holiday_id: int = 0  #: a holiday of the installation's (every branch's; its admins only)


@dataclass
class Row:
    rule: str
    method: str
    #: Answer per actor: a status, LOGIN, a set of acceptable statuses.
    expect: dict[str, object]
    variant: str = ""
    path: Callable[[World], str] | None = None
    #: The work item the rule's <int:item_id> names: "tc_item" or "cadre_item".
    item: str | None = None
    #: Form fields (pages) or a JSON body (API) sent with a write.
    data: dict | None = None
    json: dict | None = None
    #: The query counting what the write makes: it grows for an allowed actor, never for a refused one.
    nothing_written: Callable[[], object] | None = None
    #: Text that must not appear in the answer, per actor.
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule}{' [' + self.variant + ']' if self.variant else ''}"


def everyone(status) -> dict:
    return dict.fromkeys(ACTORS, status)


def signed_in(ok, *, anon=LOGIN) -> dict:
    return {ANON: anon, **dict.fromkeys(SIGNED_IN, ok)}


def roles(ok: dict | object, *allowed: str, anon=LOGIN, denied=403) -> dict:
    """`allowed` roles get `ok` (one value, or a value per actor); others `denied`."""
    answer = {ANON: anon}
    for actor in SIGNED_IN:
        if ROLE_OF[actor] in allowed:
            answer[actor] = ok[actor] if isinstance(ok, dict) else ok
        else:
            answer[actor] = denied
    return answer


def api(ok, *allowed: str, denied=403, anon=401) -> dict:
    return roles(ok, *allowed, anon=anon, denied=denied)


def attempts():
    return select(func.count()).select_from(ContactAttempt)


def plans():
    return select(func.count()).select_from(InstallmentPlan)


def skips():
    return select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "work_item.skip")


def whatsapp_opens():
    return select(func.count()).select_from(CadreWhatsappOpen)


def calls():
    return select(func.count()).select_from(Call)


def heard_numbers():
    return select(func.count()).select_from(Participant).where(Participant.phone2 == "+6281399990001")


def pause_reasons():
    from telecollect.telephony.models import PauseReason

    return select(func.count()).select_from(PauseReason)


def renamed_reasons():
    from telecollect.telephony.models import PauseReason

    return select(func.count()).select_from(PauseReason).where(PauseReason.label == "Istirahat siang")


def state_changes():
    from telecollect.telephony.models import AgentStateEvent

    return select(func.count()).select_from(AgentStateEvent)


def agent_replies():
    return select(func.count()).select_from(SmsMessage).where(SmsMessage.kind == SmsKind.agent_reply)


def audit_of(action: str):
    return select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)


def media_views():
    return select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "whatsapp.media.view")


MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"

STAFF = ("admin", "supervisor")
WORKERS = ("telecollector", "cadre")
ALL_ROLES = (*STAFF, *WORKERS)
#: The API's answer to a write without any credentials (401 JSON, before any CSRF check).
API_ANON_WRITE = 401

ROWS: list[Row] = [
    # -- public
    Row("/", "GET", {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, 302)}),
    Row("/login", "GET", {ANON: 200, **dict.fromkeys(SIGNED_IN, 302)}),
    Row("/login", "POST", {ANON: 401, **dict.fromkeys(SIGNED_IN, 302)}, data={"username": "x", "password": "y"}),
    Row("/lang/<code>", "POST", everyone(302), path=lambda w: "/lang/en"),
    Row("/sw.js", "GET", everyone(200)),
    Row("/static/<path:filename>", "GET", everyone(200), path=lambda w: "/static/cadre.js"),
    Row("/api/v1/openapi.json", "GET", everyone(200)),
    # Probes answer anyone (a load balancer does not sign in); /metrics only a bearer of METRICS_TOKEN, unset
    # here: a session, even an admin's, does not open it (tests/test_ops.py sends the token).
    Row("/healthz", "GET", everyone(200)),
    Row("/readyz", "GET", everyone(200)),
    Row("/metrics", "GET", everyone(404)),
    # Twilio's webhooks answer by signature alone: nobody here signs as Twilio.
    Row("/twilio/sms/status", "POST", everyone(403), data={"MessageSid": "SM1", "MessageStatus": "delivered"}),
    Row("/twilio/sms/inbound", "POST", everyone(403), data={"From": "+6281200000001", "Body": "STOP"}),
    # issue 15: Twilio Voice's TwiML and callbacks, by signature alone too.
    *(
        Row(
            f"/twilio/voice/{name}",
            "POST",
            everyone(403),
            path=lambda w, name=name: f"/twilio/voice/{name}?call={w.call_id}",
            data={"CallSid": "CA1", "CallStatus": "completed", "Digits": "1", "DialCallStatus": "busy"},
            nothing_written=calls,
        )
        for name in ("agent", "connect", "notice", "dial-result", "status", "recording")
    ),
    # issue 15, item 8: the self-service line, signed by Twilio alone
    Row("/twilio/voice/inbound", "POST", everyone(403), data={"CallSid": "CA1", "From": "+6281200000001"}),
    Row("/twilio/voice/inbound/choice", "POST", everyone(403), data={"CallSid": "CA1", "Digits": "2"}),
    Row("/twilio/voice/inbound/verify", "POST", everyone(403), data={"CallSid": "CA1", "Digits": "0001"}),
    Row("/twilio/whatsapp/inbound", "POST", everyone(403), data={"From": "whatsapp:+6281200000001", "Body": "STOP"}),
    # -- the WhatsApp inbox: telecollectors and staff; the participants' photos: the roles that may see a NIK
    Row(
        "/whatsapp/conversations",
        "GET",
        roles(200, "admin", "supervisor", "telecollector"),
        absent={TC: (MEDIA_URL,)},
    ),
    Row(
        "/whatsapp/conversations/<int:conversation_id>",
        "GET",
        roles(200, "admin", "supervisor", "telecollector"),
        path=lambda w: f"/whatsapp/conversations/{w.conversation_id}",
        absent={TC: (MEDIA_URL, "/whatsapp/media/"), TC_OTHER: (MEDIA_URL, "/whatsapp/media/")},
    ),
    Row(
        "/whatsapp/conversations/<int:conversation_id>/reply",
        "POST",
        roles(302, "admin", "supervisor", "telecollector", denied=REFUSED),
        path=lambda w: f"/whatsapp/conversations/{w.conversation_id}/reply",
        data={"body": "Baik, kami cek.", "token": "matrix"},
        nothing_written=agent_replies,
    ),
    Row(
        "/whatsapp/media/<int:media_id>",
        "GET",
        roles(302, "admin", "supervisor"),
        path=lambda w: f"/whatsapp/media/{w.media_id}",
        nothing_written=media_views,
    ),
    Row("/reports/messages", "GET", roles(200, "admin", "supervisor")),
    # -- any signed-in user
    Row("/logout", "POST", signed_in(302)),
    Row("/holidays", "GET", signed_in(200)),
    Row(
        "/participants",
        "GET",
        signed_in(200),
        path=lambda w: f"/participants?q={HOLDER_CARD}",
        absent={CADRE_OUTSIDE: (HOLDER_NAME,)},
    ),
    Row(
        "/participants/<card_no>",
        "GET",
        {**signed_in(200), CADRE_OUTSIDE: 404},
        path=lambda w: f"/participants/{HOLDER_CARD}",
    ),
    Row("/reports/dashboard", "GET", signed_in(200)),
    Row("/reports/dashboard.<fmt>", "GET", signed_in(200), path=lambda w: "/reports/dashboard.csv"),
    Row(
        "/reports/families",
        "GET",
        signed_in(200),
        path=lambda w: "/reports/families?metric=attempts&by=user&key=",
        absent={CADRE_OUTSIDE: (HOLDER_NAME, CADRE_NAME, SPLIT_HEAD_NAME)},
    ),
    # -- admin
    Row("/admin/users", "GET", roles(200, "admin")),
    Row("/admin/users/new", "GET", roles(200, "admin")),
    Row("/admin/users/new", "POST", roles(200, "admin"), data={"username": ""}),
    Row("/admin/users/<int:user_id>", "GET", roles(200, "admin"), path=lambda w: f"/admin/users/{w.users[TC].id}"),
    Row(
        "/admin/users/<int:user_id>",
        "POST",
        roles(200, "admin"),
        path=lambda w: f"/admin/users/{w.users[TC].id}",
        data={"name": ""},
    ),
    Row(
        "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke",
        "POST",
        roles(404, "admin"),  # no such token of that user (tests/auth/test_sessions.py revokes real ones)
        path=lambda w: f"/admin/users/{w.users[TC].id}/tokens/999999/revoke",
    ),
    Row("/admin/audit", "GET", roles(200, "admin")),
    # issue 16: branches are the installation administrator's (tests/branches/test_pages.py); a branch's admin: 403
    Row("/admin/branches", "GET", roles(403, "admin")),
    Row("/admin/branches/new", "GET", roles(403, "admin")),
    Row("/admin/branches/new", "POST", roles(403, "admin"), data={"code": "9999", "name": "X", "zone": "WIB"}),
    Row("/admin/branches/<int:branch_id>", "GET", roles(403, "admin"), path=lambda w: "/admin/branches/1"),
    Row(
        "/admin/branches/<int:branch_id>",
        "POST",
        roles(403, "admin"),
        path=lambda w: "/admin/branches/1",
        data={"code": "0000", "name": "X", "zone": "WIB"},
    ),
    # -- supervisors and admins
    Row("/participants/import", "GET", roles(200, *STAFF)),
    Row("/participants/import", "POST", roles(400, *STAFF)),
    Row(
        "/participants/imports/<int:run_id>/rejects.csv",
        "GET",
        roles(200, *STAFF),
        path=lambda w: f"/participants/imports/{w.run_id}/rejects.csv",
    ),
    Row(
        "/participants/<card_no>/consent",
        "POST",
        roles(400, *STAFF),  # no such channel: refused, nothing recorded
        path=lambda w: f"/participants/{HOLDER_CARD}/consent",
        data={"channel": "nonsense", "action": "opt_out"},
    ),
    Row("/payments/import", "GET", roles(200, *STAFF)),
    Row("/payments/import", "POST", roles(400, *STAFF)),
    Row("/reports/arrears", "GET", roles(200, *STAFF)),
    Row("/queue/manage", "GET", roles(200, *STAFF)),
    Row("/queue/manage", "POST", roles(302, *STAFF), data={"action": "unknown"}),
    Row("/queue/templates", "GET", roles(200, *STAFF)),
    Row("/queue/templates", "POST", roles(400, *STAFF), data={"body": ""}),
    Row("/settings/contact", "GET", roles(200, *STAFF)),
    Row("/settings/contact", "POST", roles(400, *STAFF), data={"calling_hours": "nonsense"}),
    Row("/sms/outbox", "GET", roles(200, *STAFF)),
    Row("/sms/messages/<int:message_id>", "GET", roles(200, *STAFF), path=lambda w: f"/sms/messages/{w.message_id}"),
    Row(
        "/sms/messages/<int:message_id>/resolve",
        "POST",
        roles(302, "supervisor"),  # the message's outcome is known: refused with a flash, nothing changed
        path=lambda w: f"/sms/messages/{w.message_id}/resolve",
        data={"decision": "mark_sent"},
    ),
    Row("/sms/opt-outs", "GET", roles(200, *STAFF)),
    Row("/sms/opt-outs", "POST", roles(302, *STAFF), data={"phone": ""}),
    Row("/queue/call-script", "GET", roles(200, *STAFF)),
    Row("/queue/call-script", "POST", roles(400, *STAFF), data={"body": ""}),
    Row("/sms/templates", "GET", roles(200, *STAFF)),
    Row("/sms/whatsapp-templates", "GET", roles(200, *STAFF)),
    Row("/sms/whatsapp-templates", "POST", roles(400, *STAFF), data={"kind": "nonsense"}),
    Row("/sms/templates", "POST", roles(400, *STAFF), data={}),  # no template named: refused on the page
    # A branch's own settings (branch pages): its staff write their branch's rows, never the installation's.
    Row("/settings/contact/revert", "POST", roles(302, *STAFF)),  # nothing of her own to revert: back to the page
    Row("/settings/holidays", "GET", roles(200, *STAFF)),
    Row(
        "/settings/holidays",
        "POST",
        roles(302, *STAFF),
        data={"on": "2026-12-10", "name": "Hari jadi kota"},
        nothing_written=lambda: audit_of("holiday.save"),
    ),
    Row(
        "/settings/holidays/<int:holiday_id>/delete",
        "POST",
        roles(302, *STAFF),
        path=lambda w: f"/settings/holidays/{w.holiday_id}/delete",
        nothing_written=lambda: audit_of("holiday.delete"),
    ),
    Row(
        "/settings/holidays/<int:holiday_id>/delete",
        "POST",
        roles(404, *STAFF),
        variant="the installation's holiday",
        path=lambda w: f"/settings/holidays/{w.national_holiday_id}/delete",
        nothing_written=lambda: audit_of("holiday.delete"),
    ),
    Row(
        "/sms/templates/revert",
        "POST",
        roles(302, *STAFF),
        data={"key": "sms_due_reminder", "what": "template"},
    ),
    Row(
        "/sms/whatsapp-templates/revert",
        "POST",
        roles(302, *STAFF),
        data={"kind": "due_reminder", "what": "content"},
    ),
    # issue 15, item 5: the live board and the pause reasons
    Row("/board", "GET", roles(200, *STAFF)),
    Row("/board.json", "GET", roles(200, *STAFF)),
    Row("/pause-reasons", "GET", roles(200, *STAFF)),
    Row(
        "/pause-reasons",
        "POST",
        roles(302, *STAFF),
        data={"code": "matrix", "label": "Matrix"},
        nothing_written=pause_reasons,
    ),
    Row(
        "/pause-reasons/<int:reason_id>",
        "POST",
        roles(302, *STAFF),
        path=lambda w: f"/pause-reasons/{w.reason_id}",
        data={"label": "Istirahat siang", "sort_order": "1", "is_active": "1"},
        nothing_written=renamed_reasons,
    ),
    # -- the people who work queues
    Row("/queue", "GET", roles({TC: 302, TC_OTHER: 200}, "telecollector")),
    Row("/queue/next", "POST", roles(302, *WORKERS)),
    Row("/queue/promises", "GET", roles(200, *WORKERS)),
    Row("/queue/callbacks", "GET", roles(200, *WORKERS)),
    # her own state only: nothing names another agent
    Row("/agent/state", "POST", roles(302, "telecollector"), data={"state": "ready"}, nothing_written=state_changes),
    Row("/cadre", "GET", roles(200, "cadre"), absent={CADRE_OUTSIDE: (HOLDER_NAME, CADRE_NAME)}),
    Row("/cadre/letter", "GET", roles(200, "cadre")),
    # -- the public check of a letter of assignment: a made-up number names no letter, for anyone
    Row("/surat/<path:number>", "GET", everyone(404), path=lambda w: "/surat/1-20261130.bukanTandaTangan"),
    Row("/cadre/list.json", "GET", roles(200, "cadre"), absent={CADRE_OUTSIDE: (HOLDER_NAME, CADRE_NAME)}),
    # -- one work item: the call-queue item TC holds
    Row(
        "/queue/items/<int:item_id>",
        "GET",
        {**roles(200, *ALL_ROLES), CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
    ),
    Row(
        "/queue/items/<int:item_id>/outcome",
        "POST",
        {**roles(302, *WORKERS), TC_OTHER: REFUSED, CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
        data={"outcome": "busy", "channel": "phone"},
        nothing_written=attempts,
    ),
    Row(
        "/queue/items/<int:item_id>/plan",
        "POST",
        {**roles(302, *WORKERS), TC_OTHER: REFUSED, CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
        data={"installments": "3", "start_month": "2026-11"},
        nothing_written=plans,
    ),
    # issue 13, part A: the agent desktop's skip, "work this family" and a number heard on the call
    Row(
        "/queue/items/<int:item_id>/skip",
        "POST",
        {**roles(302, "telecollector"), TC_OTHER: REFUSED},
        variant="call queue",
        item="tc_item",
        data={"reason": "wrong_time"},
        nothing_written=skips,
    ),
    Row(
        "/queue/items/<int:item_id>/work",
        "POST",
        roles(302, "telecollector"),
        variant="call queue",
        item="tc_item",
    ),
    Row(
        "/queue/items/<int:item_id>/numbers",
        "POST",
        {**roles(302, "telecollector"), TC_OTHER: REFUSED},
        variant="call queue",
        item="tc_item",
        data={"card_no": HOLDER_CARD, "phone": "0813-9999-0001"},
        nothing_written=heard_numbers,
    ),
    Row(
        "/api/v1/work-items/<int:item_id>",
        "GET",
        {**api(200, *ALL_ROLES), CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/outcome",
        "POST",
        {
            **api(201, *WORKERS, anon=API_ANON_WRITE),
            TC_OTHER: API_REFUSED,
            CADRE: 404,
            CADRE_OUTSIDE: 404,
        },
        variant="call queue",
        item="tc_item",
        json={"outcome": "busy", "channel": "phone"},
        nothing_written=attempts,
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/renew",
        "POST",
        {**api(200, *WORKERS, anon=API_ANON_WRITE), TC_OTHER: 409, CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/release",
        "POST",
        {**api(200, *WORKERS, anon=API_ANON_WRITE), TC_OTHER: 409, CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/skip",
        "POST",
        {**api(200, *WORKERS, anon=API_ANON_WRITE), TC_OTHER: 409, CADRE: 404, CADRE_OUTSIDE: 404},
        variant="call queue",
        item="tc_item",
        json={"reason": "wrong_time"},
    ),
    # -- one work item: the cadre-queue item in Kec. Koja, CADRE's
    Row(
        "/queue/items/<int:item_id>",
        "GET",
        {**roles(200, *ALL_ROLES), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
    ),
    Row(
        "/queue/items/<int:item_id>/outcome",
        "POST",
        {**roles(302, *WORKERS), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
        data={"outcome": "busy", "channel": "whatsapp"},
        nothing_written=attempts,
    ),
    Row(
        "/queue/items/<int:item_id>/plan",
        "POST",
        {**roles(302, *WORKERS), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
        data={"installments": "3", "start_month": "2026-11"},
        nothing_written=plans,
    ),
    Row(
        "/api/v1/work-items/<int:item_id>",
        "GET",
        {**api(200, *ALL_ROLES), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/outcome",
        "POST",
        {**api(201, *WORKERS, anon=API_ANON_WRITE), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
        json={"outcome": "busy", "channel": "whatsapp"},
        nothing_written=attempts,
    ),
    # A cadre's WhatsApp tap, counted (issue 14): only on a family of her own list.
    Row(
        "/cadre/items/<int:item_id>/whatsapp",
        "POST",
        {**roles(201, "cadre"), CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
        data={"client_ref": "matrix-wa-1"},
        nothing_written=whatsapp_opens,
    ),
    # Cadres work their list without leases: renewing or releasing a claim they never made is a conflict.
    Row(
        "/api/v1/work-items/<int:item_id>/renew",
        "POST",
        {**api(409, *WORKERS, anon=API_ANON_WRITE), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/release",
        "POST",
        {**api(409, *WORKERS, anon=API_ANON_WRITE), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
    ),
    Row(
        "/api/v1/work-items/<int:item_id>/skip",
        "POST",
        {**api(409, *WORKERS, anon=API_ANON_WRITE), TC: 403, TC_OTHER: 403, CADRE_OUTSIDE: 404},
        variant="cadre queue",
        item="cadre_item",
        json={"reason": "wrong_time"},
    ),
    # issue 15: calls (VOICE_BACKEND=none here: the holder is told calls are off; tests/telephony places them)
    Row(
        "/api/v1/work-items/<int:item_id>/call",
        "POST",
        {**api(409, "telecollector", anon=API_ANON_WRITE), TC_OTHER: 409},
        variant="call queue",
        item="tc_item",
        nothing_written=calls,
    ),
    Row(
        "/api/v1/calls/<int:call_id>",
        "GET",
        {**api(200, *STAFF, "telecollector"), TC_OTHER: 404, CADRE: 404, CADRE_OUTSIDE: 404},
        path=lambda w: f"/api/v1/calls/{w.call_id}",
        absent={TC_OTHER: ("+6281200000001",), CADRE: ("+6281200000001",)},
    ),
    Row("/calls", "GET", roles(200, *STAFF)),
    Row(
        "/calls/<int:call_id>/status.json",
        "GET",
        {**roles(200, "telecollector"), TC_OTHER: 404},
        path=lambda w: f"/calls/{w.call_id}/status.json",
    ),
    Row(
        "/calls/<int:call_id>/close",
        "POST",
        roles(302, *STAFF),
        path=lambda w: f"/calls/{w.call_id}/close",
    ),
    Row(
        "/calls/<int:call_id>/recording",
        "GET",
        roles(404, *STAFF),
        path=lambda w: f"/calls/{w.call_id}/recording",
    ),
    # -- the rest of the API
    Row("/api/v1/me", "GET", api(200, *ALL_ROLES)),
    Row(
        "/api/v1/queue/claim",
        "POST",
        api({TC: 200, TC_OTHER: 200, CADRE: 200, CADRE_OUTSIDE: 204}, *WORKERS, anon=API_ANON_WRITE),
    ),
    Row(
        "/api/v1/participants/<card_no>",
        "GET",
        {**api(200, *ALL_ROLES), CADRE_OUTSIDE: 404},
        path=lambda w: f"/api/v1/participants/{HOLDER_CARD}",
    ),
    # A family living across two kecamatan: each cadre sees only her own side's numbers (item 5).
    Row(
        "/api/v1/participants/<card_no>",
        "GET",
        {**api(200, *ALL_ROLES), CADRE: 200, CADRE_OUTSIDE: 404},
        variant="family across areas, Koja side",
        path=lambda w: f"/api/v1/participants/{SPLIT_HEAD_CARD}",
        absent={CADRE: (SPLIT_MEMBER_PHONE,)},
    ),
    Row(
        "/api/v1/participants/<card_no>",
        "GET",
        {**api(200, *ALL_ROLES), CADRE: 404, CADRE_OUTSIDE: 200},
        variant="family across areas, Cilincing side",
        path=lambda w: f"/api/v1/participants/{SPLIT_MEMBER_CARD}",
        absent={CADRE_OUTSIDE: (SPLIT_HEAD_PHONE,)},
    ),
    Row(
        "/api/v1/participants/<card_no>/rehab",
        "GET",
        {**api(200, *ALL_ROLES), CADRE_OUTSIDE: 404},
        path=lambda w: f"/api/v1/participants/{HOLDER_CARD}/rehab",
    ),
]


def _served_rules() -> set[tuple[str, str]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "matrix"})
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }


def test_every_route_is_classified():
    served = _served_rules()
    classified = {(r.rule, r.method) for r in ROWS}
    assert served - classified == set(), "routes nobody classified: add them to ROWS with who may use them"
    assert classified - served == set(), "rows for routes the app no longer serves"
    for r in ROWS:
        assert set(r.expect) == set(ACTORS), f"{r.id}: an answer for every actor"


def _cases():
    for r in ROWS:
        for actor in ACTORS:
            yield pytest.param(r, actor, id=f"{r.id} as {actor}")


def build_world(db, make_user) -> World:
    run_import(
        db,
        csv_bytes(
            [
                row(card_no=HOLDER_CARD, name=HOLDER_NAME, phone="081200000001", arrears_amount="900000"),
                row(card_no=CADRE_CARD, name=CADRE_NAME, phone="081200000002", arrears_amount="100000"),
                row(card_no=SPLIT_HEAD_CARD, family_id="F3", name=SPLIT_HEAD_NAME, phone="081200000003"),
                row(
                    card_no=SPLIT_MEMBER_CARD,
                    family_id="F3",
                    name="Anggota Empat",
                    phone="081200000004",
                    kecamatan="Cilincing",
                    kelurahan="Kalibaru",
                    rt="9",
                    rw="9",
                ),
            ]
        ),
    )
    users = {
        ADMIN: make_user("admin"),
        SUPERVISOR: make_user("supervisor"),
        TC: make_user("telecollector"),
        TC_OTHER: make_user("telecollector"),
        CADRE: make_user("cadre", areas=["Kec. Koja"]),
        CADRE_OUTSIDE: make_user("cadre", areas=["Kec. Cilincing"]),
    }
    queue_up(db, QueueName.telecollect, now=NOW)
    queue_up(db, QueueName.cadre, user=users[CADRE], now=NOW, min_amount=50_000, kecamatan="Koja")
    held = queue_work.claim(db.session, users[TC], contact_rules(), lease=lease(), now=datetime.now(UTC))
    assert held is not None and held.family.members[0].card_no == HOLDER_CARD
    cadre_item = db.session.scalar(
        select(WorkItem)
        .join(Participant, Participant.family_id == WorkItem.family_id)
        .where(WorkItem.queue == QueueName.cadre, Participant.card_no == CADRE_CARD)
    )
    run = ImportRun(
        kind="participants",
        filename="peserta.csv",
        user_id=users[SUPERVISOR].id,
        status=ImportStatus.committed,
        rejects_csv="line,card_no,errors\n2,123,card_no: 13 digits\n",
    )
    db.session.add(run)
    member = db.session.scalar(select(Participant).where(Participant.card_no == HOLDER_CARD))
    message_id = queue_sms(
        db.session,
        kind=SmsKind.due_reminder,
        key="matrix:due",
        to_phone=member.phone,
        members=[member],
        timezone="WIB",
    )
    call = Call(
        user_id=users[TC].id,
        work_item_id=held.id,
        family_id=held.family_id,
        participant_id=member.id,
        phone=member.phone,
        agent_phone="+6281299990001",
        twilio_sid="CA" + "7" * 32,
        status=CallStatus.ended,
        dial_status="busy",
        started_at=NOW - timedelta(hours=1),
        ended_at=NOW - timedelta(hours=1),
    )
    db.session.add(call)
    db.session.commit()
    from telecollect.telephony.models import PauseReason

    reason_id = db.session.scalar(select(PauseReason.id).where(PauseReason.code == "istirahat"))
    handle_whatsapp_inbound(
        db.session,
        sid="SMmatrix",
        from_address=f"whatsapp:{member.phone}",
        body="Ini KTP saya",
        media=[(MEDIA_URL, "image/jpeg")],
        now=NOW,
    )
    from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
    from telecollect.contacts.models import Holiday

    first = db.session.scalar(select(Branch.id).where(Branch.code == FIRST_BRANCH_CODE))
    own = Holiday(on=date(2026, 12, 1), name="Hari jadi cabang", branch_id=first)
    national = Holiday(on=date(2026, 12, 2), name="Libur instalasi", branch_id=None)
    db.session.add_all([own, national])
    db.session.commit()
    return World(
        holiday_id=own.id,
        national_holiday_id=national.id,
        users=users,
        tc_item=held.id,
        cadre_item=cadre_item.id,
        run_id=run.id,
        message_id=message_id,
        call_id=call.id,
        reason_id=reason_id,
        conversation_id=db.session.scalar(select(Conversation.id)),
        media_id=db.session.scalar(select(InboundMedia.id)),
    )


def _check(expected, response) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and "/login" in response.headers.get("Location", "")
    if isinstance(expected, frozenset):
        return response.status_code in expected
    return response.status_code == expected


def _is_refusal(expected) -> bool:
    if isinstance(expected, frozenset):
        return expected in (REFUSED, API_REFUSED)
    return expected == LOGIN or expected in (401, 403, 404, 409)


@pytest.mark.parametrize(("r", "actor"), list(_cases()))
def test_route_answers_each_actor(r: Row, actor: str, clock, db, client, login, make_user):
    world = build_world(db, make_user)
    if actor != ANON:
        signed = login(world.users[actor])
        assert signed.status_code == 302, "signed in"
    expected = r.expect[actor]
    path = r.path(world) if r.path else r.rule
    if r.item:
        path = r.rule.replace("<int:item_id>", str(getattr(world, r.item)))
    before = db.session.scalar(r.nothing_written()) if r.nothing_written else None

    if r.method == "GET":
        response = client.get(path)
    elif path.startswith("/api/") and actor == ANON:
        response = client.post(path, json=r.json)  # an API client without credentials has no CSRF token either
    else:
        token = csrf_token(client.get("/login" if actor == ANON else "/holidays").text)
        if path.startswith("/api/"):
            response = client.post(path, json=r.json, headers={"X-CSRFToken": token})
        else:
            response = client.post(path, data={**(r.data or {}), "csrf_token": token})

    body = response.get_data(as_text=True)
    response.close()
    assert _check(expected, response), f"{r.id} as {actor}: {response.status_code} {response.headers.get('Location')}"
    for text in r.absent.get(actor, ()):
        assert text not in body, f"{r.id} as {actor} shows {text}"
    if r.nothing_written is not None:
        db.session.expire_all()
        after = db.session.scalar(r.nothing_written())
        if _is_refusal(expected):
            assert after == before, f"{r.id} as {actor} wrote anyway"
        else:
            assert after > before, f"{r.id} as {actor}: the owner's write was not made"


# -- Two branches (issue 16): a user of another branch, and the read-only roles -------------------------------
#
# The world above lives in the installation's first branch (A, North Jakarta, WIB, deputy region I). Branch B
# (Makassar, WITA, deputy region IX) has its own staff and its own participant. A user of B gets 404 for every
# object of A she would otherwise be allowed (`OBJECT_FREE` rules name no object), and never sees A's families
# in a list, a report or an export. The readers (regional supervisor of region I, national viewer) read what a
# supervisor reads, write nothing (403) and never see a full NIK or phone number; the regional supervisor of
# region IX sees nothing of A.

B_ADMIN, B_SUPERVISOR, B_TC, B_CADRE = "admin_of_b", "supervisor_of_b", "telecollector_of_b", "cadre_of_b"
REGIONAL, REGIONAL_ELSEWHERE, NATIONAL = "regional_supervisor", "regional_supervisor_of_b", "national_viewer"
#: Each user of B answers as the user of A with the same role would, but for A's objects.
COUNTERPART = {B_ADMIN: ADMIN, B_SUPERVISOR: SUPERVISOR, B_TC: TC_OTHER, B_CADRE: CADRE}
OTHER_ACTORS = (*COUNTERPART, REGIONAL, REGIONAL_ELSEWHERE, NATIONAL)
#: Rules with a variable part that names no object.
#: Pause reasons are the installation's (one list for every branch): not a branch's object.
OBJECT_FREE = {
    "/lang/<code>",
    "/static/<path:filename>",
    "/reports/dashboard.<fmt>",
    "/surat/<path:number>",
    "/pause-reasons/<int:reason_id>",
}
#: What a reader may still post.
READER_POSTS = {"/logout": 302, "/lang/<code>": 302, "/login": 302}
A_NAMES = (HOLDER_NAME, CADRE_NAME, SPLIT_HEAD_NAME)
FULL_NUMBERS = ("+6281200000001", "081200000001", SPLIT_HEAD_PHONE, "3172015708850001")
B_CARD, B_NAME = "0000000000009", "Peserta Makassar"
#: Exceptions to the derived answer: B's cadre queue is empty (B's telecollector claims B's own family).
OTHER_BRANCH_EXCEPTIONS = {
    ("/api/v1/queue/claim", "POST"): {B_CADRE: 204},
    # A call's record (its number in full, audited) is for its agent and her branch's staff: the readers
    # follow calls on the dashboard and the board.
    ("/api/v1/calls/<int:call_id>", "GET"): {REGIONAL: 404, NATIONAL: 404},
}


def _names_object(r: Row) -> bool:
    return r.item is not None or ("<" in r.rule and r.rule not in OBJECT_FREE)


def _succeeds(expected) -> bool:
    return not (isinstance(expected, frozenset) or expected == LOGIN or expected in (401, 403, 404, 409))


def other_expect(r: Row, actor: str):
    """The answer `actor` of branch B, or a reader, must get on row `r`."""
    special = OTHER_BRANCH_EXCEPTIONS.get((r.rule, r.method), {})
    if actor in special:
        return special[actor]
    if actor in COUNTERPART:
        counterpart = r.expect[COUNTERPART[actor]]
    elif r.method == "POST":
        return READER_POSTS.get(r.rule, 403)  # the readers write nothing
    else:
        counterpart = r.expect[SUPERVISOR]
    if actor in (REGIONAL, NATIONAL) or not _names_object(r):
        return counterpart
    return 404 if _succeeds(counterpart) else frozenset({403, 404})


def _other_cases():
    for r in ROWS:
        for actor in OTHER_ACTORS:
            yield pytest.param(r, actor, id=f"{r.id} as {actor}")


def build_branch_b(db, make_user, world: World) -> dict[str, object]:
    from telecollect.auth.models import Role
    from telecollect.auth.services import create_user
    from telecollect.branches.models import FIRST_BRANCH_CODE, Branch
    from telecollect.branches.services import add_branch, deputy_named
    from telecollect.branches.stamping import act_in_branch
    from tests.conftest import PASSWORD

    a = db.session.scalar(select(Branch).where(Branch.code == FIRST_BRANCH_CODE))
    a.deputy_region_id = deputy_named(db.session, "Kedeputian Wilayah I").id
    b = add_branch(db.session, code="1701", name="Makassar", zone="WITA", deputy="Kedeputian Wilayah IX")
    act_in_branch(db.session(), b.id)
    run_import(db, csv_bytes([row(card_no=B_CARD, name=B_NAME, phone="081299990009")]))
    users = {
        B_ADMIN: make_user("admin", branch_id=b.id),
        B_SUPERVISOR: make_user("supervisor", branch_id=b.id),
        B_TC: make_user("telecollector", branch_id=b.id),
        B_CADRE: make_user("cadre", areas=["Kec. Koja"], branch_id=b.id),
        NATIONAL: make_user(Role.national_viewer.value),
    }
    for actor, region in ((REGIONAL, a.deputy_region_id), (REGIONAL_ELSEWHERE, b.deputy_region_id)):
        users[actor] = create_user(
            db.session,
            username=actor.replace("_", ""),
            role=Role.regional_supervisor.value,
            password=PASSWORD,
            deputy_region_id=region,
        )
    queue_up(db, QueueName.telecollect, now=NOW)
    act_in_branch(db.session(), None)
    db.session.commit()
    return users


@pytest.mark.parametrize(("r", "actor"), list(_other_cases()))
def test_route_answers_another_branch_and_the_readers(r: Row, actor: str, clock, db, client, login, make_user):
    world = build_world(db, make_user)
    world.users.update(build_branch_b(db, make_user, world))
    signed = login(world.users[actor])
    assert signed.status_code == 302, "signed in"
    expected = other_expect(r, actor)
    path = r.path(world) if r.path else r.rule
    if r.item:
        path = r.rule.replace("<int:item_id>", str(getattr(world, r.item)))
    before = db.session.scalar(r.nothing_written()) if r.nothing_written else None
    if r.method == "GET":
        response = client.get(path)
    else:
        token = csrf_token(client.get("/holidays").text)
        if path.startswith("/api/"):
            response = client.post(path, json=r.json, headers={"X-CSRFToken": token})
        else:
            response = client.post(path, data={**(r.data or {}), "csrf_token": token})
    body = response.get_data(as_text=True)
    response.close()
    assert _check(expected, response), f"{r.id} as {actor}: {response.status_code} {response.headers.get('Location')}"
    hidden = A_NAMES if actor not in (REGIONAL, NATIONAL) else ()
    if actor in (REGIONAL, REGIONAL_ELSEWHERE, NATIONAL):
        hidden += FULL_NUMBERS
    for text in hidden:
        assert text not in body, f"{r.id} as {actor} shows {text}"
    if r.nothing_written is not None and _is_refusal(expected):
        db.session.expire_all()
        assert db.session.scalar(r.nothing_written()) == before, f"{r.id} as {actor} wrote anyway"
