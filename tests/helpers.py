"""Building small import files, and branches with rules of their own, in tests."""

import csv
import io

from telecollect.participants.importing import COLUMNS
from telecollect.settings import Settings

#: The installation settings tests pass to workflows (the defaults of an unconfigured branch).
SETTINGS = Settings()

BASE_ROW = {
    "card_no": "0001234567890",
    "nik": "3172015708850001",
    "name": "Siti Aminah",
    "phone": "0812-3456-7890",
    "segment": "PBPU",
    "class": "3",
    "family_id": "",
    "province": "DKI Jakarta",
    "city": "Kota Administrasi Jakarta Utara",
    "kecamatan": "Koja",
    "kelurahan": "Tugu Utara",
    "rt": "5",
    "rw": "7",
    "address": "Jl. Enggano No. 1",
    "months_in_arrears": "6",
    "arrears_amount": "Rp210.000",
    "autodebit": "tidak",
    "as_of": "2026-11-01",
}


#: Where Makassar's families live in the demo regions.
MAKASSAR_PLACE = {"province": "Sulawesi Selatan", "city": "Kota Makassar", "kecamatan": "Rappocini"}


def add_branch_with_hours(
    session,
    hours: str,
    days: str = "mon,tue,wed,thu,fri,sat",
    *,
    per_day: int = 3,
    per_week: int = 7,
    code: str = "1701",
    name: str = "Makassar",
    zone: str = "WITA",
):
    """A branch (Makassar, WITA, unless told) with calling hours, days and caps of its own, open on cuti
    bersama; returns it."""
    from telecollect.branches.services import add_branch
    from telecollect.policy.models import ContactSetting

    branch = add_branch(session, code=code, name=name, zone=zone)
    session.add(
        ContactSetting(
            branch_id=branch.id,
            calling_hours=hours,
            calling_days=days,
            max_attempts_per_day=per_day,
            max_attempts_per_week=per_week,
            is_cuti_bersama_closed=False,
        )
    )
    return branch


def row(**changes) -> dict:
    return {**BASE_ROW, **changes}


def csv_bytes(rows: list[dict], delimiter: str = ",", bom: bool = False, columns=COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def run_import(db, data: bytes, filename: str = "peserta.csv", **options):
    """Run the participant import on in-memory file bytes, as the CLI and upload page do."""
    from telecollect.imports.reader import TableReader
    from telecollect.workflows.imports import import_participants

    reader = TableReader(io.BytesIO(data), filename)
    return import_participants(db.session, reader, filename=filename, settings=SETTINGS, **options)
