"""The self-service line (like BPJS's VIKA), one function per step of its menu, each answering what the line
says next (`LineAnswer`, which the webhook turns into TwiML).

Menu: 1 membership status, 2 the family's bill with its virtual account number read digit by digit, 3 a
call back (a callback in the call queue at the family's next calling hours, one per family), 0 the official
payment channels. Personal figures (1, 2, 3) only when the caller's number is registered on exactly one
family AND the caller keys the last 4 digits of a member's card number (caller ID can be forged; tries are
limited per call and per number a day); everyone else hears the general information only. Every call is
one `line_calls` row, on its family's timeline when the number names one family.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from telecollect.accounts import family_virtual_accounts
from telecollect.db import lock_for
from telecollect.formatting import ZONES
from telecollect.messaging.templates import OFFICIAL_CHANNELS
from telecollect.participants.models import Family
from telecollect.participants.queries import families_with_number, family_arrears
from telecollect.policy import rules as policy
from telecollect.queues import lifecycle
from telecollect.queues.models import QueueName, WorkItem, WorkState
from telecollect.queues.priority import score
from telecollect.selfservice import services as line
from telecollect.selfservice.models import LineCall
from telecollect.selfservice.speech import digit_by_digit, terbilang
from telecollect.settings import Settings

MENU_KEYS = ("1", "2", "3", "0")
PERSONAL_KEYS = ("1", "2", "3")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

# What the line says (Bahasa Indonesia, read by an id-ID voice).
WELCOME = "Selamat datang di layanan mandiri {branch}."
MENU = (
    "Tekan 1 untuk status kepesertaan. Tekan 2 untuk tagihan iuran keluarga dan nomor virtual account. "
    "Tekan 3 untuk minta ditelepon kembali oleh petugas. Tekan 0 untuk kanal pembayaran resmi."
)
GOODBYE = "Terima kasih telah menghubungi BPJS Kesehatan. Sampai jumpa."
NOT_A_CHOICE = "Maaf, pilihan tidak tersedia."
ASK_CARD = "Untuk keamanan data Anda, masukkan empat angka terakhir nomor kartu J K N salah satu anggota keluarga."
WRONG_CARD_AGAIN = "Angka yang Anda masukkan tidak cocok. Silakan coba lagi."
WRONG_CARD_DONE = "Angka yang Anda masukkan tidak cocok. Kami hanya dapat memberikan informasi umum."
CHANNELS = (
    "Iuran J K N dibayar hanya melalui kanal resmi: " + OFFICIAL_CHANNELS + ", dengan nomor virtual account "
    "keluarga Anda. BPJS Kesehatan tidak pernah meminta pembayaran ke rekening pribadi petugas."
)
GENERAL = {
    "1": "Status kepesertaan dapat Anda lihat di aplikasi Mobile J K N, atau tanyakan ke Care Center 165.",
    "2": (
        "Tagihan iuran dapat Anda lihat di aplikasi Mobile J K N, atau tanyakan ke Care Center 165. "
        "Nomor virtual account keluarga adalah {prefix} diikuti sebelas angka terakhir nomor kartu kepala keluarga."
    ),
    "3": (
        "Maaf, kami tidak dapat memastikan data Anda dari nomor ini. Silakan datang ke kantor cabang, "
        "atau hubungi Care Center 165."
    ),
}
STATUS_ACTIVE = "Kepesertaan J K N keluarga Anda aktif. Tidak ada tunggakan iuran."
STATUS_INACTIVE = (
    "Kepesertaan J K N keluarga Anda tidak aktif karena tunggakan iuran {months} bulan. "
    "Kepesertaan aktif kembali setelah tunggakan dibayar."
)
BILL = "Tunggakan iuran keluarga Anda {amount} rupiah, untuk {months} bulan."
NO_BILL = "Keluarga Anda tidak memiliki tunggakan iuran."
ACCOUNT = "Nomor virtual account keluarga Anda: {digits}. Sekali lagi: {digits}."
CALLBACK_QUEUED = "Permintaan Anda sudah kami catat. Petugas kami akan menelepon Anda mulai {when}."
CALLBACK_WAITING = "Permintaan telepon kembali untuk keluarga Anda sudah tercatat. Petugas kami akan menghubungi Anda."
CALLBACK_CLOSED = "Saat ini tidak ada tagihan yang perlu ditindaklanjuti petugas untuk keluarga Anda."


@dataclass
class LineAnswer:
    """What the line says, then what it waits for: the menu again (`menu`), 4 card digits for a choice
    (`verify_for`), or nothing (hang up)."""

    say: list[str] = field(default_factory=list)
    menu: bool = True
    verify_for: str | None = None


def greet(session: Session, *, sid: str, number: str | None, secret: str, branch: str, now: datetime) -> LineAnswer:
    """A call comes in: its row (the number kept only as an HMAC; the family when it names exactly one), the
    welcome and the menu. `number` is the caller's E.164 number, None when hidden or not a number."""
    family_ids = families_with_number(session, number) if number else []
    line.start_call(session, sid=sid, caller=line.caller_hash(secret, number or "-"), family_ids=family_ids, now=now)
    return LineAnswer([WELCOME.format(branch=branch or "BPJS Kesehatan")])


