"""Rendering message templates with a fixed set of variables.

Only the variables listed here can appear in a message: an edited WhatsApp
template can never put an arrears amount or a NIK into a wa.me link, and no
SMS template can carry a NIK at all. Defaults are short, polite, and name only
official payment channels.
"""

import re
from urllib.parse import quote

from sqlalchemy import select

from telecollect.audit import services as audit
from telecollect.branches.stamping import acting_branch_or_none, only_of, own_or_installation
from telecollect.db import now_utc
from telecollect.errors import ServiceError
from telecollect.messaging.models import MessageTemplate
from telecollect.phones import wa_digits

CADRE_WHATSAPP = "cadre_whatsapp"
#: The telecollector's call script on the agent desktop, with the family's figures filled in.
CALL_SCRIPT = "call_script"
OFFICIAL_CHANNELS = "bank, ATM, minimarket atau Mobile JKN"
SMS_VARIABLES = {
    "nama": "participant's name",
    "jumlah": "family arrears (Rp)",
    "bulan": "months in arrears",
    "jatuh_tempo": "due date",
    "tanggal_janji": "promise date",
    "cicilan": "installment amount",
    "va": "the family's virtual account number (the first prefix's)",
    "va_all": "every virtual account of the family, with its bank",
    "kontak": "where to ask or stop: the branch's WhatsApp number, else Care Center 165",
    "kanal": "official payment channels",
    "rehab": "REHAB offer",
    "autodebit": "autodebit steps",
    "cabang": "branch name",
}
#: Where an SMS reader asks or stops when the branch has no WhatsApp number (SMS to Indonesia is one-way:
#: a reply never reaches us, so no SMS says "reply STOP").
CARE_CENTER = "Care Center 165"
#: The variables that carry the family's own data: filled in only for a number registered on the family
#: (`outbox.queue_sms` refuses any other number). A NIK is never one of them.
FAMILY_DATA = ("nama", "jumlah", "bulan", "cicilan", "va", "va_all")
#: Every SMS default fits one 160-character GSM-7 segment with these values: a 30-character name, the widest
#: dates and amounts a family has, a 16-digit VA and the longest branch WhatsApp number (tests render them all).
WIDEST = {
    "nama": "Ni Luh Putu Ayu Kusumawardhani",
    "jumlah": "Rp99.999.999",
    "bulan": "24",
    "jatuh_tempo": "28-12-2026",
    "tanggal_janji": "28-12-2026",
    "cicilan": "Rp99.999.999",
    "va": "8888801234567890",
    "va_all": "8888801234567890",
    "kontak": "WA 0812345678901",
}
#: The single-segment budget every SMS kind keeps (the templates page warns above it).
SMS_BUDGET = 1
SMS_DEFAULTS = {
    "sms_due_reminder": "Yth. {nama}, iuran JKN-KIS jatuh tempo {jatuh_tempo}. Bayar ke VA {va} (bank/ATM). "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
    "sms_promise_reminder": "Yth. {nama}, terima kasih atas janji bayar iuran JKN-KIS {tanggal_janji} ke VA {va}. "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
    "sms_promise_broken": "Yth. {nama}, iuran JKN-KIS janji {tanggal_janji} belum masuk. VA {va}. Cicil: REHAB. "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
    "sms_installment_reminder": "Yth. {nama}, cicilan REHAB {cicilan} jatuh tempo {jatuh_tempo}, VA {va}. "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
    "sms_autodebit_prompt": "Yth. {nama}, bayar iuran JKN-KIS otomatis tiap bulan: daftar autodebit di Mobile JKN. "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
    "sms_pre_call": "Yth. {nama}, petugas {cabang} menelepon Anda hari ini soal iuran JKN-KIS. Tanya/stop: {kontak}",
    "sms_info_reply": "Tunggakan JKN-KIS {nama}: {bulan} bln, {jumlah}. VA {va} (bank/ATM/Mobile JKN). "
    "Tanya/stop: {kontak}. BPJS Kesehatan",
}
#: The defaults before issue 14 (payment details, one-way SMS): a stored body still equal to one of these was
#: never edited, and takes the new default (migration 0019_templates_va); an edited one is left alone.
PREVIOUS_SMS_DEFAULTS = {
    "sms_due_reminder": "Yth. {nama}, iuran JKN-KIS jatuh tempo {jatuh_tempo}. Bayar melalui {kanal}. "
    "Abaikan jika sudah membayar. BPJS Kesehatan",
    "sms_promise_reminder": "Yth. {nama}, terima kasih atas kesediaan membayar iuran JKN-KIS pada {tanggal_janji}. "
    "Bayar melalui {kanal}. BPJS Kesehatan",
    "sms_promise_broken": "Yth. {nama}, pembayaran iuran JKN-KIS yang direncanakan {tanggal_janji} belum kami terima. "
    "{rehab} Info: Care Center 165. BPJS Kesehatan",
    "sms_installment_reminder": "Yth. {nama}, cicilan REHAB JKN-KIS {cicilan} jatuh tempo {jatuh_tempo}. "
    "Bayar melalui {kanal}. BPJS Kesehatan",
    "sms_autodebit_prompt": "Yth. {nama}, bayar iuran JKN-KIS otomatis tiap bulan dengan autodebit. {autodebit} "
    "BPJS Kesehatan",
    "sms_pre_call": "Yth. {nama}, petugas BPJS Kesehatan {cabang} akan menghubungi Anda hari ini "
    "terkait iuran JKN-KIS.",
    "sms_info_reply": "Tunggakan iuran JKN-KIS keluarga {nama}: {bulan} bulan, {jumlah}. Bayar melalui {kanal}. "
    "BPJS Kesehatan",
}
SMS_SNIPPETS = {
    "rehab": "Tunggakan dapat dicicil lewat program REHAB di aplikasi Mobile JKN.",
    "autodebit": "Daftar via Mobile JKN, Care Center 165 atau kantor BPJS.",
}
DEFAULTS = {
    CADRE_WHATSAPP: (
        "Selamat {salam}, Bapak/Ibu {nama}. Saya {kader}, kader JKN-KIS Kelurahan {kelurahan}. "
        "Saya ingin menyampaikan informasi tentang kepesertaan JKN-KIS keluarga Bapak/Ibu dan "
        "program keringanan dari BPJS Kesehatan. Bolehkah saya menghubungi Bapak/Ibu sebentar? "
        "Pembayaran hanya melalui kanal resmi (bank, ATM, minimarket, Mobile JKN), tidak melalui kader. "
        "Terima kasih."
    ),
}
DEFAULTS[CALL_SCRIPT] = (
    "Selamat {salam}, benar saya berbicara dengan Bapak/Ibu {nama}? Saya {petugas} dari BPJS Kesehatan {cabang}. "
    "Iuran JKN-KIS keluarga Bapak/Ibu tertunggak {bulan} bulan, sebesar {jumlah}. "
    "Kapan Bapak/Ibu dapat membayar? Pembayaran hanya melalui {kanal}, ke virtual account {va}.\n"
    "Jika belum dapat melunasi sekaligus: {rehab}"
)
VARIABLES = {
    CALL_SCRIPT: {
        "salam": "greeting by the time of day",
        "nama": "participant's name",
        "petugas": "telecollector's name",
        "cabang": "branch name",
        "jumlah": "family arrears (Rp)",
        "bulan": "months in arrears",
        "kanal": "official payment channels",
        "rehab": "REHAB offer",
        "va": "the family's virtual account number",
    },
    CADRE_WHATSAPP: {
        "salam": "greeting by the time of day",
        "nama": "participant's name",
        "kader": "cadre's name",
        "kelurahan": "kelurahan",
        "cabang": "branch name",
        "va": "the family's virtual account number",
    },
    **dict.fromkeys(SMS_DEFAULTS, SMS_VARIABLES),
}
DEFAULTS.update(SMS_DEFAULTS)
#: The call script's default before issue 14 (it now names the virtual account), for migration 0020.
PREVIOUS_CALL_SCRIPT = (
    "Selamat {salam}, benar saya berbicara dengan Bapak/Ibu {nama}? Saya {petugas} dari BPJS Kesehatan {cabang}. "
    "Iuran JKN-KIS keluarga Bapak/Ibu tertunggak {bulan} bulan, sebesar {jumlah}. "
    "Kapan Bapak/Ibu dapat membayar? Pembayaran hanya melalui {kanal}.\n"
    "Jika belum dapat melunasi sekaligus: {rehab}"
)
_PLACEHOLDER = re.compile(r"{(\w*)}")


