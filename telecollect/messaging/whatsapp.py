"""WhatsApp through Twilio: each kind's approved template (Content SID, body, variable order, Meta category),
how a message's variables are filled, and what every 63xxx error means (one table).

Business-initiated WhatsApp messages must be approved templates, sent by Content SID with their numbered
variables (`ContentVariables`, JSON {"1": …}); the Content API lives on another host, so the SID, the body Meta
approved and the order of its variables are kept here, set on the templates page or with
`flask messaging content-sid`. A kind without a Content SID is never sent on WhatsApp.
"""

import json
import re
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.branches.stamping import acting_branch_or_none, only_of, own_or_installation
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.messaging.models import ContentCategory, SmsKind, WhatsappContent
from telecollect.messaging.templates import SMS_VARIABLES

#: Twilio's Content SIDs: HX followed by 32 hex digits.
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
#: The kinds that may leave as free text (`Body`, no Content SID), inside the 24-hour window the participant's
#: own message opened: an agent's reply, and the answer to CEK/INFO when its kind has no approved template.
FREE_TEXT_KINDS = frozenset({SmsKind.agent_reply, SmsKind.info_reply})


def is_free_text(kind: SmsKind, content_sid: str | None) -> bool:
    """Whether a WhatsApp message is free text answering the participant (no template, no opt-in needed:
    she wrote first), rather than a business-initiated template."""
    return kind in FREE_TEXT_KINDS and not content_sid


_NUMBERED = re.compile(r"{{\s*(\d+)\s*}}")


@dataclass(frozen=True)
class Content:
    kind: SmsKind
    content_sid: str | None
    body: str
    variables: tuple[str, ...]
    category: ContentCategory


#: The kinds' standard bodies (to be submitted to Meta as they stand) and variables: every payment reminder
#: carries the family's virtual account number (`va`).
DEFAULTS: dict[SmsKind, tuple[str, tuple[str, ...], ContentCategory]] = {
    SmsKind.due_reminder: (
        "Yth. {{1}}, iuran JKN-KIS jatuh tempo {{2}}. Bayar ke virtual account {{3}} melalui {{4}}. "
        "Abaikan jika sudah membayar. BPJS Kesehatan",
        ("nama", "jatuh_tempo", "va", "kanal"),
        ContentCategory.utility,
    ),
    SmsKind.promise_reminder: (
        "Yth. {{1}}, terima kasih atas kesediaan membayar iuran JKN-KIS pada {{2}}. "
        "Bayar ke virtual account {{3}} melalui {{4}}. BPJS Kesehatan",
        ("nama", "tanggal_janji", "va", "kanal"),
        ContentCategory.utility,
    ),
    SmsKind.promise_broken: (
        "Yth. {{1}}, pembayaran iuran JKN-KIS yang direncanakan {{2}} belum kami terima. "
        "Virtual account: {{3}}. {{4}} BPJS Kesehatan",
        ("nama", "tanggal_janji", "va", "rehab"),
        ContentCategory.utility,
    ),
    SmsKind.installment_reminder: (
        "Yth. {{1}}, cicilan REHAB JKN-KIS {{2}} jatuh tempo {{3}}. Bayar ke virtual account {{4}}. BPJS Kesehatan",
        ("nama", "cicilan", "jatuh_tempo", "va"),
        ContentCategory.utility,
    ),
    SmsKind.autodebit_prompt: (
        "Yth. {{1}}, bayar iuran JKN-KIS otomatis tiap bulan dengan autodebit. {{2}} BPJS Kesehatan",
        ("nama", "autodebit"),
        ContentCategory.marketing,
    ),
    SmsKind.pre_call: (
        "Yth. {{1}}, petugas BPJS Kesehatan {{2}} akan menghubungi Anda hari ini terkait iuran JKN-KIS.",
        ("nama", "cabang"),
        ContentCategory.utility,
    ),
    SmsKind.info_reply: (
        "Tunggakan iuran JKN-KIS keluarga {{1}}: {{2}} bulan, {{3}}. Virtual account: {{4}}. "
        "Bayar melalui {{5}}. BPJS Kesehatan",
        ("nama", "bulan", "jumlah", "va", "kanal"),
        ContentCategory.utility,
    ),
}
#: The variables a WhatsApp template may use (those of SMS, and the virtual account).
VARIABLES = {**SMS_VARIABLES, "va": "virtual account number"}


def content_for(session, kind: SmsKind) -> Content:
    """The kind's template as the acting branch saved it, else as the installation did, else its standard one
    (without a Content SID: not sent on WhatsApp)."""
    return content_of(session, kind, acting_branch_or_none(session))


def own_content_kinds(session, branch_id: int) -> set[SmsKind]:
    """The kinds whose WhatsApp template the branch saved for itself (the others follow the installation)."""
    return set(session.scalars(select(WhatsappContent.kind).where(WhatsappContent.branch_id == branch_id)))


def revert_content(session, kind: SmsKind, branch_id: int, *, user) -> bool:
    """The branch follows the installation's WhatsApp template of `kind` again: its own goes (audited)."""
    row = session.scalar(
        select(WhatsappContent).where(WhatsappContent.kind == kind, only_of(WhatsappContent.branch_id, branch_id))
    )
    if row is None:
        return False
    audit.record(session, "whatsapp_content.revert", user=user, target=row, branch_id=branch_id, detail=kind.value)
    session.delete(row)
    session.flush()
    return True