def choose(
    session: Session, call: LineCall, digit: str, *, rules: policy.ContactRules, settings: Settings, now: datetime
) -> LineAnswer:
    """A menu key: 0 the channels; 1, 2, 3 personal once verified, else the card digits asked (when the
    number may still try), else the general information."""
    if digit not in MENU_KEYS:
        return LineAnswer([NOT_A_CHOICE])
    line.chose(call, digit, now)
    if digit == "0":
        return LineAnswer([CHANNELS])
    if call.is_verified:
        return _personal(session, call, digit, rules=rules, settings=settings, now=now)
    if line.may_verify(session, call, now):
        return LineAnswer([ASK_CARD], menu=False, verify_for=digit)
    return LineAnswer([_general(digit, settings)])


def verify(
    session: Session,
    call: LineCall,
    digits: str,
    choice: str,
    *,
    rules: policy.ContactRules,
    settings: Settings,
    now: datetime,
) -> LineAnswer:
    """The 4 card digits keyed for `choice`: right → the personal answer; wrong → again while tries are left,
    then the general information."""
    if choice not in PERSONAL_KEYS:
        return LineAnswer([NOT_A_CHOICE])
    if call.is_verified:
        return _personal(session, call, choice, rules=rules, settings=settings, now=now)
    if not line.may_verify(session, call, now):
        return LineAnswer([_general(choice, settings)])
    family = session.get(Family, call.family_id)
    cards = [m.card_no for m in family.members] if family is not None else []
    if line.verify(call, digits, cards, now):
        return _personal(session, call, choice, rules=rules, settings=settings, now=now)
    if line.may_verify(session, call, now):
        return LineAnswer([WRONG_CARD_AGAIN, ASK_CARD], menu=False, verify_for=choice)
    return LineAnswer([WRONG_CARD_DONE, _general(choice, settings)])


def _general(choice: str, settings: Settings) -> str:
    return GENERAL[choice].format(prefix=digit_by_digit(settings.va_prefixes[0].prefix))


def _personal(
    session: Session, call: LineCall, choice: str, *, rules: policy.ContactRules, settings: Settings, now: datetime
) -> LineAnswer:
    family = session.get(Family, call.family_id)
    if family is None:  # the family was deleted meanwhile (retention)
        return LineAnswer([_general(choice, settings)])
    amount, months = family_arrears(family.members)
    if choice == "1":
        line.disclosed(session, call, "status")
        return LineAnswer([STATUS_INACTIVE.format(months=terbilang(months)) if amount > 0 else STATUS_ACTIVE])
    if choice == "2":
        line.disclosed(session, call, "bill")
        said = [BILL.format(amount=terbilang(amount), months=terbilang(months)) if amount > 0 else NO_BILL]
        accounts = family_virtual_accounts(family, settings.va_prefixes)
        if accounts:
            said.append(ACCOUNT.format(digits=digit_by_digit(accounts[0])))
        return LineAnswer(said)
    return LineAnswer([_call_back(session, call, family, amount, months, rules=rules, now=now)])


def _call_back(
    session: Session,
    call: LineCall,
    family: Family,
    amount: int,
    months: int,
    *,
    rules: policy.ContactRules,
    now: datetime,
) -> str:
    """A callback in the call queue at the family's next calling hours: its live call-queue item, or a new one
    when the family owes and has none. One callback per family: asking again changes nothing."""
    line.disclosed(session, call, "callback")
    lock_for(session, f"line-callback:{family.id}")  # two calls of one family at once: one callback
    head = family.members[0] if family.members else None
    item = session.scalar(
        select(WorkItem)
        .where(
            WorkItem.family_id == family.id, WorkItem.queue == QueueName.telecollect, WorkItem.state != WorkState.closed
        )
        .with_for_update()
    )
    if item is None:
        if head is None or amount <= 0:
            return CALLBACK_CLOSED
        owed = score(amount=amount, months=months, last_contact_at=None, attempts=0, contacts=0, now=now)
        item = lifecycle.open_item(
            session,
            lifecycle.new_item_row(
                family_id=family.id,
                queue=QueueName.telecollect,
                owner_id=None,
                timezone=head.province.timezone,
                district_id=head.district_id,
                village_id=head.village_id,
                amount=amount,
                priority=owed.total,
                now=now,
            ),
        )
        if item is None:  # another request opened it a moment ago
            return CALLBACK_WAITING
    at = policy.next_opening(session, rules, item.timezone, now)
    line.callback_asked(call)
    if not lifecycle.callback_requested(item, at):
        return CALLBACK_WAITING
    session.flush()
    return CALLBACK_QUEUED.format(when=_spoken_moment(at, item.timezone, now))


def _spoken_moment(at: datetime, zone: str, now: datetime) -> str:
    """'hari ini pukul 10.15 WIB' or 'Senin, 30 November pukul 08.00 WIB'."""
    local, today = at.astimezone(ZONES[zone]), now.astimezone(ZONES[zone]).date()
    clock = f"pukul {local:%H.%M} {zone}"
    if local.date() == today:
        return f"hari ini {clock}"
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {clock}"