def template_body(session, key: str) -> str:
    """The acting branch's own template, else the installation's, else the default."""
    return template_body_of(session, key, acting_branch_or_none(session))


def template_body_of(session, key: str, branch_id: int | None) -> str:
    """`branch_id`'s own template, else the installation's, else the default."""
    mine, first = own_or_installation(MessageTemplate.branch_id, branch_id)
    saved = session.scalar(
        select(MessageTemplate.body).where(MessageTemplate.key == key, mine).order_by(first).limit(1)
    )
    return saved or DEFAULTS[key]


def own_template_keys(session, branch_id: int) -> set[str]:
    """The templates the branch wrote for itself (the others follow the installation's)."""
    return set(session.scalars(select(MessageTemplate.key).where(MessageTemplate.branch_id == branch_id)))


def save_template(session, key: str, body: str, user, *, branch_id: int | None = None) -> MessageTemplate:
    """Store an edited template: `branch_id`'s own (made on its first save), or the installation's (None).
    Audited. Raises `ServiceError` on an unknown variable or an empty body."""
    body = body.strip()
    if not body:
        raise ServiceError("empty_template", "body")
    unknown = sorted(set(_PLACEHOLDER.findall(body)) - set(VARIABLES[key]))
    if unknown:
        raise ServiceError("unknown_variable", "body", variables=", ".join("{" + u + "}" for u in unknown))
    template = session.scalar(
        select(MessageTemplate).where(MessageTemplate.key == key, only_of(MessageTemplate.branch_id, branch_id))
    )
    if template is None:
        template = MessageTemplate(key=key, body=body, branch_id=branch_id)
        session.add(template)
    template.body, template.updated_at, template.updated_by_id = body, now_utc(), user.id
    session.flush()
    audit.record(
        session,
        "template.update",
        user=user,
        target=template,
        branch_id=branch_id,
        detail=f"{'branch' if branch_id else 'installation'} {key}",
    )
    return template