def content_of(session, kind: SmsKind, branch_id: int | None) -> Content:
    """The kind's template in `branch_id`: its own, else the installation's, else the standard one."""
    mine, first = own_or_installation(WhatsappContent.branch_id, branch_id)
    row = session.scalar(select(WhatsappContent).where(WhatsappContent.kind == kind, mine).order_by(first).limit(1))
    if row is not None:
        return Content(kind, row.content_sid, row.body, tuple(v for v in row.variables.split(",") if v), row.category)
    if kind not in DEFAULTS:
        return Content(kind, None, "", (), ContentCategory.utility)
    body, variables, category = DEFAULTS[kind]
    return Content(kind, None, body, variables, category)


def save_content(
    session,
    kind: SmsKind,
    content_sid: str | None,
    *,
    variables: list[str] | None = None,
    body: str | None = None,
    category: ContentCategory | None = None,
    user=None,
    branch_id: int | None = None,
) -> WhatsappContent:
    """Record the approved template a kind is sent with; unchanged parts keep their saved or standard value.

    ServiceError `content_sid` (not HX + 32 hex digits; an empty SID takes the kind off WhatsApp),
    `unknown_variable`, `content_placeholders` (the body's {{n}} do not match the number of variables)."""
    if kind == SmsKind.agent_reply:
        raise ServiceError("content_kind", "kind")
    current = content_of(session, kind, branch_id)  # a branch's first save starts from what applied to it
    sid = (content_sid or "").strip() or None
    if sid is not None and not CONTENT_SID.match(sid):
        raise ServiceError("content_sid", "content_sid", sid=sid)
    names = tuple(v.strip() for v in variables if v.strip()) if variables is not None else current.variables
    unknown = sorted(set(names) - set(VARIABLES))
    if unknown:
        raise ServiceError("unknown_variable", "variables", variables=", ".join(unknown))
    text = body.strip() if body is not None and body.strip() else current.body
    numbers = sorted({int(n) for n in _NUMBERED.findall(text)})
    if numbers != list(range(1, len(names) + 1)):
        raise ServiceError("content_placeholders", "body", count=len(names))
    # The branch's own row, or the installation's (`content_for` reads a branch's own row first).
    row = session.scalar(
        select(WhatsappContent).where(WhatsappContent.kind == kind, only_of(WhatsappContent.branch_id, branch_id))
    )
    if row is None:
        row = WhatsappContent(kind=kind, branch_id=branch_id)
        session.add(row)
    row.content_sid, row.body, row.variables = sid, text, ",".join(names)
    row.category = category or current.category
    row.updated_at, row.updated_by_id = now_utc(), user.id if user is not None else None
    session.flush()
    audit.record(
        session,
        "whatsapp_content.update",
        user=user,
        target=row,
        branch_id=branch_id,
        detail=f"{'branch' if branch_id else 'installation'} {kind.value} {sid or '-'}",
    )
    return row


def fill(content: Content, values: dict[str, str]) -> tuple[str, str]:
    """(ContentVariables JSON, the body as the participant reads it) for one message."""
    numbered = {str(i): values.get(name, "") or "-" for i, name in enumerate(content.variables, start=1)}
    body = _NUMBERED.sub(lambda m: numbered.get(m.group(1), ""), content.body)
    return json.dumps(numbered, ensure_ascii=False), body


class OnError(Enum):
    """What a failed WhatsApp message leads to."""

    fallback = "fallback"  #: an SMS instead, once (a new outbox row)
    opt_out = "opt_out"  #: the number blocked us: opted out of WhatsApp, then an SMS instead
    needs_template = "needs_template"  #: free text outside the 24-hour window: a template is needed; no SMS


#: Every 63xxx code Twilio reports for WhatsApp, and what it leads to. A code not listed: `fallback`. Errors
#: on our side (sender, template) fall back too: the participant still gets the reminder, by SMS, and the
#: failed WhatsApp row names the error for a supervisor.
WHATSAPP_ERRORS: dict[int, tuple[OnError, str]] = {
    63001: (OnError.fallback, "channel authentication failed (sender not set up)"),
    63003: (OnError.fallback, "the number is not on WhatsApp / could not be reached"),
    63005: (OnError.fallback, "channel did not accept the content"),
    63007: (OnError.fallback, "our WhatsApp sender is not found"),
    63013: (OnError.fallback, "Meta's policy refused this message"),
    63014: (OnError.opt_out, "the user blocked our WhatsApp number"),
    63016: (OnError.needs_template, "free text outside the 24-hour window: send a template"),
    63018: (OnError.fallback, "rate limit of our sender exceeded"),
    63019: (OnError.fallback, "media failed to download"),
    63021: (OnError.fallback, "invalid content (template variables)"),
    63024: (OnError.fallback, "invalid message recipient"),
    63027: (OnError.fallback, "template does not exist for this language"),
    63030: (OnError.fallback, "unsupported parameter"),
    63032: (OnError.fallback, "user's number is in an experiment (Meta withholds marketing)"),
    63049: (OnError.fallback, "Meta chose not to deliver (engagement / marketing limits)"),
    63051: (OnError.fallback, "the account is temporarily locked"),
}


def on_error(code: int | None) -> OnError:
    return WHATSAPP_ERRORS.get(code or 0, (OnError.fallback, ""))[0]