def revert_template(session, key: str, branch_id: int, *, user) -> bool:
    """The branch follows the installation's template `key` again: its own goes (audited)."""
    template = session.scalar(
        select(MessageTemplate).where(MessageTemplate.key == key, only_of(MessageTemplate.branch_id, branch_id))
    )
    if template is None:
        return False
    audit.record(session, "template.revert", user=user, target=template, branch_id=branch_id, detail=key)
    session.delete(template)
    session.flush()
    return True


def render(body: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), body)


def contact_text(branch_whatsapp: str) -> str:
    """`{kontak}`: the branch's WhatsApp number as Indonesians write it (WA 081234567890), else Care Center 165."""
    if not branch_whatsapp:
        return CARE_CENTER
    if branch_whatsapp.startswith("+62"):
        return "WA 0" + branch_whatsapp.removeprefix("+62")
    return "WA " + branch_whatsapp


def va_values(accounts: list[str], prefixes) -> dict[str, str]:
    """`{va}` (the first prefix's number) and `{va_all}` (each number, a bank's own after its name:
    "8888801234567890, Mandiri 8988801234567890"), from `accounts.family_virtual_accounts`."""
    return {
        "va": accounts[0] if accounts else "",
        "va_all": ", ".join(f"{p.bank} {number}".strip() for p, number in zip(prefixes, accounts, strict=False)),
    }


def widest_render(body: str, installation_values: dict[str, str]) -> str:
    """`body` with the widest values a family can have (`WIDEST`) and this installation's own (branch name,
    `{kontak}`, every prefix in `{va_all}`, the snippets): what the one-segment budget is checked on."""
    return render(body, {**WIDEST, **installation_values})


def whatsapp_link(phone_e164: str, text: str) -> str:
    return f"https://wa.me/{wa_digits(phone_e164)}?text={quote(text)}"


def greeting(local_hour: int) -> str:
    if local_hour < 11:
        return "pagi"
    if local_hour < 15:
        return "siang"
    return "sore" if local_hour < 18 else "malam"
